package rarechart

import (
	"fmt"
	"sort"
	"strings"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
)

// Pure functions of the chart: what one cell of a row shows, the drawing of
// a row's marks, and the words beside it. They know nothing of Bubble Tea.

// ranGlyph marks a column in which the executable ran.
const ranGlyph = '|'

// mark is a rare anomaly in one bucket of a row.
type mark struct {
	bucket int
	score  float64
}

// chartRow is one executable as the chart draws it.
type chartRow struct {
	row   model.RareRow
	marks []mark // ascending by bucket
	text  string // executable, sanitized
}

// cellOf says what column c (z buckets each) of a row shows: whether the
// executable ran in it, and the highest anomaly score marked in it.
func cellOf(r *chartRow, c, z int) (ran bool, score float64) {
	lo, hi := c*z, c*z+z
	i := sort.SearchInts(r.row.Buckets, lo)
	ran = i < len(r.row.Buckets) && r.row.Buckets[i] < hi
	j := sort.Search(len(r.marks), func(k int) bool { return r.marks[k].bucket >= lo })
	for ; j < len(r.marks) && r.marks[j].bucket < hi; j++ {
		score = max(score, r.marks[j].score)
	}
	return ran, score
}

// drawMarks writes columns [first, first+n) of a row: the severity glyph in
// its colour where an anomaly is marked, '|' where the executable ran,
// blank elsewhere; the cursor column (-1 for none) in reverse video.
func drawMarks(b *strings.Builder, th *view.Theme, r *chartRow, z, first, n, total, cursor int) {
	for c := first; c < first+n && c < total; c++ {
		ran, score := cellOf(r, c, z)
		glyph := byte(' ')
		var p view.Paint
		switch sev := model.SeverityOf(score); {
		case sev != model.SeverityNone:
			glyph = sev.Glyph()
			p = th.Cell(view.CellPlain, sev, c == cursor)
		case ran:
			glyph = ranGlyph
			if c == cursor {
				p = th.Cursor
			}
		case c == cursor:
			p = th.Cursor
		}
		b.WriteString(p.Open())
		b.WriteByte(glyph)
		b.WriteString(p.Close())
	}
}

// shareText writes a share of buckets in at most 5 cells.
func shareText(share float64) string {
	switch {
	case share <= 0:
		return "0%"
	case share < 0.001:
		return "<0.1%"
	case share < 0.1:
		return fmt.Sprintf("%.1f%%", share*100)
	}
	return fmt.Sprintf("%.0f%%", share*100)
}

// fleetText writes how many of the fleet ran an executable: "3/40".
func fleetText(n, size int) string {
	if size <= 0 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%d/%d", n, size)
}

// explain says in words why the anomaly's executable stands out on the
// chart: how often the host ran it and how many of the fleet did.
func explain(r *model.RareRow, active, fleet int, noun func(int) string) string {
	if r == nil {
		return ""
	}
	runs := "runs"
	if r.Executions == 1 {
		runs = "run"
	}
	s := fmt.Sprintf("ran in %s of %s active buckets (%s %s)", view.Thousands(len(r.Buckets)), view.Thousands(active),
		view.Thousands(int(r.Executions)), runs)
	if fleet > 0 {
		s += fmt.Sprintf("; %s of %s %s ran it in this range", view.Thousands(r.Fleet), view.Thousands(fleet), noun(fleet))
	}
	return s
}
