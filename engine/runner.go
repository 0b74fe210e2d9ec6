package engine

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"time"
)

// Options tune a run. Start from DefaultOptions: the zero value turns fleet
// context off.
type Options struct {
	// FleetContext lets a rare record's score fall when other hosts ran the
	// executable before or in the same bucket, and rise when no host ever
	// ran it (see rareDetector.fleetAdjust). Default on.
	FleetContext bool
	// Location is the time zone of the seasonal model (time of day, day of
	// week); nil means UTC.
	Location *time.Location
	// LearningBuckets is how many buckets with data a partition needs before
	// the rare model scores it; 0 means 20, as Elastic.
	LearningBuckets int
	// RateLearningBuckets is the same for the rate model; 0 means one day of
	// buckets (at least 20), so it has seen a day's shape before it scores.
	RateLearningBuckets int
	// KeepModel keeps the rate model's per-bucket series (ModelPoint) for
	// every partition, or only for ModelPartitions when that is not empty.
	KeepModel       bool
	ModelPartitions []string
	// MinRecordScore drops records scoring below it; 0 keeps every record
	// whose probability is below 0.05.
	MinRecordScore float64
	// MaxInfluencerValues caps the values listed per influencer field in a
	// record; 0 means 10.
	MaxInfluencerValues int
}

// DefaultOptions are the options the console uses: fleet context on.
func DefaultOptions() Options { return Options{FleetContext: true} }

// cell is what a table knows of one executable, packed together so that a
// bucket's work on it stays in one or two cache lines.
type cell struct {
	exe   int32   // global executable id
	first int32   // bucket seq it first ran in
	last  int32   // latest bucket seq it ran in
	prev  int32   // the bucket seq it ran in before last, -1 if none
	runs  int32   // buckets it ran in, the current one included
	day   int32   // rare: local day it was last counted on
	pos   int32   // rare: position in the partition's order, -1 before it is in
	cnt   int64   // count in bucket last
	a     float64 // rate: decayed executions, for its usual share
	b     float64 // rare: day-level concentration, scaled
}

// table holds what one host, one container or the whole fleet ran: the
// executables it ever ran as dense local indices, and this bucket's counts.
type table struct {
	id    int32
	name  string
	ids   idTable // global executable id -> local index
	cells []cell

	present     []int32 // locals that ran in the current bucket
	total       int64   // executions in the current bucket
	lastSeq     int32   // latest bucket seq with data
	dataBuckets int32   // buckets with data before the current one

	// The table's own index from executable name to local index, so a count
	// costs one hash of its string and no trip through the global interner.
	byName strTable
}

func newTable(id int32, name string) *table {
	return &table{id: id, name: name, lastSeq: -1}
}

// local returns the local index of global executable x, creating it.
func (t *table) local(x int32, seq int32) int32 {
	l, ok := t.ids.get(x)
	if !ok {
		l = int32(len(t.cells))
		t.ids.put(x, l)
		t.cells = append(t.cells, cell{exe: x, first: seq, last: -1, prev: -1, day: math.MinInt32, pos: -1})
	}
	return l
}

// add counts n executions of local l in bucket seq, the table's current one.
func (t *table) add(l int32, n int64, seq int32) {
	c := &t.cells[l]
	if c.last != seq {
		c.prev, c.last, c.cnt = c.last, seq, 0
		c.runs++
		t.present = append(t.present, l)
	}
	c.cnt = saturatingAdd(c.cnt, n)
	t.total = saturatingAdd(t.total, n)
}

// saturatingAdd adds two non-negative counts without wrapping around.
func saturatingAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// touch makes seq the table's current bucket, reporting whether it was not yet.
func (t *table) touch(seq int32) bool {
	if t.lastSeq == seq {
		return false
	}
	if t.lastSeq >= 0 {
		t.dataBuckets++
	}
	t.lastSeq = seq
	t.present = t.present[:0]
	t.total = 0
	return true
}

// lookup finds the local index of executable s, creating it.
func (t *table) lookup(s string, names *interner, seed maphash.Seed, seq int32) int32 {
	h := maphash.String(seed, s)
	if l, ok := t.byName.get(h, s); ok {
		return l
	}
	x := names.id(s)
	l, ok := t.ids.get(x)
	if !ok {
		l = t.local(x, seq)
	}
	t.byName.put(h, names.name(x), l)
	return l
}

