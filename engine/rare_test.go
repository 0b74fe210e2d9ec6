package engine

import (
	"fmt"
	"slices"
	"testing"
)

// recordsFor returns the records about one partition and executable.
func recordsFor(res Results, entity, exe string) []Record {
	var out []Record
	for _, r := range res.Records {
		if r.Entity == entity && r.ByFieldValue == exe {
			out = append(out, r)
		}
	}
	return out
}

func maxScore(rs []Record) float64 {
	m := 0.0
	for _, r := range rs {
		m = max(m, r.RecordScore)
	}
	return m
}

func TestRareFirstOccurrenceScoresHighest(t *testing.T) {
	f := newSynthFleet(6, 9)
	f.maxExes = 16
	day := 96
	f.inject = func(h, b int, emit func(string, int64)) {
		if h != 2 {
			return
		}
		switch b {
		case 1*day + 40, 3*day + 40: // seen twice before
			emit("/usr/bin/strace", 1)
		case 7*day + 50:
			emit("/usr/bin/strace", 2)
		case 7*day + 60:
			emit("/dev/shm/.k/miner", 5)
		}
	}
	res := runSynth(t, mustJob(t, "host_rare_process"), DefaultOptions(), f)
	first := recordsFor(res, "host-02", "/dev/shm/.k/miner")
	if len(first) != 1 {
		t.Fatalf("%d records for the first occurrence", len(first))
	}
	r := first[0]
	if r.RecordScore < 75 {
		t.Errorf("first occurrence scored %.1f (%s), want critical", r.RecordScore, r.Why)
	}
	if !r.Explanation.ByFieldFirstOccurrence || r.Actual[0] != 1 || r.Typical[0] != r.Probability ||
		r.Fleet == nil || !r.Fleet.FirstInFleet || r.Fleet.HostsBefore != 0 || r.Fleet.HostsTotal != 6 ||
		r.PartitionFieldName != FieldHostName || r.PartitionFieldValue != "host-02" ||
		r.ByFieldName != FieldExecutable || r.Function != "rare" || r.FunctionDescription != "rare" {
		t.Errorf("first occurrence record = %+v", r)
	}
	if want := []Influencer{{FieldHostName, []string{"host-02"}}, {FieldExecutable, []string{"/dev/shm/.k/miner"}}}; !slices.EqualFunc(r.Influencers, want, func(a, b Influencer) bool {
		return a.FieldName == b.FieldName && slices.Equal(a.FieldValues, b.FieldValues)
	}) {
		t.Errorf("influencers = %v", r.Influencers)
	}
	seen := recordsFor(res, "host-02", "/usr/bin/strace")
	var third *Record
	for i := range seen {
		if seen[i].Timestamp == (f.start+int64(7*day+50)*f.span)*1000 {
			third = &seen[i]
		}
	}
	if third == nil {
		t.Error("no record for the value seen twice before")
	} else {
		t.Logf("first occurrence %.1f (%s); seen twice before %.1f (%s)", r.RecordScore, r.Why, third.RecordScore, third.Why)
		if third.RecordScore >= r.RecordScore-20 {
			t.Errorf("a value seen twice before scored %.1f, the first occurrence %.1f", third.RecordScore, r.RecordScore)
		}
		if third.Explanation.ByFieldFirstOccurrence || third.Explanation.ByFieldRelativeRarity <= 1 || third.SeenBuckets != 2 || third.LastSeen == 0 {
			t.Errorf("seen-before record = %+v", third)
		}
	}
}

func TestRareLearningPeriod(t *testing.T) {
	run := func(learn int) Results {
		opts := DefaultOptions()
		opts.LearningBuckets = learn
		r, err := NewRunner(mustJob(t, "host_rare_process"), opts)
		if err != nil {
			t.Fatal(err)
		}
		for b := int64(0); b < 60; b++ {
			ts := synthMonday + b*900
			counts := []Count{}
			for j := 0; j < 5; j++ {
				counts = append(counts, Count{Scope: ScopeHost, Entity: "solo", Bucket: ts, Executable: synthExe(j), Count: 2})
			}
			switch b {
			case 10:
				counts = append(counts, Count{Scope: ScopeHost, Entity: "solo", Bucket: ts, Executable: "/early/new", Count: 1})
			case 30:
				counts = append(counts, Count{Scope: ScopeHost, Entity: "solo", Bucket: ts, Executable: "/late/new", Count: 1})
			}
			if err := r.Feed(ts, counts); err != nil {
				t.Fatal(err)
			}
		}
		return r.Results()
	}
	res := run(0)
	if len(recordsFor(res, "solo", "/early/new")) != 0 {
		t.Error("a value new during the 20 learning buckets was scored")
	}
	if len(recordsFor(res, "solo", "/late/new")) != 1 {
		t.Error("a value new after learning was not scored")
	}
	if got := len(run(40).Records); got != 0 {
		t.Errorf("%d records with a 40-bucket learning period", got)
	}
}

