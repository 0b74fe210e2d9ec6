// Package swimlane is the console's home screen: the job's overall lane of
// bucket scores and one lane per host or container, time buckets as
// columns, each cell its highest score's colour and glyph; below it the
// anomalies of the selected cell, where the analyst triages them.
//
// It draws only what is visible: a frame costs the visible lanes times the
// visible columns, whatever the size of the fleet or the range.
package swimlane

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/auditlens/auditlens/views/cases"
	"github.com/auditlens/auditlens/views/explorer"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/rules"
	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Sizes of the screen's parts.
const (
	minLabel    = 7   // "overall"
	maxLabel    = 24  // longer entity names are cut
	sidePanelAt = 120 // terminals this wide get the anomaly side panel
	sidePanelW  = 38
	minWidth    = 46 // smallest content area the screen draws in
	minHeight   = 8
	// debounce lets held-down motion keys settle before asking for the
	// selection's anomalies.
	debounce = 60 * time.Millisecond
)

type pane int

const (
	lanesPane pane = iota
	tablePane
)

type sortOrder int

const (
	bySelectedTime sortOrder = iota // score in the selected column, then max score
	byMaxScore
	byName
)

func (o sortOrder) String() string {
	switch o {
	case byMaxScore:
		return "max"
	case byName:
		return "name"
	}
	return "time"
}

// Messages the screen sends itself through the shell's fetches and timers.
type (
	loadedMsg struct {
		query model.Query
		data  model.Swimlane
		// suppressed is how many records the rules hide (-1 when it could
		// not be counted).
		suppressed int
	}
	anomaliesMsg struct {
		sel  selection
		rows []model.Anomaly
	}
	triagedMsg struct {
		id     string
		triage model.Triage
	}
	selectTickMsg struct{ seq int }
)

// selection is what the anomalies table shows: one entity (or all of them,
// for the overall lane) over one column's time span.
type selection struct {
	entity   string
	all      bool
	from, to time.Time
}

// Model is the swimlane screen.
type Model struct {
	ctx           *view.Context
	keys          keyMap
	width, height int

	query   model.Query     // the query the data belongs to
	data    *model.Swimlane // nil until loaded
	loading bool
	loadErr error

	// Derived from data at load.
	laneMax    []float64
	laneStates []model.StateSet
	byEntity   map[string]int
	nameWidth  int
	ladder     []int

	zoom         int  // rung of ladder
	fitted       bool // zoom follows the width until the analyst zooms
	cursorBucket int
	leftCol      int
	order        []int // lane indices, sorted
	sortKey      []float64
	sort         sortOrder
	shown        []int // order narrowed by the filters
	row          int   // 0 is the overall lane, r > 0 is shown[r-1]
	top          int   // first lane in view, an index into shown
	entity       string
	pending      string    // entity to select once the next load lands
	keepTime     time.Time // selected time to return to once it lands

	focus       pane
	laneFilter  filter
	rowFilter   filter
	stateFilter stateFilter

	rows        []model.Anomaly
	shownRows   []int
	rowSel      int
	rowTop      int
	rowsFor     selection
	rowsLoading bool
	rowsErr     error
	selSeq      int

	note    view.LineInput
	noting  bool
	noteFor string

	suppressed     int  // records the rules hide in the swimlane shown
	showSuppressed bool // list them in the table anyway, marked
	// keepRow and keepRowAt are the table row to return to once a reload
	// (after r, or a rule or case change) lands: by id, else by place.
	keepRow   string
	keepRowAt int
}

type filter struct {
	text string
	re   *regexp.Regexp
}

// New returns the swimlane screen over the shell's shared context.
func New(ctx *view.Context) *Model {
	return &Model{ctx: ctx, keys: newKeyMap(), fitted: true, note: view.LineInput{Prompt: "note: ", Limit: 400}}
}

// Init implements view.View: load the swimlane of the current query.
func (m *Model) Init() tea.Cmd { return m.load(true) }

// Title implements view.View.
func (m *Model) Title() string { return "swimlane" }

// MinSize implements view.MinSizer.
func (m *Model) MinSize() (int, int) { return minWidth, minHeight }

// Capturing implements view.Capturer: a note being typed takes every key.
func (m *Model) Capturing() bool { return m.noting }

// KeyMap implements view.View.
func (m *Model) KeyMap() help.KeyMap { return m.bound() }

