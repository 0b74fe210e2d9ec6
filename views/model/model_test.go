package model

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestSeverityOf(t *testing.T) {
	tests := []struct {
		score float64
		want  Severity
		glyph byte
	}{
		{0, SeverityNone, ' '},
		{math.NaN(), SeverityNone, ' '},
		{-1, SeverityNone, ' '},
		{0.2, SeverityLow, '.'},
		{2.99, SeverityLow, '.'},
		{3, SeverityWarning, ':'},
		{24.9, SeverityWarning, ':'},
		{25, SeverityMinor, '+'},
		{50, SeverityMajor, '#'},
		{74.99, SeverityMajor, '#'},
		{75, SeverityCritical, '@'},
		{100, SeverityCritical, '@'},
	}
	for _, tt := range tests {
		got := SeverityOf(tt.score)
		if got != tt.want || got.Glyph() != tt.glyph {
			t.Errorf("SeverityOf(%v) = %v %q, want %v %q", tt.score, got, got.Glyph(), tt.want, tt.glyph)
		}
	}
	if SeverityCritical.Colour() != "#fe5050" || SeverityLow.Colour() != "#d2e9f7" || SeverityNone.Colour() != "" {
		t.Error("severity colours differ from Elastic's")
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"zero score", FormatScore(0), "0"},
		{"tiny score", FormatScore(0.4), "<1"},
		{"score floors", FormatScore(74.9), "74"},
		{"count", FormatValues([]float64{412}), "412"},
		{"expected count", FormatValues([]float64{12.26}), "12.3"},
		{"round expected", FormatValues([]float64{3.0001}), "3"},
		{"probability", FormatValues([]float64{0.000123456}), "0.000123"},
		{"big", FormatValues([]float64{1234.6}), "1235"},
		{"pair", FormatValues([]float64{1, 0.5}), "1,0.5"},
		{"none", FormatValues(nil), ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	rate := func(actual, typical float64) Anomaly {
		return Anomaly{Function: "high_count", Actual: []float64{actual}, Typical: []float64{typical}}
	}
	tests := []struct {
		name string
		a    Anomaly
		want string
	}{
		{"rare is hidden", Anomaly{Function: "rare", Actual: []float64{1}, Typical: []float64{0.001}}, ""},
		{"five times", rate(50, 10), "5x higher"},
		{"just above", rate(12, 10), "Unusually high"},
		{"huge", rate(5000, 2), "More than 100x higher"},
		{"from nothing", rate(4, 0), "Unexpected non-zero value"},
		{"lower", rate(2, 10), "5x lower"},
		{"equal", rate(3, 3), ""},
		{"no values", Anomaly{Function: "high_count"}, ""},
	}
	for _, tt := range tests {
		if got := Describe(tt.a); got != tt.want {
			t.Errorf("%s: Describe = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestJobs(t *testing.T) {
	jobs := DefaultJobs()
	tests := []struct {
		name   string
		got    func() (Job, bool)
		wantID string
		wantOK bool
	}{
		{"next in scope", func() (Job, bool) { return StepJob(jobs, "host_rare_process", 1) }, "host_high_process_rate", true},
		{"wraps", func() (Job, bool) { return StepJob(jobs, "host_high_process_rate", 1) }, "host_rare_process", true},
		{"back wraps", func() (Job, bool) { return StepJob(jobs, "docker_rare_process", -1) }, "docker_high_process_rate", true},
		{"unknown", func() (Job, bool) { return StepJob(jobs, "nope", 1) }, "", false},
		{"sibling keeps rare", func() (Job, bool) { return SiblingJob(jobs, "host_rare_process") }, "docker_rare_process", true},
		{"sibling keeps rate", func() (Job, bool) { return SiblingJob(jobs, "docker_high_process_rate") }, "host_high_process_rate", true},
		{"no sibling", func() (Job, bool) { return SiblingJob(jobs[:2], "host_rare_process") }, "", false},
	}
	for _, tt := range tests {
		j, ok := tt.got()
		if ok != tt.wantOK || j.ID != tt.wantID {
			t.Errorf("%s: got %q %v, want %q %v", tt.name, j.ID, ok, tt.wantID, tt.wantOK)
		}
	}
}

func TestTriageStates(t *testing.T) {
	for _, st := range TriageStates() {
		for _, s := range []string{st.String(), st.Short()} {
			got, err := ParseTriageState(s)
			if err != nil || got != st {
				t.Errorf("ParseTriageState(%q) = %v, %v", s, got, err)
			}
		}
	}
	if _, err := ParseTriageState("closed"); err == nil {
		t.Error("unknown state accepted")
	}
	set := Of(StateAcknowledged, StateFalsePositive)
	if !set.AllDismissed() || set.Has(StateNew) || !set.Has(StateFalsePositive) {
		t.Errorf("set %08b", set)
	}
	if set.With(StateEscalated).AllDismissed() || StateSet(0).AllDismissed() {
		t.Error("escalated or empty sets count as dismissed")
	}
}

func TestTimeAxis(t *testing.T) {
	ax := TimeAxis{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), BucketSpan: 15 * time.Minute, Buckets: 96}
	if i, ok := ax.BucketAt(ax.Start.Add(31 * time.Minute)); !ok || i != 2 {
		t.Errorf("BucketAt = %d %v", i, ok)
	}
	if _, ok := ax.BucketAt(ax.End()); ok {
		t.Error("end is outside the axis")
	}
	if _, ok := ax.BucketAt(ax.Start.Add(-time.Second)); ok {
		t.Error("before start is outside the axis")
	}
}

func TestRecordJSON(t *testing.T) {
	a := Anomaly{
		ID: "r1", Time: time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC), BucketSpan: 15 * time.Minute,
		JobID: "host_rare_process", Function: "rare", Score: 91.5, Probability: 1e-5,
		Scope: ScopeHost, PartitionField: "host.name", Entity: "web-07",
		ByField: "process.executable", Executable: "/tmp/x",
		Influencers: []Influencer{{Field: "user.name", Values: []string{"www-data"}}},
		Actual:      []float64{1}, Triage: Triage{State: StateEscalated, Note: "reverse shell"},
	}
	b, err := json.Marshal(a.Record())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"result_type": "record", "job_id": "host_rare_process", "timestamp": float64(1793628000000),
		"bucket_span": float64(900), "partition_field_value": "web-07", "by_field_value": "/tmp/x",
		"auditlens_severity": "critical", "auditlens_triage_state": "escalated",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if typ, ok := got["typical"].([]any); !ok || len(typ) != 0 {
		t.Errorf("typical = %v, want an empty list", got["typical"])
	}
}
