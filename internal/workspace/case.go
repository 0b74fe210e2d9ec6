package workspace

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// Cases: anomalies an analyst collects under a name, with their triage, to
// hand over or review later without the sources.
//
// A case keeps every anomaly's record as it was found, with the settings of
// the scan that found it. A saved case file is a cache of the same schema
// holding the case, the counts and events its screens read, and no more; a
// workspace opened on it with OpenCase answers the case's jobs with the
// saved records rather than running the jobs again. Running them again
// would give other scores: the file holds the case's range only (models
// would learn from less), maybe not the whole fleet (fleet context would
// differ), and score normalization depends on everything the job scored
// before. The saved records are what the analyst saw and triaged.

// ErrNotInCase says a question about a case file asks for a job or settings
// the case holds no anomalies of.
var ErrNotInCase = errors.New("not in this case")

// caseSettings is how a case keeps the scan that found an anomaly: the job's
// settings, the engine's options and the events counted, in names of their
// own so the file does not depend on Go types.
type caseSettings struct {
	JobID               string  `json:"job_id"`
	BucketSpan          int64   `json:"bucket_span"` // seconds
	Partition           string  `json:"partition"`   // entity or none
	FleetContext        bool    `json:"fleet_context"`
	LearningBuckets     int     `json:"learning_buckets,omitempty"`
	RateLearningBuckets int     `json:"rate_learning_buckets,omitempty"`
	MinRecordScore      float64 `json:"min_record_score,omitempty"`
	MaxInfluencerValues int     `json:"max_influencer_values,omitempty"`
	Location            string  `json:"location,omitempty"`
	Events              string  `json:"events"` // executions or all-syscalls
	Loads               []int64 `json:"loads,omitempty"`
}

func settingsOf(s Scan) caseSettings {
	cs := caseSettings{
		JobID:               s.Job.ID,
		BucketSpan:          int64(s.Job.BucketSpan / time.Second),
		Partition:           s.Job.Partition.String(),
		FleetContext:        s.Options.FleetContext,
		LearningBuckets:     s.Options.LearningBuckets,
		RateLearningBuckets: s.Options.RateLearningBuckets,
		MinRecordScore:      s.Options.MinRecordScore,
		MaxInfluencerValues: s.Options.MaxInfluencerValues,
		Events:              cache.SelectionName(s.Selection),
		Loads:               slices.Clone(s.Loads),
	}
	if s.Options.Location != nil {
		cs.Location = s.Options.Location.String()
	}
	return cs
}

// scan rebuilds the scan the settings describe, over [from, to).
func (cs caseSettings) scan(from, to time.Time) (Scan, error) {
	job, err := engine.JobByID(cs.JobID)
	if err != nil {
		return Scan{}, err
	}
	part, err := engine.ParsePartitionMode(cs.Partition)
	if err != nil {
		return Scan{}, err
	}
	job = job.WithBucketSpan(time.Duration(cs.BucketSpan) * time.Second).WithPartition(part)
	if err := job.Validate(); err != nil {
		return Scan{}, err
	}
	opts := engine.DefaultOptions()
	opts.FleetContext = cs.FleetContext
	opts.LearningBuckets, opts.RateLearningBuckets = cs.LearningBuckets, cs.RateLearningBuckets
	opts.MinRecordScore, opts.MaxInfluencerValues = cs.MinRecordScore, cs.MaxInfluencerValues
	if cs.Location != "" {
		if opts.Location, err = time.LoadLocation(cs.Location); err != nil {
			return Scan{}, fmt.Errorf("the case's time zone: %w", err)
		}
	}
	sel := sources.Executions
	switch cs.Events {
	case "executions", "":
	case "all-syscalls":
		sel = sources.AllSyscalls
	default:
		return Scan{}, fmt.Errorf("the case's events %q: want executions or all-syscalls", cs.Events)
	}
	return Scan{Job: job, Options: opts, From: from, To: to, Selection: sel, Loads: slices.Clone(cs.Loads)}, nil
}

