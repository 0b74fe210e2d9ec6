package explorer

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
)

// The executions table as pure functions: the text of each cell (made safe
// once per row), which columns fit a width, the drawing of a row, sorting
// and filtering. They know nothing of Bubble Tea.

// Column is one column of the table.
type Column int

const (
	ColTime Column = iota
	ColUser
	ColPID
	ColPPID
	ColExecutable
	ColArgs
	ColCwd
	ColResult
	numColumns
)

// String is the column's header.
func (c Column) String() string {
	return [...]string{"time", "user", "pid", "ppid", "executable", "args", "cwd", "result"}[c]
}

// columnSpec bounds a column's width and says how long it is kept when the
// table narrows (lower is kept longer).
type columnSpec struct {
	min, max int
	keep     int
	right    bool // numbers align right
	left     bool // long values keep their end (paths)
}

func specOf(c Column, timeW int) columnSpec {
	switch c {
	case ColTime:
		return columnSpec{min: timeW, max: timeW, keep: 0}
	case ColUser:
		return columnSpec{min: 5, max: 18, keep: 4}
	case ColPID:
		return columnSpec{min: 7, max: 7, keep: 3, right: true}
	case ColPPID:
		return columnSpec{min: 7, max: 7, keep: 5, right: true}
	case ColExecutable:
		return columnSpec{min: 12, max: 40, keep: 1, left: true}
	case ColArgs:
		return columnSpec{min: 10, max: 1 << 16, keep: 2}
	case ColCwd:
		return columnSpec{min: 5, max: 24, keep: 7, left: true}
	case ColResult:
		return columnSpec{min: 6, max: 6, keep: 6}
	}
	return columnSpec{}
}

// cellWidth is one laid-out column.
type cellWidth struct {
	col   Column
	width int
	spec  columnSpec
}

// rowText is a row's cells, sanitized, so a frame only cuts and pads.
type rowText [numColumns]string

// timeLayout is the time column's layout: the date joins the clock when
// the window spans days.
func timeLayout(spansDays bool) string {
	if spansDays {
		return "Jan 02 15:04:05"
	}
	return "15:04:05"
}

// textOf makes a row's cells safe to draw.
func textOf(p *model.Process, loc *time.Location, layout string) rowText {
	var t rowText
	t[ColTime] = p.Time.In(loc).Format(layout)
	t[ColUser] = safe.Text(p.UserText())
	t[ColPID] = strconv.FormatInt(p.PID, 10)
	t[ColPPID] = strconv.FormatInt(p.PPID, 10)
	t[ColExecutable] = safe.Text(p.Executable)
	t[ColArgs] = safe.Texts(p.Args, " ")
	t[ColCwd] = safe.Text(p.WorkingDir)
	t[ColResult] = resultWord(p.Result)
	return t
}

// resultWord shortens the outcome; anything unexpected is shown, made safe.
func resultWord(r string) string {
	switch r {
	case "success":
		return "ok"
	case "fail", "failure":
		return "FAIL"
	}
	return safe.Text(r)
}

// natural is the widest cell of each column over rows, so columns are no
// wider than their content.
func natural(rows []rowText) [numColumns]int {
	var w [numColumns]int
	for c := range w {
		w[c] = view.Width(Column(c).String())
	}
	for i := range rows {
		for c, s := range rows[i] {
			if n := view.Width(s); n > w[c] {
				w[c] = n
			}
		}
	}
	return w
}

// layoutTable gives each column a width within width cells (a caret cell
// first, one space between columns): columns as wide as their content
// within their bounds, the rest to the arguments; when even the minimums do
// not fit, the least telling columns go.
func layoutTable(width, timeW int, content [numColumns]int) []cellWidth {
	kept := make([]bool, numColumns)
	order := make([]Column, numColumns)
	for i := range order {
		order[i] = Column(i)
	}
	slices.SortStableFunc(order, func(a, b Column) int { return cmp.Compare(specOf(a, timeW).keep, specOf(b, timeW).keep) })
	used := 1
	for _, c := range order {
		need := specOf(c, timeW).min
		if used > 1 {
			need++
		}
		if used+need > width {
			continue
		}
		kept[c] = true
		used += need
	}
	var out []cellWidth
	for c := Column(0); c < numColumns; c++ {
		if kept[c] {
			s := specOf(c, timeW)
			out = append(out, cellWidth{col: c, width: s.min, spec: s})
		}
	}
	// Grow every column but the arguments towards its content, a cell at a
	// time so none takes all; the arguments get what is left.
	spare := width - used
	for grew := true; spare > 0 && grew; {
		grew = false
		for i := range out {
			cw := &out[i]
			if cw.col == ColArgs || spare == 0 {
				continue
			}
			if cw.width < min(cw.spec.max, content[cw.col]) {
				cw.width++
				spare--
				grew = true
			}
		}
	}
	for i := range out {
		if out[i].col == ColArgs {
			out[i].width += spare
			spare = 0
		}
	}
	if spare > 0 && len(out) > 0 {
		// No arguments column: the widest flexible column takes the rest.
		for i := len(out) - 1; i >= 0; i-- {
			if out[i].spec.max > out[i].spec.min {
				out[i].width += spare
				break
			}
		}
	}
	return out
}

