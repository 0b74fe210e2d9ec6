package swimlane

import (
	"strings"
	"time"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/timeaxis"
	"github.com/auditlens/auditlens/views/view"
)

// Pure functions of the time grid: which buckets a column merges, the zoom
// ladder, the axis labels and the drawing of one lane. They know nothing of
// Bubble Tea, so they are tested table-driven without a terminal.

// The time grid itself (zoom ladder, columns, axis labels) is shared with
// the drill-down charts in package timeaxis.

func zoomLadder(span time.Duration) []int          { return timeaxis.ZoomLadder(span) }
func fitZoom(ladder []int, buckets, width int) int { return timeaxis.FitZoom(ladder, buckets, width) }
func columns(buckets, z int) int                   { return timeaxis.Columns(buckets, z) }

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

func axisLines(start time.Time, colSpan time.Duration, first, n int, loc *time.Location, spansDays bool) []string {
	return timeaxis.Lines(start, colSpan, first, n, loc, spansDays)
}

func spansDays(ax model.TimeAxis, loc *time.Location) bool { return timeaxis.SpansDays(ax, loc) }

func spanText(from, to time.Time, loc *time.Location) string { return timeaxis.SpanText(from, to, loc) }