// CaseEntry is one anomaly of a case: its record as found, and the scan
// that found it (job, options, events, loads and range).
type CaseEntry struct {
	ID     string
	Record engine.Record
	Scan   Scan
	Added  time.Time
}

// Case is a case with its anomalies decoded.
type Case struct {
	cache.Case
	Entries []CaseEntry
	// File, for a case file, says what it was saved as.
	File *cache.CaseFile
}

// Range is the union of the entries' ranges.
func (c Case) Range() (from, to time.Time) {
	for i, e := range c.Entries {
		if i == 0 || e.Scan.From.Before(from) {
			from = e.Scan.From
		}
		if i == 0 || e.Scan.To.After(to) {
			to = e.Scan.To
		}
	}
	return from, to
}

// Jobs lists the distinct scans (job and settings) of the entries, in the
// order the console lists jobs.
func (c Case) Jobs() []Scan {
	var out []Scan
	for _, e := range c.Entries {
		if !slices.ContainsFunc(out, func(s Scan) bool { return sameJob(s.Job, e.Scan.Job) }) {
			out = append(out, e.Scan)
		}
	}
	order := map[string]int{}
	for i, j := range engine.Jobs() {
		order[j.ID] = i
	}
	slices.SortStableFunc(out, func(a, b Scan) int { return cmp.Compare(order[a.Job.ID], order[b.Job.ID]) })
	return out
}

func sameJob(a, b engine.Job) bool {
	return a.ID == b.ID && a.BucketSpan == b.BucketSpan && a.Partition == b.Partition
}

// Case reads a case. In a case file opened with OpenCase, an empty name is
// the file's case.
func (w *Workspace) Case(ctx context.Context, name string) (Case, error) {
	var file *cache.CaseFile
	if w.pinned != nil {
		f := w.pinned.file
		file = &f
		if name == "" {
			name = f.Case
		}
	}
	c, rows, err := w.Store.Case(ctx, name)
	if err != nil {
		return Case{}, err
	}
	out := Case{Case: c, File: file}
	for _, a := range rows {
		var cs caseSettings
		if err := json.Unmarshal(a.Settings, &cs); err != nil {
			return out, fmt.Errorf("case %q: anomaly %q: settings: %w", name, a.AnomalyID, err)
		}
		s, err := cs.scan(a.From, a.To)
		if err != nil {
			return out, fmt.Errorf("case %q: anomaly %q: %w", name, a.AnomalyID, err)
		}
		var r engine.Record
		if err := json.Unmarshal(a.Record, &r); err != nil {
			return out, fmt.Errorf("case %q: anomaly %q: record: %w", name, a.AnomalyID, err)
		}
		out.Entries = append(out.Entries, CaseEntry{ID: a.AnomalyID, Record: r, Scan: s, Added: a.Added})
	}
	return out, nil
}

// RecordEntities lists the hosts or containers a record is about: its
// partition value, or under partition none the entities that influenced it.
func RecordEntities(r engine.Record) []string { return recordEntities(r) }

// RecordExecutables lists the executables a record is about: a rare
// record's value, a rate record's executable influencers.
func RecordExecutables(r engine.Record) []string { return recordExecutables(r) }

