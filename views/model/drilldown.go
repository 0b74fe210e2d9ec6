package model

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The drill-down screens' data: the rare-process chart of one host or
// container, its process executions, and the rate chart of one anomaly. Like
// everything in this package, every string in them is attacker-controlled.

// DrillDownBackend is what the drill-down screens ask for. A Backend that
// also implements it gets the rare-process chart, the process explorer and
// the rate drill-down; the screens reach it through DrillDown. Its calls
// follow Backend's rules: off the UI goroutine, cancelled with their context.
type DrillDownBackend interface {
	// RareChart returns, for one host or container, every executable it ran
	// over the query's range with the buckets it ran in and its fleet
	// prevalence, and the job's rare anomalies of that entity.
	RareChart(ctx context.Context, q RareChartQuery) (RareChart, error)
	// ProcessEvents returns the process executions that match q, oldest
	// first (newest first with q.Newest), at most q.Limit of them.
	ProcessEvents(ctx context.Context, q ProcessQuery) (ProcessPage, error)
	// RateChart returns an entity's executions per bucket over a window with
	// the rate model's expectation and band, the job's record scores, the
	// split by its top executables and the processes that drove the anomaly.
	RateChart(ctx context.Context, q RateChartQuery) (RateChart, error)
}

// ErrNoDrillDown says the backend cannot answer drill-down questions.
var ErrNoDrillDown = errors.New("this data source offers no drill-down")

// DrillDown returns b's drill-down side, or ErrNoDrillDown.
func DrillDown(b Backend) (DrillDownBackend, error) {
	if d, ok := b.(DrillDownBackend); ok {
		return d, nil
	}
	return nil, ErrNoDrillDown
}

// RareChartQuery asks for the rare-process chart of one host or container.
// Job, Partition, From, To and BucketSpan are the swimlane's, so the backend
// answers from the same scan.
type RareChartQuery struct {
	Job        string
	Scope      Scope
	Partition  string
	Entity     string
	From, To   time.Time // zero: the data's first or last event
	BucketSpan time.Duration
}

// RareChart is one entity's executables over the job's buckets.
type RareChart struct {
	Entity string
	Scope  Scope
	Axis   TimeAxis
	// ActiveBuckets is how many buckets the entity ran anything in; an
	// executable's share is of these.
	ActiveBuckets int
	// FleetSize is how many hosts or containers of the scope ran anything
	// in the range, this one included.
	FleetSize int
	// Rows are the executables, most frequent (most buckets) first.
	Rows []RareRow
	// Marks are the job's rare anomalies of this entity in the range.
	Marks []RareMark
}

// RareRow is one executable of a rare chart.
type RareRow struct {
	Executable string
	// Buckets are the indices (into the chart's axis) of the buckets it ran
	// in, ascending.
	Buckets    []int
	Executions int64
	// Fleet is how many hosts or containers ran it in the range, this one
	// included.
	Fleet int
}

// Share is the fraction of the entity's active buckets the executable ran
// in, in [0, 1].
func (r RareRow) Share(active int) float64 {
	if active <= 0 {
		return 0
	}
	return min(float64(len(r.Buckets))/float64(active), 1)
}

// RareMark is one rare anomaly on the chart.
type RareMark struct {
	Executable string
	Bucket     int // index into the chart's axis
	Score      float64
}

// ProcessQuery asks for the process executions of one host or container.
type ProcessQuery struct {
	Scope  Scope
	Entity string
	// From and To bound the window [From, To); zero means unbounded.
	From, To time.Time
	// Executable, when set, keeps only runs of it.
	Executable string
	// PID and PPID, when not zero, keep only the executions of one process
	// id (to find a parent) or those whose parent is one (its children).
	PID, PPID int64
	// Limit caps the rows; 0 means DefaultProcessLimit.
	Limit int
	// Around, when set and more than Limit rows match, keeps the rows
	// nearest to it (half before, half after) instead of the oldest.
	Around time.Time
	// Newest orders newest first, for "the latest execution before t".
	Newest bool
}

// DefaultProcessLimit is the explorer's first row cap.
const DefaultProcessLimit = 1000

// EffectiveLimit is the cap the backend applies.
func (q ProcessQuery) EffectiveLimit() int {
	if q.Limit <= 0 {
		return DefaultProcessLimit
	}
	return q.Limit
}

