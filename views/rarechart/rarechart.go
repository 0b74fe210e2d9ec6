// Package rarechart is the rare-process chart, opened by enter on a rare
// anomaly: for the host or container, one row per executable from the most
// to the least frequent, a mark in every bucket it ran in over the job's
// range, the anomaly in its severity's colour and glyph, and beside each row
// its share of the entity's buckets and how many of the fleet ran it. At the
// top, why the anomaly scored, in words.
//
// From a row, enter (or p) opens the process explorer for that executable
// around the selected time.
package rarechart

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
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
	minWidth  = 46
	minHeight = 8
	minLabel  = 10
	shareW    = 5 // "12.5%"
)

type loadedMsg struct {
	q    model.RareChartQuery
	data model.RareChart
}

// Model is the rare-process chart.
type Model struct {
	ctx           *view.Context
	keys          keyMap
	a             model.Anomaly
	width, height int

	q       model.RareChartQuery
	data    *model.RareChart
	loading bool
	loadErr error

	rows      []chartRow
	shown     []int // indices into rows, narrowed by the filter
	nameWidth int
	filter    string
	re        *regexp.Regexp

	ladder       []int
	zoom         int
	fitted       bool
	cursorBucket int
	leftCol      int
	row          int // index into shown
	top          int
}

// New returns the chart of the anomaly's host or container.
func New(ctx *view.Context, a model.Anomaly) *Model {
	return &Model{ctx: ctx, keys: newKeyMap(), a: a, fitted: true}
}

// Init implements view.View: load the chart.
func (m *Model) Init() tea.Cmd {
	q := m.ctx.Query
	span := q.BucketSpan
	if span <= 0 {
		span = m.a.BucketSpan
	}
	rq := model.RareChartQuery{Job: m.a.JobID, Scope: m.a.Scope, Partition: q.Partition, Entity: m.a.Entity,
		From: q.From, To: q.To, BucketSpan: span}
	m.q = rq
	m.loading = true
	m.loadErr = nil
	return view.Fetch(view.FetchMsg{
		Key:   "rare chart",
		Label: "rare processes of " + safe.Text(rq.Entity),
		Run: view.OnDrillDown(func(ctx context.Context, d model.DrillDownBackend) (tea.Msg, error) {
			chart, err := d.RareChart(ctx, rq)
			if err != nil {
				return nil, err
			}
			return loadedMsg{q: rq, data: chart}, nil
		}),
	})
}

// Title implements view.View.
func (m *Model) Title() string { return m.a.Entity + " > rare processes" }

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

// FilterTarget implements view.Filterable.
func (m *Model) FilterTarget() string { return "executables" }

// Filter implements view.Filterable.
func (m *Model) Filter() string { return m.filter }

// FocusTime implements view.Focuser: the selected bucket.
func (m *Model) FocusTime() (time.Time, bool) {
	if m.data == nil || m.data.Axis.Buckets == 0 {
		return m.a.Time, !m.a.Time.IsZero()
	}
	return m.data.Axis.BucketStart(m.cursorBucket), true
}

// Status implements view.Statuser.
func (m *Model) Status() view.Status {
	if m.data == nil {
		return view.Status{}
	}
	n := len(m.rows)
	counts := view.Thousands(n) + " executables"
	if len(m.shown) != n {
		counts = view.Thousands(len(m.shown)) + "/" + counts
	}
	if m.data.FleetSize > 0 {
		counts += " · " + view.Thousands(m.data.FleetSize) + " " + m.data.Scope.Noun(m.data.FleetSize)
	}
	return view.Status{From: m.data.Axis.Start, To: m.data.Axis.End(), Counts: counts}
}

// Legend implements view.Legender.
func (m *Model) Legend() []string {
	noun := m.a.Scope.Noun(2)
	return []string{
		"marks: | ran in the bucket (or in one of the column's buckets) · . : + # @ a rare anomaly, by severity",
		"share: of the buckets in which the " + m.a.Scope.Noun(1) + " ran anything · fleet: " + noun + " that ran it in the range",
		"rows: most frequent at the top, rarest at the bottom · > selected row · ^ selected time",
	}
}

// rowRecord is a row as y copies it.
type rowRecord struct {
	Entity      string  `json:"entity"`
	Executable  string  `json:"process.executable"`
	Buckets     int     `json:"buckets_ran"`
	Active      int     `json:"buckets_active"`
	Share       float64 `json:"bucket_share"`
	Executions  int64   `json:"executions"`
	FleetHosts  int     `json:"fleet_ran"`
	FleetSize   int     `json:"fleet_size"`
	FirstBucket string  `json:"first_bucket,omitempty"`
	LastBucket  string  `json:"last_bucket,omitempty"`
}

