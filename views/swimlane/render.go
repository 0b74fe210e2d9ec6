package swimlane

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/anomaly"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
)

// View implements view.View. It draws exactly the visible part: the axis,
// the overall lane, the lanes in view, the caret line under the selected
// column, then the anomalies table (and on wide terminals a side panel with
// the selected anomaly).
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if m.data == nil {
		return m.placeholder()
	}
	l := m.layout()
	lines := make([]string, 0, m.height)
	lines = append(lines, m.gridLines(l)...)
	for len(lines) < l.tableTop {
		lines = append(lines, "")
	}
	lines = append(lines, m.tableLines(l)...)
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	if m.width < minWidth || m.height < minHeight {
		// Below the size the layout is made for: cut rather than overflow.
		return view.Frame(strings.Join(lines, "\n"), m.width, m.height)
	}
	return strings.Join(lines, "\n")
}

// placeholder is what shows before the first data arrives, or instead of
// it when loading failed.
func (m *Model) placeholder() string {
	th := m.ctx.Theme
	var msg []string
	job := safe.Text(m.query.Job)
	switch {
	case m.loadErr != nil && errors.Is(m.loadErr, context.Canceled):
		msg = []string{"Loading " + job + " was cancelled.", "Press r to run it again."}
	case m.loadErr != nil:
		msg = []string{th.Error.Apply("Could not load " + job + ":")}
		msg = append(msg, view.Wrap(safe.Text(m.loadErr.Error()), m.width)...)
		msg = append(msg, "Press r to run it again.")
	default:
		msg = []string{"Loading the swimlane of " + job + "…", th.Dim.Apply("esc cancels")}
	}
	lines := make([]string, 0, m.height)
	for i := 0; i < (m.height-len(msg))/2; i++ {
		lines = append(lines, "")
	}
	for _, s := range msg {
		lines = append(lines, view.Center(s, m.width))
	}
	return view.Frame(strings.Join(lines, "\n"), m.width, m.height)
}

// gridLines draws the swimlane: axis, overall lane, lanes, caret line.
func (m *Model) gridLines(l layout) []string {
	th := m.ctx.Theme
	d := m.data
	ax := d.Axis
	z := m.z()
	colSpan := time.Duration(z) * ax.BucketSpan
	visible := min(l.gridW, m.ncols()-m.leftCol)
	cursor := m.cursorCol()
	pad := strings.Repeat(" ", l.gridX)
	var out []string

	axis := axisLines(ax.Start, colSpan, m.leftCol, visible, m.loc(), l.axisLines == 2)
	for i, a := range axis {
		label := pad
		if i == len(axis)-1 {
			label = th.Dim.Apply(view.Fit(" col "+formatSpan(colSpan), l.gridX))
		}
		out = append(out, label+a)
	}

	var b strings.Builder
	b.Grow(l.gridX + visible*4)
	laneLine := func(name string, mark byte, isCursor bool, scores []float64, states []model.StateSet) string {
		b.Reset()
		caret := " "
		if isCursor {
			caret = ">"
		}
		label := caret + view.Fit(name, l.labelW)
		switch {
		case isCursor && m.focus == lanesPane:
			label = th.Selected.Apply(label)
		case isCursor:
			label = th.Bold.Apply(label)
		}
		b.WriteString(label)
		if mark == '!' {
			b.WriteString(th.Escalated.Apply("!"))
		} else {
			b.WriteByte(mark)
		}
		b.WriteByte(' ')
		cur := -1
		if isCursor {
			cur = cursor
		}
		drawLane(&b, th, scores, states, z, m.leftCol, visible, cur, m.stateFilter)
		return b.String()
	}

	out = append(out, laneLine("overall", ' ', m.row == 0, d.Overall, nil))
	switch {
	case len(d.Lanes) == 0:
		out = append(out, pad+th.Dim.Apply(view.Truncate("no "+d.Scope.Noun(2)+" with anomalies in this range", l.gridW)))
	case len(m.shown) == 0:
		out = append(out, pad+th.Dim.Apply(view.Truncate("no "+d.Scope.Noun(2)+" match the filters", l.gridW)))
	}
	for i := m.top; i < len(m.shown) && i < m.top+l.laneRows; i++ {
		li := m.shown[i]
		lane := &d.Lanes[li]
		mark := byte(' ')
		if m.laneStates[li].Has(model.StateEscalated) {
			mark = '!'
		}
		out = append(out, laneLine(safe.Text(lane.Entity), mark, m.row == i+1, lane.Scores, lane.States))
	}
	for len(out) < l.axisLines+1+l.laneRows {
		out = append(out, "")
	}
	out = append(out, m.caretLine(l, cursor-m.leftCol))
	return out
}