// hasData reports whether the table ran anything in bucket seq.
func (t *table) hasData(seq int32) bool { return t.lastSeq == seq }

// calendar places a bucket in local time for the seasonal model.
type calendar struct {
	slot    int32 // time-of-day slot of the rate profile
	dow     int32 // 0 = Sunday
	weekend bool
	day     int64 // local days since the epoch
}

// frame is the bucket being processed.
type frame struct {
	seq   int32
	start int64 // Unix seconds
	cal   calendar
}

// candidate is a scored record before normalization.
type candidate struct {
	raw, p float64
	part   int32
	rec    Record
	point  int32 // index of the partition's model point, -1 if none
	sortBy string
}

// detector is one model family: it scores a bucket's partitions (adding every
// raw score to the history and appending candidates) and then learns from it.
type detector interface {
	bucket(r *Runner, f *frame)
	// setPointScore records a bucket's record score in a partition's model series.
	setPointScore(part, point int32, score float64)
	model(r *Runner) map[string][]ModelPoint
}

// Runner runs one job over buckets fed in time order. It keeps memory
// proportional to partitions x executables; only the results grow with time.
// A Runner is not safe for concurrent use.
type Runner struct {
	job  Job
	opts Options
	span int64 // seconds

	started bool
	next    int64 // start of the next bucket to process
	seq     int32 // sequence number of the next bucket

	entityNames *interner
	exeNames    *interner
	seed        maphash.Seed // for the tables' string hashes: never visible in results
	ents        []*table     // per entity
	parts       []*table     // per partition; the same tables as ents unless PartitionNone
	fleet       *table       // the single partition of PartitionNone
	touched     []int32      // entities with data in the current bucket

	det   detector
	hist  *scoreHistory
	cands []candidate

	res        Results
	inflScores map[string]int // influencer key -> index in res.Influencers, per bucket

	profileRes    int64 // seconds per time-of-day slot of the rate profile
	bucketsPerDay float64
}

