// Package ratechart is the rate drill-down, opened by enter on a rate
// anomaly: the host's or container's executions per bucket over a window
// around the anomaly, with the model's expectation and its 95% band and
// the anomalous buckets marked; below it the executions split by the top
// executables on one scale (the ssh and scp of a copy burst stand out),
// and the processes that drove the anomaly, in the bucket and as usual.
package ratechart

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/anomaly"
	"github.com/auditlens/auditlens/views/cases"
	"github.com/auditlens/auditlens/views/explorer"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/rules"
	"github.com/auditlens/auditlens/views/timeaxis"
	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Sizes of the screen's parts.
const (
	minWidth   = 50
	minHeight  = 12
	minLabel   = 8
	maxLabel   = 28
	rightW     = 7 // " 12,345": a breakdown row's count in the selected bucket
	minChartH  = 4
	maxStretch = 6 // most cells one bucket is stretched to
	executable = "process.executable"
)

// halves are the window's half-widths the zoom steps through; a day each
// side by default.
var halves = [...]time.Duration{3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	2 * 24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour}

const defaultHalf = 3

type loadedMsg struct {
	q    model.RateChartQuery
	data model.RateChart
}

// Model is the rate drill-down.
type Model struct {
	ctx           *view.Context
	keys          keyMap
	a             model.Anomaly
	width, height int

	half     int
	center   time.Time // the moment the window is centred on
	keepTime time.Time // the bucket to select once data lands
	q        model.RateChartQuery
	data     *model.RateChart
	loading  bool
	loadErr  error

	cols         []column // merged buckets, one per column
	cells        []column // the columns stretched to screen cells
	ladder       []int
	cursorBucket int
	sel          int // selected executable of the breakdown, -1 for all

	plotFor   plotKey
	plotCache plot
}

type plotKey struct {
	data          *model.RateChart
	z, k, height  int
	start         time.Time
	colSpanSecond int64
}

// New returns the drill-down of a rate anomaly.
func New(ctx *view.Context, a model.Anomaly) *Model {
	return &Model{ctx: ctx, keys: newKeyMap(), a: a, half: defaultHalf, center: a.Time, keepTime: a.Time, sel: -1}
}

// Init implements view.View: load the chart.
func (m *Model) Init() tea.Cmd { return m.load() }

func (m *Model) span() time.Duration {
	if s := m.ctx.Query.BucketSpan; s > 0 {
		return s
	}
	return m.a.BucketSpan
}

func (m *Model) load() tea.Cmd {
	q := m.ctx.Query
	half := halves[m.half]
	from, to := window(m.center, half, m.span())
	rq := model.RateChartQuery{Job: m.a.JobID, Scope: m.a.Scope, Partition: q.Partition, Entity: m.a.Entity,
		From: q.From, To: q.To, BucketSpan: m.span(), WindowFrom: from, WindowTo: to,
		Focus: m.a.Time, Influencers: influencers(m.a), Top: m.topN()}
	m.q = rq
	m.loading = true
	m.loadErr = nil
	return view.Fetch(view.FetchMsg{
		Key:   "rate chart",
		Label: "rate of " + safe.Text(rq.Entity),
		Run: view.OnDrillDown(func(ctx context.Context, d model.DrillDownBackend) (tea.Msg, error) {
			chart, err := d.RateChart(ctx, rq)
			if err != nil {
				return nil, err
			}
			return loadedMsg{q: rq, data: chart}, nil
		}),
	})
}

// window is the span shown around center: half each side of its bucket,
// widened to whole hours (or buckets, when longer), so merged columns start
// on the hour.
func window(center time.Time, half, span time.Duration) (time.Time, time.Time) {
	align := max(time.Hour, span)
	from := center.Add(-half)
	to := center.Add(span + half)
	a := int64(align / time.Second)
	if a <= 0 {
		return from, to
	}
	f := from.Unix() - mod(from.Unix(), a)
	t := to.Unix()
	if r := mod(t, a); r != 0 {
		t += a - r
	}
	return time.Unix(f, 0).UTC(), time.Unix(t, 0).UTC()
}

func mod(a, b int64) int64 { return ((a % b) + b) % b }

// topN is how many executables to break out: more on tall screens.
func (m *Model) topN() int {
	if m.height >= 30 {
		return 8
	}
	return 5
}

// influencers are the anomaly's executables.
func influencers(a model.Anomaly) []string {
	for _, in := range a.Influencers {
		if in.Field == executable {
			return in.Values
		}
	}
	return nil
}

