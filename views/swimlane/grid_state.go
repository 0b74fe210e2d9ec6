package swimlane

// The swimlane's state over its data: taking a load, the layout, the grid's
// geometry and motion, the sort, and the selection the table follows.

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
)

// setData takes a freshly loaded swimlane: checks its shape, derives what
// every frame needs, and puts the cursor where the analyst was (or on the
// most anomalous bucket).
func (m *Model) setData(s model.Swimlane) tea.Cmd {
	m.loading = false
	if err := normalize(&s); err != nil {
		m.loadErr = err
		return nil
	}
	m.data = &s
	n := len(s.Lanes)
	m.laneMax = make([]float64, n)
	m.laneStates = make([]model.StateSet, n)
	m.byEntity = make(map[string]int, n)
	m.nameWidth = minLabel
	for i, l := range s.Lanes {
		for _, v := range l.Scores {
			if v > m.laneMax[i] {
				m.laneMax[i] = v
			}
		}
		for _, st := range l.States {
			m.laneStates[i] |= st
		}
		m.byEntity[l.Entity] = i
		if w := view.Width(safe.Text(l.Entity)); w > m.nameWidth {
			m.nameWidth = min(w, maxLabel)
		}
	}
	m.ladder = zoomLadder(s.Axis.BucketSpan)
	m.zoom = min(m.zoom, len(m.ladder)-1)
	m.order = make([]int, n)
	for i := range m.order {
		m.order[i] = i
	}
	m.sortKey = make([]float64, n)
	m.relayout()

	m.cursorBucket = hottest(s.Overall)
	if b, ok := s.Axis.BucketAt(m.keepTime); ok && !m.keepTime.IsZero() {
		m.cursorBucket = b
	}
	m.row = 0
	if m.pending != "" {
		m.entity = m.pending
		m.row = -1 // resort finds the entity's row
	}
	m.pending = ""
	m.resort()
	m.leftCol = m.cursorCol() - m.layout().gridW/2
	m.scroll()
	m.rows, m.shownRows, m.rowsFor = nil, nil, selection{}
	if m.width <= 0 {
		return nil // the columns depend on the width: ask once it is known
	}
	return m.fetchRows()
}

// normalize makes a backend's swimlane safe to index: every lane and the
// overall lane exactly one score per bucket.
func normalize(s *model.Swimlane) error {
	ax := &s.Axis
	if ax.Buckets < 0 {
		ax.Buckets = 0
	}
	if ax.Buckets > 0 && ax.BucketSpan <= 0 {
		return fmt.Errorf("the swimlane's time axis has %d buckets but no bucket span", ax.Buckets)
	}
	s.Overall = resize(s.Overall, ax.Buckets)
	for i := range s.Lanes {
		l := &s.Lanes[i]
		l.Scores = resize(l.Scores, ax.Buckets)
		if l.States != nil && len(l.States) != ax.Buckets {
			st := make([]model.StateSet, ax.Buckets)
			copy(st, l.States)
			l.States = st
		}
	}
	return nil
}

func resize(v []float64, n int) []float64 {
	if len(v) == n {
		return v
	}
	out := make([]float64, n)
	copy(out, v)
	return out
}

// hottest is the bucket with the highest overall score, the first of equals;
// the last bucket when nothing scored.
func hottest(overall []float64) int {
	best, at := 0.0, len(overall)-1
	for i, v := range overall {
		if v > best {
			best, at = v, i
		}
	}
	return max(at, 0)
}

type layout struct {
	axisLines           int
	laneRows            int
	labelW, gridX       int
	gridW               int
	tableRows, tableTop int // rows of anomalies; first line of the table block
	tableW, panelW      int
}

func (m *Model) layout() layout {
	var l layout
	w, h := max(m.width, 1), max(m.height, 1)
	l.axisLines = 1
	if m.data != nil && m.z()*int(m.data.Axis.BucketSpan/time.Second) < 86400 && spansDays(m.data.Axis, m.loc()) {
		l.axisLines = 2
	}
	l.labelW = min(m.nameWidth, max(minLabel, w/4))
	l.labelW = max(l.labelW, minLabel)
	l.gridX = l.labelW + 3 // caret, label, triage mark, space
	l.gridW = max(w-l.gridX, 1)
	tableH := max(3, h*2/5)                    // title, header, rows
	swimH := h - tableH                        // axis, overall, lanes, caret line
	if need := l.axisLines + 3; swimH < need { // keep at least one lane
		swimH = need
		tableH = max(h-swimH, 0)
	}
	l.laneRows = max(swimH-l.axisLines-2, 0)
	if want := max(len(m.shown), 1); l.laneRows > want {
		// Fewer lanes than room: the table gets the rest.
		swimH -= l.laneRows - want
		l.laneRows = want
	}
	l.tableTop = swimH
	l.tableRows = max(tableH-2, 0)
	l.tableW = w
	if w >= sidePanelAt {
		l.panelW = sidePanelW
		l.tableW = w - sidePanelW - 1
	}
	return l
}