// Yank implements view.Yanker: the selected executable's row.
func (m *Model) Yank() (string, string, bool) {
	r := m.selected()
	if r == nil {
		return "", "", false
	}
	rec := rowRecord{Entity: m.data.Entity, Executable: r.row.Executable, Buckets: len(r.row.Buckets),
		Active: m.data.ActiveBuckets, Share: r.row.Share(m.data.ActiveBuckets), Executions: r.row.Executions,
		FleetHosts: r.row.Fleet, FleetSize: m.data.FleetSize}
	if n := len(r.row.Buckets); n > 0 {
		rec.FirstBucket = m.data.Axis.BucketStart(r.row.Buckets[0]).UTC().Format(time.RFC3339)
		rec.LastBucket = m.data.Axis.BucketStart(r.row.Buckets[n-1]).UTC().Format(time.RFC3339)
	}
	text, err := view.YankJSON(rec)
	if err != nil {
		return "", "", false
	}
	return text, "executable", true
}

// SetSize implements view.View.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.relayout()
}

// Update implements view.View.
func (m *Model) Update(msg tea.Msg) (view.View, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.q != m.q {
			return m, nil
		}
		m.setData(msg.data)
		return m, nil
	case view.FetchFailedMsg:
		if msg.Key == "rare chart" {
			m.loading = false
			m.loadErr = msg.Err
		}
		return m, nil
	case view.RefreshMsg:
		return m, m.Init()
	case view.ResumeMsg:
		m.moveToTime(m.ctx.Focus)
		return m, nil
	case view.FilterMsg:
		m.setFilter(msg.Text, msg.Pattern)
		return m, nil
	case view.StepMatchMsg:
		d := 1
		if msg.Backward {
			d = -1
		}
		m.step(d, true)
		return m, nil
	case tea.KeyMsg:
		return m, m.keyPress(msg)
	}
	return m, nil
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
	half := max(1, m.layout().rows/2)
	switch {
	case key.Matches(k, km.Down):
		m.step(1, false)
	case key.Matches(k, km.Up):
		m.step(-1, false)
	case key.Matches(k, km.PageDown):
		m.step(half, false)
	case key.Matches(k, km.PageUp):
		m.step(-half, false)
	case key.Matches(k, km.Top):
		m.step(-1<<30, false)
	case key.Matches(k, km.Bottom):
		m.step(1<<30, false)
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
	case key.Matches(k, km.ZoomIn):
		return m.setZoom(m.zoom - 1)
	case key.Matches(k, km.ZoomOut):
		return m.setZoom(m.zoom + 1)
	case key.Matches(k, km.Explore):
		return m.explore()
	}
	return nil
}

// explore opens the process explorer for the selected executable around
// the selected column.
func (m *Model) explore() tea.Cmd {
	r := m.selected()
	if r == nil {
		return view.Notice("no executable selected")
	}
	from, to := m.columnSpan()
	t := explorer.Around(m.a.Scope, m.data.Entity, r.row.Executable, from, to)
	t.Focus = m.data.Axis.BucketStart(m.cursorBucket)
	return view.Push(explorer.New(m.ctx, t))
}

// setData takes a loaded chart: sanitizes the names once, merges the
// opened anomaly into the marks, and selects its executable and bucket.
func (m *Model) setData(c model.RareChart) {
	m.loading = false
	if c.Axis.Buckets < 0 || (c.Axis.Buckets > 0 && c.Axis.BucketSpan <= 0) {
		m.loadErr = errors.New("the chart's time axis is malformed")
		return
	}
	m.data = &c
	marks := map[string][]mark{}
	for _, mk := range c.Marks {
		if mk.Bucket >= 0 && mk.Bucket < c.Axis.Buckets {
			marks[mk.Executable] = append(marks[mk.Executable], mark{bucket: mk.Bucket, score: mk.Score})
		}
	}
	if b, ok := c.Axis.BucketAt(m.a.Time); ok && m.a.Executable != "" {
		// The opened anomaly is always marked, whatever the backend listed.
		marks[m.a.Executable] = append(marks[m.a.Executable], mark{bucket: b, score: m.a.Score})
	}
	m.rows = make([]chartRow, 0, len(c.Rows))
	m.nameWidth = minLabel
	for _, r := range c.Rows {
		buckets := slices.DeleteFunc(slices.Clone(r.Buckets), func(b int) bool { return b < 0 || b >= c.Axis.Buckets })
		slices.Sort(buckets)
		r.Buckets = slices.Compact(buckets)
		mk := marks[r.Executable]
		slices.SortFunc(mk, func(a, b mark) int { return a.bucket - b.bucket })
		cr := chartRow{row: r, marks: mk, text: safe.Text(r.Executable)}
		m.nameWidth = max(m.nameWidth, view.Width(cr.text))
		m.rows = append(m.rows, cr)
	}
	m.ladder = timeaxis.ZoomLadder(c.Axis.BucketSpan)
	m.zoom = min(m.zoom, len(m.ladder)-1)
	m.cursorBucket = max(c.Axis.Buckets-1, 0)
	if b, ok := c.Axis.BucketAt(m.a.Time); ok {
		m.cursorBucket = b
	}
	m.refilter()
	m.row = max(len(m.shown)-1, 0)
	for i, ri := range m.shown {
		if m.rows[ri].row.Executable == m.a.Executable {
			m.row = i
		}
	}
	m.relayout()
	m.leftCol = m.cursorCol() - m.layout().gridW/2
	m.scroll()
}

