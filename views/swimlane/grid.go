package swimlane

import (
	"strings"
	"time"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
)

// Pure functions of the time grid: which buckets a column merges, the zoom
// ladder, the axis labels and the drawing of one lane. They know nothing of
// Bubble Tea, so they are tested table-driven without a terminal.

// niceSpans are the column spans the zoom steps through: a column always
// covers a whole number of buckets and a span a reader can say out loud.
func niceSpans() []time.Duration {
	const day = 24 * time.Hour
	return []time.Duration{
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 6 * time.Hour, 12 * time.Hour,
		day, 2 * day, 3 * day, 7 * day, 14 * day, 28 * day,
	}
}

// zoomLadder lists the buckets per column the zoom offers for a bucket span:
// 1 (one bucket per column) and every nice span that is a multiple of it.
func zoomLadder(span time.Duration) []int {
	ladder := []int{1}
	if span <= 0 {
		return ladder
	}
	for _, d := range niceSpans() {
		if d > span && d%span == 0 {
			ladder = append(ladder, int(d/span))
		}
	}
	return ladder
}

// fitZoom picks the smallest rung whose columns all fit in width; the
// largest when none does (the grid then scrolls sideways).
func fitZoom(ladder []int, buckets, width int) int {
	for i, z := range ladder {
		if columns(buckets, z) <= width {
			return i
		}
	}
	return len(ladder) - 1
}

// columns is the number of columns buckets make at z buckets per column.
func columns(buckets, z int) int {
	if z <= 0 || buckets <= 0 {
		return 0
	}
	return (buckets + z - 1) / z
}

// stateFilter is the triage state the swimlane is narrowed to, or all.
type stateFilter struct {
	on    bool
	state model.TriageState
}

func (f stateFilter) String() string {
	if !f.on {
		return "all"
	}
	return f.state.String()
}

// cell is what one column of one lane shows.
type cell struct {
	score  float64
	states model.StateSet
}

// mergeCell merges the buckets of column c (z buckets each) into one cell:
// the highest score and the union of triage states. Under a state filter
// only buckets holding an anomaly in that state count.
func mergeCell(scores []float64, states []model.StateSet, c, z int, f stateFilter) cell {
	lo := c * z
	hi := lo + z
	if hi > len(scores) {
		hi = len(scores)
	}
	var out cell
	for i := lo; i < hi; i++ {
		var st model.StateSet
		if states != nil && i < len(states) {
			st = states[i]
		}
		if f.on && !st.Has(f.state) {
			continue
		}
		if s := scores[i]; s > out.score {
			out.score = s
		}
		out.states |= st
	}
	return out
}

// look is how a cell is drawn: its glyph and its paint's coordinates.
type look struct {
	glyph byte
	kind  view.CellKind
	sev   model.Severity
}

// lookOf decides a cell's glyph: the severity's (' ' . : + # @), '!' when an
// escalated anomaly is in it, '-' when every anomaly in it was put aside.
func lookOf(c cell) look {
	sev := model.SeverityOf(c.score)
	l := look{glyph: sev.Glyph(), kind: view.CellPlain, sev: sev}
	if sev == model.SeverityNone {
		return l
	}
	switch {
	case c.states.Has(model.StateEscalated):
		l.glyph, l.kind = '!', view.CellEscalated
	case c.states.AllDismissed():
		l.glyph, l.kind = '-', view.CellDismissed
	}
	return l
}

// drawLane writes columns [first, first+n) of one lane, with the cursor on
// column cursor (-1 for none). Runs of identical cells share one pair of
// escape sequences, which keeps a frame small over a slow link.
func drawLane(b *strings.Builder, th *view.Theme, scores []float64, states []model.StateSet, z, first, n, cursor int, f stateFilter) {
	var run look
	var runCursor bool
	runLen := 0
	flush := func() {
		if runLen == 0 {
			return
		}
		p := th.Cell(run.kind, run.sev, runCursor)
		b.WriteString(p.Open())
		for i := 0; i < runLen; i++ {
			b.WriteByte(run.glyph)
		}
		b.WriteString(p.Close())
		runLen = 0
	}
	total := columns(len(scores), z)
	for c := first; c < first+n && c < total; c++ {
		l := lookOf(mergeCell(scores, states, c, z, f))
		isCursor := c == cursor
		if runLen > 0 && (l != run || isCursor != runCursor) {
			flush()
		}
		run, runCursor = l, isCursor
		runLen++
	}
	flush()
}

