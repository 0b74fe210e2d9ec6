package engine

import (
	"fmt"
	"os"
	"testing"
)

func TestExplore2(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	for _, flat := range []bool{false, true} {
		for seed := uint64(1); seed <= 3; seed++ {
			f := newSynthFleet(20, 14)
			f.seed = seed
			f.flat = flat
			f.maxExes = 14
			f.inject = func(h, b int, emit func(string, int64)) {
				if b%96 == 25 {
					emit(fmt.Sprintf("/etc/cron.daily/job-%d", h), 1)
				}
				if b%96 == 30 {
					emit("/usr/sbin/logrotate", 1)
				}
			}
			for _, id := range []string{"host_rare_process", "host_high_process_rate"} {
				res := runSynth(t, mustJob(t, id), DefaultOptions(), f)
				hist := map[string]int{}
				for _, r := range res.Records {
					hist[SeverityOf(r.RecordScore).Name]++
				}
				fmt.Printf("flat=%v seed=%d %s: %d records %v\n", flat, seed, id, len(res.Records), hist)
				for _, r := range recordsAbove(res, 40) {
					fmt.Printf("   b=%d %s %s score=%.1f p=%.3g why=%s\n", (r.Timestamp/1000-f.start)/900, r.PartitionFieldValue, r.ByFieldValue, r.RecordScore, r.Probability, r.Why)
				}
			}
		}
	}
}