func (m *Model) loc() *time.Location {
	if m.ctx.Location == nil {
		return time.UTC
	}
	return m.ctx.Location
}

// z is the number of buckets per column at the current zoom.
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
	return columns(m.data.Axis.Buckets, m.z())
}

func (m *Model) cursorCol() int { return m.cursorBucket / m.z() }

func (m *Model) dayCols() int {
	if m.data == nil {
		return 1
	}
	col := time.Duration(m.z()) * m.data.Axis.BucketSpan
	return max(1, int((24*time.Hour+col/2)/col))
}

// relayout fits the zoom to a new width (until the analyst zooms) and keeps
// the cursor in sight.
func (m *Model) relayout() {
	if m.data == nil {
		return
	}
	if m.fitted {
		old := m.zoom
		m.zoom = fitZoom(m.ladder, m.data.Axis.Buckets, m.layout().gridW)
		if m.zoom != old && m.sort == bySelectedTime && len(m.order) > 0 {
			m.resort() // the selected column now merges other buckets
		}
	}
	m.scroll()
}

// scroll keeps the cursor's lane, column and table row in view.
func (m *Model) scroll() {
	l := m.layout()
	if m.row > 0 {
		i := m.row - 1
		if i < m.top {
			m.top = i
		}
		if i >= m.top+l.laneRows {
			m.top = i - l.laneRows + 1
		}
	}
	m.top = min(max(m.top, 0), max(len(m.shown)-l.laneRows, 0))

	c := m.cursorCol()
	if c < m.leftCol {
		m.leftCol = c
	}
	if c >= m.leftCol+l.gridW {
		m.leftCol = c - l.gridW + 1
	}
	m.leftCol = min(max(m.leftCol, 0), max(m.ncols()-l.gridW, 0))

	if m.rowSel < m.rowTop {
		m.rowTop = m.rowSel
	}
	if l.tableRows > 0 && m.rowSel >= m.rowTop+l.tableRows {
		m.rowTop = m.rowSel - l.tableRows + 1
	}
	m.rowTop = min(max(m.rowTop, 0), max(len(m.shownRows)-l.tableRows, 0))
}

// step moves the focused pane's cursor by d lanes or rows; wrap is for n/N.
func (m *Model) step(d int, wrap bool) tea.Cmd {
	if m.data == nil {
		return nil
	}
	if m.focus == tablePane {
		n := len(m.shownRows)
		if n == 0 {
			return nil
		}
		if wrap {
			m.rowSel = ((m.rowSel+d)%n + n) % n
		} else {
			m.rowSel = min(max(m.rowSel+d, 0), n-1)
		}
		m.scroll()
		return nil
	}
	n := len(m.shown) + 1 // with the overall lane
	old := m.row
	if wrap {
		m.row = ((m.row+d)%n + n) % n
	} else {
		m.row = min(max(m.row+d, 0), n-1)
	}
	if m.row == old {
		return nil
	}
	m.entity = m.rowEntity()
	m.scroll()
	return m.selectionChanged()
}

func (m *Model) rowEntity() string {
	if m.row <= 0 || m.row > len(m.shown) {
		return ""
	}
	return m.data.Lanes[m.shown[m.row-1]].Entity
}

// moveCol moves the selected column by d, keeping the bucket's place within
// its column so zooming back in returns to the same bucket.
func (m *Model) moveCol(d int) tea.Cmd {
	if m.data == nil || m.data.Axis.Buckets == 0 {
		return nil
	}
	z, old := m.z(), m.cursorCol()
	col := min(max(old+d, 0), m.ncols()-1)
	if col == old {
		return nil
	}
	m.cursorBucket = min(col*z+m.cursorBucket%z, m.data.Axis.Buckets-1)
	if m.sort == bySelectedTime {
		m.resort()
	}
	m.scroll()
	return m.selectionChanged()
}

// moveToTime puts the cursor on the column holding t (a drill-down's
// selected time on the way back).
func (m *Model) moveToTime(t time.Time) tea.Cmd {
	if m.data == nil || t.IsZero() {
		return nil
	}
	b, ok := m.data.Axis.BucketAt(t)
	if !ok || b/m.z() == m.cursorCol() {
		return nil
	}
	m.cursorBucket = b
	if m.sort == bySelectedTime {
		m.resort()
	}
	m.scroll()
	return m.selectionChanged()
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
	// Centre the cursor's column after a zoom, where the eye already is.
	m.leftCol = m.cursorCol() - m.layout().gridW/2
	if m.sort == bySelectedTime {
		m.resort()
	}
	m.scroll()
	span := time.Duration(m.z()) * m.data.Axis.BucketSpan
	return tea.Batch(m.selectionChanged(), view.Notice("one column is "+formatSpan(span)))
}

