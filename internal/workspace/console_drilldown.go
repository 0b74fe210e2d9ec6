package workspace

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
	"github.com/auditlens/auditlens/views/model"
)

// The console's drill-down questions: the rare-process chart, the process
// explorer's executions and the rate chart. Each is answered from the cache
// and from the scan behind the swimlane (the same job, range and settings),
// so the anomalies marked on a chart are exactly those in the swimlane.

// Sizes of the drill-down answers.
const (
	// usualHistory is how far before an anomaly a driver's usual rate is
	// measured.
	usualHistory = 7 * 24 * time.Hour
	// maxDrivers caps the processes listed as having driven an anomaly.
	maxDrivers = 10
	// defaultRateWindow is the rate chart's half-width when none is asked.
	defaultRateWindow = 24 * time.Hour
)

// errNoEntity says a drill-down was asked without a host or container.
var errNoEntity = errors.New("a drill-down needs a host or container")

// RareChart implements model.DrillDownBackend.
func (c *Console) RareChart(ctx context.Context, q model.RareChartQuery) (model.RareChart, error) {
	if q.Entity == "" {
		return model.RareChart{}, errNoEntity
	}
	s, err := c.scan(ctx, model.Query{Job: q.Job, Scope: q.Scope, Partition: q.Partition, From: q.From, To: q.To, BucketSpan: q.BucketSpan}, nil)
	if err != nil {
		return model.RareChart{}, err
	}
	return c.ws.rareChart(ctx, c.drillScan(s.job, q.To), s.out, q.Entity)
}

// RateChart implements model.DrillDownBackend.
func (c *Console) RateChart(ctx context.Context, q model.RateChartQuery) (model.RateChart, error) {
	if q.Entity == "" {
		return model.RateChart{}, errNoEntity
	}
	s, err := c.scan(ctx, model.Query{Job: q.Job, Scope: q.Scope, Partition: q.Partition, From: q.From, To: q.To, BucketSpan: q.BucketSpan}, nil)
	if err != nil {
		return model.RateChart{}, err
	}
	return c.ws.rateChart(ctx, c.drillScan(s.job, q.To), s.out, q)
}

// ProcessEvents implements model.DrillDownBackend. The executions come from
// the cache, restricted to the console's loads.
//
// A live source plugs in here: an Elasticsearch drill-down fetches the
// window from the cluster into the cache (cache.Store.StoreDrillDown) before
// this reads it back, or answers from what the cache already holds for the
// window (cache.Store.DrillDownEvents).
func (c *Console) ProcessEvents(ctx context.Context, q model.ProcessQuery) (model.ProcessPage, error) {
	c.mu.Lock()
	loads := c.settings.Loads
	c.mu.Unlock()
	if c.settings.DrillDown != nil && q.Entity != "" && !q.From.IsZero() && !q.To.IsZero() &&
		(q.Scope == model.ScopeHost || q.Scope == model.ScopeContainer) {
		// A live source: fetch the window (the source caches it, so a second
		// look and offline review read the cache), then answer from the cache
		// like for files. Its events sit in drill-down loads of their own, not
		// in the count loads the console is restricted to.
		w := cache.DrillDownWindow{Scope: sources.Scope(q.Scope), Entity: q.Entity, From: q.From, To: q.To, Executable: q.Executable}
		if _, _, err := c.settings.DrillDown(ctx, w, q.EffectiveLimit()); err != nil {
			return model.ProcessPage{}, err
		}
		page, err := c.ws.processEvents(ctx, q, nil)
		page.Source = "elasticsearch (cached)"
		return page, err
	}
	return c.ws.processEvents(ctx, q, loads)
}

// drillScan is the scan behind a drill-down, with the console's settings.
func (c *Console) drillScan(job engine.Job, to time.Time) Scan {
	c.mu.Lock()
	loads := c.settings.Loads
	c.mu.Unlock()
	// Like the swimlane's scan, from the start of the data (see Console.scan).
	return Scan{Job: job, Options: c.settings.Options, To: to, Selection: c.settings.Selection, Loads: loads}
}

