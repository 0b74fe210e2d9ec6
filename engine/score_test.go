package engine

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestAnomalyScore(t *testing.T) {
	cases := []struct {
		name string
		p    float64
		want float64
	}{
		{"certain", 1, 0},
		{"not significant", 0.2, 0},
		{"largest significant", 0.05, 0},
		{"one percent", 0.01, (100 - 20) / 9980.0},
		{"small probability knot", 1e-4, 1},
		{"between small and minuscule", 1e-27, 1 + 49*(27*math.Ln10-minusLogSmall)/(minusLogMinuscule-minusLogSmall)},
		{"minuscule knot", 1e-50, 50},
		{"smallest double", SmallestProbability, 100},
		{"zero clamps to smallest", 0, 100},
		{"denormal clamps to smallest", 1e-320, 100},
		{"not a number", math.NaN(), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := AnomalyScore(c.p); !near(got, c.want, 1e-9) {
				t.Fatalf("AnomalyScore(%g) = %.12g, want %.12g", c.p, got, c.want)
			}
		})
	}
}

func TestAnomalyScoreIsMonotone(t *testing.T) {
	prev := -1.0
	for e := 0.0; e <= 320; e += 0.25 {
		s := AnomalyScore(math.Pow(10, -e))
		if s < prev {
			t.Fatalf("score fell from %v to %v at p = 1e-%v", prev, s, e)
		}
		prev = s
	}
}

func TestPercentileScoreKnots(t *testing.T) {
	cases := []struct{ percentile, want float64 }{
		{-5, 0}, {0, 0}, {35, 0.5}, {70, 1}, {85, 1.2}, {90, 1.5}, {95, 3}, {96, 11.5}, {97, 20},
		{98, 35}, {99, 50}, {99.45, 70}, {99.9, 90}, {99.95, 95}, {100, 100}, {120, 100},
	}
	for _, c := range cases {
		if got := PercentileScore(c.percentile); !near(got, c.want, 1e-9) {
			t.Errorf("PercentileScore(%v) = %v, want %v", c.percentile, got, c.want)
		}
	}
}

func TestProbabilityCap(t *testing.T) {
	cases := []struct{ p, want float64 }{
		{0.05, 5},
		{1e-4, 100},
		{1e-30, 100},
		{math.Sqrt(0.05 * 1e-4), 52.5}, // half way in ln p
		{0.5, 0},                       // above 0.05 the line falls below zero
	}
	for _, c := range cases {
		if got := ProbabilityCap(c.p); !near(got, c.want, 1e-9) {
			t.Errorf("ProbabilityCap(%g) = %v, want %v", c.p, got, c.want)
		}
	}
}

func TestSeverityBands(t *testing.T) {
	cases := []struct {
		score       float64
		name, glyph string
		color       string
	}{
		{0, "low", " ", "#d2e9f7"},
		{2.999, "low", " ", "#d2e9f7"},
		{3, "warning", ".", "#8bc8fb"},
		{24.99, "warning", ".", "#8bc8fb"},
		{25, "minor", ":", "#fdec25"},
		{49.99, "minor", ":", "#fdec25"},
		{50, "major", "+", "#fba740"},
		{74.99, "major", "+", "#fba740"},
		{75, "critical", "#", "#fe5050"},
		{100, "critical", "#", "#fe5050"},
	}
	for _, c := range cases {
		s := SeverityOf(c.score)
		if s.Name != c.name || s.Glyph != c.glyph || s.Color != c.color {
			t.Errorf("SeverityOf(%v) = %+v, want %s %q %s", c.score, s, c.name, c.glyph, c.color)
		}
	}
	bands := Severities()
	for i := 1; i < len(bands); i++ {
		if bands[i].Min <= bands[i-1].Min || len(bands[i].Glyph) != 1 {
			t.Fatalf("bands out of order or glyph not one cell: %+v", bands)
		}
	}
}

func TestScoreHistoryNormalize(t *testing.T) {
	t.Run("zero stays zero", func(t *testing.T) {
		h := newScoreHistory()
		h.add(0, 100)
		if got := h.normalize(0, 0.5); got != 0 {
			t.Fatalf("normalize(0) = %v", got)
		}
	})
	t.Run("top of a quiet history is capped by probability", func(t *testing.T) {
		h := newScoreHistory()
		h.add(0, 9999)
		p := 0.001
		h.add(AnomalyScore(p), 1)
		// Percentiles 99.99 (below) and 100 (at or below) give 99 and 100:
		// the mean is 99.5, so the cap decides.
		if got, want := h.normalize(AnomalyScore(p), p), ProbabilityCap(p); !near(got, want, 1e-9) {
			t.Fatalf("normalize = %v, want the cap %v", got, want)
		}
	})
	t.Run("percentiles at knots", func(t *testing.T) {
		h := newScoreHistory()
		h.add(0, 980)
		h.add(2, 10)  // raw 2: 98% below, 99% at or below
		h.add(60, 10) // raw 60: 99% below, 100% at or below
		p := 1e-200   // the cap is 100 and does not bind
		got := h.normalize(2, p)
		if want := (PercentileScore(98) + PercentileScore(99)) / 2; !near(got, want, 1e-9) {
			t.Fatalf("normalize(2) = %v, want %v", got, want)
		}
		if got, want := h.normalize(60, p), (50+100)/2.0; !near(got, want, 1e-9) {
			t.Fatalf("normalize(60) = %v, want %v", got, want)
		}
	})
	t.Run("bins", func(t *testing.T) {
		if scoreBin(-1) != 0 || scoreBin(math.NaN()) != 0 || scoreBin(1000) != scoreBins-1 || scoreBin(0.0014) != 1 {
			t.Fatal("scoreBin does not clamp or round")
		}
	})
}
