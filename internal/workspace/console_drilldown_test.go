package workspace

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
	"github.com/auditlens/auditlens/sources/fleetgen"
	"github.com/auditlens/auditlens/views/model"
)

// drillFleet is a small generated fleet written as Auditbeat ECS NDJSON and
// ingested into a real cache, shared by the drill-down tests (generating
// and ingesting it is most of their time).
type drillFleet struct {
	store  *cache.Store
	path   string
	labels fleetgen.Labels
	start  time.Time
	end    time.Time
}

// TestDrillDownOnAFleet runs the drill-down questions against one fleet,
// built once.
func TestDrillDownOnAFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and ingests a fleet")
	}
	d, err := buildDrillFleet(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.store.Close() })
	t.Run("rare chart of the rare host", func(t *testing.T) { testRareChartOfTheRareHost(t, d) })
	t.Run("rate chart of the copy burst", func(t *testing.T) { testRateChartOfTheCopyBurst(t, d) })
	t.Run("process window and look-ups", func(t *testing.T) { testProcessEventsWindowAndLookups(t, d) })
	t.Run("bad questions", func(t *testing.T) { testDrillDownBadQuestions(t, d) })
	t.Run("partition none", func(t *testing.T) { testPartitionNone(t, d) })
}

func buildDrillFleet(dir string) (*drillFleet, error) {
	ctx := context.Background()
	cfg := fleetgen.Default()
	cfg.Hosts, cfg.Containers, cfg.Days = 6, 0, 4
	fl, err := fleetgen.New(cfg)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "auditbeat.ndjson")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	if _, err := fl.WriteECS(ctx, w); err != nil {
		f.Close()
		return nil, err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	store, err := cache.Open(ctx, filepath.Join(dir, "cache.db"))
	if err != nil {
		return nil, err
	}
	inputs, err := sources.Discover([]string{path}, sources.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := store.Ingest(ctx, inputs, cache.IngestOptions{}); err != nil {
		return nil, err
	}
	return &drillFleet{store: store, path: path, labels: fl.Labels(), start: fl.Start(), end: fl.End()}, nil
}

func (d *drillFleet) label(t *testing.T, kind fleetgen.Kind) fleetgen.Label {
	t.Helper()
	for _, l := range d.labels.Labels {
		if l.Kind == kind {
			return l
		}
	}
	t.Fatalf("the fleet has no %s incident", kind)
	return fleetgen.Label{}
}

func (d *drillFleet) console() *Console {
	return NewConsole(New(d.store), ConsoleSettings{Options: engine.DefaultOptions()})
}

func testRareChartOfTheRareHost(t *testing.T, d *drillFleet) {
	ctx := context.Background()
	l := d.label(t, fleetgen.KindRareHostProcess)
	if l.Entity != "3a30127937b1" {
		t.Fatalf("rare-process incident on %s", l.Entity)
	}
	c := d.console()
	chart, err := c.RareChart(ctx, model.RareChartQuery{Job: "host_rare_process", Scope: model.ScopeHost, Entity: l.Entity})
	if err != nil {
		t.Fatal(err)
	}
	if chart.Axis.BucketSpan != engine.DefaultBucketSpan || chart.Axis.Buckets < 4*96 {
		t.Errorf("axis %+v", chart.Axis)
	}
	if chart.FleetSize != 6 {
		t.Errorf("fleet size %d, want the 6 hosts", chart.FleetSize)
	}
	at := slices.IndexFunc(chart.Rows, func(r model.RareRow) bool { return r.Executable == "/xxprimef" })
	if at < 0 {
		t.Fatalf("no /xxprimef row among %d", len(chart.Rows))
	}
	row := chart.Rows[at]
	t.Logf("%d rows, %d active buckets, fleet %d, %d marks; top %+v", len(chart.Rows), chart.ActiveBuckets,
		chart.FleetSize, len(chart.Marks), chart.Rows[0].Executable)
	if len(row.Buckets) != 1 || row.Executions != 1 || row.Fleet != 1 {
		t.Errorf("/xxprimef: buckets %v, %d executions, fleet %d; want one bucket, one run, this host only",
			row.Buckets, row.Executions, row.Fleet)
	}
	if b, _ := chart.Axis.BucketAt(l.Start); len(row.Buckets) == 1 && row.Buckets[0] != b {
		t.Errorf("/xxprimef in bucket %d, the incident is in bucket %d", row.Buckets[0], b)
	}
	// Most frequent first: shares never rise down the list.
	for i := 1; i < len(chart.Rows); i++ {
		if len(chart.Rows[i].Buckets) > len(chart.Rows[i-1].Buckets) {
			t.Fatalf("row %d (%s, %d buckets) after %s (%d)", i, chart.Rows[i].Executable, len(chart.Rows[i].Buckets),
				chart.Rows[i-1].Executable, len(chart.Rows[i-1].Buckets))
		}
	}
	if top := chart.Rows[0]; top.Fleet < 2 || top.Share(chart.ActiveBuckets) < 0.1 {
		t.Errorf("top row %s: fleet %d, share %.2f", top.Executable, top.Fleet, top.Share(chart.ActiveBuckets))
	}
	if chart.ActiveBuckets == 0 || chart.ActiveBuckets > chart.Axis.Buckets {
		t.Errorf("%d active buckets of %d", chart.ActiveBuckets, chart.Axis.Buckets)
	}
	marked := false
	for _, m := range chart.Marks {
		if m.Executable == "/xxprimef" && len(row.Buckets) == 1 && m.Bucket == row.Buckets[0] && m.Score > 0 {
			marked = true
		}
	}
	if !marked {
		t.Errorf("the /xxprimef anomaly is not marked: %+v", chart.Marks)
	}
}

func testRateChartOfTheCopyBurst(t *testing.T, d *drillFleet) {
	ctx := context.Background()
	l := d.label(t, fleetgen.KindCopySpree)
	c := d.console()
	// The anomaly the swimlane would open: the job's top record on the host.
	sw, err := c.Anomalies(ctx, model.AnomalyQuery{Job: "host_high_process_rate", Scope: model.ScopeHost, Entity: l.Entity})
	if err != nil {
		t.Fatal(err)
	}
	var top *model.Anomaly
	for i := range sw {
		a := &sw[i]
		if !a.Time.Before(l.Start.Add(-a.BucketSpan)) && !a.Time.After(l.End) && (top == nil || a.Score > top.Score) {
			top = a
		}
	}
	if top == nil {
		t.Fatalf("no rate anomaly on %s during the burst (%s–%s)", l.Entity, l.Start, l.End)
	}
	var exes []string
	for _, in := range top.Influencers {
		if in.Field == engine.FieldExecutable {
			exes = in.Values
		}
	}
	chart, err := c.RateChart(ctx, model.RateChartQuery{Job: top.JobID, Scope: model.ScopeHost, Entity: l.Entity,
		Focus: top.Time, Influencers: exes})
	if err != nil {
		t.Fatal(err)
	}
	if chart.Focus < 0 || chart.Axis.BucketStart(chart.Focus) != top.Time {
		t.Fatalf("focus %d on axis %+v, anomaly at %s", chart.Focus, chart.Axis, top.Time)
	}
	if len(chart.Points) != chart.Axis.Buckets || len(chart.Other) != chart.Axis.Buckets {
		t.Fatalf("%d points, %d other for %d buckets", len(chart.Points), len(chart.Other), chart.Axis.Buckets)
	}
	if want := 2*24*4 + 1; chart.Axis.Buckets > want || chart.Axis.Buckets < 24*4 {
		t.Errorf("window of %d buckets, want about a day each side", chart.Axis.Buckets)
	}
	p := chart.Points[chart.Focus]
	t.Logf("burst on %s at %s: %+v; top %s %s; drivers %+v", l.Entity, top.Time, p,
		chart.Top[0].Executable, chart.Top[min(1, len(chart.Top)-1)].Executable, chart.Drivers)
	if !p.Modelled || p.Learning || p.Actual < 3*p.Upper || p.Upper < p.Typical || p.Lower > p.Typical {
		t.Errorf("burst bucket: %+v, want actual far above the upper bound", p)
	}
	if p.Score <= 0 || p.Score != top.Score {
		t.Errorf("burst bucket score %v, anomaly %v", p.Score, top.Score)
	}
	if len(chart.Top) < 2 {
		t.Fatalf("top executables: %+v", chart.Top)
	}
	first := []string{chart.Top[0].Executable, chart.Top[1].Executable}
	slices.Sort(first)
	if !slices.Equal(first, []string{"/usr/bin/scp", "/usr/bin/ssh"}) {
		t.Errorf("the breakdown starts with %v, want ssh and scp", first)
	}
	// Each bucket's split adds up to its count.
	for i, pt := range chart.Points {
		sum := chart.Other[i]
		for _, s := range chart.Top {
			sum += s.Counts[i]
		}
		if pt.Modelled && float64(sum) != pt.Actual {
			t.Fatalf("bucket %d: split sums to %d, actual %v", i, sum, pt.Actual)
		}
	}
	if len(chart.Drivers) < 2 {
		t.Fatalf("drivers: %+v", chart.Drivers)
	}
	for _, dr := range chart.Drivers[:2] {
		if (dr.Executable != "/usr/bin/ssh" && dr.Executable != "/usr/bin/scp") || !dr.Influencer || float64(dr.Count) < 5*dr.Usual || dr.Count < 20 {
			t.Errorf("driver %+v, want ssh or scp far above usual", dr)
		}
	}
}

func testProcessEventsWindowAndLookups(t *testing.T, d *drillFleet) {
	ctx := context.Background()
	l := d.label(t, fleetgen.KindRareHostProcess)
	c := d.console()
	from, to := l.Start.Add(-time.Hour), l.Start.Add(engine.DefaultBucketSpan+time.Hour)
	page, err := c.ProcessEvents(ctx, model.ProcessQuery{Scope: model.ScopeHost, Entity: l.Entity, From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if page.Truncated || len(page.Rows) == 0 || page.Source != "cache" || page.Limit != model.DefaultProcessLimit {
		t.Fatalf("page: %d rows, truncated %v, source %q, limit %d", len(page.Rows), page.Truncated, page.Source, page.Limit)
	}
	var rare *model.Process
	for i, p := range page.Rows {
		if p.Time.Before(from) || !p.Time.Before(to) || p.Host != l.Entity || p.Container != "" {
			t.Fatalf("row %d outside the window or host: %+v", i, p)
		}
		if i > 0 && p.Time.Before(page.Rows[i-1].Time) {
			t.Fatalf("rows out of time order at %d", i)
		}
		if p.Executable == "/xxprimef" {
			rare = &page.Rows[i]
		}
	}
	if rare == nil {
		t.Fatal("/xxprimef is not among the window's executions")
	}
	if rare.PID == 0 || rare.User == "" || rare.Origin.File != d.path || rare.Origin.Line <= 0 {
		t.Errorf("/xxprimef row lacks fields: %+v", *rare)
	}

	// Its parent: the latest execution of its ppid at or before it.
	parent, err := c.ProcessEvents(ctx, model.ProcessQuery{Scope: model.ScopeHost, Entity: l.Entity, PID: rare.PPID,
		To: rare.Time.Add(time.Nanosecond), Newest: true, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parent.Rows {
		if p.PID != rare.PPID || p.Time.After(rare.Time) {
			t.Errorf("parent look-up gave %+v", p)
		}
	}
	// Its children, if any, name it as their parent.
	kids, err := c.ProcessEvents(ctx, model.ProcessQuery{Scope: model.ScopeHost, Entity: l.Entity, PPID: rare.PID, From: rare.Time})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range kids.Rows {
		if p.PPID != rare.PID {
			t.Errorf("child look-up gave %+v", p)
		}
	}

	// A cap below the window's rows truncates, keeping the rows nearest the
	// moment asked about on both sides of it.
	capped, err := c.ProcessEvents(ctx, model.ProcessQuery{Scope: model.ScopeHost, Entity: l.Entity, From: from, To: to,
		Limit: 4, Around: rare.Time})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Rows) > 4 && (!capped.Truncated || len(capped.Rows) != 4) {
		t.Fatalf("capped page: %d rows, truncated %v", len(capped.Rows), capped.Truncated)
	}
	if !slices.ContainsFunc(capped.Rows, func(p model.Process) bool { return p.Executable == "/xxprimef" }) {
		t.Errorf("the capped page around /xxprimef lost it: %+v", capped.Rows)
	}
	for i := 1; i < len(capped.Rows); i++ {
		if capped.Rows[i].Time.Before(capped.Rows[i-1].Time) {
			t.Errorf("capped rows out of order")
		}
	}
	// One executable only.
	only, err := c.ProcessEvents(ctx, model.ProcessQuery{Scope: model.ScopeHost, Entity: l.Entity, From: from, To: to, Executable: "/xxprimef"})
	if err != nil || len(only.Rows) != 1 {
		t.Errorf("executable filter: %d rows, %v", len(only.Rows), err)
	}
}

func testDrillDownBadQuestions(t *testing.T, d *drillFleet) {
	ctx := context.Background()
	c := d.console()
	if _, err := c.RareChart(ctx, model.RareChartQuery{Job: "host_rare_process", Scope: model.ScopeHost}); err == nil {
		t.Error("a rare chart without a host was answered")
	}
	if _, err := c.RateChart(ctx, model.RateChartQuery{Job: "no_such_job", Entity: "x"}); err == nil {
		t.Error("a rate chart of an unknown job was answered")
	}
	if _, err := c.ProcessEvents(ctx, model.ProcessQuery{Scope: "galaxy"}); err == nil {
		t.Error("an unknown scope was answered")
	}
	if _, err := c.ProcessEvents(ctx, model.ProcessQuery{From: d.end, To: d.start}); err == nil {
		t.Error("an empty window was answered")
	}
	if _, err := c.RateChart(ctx, model.RateChartQuery{Job: "host_high_process_rate", Entity: "x",
		Focus: d.end.Add(30 * 24 * time.Hour)}); err == nil {
		t.Error("a window outside the range was answered")
	}
	chart, err := c.RareChart(ctx, model.RareChartQuery{Job: "host_rare_process", Scope: model.ScopeHost, Entity: "no-such-host"})
	if err != nil || len(chart.Rows) != 0 || chart.ActiveBuckets != 0 {
		t.Errorf("unknown host: %+v, %v", chart, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.ProcessEvents(cancelled, model.ProcessQuery{Entity: "3a30127937b1"}); err == nil {
		t.Error("a cancelled question was answered")
	}
}

// testPartitionNone checks the rate chart of a fleet-wide job: the model
// and the split are the fleet's, the drivers still the anomaly's.
func testPartitionNone(t *testing.T, d *drillFleet) {
	ctx := context.Background()
	l := d.label(t, fleetgen.KindCopySpree)
	c := d.console()
	own, err := c.RateChart(ctx, model.RateChartQuery{Job: "host_high_process_rate", Scope: model.ScopeHost, Entity: l.Entity, Focus: l.Start})
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := c.RateChart(ctx, model.RateChartQuery{Job: "host_high_process_rate", Scope: model.ScopeHost,
		Partition: model.PartitionNone, Entity: l.Entity, Focus: l.Start})
	if err != nil {
		t.Fatal(err)
	}
	if fleet.Focus < 0 || own.Focus != fleet.Focus {
		t.Fatalf("focus %d, own %d", fleet.Focus, own.Focus)
	}
	modelled, above := 0, 0
	for i, p := range fleet.Points {
		if p.Modelled {
			modelled++
		}
		if p.Actual > own.Points[i].Actual {
			above++
		}
		if own.Points[i].Actual > p.Actual {
			t.Fatalf("bucket %d: the fleet ran %v, fewer than the host's %v", i, p.Actual, own.Points[i].Actual)
		}
	}
	if modelled < len(fleet.Points)/2 || above < len(fleet.Points)/2 {
		t.Errorf("fleet-wide chart: %d modelled, %d above the host of %d buckets", modelled, above, len(fleet.Points))
	}
	rare, err := c.RareChart(ctx, model.RareChartQuery{Job: "host_rare_process", Scope: model.ScopeHost, Partition: model.PartitionNone, Entity: "3a30127937b1"})
	if err != nil || !slices.ContainsFunc(rare.Rows, func(r model.RareRow) bool { return r.Executable == "/xxprimef" }) {
		t.Errorf("fleet-wide rare chart: %d rows, %v", len(rare.Rows), err)
	}
}

func TestNearest(t *testing.T) {
	tests := []struct{ before, after, limit, wantB, wantA int }{
		{10, 10, 4, 2, 2},
		{1, 10, 4, 1, 3},
		{10, 1, 4, 3, 1},
		{0, 0, 4, 0, 0},
		{3, 3, 10, 3, 3},
		{10, 10, 5, 2, 3},
	}
	for _, tt := range tests {
		b, a := nearest(tt.before, tt.after, tt.limit)
		if b != tt.wantB || a != tt.wantA {
			t.Errorf("nearest(%d, %d, %d) = %d, %d; want %d, %d", tt.before, tt.after, tt.limit, b, a, tt.wantB, tt.wantA)
		}
	}
}

func TestFloorAndCeilTime(t *testing.T) {
	seven := 7 * time.Minute
	at := time.Unix(1000*420+13, 0).UTC()
	if got := floorTime(at, seven); got.Unix() != 1000*420 {
		t.Errorf("floor %d", got.Unix())
	}
	if got := ceilTime(at, seven); got.Unix() != 1001*420 {
		t.Errorf("ceil %d", got.Unix())
	}
	exact := time.Unix(1000*420, 0)
	if got := ceilTime(exact, seven); !got.Equal(exact) {
		t.Errorf("ceil of an edge moved it: %v", got)
	}
}