func (m *Model) refilter() {
	keep := ""
	if r := m.selected(); r != nil {
		keep = r.row.Executable
	}
	m.shown = m.shown[:0]
	for i := range m.rows {
		if m.re == nil || m.re.MatchString(m.rows[i].row.Executable) {
			m.shown = append(m.shown, i)
		}
	}
	m.row = min(m.row, max(len(m.shown)-1, 0))
	for i, ri := range m.shown {
		if m.rows[ri].row.Executable == keep {
			m.row = i
		}
	}
	m.scroll()
}

func (m *Model) setFilter(text string, re *regexp.Regexp) {
	m.filter, m.re = text, re
	if re == nil {
		m.filter = ""
	}
	m.refilter()
}

func (m *Model) selected() *chartRow {
	if m.row < 0 || m.row >= len(m.shown) {
		return nil
	}
	return &m.rows[m.shown[m.row]]
}

// layout is where the screen's parts go at the current size.
type layout struct {
	explain        []string
	axisLines      int
	labelW, gridX  int
	gridW, fleetW  int
	rows, rowsTop  int
	caretLine      int
	rightX, rightW int
}

func (m *Model) layout() layout {
	var l layout
	w, h := max(m.width, 1), max(m.height, 1)
	l.explain = m.explainLines(w, h)
	l.axisLines = 1
	if m.data != nil && time.Duration(m.z())*m.data.Axis.BucketSpan < 24*time.Hour && timeaxis.SpansDays(m.data.Axis, m.loc()) {
		l.axisLines = 2
	}
	l.fleetW = 3
	if m.data != nil {
		l.fleetW = max(len(fleetText(m.data.FleetSize, m.data.FleetSize)), len("fleet"))
	}
	l.rightW = 1 + shareW + 1 + l.fleetW
	l.labelW = min(m.nameWidth, max(minLabel, w/3))
	l.gridX = 1 + l.labelW + 1
	l.gridW = max(w-l.gridX-l.rightW, 1)
	l.rightX = l.gridX + l.gridW
	l.rowsTop = len(l.explain) + 1 + l.axisLines
	l.caretLine = h - 1
	l.rows = max(l.caretLine-l.rowsTop, 0)
	return l
}

// explainLines is the explanation at the top: the anomaly's severity, score
// and executable, then why it scored, on two lines when the screen has
// room for them.
func (m *Model) explainLines(w, h int) []string {
	th := m.ctx.Theme
	sev := m.a.Severity()
	head := th.SeverityText[sev].Apply(fmt.Sprintf(" %c %s %s", sev.Glyph(), sev, model.FormatScore(m.a.Score))) +
		" " + th.Bold.Apply(safe.Text(m.a.Executable)) + " at " + m.a.Time.In(m.loc()).Format("Jan 02 15:04")
	why := safe.Text(m.a.Why)
	if why == "" {
		why = "no explanation recorded"
	}
	if h < 14 {
		return []string{view.Truncate(head+" · "+why, w)}
	}
	lines := []string{view.Truncate(head, w)}
	wrapped := view.Wrap(why, max(w-3, 1))
	if len(wrapped) > 1 {
		wrapped[0] = view.Truncate(wrapped[0]+" "+wrapped[1], max(w-3, 1))
	}
	return append(lines, "   "+wrapped[0])
}

func (m *Model) loc() *time.Location {
	if m.ctx.Location == nil {
		return time.UTC
	}
	return m.ctx.Location
}

