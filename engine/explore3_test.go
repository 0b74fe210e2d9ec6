package engine

import (
	"fmt"
	"os"
	"testing"
)

func TestExplore3(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	f := newSynthFleet(20, 14)
	f.seed = 2
	f.maxExes = 14
	opts := DefaultOptions()
	opts.KeepModel = true
	opts.ModelPartitions = []string{"host-15"}
	res := runSynth(t, mustJob(t, "host_high_process_rate"), opts, f)
	pts := res.Model["host-15"]
	for d := 0; d < 14; d++ {
		sa, st := 0.0, 0.0
		for _, p := range pts {
			b := int((p.Bucket/1000 - f.start) / 900)
			if b/96 == d && b%96 < 24 {
				sa += p.Actual
				st += p.Typical
			}
		}
		fmt.Printf("day %d night actual %.0f typical %.0f\n", d, sa, st)
	}
	for _, p := range pts[760:780] {
		fmt.Printf("b=%d act=%.0f typ=%.2f [%.1f %.1f] %.1f\n", (p.Bucket/1000-f.start)/900, p.Actual, p.Typical, p.Lower, p.Upper, p.Score)
	}
}