// Axis label formats.
const (
	clockLayout = "15:04"
	dateLayout  = "Jan 02"
)

// axisLines draws the time axis over columns [first, first+n) of colSpan
// each, starting at start: a line of dates (where days begin) when the range
// spans days or columns are days, and a line of clock times at nice ticks
// when columns are shorter than a day. Labels never overlap and never pass
// the right edge.
func axisLines(start time.Time, colSpan time.Duration, first, n int, loc *time.Location, spansDays bool) []string {
	if loc == nil {
		loc = time.UTC
	}
	if n <= 0 || colSpan <= 0 {
		return nil
	}
	colStart := func(c int) time.Time { return start.Add(time.Duration(c) * colSpan) }
	day := 24 * time.Hour
	if colSpan >= day {
		return []string{labelLine(colStart, first, n, loc, tickFor(colSpan, len(dateLayout)+1), dateLayout, true)}
	}
	clock := labelLine(colStart, first, n, loc, tickFor(colSpan, len(clockLayout)+1), clockLayout, false)
	if !spansDays {
		return []string{clock}
	}
	dates := labelLine(colStart, first, n, loc, day, dateLayout, true)
	return []string{dates, clock}
}

// tickFor is the smallest nice span that leaves room for a label of width w
// between ticks at colSpan per column.
func tickFor(colSpan time.Duration, w int) time.Duration {
	need := colSpan * time.Duration(w)
	spans := niceSpans()
	for _, d := range spans {
		if d >= need {
			return d
		}
	}
	return spans[len(spans)-1]
}

// labelLine writes a label at every column whose span contains a multiple
// of tick in wall-clock time of loc; firstLabel also labels the left edge so
// the reader always knows the date in view.
func labelLine(colStart func(int) time.Time, first, n int, loc *time.Location, tick time.Duration, layout string, firstLabel bool) string {
	line := make([]byte, 0, n)
	free := 0 // first position a new label may start at
	t := int64(tick / time.Second)
	for i := 0; i < n; i++ {
		c := first + i
		w0, w1 := wall(colStart(c), loc), wall(colStart(c+1), loc)
		k := ceilDiv(w0, t) * t
		hit := k < w1
		at := k
		if !hit && i == 0 && firstLabel {
			hit, at = true, w0
		}
		if !hit || i < free {
			continue
		}
		label := time.Unix(at, 0).UTC().Format(layout)
		if i+len(label) > n {
			continue
		}
		for len(line) < i {
			line = append(line, ' ')
		}
		line = append(line, label...)
		free = i + len(label) + 1
	}
	return string(line)
}

// wall is t's wall-clock time in loc as seconds, so ticks land on local
// midnights and hours.
func wall(t time.Time, loc *time.Location) int64 {
	_, off := t.In(loc).Zone()
	return t.Unix() + int64(off)
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a > 0) == (b > 0) {
		q++
	}
	return q
}

// spansDays reports whether the axis covers more than one calendar day in
// loc, in which case the axis shows dates.
func spansDays(ax model.TimeAxis, loc *time.Location) bool {
	if ax.Buckets <= 0 {
		return false
	}
	a := ax.Start.In(loc)
	b := ax.End().Add(-time.Nanosecond).In(loc)
	return a.YearDay() != b.YearDay() || a.Year() != b.Year()
}

// spanText writes a column's time range for the reader: "Nov 02 14:00–14:15"
// or "Nov 02–Nov 03" for day columns.
func spanText(from, to time.Time, loc *time.Location) string {
	from, to = from.In(loc), to.In(loc)
	if to.Sub(from) >= 24*time.Hour && from.Hour() == 0 && from.Minute() == 0 {
		last := to.Add(-time.Nanosecond)
		if last.YearDay() == from.YearDay() {
			return from.Format("Jan 02")
		}
		return from.Format("Jan 02") + "–" + last.Format("Jan 02")
	}
	if from.YearDay() == to.YearDay() || to.Equal(time.Date(from.Year(), from.Month(), from.Day()+1, 0, 0, 0, 0, loc)) {
		return from.Format("Jan 02 15:04") + "–" + to.Format("15:04")
	}
	return from.Format("Jan 02 15:04") + "–" + to.Format("Jan 02 15:04")
}
