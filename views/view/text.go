package view

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Width is the number of terminal cells s takes, escape sequences aside.
func Width(s string) int { return ansi.StringWidth(s) }

// Truncate cuts s to at most w cells, ending in "…" when it cut.
func Truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// TruncateLeft cuts s from the left to at most w cells, starting with "…"
// when it cut; for breadcrumbs and paths, whose end matters most.
func TruncateLeft(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n <= w {
		return s
	}
	return "…" + ansi.TruncateLeft(s, n-w+1, "")
}

// Fit truncates s to w cells and pads it with spaces to exactly w.
func Fit(s string, w int) string {
	s = Truncate(s, w)
	if pad := w - ansi.StringWidth(s); pad > 0 {
		return s + strings.Repeat(" ", pad)
	}
	return s
}

// FitRight is Fit with the text pushed to the right edge, for numbers.
func FitRight(s string, w int) string {
	s = Truncate(s, w)
	if pad := w - ansi.StringWidth(s); pad > 0 {
		return strings.Repeat(" ", pad) + s
	}
	return s
}

// Frame makes s exactly h lines of at most w cells: longer lines are cut,
// missing lines are added empty, extra lines dropped from the bottom. It is
// the last guard that a screen never draws beyond the terminal.
func Frame(s string, w, h int) string {
	if h <= 0 || w <= 0 {
		return ""
	}
	lines := strings.SplitN(s, "\n", h+1)
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "")
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// Wrap breaks plain text into lines of at most w cells, at spaces where it
// can and mid-word where it must.
func Wrap(s string, w int) []string {
	if w <= 0 {
		return nil
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		out = append(out, strings.Split(ansi.Wrap(para, w, ""), "\n")...)
	}
	return out
}

// Center places s in the middle of a line of w cells.
func Center(s string, w int) string {
	s = Truncate(s, w)
	pad := (w - ansi.StringWidth(s)) / 2
	if pad <= 0 {
		return s
	}
	return strings.Repeat(" ", pad) + s
}

// Thousands writes n with comma separators, as counts of a fleet read best.
func Thousands(n int) string {
	s := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return sign + s
}
