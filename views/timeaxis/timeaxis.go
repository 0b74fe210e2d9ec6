// Package timeaxis is the console's time grid, shared by every screen that
// draws time as columns (the swimlane, the rare-process chart, the rate
// drill-down): which buckets a column merges, the zoom ladder, the axis
// labels and the words for a span. Pure functions, tested table-driven.
package timeaxis

import (
	"fmt"
	"time"

	"github.com/auditlens/auditlens/views/model"
)

// NiceSpans are the column spans the zoom steps through: a column always
// covers a whole number of buckets and a span a reader can say out loud.
func NiceSpans() []time.Duration {
	const day = 24 * time.Hour
	return []time.Duration{
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 6 * time.Hour, 12 * time.Hour,
		day, 2 * day, 3 * day, 7 * day, 14 * day, 28 * day,
	}
}

// ZoomLadder lists the buckets per column the zoom offers for a bucket span:
// 1 (one bucket per column) and every nice span that is a multiple of it.
func ZoomLadder(span time.Duration) []int {
	ladder := []int{1}
	if span <= 0 {
		return ladder
	}
	for _, d := range NiceSpans() {
		if d > span && d%span == 0 {
			ladder = append(ladder, int(d/span))
		}
	}
	return ladder
}

// FitZoom picks the smallest rung whose columns all fit in width; the
// largest when none does (the grid then scrolls sideways).
func FitZoom(ladder []int, buckets, width int) int {
	for i, z := range ladder {
		if Columns(buckets, z) <= width {
			return i
		}
	}
	return len(ladder) - 1
}

// Columns is the number of columns buckets make at z buckets per column.
func Columns(buckets, z int) int {
	if z <= 0 || buckets <= 0 {
		return 0
	}
	return (buckets + z - 1) / z
}

// Axis label formats.
const (
	clockLayout = "15:04"
	dateLayout  = "Jan 02"
)

// Lines draws the time axis over columns [first, first+n) of colSpan
// each, starting at start: a line of dates (where days begin) when the range
// spans days or columns are days, and a line of clock times at nice ticks
// when columns are shorter than a day. Labels never overlap and never pass
// the right edge.
func Lines(start time.Time, colSpan time.Duration, first, n int, loc *time.Location, spansDays bool) []string {
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
	spans := NiceSpans()
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

// SpansDays reports whether the axis covers more than one calendar day in
// loc, in which case the axis shows dates.
func SpansDays(ax model.TimeAxis, loc *time.Location) bool {
	if ax.Buckets <= 0 {
		return false
	}
	a := ax.Start.In(loc)
	b := ax.End().Add(-time.Nanosecond).In(loc)
	return a.YearDay() != b.YearDay() || a.Year() != b.Year()
}

// SpanText writes a column's time range for the reader: "Nov 02 14:00–14:15"
// or "Nov 02–Nov 03" for day columns.
func SpanText(from, to time.Time, loc *time.Location) string {
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

// FormatSpan writes a span the short way: 15m, 2h, 1d.
func FormatSpan(d time.Duration) string {
	switch {
	case d <= 0:
		return d.String()
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
