package ratechart

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/canvas/graph"
	"github.com/NimbleMarkets/ntcharts/canvas/runes"
	tslc "github.com/NimbleMarkets/ntcharts/linechart/timeserieslinechart"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/lipgloss"
)

// Pure functions of the rate chart: merging buckets into columns, drawing
// the executions, the expectation and its band with ntcharts' time-series
// line chart, and the breakdown strips. They know nothing of Bubble Tea.

// column is one screen column of the chart: z buckets merged.
type column struct {
	actual, typical, lower, upper float64
	score                         float64
	modelled                      bool
}

// mergeColumns merges the chart's buckets z at a time: the highest count,
// upper bound and score, the lowest lower bound and the mean expectation,
// so a column still reads as executions per bucket and a burst is never
// averaged away. A bucket the model has no point for counts its
// executions from the split.
func mergeColumns(c *model.RateChart, z int) []column {
	n := len(c.Points)
	if z <= 0 || n == 0 {
		return nil
	}
	cols := make([]column, (n+z-1)/z)
	for ci := range cols {
		col := &cols[ci]
		col.lower = math.Inf(1)
		var typ float64
		var modelled int
		for b := ci * z; b < min(ci*z+z, n); b++ {
			p := c.Points[b]
			actual := p.Actual
			if !p.Modelled {
				actual = float64(splitTotal(c, b))
			}
			col.actual = max(col.actual, actual)
			col.score = max(col.score, p.Score)
			if p.Modelled {
				modelled++
				typ += p.Typical
				col.upper = max(col.upper, p.Upper)
				col.lower = min(col.lower, p.Lower)
			}
		}
		if modelled > 0 {
			col.modelled = true
			col.typical = typ / float64(modelled)
		} else {
			col.lower = 0
		}
	}
	return cols
}

// splitTotal is a bucket's executions from the split by executable.
func splitTotal(c *model.RateChart, b int) int64 {
	var n int64
	if b < len(c.Other) {
		n = c.Other[b]
	}
	for _, s := range c.Top {
		if b < len(s.Counts) {
			n += s.Counts[b]
		}
	}
	return n
}

// niceCeil rounds a chart's top up to 1, 2 or 5 times a power of ten, so
// the axis labels are round numbers.
func niceCeil(v float64) float64 {
	if !(v > 1) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		if f*p >= v {
			return f * p
		}
	}
	return 10 * p
}

// scale chooses the y axis for a peak over graphH rows: labels every
// yStep rows, at multiples of a round step, and the lowest top that holds
// the peak, so a burst fills the chart.
func scale(peak float64, graphH int) (yStep int, top float64) {
	if graphH < 4 {
		return 1, niceCeil(peak/float64(max(graphH, 1))) * float64(max(graphH, 1))
	}
	for _, ys := range []int{2, 3, 4} {
		if ys > graphH/2 {
			break
		}
		step := niceCeil(peak * float64(ys) / float64(graphH))
		if t := step * float64(graphH) / float64(ys); yStep == 0 || t < top {
			yStep, top = ys, t
		}
	}
	return yStep, top
}