// bound is the key map with bindings that cannot act right now disabled,
// used both for matching keys and for help.
func (m *Model) bound() boundKeys {
	km := m.keys
	hasRow := m.selected() != nil
	for _, b := range []*key.Binding{&km.MarkNew, &km.Acknowledge, &km.FalsePositive, &km.Escalate, &km.Note} {
		b.SetEnabled(hasRow)
	}
	km.AddToCase.SetEnabled(hasRow && m.ctx.Cases)
	km.Suppress.SetEnabled(hasRow && m.ctx.Cases)
	km.ShowSuppressed.SetEnabled(m.ctx.Cases)
	if m.showSuppressed {
		km.ShowSuppressed.SetHelp(".", "hide suppressed")
	}
	if m.focus == tablePane {
		km.Open.SetHelp("enter", "open anomaly")
	} else {
		km.Open.SetHelp("enter", "to anomalies")
	}
	return boundKeys{km: km, noting: m.noting}
}

// FilterTarget implements view.Filterable.
func (m *Model) FilterTarget() string {
	if m.focus == tablePane {
		return "anomalies"
	}
	return "lanes"
}

// Filter implements view.Filterable.
func (m *Model) Filter() string { return m.activeFilter().text }

func (m *Model) activeFilter() *filter {
	if m.focus == tablePane {
		return &m.rowFilter
	}
	return &m.laneFilter
}

// FocusTime implements view.Focuser: the start of the selected column.
func (m *Model) FocusTime() (time.Time, bool) {
	if m.data == nil || m.data.Axis.Buckets == 0 {
		return time.Time{}, false
	}
	return m.data.Axis.BucketStart(m.cursorCol() * m.z()), true
}

// Yank implements view.Yanker: the selected anomaly as a JSON record.
func (m *Model) Yank() (string, string, bool) {
	a := m.selected()
	if a == nil {
		return "", "", false
	}
	text, err := view.YankJSON(a.Record())
	if err != nil {
		return "", "", false
	}
	return text, "anomaly", true
}

// Status implements view.Statuser.
func (m *Model) Status() view.Status {
	if m.data == nil {
		return view.Status{}
	}
	n := len(m.data.Lanes)
	lanes := thousands(n) + " " + m.data.Scope.Noun(n)
	if len(m.shown) != n {
		lanes = thousands(len(m.shown)) + "/" + lanes
	}
	counts := lanes
	if m.rowsFor == m.selection() && !m.rowsLoading {
		counts += " · " + thousands(len(m.shownRows)) + " anomalies"
	}
	return view.Status{From: m.data.Axis.Start, To: m.data.Axis.End(), Counts: counts, Suppressed: m.suppressed, SuppressedShown: m.showSuppressed}
}

// Commands implements view.Commander.
func (m *Model) Commands() []view.Command {
	one := func(args []string) error {
		if len(args) != 1 {
			return errors.New("want one name")
		}
		return nil
	}
	var states []string
	for _, s := range model.TriageStates() {
		states = append(states, s.String())
	}
	states = append(states, "all")
	cmds := []view.Command{
		{Name: "host", Args: "NAME", Help: "go to a host's lane", Complete: m.completeEntity(model.ScopeHost), Check: one},
		{Name: "container", Args: "NAME", Help: "go to a container's lane", Complete: m.completeEntity(model.ScopeContainer), Check: one},
		{Name: "state", Args: "STATE", Help: "show only anomalies in a triage state", Complete: prefixed(states), Check: func(args []string) error {
			if len(args) != 1 {
				return errors.New("want one of " + strings.Join(states, ", "))
			}
			if args[0] == "all" {
				return nil
			}
			_, err := model.ParseTriageState(args[0])
			return err
		}},
		{Name: "sort", Args: "ORDER", Help: "sort lanes by selected time, max score or name", Complete: prefixed([]string{"time", "max", "name"}), Check: func(args []string) error {
			if len(args) != 1 || (args[0] != "time" && args[0] != "max" && args[0] != "name") {
				return errors.New("want time, max or name")
			}
			return nil
		}},
	}
	if m.ctx.Cases {
		cmds = append(cmds, view.Command{Name: "suppressed", Args: "on|off", Help: "list the records suppression rules hide, marked, or not",
			Complete: prefixed([]string{"on", "off"}), Check: func(args []string) error {
				if len(args) != 1 || (args[0] != "on" && args[0] != "off") {
					return errors.New("want on or off")
				}
				return nil
			}})
	}
	return cmds
}

