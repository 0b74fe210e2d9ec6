// Package explorer is the process explorer: the process executions of one
// host or container in a window around a moment (an anomaly's bucket, a
// chart's column), as a table the analyst filters, sorts and walks from a
// process to its parent and its children. Enter opens one execution with
// every field the sources give.
//
// The rows come from the backend's ProcessEvents; the explorer never reads
// the cache itself. It draws only the rows in view, so a frame costs the
// screen's height whatever the number of rows.
package explorer

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/timeaxis"
	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Sizes of the screen.
const (
	minWidth  = 40
	minHeight = 5
)

// pads are the margins the window can have around its core, from narrow to
// wide; the default is an hour, as Elastic's process explorer.
var pads = [...]time.Duration{
	5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour,
	12 * time.Hour, 24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour,
}

const defaultPad = 3 // an hour

// limits are the row caps + steps through.
var limits = [...]int{model.DefaultProcessLimit, 5_000, 25_000, 100_000}

// Target is what an explorer lists.
type Target struct {
	Scope  model.Scope
	Entity string
	// Executable, when set, keeps only runs of it.
	Executable string
	// CoreFrom and CoreTo are the span asked about (an anomaly's bucket, a
	// chart's column); the window is it widened by a margin on each side.
	CoreFrom, CoreTo time.Time
	// Focus is the moment to select first: the first row at or after it.
	// Zero means CoreFrom.
	Focus time.Time
	// ChildrenOf, when not zero, lists only executions whose parent is this
	// pid, from CoreFrom on.
	ChildrenOf int64
	// SelectPID, when not zero, selects this pid's execution nearest Focus.
	SelectPID int64
	// Title is the breadcrumb; "process explorer" when empty.
	Title string
	// NameEntity puts the entity in the breadcrumb, for an explorer opened
	// straight from the swimlane.
	NameEntity bool
}

// Around is the target of an explorer over the span [from, to) of one
// entity, as opened from a chart or an anomaly.
func Around(scope model.Scope, entity, executable string, from, to time.Time) Target {
	return Target{Scope: scope, Entity: entity, Executable: executable, CoreFrom: from, CoreTo: to, Focus: from}
}

// Messages the explorer sends itself through the shell's fetches.
type (
	loadedMsg struct {
		q    model.ProcessQuery
		page model.ProcessPage
	}
	parentMsg struct {
		child model.Process
		page  model.ProcessPage
	}
)

// Model is the explorer screen.
type Model struct {
	ctx           *view.Context
	keys          keyMap
	target        Target
	width, height int

	pad    int // index into pads
	limit  int // index into limits
	onlyOf string

	q        model.ProcessQuery // the query the rows belong to
	page     *model.ProcessPage
	text     []rowText // the rows' cells, made safe
	hay      []string  // the rows' raw fields, for the filter
	hayLower []string  // the same, lower-cased
	content  [numColumns]int
	loading  bool
	loadErr  error

	sortCol Column
	desc    bool
	filter  string
	rows    rowFilter
	shown   []int // indices into page.Rows, filtered and sorted
	sel     int   // index into shown
	top     int
	keepRow int       // index into page.Rows to keep selected, -1 for none
	keepAt  time.Time // moment to select once rows land
}

// New returns an explorer of t.
func New(ctx *view.Context, t Target) *Model {
	if t.CoreTo.Before(t.CoreFrom) {
		t.CoreFrom, t.CoreTo = t.CoreTo, t.CoreFrom
	}
	if t.Focus.IsZero() {
		t.Focus = t.CoreFrom
	}
	m := &Model{ctx: ctx, keys: newKeyMap(), target: t, pad: defaultPad, keepRow: -1, keepAt: t.Focus, onlyOf: t.Executable}
	if t.ChildrenOf != 0 {
		m.pad = childrenPad
	}
	return m
}

// Init implements view.View.
func (m *Model) Init() tea.Cmd { return m.load() }

