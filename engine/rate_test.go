package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func influencerValues(r Record, field string) []string {
	for _, in := range r.Influencers {
		if in.FieldName == field {
			return in.FieldValues
		}
	}
	return nil
}

func recordAt(res Results, entity string, ts int64) *Record {
	for i := range res.Records {
		if r := &res.Records[i]; r.Entity == entity && r.Timestamp == ts*1000 {
			return r
		}
	}
	return nil
}

func TestRateCopyBurstIsCriticalWithSSHAndSCP(t *testing.T) {
	f := newSynthFleet(8, 9)
	burst := 7*96 + 56 // Monday of the second week, 14:00
	f.inject = func(h, b int, emit func(string, int64)) {
		if h == 3 && b%96 == 40 { // ssh is an ordinary, daily thing on this host
			emit("/usr/bin/ssh", 1)
		}
		if h == 3 && b == burst {
			emit("/usr/bin/ssh", 150)
			emit("/usr/bin/scp", 120)
		}
	}
	opts := DefaultOptions()
	opts.KeepModel = true
	res := runSynth(t, mustJob(t, "host_high_process_rate"), opts, f)
	ts := f.start + int64(burst)*f.span
	r := recordAt(res, "host-03", ts)
	if r == nil {
		t.Fatal("no record for the copy burst")
	}
	if r.RecordScore < 75 {
		t.Errorf("copy burst scored %.1f, want critical", r.RecordScore)
	}
	exes := slices.Clone(influencerValues(*r, FieldExecutable))
	slices.Sort(exes)
	if !slices.Equal(exes, []string{"/usr/bin/scp", "/usr/bin/ssh"}) {
		t.Errorf("executable influencers = %v, want ssh and scp", influencerValues(*r, FieldExecutable))
	}
	if h := influencerValues(*r, FieldHostName); !slices.Equal(h, []string{"host-03"}) {
		t.Errorf("host influencer = %v", h)
	}
	ex := r.Explanation
	if r.Function != "high_non_zero_count" || r.FunctionDescription != "count" || r.Actual[0] < 270 ||
		r.Typical[0] >= ex.UpperConfidenceBound || ex.LowerConfidenceBound > r.Typical[0] ||
		ex.TypicalValue != r.Typical[0] || r.MultiBucketImpact >= 0 || ex.AnomalyType != "spike" {
		t.Errorf("record = %+v", *r)
	}
	if !strings.Contains(r.Why, "/usr/bin/scp, /usr/bin/ssh") || !strings.Contains(r.Why, "expected (95% band") {
		t.Errorf("why = %q", r.Why)
	}
	// The influencer results carry the record's score for both processes.
	found := 0
	for _, in := range res.Influencers {
		if in.Timestamp == ts*1000 && in.FieldName == FieldExecutable && in.InfluencerScore == r.RecordScore {
			found++
		}
	}
	if found != 2 {
		t.Errorf("%d executable influencer results at the burst", found)
	}
	// And the model series shows it with the score.
	for _, p := range res.Model["host-03"] {
		if p.Bucket == ts*1000 && (p.Score != r.RecordScore || p.Actual != r.Actual[0]) {
			t.Errorf("model point %+v", p)
		}
	}
}

func TestRateGentleNightRiseScoresThroughMultiBucket(t *testing.T) {
	f := newSynthFleet(6, 17)
	night := 15 * 96 // Tuesday of the third week, from midnight
	f.inject = func(h, b int, emit func(string, int64)) {
		if h == 4 && b >= night+4 && b < night+24 { // 01:00 to 06:00: about 5 become 15
			emit(synthExe(0), 5)
			emit(synthExe(1), 3)
			emit(synthExe(2), 2)
		}
	}
	res := runSynth(t, mustJob(t, "host_high_process_rate"), DefaultOptions(), f)
	best := Record{}
	for _, r := range res.Records {
		ts := (r.Timestamp/1000 - f.start) / f.span
		if r.Entity == "host-04" && ts >= int64(night) && ts < int64(night)+30 && r.RecordScore > best.RecordScore {
			best = r
		}
	}
	if best.RecordScore < 50 {
		t.Fatalf("night rise scored at most %.1f", best.RecordScore)
	}
	if best.MultiBucketImpact <= 0 || !strings.HasPrefix(best.Why, "sustained rise") ||
		best.Explanation.MultiBucketProbability >= best.Explanation.SingleBucketProbability {
		t.Errorf("top record of the rise is not multi-bucket: %+v", best)
	}
	if best.Explanation.MultiBucketActual <= best.Explanation.MultiBucketTypical {
		t.Errorf("window %v vs %v", best.Explanation.MultiBucketActual, best.Explanation.MultiBucketTypical)
	}
}

