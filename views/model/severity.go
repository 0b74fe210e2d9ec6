package model

import (
	"fmt"
	"math"
	"strings"
)

// Severity is the band of a 0-100 score, as Elastic draws it.
type Severity int

const (
	SeverityNone     Severity = iota // nothing scored
	SeverityLow                      // below 3
	SeverityWarning                  // 3 to 25
	SeverityMinor                    // 25 to 50
	SeverityMajor                    // 50 to 75
	SeverityCritical                 // 75 and above
)

// Severities lists the bands from none to critical, for legends and tables.
func Severities() []Severity {
	return []Severity{SeverityNone, SeverityLow, SeverityWarning, SeverityMinor, SeverityMajor, SeverityCritical}
}

// SeverityOf places a score in its band: low < 3 <= warning < 25 <= minor <
// 50 <= major < 75 <= critical; a score of 0 (or NaN) is no anomaly at all.
func SeverityOf(score float64) Severity {
	switch {
	case !(score > 0): // also NaN
		return SeverityNone
	case score < 3:
		return SeverityLow
	case score < 25:
		return SeverityWarning
	case score < 50:
		return SeverityMinor
	case score < 75:
		return SeverityMajor
	}
	return SeverityCritical
}

func (s Severity) String() string {
	switch s {
	case SeverityLow:
		return "low"
	case SeverityWarning:
		return "warning"
	case SeverityMinor:
		return "minor"
	case SeverityMajor:
		return "major"
	case SeverityCritical:
		return "critical"
	}
	return "none"
}

// Glyph is the severity's mark in a swimlane cell, so colour is never the
// only signal: ' ' none, '.' low, ':' warning, '+' minor, '#' major, '@'
// critical.
func (s Severity) Glyph() byte {
	return " .:+#@"[s.clamp()]
}

// Colour is Elastic's colour for the band, as #rrggbb; empty for none.
func (s Severity) Colour() string {
	return [...]string{"", "#d2e9f7", "#8bc8fb", "#fdec25", "#fba740", "#fe5050"}[s.clamp()]
}

func (s Severity) clamp() Severity {
	if s < SeverityNone || s > SeverityCritical {
		return SeverityNone
	}
	return s
}

// FormatScore writes a score the way the table shows it: whole numbers, and
// "<1" for a score that is there but rounds to nothing.
func FormatScore(score float64) string {
	switch {
	case !(score > 0):
		return "0"
	case score < 1:
		return "<1"
	}
	return fmt.Sprintf("%.0f", math.Floor(score))
}

// FormatValues writes actual or typical values compactly: counts as whole
// numbers, small probabilities with three significant digits.
func FormatValues(vs []float64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = formatValue(v)
	}
	return strings.Join(parts, ",")
}

func formatValue(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Sprint(v)
	case v == math.Trunc(v) && a < 1e15:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.1f", v), "0"), ".")
	}
	return fmt.Sprintf("%.3g", v)
}

// Describe says how actual compares with typical for a rate anomaly, as
// Elastic's anomalies table does ("5x higher", "Unusually high"); it is empty
// for rare anomalies, whose actual and typical are not comparable counts.
func Describe(a Anomaly) string {
	if a.Rare() || len(a.Actual) == 0 || len(a.Typical) == 0 {
		return ""
	}
	actual, typical := a.Actual[0], a.Typical[0]
	switch {
	case actual == typical:
		return ""
	case typical == 0 && actual > 0:
		return "Unexpected non-zero value"
	case actual == 0 && typical > 0:
		return "Unexpected zero value"
	case typical < 0 || actual < 0:
		if actual > typical {
			return "Unusually high"
		}
		return "Unusually low"
	}
	factor := actual / typical
	higher := factor > 1
	if !higher {
		factor = 1 / factor
	}
	word := "higher"
	if !higher {
		word = "lower"
	}
	switch {
	case factor >= 100:
		return "More than 100x " + word
	case factor >= 1.5:
		return fmt.Sprintf("%.0fx %s", math.Round(factor), word)
	case higher:
		return "Unusually high"
	}
	return "Unusually low"
}
