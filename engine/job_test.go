package engine

import (
	"errors"
	"testing"
	"time"
)

func TestJobByID(t *testing.T) {
	cases := []struct {
		id   string
		want string
		fn   Function
	}{
		{"host_rare_process", "host_rare_process", FunctionRare},
		{"hosts_rare_process_activity_ecs", "host_rare_process", FunctionRare},
		{"hosts_rare_process_activity", "host_rare_process", FunctionRare},
		{"v3_rare_process_by_host_linux", "host_rare_process", FunctionRare},
		{"host_high_process_rate", "host_high_process_rate", FunctionHighNonZeroCount},
		{"hosts_high_count_process_events_ecs", "host_high_process_rate", FunctionHighNonZeroCount},
		{"hosts_high_count_process_events", "host_high_process_rate", FunctionHighNonZeroCount},
		{"docker_rare_process", "docker_rare_process", FunctionRare},
		{"docker_rare_process_activity_ecs", "docker_rare_process", FunctionRare},
		{"docker_rare_process_activity", "docker_rare_process", FunctionRare},
		{"docker_high_process_rate", "docker_high_process_rate", FunctionHighCount},
		{"docker_high_count_process_events_ecs", "docker_high_process_rate", FunctionHighCount},
		{" Docker_High_Count_Process_Events ", "docker_high_process_rate", FunctionHighCount},
	}
	for _, c := range cases {
		j, err := JobByID(c.id)
		if err != nil {
			t.Fatalf("JobByID(%q): %v", c.id, err)
		}
		if j.ID != c.want || j.Function != c.fn || j.BucketSpan != 15*time.Minute {
			t.Errorf("JobByID(%q) = %s %s %s", c.id, j.ID, j.Function, j.BucketSpan)
		}
		if err := j.Validate(); err != nil {
			t.Errorf("%s: %v", j.ID, err)
		}
	}
	if _, err := JobByID("hosts_rare_network"); !errors.Is(err, ErrUnknownJob) {
		t.Fatalf("unknown job: err = %v", err)
	}
}

func TestJobsAreData(t *testing.T) {
	jobs := Jobs()
	if len(jobs) != 4 {
		t.Fatalf("%d jobs", len(jobs))
	}
	for _, j := range jobs {
		if j.Scope == ScopeHost && j.EntityField != FieldHostName || j.Scope == ScopeContainer && j.EntityField != FieldContainerName {
			t.Errorf("%s: entity field %s for scope %s", j.ID, j.EntityField, j.Scope)
		}
		if j.Influencers[0] != j.EntityField || j.Influencers[1] != FieldExecutable {
			t.Errorf("%s: influencers %v", j.ID, j.Influencers)
		}
		if j.PartitionFieldName() != j.EntityField {
			t.Errorf("%s: partition field %q", j.ID, j.PartitionFieldName())
		}
		if j.WithPartition(PartitionNone).PartitionFieldName() != "" {
			t.Errorf("%s: partition none still names a partition field", j.ID)
		}
	}
	jobs[0].Influencers[0] = "changed"
	if Jobs()[0].Influencers[0] == "changed" {
		t.Fatal("Jobs shares state between calls")
	}
}

func TestJobValidate(t *testing.T) {
	base := mustJob(t, "host_rare_process")
	cases := []struct {
		name string
		job  Job
	}{
		{"zero span", base.WithBucketSpan(0)},
		{"sub-minute span", base.WithBucketSpan(30 * time.Second)},
		{"fractional seconds", base.WithBucketSpan(90*time.Second + time.Millisecond)},
		{"span over a week", base.WithBucketSpan(8 * 24 * time.Hour)},
		{"bad partition", base.WithPartition(PartitionMode(7))},
		{"bad function", func() Job { j := base; j.Function = "mean"; return j }()},
		{"rare without by field", func() Job { j := base; j.ByFieldName = ""; return j }()},
		{"bad scope", func() Job { j := base; j.Scope = "vm"; return j }()},
	}
	for _, c := range cases {
		if err := c.job.Validate(); !errors.Is(err, ErrBadJob) {
			t.Errorf("%s: err = %v", c.name, err)
		}
		if _, err := NewRunner(c.job, DefaultOptions()); !errors.Is(err, ErrBadJob) {
			t.Errorf("%s: NewRunner err = %v", c.name, err)
		}
	}
	if err := base.WithBucketSpan(time.Hour).WithPartition(PartitionNone).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParsePartitionMode(t *testing.T) {
	for s, want := range map[string]PartitionMode{"": PartitionEntity, "host": PartitionEntity,
		"container.name": PartitionEntity, "none": PartitionNone, " NONE ": PartitionNone} {
		if got, err := ParsePartitionMode(s); err != nil || got != want {
			t.Errorf("ParsePartitionMode(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParsePartitionMode("user"); !errors.Is(err, ErrBadJob) {
		t.Fatalf("err = %v", err)
	}
	if PartitionNone.String() != "none" || PartitionEntity.String() != "entity" {
		t.Fatal("String")
	}
}