func TestRateSecondSpreeStillScores(t *testing.T) {
	f := newSynthFleet(6, 10)
	f.inject = func(h, b int, emit func(string, int64)) {
		if h == 2 && (b == 7*96+56 || b == 8*96+56) {
			emit("/usr/bin/ssh", 200)
			emit("/usr/bin/scp", 150)
		}
	}
	res := runSynth(t, mustJob(t, "host_high_process_rate"), DefaultOptions(), f)
	// The first is critical; one spree must not teach the model that sprees
	// are normal, so the second still makes a record of note.
	for i, b := range []int{7*96 + 56, 8*96 + 56} {
		r := recordAt(res, "host-02", f.start+int64(b)*f.span)
		if want := []float64{75, 25}[i]; r == nil || r.RecordScore < want {
			t.Errorf("spree %d: %+v, want a score of at least %v", i+1, r, want)
		}
	}
}

func TestRateModelSeries(t *testing.T) {
	f := newSynthFleet(3, 3)
	f.inject = func(h, b int, emit func(string, int64)) {
		if h == 0 && b == 200 {
			emit("/usr/bin/ssh", 80)
		}
	}
	opts := DefaultOptions()
	opts.KeepModel = true
	res := runSynth(t, mustJob(t, "host_high_process_rate"), opts, f)
	if len(res.Model) != 3 {
		t.Fatalf("model for %d partitions", len(res.Model))
	}
	scored := map[int64]float64{}
	for _, r := range res.Records {
		if r.Entity == "host-00" {
			scored[r.Timestamp] = r.RecordScore
		}
	}
	pts := res.Model["host-00"]
	var prev int64
	for i, p := range pts {
		if p.Bucket <= prev || p.Lower > p.Typical || p.Typical > p.Upper || p.Lower < 0 {
			t.Fatalf("point %d = %+v", i, p)
		}
		prev = p.Bucket
		if p.Learning != (i < 96) { // one day of observations
			t.Fatalf("point %d: learning = %v", i, p.Learning)
		}
		if p.Score != scored[p.Bucket] {
			t.Fatalf("point %d score %v, record %v", i, p.Score, scored[p.Bucket])
		}
	}
	// Only the chosen partitions, or none at all.
	opts.ModelPartitions = []string{"host-01"}
	if m := runSynth(t, mustJob(t, "host_high_process_rate"), opts, f).Model; len(m) != 1 || len(m["host-01"]) == 0 {
		t.Fatalf("model filter: %d partitions", len(m))
	}
	if m := runSynth(t, mustJob(t, "host_high_process_rate"), DefaultOptions(), f).Model; m != nil {
		t.Fatal("model kept without KeepModel")
	}
}

func TestRateEmptyBuckets(t *testing.T) {
	// A container that runs 4 processes every other bucket.
	feed := func(fn Function) Results {
		opts := DefaultOptions()
		opts.KeepModel = true
		job := mustJob(t, "docker_high_process_rate")
		job.Function = fn
		r, err := NewRunner(job, opts)
		if err != nil {
			t.Fatal(err)
		}
		for b := int64(0); b < 4*96; b++ {
			ts := synthMonday + b*900
			var counts []Count
			if b%2 == 0 {
				counts = []Count{{Scope: ScopeContainer, Entity: "c1", Bucket: ts, Executable: "/bin/sh", Count: 4}}
			}
			if err := r.Feed(ts, counts); err != nil {
				t.Fatal(err)
			}
		}
		return r.Results()
	}
	count := feed(FunctionHighCount) // empty buckets are zeros
	nonZero := feed(FunctionHighNonZeroCount)
	if got := len(count.Model["c1"]); got != 4*96 {
		t.Errorf("high_count modelled %d buckets, want every one", got)
	}
	if got := len(nonZero.Model["c1"]); got != 2*96 {
		t.Errorf("high_non_zero_count modelled %d buckets, want the non-empty ones", got)
	}
	last := nonZero.Model["c1"][len(nonZero.Model["c1"])-1]
	if last.Typical < 3.5 || last.Typical > 4.5 {
		t.Errorf("high_non_zero_count expects %.2f, want about 4", last.Typical)
	}
	last = count.Model["c1"][len(count.Model["c1"])-1]
	if last.Typical > 3.5 {
		t.Errorf("high_count expects %.2f in a bucket that alternates 0 and 4", last.Typical)
	}
	if len(count.Records)+len(nonZero.Records) != 0 {
		t.Errorf("a perfectly regular container made %d records", len(count.Records)+len(nonZero.Records))
	}
}