func prefixed(all []string) func(string) []string {
	return func(p string) []string {
		var out []string
		for _, s := range all {
			if strings.HasPrefix(s, p) {
				out = append(out, s)
			}
		}
		return out
	}
}

// completeEntity offers the names of the loaded lanes of scope, sorted; the
// shell shows as many as fit.
func (m *Model) completeEntity(scope model.Scope) func(string) []string {
	return func(p string) []string {
		if m.data == nil || m.data.Scope != scope {
			return nil
		}
		var out []string
		for _, l := range m.data.Lanes {
			if strings.HasPrefix(l.Entity, p) {
				out = append(out, l.Entity)
			}
		}
		sort.Strings(out)
		return out
	}
}

// SetSize implements view.View.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.relayout()
}

// load asks the shell to fetch the swimlane of the current query; fresh
// drops the data shown, as a new job or range makes it misleading.
func (m *Model) load(fresh bool) tea.Cmd {
	q := m.ctx.Query
	// The analyst's place (selected time, lane, table row) survives a
	// reload: a new job keeps the time and lane, a refresh the row too.
	if t, ok := m.FocusTime(); ok {
		m.keepTime = t
	}
	if m.pending == "" && m.row > 0 {
		m.pending = m.entity
	}
	if fresh {
		m.data = nil
	} else if a := m.selected(); a != nil {
		m.keepRow, m.keepRowAt = a.ID, m.rowSel
	}
	m.query = q
	m.loading = true
	m.loadErr = nil
	return view.Fetch(view.FetchMsg{
		Key:   "swimlane",
		Label: "swimlane " + q.Job,
		Run: func(ctx context.Context, b model.Backend, progress func(model.Progress)) (tea.Msg, error) {
			s, err := b.Swimlane(ctx, q, progress)
			if err != nil {
				return nil, err
			}
			msg := loadedMsg{query: q, data: s}
			if cb, err := model.Cases(b); err == nil {
				// A count that fails says so in the status bar rather than
				// keeping the swimlane from the analyst.
				if msg.suppressed, err = cb.SuppressedCount(ctx, q); err != nil {
					msg.suppressed = -1
				}
			}
			return msg, nil
		},
	})
}

// Update implements view.View.
func (m *Model) Update(msg tea.Msg) (view.View, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.query != m.query {
			return m, nil // an answer to a query the analyst has moved away from
		}
		m.suppressed = msg.suppressed
		return m, m.setData(msg.data)
	case anomaliesMsg:
		if msg.sel != m.selection() {
			return m, nil
		}
		m.setRows(msg.sel, msg.rows)
		return m, nil
	case triagedMsg:
		return m, m.applyTriage(msg.id, msg.triage)
	case selectTickMsg:
		if msg.seq != m.selSeq {
			return m, nil
		}
		return m, m.fetchRows()
	case view.FetchFailedMsg:
		switch {
		case msg.Key == "swimlane":
			m.loading = false
			m.loadErr = msg.Err
		case msg.Key == "anomalies":
			m.rowsLoading = false
			m.rowsErr = msg.Err
		}
		return m, nil
	case tea.WindowSizeMsg:
		// A new width can merge the selected column differently.
		return m, m.selectionChanged()
	case view.QueryChangedMsg:
		return m, m.load(msg.Query != m.query)
	case view.RefreshMsg:
		return m, m.load(false)
	case view.ResumeMsg:
		return m, m.moveToTime(m.ctx.Focus)
	case view.FilterMsg:
		return m, m.setFilter(msg.Text, msg.Pattern)
	case view.StepMatchMsg:
		d := 1
		if msg.Backward {
			d = -1
		}
		return m, m.step(d, true)
	case view.CommandMsg:
		return m, m.command(msg)
	case tea.KeyMsg:
		if m.noting {
			return m, m.noteKey(msg)
		}
		return m, m.keyPress(msg)
	}
	return m, nil
}