// rareChart builds one entity's chart over the scanned range: its
// executables per bucket, their fleet prevalence, and the job's rare
// records of the entity.
func (w *Workspace) rareChart(ctx context.Context, s Scan, out Outcome, entity string) (model.RareChart, error) {
	span := s.Job.BucketSpan
	axis := model.TimeAxis{Start: out.From, BucketSpan: span, Buckets: int(out.To.Sub(out.From) / span)}
	chart := model.RareChart{Entity: entity, Scope: model.Scope(s.Job.Scope), Axis: axis}

	rows := map[string]*model.RareRow{}
	active := map[int]bool{}
	q := cache.CountQuery{Scope: s.Job.Scope, From: out.From, To: out.To, BucketSpan: span,
		Selection: s.Selection, Loads: s.Loads, Entities: []string{entity}}
	err := w.Store.Counts(ctx, q, func(c engine.Count) error {
		i, ok := axis.BucketAt(time.Unix(c.Bucket, 0))
		if !ok || c.Count <= 0 {
			return nil
		}
		r, ok := rows[c.Executable]
		if !ok {
			r = &model.RareRow{Executable: c.Executable}
			rows[c.Executable] = r
		}
		// Counts arrive bucket by bucket, so a bucket is appended once and
		// in order.
		if n := len(r.Buckets); n == 0 || r.Buckets[n-1] != i {
			r.Buckets = append(r.Buckets, i)
		}
		r.Executions += c.Count
		active[i] = true
		return nil
	})
	if err != nil {
		return chart, fmt.Errorf("rare chart of %s: %w", entity, err)
	}
	chart.ActiveBuckets = len(active)

	fleet, size, err := w.fleetPrevalence(ctx, s, out.From, out.To, rows)
	if err != nil {
		return chart, fmt.Errorf("rare chart of %s: %w", entity, err)
	}
	chart.FleetSize = size
	for exe, r := range rows {
		r.Fleet = fleet[exe]
		chart.Rows = append(chart.Rows, *r)
	}
	slices.SortFunc(chart.Rows, func(a, b model.RareRow) int {
		return cmp.Or(cmp.Compare(len(b.Buckets), len(a.Buckets)), cmp.Compare(b.Executions, a.Executions),
			strings.Compare(a.Executable, b.Executable))
	})

	for _, r := range out.Results.Records {
		if r.Function != string(engine.FunctionRare) || !slices.Contains(recordEntities(r), entity) {
			continue
		}
		if i, ok := axis.BucketAt(time.UnixMilli(r.Timestamp)); ok {
			chart.Marks = append(chart.Marks, model.RareMark{Executable: r.ByFieldValue, Bucket: i, Score: r.RecordScore})
		}
	}
	return chart, nil
}