func TestRateNightLongRiseScoresThroughLongWindow(t *testing.T) {
	// Over seven night hours a host's usual executables rise to about three
	// times their level: a ramp of two hours, three at the peak, a ramp of
	// two. No bucket stands out, and an hour or two of it hardly does.
	f := newSynthFleet(6, 10)
	night := 8*96 + 84 // 21:00 on the ninth day
	f.inject = func(h, b int, emit func(string, int64)) {
		if h != 4 || b < night || b >= night+28 {
			return
		}
		x := b - night
		w := min(1, float64(x+1)/8, float64(28-x)/8)
		if n := int64(math.Round(5 * w)); n > 0 {
			emit(synthExe(0), n)
			emit(synthExe(1), (n+1)/2)
		}
	}
	res := runSynth(t, mustJob(t, "host_high_process_rate"), DefaultOptions(), f)
	best := Record{}
	for _, r := range res.Records {
		ts := (r.Timestamp/1000 - f.start) / f.span
		if r.Entity == "host-04" && ts >= int64(night) && ts < int64(night)+40 && r.RecordScore > best.RecordScore {
			best = r
		}
	}
	t.Logf("best %.1f: %s", best.RecordScore, best.Why)
	if best.RecordScore < 50 {
		t.Fatalf("night rise scored at most %.1f", best.RecordScore)
	}
	if best.Explanation.MultiBucketBuckets != 32 || !strings.Contains(best.Why, "last 32 buckets") {
		t.Errorf("top record of the night is not the long window's: %+v", best)
	}
}

func TestRateBroadBurstOfNewExecutablesScores(t *testing.T) {
	// A build host bursts with the compiler every afternoon. On the ninth day
	// a burst of the same size comes either from the compiler again at
	// another hour, or from twenty executables no burst ever held.
	const host = 3
	build := func(b int) bool { return b%96 == 56 }
	sweep := 8*96 + 66
	run := func(broad bool) *Record {
		f := newSynthFleet(6, 10)
		f.inject = func(h, b int, emit func(string, int64)) {
			if h != host {
				return
			}
			switch {
			case build(b):
				emit("/usr/bin/cc1", 60)
			case b == sweep && broad:
				for k := 0; k < 20; k++ {
					emit(fmt.Sprintf("/usr/bin/recon%02d", k), 3)
				}
			case b == sweep:
				emit("/usr/bin/cc1", 60)
			}
		}
		res := runSynth(t, mustJob(t, "host_high_process_rate"), DefaultOptions(), f)
		return recordAt(res, "host-03", f.start+int64(sweep)*f.span)
	}
	narrow, broad := run(false), run(true)
	if broad == nil || broad.RecordScore < 50 || broad.Explanation.BurstBreadth != 20 ||
		!strings.Contains(broad.Why, "20 executables no burst on any host ran before") {
		t.Fatalf("broad burst: %+v, want major with a breadth of 20", broad)
	}
	if narrow != nil && narrow.RecordScore >= broad.RecordScore {
		t.Errorf("the familiar compiler burst scored %.1f, the broad one %.1f", narrow.RecordScore, broad.RecordScore)
	}
	if narrow != nil && narrow.Explanation.BurstBreadth != 0 {
		t.Errorf("the compiler's burst has breadth %d", narrow.Explanation.BurstBreadth)
	}
	t.Logf("broad %.1f, narrow %v", broad.RecordScore, narrow)
}
