package engine

import "math"

// Probability thresholds of ml-cpp's scoring, kept under its names.
const (
	// LargestSignificantProbability is the largest probability that scores at all.
	LargestSignificantProbability = 0.05
	// SmallProbability is where the raw score reaches 1 and the cap reaches 100.
	SmallProbability = 1e-4
	// MinusculeProbability is where the raw score reaches 50.
	MinusculeProbability = 1e-50
	// SmallestProbability is the smallest normal double; smaller probabilities
	// are clamped to it and score 100.
	SmallestProbability = 2.2250738585072014e-308
)

// Logarithms of the thresholds (constants, so the package keeps no state).
const (
	minusLogSmall     = 9.210340371976182
	minusLogMinuscule = 115.12925464970229
	minusLogSmallest  = 708.3964185322641
	logLargest        = -2.995732273553991
	logSmall          = -minusLogSmall
)

// AnomalyScore is ml-cpp's raw anomaly score of a probability (CTools::
// anomalyScore): 0 for p >= 0.05; (1/p - 20) / 9980 up to 1 at p = 1e-4;
// linear in -ln p up to 50 at p = 1e-50; linear in -ln p up to 100 at the
// smallest double.
func AnomalyScore(p float64) float64 {
	if !(p < LargestSignificantProbability) { // NaN scores nothing too
		return 0
	}
	p = math.Max(p, SmallestProbability)
	switch {
	case p >= SmallProbability:
		return (1/p - 1/LargestSignificantProbability) /
			(1/SmallProbability - 1/LargestSignificantProbability)
	case p >= MinusculeProbability:
		return 1 + 49*(-math.Log(p)-minusLogSmall)/(minusLogMinuscule-minusLogSmall)
	default:
		return math.Min(100, 50+50*(-math.Log(p)-minusLogMinuscule)/(minusLogSmallest-minusLogMinuscule))
	}
}

// ProbabilityCap is the most a probability may score after normalization, so
// that weak evidence never scores high: 5 at p = 0.05 rising linearly in
// ln p to 100 at p = 1e-4, 100 below (ml-cpp's normalizedScores[3]).
func ProbabilityCap(p float64) float64 {
	if math.IsNaN(p) {
		return 0
	}
	p = math.Max(p, SmallestProbability)
	c := 100 * (0.95*(math.Log(p)-logLargest)/(logSmall-logLargest) + 0.05)
	return math.Max(0, math.Min(100, c))
}

// scoreKnot is one point of the percentile-to-score map.
type scoreKnot struct{ percentile, score float64 }

// scoreKnots are Elastic's default normalized score knot points.
func scoreKnots() [9]scoreKnot {
	return [9]scoreKnot{
		{0, 0}, {70, 1}, {85, 1.2}, {90, 1.5}, {95, 3}, {97, 20}, {99, 50}, {99.9, 90}, {100, 100},
	}
}

// PercentileScore maps a percentile (0-100) of the raw score history to a
// score through Elastic's knots, interpolating linearly between them.
func PercentileScore(percentile float64) float64 {
	if !(percentile > 0) {
		return 0
	}
	if percentile >= 100 {
		return 100
	}
	knots := scoreKnots()
	for i := 1; i < len(knots); i++ {
		if percentile <= knots[i].percentile {
			l, r := knots[i-1], knots[i]
			return l.score + (r.score-l.score)*(percentile-l.percentile)/(r.percentile-l.percentile)
		}
	}
	return 100
}

// discretization is how finely raw scores are binned in the history: ml-cpp's
// DISCRETIZATION_FACTOR, so 0.001 of raw score.
const (
	discretization = 1000
	scoreBins      = 100*discretization + 1
)

// scoreHistory is the job's history of raw scores: exact counts per
// thousandth of raw score in a Fenwick tree, so memory is fixed (under 1 MB)
// whatever the time range, and every query is deterministic.
type scoreHistory struct {
	tree []int64 // 1-based Fenwick tree over bins
	n    int64
}

func newScoreHistory() *scoreHistory {
	return &scoreHistory{tree: make([]int64, scoreBins+1)}
}

func scoreBin(raw float64) int {
	b := int(raw*discretization + 0.5)
	if b < 0 || raw != raw {
		return 0
	}
	if b >= scoreBins {
		return scoreBins - 1
	}
	return b
}

// add records k raw scores equal to raw.
func (h *scoreHistory) add(raw float64, k int64) {
	if k <= 0 {
		return
	}
	h.n += k
	for i := scoreBin(raw) + 1; i <= scoreBins; i += i & -i {
		h.tree[i] += k
	}
}

// countBelow is how many recorded scores fall in bins below bin b.
func (h *scoreHistory) countBelow(b int) int64 {
	var s int64
	for i := b; i > 0; i -= i & -i {
		s += h.tree[i]
	}
	return s
}

// normalize turns a raw score of probability p into a 0-100 score against the
// history so far (which must already hold this bucket's scores): the mean of
// the knot scores at the lower and upper percentile of its bin (the share of
// history strictly below it and at or below it), capped by ProbabilityCap.
func (h *scoreHistory) normalize(raw, p float64) float64 {
	if !(raw > 0) || h.n == 0 {
		return 0
	}
	b := scoreBin(raw)
	below := h.countBelow(b)
	atOrBelow := h.countBelow(b + 1)
	n := float64(h.n)
	s := (PercentileScore(100*float64(below)/n) + PercentileScore(100*float64(atOrBelow)/n)) / 2
	return clampScore(math.Min(s, ProbabilityCap(p)))
}

func clampScore(s float64) float64 {
	if !(s > 0) {
		return 0
	}
	if s > 100 {
		return 100
	}
	return s
}

// Severity is a score band with Elastic's colour and a glyph for terminals
// without colour.
type Severity struct {
	Name  string
	Min   float64 // lowest score in the band
	Glyph string  // one cell wide
	Color string  // Elastic's hex colour
}

// Severities lists the bands from low to critical.
func Severities() []Severity {
	return []Severity{
		{Name: "low", Min: 0, Glyph: " ", Color: "#d2e9f7"},
		{Name: "warning", Min: 3, Glyph: ".", Color: "#8bc8fb"},
		{Name: "minor", Min: 25, Glyph: ":", Color: "#fdec25"},
		{Name: "major", Min: 50, Glyph: "+", Color: "#fba740"},
		{Name: "critical", Min: 75, Glyph: "#", Color: "#fe5050"},
	}
}

// SeverityOf is the band of a 0-100 score: low < 3 <= warning < 25 <= minor
// < 50 <= major < 75 <= critical.
func SeverityOf(score float64) Severity {
	bands := Severities()
	out := bands[0]
	for _, b := range bands[1:] {
		if score >= b.Min {
			out = b
		}
	}
	return out
}