// Title implements view.View.
func (m *Model) Title() string { return m.a.Entity + " > process rate" }

// KeyMap implements view.View.
func (m *Model) KeyMap() help.KeyMap { return m.bound() }

// bound is the key map with the case keys off when the backend keeps no
// cases.
func (m *Model) bound() keyMap {
	km := m.keys
	km.AddToCase.SetEnabled(m.ctx.Cases)
	km.Suppress.SetEnabled(m.ctx.Cases)
	return km
}

// MinSize implements view.MinSizer.
func (m *Model) MinSize() (int, int) { return minWidth, minHeight }

// FocusTime implements view.Focuser: the selected bucket.
func (m *Model) FocusTime() (time.Time, bool) {
	if m.data == nil || m.data.Axis.Buckets == 0 {
		return m.keepTime, !m.keepTime.IsZero()
	}
	return m.data.Axis.BucketStart(m.cursorBucket), true
}

// Status implements view.Statuser.
func (m *Model) Status() view.Status {
	if m.data == nil {
		return view.Status{}
	}
	n := 0
	for _, p := range m.data.Points {
		if p.Score > 0 {
			n++
		}
	}
	counts := fmt.Sprintf("window ±%s · %d anomalous %s", timeaxis.FormatSpan(halves[m.half]), n, plural(n, "bucket"))
	return view.Status{From: m.data.Axis.Start, To: m.data.Axis.End(), Counts: counts}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Legend implements view.Legender.
func (m *Model) Legend() []string {
	return []string{
		"lines: ─ executions per bucket · ╌ expected · ░ 95% band; a column merging buckets shows the highest count",
		"marks: . : + # @ an anomalous bucket by severity (the executions turn its colour) · ^ selected bucket",
		"strips: ▁ to █ executions per bucket on one scale for all rows · drivers: in the bucket vs usual per bucket over the week before",
	}
}

// Yank implements view.Yanker: the anomaly as its JSON record.
func (m *Model) Yank() (string, string, bool) {
	text, err := view.YankJSON(m.a.Record())
	if err != nil {
		return "", "", false
	}
	return text, "anomaly", true
}

// SetSize implements view.View.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// Update implements view.View.
func (m *Model) Update(msg tea.Msg) (view.View, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		if !sameQuery(msg.q, m.q) {
			return m, nil
		}
		m.setData(msg.data)
		return m, nil
	case view.FetchFailedMsg:
		if msg.Key == "rate chart" {
			m.loading = false
			m.loadErr = msg.Err
		}
		return m, nil
	case view.RefreshMsg:
		return m, m.load()
	case view.ResumeMsg:
		m.moveToTime(m.ctx.Focus)
		return m, nil
	case tea.KeyMsg:
		return m, m.keyPress(msg)
	}
	return m, nil
}

func sameQuery(a, b model.RateChartQuery) bool {
	return a.Job == b.Job && a.Entity == b.Entity && a.WindowFrom.Equal(b.WindowFrom) && a.WindowTo.Equal(b.WindowTo) &&
		a.From.Equal(b.From) && a.To.Equal(b.To) && a.BucketSpan == b.BucketSpan && a.Top == b.Top && a.Partition == b.Partition
}

func (m *Model) keyPress(k tea.KeyMsg) tea.Cmd {
	km := m.bound()
	switch {
	case key.Matches(k, km.Details):
		return view.Push(anomaly.New(m.ctx, m.a))
	case key.Matches(k, km.AddToCase):
		return cases.AddCmd(m.ctx, m.a)
	case key.Matches(k, km.Suppress):
		return rules.SuppressCmd(m.ctx, m.a)
	}
	if m.data == nil {
		return nil
	}
	switch {
	case key.Matches(k, km.Earlier):
		m.moveCol(-1)
	case key.Matches(k, km.Later):
		m.moveCol(1)
	case key.Matches(k, km.DayEarlier):
		m.moveCol(-m.dayCols())
	case key.Matches(k, km.DayLater):
		m.moveCol(m.dayCols())
	case key.Matches(k, km.First):
		m.moveCol(-1 << 30)
	case key.Matches(k, km.Last):
		m.moveCol(1 << 30)
	case key.Matches(k, km.Down):
		m.sel = min(m.sel+1, len(m.data.Top)-1)
	case key.Matches(k, km.Up):
		m.sel = max(m.sel-1, -1)
	case key.Matches(k, km.ZoomIn):
		return m.zoom(-1)
	case key.Matches(k, km.ZoomOut):
		return m.zoom(1)
	case key.Matches(k, km.Explore):
		return m.explore()
	}
	return nil
}

