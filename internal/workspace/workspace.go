// Package workspace ties the cache to the detectors: it runs jobs over the
// cached bucket counts, keeps their results in the cache so an unchanged
// question is answered without running again, and joins in the analyst's
// triage. The command line and the console both ask it; it holds no state of
// its own beyond the store.
package workspace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// engineVersion changes whenever the engine's scoring changes, so results
// cached by an older build are not served as current.
const engineVersion = "3"

// Workspace answers detection questions from one cache.
type Workspace struct {
	Store *cache.Store
	// pinned, for a case file opened with OpenCase, answers the case's jobs
	// with the case's records as they were saved.
	pinned *caseResults
}

// New returns a workspace over store.
func New(store *cache.Store) *Workspace { return &Workspace{Store: store} }

// Scan is one detection question: a job with its settings over a range.
type Scan struct {
	Job     engine.Job
	Options engine.Options
	// From and To bound the range; zero means the cached data's first or
	// last event. Both are rounded out to whole buckets.
	From, To  time.Time
	Selection sources.Selection
	// Loads restricts the scan to these loads (the inputs named on the
	// command line); nil means the whole cache.
	Loads []int64
}

// Outcome is a scan's answer.
type Outcome struct {
	Results engine.Results
	// From and To are the range actually scanned, on bucket boundaries.
	From, To time.Time
	// Cached says the results came from the cache without running the job.
	Cached bool
	// Suppressed are the records skip_result rules took out of Results.
	Suppressed []Suppressed
	// FromCase says the records are a case file's, as they were saved.
	FromCase bool
	// Took is how long the answer took.
	Took time.Duration
}

// ErrNoData says the cache holds nothing to scan.
var ErrNoData = fmt.Errorf("the cache holds no audit data: ingest some first (auditlens ingest --input PATH) or run auditlens demo")

// Range resolves a scan's range: open ends become the data's first and last
// event, and both ends are rounded out to whole buckets.
func (w *Workspace) Range(ctx context.Context, from, to time.Time, span time.Duration) (time.Time, time.Time, error) {
	if from.IsZero() || to.IsZero() {
		first, last, err := w.Store.TimeSpan(ctx)
		if err != nil {
			return from, to, err
		}
		if first.IsZero() {
			return from, to, ErrNoData
		}
		if from.IsZero() {
			from = first
		}
		if to.IsZero() {
			to = last.Add(time.Nanosecond)
		}
	}
	if span <= 0 {
		span = engine.DefaultBucketSpan
	}
	s := int64(span / time.Second)
	f := floorDiv(from.Unix(), s) * s
	t := floorDiv(to.Unix()+s-1, s) * s
	if to.Unix() == t && to.Nanosecond() > 0 {
		t += s
	}
	if t <= f {
		t = f + s
	}
	return time.Unix(f, 0).UTC(), time.Unix(t, 0).UTC(), nil
}

// Detect answers a scan, from the cache when nothing it depends on changed.
// The suppression rules in force apply: skip_model_update rules are part of
// what the results depend on, skip_result rules take records out of the
// answer (into Outcome.Suppressed) over the whole range.
func (w *Workspace) Detect(ctx context.Context, s Scan) (Outcome, error) {
	began := time.Now()
	if err := s.Job.Validate(); err != nil {
		return Outcome{}, err
	}
	from, to, err := w.Range(ctx, s.From, s.To, s.Job.BucketSpan)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{From: from, To: to}
	rules, err := w.rulesInForce(ctx, began)
	if err != nil {
		return out, err
	}
	if w.pinned != nil {
		res, err := w.pinned.results(s, from, to)
		if err != nil {
			return out, err
		}
		out.Results, out.Suppressed = rules.suppress(res, s.Job.Scope)
		out.FromCase = true
		out.Took = time.Since(began)
		return out, nil
	}
	key, err := w.resultKey(ctx, s, from, to, rules.modelKey())
	if err != nil {
		return out, err
	}
	if data, ok, err := w.Store.LoadResults(ctx, key); err != nil {
		return out, err
	} else if ok {
		if err := json.Unmarshal(data, &out.Results); err == nil {
			out.Cached = true
			out.Results, out.Suppressed = rules.suppress(out.Results, s.Job.Scope)
			out.Took = time.Since(began)
			return out, nil
		}
		// An unreadable stored set is recomputed and overwritten below.
	}
	res, err := w.run(ctx, s, from, to, rules)
	if err != nil {
		return out, err
	}
	data, err := json.Marshal(res)
	if err != nil {
		return out, err
	}
	if err := w.Store.SaveResults(ctx, key, s.Job.ID, data); err != nil {
		return out, err
	}
	out.Results, out.Suppressed = rules.suppress(res, s.Job.Scope)
	out.Took = time.Since(began)
	return out, nil
}

