package workspace

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources/fleetgen"
	"github.com/auditlens/auditlens/views/model"
)

// smallFleet is the demo fleet: a week of 24 hosts, enough history for the
// scores to settle, and both of Elastic's incidents.
func smallFleet() fleetgen.Config {
	return fleetgen.Default()
}

func openDemo(t *testing.T) (*Workspace, fleetgen.Config) {
	t.Helper()
	ctx := context.Background()
	store, err := cache.Open(ctx, filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ws := New(store)
	cfg := smallFleet()
	loaded, err := ws.LoadDemo(ctx, cfg, nil)
	if err != nil || !loaded {
		t.Fatalf("LoadDemo: loaded=%v err=%v", loaded, err)
	}
	// The same fleet again is already there.
	if again, err := ws.LoadDemo(ctx, cfg, nil); err != nil || again {
		t.Fatalf("second LoadDemo: loaded=%v err=%v, want nothing loaded", again, err)
	}
	return ws, cfg
}

func TestDetectCachesResults(t *testing.T) {
	ws, _ := openDemo(t)
	ctx := context.Background()
	job, _ := engine.JobByID("host_rare_process")
	scan := Scan{Job: job, Options: engine.DefaultOptions()}
	first, err := ws.Detect(ctx, scan)
	if err != nil {
		t.Fatal(err)
	}
	if first.Cached || len(first.Results.Records) == 0 {
		t.Fatalf("first run: cached=%v records=%d", first.Cached, len(first.Results.Records))
	}
	second, err := ws.Detect(ctx, scan)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Cached || len(second.Results.Records) != len(first.Results.Records) {
		t.Fatalf("second run: cached=%v records=%d, want cached and %d", second.Cached, len(second.Results.Records), len(first.Results.Records))
	}
	for i := range first.Results.Records {
		a, b := first.Results.Records[i], second.Results.Records[i]
		if a.RecordScore != b.RecordScore || a.ByFieldValue != b.ByFieldValue || a.Timestamp != b.Timestamp {
			t.Fatalf("cached record %d differs: %+v vs %+v", i, a, b)
		}
	}
	// Other settings are another question.
	scan.Options.FleetContext = false
	third, err := ws.Detect(ctx, scan)
	if err != nil || third.Cached {
		t.Fatalf("changed options: cached=%v err=%v, want a fresh run", third.Cached, err)
	}
	// New data makes cached results stale.
	cfg := smallFleet()
	cfg.Seed = 99
	if _, err := ws.LoadDemo(ctx, cfg, nil); err != nil {
		t.Fatal(err)
	}
	scan.Options.FleetContext = true
	fourth, err := ws.Detect(ctx, scan)
	if err != nil || fourth.Cached {
		t.Fatalf("after new data: cached=%v err=%v, want a fresh run", fourth.Cached, err)
	}
}

func TestRangeRoundsToBuckets(t *testing.T) {
	ws, cfg := openDemo(t)
	ctx := context.Background()
	from, to, err := ws.Range(ctx, time.Time{}, time.Time{}, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !from.Equal(cfg.Start) || to.Sub(from) != time.Duration(cfg.Days)*24*time.Hour {
		t.Errorf("data range %s to %s, want the fleet's %d days from %s", from, to, cfg.Days, cfg.Start)
	}
	tests := []struct {
		from, to         time.Time
		wantFrom, wantTo time.Time
	}{
		{cfg.Start.Add(7 * time.Minute), cfg.Start.Add(61 * time.Minute), cfg.Start, cfg.Start.Add(75 * time.Minute)},
		{cfg.Start, cfg.Start.Add(time.Hour), cfg.Start, cfg.Start.Add(time.Hour)},
		{cfg.Start, cfg.Start, cfg.Start, cfg.Start.Add(15 * time.Minute)},
	}
	for _, tt := range tests {
		f, to, err := ws.Range(ctx, tt.from, tt.to, 15*time.Minute)
		if err != nil || !f.Equal(tt.wantFrom) || !to.Equal(tt.wantTo) {
			t.Errorf("Range(%s, %s) = %s, %s, %v; want %s, %s", tt.from, tt.to, f, to, err, tt.wantFrom, tt.wantTo)
		}
	}
}

func TestConsoleSwimlaneAndTriage(t *testing.T) {
	ws, cfg := openDemo(t)
	ctx := context.Background()
	c := NewConsole(ws, ConsoleSettings{Options: engine.DefaultOptions()})
	q := model.Query{Job: "host_rare_process", Scope: model.ScopeHost, BucketSpan: 15 * time.Minute}
	lane, err := c.Swimlane(ctx, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lane.Lanes) != cfg.Hosts {
		t.Errorf("%d lanes, want one per host (%d)", len(lane.Lanes), cfg.Hosts)
	}
	if lane.Axis.Buckets != cfg.Days*96 {
		t.Errorf("%d buckets, want %d", lane.Axis.Buckets, cfg.Days*96)
	}
	anomalies, err := c.Anomalies(ctx, model.AnomalyQuery{Job: q.Job, Scope: q.Scope, Entity: "3a30127937b1"})
	if err != nil {
		t.Fatal(err)
	}
	var target *model.Anomaly
	for i, a := range anomalies {
		if a.Executable == "/xxprimef" {
			target = &anomalies[i]
		}
	}
	if target == nil || target.Score < 75 {
		t.Fatalf("no critical /xxprimef anomaly on 3a30127937b1 among %d", len(anomalies))
	}
	// Its lane carries the score in its bucket.
	i, _ := lane.Axis.BucketAt(target.Time)
	for _, l := range lane.Lanes {
		if l.Entity == "3a30127937b1" && l.Scores[i] < target.Score {
			t.Errorf("lane score %v in the anomaly's bucket, want at least %v", l.Scores[i], target.Score)
		}
	}
	if _, err := c.SetTriage(ctx, target.ID, model.Triage{State: model.StateEscalated, Note: "ran once, from /tmp"}); err != nil {
		t.Fatal(err)
	}
	// A new console over the same cache (a restart) sees the verdict.
	c2 := NewConsole(ws, ConsoleSettings{Options: engine.DefaultOptions()})
	if _, err := c2.Swimlane(ctx, q, nil); err != nil {
		t.Fatal(err)
	}
	again, err := c2.Anomalies(ctx, model.AnomalyQuery{Job: q.Job, Scope: q.Scope, Entity: "3a30127937b1"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range again {
		if a.ID == target.ID {
			found = a.Triage.State == model.StateEscalated && a.Triage.Note == "ran once, from /tmp"
		}
	}
	if !found {
		t.Error("the escalation and its note were not kept")
	}
	if _, err := c.SetTriage(ctx, "not-an-id", model.Triage{}); err == nil {
		t.Error("a malformed anomaly id was accepted")
	}
}

func TestTriageOfSplitsIDs(t *testing.T) {
	c := NewConsole(nil, ConsoleSettings{})
	tests := []struct {
		id               string
		job, entity, exe string
		bucket           int64
		bad              bool
	}{
		{id: "host_rare_process|web-1|/usr/bin/ssh|1700000000", job: "host_rare_process", entity: "web-1", exe: "/usr/bin/ssh", bucket: 1700000000},
		{id: "host_rare_process|web-1|/tmp/a|b|c|1700000000", job: "host_rare_process", entity: "web-1", exe: "/tmp/a|b|c", bucket: 1700000000},
		{id: "host_high_process_rate|web-1||1700000000", job: "host_high_process_rate", entity: "web-1", bucket: 1700000000},
		{id: "nonsense", bad: true},
		{id: "job|x|y|notanumber", bad: true},
	}
	for _, tt := range tests {
		got, err := c.triageOf(tt.id)
		if tt.bad {
			if err == nil {
				t.Errorf("triageOf(%q) accepted a malformed id", tt.id)
			}
			continue
		}
		if err != nil || got.JobID != tt.job || got.Entity != tt.entity || got.Executable != tt.exe || got.Bucket != tt.bucket {
			t.Errorf("triageOf(%q) = %+v, %v", tt.id, got, err)
		}
	}
}

// TestConsoleRangeNarrowsTheView checks that a later start only narrows the
// swimlane: the jobs still run from the start of the data, so a cell shows
// the same score as in the whole range.
func TestConsoleRangeNarrowsTheView(t *testing.T) {
	ws, cfg := openDemo(t)
	ctx := context.Background()
	q := model.Query{Job: "host_rare_process", Scope: model.ScopeHost, BucketSpan: 15 * time.Minute}
	whole, err := NewConsole(ws, ConsoleSettings{Options: engine.DefaultOptions()}).Swimlane(ctx, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	q.From = cfg.Start.Add(4*24*time.Hour + 17*time.Hour + 7*time.Minute)
	q.To = q.From.Add(3 * time.Hour)
	part, err := NewConsole(ws, ConsoleSettings{Options: engine.DefaultOptions()}).Swimlane(ctx, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := q.From.Truncate(15 * time.Minute); !part.Axis.Start.Equal(want) || part.Axis.Buckets != 13 {
		t.Fatalf("axis starts %s with %d buckets, want %s with 13", part.Axis.Start, part.Axis.Buckets, want)
	}
	offset, _ := whole.Axis.BucketAt(part.Axis.Start)
	scored := 0
	for i := range part.Overall {
		if part.Overall[i] != whole.Overall[offset+i] {
			t.Fatalf("bucket %s scores %v in the narrow view, %v in the whole range", part.Axis.BucketStart(i), part.Overall[i], whole.Overall[offset+i])
		}
		if part.Overall[i] > 0 {
			scored++
		}
	}
	if scored == 0 {
		t.Fatal("the window around /xxprimef shows no score at all")
	}
}