func (m *Model) z() int {
	if len(m.ladder) == 0 {
		return 1
	}
	return m.ladder[min(max(m.zoom, 0), len(m.ladder)-1)]
}

func (m *Model) ncols() int {
	if m.data == nil {
		return 0
	}
	return timeaxis.Columns(m.data.Axis.Buckets, m.z())
}

func (m *Model) cursorCol() int { return m.cursorBucket / m.z() }

func (m *Model) dayCols() int {
	if m.data == nil {
		return 1
	}
	col := time.Duration(m.z()) * m.data.Axis.BucketSpan
	return max(1, int((24*time.Hour+col/2)/col))
}

// columnSpan is the time span of the selected column.
func (m *Model) columnSpan() (time.Time, time.Time) {
	ax := m.data.Axis
	from := ax.BucketStart(m.cursorCol() * m.z())
	to := from.Add(time.Duration(m.z()) * ax.BucketSpan)
	if end := ax.End(); to.After(end) {
		to = end
	}
	return from, to
}

// relayout fits the zoom to the width (until the analyst zooms) and keeps
// the cursor in sight.
func (m *Model) relayout() {
	if m.data == nil {
		return
	}
	if m.fitted {
		m.zoom = timeaxis.FitZoom(m.ladder, m.data.Axis.Buckets, m.layout().gridW)
	}
	m.scroll()
}

func (m *Model) scroll() {
	if m.data == nil {
		return
	}
	l := m.layout()
	if m.row < m.top {
		m.top = m.row
	}
	if l.rows > 0 && m.row >= m.top+l.rows {
		m.top = m.row - l.rows + 1
	}
	m.top = min(max(m.top, 0), max(len(m.shown)-l.rows, 0))
	c := m.cursorCol()
	if c < m.leftCol {
		m.leftCol = c
	}
	if c >= m.leftCol+l.gridW {
		m.leftCol = c - l.gridW + 1
	}
	m.leftCol = min(max(m.leftCol, 0), max(m.ncols()-l.gridW, 0))
}

func (m *Model) step(d int, wrap bool) {
	n := len(m.shown)
	if n == 0 {
		return
	}
	if wrap {
		m.row = ((m.row+d)%n + n) % n
	} else {
		m.row = min(max(m.row+d, 0), n-1)
	}
	m.scroll()
}

// moveCol moves the selected column by d, keeping the bucket's place within
// its column so zooming back in returns to the same bucket.
func (m *Model) moveCol(d int) {
	if m.data == nil || m.data.Axis.Buckets == 0 {
		return
	}
	z := m.z()
	col := min(max(m.cursorCol()+d, 0), m.ncols()-1)
	m.cursorBucket = min(col*z+m.cursorBucket%z, m.data.Axis.Buckets-1)
	m.scroll()
}

// moveToTime selects the bucket holding t (the explorer's selected time on
// the way back).
func (m *Model) moveToTime(t time.Time) {
	if m.data == nil || t.IsZero() {
		return
	}
	if b, ok := m.data.Axis.BucketAt(t); ok {
		m.cursorBucket = b
		m.scroll()
	}
}

func (m *Model) setZoom(rung int) tea.Cmd {
	if m.data == nil {
		return nil
	}
	rung = min(max(rung, 0), len(m.ladder)-1)
	if rung == m.zoom {
		return nil
	}
	m.zoom, m.fitted = rung, false
	m.leftCol = m.cursorCol() - m.layout().gridW/2
	m.scroll()
	return view.Notice("one column is " + timeaxis.FormatSpan(time.Duration(m.z())*m.data.Axis.BucketSpan))
}

