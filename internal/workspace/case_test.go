package workspace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources/fleetgen"
	"github.com/auditlens/auditlens/views/model"
)

func openStoreT(t *testing.T) *cache.Store {
	t.Helper()
	s, err := cache.Open(context.Background(), filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sha(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// demoIncidents are the demo's two incidents, found through the console as
// an analyst finds them, triaged, and put in a case.
type demoIncidents struct {
	rare, spree model.Anomaly
	rareNote    string
	spreeNote   string
}

func pickIncidents(t *testing.T, con *Console) demoIncidents {
	t.Helper()
	ctx := context.Background()
	var d demoIncidents
	for _, job := range []string{"host_rare_process", "host_high_process_rate"} {
		if _, err := con.Swimlane(ctx, model.Query{Job: job, Scope: model.ScopeHost}, nil); err != nil {
			t.Fatal(err)
		}
		rows, err := con.Anomalies(ctx, model.AnomalyQuery{Job: job, Scope: model.ScopeHost})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range rows {
			switch {
			case a.Executable == "/xxprimef" && a.Entity == "3a30127937b1":
				d.rare = a
			case !a.Rare() && a.Entity == "nyc2-db01" && slices.ContainsFunc(a.Influencers, func(in model.Influencer) bool {
				return slices.Contains(in.Values, "/usr/bin/scp")
			}) && a.Score > d.spree.Score:
				d.spree = a
			}
		}
	}
	if d.rare.ID == "" || d.spree.ID == "" {
		t.Fatalf("the demo's incidents were not found: %+v", d)
	}
	return d
}

// TestCaseFileAnswersFromItselfAlone saves the demo's two incidents as a
// case, moves the file to an empty folder with no cache and no inputs,
// opens it read-only and walks every question the console asks: the
// answers are those the cache gave, and the file is not changed.
func TestCaseFileAnswersFromItselfAlone(t *testing.T) {
	ctx := context.Background()
	srcDir := t.TempDir()
	store, err := cache.Open(ctx, filepath.Join(srcDir, "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	ws := New(store)
	if _, err := ws.LoadDemo(ctx, fleetgen.Default(), nil); err != nil {
		t.Fatal(err)
	}
	con := NewConsole(ws, ConsoleSettings{Options: engine.DefaultOptions()})
	d := pickIncidents(t, con)
	d.rareNote = "unknown binary run once as root: `/xxprimef` | escalate"
	d.spreeNote = "ssh + scp copy spree to an outside host"
	if _, err := con.SetTriage(ctx, d.rare.ID, model.Triage{State: model.StateEscalated, Note: d.rareNote}); err != nil {
		t.Fatal(err)
	}
	if err := con.AddToCase(ctx, "demo incidents", d.rare.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := con.AddToCase(ctx, "demo incidents", d.spree.ID, d.spreeNote); err != nil {
		t.Fatal(err)
	}
	if err := store.SetCaseSummary(ctx, "demo incidents", "Two incidents of the demo fleet."); err != nil {
		t.Fatal(err)
	}
	// The note given with the anomaly is its triage note now.
	rows, err := con.Anomalies(ctx, model.AnomalyQuery{Job: "host_high_process_rate", Scope: model.ScopeHost, Entity: "nyc2-db01"})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(rows, func(a model.Anomaly) bool { return a.ID == d.spree.ID }); i < 0 || rows[i].Triage.Note != d.spreeNote {
		t.Errorf("the case note is not the anomaly's triage note: %+v", rows)
	}

	// What the cache answers, to compare with the file's answers.
	span := 15 * time.Minute
	rareQ := model.RareChartQuery{Job: "host_rare_process", Scope: model.ScopeHost, Entity: "3a30127937b1", BucketSpan: span}
	origRare, err := con.RareChart(ctx, rareQ)
	if err != nil {
		t.Fatal(err)
	}
	var spreeExes []string
	for _, in := range d.spree.Influencers {
		if in.Field == engine.FieldExecutable {
			spreeExes = in.Values
		}
	}
	rateQ := model.RateChartQuery{Job: "host_high_process_rate", Scope: model.ScopeHost, Entity: "nyc2-db01", BucketSpan: span,
		Focus: d.spree.Time, Influencers: spreeExes}
	origRate, err := con.RateChart(ctx, rateQ)
	if err != nil {
		t.Fatal(err)
	}
	wf, wt := d.rare.Time.Add(-time.Hour), d.rare.Time.Add(span+time.Hour)
	procQ := model.ProcessQuery{Scope: model.ScopeHost, Entity: "3a30127937b1", From: wf, To: wt}
	origProcs, err := con.ProcessEvents(ctx, procQ)
	if err != nil {
		t.Fatal(err)
	}
	origReport, err := ws.CaseReport(ctx, "demo incidents")
	if err != nil {
		t.Fatal(err)
	}

	saved, err := ws.SaveCase(ctx, "demo incidents", filepath.Join(srcDir, "incidents.alcase"), false)
	if err != nil {
		t.Fatal(err)
	}
	if !saved.FleetCounts || saved.Anomalies != 2 || saved.Events == 0 {
		t.Fatalf("saved %+v", saved)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	// Another machine: an empty folder, the case file alone.
	dir := t.TempDir()
	path := filepath.Join(dir, "incidents.alcase")
	data, err := os.ReadFile(saved.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(srcDir); err != nil {
		t.Fatal(err)
	}
	before := sha(t, path)

	cs, f, err := cache.OpenCaseFile(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	cws, c, err := OpenCase(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	if f.Case != "demo incidents" || len(c.Entries) != 2 || c.Summary != "Two incidents of the demo fleet." {
		t.Fatalf("case %+v, %d entries", f, len(c.Entries))
	}
	from, to := c.Range()
	jobs := c.Jobs()
	if len(jobs) != 2 || jobs[0].Job.ID != "host_rare_process" || jobs[1].Job.ID != "host_high_process_rate" {
		t.Fatalf("jobs %+v", jobs)
	}
	ccon := NewConsole(cws, ConsoleSettings{Options: jobs[0].Options, Selection: jobs[0].Selection})
	if got, ok := ccon.CaseFile(); !ok || got.Case != "demo incidents" {
		t.Errorf("CaseFile() = %+v, %v", got, ok)
	}

	// Swimlane: the whole fleet's lanes, the case's anomaly at its score.
	lane, err := ccon.Swimlane(ctx, model.Query{Job: "host_rare_process", Scope: model.ScopeHost, From: from, To: to, BucketSpan: span}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lane.Lanes) != 24 {
		t.Errorf("%d lanes, want the fleet's 24 hosts", len(lane.Lanes))
	}
	i, _ := lane.Axis.BucketAt(d.rare.Time)
	for _, l := range lane.Lanes {
		want := 0.0
		if l.Entity == "3a30127937b1" {
			want = d.rare.Score
		}
		if got := slices.Max(l.Scores); got != want {
			t.Errorf("lane %s peaks at %.1f, want %.1f", l.Entity, got, want)
		}
	}
	if lane.Overall[i] != d.rare.Score {
		t.Errorf("overall lane at the incident %.1f, want %.1f", lane.Overall[i], d.rare.Score)
	}
	// The anomalies table: the saved records, their triage.
	for _, want := range []model.Anomaly{d.rare, d.spree} {
		if want.ID == d.spree.ID {
			if _, err := ccon.Swimlane(ctx, model.Query{Job: "host_high_process_rate", Scope: model.ScopeHost, From: from, To: to, BucketSpan: span}, nil); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := ccon.Anomalies(ctx, model.AnomalyQuery{Job: want.JobID, Scope: model.ScopeHost})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].ID != want.ID || rows[0].Score != want.Score || rows[0].Why != want.Why {
			t.Fatalf("%s in the case: %+v, want %s at %.1f", want.JobID, rows, want.ID, want.Score)
		}
		wantNote := map[string]string{d.rare.ID: d.rareNote, d.spree.ID: d.spreeNote}[want.ID]
		if rows[0].Triage.Note != wantNote {
			t.Errorf("%s: note %q, want %q", want.ID, rows[0].Triage.Note, wantNote)
		}
	}
	caseRows, err := ccon.CaseAnomalies(ctx, "")
	if err != nil || len(caseRows) != 2 || caseRows[0].ID != d.spree.ID || caseRows[1].Triage.State != model.StateEscalated {
		t.Errorf("case anomalies %+v %v", caseRows, err)
	}
	// The drill-downs answer as the cache did.
	rareQ.From, rareQ.To = from, to
	gotRare, err := ccon.RareChart(ctx, rareQ)
	if err != nil {
		t.Fatal(err)
	}
	// Only the case's anomaly is marked; the cache marks every rare record.
	if len(gotRare.Marks) != 1 || gotRare.Marks[0].Executable != "/xxprimef" || gotRare.Marks[0].Score != d.rare.Score ||
		!slices.Contains(origRare.Marks, gotRare.Marks[0]) {
		t.Errorf("rare chart marks %+v, want the case's /xxprimef as the cache marked it", gotRare.Marks)
	}
	gotRare.Marks, origRare.Marks = nil, nil
	if !reflect.DeepEqual(gotRare, origRare) {
		t.Errorf("rare chart from the case differs from the cache's (%d rows, fleet %d; the cache: %d rows, fleet %d)",
			len(gotRare.Rows), gotRare.FleetSize, len(origRare.Rows), origRare.FleetSize)
	}
	rateQ.From, rateQ.To = from, to
	gotRate, err := ccon.RateChart(ctx, rateQ)
	if err != nil {
		t.Fatal(err)
	}
	if f := gotRate.Focus; f < 0 || !gotRate.Points[f].Modelled || gotRate.Points[f].Actual <= gotRate.Points[f].Upper ||
		len(gotRate.Drivers) == 0 || !gotRate.Drivers[0].Influencer {
		t.Fatalf("rate chart from the case: focus %d, drivers %+v", f, gotRate.Drivers)
	}
	if gotRate.Points[gotRate.Focus].Score != d.spree.Score {
		t.Errorf("rate chart scores the focus %.1f, want %.1f", gotRate.Points[gotRate.Focus].Score, d.spree.Score)
	}
	for i := range gotRate.Points { // other anomalies of the host are not in the case
		gotRate.Points[i].Score, origRate.Points[i].Score = 0, 0
	}
	if !reflect.DeepEqual(gotRate, origRate) {
		t.Errorf("rate chart from the case differs from the cache's:\n%+v\n%+v", gotRate.Drivers, origRate.Drivers)
	}
	gotProcs, err := ccon.ProcessEvents(ctx, procQ)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotProcs.Rows) == 0 || !reflect.DeepEqual(gotProcs.Rows, origProcs.Rows) {
		t.Errorf("process explorer from the case: %d rows, the cache %d", len(gotProcs.Rows), len(origProcs.Rows))
	}
	if !slices.ContainsFunc(gotProcs.Rows, func(p model.Process) bool { return p.Executable == "/xxprimef" }) {
		t.Error("the process explorer does not show /xxprimef")
	}
	// Other jobs and settings say they are not in the case.
	if _, err := ccon.Swimlane(ctx, model.Query{Job: "docker_rare_process", Scope: model.ScopeContainer, From: from, To: to, BucketSpan: span}, nil); !errors.Is(err, ErrNotInCase) {
		t.Errorf("a job not in the case: %v", err)
	}
	if _, err := ccon.Swimlane(ctx, model.Query{Job: "host_rare_process", Scope: model.ScopeHost, From: from, To: to, BucketSpan: time.Hour}, nil); !errors.Is(err, ErrNotInCase) || !strings.Contains(err.Error(), "15m buckets") {
		t.Errorf("other settings: %v", err)
	}
	// Read-only: triage is refused with the way to edit.
	if _, err := ccon.SetTriage(ctx, d.rare.ID, model.Triage{State: model.StateAcknowledged}); err == nil || !strings.Contains(err.Error(), "--edit") {
		t.Errorf("triage on a read-only case: %v", err)
	}
	// The report from the file is the report from the cache.
	rep, err := cws.CaseReport(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.SavedAt.IsZero() {
		t.Error("the report of a case file does not say when it was saved")
	}
	rep.SavedAt = time.Time{}
	if !reflect.DeepEqual(rep, origReport) {
		a, _ := json.Marshal(rep)
		b, _ := json.Marshal(origReport)
		t.Errorf("report from the case file differs from the cache's:\n%s\n%s", a, b)
	}
	checkDemoReport(t, rep, d)

	if err := cs.Close(); err != nil {
		t.Fatal(err)
	}
	if sha(t, path) != before {
		t.Error("opening and walking the case changed the file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the folder holds %d entries, want the case file alone", len(ents))
	}

	// Opened for editing, triage is kept in the file.
	es, _, err := cache.OpenCaseFile(ctx, path, true)
	if err != nil {
		t.Fatal(err)
	}
	ews, _, err := OpenCase(ctx, es)
	if err != nil {
		t.Fatal(err)
	}
	econ := NewConsole(ews, ConsoleSettings{Options: jobs[0].Options})
	if _, err := econ.Swimlane(ctx, model.Query{Job: "host_rare_process", Scope: model.ScopeHost, From: from, To: to, BucketSpan: span}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := econ.SetTriage(ctx, d.rare.ID, model.Triage{State: model.StateFalsePositive, Note: "lab test"}); err != nil {
		t.Fatal(err)
	}
	es.Close()
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("editing left %d entries in the folder", len(ents))
	}
}

func checkDemoReport(t *testing.T, rep Report, d demoIncidents) {
	t.Helper()
	if len(rep.Anomalies) != 2 || rep.Anomalies[0].ID != d.spree.ID || rep.Anomalies[1].ID != d.rare.ID {
		t.Fatalf("report anomalies %+v, want the spree then /xxprimef", rep.Anomalies)
	}
	for _, a := range rep.Anomalies {
		if len(a.Top) == 0 || len(a.Events) == 0 {
			t.Errorf("%s: %d top processes, %d events", a.ID, len(a.Top), len(a.Events))
		}
	}
	if rep.Anomalies[1].Events[0].Executable != "/xxprimef" || rep.Anomalies[1].State != "escalated" || rep.Anomalies[1].Note != d.rareNote {
		t.Errorf("the /xxprimef entry: %+v", rep.Anomalies[1])
	}
	if !slices.Contains(rep.Anomalies[0].Processes, "/usr/bin/scp") || rep.Anomalies[0].Note != d.spreeNote {
		t.Errorf("the spree entry: %+v", rep.Anomalies[0])
	}
	var md bytes.Buffer
	if err := WriteReportMarkdown(&md, rep, nil); err != nil {
		t.Fatal(err)
	}
	text := md.String()
	for _, want := range []string{"# Case `demo incidents`", "`3a30127937b1`", "`/xxprimef`", "`nyc2-db01`", "`/usr/bin/scp`",
		mdText(d.rareNote), mdText(d.spreeNote), "escalated", "Two incidents of the demo fleet\\.", "## Timeline"} {
		if !strings.Contains(text, want) {
			t.Errorf("the Markdown report lacks %q:\n%s", want, text)
		}
	}
	var js bytes.Buffer
	if err := WriteReportJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Anomalies) != 2 || back.Anomalies[1].Note != d.rareNote || back.Anomalies[0].Record.RecordScore != d.spree.Score {
		t.Errorf("JSON report round trip: %+v", back.Anomalies)
	}
}

func TestMarkdownKeepsDataInItsSpans(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/usr/bin/ls", "`/usr/bin/ls`"},
		{"a`b", "``a`b``"},
		{"``x```", "```` ``x``` ````"},
		{"`", "`` ` ``"},
		{"", "(none)"},
		{"\x1b[31mred", "`\\x1b[31mred`"},
		{"<script>x</script> | *b*", "`<script>x</script> | *b*`"},
	}
	for _, tt := range tests {
		if got := mdCode(tt.in); got != tt.want {
			t.Errorf("mdCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := mdText("note: *urgent* <b>|</b> `x`\n# no"); got != "note: \\*urgent\\* \\<b\\>\\|\\</b\\> \\`x\\`\\\\n\\# no" {
		t.Errorf("mdText = %q", got)
	}
	nasty := "/tmp/```\x1b]0;pwned\x07\n# heading"
	rep := Report{Case: "c`1", From: time.Unix(0, 0), To: time.Unix(900, 0), States: map[string]int{"new": 1},
		Anomalies: []ReportAnomaly{{ID: "host_rare_process|h|" + nasty + "|0", Severity: "critical", Score: 99, Job: "host_rare_process",
			Entity: "h`|", Processes: []string{nasty}, Why: "first time " + nasty, State: "new", Note: "see `x`",
			Top:    []ReportProcess{{Executable: nasty, Executions: 3}},
			Events: []ReportEvent{{Time: time.Unix(1, 0), User: "root\x1b[2J", Executable: nasty, Args: []string{"````", "\u202eevil"}}}}},
	}
	var b bytes.Buffer
	if err := WriteReportMarkdown(&b, rep, nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("control characters reached the Markdown:\n%q", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "# heading") {
			t.Errorf("data made a heading: %q", line)
		}
	}
	// The raw events' fence outlasts any backtick run inside it.
	if !strings.Contains(out, "`````text\n") {
		t.Errorf("raw events fence too short:\n%s", out)
	}
	if _, err := io.WriteString(io.Discard, out); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkSaveCase saves the demo's two incidents (a week of the whole
// host fleet's counts and the events of two windows) as a case file.
func BenchmarkSaveCase(b *testing.B) {
	ctx := context.Background()
	store, err := cache.Open(ctx, filepath.Join(b.TempDir(), "cache.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	ws := New(store)
	if _, err := ws.LoadDemo(ctx, fleetgen.Default(), nil); err != nil {
		b.Fatal(err)
	}
	job, _ := engine.JobByID("host_rare_process")
	s := Scan{Job: job, Options: engine.DefaultOptions()}
	out, err := ws.Detect(ctx, s)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range out.Results.Records {
		if r.ByFieldValue == "/xxprimef" {
			if err := ws.AddToCase(ctx, "bench", s, out, r, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	dir := b.TempDir()
	b.ResetTimer()
	var saved cache.SavedCase
	for i := range b.N {
		if saved, err = ws.SaveCase(ctx, "bench", filepath.Join(dir, fmt.Sprintf("c%d.alcase", i)), false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(saved.Counts), "count-rows")
	b.ReportMetric(float64(saved.Size)/(1<<20), "MiB")
}

func TestSpanText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		15 * time.Minute: "15m", time.Hour: "1h", 90 * time.Minute: "90m", 24 * time.Hour: "1d",
		36 * time.Hour: "36h", 90 * time.Second: "1m30s", 0: "0s",
	} {
		if got := SpanText(d); got != want {
			t.Errorf("SpanText(%s) = %q, want %q", d, got, want)
		}
	}
}
