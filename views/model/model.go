// Package model holds what the console's screens show, in the analyst's
// words, and the Backend the console asks for it.
//
// These types are the console's own view of detection results. They follow
// the shape of Elastic ML anomaly records (record score, job id, partition
// value, by-field value, actual, typical, influencers) so the real backend can
// fill them from the engine and the cache without the screens knowing either.
// Every string in them comes from audit data and is attacker-controlled: the
// screens pass each one through safe.Text before drawing it.
package model

import (
	"context"
	"time"
)

// Scope says whether a lane is a host's own processes or a container's.
type Scope string

const (
	ScopeHost      Scope = "host"
	ScopeContainer Scope = "container"
)

// Noun is the analyst's word for the entities of a scope, for counts.
func (s Scope) Noun(n int) string {
	word := "host"
	if s == ScopeContainer {
		word = "container"
	}
	if n != 1 {
		word += "s"
	}
	return word
}

// Other is the scope a toggle switches to.
func (s Scope) Other() Scope {
	if s == ScopeContainer {
		return ScopeHost
	}
	return ScopeContainer
}

// Job is one detection job the analyst can switch between.
type Job struct {
	ID          string // e.g. host_rare_process
	Scope       Scope
	Function    string // rare, high_count, high_non_zero_count
	Description string // one line for the analyst, e.g. "rare process per host"
}

// Rare reports whether the job scores rare executables rather than rates;
// rare records carry no "5x higher" description.
func (j Job) Rare() bool { return j.Function == "rare" }

// DefaultJobs are the four jobs of the detection engine, in the order the
// console cycles through them.
func DefaultJobs() []Job {
	return []Job{
		{ID: "host_rare_process", Scope: ScopeHost, Function: "rare", Description: "rare process per host"},
		{ID: "host_high_process_rate", Scope: ScopeHost, Function: "high_non_zero_count", Description: "high process rate per host"},
		{ID: "docker_rare_process", Scope: ScopeContainer, Function: "rare", Description: "rare process per container"},
		{ID: "docker_high_process_rate", Scope: ScopeContainer, Function: "high_count", Description: "high process rate per container"},
	}
}

// FindJob returns the job with the given id.
func FindJob(jobs []Job, id string) (Job, bool) {
	for _, j := range jobs {
		if j.ID == id {
			return j, true
		}
	}
	return Job{}, false
}

// StepJob returns the job delta places after current among the jobs of the
// same scope, wrapping around; ok is false when current is unknown.
func StepJob(jobs []Job, current string, delta int) (Job, bool) {
	cur, ok := FindJob(jobs, current)
	if !ok {
		return Job{}, false
	}
	var same []Job
	at := 0
	for _, j := range jobs {
		if j.Scope != cur.Scope {
			continue
		}
		if j.ID == cur.ID {
			at = len(same)
		}
		same = append(same, j)
	}
	n := len(same)
	return same[((at+delta)%n+n)%n], true
}

