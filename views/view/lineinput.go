package view

import (
	"strings"
	"unicode"

	"github.com/auditlens/auditlens/internal/safe"
	tea "github.com/charmbracelet/bubbletea"
)

// LineInput is a one-line text field for the : command line, the / filter
// and triage notes. It has no blinking cursor (no timers, so screens and
// their tests stay deterministic) and accepts only printable text: a paste
// with escape sequences in it cannot reach the terminal.
type LineInput struct {
	Prompt string
	Limit  int // most runes kept; 0 means 512
	runes  []rune
	pos    int
}

// Value is the text typed so far.
func (l *LineInput) Value() string { return string(l.runes) }

// SetValue replaces the text and puts the cursor at its end.
func (l *LineInput) SetValue(s string) {
	l.runes = l.runes[:0]
	l.pos = 0
	l.insert([]rune(s))
}

// Reset empties the field.
func (l *LineInput) Reset() { l.runes, l.pos = l.runes[:0], 0 }

// Cursor is the cursor's position in runes.
func (l *LineInput) Cursor() int { return l.pos }

// Update edits the text with one key; it reports whether the key was an
// editing key (typed text, deletion or cursor motion).
func (l *LineInput) Update(msg tea.KeyMsg) bool {
	switch msg.Type {
	case tea.KeyRunes, tea.KeySpace:
		if msg.Alt {
			return false
		}
		r := msg.Runes
		if msg.Type == tea.KeySpace {
			r = []rune{' '}
		}
		l.insert(r)
	case tea.KeyBackspace, tea.KeyCtrlH:
		if l.pos > 0 {
			l.runes = append(l.runes[:l.pos-1], l.runes[l.pos:]...)
			l.pos--
		}
	case tea.KeyDelete:
		if l.pos < len(l.runes) {
			l.runes = append(l.runes[:l.pos], l.runes[l.pos+1:]...)
		}
	case tea.KeyLeft, tea.KeyCtrlB:
		if l.pos > 0 {
			l.pos--
		}
	case tea.KeyRight, tea.KeyCtrlF:
		if l.pos < len(l.runes) {
			l.pos++
		}
	case tea.KeyHome:
		l.pos = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		l.pos = len(l.runes)
	case tea.KeyCtrlU: // delete to the start, as shells do
		l.runes = append(l.runes[:0], l.runes[l.pos:]...)
		l.pos = 0
	case tea.KeyCtrlK:
		l.runes = l.runes[:l.pos]
	case tea.KeyCtrlW: // delete the word before the cursor
		i := l.pos
		for i > 0 && unicode.IsSpace(l.runes[i-1]) {
			i--
		}
		for i > 0 && !unicode.IsSpace(l.runes[i-1]) {
			i--
		}
		l.runes = append(l.runes[:i], l.runes[l.pos:]...)
		l.pos = i
	default:
		return false
	}
	return true
}

func (l *LineInput) insert(rs []rune) {
	limit := l.Limit
	if limit <= 0 {
		limit = 512
	}
	var keep []rune
	for _, r := range rs {
		if r == '\n' || r == '\r' || r == '\t' {
			r = ' '
		}
		if !printable(r) || len(l.runes)+len(keep) >= limit {
			continue
		}
		keep = append(keep, r)
	}
	if len(keep) == 0 {
		return
	}
	tail := append(keep, l.runes[l.pos:]...)
	l.runes = append(l.runes[:l.pos], tail...)
	l.pos += len(keep)
}

// printable keeps exactly the runes safe.Text would leave alone.
func printable(r rune) bool {
	s := string(r)
	return r != '\uFFFD' && safe.Text(s) == s
}

// View draws the prompt and the text within w cells, scrolling sideways to
// keep the cursor in sight. The cursor is reverse video, or a "|" when the
// theme draws no attributes.
func (l *LineInput) View(w int, th *Theme) string {
	prompt := l.Prompt
	room := w - Width(prompt) - 1
	if room < 1 {
		return Truncate(prompt, w)
	}
	// Scroll so the cursor sits within the room, showing as much text as fits.
	start := 0
	for Width(string(l.runes[start:l.pos])) > room-1 && start < l.pos {
		start++
	}
	before := string(l.runes[start:l.pos])
	var at, after string
	if l.pos < len(l.runes) {
		at = string(l.runes[l.pos])
		after = string(l.runes[l.pos+1:])
	}
	var b strings.Builder
	b.WriteString(prompt)
	b.WriteString(before)
	switch {
	case th == nil || th.Plain:
		b.WriteString("|")
		b.WriteString(at)
	case at == "":
		b.WriteString(th.Cursor.Apply(" "))
	default:
		b.WriteString(th.Cursor.Apply(at))
	}
	b.WriteString(after)
	return Truncate(b.String(), w)
}
