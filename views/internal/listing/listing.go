// Package listing draws the console's simple lists (cases, a case's
// anomalies, rules): columns that fit a width, a header, rows with a caret
// and reverse video on the selected one, and a cursor that scrolls.
package listing

import (
	"sort"
	"strings"

	"github.com/auditlens/auditlens/views/view"
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
