package engine

import (
	"fmt"
	"os"
	"testing"
)

func TestExplore5(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	f := newSynthFleet(12, 14)
	f.seed, f.flat, f.maxExes = 2, true, 12
	o := DefaultOptions()
	o.KeepModel = true
	o.ModelPartitions = []string{"host-07"}
	res := runSynth(t, mustJob(t, "host_high_process_rate"), o, f)
	for d := 0; d < 14; d++ {
		sa, st, n := 0.0, 0.0, 0
		for _, p := range res.Model["host-07"] {
			b := int((p.Bucket/1000 - f.start) / 900)
			if b/96 == d {
				sa += p.Actual
				st += p.Typical
				n++
			}
		}
		fmt.Printf("day %d actual %.1f typical %.1f per bucket\n", d, sa/float64(n), st/float64(n))
	}
	for _, p := range res.Model["host-07"] {
		b := int((p.Bucket/1000 - f.start) / 900)
		if b >= 6*96 && b < 6*96+26 {
			fmt.Printf("b=%d %02d:%02d act=%.0f typ=%.1f [%.1f %.1f] %.1f\n", b, b%96/4, b%4*15, p.Actual, p.Typical, p.Lower, p.Upper, p.Score)
		}
	}
}