// resort orders the lanes (by the selected column's score, the lane's
// highest score, or name), narrows them by the filters and keeps the cursor
// on the same entity.
func (m *Model) resort() {
	if m.data == nil {
		return
	}
	lanes := m.data.Lanes
	if m.sort == bySelectedTime {
		c, z := m.cursorCol(), m.z()
		for i := range lanes {
			m.sortKey[i] = mergeCell(lanes[i].Scores, lanes[i].States, c, z, m.stateFilter).score
		}
	}
	// A total order (ties end on the lane's index), so an unstable sort
	// still gives the same order every time.
	slices.SortFunc(m.order, func(i, j int) int {
		if m.sort == bySelectedTime && m.sortKey[i] != m.sortKey[j] {
			return cmp.Compare(m.sortKey[j], m.sortKey[i])
		}
		if m.sort != byName && m.laneMax[i] != m.laneMax[j] {
			return cmp.Compare(m.laneMax[j], m.laneMax[i])
		}
		if c := strings.Compare(lanes[i].Entity, lanes[j].Entity); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	m.shown = m.shown[:0]
	for _, i := range m.order {
		if m.laneFilter.re != nil && !m.laneFilter.re.MatchString(lanes[i].Entity) {
			continue
		}
		if m.stateFilter.on && !m.laneStates[i].Has(m.stateFilter.state) {
			continue
		}
		m.shown = append(m.shown, i)
	}
	if m.row != 0 {
		m.row = min(max(m.row, 0), len(m.shown))
		if at := m.indexOf(m.entity); at >= 0 {
			m.row = at + 1
		}
		m.entity = m.rowEntity()
	}
	m.scroll()
}

// indexOf finds an entity among the shown lanes.
func (m *Model) indexOf(entity string) int {
	if entity == "" {
		return -1
	}
	li, ok := m.byEntity[entity]
	if !ok {
		return -1
	}
	for i, v := range m.shown {
		if v == li {
			return i
		}
	}
	return -1
}

func (m *Model) selection() selection {
	if m.data == nil || m.data.Axis.Buckets == 0 {
		return selection{}
	}
	z, ax := m.z(), m.data.Axis
	from := ax.BucketStart(m.cursorCol() * z)
	to := from.Add(time.Duration(z) * ax.BucketSpan)
	if end := ax.End(); to.After(end) {
		to = end
	}
	s := selection{from: from, to: to, all: m.row == 0}
	if !s.all {
		s.entity = m.rowEntity()
	}
	return s
}

// selectionChanged asks for the new selection's anomalies once motion
// settles.
func (m *Model) selectionChanged() tea.Cmd {
	if m.selection() == m.rowsFor {
		return nil
	}
	m.selSeq++
	m.rowsLoading = true
	seq := m.selSeq
	return tea.Tick(debounce, func(time.Time) tea.Msg { return selectTickMsg{seq: seq} })
}

func (m *Model) fetchRows() tea.Cmd {
	sel := m.selection()
	if sel == (selection{}) {
		return nil
	}
	m.rowsLoading = true
	m.rowsErr = nil
	q := model.AnomalyQuery{Job: m.query.Job, Scope: m.query.Scope, Partition: m.query.Partition, Entity: sel.entity, From: sel.from, To: sel.to}
	hidden := m.showSuppressed && m.ctx.Cases
	return view.Fetch(view.FetchMsg{
		Key:   "anomalies",
		Label: "anomalies",
		Quiet: true,
		Run: func(ctx context.Context, b model.Backend, _ func(model.Progress)) (tea.Msg, error) {
			rows, err := b.Anomalies(ctx, q)
			if err != nil {
				return nil, err
			}
			if hidden {
				cb, err := model.Cases(b)
				if err != nil {
					return nil, err
				}
				more, err := cb.SuppressedRecords(ctx, q)
				if err != nil {
					return nil, fmt.Errorf("suppressed records: %w", err)
				}
				rows = append(rows, more...)
			}
			return anomaliesMsg{sel: sel, rows: rows}, nil
		},
	})
}

func (m *Model) setRows(sel selection, rows []model.Anomaly) {
	var keep string
	at := 0
	if a := m.selected(); a != nil {
		keep = a.ID
	}
	if m.keepRow != "" {
		// After a reload: the same row, or (when it went, e.g. suppressed)
		// the one that took its place.
		keep, at, m.keepRow = m.keepRow, m.keepRowAt, ""
	}
	sortAnomalies(rows)
	m.rows, m.rowsFor, m.rowsLoading = rows, sel, false
	m.rowSel, m.rowTop = at, 0
	m.refilterRows()
	for i, r := range m.shownRows {
		if m.rows[r].ID == keep {
			m.rowSel = i
		}
	}
	m.scroll()
}

func (m *Model) refilterRows() {
	m.shownRows = m.shownRows[:0]
	for i := range m.rows {
		a := &m.rows[i]
		if m.stateFilter.on && a.Triage.State != m.stateFilter.state {
			continue
		}
		if !rowMatches(a, m.rowFilter.re) {
			continue
		}
		m.shownRows = append(m.shownRows, i)
	}
	m.rowSel = min(max(m.rowSel, 0), max(len(m.shownRows)-1, 0))
}

// selected is the anomaly under the table's cursor.
func (m *Model) selected() *model.Anomaly {
	if m.rowSel < 0 || m.rowSel >= len(m.shownRows) {
		return nil
	}
	return &m.rows[m.shownRows[m.rowSel]]
}