// caretLine points at the selected column and says its time span, so the
// cursor is visible even where the terminal draws no reverse video.
func (m *Model) caretLine(l layout, at int) string {
	sel := m.selection()
	text := spanText(sel.from, sel.to, m.loc())
	if below := len(m.shown) - (m.top + l.laneRows); below > 0 {
		text += " · " + thousands(below) + " more below"
	}
	pos := l.gridX + at
	line := strings.Repeat(" ", pos) + "^"
	if pos+2+view.Width(text) <= m.width {
		return line + " " + m.ctx.Theme.Dim.Apply(text)
	}
	if view.Width(text)+1 <= pos {
		return strings.Repeat(" ", pos-view.Width(text)-1) + m.ctx.Theme.Dim.Apply(text) + " ^"
	}
	return line
}

// tableLines draws the anomalies table block: title, header, rows, and the
// side panel beside it when there is room.
func (m *Model) tableLines(l layout) []string {
	th := m.ctx.Theme
	height := m.height - l.tableTop
	if height <= 0 {
		return nil
	}
	rare := false
	if j, ok := m.ctx.Job(); ok {
		rare = j.Rare()
	}
	cols := layoutColumns(tableColumns(rare), l.tableW-1)
	var out []string
	out = append(out, view.Fit(m.tableTitle(), l.tableW))
	out = append(out, view.Fit(headerLine(cols, th), l.tableW))
	sel := m.selection()
	switch {
	case m.rowsErr != nil:
		out = append(out, th.Error.Apply(view.Truncate(" could not load anomalies: "+safe.Text(m.rowsErr.Error()), l.tableW)))
	case len(m.shownRows) == 0 && m.rowsFor == sel && !m.rowsLoading:
		msg := " no anomalies in this selection"
		if len(m.rows) > 0 {
			msg = " no anomalies match the filters"
		}
		out = append(out, th.Dim.Apply(view.Truncate(msg, l.tableW)))
	case len(m.shownRows) == 0:
		out = append(out, th.Dim.Apply(view.Truncate(" loading anomalies…", l.tableW)))
	}
	for i := m.rowTop; i < len(m.shownRows) && i < m.rowTop+l.tableRows; i++ {
		a := &m.rows[m.shownRows[i]]
		out = append(out, view.Fit(drawRow(a, cols, th, m.loc(), i == m.rowSel, m.focus == tablePane), l.tableW))
	}
	if len(out) > height {
		out = out[:height]
	}
	for len(out) < height {
		out = append(out, "")
	}
	if m.noting {
		out[len(out)-1] = m.note.View(l.tableW, th)
	}
	if l.panelW > 0 {
		var panel []string
		if a := m.selected(); a != nil {
			panel = anomaly.Lines(*a, l.panelW, th, m.loc())
		} else {
			panel = []string{th.Dim.Apply("no anomaly selected")}
		}
		sep := th.Dim.Apply("│")
		for i := range out {
			p := ""
			if i < len(panel) {
				p = panel[i]
			}
			out[i] = view.Fit(out[i], l.tableW) + sep + p
		}
	}
	return out
}

// tableTitle says what the table shows: whose anomalies, when, how many,
// under which filters.
func (m *Model) tableTitle() string {
	th := m.ctx.Theme
	sel := m.selection()
	who := "all " + m.data.Scope.Noun(2)
	if !sel.all {
		who = safe.Text(sel.entity)
	}
	name := " anomalies"
	if m.focus == tablePane {
		name = "[anomalies]"
	}
	parts := []string{th.Header.Apply(name), who, spanText(sel.from, sel.to, m.loc())}
	switch {
	case m.rowsFor != sel || m.rowsLoading:
		parts = append(parts, "…")
	case len(m.shownRows) != len(m.rows):
		parts = append(parts, thousands(len(m.shownRows))+" of "+thousands(len(m.rows)))
	default:
		parts = append(parts, thousands(len(m.rows)))
	}
	if n := m.hiddenRows(); n > 0 {
		parts = append(parts, thousands(n)+" suppressed")
	}
	if m.stateFilter.on {
		parts = append(parts, "state "+m.stateFilter.String())
	}
	if m.laneFilter.text != "" {
		parts = append(parts, "lanes /"+safe.Text(m.laneFilter.text)+"/")
	}
	if m.rowFilter.text != "" {
		parts = append(parts, "rows /"+safe.Text(m.rowFilter.text)+"/")
	}
	return strings.Join(parts, " · ")
}

// hiddenRows counts the suppressed records the table lists.
func (m *Model) hiddenRows() int {
	n := 0
	for i := range m.rows {
		if m.rows[i].SuppressedBy != "" {
			n++
		}
	}
	return n
}