// Title implements view.View.
func (m *Model) Title() string {
	title := m.target.Title
	if title == "" {
		title = "process explorer"
	}
	if m.target.NameEntity {
		return m.target.Entity + " > " + title
	}
	return title
}

// KeyMap implements view.View.
func (m *Model) KeyMap() help.KeyMap { return m.keys }

// MinSize implements view.MinSizer.
func (m *Model) MinSize() (int, int) { return minWidth, minHeight }

// FilterTarget implements view.Filterable.
func (m *Model) FilterTarget() string { return "processes" }

// Filter implements view.Filterable.
func (m *Model) Filter() string { return m.filter }

// FocusTime implements view.Focuser: the selected execution's time.
func (m *Model) FocusTime() (time.Time, bool) {
	if p := m.selected(); p != nil {
		return p.Time, true
	}
	return m.target.Focus, !m.target.Focus.IsZero()
}

// Legend implements view.Legender.
func (m *Model) Legend() []string {
	return []string{
		"user: the effective user, then the login (audit) user when it differs · result: ok, FAIL (the execve failed)",
		"window: the span asked about ± the margin (w widens, W narrows, < > move it) · ↑↓ in the header: the sort",
		"P: the parent's latest execution at or before the selected one · C: executions whose parent is the selected pid",
	}
}

// Yank implements view.Yanker: the selected execution as JSON.
func (m *Model) Yank() (string, string, bool) {
	p := m.selected()
	if p == nil {
		return "", "", false
	}
	text, err := view.YankJSON(Record(*p))
	if err != nil {
		return "", "", false
	}
	return text, "process", true
}

// Status implements view.Statuser.
func (m *Model) Status() view.Status {
	from, to := m.window()
	st := view.Status{From: from, To: to}
	if m.page != nil {
		st.Counts = m.countText()
	}
	return st
}

func (m *Model) countText() string {
	n := len(m.page.Rows)
	s := view.Thousands(n) + " execution"
	if n != 1 {
		s += "s"
	}
	if len(m.shown) != n {
		s = view.Thousands(len(m.shown)) + "/" + s
	}
	if m.page.Truncated {
		s += " (capped)"
	}
	return s
}

// SetSize implements view.View.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.scroll()
}

// window is the time window shown: the core widened by the margin, or for
// children from the parent's start on.
func (m *Model) window() (time.Time, time.Time) {
	pad := pads[m.pad]
	from := m.target.CoreFrom.Add(-pad)
	if m.target.ChildrenOf != 0 {
		from = m.target.CoreFrom
	}
	return from, m.target.CoreTo.Add(pad)
}

func (m *Model) loc() *time.Location {
	if m.ctx.Location == nil {
		return time.UTC
	}
	return m.ctx.Location
}

// load asks for the rows of the current window and cap.
func (m *Model) load() tea.Cmd {
	from, to := m.window()
	q := model.ProcessQuery{Scope: m.target.Scope, Entity: m.target.Entity, From: from, To: to,
		Executable: m.onlyOf, PPID: m.target.ChildrenOf, Limit: limits[m.limit], Around: m.keepAt}
	m.q = q
	m.loading = true
	m.loadErr = nil
	return view.Fetch(view.FetchMsg{
		Key:   "executions",
		Label: "executions of " + safe.Text(q.Entity),
		Run: view.OnDrillDown(func(ctx context.Context, d model.DrillDownBackend) (tea.Msg, error) {
			page, err := d.ProcessEvents(ctx, q)
			if err != nil {
				return nil, err
			}
			return loadedMsg{q: q, page: page}, nil
		}),
	})
}

// reload asks again after a change of window, cap or executable, keeping
// the selected moment.
func (m *Model) reload() tea.Cmd {
	if t, ok := m.FocusTime(); ok {
		m.keepAt = t
	}
	if p := m.selected(); p != nil && m.target.SelectPID == 0 {
		m.target.SelectPID = p.PID
	}
	return m.load()
}