// fleetPrevalence counts, for each executable of rows, the hosts or
// containers of the scope that ran it in [from, to), and how many ran
// anything. The counts are summed over buckets as long as the range, so the
// cache returns one row per entity and executable rather than per bucket.
func (w *Workspace) fleetPrevalence(ctx context.Context, s Scan, from, to time.Time, rows map[string]*model.RareRow) (map[string]int, int, error) {
	span := to.Sub(from).Truncate(time.Minute) + time.Minute
	seen := map[string]map[string]bool{}
	entities := map[string]bool{}
	q := cache.CountQuery{Scope: s.Job.Scope, From: from, To: to, BucketSpan: span, Selection: s.Selection, Loads: s.Loads}
	err := w.Store.Counts(ctx, q, func(c engine.Count) error {
		if c.Count <= 0 {
			return nil
		}
		entities[c.Entity] = true
		if _, ok := rows[c.Executable]; !ok {
			return nil
		}
		set := seen[c.Executable]
		if set == nil {
			set = map[string]bool{}
			seen[c.Executable] = set
		}
		set[c.Entity] = true
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("fleet prevalence: %w", err)
	}
	out := make(map[string]int, len(seen))
	for exe, set := range seen {
		out[exe] = len(set)
	}
	return out, len(entities), nil
}

// processEvents reads executions from the cache. With Around set and more
// rows than the cap, it keeps those nearest to Around: the analyst asked
// about that moment, not about the start of the window.
func (w *Workspace) processEvents(ctx context.Context, q model.ProcessQuery, loads []int64) (model.ProcessPage, error) {
	limit := q.EffectiveLimit()
	page := model.ProcessPage{Limit: limit, Source: "cache"}
	if q.Scope != "" && q.Scope != model.ScopeHost && q.Scope != model.ScopeContainer {
		return page, fmt.Errorf("process executions: unknown scope %q", q.Scope)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return page, fmt.Errorf("process executions: the window %s–%s is empty", q.From.UTC().Format(time.RFC3339), q.To.UTC().Format(time.RFC3339))
	}
	base := cache.EventQuery{Scope: sources.Scope(q.Scope), Entity: q.Entity, From: q.From, To: q.To,
		Executable: q.Executable, PID: q.PID, PPID: q.PPID, Loads: loads}
	read := func(eq cache.EventQuery) ([]sources.Event, error) {
		evs, err := w.Store.Events(ctx, eq)
		if err != nil {
			return nil, fmt.Errorf("process executions: %w", err)
		}
		return evs, nil
	}
	around := q.Around
	if around.IsZero() || q.Newest || (!q.From.IsZero() && !around.After(q.From)) || (!q.To.IsZero() && !around.Before(q.To)) {
		eq := base
		eq.Limit, eq.Newest = limit+1, q.Newest
		evs, err := read(eq)
		if err != nil {
			return page, err
		}
		if len(evs) > limit {
			evs, page.Truncated = evs[:limit], true
		}
		page.Rows = toProcesses(evs)
		return page, nil
	}
	before, after := base, base
	before.To, before.Limit, before.Newest = around, limit+1, true
	after.From, after.Limit = around, limit+1
	b, err := read(before)
	if err != nil {
		return page, err
	}
	a, err := read(after)
	if err != nil {
		return page, err
	}
	nb, na := nearest(len(b), len(a), limit)
	page.Truncated = len(b)+len(a) > limit
	slices.Reverse(b[:nb])
	page.Rows = toProcesses(append(b[:nb:nb], a[:na]...))
	return page, nil
}

// nearest splits a cap between the rows before and after a moment: half
// each, and what one side cannot use goes to the other.
func nearest(before, after, limit int) (int, int) {
	nb := min(before, limit/2)
	na := min(after, limit-nb)
	nb = min(before, limit-na)
	return nb, na
}

func toProcesses(evs []sources.Event) []model.Process {
	out := make([]model.Process, len(evs))
	for i := range evs {
		e := &evs[i]
		p := model.Process{
			Time: e.Time.UTC(), Host: e.Host, ContainerID: e.Container.ID, Executable: e.Executable, Name: e.Name,
			Args: e.Args, Title: e.Title, User: e.User.Name, UserID: e.User.ID, AuditUser: e.User.AuditName,
			AuditUserID: e.User.AuditID, PID: e.PID, PPID: e.PPID, WorkingDir: e.WorkingDir, Result: e.Result,
			Syscall: e.Syscall, Action: e.Action,
			Origin: model.ProcessOrigin{File: e.Origin.File, Line: e.Origin.Line, Index: e.Origin.Index, ID: e.Origin.ID},
		}
		if e.Scope() == sources.ScopeContainer {
			p.Container = e.Entity()
		}
		out[i] = p
	}
	return out
}

// rateChart builds the rate drill-down of one entity over a window of the
// scanned range: the model's expectation and band, the job's record
// scores, the split by top executables and the drivers of the focus bucket.
func (w *Workspace) rateChart(ctx context.Context, s Scan, out Outcome, q model.RateChartQuery) (model.RateChart, error) {
	span := s.Job.BucketSpan
	focus := floorTime(q.Focus, span)
	wf, wt := q.WindowFrom, q.WindowTo
	if wf.IsZero() || wt.IsZero() {
		wf, wt = focus.Add(-defaultRateWindow), focus.Add(defaultRateWindow+span)
	}
	wf = maxTime(floorTime(wf, span), out.From)
	wt = minTime(ceilTime(wt, span), out.To)
	if !wf.Before(wt) {
		return model.RateChart{}, fmt.Errorf("rate chart of %s: the window %s–%s lies outside the range %s–%s", q.Entity,
			wf.Format(time.RFC3339), wt.Format(time.RFC3339), out.From.Format(time.RFC3339), out.To.Format(time.RFC3339))
	}
	axis := model.TimeAxis{Start: wf, BucketSpan: span, Buckets: int(wt.Sub(wf) / span)}
	chart := model.RateChart{Entity: q.Entity, Scope: model.Scope(s.Job.Scope), Axis: axis, Focus: -1,
		Points: make([]model.RatePoint, axis.Buckets), Other: make([]int64, axis.Buckets)}
	if i, ok := axis.BucketAt(focus); ok {
		chart.Focus = i
	}

	points, err := w.rateModel(ctx, s, q.Entity)
	if err != nil {
		return chart, fmt.Errorf("rate chart of %s: %w", q.Entity, err)
	}
	for _, p := range points {
		if i, ok := axis.BucketAt(time.UnixMilli(p.Bucket)); ok {
			chart.Points[i] = model.RatePoint{Actual: p.Actual, Typical: p.Typical, Lower: p.Lower, Upper: p.Upper,
				Modelled: true, Learning: p.Learning}
		}
	}
	for _, r := range out.Results.Records {
		if r.Function == string(engine.FunctionRare) || !slices.Contains(recordEntities(r), q.Entity) {
			continue
		}
		if i, ok := axis.BucketAt(time.UnixMilli(r.Timestamp)); ok {
			chart.Points[i].Score = max(chart.Points[i].Score, r.RecordScore)
		}
	}

	// One read covers the window and the history the drivers' usual rates
	// come from.
	histFrom := maxTime(focus.Add(-usualHistory), out.From)
	readFrom := minTime(wf, histFrom)
	readTo := maxTime(wt, minTime(focus.Add(span), out.To))
	series := map[string]*model.ExecutableSeries{}
	atFocus := map[string]int64{}
	history := map[string]int64{}
	cq := cache.CountQuery{Scope: s.Job.Scope, From: readFrom, To: readTo, BucketSpan: span, Selection: s.Selection, Loads: s.Loads}
	if s.Job.Partition != engine.PartitionNone {
		cq.Entities = []string{q.Entity}
	}
	err = w.Store.Counts(ctx, cq, func(c engine.Count) error {
		t := time.Unix(c.Bucket, 0)
		switch {
		case t.Equal(focus):
			atFocus[c.Executable] += c.Count
		case !t.Before(histFrom) && t.Before(focus):
			history[c.Executable] += c.Count
		}
		i, ok := axis.BucketAt(t)
		if !ok {
			return nil
		}
		es := series[c.Executable]
		if es == nil {
			es = &model.ExecutableSeries{Executable: c.Executable, Counts: make([]int64, axis.Buckets)}
			series[c.Executable] = es
		}
		es.Counts[i] += c.Count
		es.Total += c.Count
		return nil
	})
	if err != nil {
		return chart, fmt.Errorf("rate chart of %s: %w", q.Entity, err)
	}

	all := make([]*model.ExecutableSeries, 0, len(series))
	for _, es := range series {
		all = append(all, es)
	}
	slices.SortFunc(all, func(a, b *model.ExecutableSeries) int {
		return cmp.Or(cmp.Compare(atFocus[b.Executable], atFocus[a.Executable]), cmp.Compare(b.Total, a.Total),
			strings.Compare(a.Executable, b.Executable))
	})
	for i, es := range all {
		if i < q.TopOrDefault() {
			chart.Top = append(chart.Top, *es)
			continue
		}
		for b, n := range es.Counts {
			chart.Other[b] += n
		}
	}

	usualBuckets := float64(focus.Sub(histFrom) / span)
	usual := func(exe string) float64 {
		if usualBuckets <= 0 {
			return 0
		}
		return float64(history[exe]) / usualBuckets
	}
	named := map[string]bool{}
	for _, exe := range q.Influencers {
		if named[exe] {
			continue
		}
		named[exe] = true
		chart.Drivers = append(chart.Drivers, model.RateDriver{Executable: exe, Count: atFocus[exe], Usual: usual(exe), Influencer: true})
	}
	var rest []model.RateDriver
	for exe, n := range atFocus {
		if !named[exe] && n > 0 {
			rest = append(rest, model.RateDriver{Executable: exe, Count: n, Usual: usual(exe)})
		}
	}
	slices.SortFunc(rest, func(a, b model.RateDriver) int {
		return cmp.Or(cmp.Compare(float64(b.Count)-b.Usual, float64(a.Count)-a.Usual), strings.Compare(a.Executable, b.Executable))
	})
	for _, d := range rest {
		if len(chart.Drivers) >= maxDrivers {
			break
		}
		chart.Drivers = append(chart.Drivers, d)
	}
	return chart, nil
}

// rateModel is the rate model behind a chart: the entity's own, or under
// partition none the fleet's, which RateModel (one entity's counts) cannot
// give.
func (w *Workspace) rateModel(ctx context.Context, s Scan, entity string) ([]engine.ModelPoint, error) {
	if s.Job.Partition != engine.PartitionNone {
		return w.RateModel(ctx, s, entity)
	}
	from, to, err := w.Range(ctx, s.From, s.To, s.Job.BucketSpan)
	if err != nil {
		return nil, err
	}
	opts := s.Options
	opts.KeepModel = true
	q := cache.CountQuery{Scope: s.Job.Scope, From: from, To: to, BucketSpan: s.Job.BucketSpan, Selection: s.Selection, Loads: s.Loads}
	res, err := engine.Run(s.Job, opts, from.Unix(), to.Unix(), func(yield func(engine.Count) error) error {
		return w.Store.Counts(ctx, q, yield)
	})
	if err != nil {
		return nil, err
	}
	return res.Model[""], nil
}

// floorTime and ceilTime round to whole buckets of the Unix epoch, as the
// cache aligns them (time.Truncate counts from year 1, which differs for
// spans that do not divide a day).
func floorTime(t time.Time, d time.Duration) time.Time {
	s := int64(d / time.Second)
	if s <= 0 {
		return t
	}
	return time.Unix(floorDiv(t.Unix(), s)*s, 0).UTC()
}

func ceilTime(t time.Time, d time.Duration) time.Time {
	if f := floorTime(t, d); f.Before(t) {
		return f.Add(d)
	}
	return floorTime(t, d)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

var _ model.DrillDownBackend = (*Console)(nil)