// NewRunner prepares a run of job.
func NewRunner(job Job, opts Options) (*Runner, error) {
	if err := job.Validate(); err != nil {
		return nil, err
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.LearningBuckets <= 0 {
		opts.LearningBuckets = 20
	}
	if opts.MaxInfluencerValues <= 0 {
		opts.MaxInfluencerValues = 10
	}
	span := int64(job.BucketSpan / time.Second)
	r := &Runner{
		job:           job,
		opts:          opts,
		span:          span,
		entityNames:   newInterner(),
		exeNames:      newInterner(),
		hist:          newScoreHistory(),
		seed:          maphash.MakeSeed(),
		inflScores:    make(map[string]int),
		profileRes:    max(span, 900),
		bucketsPerDay: math.Max(1, 86400/float64(span)),
	}
	if opts.RateLearningBuckets <= 0 {
		r.opts.RateLearningBuckets = max(20, int(r.bucketsPerDay))
	}
	r.res = Results{JobID: job.ID, BucketSpan: span}
	if job.Partition == PartitionNone {
		r.fleet = newTable(0, "")
		r.parts = []*table{r.fleet}
	}
	switch job.Function {
	case FunctionRare:
		r.det = newRareDetector(r)
	default:
		r.det = newRateDetector(r)
	}
	return r, nil
}

// Job is the job the runner runs.
func (r *Runner) Job() Job { return r.job }

// Feed processes one bucket: every count of the job's scope whose bucket
// starts at bucket (Unix seconds, a multiple of the bucket span). Counts may be
// at a finer grain inside the bucket and may repeat an entity and executable;
// counts of another scope are ignored. Buckets skipped since the previous call
// are processed as empty. Buckets must come in time order.
func (r *Runner) Feed(bucket int64, counts []Count) error {
	if bucket%r.span != 0 {
		return fmt.Errorf("%w: %d is not a multiple of %ds", ErrMisaligned, bucket, r.span)
	}
	if r.started && bucket < r.next {
		return fmt.Errorf("%w: bucket %d after %d", ErrOutOfOrder, bucket, r.next-r.span)
	}
	for i := range counts {
		if c := &counts[i]; c.Scope == r.job.Scope && (c.Bucket < bucket || c.Bucket >= bucket+r.span) {
			return fmt.Errorf("%w: count at %d in bucket %d", ErrWrongBucket, c.Bucket, bucket)
		}
	}
	r.advance(bucket)
	r.process(counts)
	return nil
}

// Advance processes every bucket that starts before until as empty unless it
// was fed. Before the first Feed it sets where the run starts. Going back
// before a bucket already processed is an error.
func (r *Runner) Advance(until int64) error {
	start := floorDiv(until, r.span) * r.span
	if until > start {
		start += r.span // a bucket starting before until is complete only when fed
	}
	if !r.started {
		r.started, r.next = true, start
		return nil
	}
	if start < r.next {
		return fmt.Errorf("%w: advance to %d after bucket %d", ErrOutOfOrder, until, r.next-r.span)
	}
	r.advance(start)
	return nil
}

// advance processes empty buckets until the next one starts at bucket.
func (r *Runner) advance(bucket int64) {
	if !r.started {
		r.started, r.next = true, bucket
	}
	for r.next < bucket {
		r.process(nil)
	}
}

// process runs the next bucket with these counts.
func (r *Runner) process(counts []Count) {
	f := frame{seq: r.seq, start: r.next, cal: r.calendarOf(r.next)}
	r.aggregate(&f, counts)
	r.cands = r.cands[:0]
	r.det.bucket(r, &f)
	r.emit(&f)
	r.next += r.span
	r.seq++
}

// aggregate sums the bucket's counts per entity and executable.
func (r *Runner) aggregate(f *frame, counts []Count) {
	r.touched = r.touched[:0]
	none := r.job.Partition == PartitionNone
	var ent *table
	entID := int32(-1)
	for i := range counts {
		c := &counts[i]
		if c.Scope != r.job.Scope || c.Count <= 0 {
			continue
		}
		if r.job.Function == FunctionRare && c.Executable == "" {
			continue // rare compares executables: a count without one says nothing
		}
		e := r.entityNames.id(c.Entity)
		if e != entID {
			entID = e
			if int(e) == len(r.ents) {
				t := newTable(e, r.entityNames.name(e))
				r.ents = append(r.ents, t)
				if !none {
					r.parts = append(r.parts, t)
				}
			}
			ent = r.ents[e]
			if ent.touch(f.seq) {
				r.touched = append(r.touched, e)
			}
		}
		l := ent.lookup(c.Executable, r.exeNames, r.seed, f.seq)
		ent.add(l, c.Count, f.seq)
		if none {
			r.fleet.touch(f.seq)
			r.fleet.add(r.fleet.local(ent.cells[l].exe, f.seq), c.Count, f.seq)
		}
	}
}

// calendarOf places the bucket starting at start in local time.
func (r *Runner) calendarOf(start int64) calendar {
	t := time.Unix(start, 0).In(r.opts.Location)
	_, off := t.Zone()
	local := start + int64(off)
	day := floorDiv(local, 86400)
	wd := t.Weekday()
	return calendar{
		slot:    int32((local - day*86400) / r.profileRes),
		dow:     int32(wd),
		weekend: wd == time.Saturday || wd == time.Sunday,
		day:     day,
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// emit normalizes the bucket's candidates and appends the results.
func (r *Runner) emit(f *frame) {
	ts := f.start * 1000
	var events int64
	for _, e := range r.touched {
		events += r.ents[e].total
	}
	br := BucketResult{ResultType: "bucket", JobID: r.job.ID, Timestamp: ts, BucketSpan: r.span,
		EventCount: events, MaxRecord: -1}
	slices.SortFunc(r.cands, func(a, b candidate) int {
		if c := cmp.Compare(b.raw, a.raw); c != 0 {
			return c
		}
		if c := cmp.Compare(a.p, b.p); c != 0 {
			return c
		}
		return strings.Compare(a.sortBy, b.sortBy)
	})
	clear(r.inflScores)
	for i := range r.cands {
		c := &r.cands[i]
		score := r.hist.normalize(c.raw, c.p)
		if c.point >= 0 {
			r.det.setPointScore(c.part, c.point, score)
		}
		if score <= 0 || score < r.opts.MinRecordScore {
			continue
		}
		rec := c.rec
		rec.ResultType, rec.JobID, rec.Timestamp, rec.BucketSpan = "record", r.job.ID, ts, r.span
		rec.Function, rec.FunctionDescription = string(r.job.Function), r.job.Function.Description()
		rec.RecordScore, rec.InitialRecordScore, rec.Probability = score, score, c.p
		if score > br.AnomalyScore {
			br.AnomalyScore, br.InitialAnomalyScore, br.MaxRecord = score, score, len(r.res.Records)
		}
		br.RecordCount++
		for _, in := range rec.Influencers {
			for _, v := range in.FieldValues {
				r.influence(ts, in.FieldName, v, score, c.p)
			}
		}
		r.res.Records = append(r.res.Records, rec)
	}
	r.res.Buckets = append(r.res.Buckets, br)
}

// influence raises an influencer value's score in this bucket.
func (r *Runner) influence(ts int64, field, value string, score, p float64) {
	key := field + "\x00" + value
	if i, ok := r.inflScores[key]; ok {
		in := &r.res.Influencers[i]
		if score > in.InfluencerScore {
			in.InfluencerScore, in.InitialInfluencerScore = score, score
		}
		in.Probability = math.Min(in.Probability, p)
		return
	}
	r.inflScores[key] = len(r.res.Influencers)
	r.res.Influencers = append(r.res.Influencers, InfluencerResult{
		ResultType: "influencer", JobID: r.job.ID, Timestamp: ts, BucketSpan: r.span,
		FieldName: field, FieldValue: value, InfluencerScore: score, InitialInfluencerScore: score,
		Probability: p,
	})
}

// Results returns a copy of everything found so far.
func (r *Runner) Results() Results {
	out := Results{
		JobID:       r.res.JobID,
		BucketSpan:  r.res.BucketSpan,
		Records:     slices.Clone(r.res.Records),
		Buckets:     slices.Clone(r.res.Buckets),
		Influencers: slices.Clone(r.res.Influencers),
		Model:       r.det.model(r),
	}
	for i := range out.Records {
		rec := &out.Records[i]
		rec.Actual, rec.Typical = slices.Clone(rec.Actual), slices.Clone(rec.Typical)
		if rec.Fleet != nil {
			fc := *rec.Fleet
			rec.Fleet = &fc
		}
		infl := make([]Influencer, len(rec.Influencers))
		for j, in := range rec.Influencers {
			infl[j] = Influencer{FieldName: in.FieldName, FieldValues: slices.Clone(in.FieldValues)}
		}
		if rec.Influencers == nil {
			infl = nil
		}
		rec.Influencers = infl
	}
	return out
}

// Run runs job over [from, to) (Unix seconds) on a stream of counts in time
// order, grouping them into the job's buckets. iterate calls yield for each
// count; an error from either stops the run.
func Run(job Job, opts Options, from, to int64, iterate func(yield func(Count) error) error) (Results, error) {
	r, err := NewRunner(job, opts)
	if err != nil {
		return Results{}, err
	}
	span := r.span
	first := floorDiv(from, span) * span
	if err := r.Advance(first); err != nil {
		return Results{}, err
	}
	var buf []Count
	cur := int64(math.MinInt64)
	flush := func() error {
		if cur == math.MinInt64 {
			return nil
		}
		err := r.Feed(cur, buf)
		buf = buf[:0]
		return err
	}
	err = iterate(func(c Count) error {
		if c.Scope != job.Scope || c.Bucket < from || c.Bucket >= to {
			return nil
		}
		b := floorDiv(c.Bucket, span) * span
		if b != cur {
			if b < cur {
				return fmt.Errorf("%w: count at %d after bucket %d", ErrOutOfOrder, c.Bucket, cur)
			}
			if err := flush(); err != nil {
				return err
			}
			cur = b
		}
		buf = append(buf, c)
		return nil
	})
	if err != nil {
		return Results{}, fmt.Errorf("run %s: %w", job.ID, err)
	}
	if err := flush(); err != nil {
		return Results{}, fmt.Errorf("run %s: %w", job.ID, err)
	}
	if err := r.Advance(to); err != nil {
		return Results{}, err
	}
	return r.Results(), nil
}