// compact writes a count for the y axis: 950, 1.2k, 35k, 2.1M.
func compact(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return trimZero(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case a >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case a >= 1e3:
		return trimZero(fmt.Sprintf("%.1f", v/1e3)) + "k"
	case a >= 10 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return trimZero(fmt.Sprintf("%.1f", v))
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }

// Layers of the chart, from the back to the front: where two overlap the
// front one shows.
type layer int

const (
	layerNone layer = iota
	layerBand
	layerTypical
	layerActual
)

// plot is the chart drawn: the y axis with its labels (labelW cells, then
// the axis), then one cell per column, each with the layer it shows.
type plot struct {
	labelW int
	axis   [][]rune // height rows of labelW+1 cells
	base   [][]rune // the x axis under the columns, height rows of len(cols)
	cells  [][]rune // height rows of len(cols) cells
	layers [][]layer
}

// Names of the chart's data sets.
const (
	setAxis    = "axis" // left empty: drawing it draws only the axis
	setUpper   = "upper"
	setLower   = "lower"
	setTypical = "typical"
)

// bandRune shades the 95% band; typical and actual lines are drawn over it.
const bandRune = '░'

// drawPlot draws the columns in height rows with ntcharts' time-series line
// chart: the 95% band shaded between its upper and lower lines, the
// expectation dashed, the executions as a solid line, so they stay apart
// without colour. The chart's time range is set explicitly (it would
// otherwise start at now): one column before the first and one after the
// last, so column i lands on the i-th cell right of the axis and the edges
// do not bend the lines.
//
// The executions line is drawn with ntcharts' line primitive from exact
// per-column heights: the time-series chart averages the points a line
// passes through in each column, which would lower a one-bucket burst by a
// quarter of its height.
func drawPlot(cols []column, start time.Time, colSpan time.Duration, height int) plot {
	n := len(cols)
	var p plot
	if n == 0 || height < 2 || colSpan <= 0 {
		return p
	}
	// The canvas has one more row for the x labels, which are not shown
	// (the screen draws its own time axis); its x axis is the bottom row,
	// where zero lies.
	graphH := height - 1
	peak := 1.0
	for _, c := range cols {
		peak = max(peak, c.actual, c.upper)
	}
	yStep, top := scale(peak, graphH)
	label := func(_ int, v float64) string { return compact(v) }
	build := func(labelW int) tslc.Model {
		m := tslc.New(labelW+2+n, height+1, tslc.WithXYSteps(n+2, yStep), tslc.WithYLabelFormatter(label),
			tslc.WithLineStyle(runes.ArcLineStyle))
		m.AutoMinX, m.AutoMaxX, m.AutoMinY, m.AutoMaxY = false, false, false, false
		from, to := start.Add(-colSpan), start.Add(time.Duration(n)*colSpan)
		m.SetTimeRange(from, to)
		m.SetViewTimeRange(from, to)
		m.SetYRange(0, top)
		m.SetViewYRange(0, top)
		return m
	}
	// The label width depends on the labels; build once to learn it.
	guess := len(compact(top))
	m := build(guess)
	if w := m.Origin().X; w != guess {
		m = build(w)
	}
	p.labelW = m.Origin().X
	at := func(i int) time.Time { return start.Add(time.Duration(i) * colSpan) }
	push := func(set string, value func(column) float64) {
		first, last := -1, -1
		for i, c := range cols {
			if c.modelled {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		if first < 0 {
			return
		}
		// Points go in time order. The first and last values are held one
		// column further, so the line does not climb from zero (the
		// chart's value for a column without points) into its first
		// column or fall after its last; those columns are not shown.
		m.PushDataSet(set, tslc.TimePoint{Time: at(first - 1), Value: value(cols[first])})
		for i := first; i <= last; i++ {
			if cols[i].modelled {
				m.PushDataSet(set, tslc.TimePoint{Time: at(i), Value: value(cols[i])})
			}
		}
		m.PushDataSet(set, tslc.TimePoint{Time: at(last + 1), Value: value(cols[last])})
	}
	push(setUpper, func(c column) float64 { return c.upper })
	push(setLower, func(c column) float64 { return c.lower })
	push(setTypical, func(c column) float64 { return c.typical })

	grid := func() [][]rune {
		out := make([][]rune, height)
		for y := range out {
			out[y] = make([]rune, p.labelW+1+n)
			for x := range out[y] {
				out[y][x] = m.Canvas.Cell(canvas.Point{X: x, Y: y}).Rune
			}
		}
		return out
	}
	m.DrawDataSets([]string{setAxis})
	axis := grid()
	p.axis = make([][]rune, height)
	p.base = make([][]rune, height)
	p.cells = make([][]rune, height)
	p.layers = make([][]layer, height)
	for y := range axis {
		p.axis[y] = axis[y][:p.labelW+1]
		p.base[y] = axis[y][p.labelW+1:]
		p.cells[y] = make([]rune, n)
		p.layers[y] = make([]layer, n)
	}
	// drawn lists, per column, the rows a data set's line passes through
	// (leaving out the x axis it may run along).
	drawn := func(set string) [][]int {
		m.DrawDataSets([]string{set})
		g := grid()
		rows := make([][]int, n)
		for y := range g {
			for x := 0; x < n; x++ {
				c := p.labelW + 1 + x
				if r := g[y][c]; r != 0 && r != axis[y][c] {
					rows[x] = append(rows[x], y)
				}
			}
		}
		return rows
	}
	upper, lower := drawn(setUpper), drawn(setLower)
	for x := 0; x < n; x++ {
		if !cols[x].modelled {
			continue
		}
		lo, hi := height-1, -1
		for _, y := range upper[x] {
			lo, hi = min(lo, y), max(hi, y)
		}
		for _, y := range lower[x] {
			lo, hi = min(lo, y), max(hi, y)
		}
		for y := lo; y <= hi; y++ {
			p.cells[y][x], p.layers[y][x] = bandRune, layerBand
		}
	}
	m.DrawDataSets([]string{setTypical})
	g := grid()
	for y := range g {
		for x := 0; x < n; x++ {
			c := p.labelW + 1 + x
			if r := g[y][c]; r != 0 && r != axis[y][c] && cols[x].modelled {
				p.cells[y][x], p.layers[y][x] = dashed(r), layerTypical
			}
		}
	}

	// The executions: exact heights on the chart's own scale.
	m.Clear()
	seq := make([]int, n)
	origin := m.Origin()
	scale := float64(origin.Y) / top
	for i, c := range cols {
		seq[i] = origin.Y - int(math.Round(max(c.actual, 0)*scale))
	}
	graph.DrawLineSequence(&m.Canvas, false, origin.X+1, seq, runes.ArcLineStyle, lipgloss.NewStyle())
	g = grid()
	for y := range g {
		for x := 0; x < n; x++ {
			if r := g[y][p.labelW+1+x]; r != 0 {
				p.cells[y][x], p.layers[y][x] = r, layerActual
			}
		}
	}
	return p
}

// dashed turns the expectation's line runes into dashed ones.
func dashed(r rune) rune {
	switch r {
	case runes.LineHorizontal:
		return '╌'
	case runes.LineVertical:
		return '╎'
	}
	return r
}

// plotLines paints the plot: axis and labels dim, band dim, expectation in
// the description colour, executions bold, and executions in an anomalous
// column in its severity's colour.
func plotLines(p plot, cols []column, th *view.Theme) []string {
	out := make([]string, len(p.cells))
	var b strings.Builder
	for y := range p.cells {
		b.Reset()
		b.WriteString(th.Dim.Apply(runesText(p.axis[y])))
		for x, r := range p.cells[y] {
			if r == 0 {
				if base := p.base[y][x]; base != 0 {
					b.WriteString(th.Dim.Apply(string(base)))
				} else {
					b.WriteByte(' ')
				}
				continue
			}
			var paint view.Paint
			switch p.layers[y][x] {
			case layerBand:
				paint = th.Dim
			case layerTypical:
				paint = th.Desc
			case layerActual:
				paint = th.Bold
				if sev := model.SeverityOf(cols[x].score); sev != model.SeverityNone {
					paint = th.SeverityText[sev]
				}
			}
			b.WriteString(paint.Apply(string(r)))
		}
		out[y] = b.String()
	}
	return out
}

func runesText(rs []rune) string {
	var b strings.Builder
	for _, r := range rs {
		if r == 0 {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// blocks are the heights of a breakdown strip's cells.
var blocks = []rune(" ▁▂▃▄▅▆▇█")

// strip draws one executable's executions per column on a shared scale,
// so a burst stands out against the others: the highest count per bucket
// in the column, in eighths of top; any execution shows at least ▁.
func strip(counts []int64, z int, top int64) string {
	if z <= 0 || top <= 0 {
		return strings.Repeat(" ", (len(counts)+max(z, 1)-1)/max(z, 1))
	}
	var b strings.Builder
	for lo := 0; lo < len(counts); lo += z {
		var v int64
		for i := lo; i < min(lo+z, len(counts)); i++ {
			v = max(v, counts[i])
		}
		level := 0
		if v > 0 {
			level = max(1, int(math.Round(float64(v)/float64(top)*8)))
		}
		b.WriteRune(blocks[min(level, 8)])
	}
	return b.String()
}

// ratio says how a driver compares with its usual rate: "new" when it
// never ran before, else "41x".
func ratio(count int64, usual float64) string {
	switch {
	case count == 0:
		return "-"
	case usual <= 0:
		return "new"
	}
	r := float64(count) / usual
	switch {
	case r >= 1000:
		return ">999x"
	case r >= 10:
		return fmt.Sprintf("%.0fx", r)
	}
	return fmt.Sprintf("%.1fx", r)
}