// Update implements view.View.
func (m *Model) Update(msg tea.Msg) (view.View, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		if !sameQuery(msg.q, m.q) {
			return m, nil // an answer to a window the analyst has moved away from
		}
		m.setPage(msg.page)
		return m, nil
	case parentMsg:
		return m, m.openParent(msg.child, msg.page)
	case view.FetchFailedMsg:
		if msg.Key == "executions" {
			m.loading = false
			m.loadErr = msg.Err
		}
		return m, nil
	case view.RefreshMsg:
		return m, m.reload()
	case view.FilterMsg:
		m.setFilter(msg.Text, msg.Pattern)
		return m, nil
	case view.StepMatchMsg:
		d := 1
		if msg.Backward {
			d = -1
		}
		m.move(d, true)
		return m, nil
	case tea.KeyMsg:
		return m, m.keyPress(msg)
	}
	return m, nil
}

func sameQuery(a, b model.ProcessQuery) bool {
	return a.Scope == b.Scope && a.Entity == b.Entity && a.From.Equal(b.From) && a.To.Equal(b.To) &&
		a.Executable == b.Executable && a.PID == b.PID && a.PPID == b.PPID && a.Limit == b.Limit &&
		a.Around.Equal(b.Around) && a.Newest == b.Newest
}

func (m *Model) keyPress(k tea.KeyMsg) tea.Cmd {
	km := m.keys
	half := max(1, m.rowsRoom()/2)
	switch {
	case key.Matches(k, km.Down):
		m.move(1, false)
	case key.Matches(k, km.Up):
		m.move(-1, false)
	case key.Matches(k, km.PageDown):
		m.move(half, false)
	case key.Matches(k, km.PageUp):
		m.move(-half, false)
	case key.Matches(k, km.Top):
		m.move(-1<<30, false)
	case key.Matches(k, km.Bottom):
		m.move(1<<30, false)
	case key.Matches(k, km.Detail):
		if p := m.selected(); p != nil {
			return view.Push(NewDetail(m.ctx, m.target, *p))
		}
	case key.Matches(k, km.Sort):
		m.sortCol = (m.sortCol + 1) % numColumns
		m.resort()
		return view.Notice("sorted by " + m.sortCol.String())
	case key.Matches(k, km.Reverse):
		m.desc = !m.desc
		m.resort()
		dir := "ascending"
		if m.desc {
			dir = "descending"
		}
		return view.Notice("sorted by " + m.sortCol.String() + ", " + dir)
	case key.Matches(k, km.Parent):
		if p := m.selected(); p != nil {
			return m.parent(*p)
		}
	case key.Matches(k, km.Children):
		if p := m.selected(); p != nil {
			return view.Push(New(m.ctx, ChildrenOf(m.target, *p)))
		}
	case key.Matches(k, km.Widen):
		if m.pad < len(pads)-1 {
			m.pad++
			return tea.Batch(m.reload(), view.Notice("window ±"+timeaxis.FormatSpan(pads[m.pad])))
		}
		return view.Notice("the window is as wide as it goes")
	case key.Matches(k, km.Narrow):
		if m.pad > 0 {
			m.pad--
			return tea.Batch(m.reload(), view.Notice("window ±"+timeaxis.FormatSpan(pads[m.pad])))
		}
		return view.Notice("the window is as narrow as it goes")
	case key.Matches(k, km.Earlier), key.Matches(k, km.Later):
		from, to := m.window()
		shift := to.Sub(from) / 2
		if key.Matches(k, km.Earlier) {
			shift = -shift
		}
		m.target.CoreFrom, m.target.CoreTo = m.target.CoreFrom.Add(shift), m.target.CoreTo.Add(shift)
		m.keepAt, m.keepRow, m.target.SelectPID = m.target.CoreFrom, -1, 0
		return m.load()
	case key.Matches(k, km.More):
		if m.limit < len(limits)-1 {
			m.limit++
			return tea.Batch(m.reload(), view.Notice("row cap "+view.Thousands(limits[m.limit])))
		}
		return view.Notice("the row cap is at its highest, " + view.Thousands(limits[m.limit]))
	case key.Matches(k, km.OnlyThis):
		return m.toggleOnly()
	}
	return nil
}

