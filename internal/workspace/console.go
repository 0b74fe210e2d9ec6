package workspace

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
	"github.com/auditlens/auditlens/views/model"
)

// Console is the console's backend: it answers the screens' questions from
// the workspace, turning engine results and cached triage into view models.
type Console struct {
	ws       *Workspace
	settings ConsoleSettings

	mu     sync.Mutex
	last   *lastScan // the latest scan, so the table's questions reuse it
	loaded bool      // LoadFirst's load has completed
}

// ConsoleSettings are what the console's questions share.
type ConsoleSettings struct {
	Options   engine.Options
	Selection sources.Selection
	// Loads restricts the console to these loads; nil means the whole cache.
	Loads []int64
	// Reload reads the sources again for a range (r in the console): new or
	// grown files, spans not yet fetched. Nil when the cache is all there is.
	// When it returns loads, the console is restricted to them from then on.
	Reload func(ctx context.Context, from, to time.Time, progress func(model.Progress)) ([]int64, error)
	// LoadFirst runs Reload before the first question, so loading shows its
	// progress in the console and can be cancelled there.
	LoadFirst bool
	// DrillDown fetches a process explorer window from a live source
	// (Elasticsearch) and caches it; nil means the cached events are all
	// there is (files are cached whole).
	DrillDown func(ctx context.Context, w cache.DrillDownWindow, limit int) ([]sources.Event, bool, error)
}

type lastScan struct {
	key     string
	query   model.Query // what was asked, so a rule change can ask again
	out     Outcome
	triage  map[string]cache.Triage
	job     engine.Job
	fetched time.Time
}

// NewConsole returns the console backend over a workspace.
func NewConsole(ws *Workspace, settings ConsoleSettings) *Console {
	return &Console{ws: ws, settings: settings}
}

// job resolves a console query's job with its span and partition.
func (c *Console) job(q model.Query) (engine.Job, error) {
	job, err := engine.JobByID(q.Job)
	if err != nil {
		return job, err
	}
	if q.BucketSpan > 0 {
		job = job.WithBucketSpan(q.BucketSpan)
	}
	if q.Partition == model.PartitionNone {
		job = job.WithPartition(engine.PartitionNone)
	}
	return job, job.Validate()
}

// scan runs (or recalls) the query's job and the job's triage.
func (c *Console) scan(ctx context.Context, q model.Query, progress func(model.Progress)) (*lastScan, error) {
	job, err := c.job(q)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s|%s|%d|%d|%d", job.ID, q.Partition, job.BucketSpan, q.From.UnixNano(), q.To.UnixNano())
	c.mu.Lock()
	last, loaded := c.last, c.loaded
	c.mu.Unlock()
	if last != nil && last.key == key {
		return last, nil
	}
	if c.settings.LoadFirst && !loaded && c.settings.Reload != nil {
		if err := c.reload(ctx, q, progress); err != nil {
			return nil, err
		}
	}
	if progress != nil {
		progress(model.Progress{Stage: "scoring " + job.ID})
	}
	c.mu.Lock()
	loads := c.settings.Loads
	c.mu.Unlock()
	// The jobs always run from the start of the data: a model needs its
	// history, and a score must not change because the analyst looked at a
	// later start (:range narrows the view, it does not rescore). This also
	// shares cached results with auditlens scan.
	out, err := c.ws.Detect(ctx, Scan{Job: job, Options: c.settings.Options, To: q.To,
		Selection: c.settings.Selection, Loads: loads})
	if err != nil {
		return nil, err
	}
	triage, err := c.ws.Store.TriageFor(ctx, job.ID)
	if err != nil {
		return nil, err
	}
	s := &lastScan{key: key, query: q, out: out, triage: triage, job: job, fetched: time.Now()}
	c.mu.Lock()
	c.last = s
	c.mu.Unlock()
	return s, nil
}