// run streams the job's counts out of the cache into the engine, without
// those the model rules keep out.
func (w *Workspace) run(ctx context.Context, s Scan, from, to time.Time, rules ruleSet) (engine.Results, error) {
	q := cache.CountQuery{
		Scope:      s.Job.Scope,
		From:       from,
		To:         to,
		BucketSpan: s.Job.BucketSpan,
		Selection:  s.Selection,
		Loads:      s.Loads,
	}
	res, err := engine.Run(s.Job, s.Options, from.Unix(), to.Unix(), rules.filterCounts(func(yield func(engine.Count) error) error {
		return w.Store.Counts(ctx, q, yield)
	}))
	if err != nil {
		return engine.Results{}, fmt.Errorf("job %s: %w", s.Job.ID, err)
	}
	return res, nil
}

// resultKey names everything a scan's results depend on.
func (w *Workspace) resultKey(ctx context.Context, s Scan, from, to time.Time, modelRules []string) (string, error) {
	version, err := w.Store.DataVersion(ctx)
	if err != nil {
		return "", err
	}
	loads := slices.Clone(s.Loads)
	slices.Sort(loads)
	opts := s.Options
	loc := ""
	if opts.Location != nil {
		loc = opts.Location.String()
	}
	opts.Location = nil
	desc, err := json.Marshal(struct {
		Engine    string
		Job       engine.Job
		Options   engine.Options
		Location  string
		From, To  int64
		Selection sources.Selection
		Loads     []int64
		Data      string
		// Absent without model rules, so keys made before rules existed
		// still match.
		ModelRules []string `json:",omitempty"`
	}{engineVersion, s.Job, opts, loc, from.Unix(), to.Unix(), s.Selection, loads, version, modelRules})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(desc)
	return hex.EncodeToString(sum[:]), nil
}

// RateModel returns the rate model of one entity over a range, for the rate
// chart: actual, typical and the 95% band per bucket. The model of an entity
// does not depend on other entities, so only its counts are read; its scores
// are those of a single-entity run and are not shown as record scores. The
// model rules in force keep their executions out, as in Detect.
func (w *Workspace) RateModel(ctx context.Context, s Scan, entity string) ([]engine.ModelPoint, error) {
	from, to, err := w.Range(ctx, s.From, s.To, s.Job.BucketSpan)
	if err != nil {
		return nil, err
	}
	opts := s.Options
	opts.KeepModel = true
	opts.ModelPartitions = []string{entity}
	q := cache.CountQuery{Scope: s.Job.Scope, From: from, To: to, BucketSpan: s.Job.BucketSpan,
		Selection: s.Selection, Loads: s.Loads, Entities: []string{entity}}
	rules, err := w.rulesInForce(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	res, err := engine.Run(s.Job, opts, from.Unix(), to.Unix(), rules.filterCounts(func(yield func(engine.Count) error) error {
		return w.Store.Counts(ctx, q, yield)
	}))
	if err != nil {
		return nil, err
	}
	if pts, ok := res.Model[entity]; ok {
		return pts, nil
	}
	return res.Model[""], nil
}

// AnomalyID is a record's stable name: the same anomaly found again by a
// later run has the same id, so its triage state carries over.
func AnomalyID(r engine.Record) string {
	entity := r.Entity
	if entity == "" {
		entity = r.PartitionFieldValue
	}
	return fmt.Sprintf("%s|%s|%s|%d", r.JobID, entity, r.ByFieldValue, r.Timestamp/1000)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