// zoom narrows or widens the window around the selected bucket.
func (m *Model) zoom(d int) tea.Cmd {
	h := min(max(m.half+d, 0), len(halves)-1)
	if h == m.half {
		return view.Notice("the window is at its limit, ±" + timeaxis.FormatSpan(halves[h]))
	}
	m.half = h
	if t, ok := m.FocusTime(); ok {
		m.center, m.keepTime = t, t
	}
	return tea.Batch(m.load(), view.Notice("window ±"+timeaxis.FormatSpan(halves[h])))
}

// explore opens the process explorer around the selected column, for the
// selected executable or all of them.
func (m *Model) explore() tea.Cmd {
	from, to := m.columnSpan()
	exe := ""
	if m.sel >= 0 && m.sel < len(m.data.Top) {
		exe = m.data.Top[m.sel].Executable
	}
	t := explorer.Around(m.a.Scope, m.data.Entity, exe, from, to)
	return view.Push(explorer.New(m.ctx, t))
}

// setData takes a loaded chart, made safe to index, and selects the
// bucket asked about.
func (m *Model) setData(c model.RateChart) {
	m.loading = false
	n := max(c.Axis.Buckets, 0)
	if n > 0 && c.Axis.BucketSpan <= 0 {
		m.loadErr = fmt.Errorf("the rate chart's time axis has %d buckets but no bucket span", n)
		return
	}
	c.Axis.Buckets = n
	if len(c.Points) != n {
		pts := make([]model.RatePoint, n)
		copy(pts, c.Points)
		c.Points = pts
	}
	if len(c.Other) != n {
		o := make([]int64, n)
		copy(o, c.Other)
		c.Other = o
	}
	for i := range c.Top {
		if len(c.Top[i].Counts) != n {
			cs := make([]int64, n)
			copy(cs, c.Top[i].Counts)
			c.Top[i].Counts = cs
		}
	}
	m.data = &c
	m.ladder = timeaxis.ZoomLadder(c.Axis.BucketSpan)
	m.cursorBucket = max(n-1, 0)
	if c.Focus >= 0 && c.Focus < n {
		m.cursorBucket = c.Focus
	}
	if b, ok := c.Axis.BucketAt(m.keepTime); ok {
		m.cursorBucket = b
	}
	m.sel = min(m.sel, len(c.Top)-1)
	m.cols, m.cells = nil, nil
}

func (m *Model) loc() *time.Location {
	if m.ctx.Location == nil {
		return time.UTC
	}
	return m.ctx.Location
}

// layout is where the screen's parts go at the current size.
type layout struct {
	head                 []string
	labelW, gridW        int
	z                    int // buckets per column
	k                    int // cells per column: short windows are stretched to the width
	chartH, axisLines    int
	breakRows, drivers   int
	breakTop, driversTop int
}

func (m *Model) layout() layout {
	var l layout
	w, h := max(m.width, 1), max(m.height, 1)
	l.head = m.headLines(w, h)
	l.labelW = minLabel
	if m.data != nil {
		for _, s := range m.data.Top {
			l.labelW = max(l.labelW, view.Width(safe.Text(s.Executable))+1)
		}
	}
	l.labelW = min(l.labelW, maxLabel, max(w/4, minLabel))
	l.gridW = max(w-l.labelW-1-rightW, 1)
	l.z, l.k = 1, 1
	if m.data != nil {
		l.z = m.ladder[timeaxis.FitZoom(m.ladder, m.data.Axis.Buckets, l.gridW)]
		if l.z == 1 && m.data.Axis.Buckets > 0 {
			l.k = min(max(l.gridW/m.data.Axis.Buckets, 1), maxStretch)
		}
	}
	l.axisLines = 1
	if m.data != nil && time.Duration(l.z)*m.data.Axis.BucketSpan < 24*time.Hour && timeaxis.SpansDays(m.data.Axis, m.loc()) {
		l.axisLines = 2
	}
	// head, chart, marks line, axis, caret line, breakdown title + rows,
	// drivers title + rows.
	fixed := len(l.head) + 1 + l.axisLines + 1 + 1 + 1
	avail := max(h-fixed, 0)
	wantBreak, wantDrivers := 1, 1
	if m.data != nil {
		wantBreak = max(len(m.data.Top)+1, 1) // and the rest
		wantDrivers = max(len(m.data.Drivers), 1)
	}
	l.chartH = max(minChartH, avail/2)
	rest := max(avail-l.chartH, 0)
	l.breakRows = min(wantBreak, max(1, rest*3/5))
	l.drivers = min(wantDrivers, max(rest-l.breakRows, 0))
	l.chartH += max(rest-l.breakRows-l.drivers, 0)
	l.breakTop = len(l.head) + l.chartH + 1 + l.axisLines + 1
	l.driversTop = l.breakTop + 1 + l.breakRows
	return l
}