// Swimlane builds the overall lane from bucket scores and one lane per
// entity from its records' scores; entities with no anomaly get an empty
// lane, so the whole fleet is listed.
func (c *Console) Swimlane(ctx context.Context, q model.Query, progress func(model.Progress)) (model.Swimlane, error) {
	s, err := c.scan(ctx, q, progress)
	if err != nil {
		return model.Swimlane{}, err
	}
	span := s.job.BucketSpan
	start := s.out.From
	if !q.From.IsZero() && q.From.After(start) {
		sec := int64(span / time.Second) // buckets are aligned to the Unix epoch
		start = time.Unix(floorDiv(q.From.Unix(), sec)*sec, 0).UTC()
		if start.After(s.out.To) {
			start = s.out.To
		}
	}
	axis := model.TimeAxis{Start: start, BucketSpan: span, Buckets: int(s.out.To.Sub(start) / span)}
	lane := model.Swimlane{Job: s.job.ID, Scope: model.Scope(s.job.Scope), Axis: axis, Overall: make([]float64, axis.Buckets)}
	for _, b := range s.out.Results.Buckets {
		if i, ok := axis.BucketAt(time.UnixMilli(b.Timestamp)); ok {
			lane.Overall[i] = max(lane.Overall[i], b.AnomalyScore)
		}
	}
	lanes := map[string]*model.Lane{}
	laneOf := func(entity string) *model.Lane {
		l, ok := lanes[entity]
		if !ok {
			l = &model.Lane{Entity: entity, Scope: lane.Scope, Scores: make([]float64, axis.Buckets)}
			lanes[entity] = l
		}
		return l
	}
	entities, err := c.ws.Store.Entities(ctx, s.job.Scope)
	if err != nil {
		return model.Swimlane{}, err
	}
	for _, e := range entities {
		laneOf(e.Name)
	}
	for _, r := range s.out.Results.Records {
		i, ok := axis.BucketAt(time.UnixMilli(r.Timestamp))
		if !ok {
			continue
		}
		for _, entity := range recordEntities(r) {
			l := laneOf(entity)
			l.Scores[i] = max(l.Scores[i], r.RecordScore)
			if l.States == nil {
				l.States = make([]model.StateSet, axis.Buckets)
			}
			l.States[i] = l.States[i].With(triageState(s.triage[AnomalyID(r)].State))
			lane.Overall[i] = max(lane.Overall[i], r.RecordScore)
		}
	}
	for _, l := range lanes {
		lane.Lanes = append(lane.Lanes, *l)
	}
	slices.SortFunc(lane.Lanes, func(a, b model.Lane) int { return strings.Compare(a.Entity, b.Entity) })
	return lane, nil
}

// recordEntities lists the hosts or containers a record counts for: its
// partition, or under partition none every entity influencing it.
func recordEntities(r engine.Record) []string {
	if r.PartitionFieldValue != "" {
		return []string{r.PartitionFieldValue}
	}
	for _, inf := range r.Influencers {
		if inf.FieldName == engine.FieldHostName || inf.FieldName == engine.FieldContainerName {
			return inf.FieldValues
		}
	}
	if r.Entity != "" {
		return []string{r.Entity}
	}
	return nil
}

// Anomalies lists the records of one selection.
func (c *Console) Anomalies(ctx context.Context, q model.AnomalyQuery) ([]model.Anomaly, error) {
	// The table asks about the swimlane on screen: answer from its scan,
	// whose range and bucket span the query does not repeat.
	c.mu.Lock()
	s := c.last
	c.mu.Unlock()
	if s == nil || s.job.ID != q.Job || (s.job.Partition == engine.PartitionNone) != (q.Partition == model.PartitionNone) {
		var err error
		if s, err = c.scan(ctx, model.Query{Job: q.Job, Scope: q.Scope, Partition: q.Partition}, nil); err != nil {
			return nil, err
		}
	}
	var out []model.Anomaly
	for _, r := range s.out.Results.Records {
		t := time.UnixMilli(r.Timestamp)
		if (!q.From.IsZero() && t.Before(q.From)) || (!q.To.IsZero() && !t.Before(q.To)) {
			continue
		}
		if q.Entity != "" && !slices.Contains(recordEntities(r), q.Entity) {
			continue
		}
		out = append(out, toAnomaly(r, s.job, s.triage[AnomalyID(r)]))
	}
	return out, nil
}

// SetTriage stores a verdict; the anomaly's id carries what the cache keeps
// beside it (job, entity, executable, bucket).
func (c *Console) SetTriage(ctx context.Context, anomalyID string, t model.Triage) (model.Triage, error) {
	stored, err := c.triageOf(anomalyID)
	if err != nil {
		return t, err
	}
	stored.State, stored.Note, stored.UpdatedAt = t.State.String(), t.Note, time.Now().UTC()
	if err := c.ws.Store.SetTriage(ctx, stored); err != nil {
		return t, readOnlyAdvice(err)
	}
	c.mu.Lock()
	if c.last != nil && c.last.job.ID == stored.JobID {
		c.last.triage[anomalyID] = stored
	}
	c.mu.Unlock()
	return model.Triage{State: t.State, Note: t.Note, Updated: stored.UpdatedAt}, nil
}

