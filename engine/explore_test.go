package engine

import (
	"fmt"
	"os"
	"testing"
)

func TestExplore(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	f := newSynthFleet(24, 7)
	f.inject = func(h, b int, emit func(string, int64)) {
		if h == 3 && b == 400 {
			emit("/xxprimef", 1)
		}
		if h == 5 && b == 450 {
			emit("/usr/bin/ssh", 150)
			emit("/usr/bin/scp", 120)
		}
		if b >= 500 && b < 500+24 && h == (b-500) {
			emit("/opt/app/v2/app", 3)
		}
		if b >= 500+h && b >= 500 && (b-500)%2 == 0 && b-500 > 24 {
			emit("/opt/app/v2/app", 1)
		}
		// night rise on host 7 on the night of day 5: 00:00 - 05:00
		if h == 7 && b >= 5*96 && b < 5*96+20 {
			for j := 0; j < 6; j++ {
				emit(synthExe(j), 2)
			}
		}
	}
	for _, id := range []string{"host_rare_process", "host_high_process_rate"} {
		opts := DefaultOptions()
		opts.KeepModel = true
		res := runSynth(t, mustJob(t, id), opts, f)
		fmt.Printf("== %s: %d records\n", id, len(res.Records))
		hist := map[string]int{}
		for _, r := range res.Records {
			hist[SeverityOf(r.RecordScore).Name]++
		}
		fmt.Println(hist)
		if id == "host_high_process_rate" {
			for _, mp := range res.Model["host-07"][470:510] {
				fmt.Printf("b=%d act=%.0f typ=%.1f [%.1f %.1f] score=%.1f\n", (mp.Bucket/1000-f.start)/900, mp.Actual, mp.Typical, mp.Lower, mp.Upper, mp.Score)
			}
		}
		min := 50.0
		if id == "host_high_process_rate" { min = 0 }
		for _, r := range recordsAbove(res, min) {
			fmt.Printf("%d b=%d %s %s score=%.1f p=%.3g mbi=%.2f infl=%v why=%s\n", r.Timestamp/1000, (r.Timestamp/1000-f.start)/900, r.PartitionFieldValue, r.ByFieldValue, r.RecordScore, r.Probability, r.MultiBucketImpact, r.Influencers, r.Why)
		}
	}
}