// headLines are the anomaly's severity, score, entity and values, then why
// it scored, when the screen has room for it.
func (m *Model) headLines(w, h int) []string {
	th := m.ctx.Theme
	a := m.a
	sev := a.Severity()
	head := th.SeverityText[sev].Apply(fmt.Sprintf(" %c %s %s", sev.Glyph(), sev, model.FormatScore(a.Score))) +
		" " + th.Bold.Apply(safe.Text(a.Entity)) + " at " + a.Time.In(m.loc()).Format("Jan 02 15:04")
	if len(a.Actual) > 0 {
		head += fmt.Sprintf(" · %s executions, typical %s", model.FormatValues(a.Actual), model.FormatValues(a.Typical))
	}
	if d := model.Describe(a); d != "" {
		head += " · " + d
	}
	why := safe.Text(a.Why)
	if h < 16 || why == "" {
		return []string{view.Truncate(head, w)}
	}
	return []string{view.Truncate(head, w), view.Truncate("   "+why, w)}
}

func (m *Model) ncols(z int) int {
	if m.data == nil {
		return 0
	}
	return timeaxis.Columns(m.data.Axis.Buckets, z)
}

func (m *Model) cursorCol(z int) int { return m.cursorBucket / max(z, 1) }

func (m *Model) dayCols() int {
	if m.data == nil {
		return 1
	}
	col := time.Duration(m.layout().z) * m.data.Axis.BucketSpan
	return max(1, int((24*time.Hour+col/2)/col))
}

// columnSpan is the time span of the selected column.
func (m *Model) columnSpan() (time.Time, time.Time) {
	ax := m.data.Axis
	z := m.layout().z
	from := ax.BucketStart(m.cursorCol(z) * z)
	to := from.Add(time.Duration(z) * ax.BucketSpan)
	if end := ax.End(); to.After(end) {
		to = end
	}
	return from, to
}

func (m *Model) moveCol(d int) {
	if m.data == nil || m.data.Axis.Buckets == 0 {
		return
	}
	z := m.layout().z
	col := min(max(m.cursorCol(z)+d, 0), m.ncols(z)-1)
	m.cursorBucket = min(col*z+m.cursorBucket%z, m.data.Axis.Buckets-1)
}

// moveToTime selects the bucket holding t (the explorer's selected time on
// the way back), when it is in the window.
func (m *Model) moveToTime(t time.Time) {
	if m.data == nil || t.IsZero() {
		return
	}
	if b, ok := m.data.Axis.BucketAt(t); ok {
		m.cursorBucket = b
	}
}

// plotOf draws the chart for a layout, reusing the last drawing while the
// data and the geometry stay the same (moving the cursor does not redraw).
func (m *Model) plotOf(l layout) (plot, []column) {
	d := m.data
	key := plotKey{data: d, z: l.z, k: l.k, height: l.chartH, start: d.Axis.Start, colSpanSecond: int64(d.Axis.BucketSpan / time.Second)}
	if key != m.plotFor || m.cols == nil {
		m.cols = mergeColumns(d, l.z)
		m.cells = stretch(m.cols, l.k)
		m.plotCache = drawPlot(m.cells, d.Axis.Start, cellSpan(l, d.Axis.BucketSpan), l.chartH)
		m.plotFor = key
	}
	return m.plotCache, m.cells
}

// cellSpan is the time one screen cell covers.
func cellSpan(l layout, bucket time.Duration) time.Duration {
	return time.Duration(l.z) * bucket / time.Duration(max(l.k, 1))
}