// SiblingJob returns the job of the other scope that does the same kind of
// detection (rare for rare, rate for rate), so switching between hosts and
// containers keeps the question the analyst was asking.
func SiblingJob(jobs []Job, current string) (Job, bool) {
	cur, ok := FindJob(jobs, current)
	if !ok {
		return Job{}, false
	}
	var fallback *Job
	for i, j := range jobs {
		if j.Scope == cur.Scope {
			continue
		}
		if j.Rare() == cur.Rare() {
			return j, true
		}
		if fallback == nil {
			fallback = &jobs[i]
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return Job{}, false
}

// PartitionNone is the partition setting that scores across the whole fleet,
// with the host only as an influencer.
const PartitionNone = "none"

// Query is what the console is looking at: a job over a time range at a
// bucket span. Zero From or To means the data's own first or last event.
type Query struct {
	Job        string
	Scope      Scope
	Partition  string // "" per host or container (the default), or PartitionNone
	From, To   time.Time
	BucketSpan time.Duration
}

// TimeAxis is the bucket grid of a swimlane: Buckets buckets of BucketSpan
// starting at Start.
type TimeAxis struct {
	Start      time.Time
	BucketSpan time.Duration
	Buckets    int
}

// End is the end of the last bucket.
func (a TimeAxis) End() time.Time {
	return a.Start.Add(time.Duration(a.Buckets) * a.BucketSpan)
}

// BucketAt returns the index of the bucket holding t, and false when t lies
// outside the axis.
func (a TimeAxis) BucketAt(t time.Time) (int, bool) {
	if a.BucketSpan <= 0 || t.Before(a.Start) {
		return 0, false
	}
	i := int(t.Sub(a.Start) / a.BucketSpan)
	if i >= a.Buckets {
		return 0, false
	}
	return i, true
}

// BucketStart returns the start of bucket i.
func (a TimeAxis) BucketStart(i int) time.Time {
	return a.Start.Add(time.Duration(i) * a.BucketSpan)
}

// Lane is one host's or container's row of the swimlane.
type Lane struct {
	Entity string // host or container name; attacker-controlled
	Scope  Scope
	// Scores holds, per bucket of the axis, the entity's highest record or
	// influencer score (0-100; 0 when nothing scored).
	Scores []float64
	// States holds, per bucket, which triage states the entity's anomalies in
	// that bucket are in. Nil when the lane has no anomalies at all.
	States []StateSet
}

// Swimlane is the home screen's data: the job's bucket scores and one lane
// per entity over one time axis.
type Swimlane struct {
	Job     string
	Scope   Scope
	Axis    TimeAxis
	Overall []float64 // bucket scores, one per bucket
	Lanes   []Lane
}

// Influencer is one field that influenced an anomaly, with its values.
type Influencer struct {
	Field  string   // e.g. host.name, process.executable, user.name
	Values []string // attacker-controlled
}

// Anomaly is one anomaly record, as a row of the anomalies table.
type Anomaly struct {
	ID         string // stable key for triage
	Time       time.Time
	BucketSpan time.Duration
	JobID      string
	Function   string // rare, high_count, high_non_zero_count
	Detector   string // detector description, e.g. rare by "process.executable" partitionfield="host.name"
	Score      float64
	// InitialScore is the score first given; it differs from Score only if
	// the backend ever renormalizes.
	InitialScore   float64
	Probability    float64
	Scope          Scope
	PartitionField string // host.name, container.name, or "" for partition none
	Entity         string // partition value, or the host influencer for partition none
	ByField        string // process.executable, or "" for rate jobs
	Executable     string // by-field value
	Influencers    []Influencer
	Actual         []float64
	Typical        []float64
	// Why explains the score in the analyst's words, e.g. "first time on
	// web-07; seen on 0 of 40 hosts before". Attacker-controlled parts inside.
	Why    string
	Triage Triage
	// SuppressedBy is the id of the suppression rule that hides the record;
	// empty for a record that is shown.
	SuppressedBy string
}

// Severity of the anomaly's score.
func (a Anomaly) Severity() Severity { return SeverityOf(a.Score) }

// Rare reports whether the anomaly comes from a rare detector.
func (a Anomaly) Rare() bool { return a.Function == "rare" }

// FoundFor is what the anomaly was found for: the executable of a rare
// record, the entity of a rate record.
func (a Anomaly) FoundFor() string {
	if a.Executable != "" {
		return a.Executable
	}
	return a.Entity
}

// Triage is the analyst's verdict on an anomaly.
type Triage struct {
	State   TriageState
	Note    string
	Updated time.Time // zero when never triaged
}

// AnomalyQuery asks for the anomalies of one swimlane selection: one job's
// records for one entity (or every entity when Entity is empty) whose bucket
// starts in [From, To).
type AnomalyQuery struct {
	Job       string
	Scope     Scope
	Partition string
	Entity    string
	From, To  time.Time
}

// Progress reports how far long work has come. Total is 0 when unknown.
type Progress struct {
	Stage string // e.g. "reading audit.log.1", "scoring"; may hold file names
	Done  int64
	Total int64
}

// Backend is what the console asks for data. The console calls it only from
// commands, off the UI goroutine; every call gets a context that is cancelled
// when the analyst cancels, navigates away or quits, and must return promptly
// once it is (leaving the cache consistent).
type Backend interface {
	// Swimlane returns the swimlane of q. It may read sources and run
	// detection for parts of the range not yet cached, reporting progress.
	Swimlane(ctx context.Context, q Query, progress func(Progress)) (Swimlane, error)
	// Anomalies returns the anomalies of one selection, any order.
	Anomalies(ctx context.Context, q AnomalyQuery) ([]Anomaly, error)
	// SetTriage records the analyst's verdict on one anomaly and returns it as
	// stored.
	SetTriage(ctx context.Context, anomalyID string, t Triage) (Triage, error)
	// Run reads the sources and runs detection again over q's range,
	// reporting progress.
	Run(ctx context.Context, q Query, progress func(Progress)) error
}