// toggleOnly narrows the rows to the selected executable, or back to every
// executable, also when the explorer was opened for one: what else ran
// around it is the next question.
func (m *Model) toggleOnly() tea.Cmd {
	if m.onlyOf != "" {
		m.onlyOf = ""
		return tea.Batch(m.reload(), view.Notice("every executable"))
	}
	p := m.selected()
	if p == nil {
		return nil
	}
	m.onlyOf = p.Executable
	return tea.Batch(m.reload(), view.Notice("only "+safe.Text(p.Executable)))
}

// ChildrenOf is the target listing the children of p: executions whose
// parent is p's pid, from p's start on (for six hours at first: a shell's
// commands come over a session, not within the hour).
func ChildrenOf(t Target, p model.Process) Target {
	return Target{Scope: t.Scope, Entity: t.Entity, CoreFrom: p.Time, CoreTo: p.Time, Focus: p.Time,
		ChildrenOf: p.PID, Title: fmt.Sprintf("children of %d", p.PID)}
}

// childrenPad is the children list's first margin (six hours).
const childrenPad = 5

// parent goes to the execution of p's parent: in the rows when it is
// there, else asked of the backend (the latest execution of that pid at or
// before p), and opened in an explorer of its own.
func (m *Model) parent(p model.Process) tea.Cmd {
	if p.PPID <= 0 {
		return view.Notice(fmt.Sprintf("pid %d has no parent in the data", p.PID))
	}
	if at := parentIndex(m.page.Rows, p); at >= 0 {
		if !m.show(at) {
			m.setFilter("", nil)
			m.show(at)
			return view.Notice(fmt.Sprintf("parent %d (filter cleared to show it)", p.PPID))
		}
		return view.Notice(fmt.Sprintf("parent %d", p.PPID))
	}
	return FetchParent(m.target, p)
}

// FetchParent asks the backend for the execution of p's parent; the answer
// comes back as a message the explorer and the detail screen handle.
func FetchParent(t Target, p model.Process) tea.Cmd {
	q := model.ProcessQuery{Scope: t.Scope, Entity: t.Entity, PID: p.PPID, To: p.Time.Add(time.Nanosecond), Newest: true, Limit: 1}
	return view.Fetch(view.FetchMsg{
		Key:   "parent",
		Label: "parent",
		Quiet: true,
		Run: view.OnDrillDown(func(ctx context.Context, d model.DrillDownBackend) (tea.Msg, error) {
			page, err := d.ProcessEvents(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("parent of pid %d: %w", p.PID, err)
			}
			return parentMsg{child: p, page: page}, nil
		}),
	})
}

// openParent opens the explorer around the parent's execution.
func (m *Model) openParent(child model.Process, page model.ProcessPage) tea.Cmd {
	return openParent(m.ctx, m.target, child, page)
}

func openParent(ctx *view.Context, t Target, child model.Process, page model.ProcessPage) tea.Cmd {
	if len(page.Rows) == 0 {
		return view.Notice(fmt.Sprintf("no execution of pid %d before %s in the data: its parent started earlier or never ran execve",
			child.PPID, child.Time.In(ctxLoc(ctx)).Format("Jan 02 15:04:05")))
	}
	p := page.Rows[0]
	return view.Push(New(ctx, Target{Scope: t.Scope, Entity: t.Entity, CoreFrom: p.Time, CoreTo: p.Time, Focus: p.Time,
		SelectPID: p.PID, Title: fmt.Sprintf("pid %d", p.PID)}))
}

func ctxLoc(ctx *view.Context) *time.Location {
	if ctx == nil || ctx.Location == nil {
		return time.UTC
	}
	return ctx.Location
}