// View implements view.View.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	th := m.ctx.Theme
	l := m.layout()
	lines := make([]string, 0, m.height)
	lines = append(lines, l.head...)
	if m.data == nil {
		lines = append(lines, m.placeholder()...)
		return view.Frame(strings.Join(lines, "\n"), m.width, m.height)
	}
	d := m.data
	p, cells := m.plotOf(l)
	n := len(cells)
	cursor := m.cursorCol(l.z)
	gridX := l.labelW + 1

	// The chart, its y labels right-aligned into the label column.
	for _, s := range plotLines(p, cells, th) {
		lines = append(lines, strings.Repeat(" ", max(gridX-p.labelW-1, 0))+s)
	}
	if n == 0 {
		lines = append(lines, th.Dim.Apply(view.Truncate(" no buckets in this window", m.width)))
	}
	// The anomalous buckets, by severity glyph and colour.
	var b strings.Builder
	b.WriteString(th.Dim.Apply(view.FitRight("anomaly ", gridX)))
	for x, c := range cells {
		sev := model.SeverityOf(c.score)
		p := th.Cell(view.CellPlain, sev, x/l.k == cursor)
		b.WriteString(p.Apply(string(sev.Glyph())))
	}
	lines = append(lines, b.String())
	colSpan := time.Duration(l.z) * d.Axis.BucketSpan
	axis := timeaxis.Lines(d.Axis.Start, cellSpan(l, d.Axis.BucketSpan), 0, n, m.loc(), l.axisLines == 2)
	for len(axis) < l.axisLines {
		axis = append([]string{""}, axis...)
	}
	for i, a := range axis {
		label := strings.Repeat(" ", gridX)
		if i == len(axis)-1 {
			label = th.Dim.Apply(view.Fit(" col "+timeaxis.FormatSpan(colSpan), gridX))
		}
		lines = append(lines, label+a)
	}
	lines = append(lines, m.caretLine(gridX+cursor*l.k))

	lines = append(lines, m.breakdownLines(l, cursor, gridX)...)
	lines = append(lines, m.driverLines(l)...)
	return view.Frame(strings.Join(lines, "\n"), m.width, m.height)
}

// caretLine points at the selected column and gives its numbers, so the
// chart's shape never has to be read for a value; in short words when the
// long ones do not fit beside the caret.
func (m *Model) caretLine(pos int) string {
	th := m.ctx.Theme
	from, to := m.columnSpan()
	long, short := timeaxis.SpanText(from, to, m.loc()), from.In(m.loc()).Format("15:04")
	z := m.layout().z
	if c := m.cursorCol(z); c < len(m.cols) {
		col := m.cols[c]
		long += fmt.Sprintf(" · %s executions", compact(col.actual))
		short += " " + compact(col.actual)
		if col.modelled {
			long += fmt.Sprintf(" · expected %s (%s–%s)", compact(col.typical), compact(col.lower), compact(col.upper))
			short += fmt.Sprintf(" · exp %s (%s–%s)", compact(col.typical), compact(col.lower), compact(col.upper))
		} else {
			long += " · no expectation yet"
		}
		if col.score > 0 {
			sev := model.SeverityOf(col.score)
			long += fmt.Sprintf(" · %s %s", sev, model.FormatScore(col.score))
			short += fmt.Sprintf(" · %c %s", sev.Glyph(), model.FormatScore(col.score))
		}
	}
	for _, text := range []string{long, short} {
		if pos+2+view.Width(text) <= m.width {
			return strings.Repeat(" ", pos) + "^ " + th.Dim.Apply(text)
		}
		if view.Width(text)+1 <= pos {
			return strings.Repeat(" ", pos-view.Width(text)-1) + th.Dim.Apply(text) + " ^"
		}
	}
	return view.Truncate(strings.Repeat(" ", pos)+"^ "+th.Dim.Apply(short), m.width)
}

