package engine

import (
	"math"
	"testing"
)

// bruteUpperTail sums the pmf of a Poisson or negative binomial from y up.
func bruteUpperTail(y int, mean, variance float64) float64 {
	var logPMF func(k int) float64
	if variance <= mean {
		logPMF = func(k int) float64 {
			lg, _ := math.Lgamma(float64(k) + 1)
			return float64(k)*math.Log(mean) - mean - lg
		}
	} else {
		q := mean / variance
		r := mean * mean / (variance - mean)
		logPMF = func(k int) float64 {
			a, _ := math.Lgamma(float64(k) + r)
			b, _ := math.Lgamma(r)
			c, _ := math.Lgamma(float64(k) + 1)
			return a - b - c + r*math.Log(q) + float64(k)*math.Log1p(-q)
		}
	}
	s := 0.0
	for k := y; k < y+100000; k++ {
		term := math.Exp(logPMF(k))
		s += term
		if term < s*1e-18 && k > int(mean) {
			break
		}
	}
	return s
}

func TestLogUpperTailMatchesSums(t *testing.T) {
	cases := []struct {
		name        string
		y           float64
		mean, varnc float64
	}{
		{"poisson small", 3, 1, 1},
		{"poisson mid", 60, 40, 40},
		{"poisson median", 40, 40, 40},
		{"nb mild", 60, 40, 56},
		{"nb wide", 20, 5, 30},
		{"nb one", 1, 0.5, 0.8},
		{"nb far", 120, 40, 80},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := math.Exp(logUpperTail(c.y, c.mean, c.varnc))
			want := bruteUpperTail(int(c.y), c.mean, c.varnc)
			if want < 1e-12 {
				if math.Abs(got-want) > 1e-12 {
					t.Fatalf("P(X>=%v) = %g, want %g", c.y, got, want)
				}
				return
			}
			if math.Abs(got-want)/want > 1e-7 {
				t.Fatalf("P(X>=%v) = %.12g, want %.12g", c.y, got, want)
			}
		})
	}
}

func TestUpperTailFarOutStaysOrdered(t *testing.T) {
	// A burst far beyond anything representable as a plain probability must
	// still get a finite log and a smaller one the further out it is.
	prev := 0.0
	for _, y := range []float64{100, 300, 1000, 5000, 20000} {
		l := logUpperTail(y, 40, 80)
		if math.IsNaN(l) || math.IsInf(l, 0) || l > 0 {
			t.Fatalf("log tail at %v = %v", y, l)
		}
		if l > prev {
			t.Fatalf("log tail at %v = %v, above %v", y, l, prev)
		}
		prev = l
	}
	if p := upperTailProbability(40, 40, 80); p != 1 {
		t.Fatalf("probability at the mean = %v, want 1", p)
	}
}

func TestCountQuantileBand(t *testing.T) {
	lo, hi := countQuantile(40, 40, -bandZ), countQuantile(40, 40, bandZ)
	// Poisson(40): the exact 2.5% and 97.5% quantiles are 28 and 53.
	if lo < 27 || lo > 29 || hi < 52 || hi > 54 {
		t.Fatalf("band = [%v, %v], want about [28, 53]", lo, hi)
	}
	if q := countQuantile(0.2, 0.3, -bandZ); q != 0 {
		t.Fatalf("lower band of a tiny mean = %v, want 0", q)
	}
}