// ProcessPage is the answer to a ProcessQuery.
type ProcessPage struct {
	Rows []Process
	// Truncated says more executions matched than the cap let through.
	Truncated bool
	// Limit is the cap that was applied.
	Limit int
	// Source says where the rows came from, e.g. "cache".
	Source string
}

// Process is one process execution, with every field the sources give.
type Process struct {
	Time        time.Time
	Host        string
	Container   string // name, or id when unnamed; empty for a host's own
	ContainerID string
	Executable  string
	Name        string // comm
	Args        []string
	Title       string // proctitle
	User        string // effective user name
	UserID      string
	AuditUser   string // login user, fixed across su and sudo
	AuditUserID string
	PID, PPID   int64
	WorkingDir  string
	Result      string // success, fail, or empty when unknown
	Syscall     string
	Action      string
	Origin      ProcessOrigin
}

// ProcessOrigin says where the raw record is: a file and line, or an
// Elasticsearch index and document id.
type ProcessOrigin struct {
	File  string
	Line  int64
	Index string
	ID    string
}

// String writes the origin as file:line or index/id, raw (sanitize it
// before drawing).
func (o ProcessOrigin) String() string {
	switch {
	case o.Index != "" || o.ID != "":
		return o.Index + "/" + o.ID
	case o.File != "" && o.Line > 0:
		return fmt.Sprintf("%s:%d", o.File, o.Line)
	}
	return o.File
}

// UserText is the user as the explorer shows it: the effective user, with
// the login user after it when they differ (root via alice).
func (p Process) UserText() string {
	u := p.User
	if u == "" {
		u = p.UserID
	}
	if p.AuditUser != "" && p.AuditUser != u {
		return u + " (" + p.AuditUser + ")"
	}
	return u
}

// ArgsText is the command line as one string, arguments joined by spaces,
// raw.
func (p Process) ArgsText() string { return strings.Join(p.Args, " ") }

// RateChartQuery asks for the rate drill-down of one anomaly. Job,
// Partition, From, To and BucketSpan are the swimlane's (the model learns
// over that range); Window bounds the part shown.
type RateChartQuery struct {
	Job        string
	Scope      Scope
	Partition  string
	Entity     string
	From, To   time.Time
	BucketSpan time.Duration
	// WindowFrom and WindowTo bound the buckets shown; both are clipped to
	// the range.
	WindowFrom, WindowTo time.Time
	// Focus is the anomaly's bucket: the drivers are counted there.
	Focus time.Time
	// Influencers are the anomaly's executables (its process.executable
	// influencers), listed first among the drivers.
	Influencers []string
	// Top is how many executables to break out; 0 means 5.
	Top int
}

// TopOrDefault is the number of executables broken out.
func (q RateChartQuery) TopOrDefault() int {
	if q.Top <= 0 {
		return 5
	}
	return q.Top
}

// RateChart is an entity's executions per bucket over a window.
type RateChart struct {
	Entity string
	Scope  Scope
	Axis   TimeAxis
	// Points has one entry per bucket of Axis.
	Points []RatePoint
	// Top are the executables broken out, those that ran most in the focus
	// bucket first, then most in the window; Counts has one entry per
	// bucket of Axis.
	Top []ExecutableSeries
	// Other is, per bucket, the executions of every other executable.
	Other []int64
	// Focus is the focus bucket's index in Axis, -1 when outside.
	Focus int
	// Drivers are the processes that drove the focus bucket: the anomaly's
	// influencers first, then the rest by how far they ran above usual.
	Drivers []RateDriver
}

// RatePoint is one bucket of a rate chart.
type RatePoint struct {
	Actual, Typical, Lower, Upper float64
	// Score is the job's highest record score for the entity in the bucket.
	Score float64
	// Modelled is false when the model has no expectation for the bucket
	// (before its first data); Learning is true while it is still learning.
	Modelled, Learning bool
}

// ExecutableSeries is one executable's executions per bucket.
type ExecutableSeries struct {
	Executable string
	Counts     []int64
	Total      int64
}

// RateDriver is one executable's part in the focus bucket.
type RateDriver struct {
	Executable string
	// Count is its executions in the focus bucket.
	Count int64
	// Usual is its mean executions per bucket before the focus bucket
	// (over up to a week of the range).
	Usual float64
	// Influencer is true when the anomaly names it as an influencer.
	Influencer bool
}