// parentIndex finds p's parent among rows: the latest execution of its
// ppid at or before it; -1 when not there.
func parentIndex(rows []model.Process, p model.Process) int {
	at := -1
	for i := range rows {
		r := &rows[i]
		if r.PID == p.PPID && !r.Time.After(p.Time) && (at < 0 || !r.Time.Before(rows[at].Time)) {
			at = i
		}
	}
	return at
}

// setPage takes a loaded page: makes its cells safe once and selects the
// row asked about.
func (m *Model) setPage(page model.ProcessPage) {
	m.loading = false
	m.page = &page
	layout := timeLayout(m.spansDays())
	m.text = make([]rowText, len(page.Rows))
	m.hay = make([]string, len(page.Rows))
	m.hayLower = make([]string, len(page.Rows))
	for i := range page.Rows {
		m.text[i] = textOf(&page.Rows[i], m.loc(), layout)
		m.hay[i] = haystack(&page.Rows[i])
		m.hayLower[i] = strings.ToLower(m.hay[i])
	}
	m.content = natural(m.text)
	keep := pick(page.Rows, m.keepAt, m.target.SelectPID)
	m.target.SelectPID = 0
	m.shown, m.sel = nil, 0 // indices of the old page mean nothing now
	m.resortKeeping(keep)
}

// pick chooses the row to select: the execution of pid nearest at (when
// pid is set), else the first at or after at, else the last.
func pick(rows []model.Process, at time.Time, pid int64) int {
	if len(rows) == 0 {
		return -1
	}
	if pid != 0 {
		best := -1
		var gap time.Duration
		for i := range rows {
			if rows[i].PID != pid {
				continue
			}
			d := rows[i].Time.Sub(at)
			if d < 0 {
				d = -d
			}
			if best < 0 || d < gap {
				best, gap = i, d
			}
		}
		if best >= 0 {
			return best
		}
	}
	for i := range rows {
		if !rows[i].Time.Before(at) {
			return i
		}
	}
	return len(rows) - 1
}

func (m *Model) spansDays() bool {
	from, to := m.window()
	loc := m.loc()
	a, b := from.In(loc), to.Add(-time.Nanosecond).In(loc)
	return a.YearDay() != b.YearDay() || a.Year() != b.Year()
}

// resort sorts and filters the rows again, keeping the selected one.
func (m *Model) resort() { m.resortKeeping(m.selectedIndex()) }

// resortKeeping sorts and filters the rows again and selects row keep of
// the page (or the nearest place when it is filtered out).
func (m *Model) resortKeeping(keep int) {
	if m.page == nil {
		return
	}
	if keep >= 0 {
		m.keepRow = keep
	}
	m.shown = sortedIndex(m.page.Rows, m.hay, m.hayLower, m.sortCol, m.desc, m.rows)
	m.sel = 0
	if !m.show(m.keepRow) {
		m.sel = min(m.sel, max(len(m.shown)-1, 0))
	}
	m.scroll()
}

// show selects row i of the page if it is shown.
func (m *Model) show(i int) bool {
	if i < 0 {
		return false
	}
	for j, r := range m.shown {
		if r == i {
			m.sel = j
			m.keepRow = i
			m.scroll()
			return true
		}
	}
	return false
}

func (m *Model) setFilter(text string, re *regexp.Regexp) {
	m.filter, m.rows = text, compileRowFilter(re)
	if re == nil {
		m.filter = ""
	}
	m.resort()
}

func (m *Model) selectedIndex() int {
	if m.sel < 0 || m.sel >= len(m.shown) {
		return -1
	}
	return m.shown[m.sel]
}

func (m *Model) selected() *model.Process {
	if m.page == nil {
		return nil
	}
	if i := m.selectedIndex(); i >= 0 {
		return &m.page.Rows[i]
	}
	return nil
}

// move steps the selection by d rows; wrap is for n/N.
func (m *Model) move(d int, wrap bool) {
	n := len(m.shown)
	if n == 0 {
		return
	}
	if wrap {
		m.sel = ((m.sel+d)%n + n) % n
	} else {
		m.sel = min(max(m.sel+d, 0), n-1)
	}
	m.keepRow = m.shown[m.sel]
	m.scroll()
}

