package engine

import (
	"fmt"
	"os"
	"testing"
)

func TestExplore4(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	f := newSynthFleet(6, 10)
	f.inject = func(h, b int, emit func(string, int64)) {
		if h == 4 && b >= 8*96+4 && b < 8*96+24 {
			emit(synthExe(0), 5)
			emit(synthExe(1), 3)
			emit(synthExe(2), 2)
		}
		if h == 2 && (b == 7*96+56 || b == 8*96+56) {
			emit("/usr/bin/ssh", 200)
			emit("/usr/bin/scp", 150)
		}
	}
	opts := DefaultOptions()
	opts.KeepModel = true
	res := runSynth(t, mustJob(t, "host_high_process_rate"), opts, f)
	for _, p := range res.Model["host-04"] {
		b := (p.Bucket/1000 - f.start) / 900
		if b >= 8*96-4 && b < 8*96+30 {
			fmt.Printf("h4 b=%d act=%.0f typ=%.1f [%.1f %.1f] %.1f\n", b, p.Actual, p.Typical, p.Lower, p.Upper, p.Score)
		}
	}
	for _, p := range res.Model["host-02"] {
		b := (p.Bucket/1000 - f.start) / 900
		if (b >= 7*96+54 && b < 7*96+60) || (b >= 8*96+54 && b < 8*96+60) {
			fmt.Printf("h2 b=%d act=%.0f typ=%.1f [%.1f %.1f] %.1f\n", b, p.Actual, p.Typical, p.Lower, p.Upper, p.Score)
		}
	}
	for _, r := range res.Records {
		if r.RecordScore > 10 {
			fmt.Printf("%s b=%d %.1f p=%.3g p1=%.3g pm=%.3g %s\n", r.Entity, (r.Timestamp/1000-f.start)/900, r.RecordScore, r.Probability, r.Explanation.SingleBucketProbability, r.Explanation.MultiBucketProbability, r.Why)
		}
	}
}
