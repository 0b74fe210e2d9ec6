package engine_test

import (
	"fmt"

	"github.com/auditlens/auditlens/engine"
)

func ExampleSeverityOf() {
	for _, score := range []float64{0, 12, 40, 60, 99} {
		s := engine.SeverityOf(score)
		fmt.Printf("%4.0f %-8s %q %s\n", score, s.Name, s.Glyph, s.Color)
	}
	// Output:
	//    0 low      " " #d2e9f7
	//   12 warning  "." #8bc8fb
	//   40 minor    ":" #fdec25
	//   60 major    "+" #fba740
	//   99 critical "#" #fe5050
}

func ExampleJobByID() {
	job, err := engine.JobByID("hosts_rare_process_activity_ecs")
	if err != nil {
		panic(err)
	}
	fmt.Println(job.ID, job.Function, job.ByFieldName, job.PartitionFieldName(), job.BucketSpan)
	fmt.Println(job.WithPartition(engine.PartitionNone).PartitionFieldName() == "")
	// Output:
	// host_rare_process rare process.executable host.name 15m0s
	// true
}

func ExampleRunner() {
	job, _ := engine.JobByID("host_rare_process")
	r, _ := engine.NewRunner(job, engine.DefaultOptions())
	start := int64(1709510400) // a bucket boundary
	for b := int64(0); b < 40; b++ {
		t := start + b*900
		counts := []engine.Count{
			{Scope: engine.ScopeHost, Entity: "web-01", Bucket: t, Executable: "/usr/sbin/cron", Count: 2},
			{Scope: engine.ScopeHost, Entity: "web-01", Bucket: t, Executable: "/usr/bin/bash", Count: 5},
		}
		if b == 30 {
			counts = append(counts, engine.Count{Scope: engine.ScopeHost, Entity: "web-01", Bucket: t, Executable: "/tmp/x", Count: 1})
		}
		if err := r.Feed(t, counts); err != nil {
			panic(err)
		}
	}
	for _, rec := range r.Results().Records {
		fmt.Printf("%s %s: %s\n", rec.ByFieldValue, engine.SeverityOf(rec.RecordScore).Name, rec.Why)
	}
	// A first occurrence after 30 buckets of history is only a warning: so
	// short a history cannot vouch for anything rarer than 1 in 31.

	// Output:
	// /tmp/x warning: first time on this host
}
