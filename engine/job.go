package engine

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Function is what a detector measures, named as Elastic ML names it.
type Function string

const (
	// FunctionRare scores executables that are rare for their partition.
	FunctionRare Function = "rare"
	// FunctionHighCount scores buckets with more executions than expected;
	// empty buckets count as zero.
	FunctionHighCount Function = "high_count"
	// FunctionHighNonZeroCount is FunctionHighCount that ignores empty buckets.
	FunctionHighNonZeroCount Function = "high_non_zero_count"
)

// Description is Elastic's function_description for the function.
func (f Function) Description() string {
	switch f {
	case FunctionRare:
		return "rare"
	case FunctionHighCount, FunctionHighNonZeroCount:
		return "count"
	}
	return string(f)
}

// PartitionMode says what a job models separately.
type PartitionMode int

const (
	// PartitionEntity gives each host (or container) its own model: the default.
	PartitionEntity PartitionMode = iota
	// PartitionNone models the whole fleet as one; the host or container is
	// only an influencer. It is the earliest form of Elastic's jobs.
	PartitionNone
)

// String names the mode as the command line spells it.
func (m PartitionMode) String() string {
	switch m {
	case PartitionEntity:
		return "entity"
	case PartitionNone:
		return "none"
	}
	return fmt.Sprintf("PartitionMode(%d)", int(m))
}

// ParsePartitionMode reads "entity" (also "host", "container", "") or "none".
func ParsePartitionMode(s string) (PartitionMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "entity", "host", "host.name", "container", "container.name":
		return PartitionEntity, nil
	case "none":
		return PartitionNone, nil
	}
	return 0, fmt.Errorf("%w: partition %q (want entity or none)", ErrBadJob, s)
}

// Field names, as Elastic's ECS modules spell them.
const (
	FieldHostName      = "host.name"
	FieldContainerName = "container.name"
	FieldExecutable    = "process.executable"
	// DefaultBucketSpan is the span of Elastic's newer security jobs.
	DefaultBucketSpan = 15 * time.Minute
	minBucketSpan     = time.Minute
	maxBucketSpan     = 7 * 24 * time.Hour
)

// Job is one anomaly detection job, as data: what to measure, split by what,
// over which events, in buckets of which span.
type Job struct {
	ID          string
	Description string
	Function    Function
	// ByFieldName is the field whose values the rare function compares
	// (process.executable); empty for count functions.
	ByFieldName string
	// EntityField is the field naming a host or container: host.name or
	// container.name. It is the partition field unless Partition is
	// PartitionNone, and always an influencer.
	EntityField string
	Influencers []string
	BucketSpan  time.Duration
	Scope       Scope
	Partition   PartitionMode
	// ElasticIDs are the ids of the Elastic ML jobs this job stands for;
	// JobByID accepts them too.
	ElasticIDs []string
}

// PartitionFieldName is the partition field as records report it: empty when
// the job models the whole fleet as one.
func (j Job) PartitionFieldName() string {
	if j.Partition == PartitionNone {
		return ""
	}
	return j.EntityField
}

// WithBucketSpan returns the job with another bucket span.
func (j Job) WithBucketSpan(d time.Duration) Job {
	j.BucketSpan = d
	return j
}

// WithPartition returns the job with another partition mode.
func (j Job) WithPartition(m PartitionMode) Job {
	j.Partition = m
	return j
}

// Validate reports what is wrong with a job, if anything.
func (j Job) Validate() error {
	var errs []error
	switch j.Function {
	case FunctionRare:
		if j.ByFieldName == "" {
			errs = append(errs, errors.New("rare needs a by field"))
		}
	case FunctionHighCount, FunctionHighNonZeroCount:
	default:
		errs = append(errs, fmt.Errorf("unknown function %q", j.Function))
	}
	if j.Scope != ScopeHost && j.Scope != ScopeContainer {
		errs = append(errs, fmt.Errorf("unknown scope %q", j.Scope))
	}
	if j.Partition != PartitionEntity && j.Partition != PartitionNone {
		errs = append(errs, fmt.Errorf("unknown partition mode %d", int(j.Partition)))
	}
	if j.BucketSpan < minBucketSpan || j.BucketSpan > maxBucketSpan || j.BucketSpan%time.Second != 0 {
		errs = append(errs, fmt.Errorf("bucket span %s out of range (whole seconds from %s to %s)",
			j.BucketSpan, minBucketSpan, maxBucketSpan))
	}
	if j.EntityField == "" {
		errs = append(errs, errors.New("entity field is required"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: job %q: %w", ErrBadJob, j.ID, errors.Join(errs...))
	}
	return nil
}

// Errors the engine returns; test them with errors.Is.
var (
	ErrUnknownJob  = errors.New("unknown job")
	ErrBadJob      = errors.New("invalid job")
	ErrOutOfOrder  = errors.New("bucket out of time order")
	ErrMisaligned  = errors.New("bucket not aligned to the bucket span")
	ErrWrongBucket = errors.New("count outside its bucket")
)

// Jobs returns the four jobs, in the order the console lists them.
func Jobs() []Job {
	return []Job{
		{
			ID:          "host_rare_process",
			Description: "Rare process on a host: an executable the host seldom or never runs",
			Function:    FunctionRare,
			ByFieldName: FieldExecutable,
			EntityField: FieldHostName,
			Influencers: []string{FieldHostName, FieldExecutable},
			BucketSpan:  DefaultBucketSpan,
			Scope:       ScopeHost,
			Partition:   PartitionEntity,
			ElasticIDs: []string{"hosts_rare_process_activity_ecs", "hosts_rare_process_activity",
				"v3_rare_process_by_host_linux"},
		},
		{
			ID:          "host_high_process_rate",
			Description: "High process rate on a host: more executions than its usual pattern",
			Function:    FunctionHighNonZeroCount,
			EntityField: FieldHostName,
			Influencers: []string{FieldHostName, FieldExecutable},
			BucketSpan:  DefaultBucketSpan,
			Scope:       ScopeHost,
			Partition:   PartitionEntity,
			ElasticIDs:  []string{"hosts_high_count_process_events_ecs", "hosts_high_count_process_events"},
		},
		{
			ID:          "docker_rare_process",
			Description: "Rare process in a container: an executable the container seldom or never runs",
			Function:    FunctionRare,
			ByFieldName: FieldExecutable,
			EntityField: FieldContainerName,
			Influencers: []string{FieldContainerName, FieldExecutable},
			BucketSpan:  DefaultBucketSpan,
			Scope:       ScopeContainer,
			Partition:   PartitionEntity,
			ElasticIDs:  []string{"docker_rare_process_activity_ecs", "docker_rare_process_activity"},
		},
		{
			ID:          "docker_high_process_rate",
			Description: "High process rate in a container: more executions than its usual pattern",
			Function:    FunctionHighCount,
			EntityField: FieldContainerName,
			Influencers: []string{FieldContainerName, FieldExecutable},
			BucketSpan:  DefaultBucketSpan,
			Scope:       ScopeContainer,
			Partition:   PartitionEntity,
			ElasticIDs:  []string{"docker_high_count_process_events_ecs", "docker_high_count_process_events"},
		},
	}
}

// JobByID finds a job by our id or by one of Elastic's ids for it.
func JobByID(id string) (Job, error) {
	want := strings.ToLower(strings.TrimSpace(id))
	for _, j := range Jobs() {
		if j.ID == want {
			return j, nil
		}
		for _, alias := range j.ElasticIDs {
			if alias == want {
				return j, nil
			}
		}
	}
	return Job{}, fmt.Errorf("%w %q", ErrUnknownJob, id)
}