func (m *Model) keyPress(k tea.KeyMsg) tea.Cmd {
	km := m.bound().km
	if m.data == nil {
		if key.Matches(k, km.Scope) {
			return m.toggleScope()
		}
		return nil
	}
	half := max(1, m.layout().laneRows/2)
	if m.focus == tablePane {
		half = max(1, m.layout().tableRows/2)
	}
	switch {
	case key.Matches(k, km.Down):
		return m.step(1, false)
	case key.Matches(k, km.Up):
		return m.step(-1, false)
	case key.Matches(k, km.PageDown):
		return m.step(half, false)
	case key.Matches(k, km.PageUp):
		return m.step(-half, false)
	case key.Matches(k, km.Top):
		return m.step(-1<<30, false)
	case key.Matches(k, km.Bottom):
		return m.step(1<<30, false)
	case key.Matches(k, km.Earlier):
		return m.moveCol(-1)
	case key.Matches(k, km.Later):
		return m.moveCol(1)
	case key.Matches(k, km.DayEarlier):
		return m.moveCol(-m.dayCols())
	case key.Matches(k, km.DayLater):
		return m.moveCol(m.dayCols())
	case key.Matches(k, km.First):
		return m.moveCol(-1 << 30)
	case key.Matches(k, km.Last):
		return m.moveCol(1 << 30)
	case key.Matches(k, km.ZoomIn):
		return m.setZoom(m.zoom - 1)
	case key.Matches(k, km.ZoomOut):
		return m.setZoom(m.zoom + 1)
	case key.Matches(k, km.NextPane), key.Matches(k, km.PrevPane):
		if m.focus == lanesPane {
			m.focus = tablePane
		} else {
			m.focus = lanesPane
		}
		return nil
	case key.Matches(k, km.Open):
		if m.focus == lanesPane {
			m.focus = tablePane
			return nil
		}
		if a := m.selected(); a != nil {
			return view.Send(view.OpenAnomalyMsg{Anomaly: *a})
		}
		return nil
	case key.Matches(k, km.MarkNew):
		return m.triage(model.StateNew)
	case key.Matches(k, km.Acknowledge):
		return m.triage(model.StateAcknowledged)
	case key.Matches(k, km.FalsePositive):
		return m.triage(model.StateFalsePositive)
	case key.Matches(k, km.Escalate):
		return m.triage(model.StateEscalated)
	case key.Matches(k, km.Note):
		if a := m.selected(); a != nil {
			m.noting, m.noteFor = true, a.ID
			m.note.SetValue(a.Triage.Note)
		}
		return nil
	case key.Matches(k, km.StateFilter):
		return m.cycleStateFilter()
	case key.Matches(k, km.Scope):
		return m.toggleScope()
	case key.Matches(k, km.Processes):
		return m.explore()
	case key.Matches(k, km.Sort):
		m.sort = (m.sort + 1) % 3
		m.resort()
		return view.Notice("lanes sorted by " + m.sortDescription())
	case key.Matches(k, km.AddToCase):
		if a := m.selected(); a != nil {
			return cases.AddCmd(m.ctx, *a)
		}
	case key.Matches(k, km.Suppress):
		if a := m.selected(); a != nil {
			return rules.SuppressCmd(m.ctx, *a)
		}
	case key.Matches(k, km.ShowSuppressed):
		return m.setShowSuppressed(!m.showSuppressed)
	}
	return nil
}

// explore opens the process explorer on the selected anomaly's bucket, or
// on the selected lane's column.
func (m *Model) explore() tea.Cmd {
	if m.focus == tablePane {
		if a := m.selected(); a != nil && a.Entity != "" {
			t := explorer.Around(a.Scope, a.Entity, "", a.Time, a.Time.Add(a.BucketSpan))
			t.NameEntity = true
			return view.Push(explorer.New(m.ctx, t))
		}
	}
	sel := m.selection()
	if sel.all || sel.entity == "" {
		return view.Notice("select a " + m.data.Scope.Noun(1) + "'s lane or an anomaly to list its processes")
	}
	t := explorer.Around(m.data.Scope, sel.entity, "", sel.from, sel.to)
	t.NameEntity = true
	return view.Push(explorer.New(m.ctx, t))
}

func (m *Model) sortDescription() string {
	switch m.sort {
	case byMaxScore:
		return "max score"
	case byName:
		return "name"
	}
	return "score at the selected time"
}

func (m *Model) noteKey(k tea.KeyMsg) tea.Cmd {
	km := m.keys
	switch {
	case key.Matches(k, km.SaveNote):
		m.noting = false
		for i := range m.rows {
			if m.rows[i].ID == m.noteFor {
				return m.sendTriage(m.rows[i], m.rows[i].Triage.State, strings.TrimSpace(m.note.Value()))
			}
		}
		return view.Notice("the anomaly is no longer shown; note not saved")
	case key.Matches(k, km.CancelNote):
		m.noting = false
		return nil
	}
	m.note.Update(k)
	return nil
}