// breakdownLines draws the split by executable: one strip per top
// executable on a scale shared by all rows, then the rest, each with its
// count in the selected column.
func (m *Model) breakdownLines(l layout, cursor, gridX int) []string {
	th := m.ctx.Theme
	d := m.data
	var out []string
	from, _ := m.columnSpan()
	title := " executions by executable · count at " + from.In(m.loc()).Format("15:04")
	out = append(out, th.Header.Apply(view.Truncate(title, m.width)))
	var top int64 = 1
	for _, s := range d.Top {
		for lo := 0; lo < len(s.Counts); lo++ {
			top = max(top, s.Counts[lo])
		}
	}
	for _, v := range d.Other {
		top = max(top, v)
	}
	type row struct {
		name   string
		counts []int64
		sel    bool
	}
	rows := make([]row, 0, len(d.Top)+1)
	for i, s := range d.Top {
		rows = append(rows, row{name: safe.Text(s.Executable), counts: s.Counts, sel: i == m.sel})
	}
	if anyPositive(d.Other) {
		rows = append(rows, row{name: "(the rest)", counts: d.Other})
	}
	if len(rows) == 0 {
		out = append(out, th.Dim.Apply(view.Truncate(" no executions in this window", m.width)))
	}
	first := 0
	if m.sel >= l.breakRows {
		first = m.sel - l.breakRows + 1
	}
	for i := first; i < len(rows) && i < first+l.breakRows; i++ {
		r := rows[i]
		caret := " "
		if r.sel {
			caret = ">"
		}
		name := caret + fitName(r.name, l.labelW-1)
		if r.sel {
			name = th.Selected.Apply(name)
		}
		s := []rune(strip(r.counts, l.z, top))
		var b strings.Builder
		b.WriteString(name)
		b.WriteByte(' ')
		for x, c := range stretchRunes(s, l.k) {
			if x/l.k == cursor {
				b.WriteString(th.Cursor.Apply(string(c)))
			} else {
				b.WriteRune(c)
			}
		}
		var at int64
		for bk := cursor * l.z; bk < min(cursor*l.z+l.z, len(r.counts)); bk++ {
			at += r.counts[bk]
		}
		b.WriteString(view.FitRight(view.Thousands(int(at)), l.gridW-len(s)*l.k+rightW))
		out = append(out, b.String())
	}
	return out
}

// stretch repeats each column k times, one per screen cell.
func stretch(cols []column, k int) []column {
	if k <= 1 {
		return cols
	}
	out := make([]column, 0, len(cols)*k)
	for _, c := range cols {
		for i := 0; i < k; i++ {
			out = append(out, c)
		}
	}
	return out
}

func stretchRunes(rs []rune, k int) []rune {
	if k <= 1 {
		return rs
	}
	out := make([]rune, 0, len(rs)*k)
	for _, r := range rs {
		for i := 0; i < k; i++ {
			out = append(out, r)
		}
	}
	return out
}

func anyPositive(v []int64) bool {
	for _, x := range v {
		if x > 0 {
			return true
		}
	}
	return false
}

func fitName(s string, w int) string {
	if view.Width(s) > w {
		return view.TruncateLeft(s, w)
	}
	return view.Fit(s, w)
}

// driverLines is the table of the processes that drove the anomaly: their
// executions in its bucket against their usual rate.
func (m *Model) driverLines(l layout) []string {
	th := m.ctx.Theme
	d := m.data
	if l.drivers <= 0 {
		return nil
	}
	focus := m.a.Time.In(m.loc()).Format("Jan 02 15:04")
	nameW := max(m.width-1-10-10-7-12, 10)
	header := " " + view.Fit("processes that drove "+focus, nameW) + view.FitRight("in bucket", 10) +
		view.FitRight("usual", 10) + view.FitRight("ratio", 7) + "  " + "why"
	out := []string{th.Header.Apply(view.Truncate(header, m.width))}
	if len(d.Drivers) == 0 {
		return append(out, th.Dim.Apply(view.Truncate(" no executions in the anomaly's bucket", m.width)))
	}
	for i := 0; i < len(d.Drivers) && i < l.drivers; i++ {
		dr := d.Drivers[i]
		why := ""
		if dr.Influencer {
			why = "influencer"
		}
		line := " " + fitName(safe.Text(dr.Executable), nameW) + view.FitRight(view.Thousands(int(dr.Count)), 10) +
			view.FitRight(usualText(dr.Usual), 10) + view.FitRight(ratio(dr.Count, dr.Usual), 7) + "  " + why
		out = append(out, view.Truncate(line, m.width))
	}
	return out
}

// usualText writes a mean per bucket: small rates keep two decimals.
func usualText(u float64) string {
	switch {
	case u <= 0:
		return "0"
	case u < 10:
		return fmt.Sprintf("%.2f", u)
	}
	return compact(u)
}

func (m *Model) placeholder() []string {
	th := m.ctx.Theme
	if m.loadErr != nil {
		out := []string{th.Error.Apply(" could not load the rate chart:")}
		for _, l := range view.Wrap(safe.Text(m.loadErr.Error()), max(m.width-1, 1)) {
			out = append(out, " "+l)
		}
		return append(out, " r tries again · d shows the anomaly record")
	}
	return []string{th.Dim.Apply(" loading the rate of " + safe.Text(m.a.Entity) + "…")}
}
