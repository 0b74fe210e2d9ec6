// Package listing draws the console's simple lists (cases, a case's
// anomalies, rules): columns that fit a width, a header, rows with a caret
// and reverse video on the selected one, and a cursor that scrolls.
package listing

import (
	"regexp"
	"sort"
	"strings"

	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Column is one column of a list.
type Column struct {
	Header   string
	Min, Max int  // width bounds; equal for fixed columns
	Keep     int  // lower is kept longer when the list narrows
	Right    bool // numbers align right
}

// Layout gives each column a width within width cells (one space between
// columns, one cell of caret before them), dropping the columns with the
// highest Keep first; spare room is shared among the flexible columns. It
// returns the kept columns' indices and widths.
func Layout(cols []Column, width int) (idx []int, widths []int) {
	width-- // the caret
	order := make([]int, len(cols))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return cols[order[a]].Keep < cols[order[b]].Keep })
	kept := make([]bool, len(cols))
	used := 0
	for _, i := range order {
		need := cols[i].Min
		if used > 0 {
			need++
		}
		if used+need > width {
			continue
		}
		kept[i] = true
		used += need
	}
	for i := range cols {
		if kept[i] {
			idx = append(idx, i)
			widths = append(widths, cols[i].Min)
		}
	}
	for spare := width - used; spare > 0; {
		grew := false
		for j, i := range idx {
			if spare > 0 && widths[j] < max(cols[i].Max, cols[i].Min) {
				widths[j]++
				spare--
				grew = true
			}
		}
		if !grew {
			break
		}
	}
	return idx, widths
}

// Header draws the kept columns' headers.
func Header(cols []Column, idx, widths []int, th *view.Theme) string {
	cells := make([]string, len(idx))
	for j, i := range idx {
		cells[j] = cols[i].Header
	}
	return th.Header.Apply(" " + join(cols, idx, widths, cells))
}

// Row draws one row of cells (all of them, sanitized by the caller; the
// dropped columns' cells are skipped). paint, when set, colours a cell of
// an unselected row by its column index.
func Row(cols []Column, idx, widths []int, cells []string, th *view.Theme, selected, focused bool, paint func(col int, text string) string) string {
	kept := make([]string, len(idx))
	for j, i := range idx {
		if i < len(cells) {
			kept[j] = cells[i]
		}
	}
	if !selected && paint != nil {
		var b strings.Builder
		b.WriteByte(' ')
		for j, i := range idx {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(paint(i, fit(cols[i], kept[j], widths[j])))
		}
		return b.String()
	}
	line := " " + join(cols, idx, widths, kept)
	if selected {
		line = ">" + line[1:]
		if focused {
			return th.Selected.Apply(line)
		}
		return th.SelectedBlur.Apply(line)
	}
	return line
}

func join(cols []Column, idx, widths []int, cells []string) string {
	var b strings.Builder
	for j, i := range idx {
		if j > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fit(cols[i], cells[j], widths[j]))
	}
	return b.String()
}

func fit(c Column, s string, w int) string {
	if c.Right {
		return view.FitRight(s, w)
	}
	return view.Fit(s, w)
}

// Cursor is a list's selected row and first row in view.
type Cursor struct {
	Sel, Top int
}

// Move moves the selection by d within n rows and keeps it in a view of
// rows lines.
func (c *Cursor) Move(d, n, rows int) {
	c.Sel += d
	c.Clamp(n, rows)
}

// Clamp keeps the selection within n rows and in a view of rows lines.
func (c *Cursor) Clamp(n, rows int) {
	c.Sel = min(max(c.Sel, 0), max(n-1, 0))
	if c.Sel < c.Top {
		c.Top = c.Sel
	}
	if rows > 0 && c.Sel >= c.Top+rows {
		c.Top = c.Sel - rows + 1
	}
	c.Top = min(max(c.Top, 0), max(n-rows, 0))
}

// Step moves the selection to the next of n rows, or the previous one when
// backward, wrapping round the ends as n and N do over a filter's matches.
func (c *Cursor) Step(backward bool, n, rows int) {
	if n <= 0 {
		return
	}
	d := 1
	if backward {
		d = -1
	}
	c.Sel = ((c.Sel+d)%n + n) % n
	c.Clamp(n, rows)
}

// MoveKeys are the keys that move a list's cursor; the lists share them so
// every list scrolls the same way.
type MoveKeys struct {
	Up, Down, Top, Bottom, PageDown, PageUp key.Binding
}

// NewMoveKeys returns the lists' movement keys.
func NewMoveKeys() MoveKeys {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return MoveKeys{
		Up:       b([]string{"k", "up"}, "k/↑", "up"),
		Down:     b([]string{"j", "down"}, "j/↓", "down"),
		Top:      b([]string{"g", "home"}, "g", "top"),
		Bottom:   b([]string{"G", "end"}, "G", "bottom"),
		PageDown: b([]string{"ctrl+d", "pgdown"}, "ctrl+d", "half page down"),
		PageUp:   b([]string{"ctrl+u", "pgup"}, "ctrl+u", "half page up"),
	}
}

// Navigate moves the cursor over n rows in a view of rows lines when k is
// one of km, and says whether it was.
func (c *Cursor) Navigate(k tea.KeyMsg, km MoveKeys, n, rows int) bool {
	half := max(rows/2, 1)
	switch {
	case key.Matches(k, km.Down):
		c.Move(1, n, rows)
	case key.Matches(k, km.Up):
		c.Move(-1, n, rows)
	case key.Matches(k, km.PageDown):
		c.Move(half, n, rows)
	case key.Matches(k, km.PageUp):
		c.Move(-half, n, rows)
	case key.Matches(k, km.Top):
		c.Move(-n, n, rows)
	case key.Matches(k, km.Bottom):
		c.Move(n, n, rows)
	default:
		return false
	}
	return true
}

// Filter is a list's filter: the text the analyst typed and its pattern.
type Filter struct {
	Text    string
	Pattern *regexp.Regexp
}

// Set takes the shell's filter; a cleared pattern clears the text too.
func (f *Filter) Set(msg view.FilterMsg) {
	f.Text, f.Pattern = msg.Text, msg.Pattern
	if msg.Pattern == nil {
		f.Text = ""
	}
}

// Match says whether any of fields matches the filter; everything matches
// when there is none.
func (f *Filter) Match(fields ...string) bool {
	if f.Pattern == nil {
		return true
	}
	for _, s := range fields {
		if f.Pattern.MatchString(s) {
			return true
		}
	}
	return false
}

// ScrollText moves top, the first line in view of a block of n lines, when k
// is one of km (half lines for a half page), and says whether it was; the
// caller clamps top to its own view so text ends where its screen says.
func ScrollText(k tea.KeyMsg, km MoveKeys, top, half, n int) (int, bool) {
	switch {
	case key.Matches(k, km.Down):
		return top + 1, true
	case key.Matches(k, km.Up):
		return top - 1, true
	case key.Matches(k, km.Top):
		return 0, true
	case key.Matches(k, km.Bottom):
		return n, true
	case key.Matches(k, km.PageDown):
		return top + half, true
	case key.Matches(k, km.PageUp):
		return top - half, true
	}
	return top, false
}
