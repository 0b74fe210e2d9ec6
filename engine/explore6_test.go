package engine

import (
	"fmt"
	"math"
	"os"
	"testing"
)

func TestExplore6(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	for _, flat := range []bool{false, true} {
		f := newSynthFleet(6, 9)
		f.flat = flat
		r, _ := NewRunner(mustJob(t, "host_high_process_rate"), DefaultOptions())
		f.each(func(b int64, c []Count) { r.Feed(b, c) })
		d := r.det.(*rateDetector)
		for i, st := range d.states {
			if st == nil {
				continue
			}
			phi := (st.dispE2 - st.dispM1) / st.dispM2
			fmt.Printf("flat=%v part %d rho=%.2f phi=%.3f burstpi=%.4f\n", flat, i, st.mbSq/st.mbW, phi, (st.burstTot/st.burstSc+0.1)/(st.burstObs+10))
		}
		_ = math.Abs
	}
}