// headLines is how many lines come before the rows: the summary, a note
// when capped, and the column headers.
func (m *Model) headLines() int {
	n := 2
	if m.page != nil && m.page.Truncated {
		n++
	}
	return n
}

func (m *Model) rowsRoom() int { return max(m.height-m.headLines(), 0) }

func (m *Model) scroll() {
	room := m.rowsRoom()
	if m.sel < m.top {
		m.top = m.sel
	}
	if room > 0 && m.sel >= m.top+room {
		m.top = m.sel - room + 1
	}
	m.top = min(max(m.top, 0), max(len(m.shown)-room, 0))
}

// View implements view.View.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	th := m.ctx.Theme
	lines := make([]string, 0, m.height)
	lines = append(lines, view.Truncate(m.summary(), m.width))
	if m.page == nil {
		lines = append(lines, m.placeholder()...)
		return view.Frame(strings.Join(lines, "\n"), m.width, m.height)
	}
	if m.page.Truncated {
		note := fmt.Sprintf(" truncated at %s rows (the nearest to the selected time)", view.Thousands(m.page.Limit))
		if m.limit < len(limits)-1 {
			note += " · + shows up to " + view.Thousands(limits[m.limit+1])
		}
		lines = append(lines, th.Notice.Apply(view.Truncate(note, m.width)))
	}
	cols := layoutTable(m.width, len(timeLayout(m.spansDays())), m.content)
	lines = append(lines, th.Header.Apply(view.Fit(headerText(cols, m.sortCol, m.desc), m.width)))
	switch {
	case len(m.page.Rows) == 0:
		lines = append(lines, th.Dim.Apply(view.Truncate(" no executions in this window · w widens it", m.width)))
	case len(m.shown) == 0:
		lines = append(lines, th.Dim.Apply(view.Truncate(" no executions match the filter", m.width)))
	}
	room := m.rowsRoom()
	for i := m.top; i < len(m.shown) && i < m.top+room; i++ {
		lines = append(lines, view.Truncate(rowLine(&m.text[m.shown[i]], cols, th, i == m.sel), m.width))
	}
	return view.Frame(strings.Join(lines, "\n"), m.width, m.height)
}

// summary says whose executions, which executable, which window, how many,
// under which filter.
func (m *Model) summary() string {
	th := m.ctx.Theme
	from, to := m.window()
	who := safe.Text(m.target.Entity)
	if m.target.Scope == model.ScopeContainer {
		who = "container " + who
	}
	parts := []string{th.Header.Apply(who)}
	if m.target.ChildrenOf != 0 {
		parts = append(parts, fmt.Sprintf("children of pid %d", m.target.ChildrenOf))
	}
	if m.onlyOf != "" {
		parts = append(parts, safe.Text(m.onlyOf))
	}
	win := timeaxis.SpanText(from, to, m.loc())
	if m.target.ChildrenOf == 0 {
		win += " (±" + timeaxis.FormatSpan(pads[m.pad]) + ")"
	} else {
		win += " (" + timeaxis.FormatSpan(pads[m.pad]) + " on)"
	}
	parts = append(parts, win)
	switch {
	case m.loading && m.page != nil:
		parts = append(parts, "…")
	case m.page != nil:
		parts = append(parts, m.countText())
	}
	if m.filter != "" {
		parts = append(parts, "/"+safe.Text(m.filter)+"/")
	}
	return " " + strings.Join(parts, " · ")
}

func (m *Model) placeholder() []string {
	th := m.ctx.Theme
	if m.loadErr != nil {
		out := []string{th.Error.Apply(" could not load the executions:")}
		for _, l := range view.Wrap(safe.Text(m.loadErr.Error()), max(m.width-1, 1)) {
			out = append(out, " "+l)
		}
		return append(out, " r tries again")
	}
	return []string{th.Dim.Apply(" loading executions…")}
}
