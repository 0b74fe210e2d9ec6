package view

import (
	"io"
	"strings"

	"github.com/auditlens/auditlens/views/model"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Paint is a style reduced to the escape sequences that open and close it,
// so hot paths (a swimlane frame has thousands of cells) can wrap runs of
// text without building a lipgloss style per cell.
type Paint struct{ open, close string }

// Apply wraps s in the paint.
func (p Paint) Apply(s string) string {
	if p.open == "" {
		return s
	}
	return p.open + s + p.close
}

// Open is the sequence that starts the paint; empty when it draws nothing.
func (p Paint) Open() string { return p.open }

// Close is the sequence that ends the paint.
func (p Paint) Close() string { return p.close }

// CellKind is how triage changes a swimlane cell's look.
type CellKind int

const (
	CellPlain     CellKind = iota // anomalies not yet triaged, or none
	CellEscalated                 // an escalated anomaly is in the cell
	CellDismissed                 // every anomaly in the cell was put aside
	cellKinds
)

// Theme is the palette, resolved once at start from --color and NO_COLOR
// and never from the terminal (querying its background stalls inside tmux).
type Theme struct {
	// Profile is the colour depth the theme draws with.
	Profile termenv.Profile
	// Colour is false for NO_COLOR and --color=never: attributes (reverse,
	// bold) but no colours.
	Colour bool
	// Plain is true when nothing is styled at all; screens then show the
	// cursor with carets alone.
	Plain bool

	// Cells are the swimlane cell paints by kind, severity and cursor.
	Cells [cellKinds][model.SeverityCritical + 1][2]Paint
	// SeverityText colours a severity's word or glyph in tables.
	SeverityText [model.SeverityCritical + 1]Paint

	Header, Dim, Bold, Selected, SelectedBlur, Cursor                       Paint
	Crumb, CrumbLast, StatusBar, Key, Desc, Error, Notice, Escalated, Match Paint

	help help.Styles
}

// NewTheme builds the theme for a colour profile. colour false keeps
// attributes (reverse video for the cursor, bold headers) but drops colours,
// as NO_COLOR asks; termenv.Ascii draws no escape sequences at all.
func NewTheme(profile termenv.Profile, colour bool) *Theme {
	// The renderer writes nowhere and has its profile and background pinned,
	// so building and drawing styles never inspects or queries the terminal.
	r := lipgloss.NewRenderer(io.Discard, termenv.WithProfile(profile))
	r.SetColorProfile(profile)
	r.SetHasDarkBackground(true)
	if profile == termenv.Ascii {
		colour = false
	}
	t := &Theme{Profile: profile, Colour: colour, Plain: profile == termenv.Ascii}
	s := func() lipgloss.Style { return r.NewStyle() }
	fg := func(st lipgloss.Style, c string) lipgloss.Style {
		if colour && c != "" {
			return st.Foreground(lipgloss.Color(c))
		}
		return st
	}
	bg := func(st lipgloss.Style, c string) lipgloss.Style {
		if colour && c != "" {
			return st.Background(lipgloss.Color(c))
		}
		return st
	}

	for _, sev := range model.Severities() {
		c := sev.Colour()
		plain := s()
		if sev != model.SeverityNone {
			plain = fg(bg(s(), c), "#000000")
		}
		esc := fg(bg(s(), c), "#000000").Bold(true)
		dismissed := fg(s(), c).Faint(!colour)
		for kind, st := range [cellKinds]lipgloss.Style{CellPlain: plain, CellEscalated: esc, CellDismissed: dismissed} {
			t.Cells[kind][sev][0] = paintOf(st)
			t.Cells[kind][sev][1] = paintOf(st.Reverse(true))
		}
		t.SeverityText[sev] = paintOf(fg(s(), c))
	}

	t.Header = paintOf(s().Bold(true).Underline(!colour))
	t.Dim = paintOf(fg(s(), "#808080").Faint(!colour))
	t.Bold = paintOf(s().Bold(true))
	t.Selected = paintOf(s().Reverse(true))
	t.SelectedBlur = paintOf(bg(s(), "#3a3a3a").Underline(!colour))
	t.Cursor = paintOf(s().Reverse(true))
	t.Crumb = paintOf(fg(s(), "#8bc8fb"))
	t.CrumbLast = paintOf(fg(s(), "#ffffff").Bold(true))
	t.StatusBar = paintOf(fg(bg(s(), "#303030"), "#d0d0d0").Reverse(!colour))
	t.Key = paintOf(fg(s(), "#8bc8fb").Bold(true))
	t.Desc = paintOf(fg(s(), "#a8a8a8"))
	t.Error = paintOf(fg(s(), "#fe5050").Bold(true))
	t.Notice = paintOf(fg(s(), "#fdec25"))
	t.Escalated = paintOf(fg(s(), "#fe5050").Bold(true))
	t.Match = paintOf(fg(s(), "#fdec25").Underline(true))

	t.help = help.Styles{
		ShortKey:       fg(s(), "#8bc8fb").Bold(true),
		ShortDesc:      fg(s(), "#a8a8a8"),
		ShortSeparator: fg(s(), "#585858"),
		Ellipsis:       fg(s(), "#585858"),
		FullKey:        fg(s(), "#8bc8fb").Bold(true),
		FullDesc:       fg(s(), "#a8a8a8"),
		FullSeparator:  fg(s(), "#585858"),
	}
	return t
}

// PlainTheme draws no escape sequences at all: for tests and dumb terminals.
func PlainTheme() *Theme { return NewTheme(termenv.Ascii, false) }

// Help returns a help model styled by the theme; bubbles' own defaults use
// adaptive colours, which would query the terminal's background.
func (t *Theme) Help() help.Model {
	h := help.New()
	h.Styles = t.help
	h.ShortSeparator = " · "
	h.FullSeparator = "   "
	return h
}

// Cell returns the paint of one swimlane cell.
func (t *Theme) Cell(kind CellKind, sev model.Severity, cursor bool) Paint {
	c := 0
	if cursor {
		c = 1
	}
	if kind < 0 || kind >= cellKinds || sev < 0 || sev > model.SeverityCritical {
		return Paint{}
	}
	return t.Cells[kind][sev][c]
}

// paintOf splits a style's rendering around one character into its opening
// and closing sequences.
func paintOf(st lipgloss.Style) Paint {
	const mark = "X"
	out := st.Render(mark)
	i := strings.Index(out, mark)
	if i < 0 || out == mark {
		return Paint{}
	}
	return Paint{open: out[:i], close: out[i+len(mark):]}
}