// triageOf fills what the cache keeps beside a verdict from the anomaly's
// record in the scan on screen. Entity and executable are data and may hold
// '|', so the id is split only when the record is not at hand, and then
// only at its first and last '|' (job ids and buckets never hold one).
func (c *Console) triageOf(anomalyID string) (cache.Triage, error) {
	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	if last != nil {
		for _, r := range last.out.Results.Records {
			if AnomalyID(r) == anomalyID {
				return cache.Triage{AnomalyID: anomalyID, JobID: r.JobID, Entity: firstOr(recordEntities(r), r.Entity),
					Executable: r.ByFieldValue, Bucket: r.Timestamp / 1000}, nil
			}
		}
	}
	first, lastBar := strings.Index(anomalyID, "|"), strings.LastIndex(anomalyID, "|")
	if first <= 0 || lastBar <= first {
		return cache.Triage{}, fmt.Errorf("anomaly id %q is not job|entity|executable|bucket", anomalyID)
	}
	bucket, err := strconv.ParseInt(anomalyID[lastBar+1:], 10, 64)
	if err != nil {
		return cache.Triage{}, fmt.Errorf("anomaly id %q: bad bucket", anomalyID)
	}
	middle := anomalyID[first+1 : lastBar]
	entity, exe, _ := strings.Cut(middle, "|")
	return cache.Triage{AnomalyID: anomalyID, JobID: anomalyID[:first], Entity: entity, Executable: exe, Bucket: bucket}, nil
}

// Run reads the sources again for the range, then forgets the remembered
// scan so the next question scores afresh (from cached results when the data
// did not change).
func (c *Console) Run(ctx context.Context, q model.Query, progress func(model.Progress)) error {
	if c.settings.Reload != nil {
		if err := c.reload(ctx, q, progress); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.last = nil
	c.mu.Unlock()
	_, err := c.scan(ctx, q, progress)
	return err
}

// reload reads the sources and keeps the loads they now occupy.
func (c *Console) reload(ctx context.Context, q model.Query, progress func(model.Progress)) error {
	loads, err := c.settings.Reload(ctx, q.From, q.To, progress)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.loaded = true
	if loads != nil {
		c.settings.Loads = loads
	}
	return nil
}

func triageState(s string) model.TriageState {
	st, err := model.ParseTriageState(s)
	if err != nil || s == "" {
		return model.StateNew
	}
	return st
}

// toAnomaly turns an engine record into a table row.
func toAnomaly(r engine.Record, job engine.Job, t cache.Triage) model.Anomaly {
	a := model.Anomaly{
		ID:             AnomalyID(r),
		Time:           time.UnixMilli(r.Timestamp).UTC(),
		BucketSpan:     time.Duration(r.BucketSpan) * time.Second,
		JobID:          r.JobID,
		Function:       r.Function,
		Detector:       detectorDescription(r),
		Score:          r.RecordScore,
		InitialScore:   r.InitialRecordScore,
		Probability:    r.Probability,
		Scope:          model.Scope(job.Scope),
		PartitionField: r.PartitionFieldName,
		Entity:         firstOr(recordEntities(r), r.Entity),
		ByField:        r.ByFieldName,
		Executable:     r.ByFieldValue,
		Actual:         r.Actual,
		Typical:        r.Typical,
		Why:            r.Why,
	}
	for _, inf := range r.Influencers {
		a.Influencers = append(a.Influencers, model.Influencer{Field: inf.FieldName, Values: inf.FieldValues})
	}
	if t.AnomalyID != "" {
		a.Triage = model.Triage{State: triageState(t.State), Note: t.Note, Updated: t.UpdatedAt}
	}
	return a
}

// detectorDescription reads as Elastic's: rare by "process.executable"
// partitionfield="host.name".
func detectorDescription(r engine.Record) string {
	d := r.Function
	if r.ByFieldName != "" {
		d += fmt.Sprintf(" by %q", r.ByFieldName)
	}
	if r.PartitionFieldName != "" {
		d += fmt.Sprintf(" partitionfield=%q", r.PartitionFieldName)
	}
	return d
}

func firstOr(vs []string, fallback string) string {
	if len(vs) > 0 {
		return vs[0]
	}
	return fallback
}

var _ model.Backend = (*Console)(nil)