// rollout runs a fleet where a new release reaches one host per step buckets
// on day 7 and an implant appears on host 5 on day 8.
func rollout(t *testing.T, fleetContext bool, step int) (Results, int) {
	t.Helper()
	f := newSynthFleet(12, 9)
	f.maxExes = 16
	start := 7*96 + 40
	f.inject = func(h, b int, emit func(string, int64)) {
		if b >= start+h*step {
			emit("/opt/app/bin/app-2.4.1", 2)
		}
		if h == 5 && b == 8*96+20 {
			emit("/var/tmp/.cache/implant", 1)
		}
	}
	opts := DefaultOptions()
	opts.FleetContext = fleetContext
	return runSynth(t, mustJob(t, "host_rare_process"), opts, f), start
}

func TestFleetContextLowersRollout(t *testing.T) {
	res, _ := rollout(t, true, 2)
	implant := maxScore(recordsFor(res, "host-05", "/var/tmp/.cache/implant"))
	if implant < 75 {
		t.Fatalf("implant seen nowhere else scored %.1f, want critical", implant)
	}
	major := 0
	for h := 0; h < 12; h++ {
		rs := recordsFor(res, fmt.Sprintf("host-%02d", h), "/opt/app/bin/app-2.4.1")
		s := maxScore(rs)
		if s >= 50 {
			major++
		}
		if h >= 2 && s > implant-25 {
			t.Errorf("host %d: rollout scored %.1f, implant %.1f", h, s, implant)
		}
		for _, r := range rs {
			if r.Explanation.ByFieldFirstOccurrence && (r.Fleet.HostsBefore != h || r.Fleet.HostsTotal != 12) {
				t.Errorf("host %d: fleet context %+v", h, *r.Fleet)
			}
		}
	}
	if major > 2 {
		t.Errorf("rollout major on %d hosts", major)
	}

	// Switched off, the same rollout is major nearly everywhere: Elastic's answer.
	off, _ := rollout(t, false, 2)
	majorOff := 0
	for h := 0; h < 12; h++ {
		if maxScore(recordsFor(off, fmt.Sprintf("host-%02d", h), "/opt/app/bin/app-2.4.1")) >= 50 {
			majorOff++
		}
	}
	if majorOff < 10 {
		t.Errorf("without fleet context the rollout was major on only %d of 12 hosts", majorOff)
	}
	for _, r := range off.Records {
		if r.Fleet.Weight != 0 || r.Fleet.Applied {
			t.Fatalf("fleet context off but applied: %+v", *r.Fleet)
		}
	}
}

func TestFleetContextSameBucketRollout(t *testing.T) {
	res, start := rollout(t, true, 0)
	for h := 0; h < 12; h++ {
		for _, r := range recordsFor(res, fmt.Sprintf("host-%02d", h), "/opt/app/bin/app-2.4.1") {
			if r.RecordScore >= 25 {
				t.Errorf("host %d: a release reaching every host at once scored %.1f", h, r.RecordScore)
			}
			if r.Timestamp == (synthMonday+int64(start)*900)*1000 && (r.Fleet.HostsSameBucket != 11 || !r.Fleet.FirstInFleet) {
				t.Errorf("host %d: fleet context %+v", h, *r.Fleet)
			}
		}
	}
}

func TestRarePartitionNone(t *testing.T) {
	f := newSynthFleet(5, 4)
	f.maxExes = 14
	f.inject = func(h, b int, emit func(string, int64)) {
		if b == 3*96 && (h == 1 || h == 3) {
			emit("/usr/bin/nc", 1)
		}
	}
	job := mustJob(t, "host_rare_process").WithPartition(PartitionNone)
	res := runSynth(t, job, DefaultOptions(), f)
	var nc *Record
	for i := range res.Records {
		if res.Records[i].ByFieldValue == "/usr/bin/nc" {
			nc = &res.Records[i]
		}
	}
	if nc == nil {
		t.Fatal("no fleet-wide record for /usr/bin/nc")
	}
	if nc.PartitionFieldName != "" || nc.PartitionFieldValue != "" || nc.Entity != "host-01" ||
		!slices.Equal(nc.Influencers[0].FieldValues, []string{"host-01", "host-03"}) ||
		nc.Fleet.HostsSameBucket != 2 || nc.Fleet.HostsTotal != 5 || !nc.Explanation.ByFieldFirstOccurrence {
		t.Fatalf("record = %+v", *nc)
	}
}

func TestRareDailyJobSettles(t *testing.T) {
	f := newSynthFleet(6, 10)
	f.maxExes = 14
	f.inject = func(h, b int, emit func(string, int64)) {
		if h == 4 && b%96 == 30 {
			emit("/usr/local/sbin/backup-db", 1)
		}
	}
	res := runSynth(t, mustJob(t, "host_rare_process"), DefaultOptions(), f)
	for _, r := range recordsFor(res, "host-04", "/usr/local/sbin/backup-db") {
		day := (r.Timestamp/1000 - f.start) / 86400
		if day >= 3 && r.RecordScore >= 25 {
			t.Errorf("day %d: the nightly backup still scores %.1f (%s)", day, r.RecordScore, r.Why)
		}
		if r.RecordScore >= 50 {
			t.Errorf("day %d: the nightly backup scores %.1f on a fresh host", day, r.RecordScore)
		}
	}
}