// SpanText writes a bucket span as analysts type it: 15m, 1h, 90s.
func SpanText(d time.Duration) string {
	switch {
	case d > 0 && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d > 0 && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d > 0 && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// JobOfAnomaly is the job id an anomaly id starts with.
func JobOfAnomaly(id string) (string, error) {
	job, _, ok := strings.Cut(id, "|")
	if !ok || job == "" {
		return "", fmt.Errorf("anomaly id %q is not job|entity|executable|bucket (as scan --format ndjson prints it)", id)
	}
	return job, nil
}

// FindAnomaly answers the scan (from cached results when it can) and
// returns the record with the given id, suppressed or not, with the
// outcome it came from.
func (w *Workspace) FindAnomaly(ctx context.Context, s Scan, id string) (engine.Record, Outcome, error) {
	out, err := w.Detect(ctx, s)
	if err != nil {
		return engine.Record{}, out, err
	}
	for _, r := range out.Results.Records {
		if AnomalyID(r) == id {
			return r, out, nil
		}
	}
	for _, sr := range out.Suppressed {
		if AnomalyID(sr.Record) == id {
			return sr.Record, out, nil
		}
	}
	return engine.Record{}, out, fmt.Errorf("no anomaly %q in %s over %s to %s with %s buckets (give the --bucket, --partition, --from and --to of the scan that printed it)",
		id, s.Job.ID, out.From.Format(time.RFC3339), out.To.Format(time.RFC3339), SpanText(s.Job.BucketSpan))
}

// AddToCase adds a record to the named case with the scan that found it
// (its range as resolved in out). A note, when given, becomes the anomaly's
// triage note, its state kept: a case shows the same note the anomalies
// table does.
func (w *Workspace) AddToCase(ctx context.Context, name string, s Scan, out Outcome, r engine.Record, note string) error {
	id := AnomalyID(r)
	settings, err := json.Marshal(settingsOf(s))
	if err != nil {
		return err
	}
	record, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := w.Store.AddToCase(ctx, name, cache.CaseAnomaly{AnomalyID: id, JobID: r.JobID, From: out.From, To: out.To,
		Settings: settings, Record: record}); err != nil {
		return err
	}
	if note == "" {
		return nil
	}
	return w.setNote(ctx, r, note)
}

// setNote sets an anomaly's triage note, keeping its state.
func (w *Workspace) setNote(ctx context.Context, r engine.Record, note string) error {
	id := AnomalyID(r)
	existing, err := w.Store.TriageFor(ctx, r.JobID)
	if err != nil {
		return err
	}
	t, ok := existing[id]
	if !ok {
		t = cache.Triage{AnomalyID: id, JobID: r.JobID, Entity: firstOr(recordEntities(r), r.Entity),
			Executable: r.ByFieldValue, Bucket: r.Timestamp / 1000, State: cache.StateNew}
	}
	t.Note, t.UpdatedAt = note, time.Now().UTC()
	return w.Store.SetTriage(ctx, t)
}

// DrillDownWindow is the process explorer's window around a record, as
// Elastic's: [record time - 1h, record time + bucket span + 1h).
func DrillDownWindow(r engine.Record) (from, to time.Time) {
	t := time.UnixMilli(r.Timestamp).UTC()
	return t.Add(-time.Hour), t.Add(time.Duration(r.BucketSpan)*time.Second + time.Hour)
}

// SaveCase writes the named case as a case file at path: the case, its
// anomalies with their triage, the minute counts of their hosts and
// containers over the case's range (of the whole fleet of those scopes when
// that stays under cache.DefaultFleetRowLimit rows, so the rare chart's
// fleet prevalence stays whole) and the events of every anomaly's drill-down
// window.
func (w *Workspace) SaveCase(ctx context.Context, name, path string, overwrite bool) (cache.SavedCase, error) {
	c, err := w.Case(ctx, name)
	if err != nil {
		return cache.SavedCase{}, err
	}
	if len(c.Entries) == 0 {
		return cache.SavedCase{}, fmt.Errorf("case %q holds no anomaly: add some first", name)
	}
	from, to := c.Range()
	x := cache.CaseExport{Case: c.Name, From: from, To: to, Overwrite: overwrite}
	entities := map[engine.Scope][]string{}
	allLoads := false
	var loads []int64
	for _, e := range c.Entries {
		scope := e.Scan.Job.Scope
		wf, wt := DrillDownWindow(e.Record)
		for _, ent := range recordEntities(e.Record) {
			if !slices.Contains(entities[scope], ent) {
				entities[scope] = append(entities[scope], ent)
			}
			x.Windows = append(x.Windows, cache.EventWindow{Scope: sources.Scope(scope), Entity: ent, From: wf, To: wt})
		}
		if len(e.Scan.Loads) == 0 {
			allLoads = true
		}
		loads = append(loads, e.Scan.Loads...)
	}
	for _, scope := range []engine.Scope{engine.ScopeHost, engine.ScopeContainer} {
		if ents := entities[scope]; len(ents) > 0 {
			slices.Sort(ents)
			x.Counts = append(x.Counts, cache.CountCopy{Scope: scope, Entities: ents})
		}
	}
	if !allLoads {
		slices.Sort(loads)
		x.Loads = slices.Compact(loads)
	}
	return w.Store.SaveCase(ctx, path, x)
}

// caseResults answers a case file's questions with its saved records.
type caseResults struct {
	file    cache.CaseFile
	entries []CaseEntry
}

// OpenCase returns a workspace over a case file's store (see
// cache.OpenCaseFile) and the case: questions about the case's jobs, with
// the settings they were found with, are answered with the case's records
// as saved; drill-downs read the counts and events the file holds.
func OpenCase(ctx context.Context, store *cache.Store) (*Workspace, Case, error) {
	f, err := store.CaseFile(ctx)
	if err != nil {
		return nil, Case{}, err
	}
	w := &Workspace{Store: store, pinned: &caseResults{file: f}}
	c, err := w.Case(ctx, f.Case)
	if err != nil {
		return nil, c, err
	}
	w.pinned.entries = c.Entries
	return w, c, nil
}

// results are the case's records of the scan's job over [from, to), with
// bucket and influencer results derived from them as the engine derives
// them.
func (cr *caseResults) results(s Scan, from, to time.Time) (engine.Results, error) {
	res := engine.Results{JobID: s.Job.ID, BucketSpan: int64(s.Job.BucketSpan / time.Second)}
	var other []string
	for _, e := range cr.entries {
		if e.Scan.Job.ID != s.Job.ID {
			continue
		}
		if !sameJob(e.Scan.Job, s.Job) {
			d := fmt.Sprintf("%s buckets, partition %s", SpanText(e.Scan.Job.BucketSpan), e.Scan.Job.Partition)
			if !slices.Contains(other, d) {
				other = append(other, d)
			}
			continue
		}
		t := time.UnixMilli(e.Record.Timestamp)
		if t.Before(from) || !t.Before(to) {
			continue
		}
		res.Records = append(res.Records, e.Record)
	}
	if len(res.Records) == 0 && len(other) > 0 {
		return res, fmt.Errorf("%w: the case's %s anomalies were found with %s", ErrNotInCase, s.Job.ID, strings.Join(other, "; "))
	}
	if len(res.Records) == 0 && !slices.ContainsFunc(cr.entries, func(e CaseEntry) bool { return e.Scan.Job.ID == s.Job.ID }) {
		return res, fmt.Errorf("%w: the case holds no %s anomaly", ErrNotInCase, s.Job.ID)
	}
	slices.SortStableFunc(res.Records, func(a, b engine.Record) int {
		return cmp.Or(cmp.Compare(a.Timestamp, b.Timestamp), cmp.Compare(b.RecordScore, a.RecordScore))
	})
	touched := map[int64]bool{}
	for _, r := range res.Records {
		if !touched[r.Timestamp] {
			touched[r.Timestamp] = true
			res.Buckets = append(res.Buckets, engine.BucketResult{ResultType: "bucket", JobID: r.JobID, Timestamp: r.Timestamp,
				BucketSpan: r.BucketSpan, MaxRecord: -1})
		}
	}
	res.Buckets, res.Influencers = rebuildBuckets(res.Buckets, nil, res.Records, touched)
	return res, nil
}