// View implements view.View.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	th := m.ctx.Theme
	l := m.layout()
	lines := make([]string, 0, m.height)
	lines = append(lines, l.explain...)
	if m.data == nil {
		lines = append(lines, m.placeholder()...)
		return view.Frame(strings.Join(lines, "\n"), m.width, m.height)
	}
	d := m.data
	lines = append(lines, th.Dim.Apply(view.Truncate(m.summary(), m.width)))

	z := m.z()
	colSpan := time.Duration(z) * d.Axis.BucketSpan
	visible := max(min(l.gridW, m.ncols()-m.leftCol), 0)
	axis := timeaxis.Lines(d.Axis.Start, colSpan, m.leftCol, visible, m.loc(), l.axisLines == 2)
	for len(axis) < l.axisLines {
		axis = append([]string{""}, axis...)
	}
	for i, a := range axis {
		label := strings.Repeat(" ", l.gridX)
		right := ""
		if i == len(axis)-1 {
			label = th.Dim.Apply(view.Fit(" col "+timeaxis.FormatSpan(colSpan), l.gridX))
			right = th.Header.Apply(" " + view.FitRight("share", shareW) + " " + view.FitRight("fleet", l.fleetW))
		}
		lines = append(lines, label+view.Fit(a, l.gridW)+right)
	}

	switch {
	case len(m.rows) == 0:
		lines = append(lines, th.Dim.Apply(view.Truncate(" no executions of "+safe.Text(d.Entity)+" in this range", m.width)))
	case len(m.shown) == 0:
		lines = append(lines, th.Dim.Apply(view.Truncate(" no executables match the filter", m.width)))
	}
	var b strings.Builder
	cursor := m.cursorCol()
	for i := m.top; i < len(m.shown) && i < m.top+l.rows; i++ {
		r := &m.rows[m.shown[i]]
		isCursor := i == m.row
		b.Reset()
		caret := " "
		if isCursor {
			caret = ">"
		}
		name := caret + fitName(r.text, l.labelW)
		if isCursor {
			name = th.Selected.Apply(name)
		}
		b.WriteString(name)
		b.WriteByte(' ')
		cur := -1
		if isCursor {
			cur = cursor
		}
		drawMarks(&b, th, r, z, m.leftCol, visible, m.ncols(), cur)
		if pad := l.gridW - visible; pad > 0 {
			b.WriteString(strings.Repeat(" ", pad))
		}
		b.WriteString(" " + view.FitRight(shareText(r.row.Share(d.ActiveBuckets)), shareW))
		b.WriteString(" " + view.FitRight(fleetText(r.row.Fleet, d.FleetSize), l.fleetW))
		lines = append(lines, b.String())
	}
	for len(lines) < l.caretLine {
		lines = append(lines, "")
	}
	lines = append(lines, m.caretLine(l, cursor-m.leftCol))
	return view.Frame(strings.Join(lines, "\n"), m.width, m.height)
}

// fitName fits an executable in the label column keeping its end, where a
// path's name is.
func fitName(s string, w int) string {
	if view.Width(s) > w {
		return view.TruncateLeft(s, w)
	}
	return view.Fit(s, w)
}

// summary says whose chart, how big, over what.
func (m *Model) summary() string {
	d := m.data
	parts := []string{" " + safe.Text(d.Entity), view.Thousands(len(m.rows)) + " executables",
		view.Thousands(d.ActiveBuckets) + " of " + view.Thousands(d.Axis.Buckets) + " buckets active"}
	for i := range m.rows {
		if m.rows[i].row.Executable == m.a.Executable {
			parts = append(parts, safe.Text(m.a.Executable)+" "+explain(&m.rows[i].row, d.ActiveBuckets, d.FleetSize, d.Scope.Noun))
		}
	}
	return strings.Join(parts, " · ")
}

// caretLine points at the selected column and says what the selected
// executable did there.
func (m *Model) caretLine(l layout, at int) string {
	from, to := m.columnSpan()
	text := timeaxis.SpanText(from, to, m.loc())
	if r := m.selected(); r != nil {
		ran, score := cellOf(r, m.cursorCol(), m.z())
		switch {
		case score > 0:
			text += fmt.Sprintf(" · %s anomaly %s", model.SeverityOf(score), model.FormatScore(score))
		case ran:
			text += " · ran"
		default:
			text += " · did not run"
		}
	}
	if below := len(m.shown) - (m.top + l.rows); below > 0 {
		text += " · " + view.Thousands(below) + " more below"
	}
	pos := l.gridX + max(at, 0)
	line := strings.Repeat(" ", pos) + "^"
	th := m.ctx.Theme
	if pos+2+view.Width(text) <= m.width {
		return line + " " + th.Dim.Apply(text)
	}
	if view.Width(text)+1 <= pos {
		return strings.Repeat(" ", pos-view.Width(text)-1) + th.Dim.Apply(text) + " ^"
	}
	return line
}

func (m *Model) placeholder() []string {
	th := m.ctx.Theme
	if m.loadErr != nil {
		out := []string{th.Error.Apply(" could not load the chart:")}
		for _, l := range view.Wrap(safe.Text(m.loadErr.Error()), max(m.width-1, 1)) {
			out = append(out, " "+l)
		}
		return append(out, " r tries again · d shows the anomaly record")
	}
	return []string{th.Dim.Apply(" loading the executables of " + safe.Text(m.a.Entity) + "…")}
}