// fitCell cuts or pads a cell to its width: paths keep their end, numbers
// align right.
func fitCell(s string, cw cellWidth) string {
	switch {
	case cw.spec.right:
		return view.FitRight(s, cw.width)
	case cw.spec.left && view.Width(s) > cw.width:
		return view.TruncateLeft(s, cw.width)
	}
	return view.Fit(s, cw.width)
}

// headerText draws the column headers, marking the sort column with its
// direction.
func headerText(cols []cellWidth, sortCol Column, desc bool) string {
	var b strings.Builder
	b.WriteByte(' ')
	for i, cw := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		h := cw.col.String()
		if cw.col == sortCol {
			if desc {
				h += "↓"
			} else {
				h += "↑"
			}
		}
		b.WriteString(fitCell(h, cw))
	}
	return b.String()
}

// rowLine draws one row: a caret when selected, then the cells. Failed
// executions are marked in words, not only in colour.
func rowLine(t *rowText, cols []cellWidth, th *view.Theme, selected bool) string {
	var b strings.Builder
	if selected {
		b.WriteByte('>')
	} else {
		b.WriteByte(' ')
	}
	for i, cw := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		cell := fitCell(t[cw.col], cw)
		if !selected && cw.col == ColResult && t[ColResult] == "FAIL" {
			cell = th.Error.Apply(cell)
		}
		b.WriteString(cell)
	}
	if selected {
		return th.Selected.Apply(b.String())
	}
	return b.String()
}

// compareRows orders two executions by a column; ties go by time, then by
// the order the backend gave (index), so every sort is total and stable.
func compareRows(a, b *model.Process, ia, ib int, col Column) int {
	var c int
	switch col {
	case ColUser:
		c = strings.Compare(a.UserText(), b.UserText())
	case ColPID:
		c = cmp.Compare(a.PID, b.PID)
	case ColPPID:
		c = cmp.Compare(a.PPID, b.PPID)
	case ColExecutable:
		c = strings.Compare(a.Executable, b.Executable)
	case ColArgs:
		c = slices.Compare(a.Args, b.Args)
	case ColCwd:
		c = strings.Compare(a.WorkingDir, b.WorkingDir)
	case ColResult:
		c = strings.Compare(a.Result, b.Result)
	}
	return cmp.Or(c, a.Time.Compare(b.Time), cmp.Compare(ia, ib))
}

// sortedIndex returns the indices of rows whose haystacks match f, sorted
// by col.
func sortedIndex(rows []model.Process, hay, lower []string, col Column, desc bool, f rowFilter) []int {
	idx := make([]int, 0, len(rows))
	for i := range rows {
		if f.match(hay[i], lower[i]) {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(i, j int) int {
		c := compareRows(&rows[i], &rows[j], i, j, col)
		if desc {
			return -c
		}
		return c
	})
	return idx
}

// haystack is what the / filter looks at in an execution: its raw fields
// (executable, arguments, users, directory, result, name, title, pids),
// one per line, so a pattern finds a name the screen shows escaped and one
// regular expression run per row serves every field. The filter is run in
// multi-line mode, so ^ and $ still anchor within a field.
func haystack(p *model.Process) string {
	var b strings.Builder
	for _, s := range []string{p.Executable, p.User, p.AuditUser, p.WorkingDir, p.Result, p.Name, p.Title} {
		if s != "" {
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	for _, a := range p.Args {
		b.WriteString(a)
		b.WriteByte('\n')
	}
	b.WriteString(strconv.FormatInt(p.PID, 10))
	b.WriteByte('\n')
	b.WriteString(strconv.FormatInt(p.PPID, 10))
	return b.String()
}

// rowFilter is the / filter as the explorer runs it over haystacks.
type rowFilter struct {
	re *regexp.Regexp
	// lower says re is to run over the lower-cased haystacks: a
	// case-insensitive pattern written in lower case (the shell's smart
	// case) matches the same there, and as a case-sensitive pattern it
	// gets regexp's fast literal search, thirty times faster.
	lower bool
}

// compileRowFilter turns the shell's pattern into the explorer's: in
// multi-line mode, so ^ and $ anchor within a field of the haystack.
func compileRowFilter(re *regexp.Regexp) rowFilter {
	if re == nil {
		return rowFilter{}
	}
	src := re.String()
	if rest, ok := strings.CutPrefix(src, "(?i)"); ok && rest == strings.ToLower(rest) {
		if m, err := regexp.Compile("(?m:" + rest + ")"); err == nil {
			return rowFilter{re: m, lower: true}
		}
	}
	if m, err := regexp.Compile("(?m:" + src + ")"); err == nil {
		return rowFilter{re: m}
	}
	return rowFilter{re: re}
}

// match runs the filter over one row's haystacks.
func (f rowFilter) match(hay, lower string) bool {
	switch {
	case f.re == nil:
		return true
	case f.lower:
		return f.re.MatchString(lower)
	}
	return f.re.MatchString(hay)
}

// matches reports whether an execution matches the / filter.
func matches(p *model.Process, re *regexp.Regexp) bool {
	h := haystack(p)
	return compileRowFilter(re).match(h, strings.ToLower(h))
}
