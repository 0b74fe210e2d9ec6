package cases

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/anomaly"
	"github.com/auditlens/auditlens/views/form"
	"github.com/auditlens/auditlens/views/internal/listing"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Wide terminals get the selected anomaly's record beside the list.
const (
	sidePanelAt = 120
	sidePanelW  = 38
)

type (
	caseLoadedMsg struct {
		name string
		rows []model.Anomaly
	}
	removedMsg struct {
		name string
		a    model.Anomaly
	}
)

// Case is one case's anomalies: enter drills down as the swimlane does.
type Case struct {
	ctx           *view.Context
	keys          keyMap
	name          string
	width, height int

	rows    []model.Anomaly
	shown   []int
	cur     listing.Cursor
	loaded  bool
	loadErr error
	keep    string // the anomaly to select once the list arrives

	filter listing.Filter

	confirm *form.Form
	target  model.Anomaly

	// opening is the anomaly enter opens once the shell has switched to
	// its job.
	opening *model.Anomaly
}

// NewCase returns the screen of the named case's anomalies.
func NewCase(ctx *view.Context, name string) *Case {
	return &Case{ctx: ctx, keys: newKeyMap(), name: name}
}

// Init implements view.View: load the case.
func (m *Case) Init() tea.Cmd { return m.load() }

// Title implements view.View.
func (m *Case) Title() string { return "case " + m.name }

// MinSize implements view.MinSizer.
func (m *Case) MinSize() (int, int) { return minWidth, minHeight }

// KeyMap implements view.View.
func (m *Case) KeyMap() help.KeyMap {
	k := caseKeys{km: m.keys}
	if m.Capturing() {
		k.asking = m.confirm.KeyMap()
	}
	return k
}

// Capturing implements view.Capturer: the remove question takes every key.
func (m *Case) Capturing() bool { return m.confirm != nil && m.confirm.Asking() }

// FilterTarget implements view.Filterable.
func (m *Case) FilterTarget() string { return "anomalies" }

// Filter implements view.Filterable.
func (m *Case) Filter() string { return m.filter.Text }

// FocusTime implements view.Focuser: the selected anomaly's bucket.
func (m *Case) FocusTime() (time.Time, bool) {
	if a := m.selected(); a != nil {
		return a.Time, true
	}
	return time.Time{}, false
}

// Yank implements view.Yanker: the selected anomaly as a JSON record.
func (m *Case) Yank() (string, string, bool) {
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

// Status implements view.Statuser: the case's range and size.
func (m *Case) Status() view.Status {
	if !m.loaded {
		return view.Status{}
	}
	var st view.Status
	for i, a := range m.rows {
		if i == 0 || a.Time.Before(st.From) {
			st.From = a.Time
		}
		if end := a.Time.Add(a.BucketSpan); i == 0 || end.After(st.To) {
			st.To = end
		}
	}
	n := len(m.rows)
	st.Counts = view.Thousands(n) + " " + plural(n, "anomaly")
	if len(m.shown) != n {
		st.Counts = view.Thousands(len(m.shown)) + "/" + st.Counts
	}
	return st
}

// Legend implements view.Legender.
func (m *Case) Legend() []string {
	return []string{
		"sev: . low · : warning · + minor · # major · @ critical, then the score the case saved",
		"state new, ack, fp or esc; * has a note · enter opens the rare chart or the rate drill-down",
	}
}

// SetSize implements view.View.
func (m *Case) SetSize(w, h int) {
	m.width, m.height = w, h
	m.cur.Clamp(len(m.shown), m.visibleRows())
}

func (m *Case) visibleRows() int { return max(m.height-1, 0) }

func (m *Case) load() tea.Cmd {
	name := m.name
	return view.Fetch(view.FetchMsg{
		Key:   "case",
		Label: "case " + safe.Text(name),
		Run: view.OnCases(func(ctx context.Context, cb model.CaseBackend) (tea.Msg, error) {
			rows, err := cb.CaseAnomalies(ctx, name)
			if err != nil {
				return nil, err
			}
			return caseLoadedMsg{name: name, rows: rows}, nil
		}),
	})
}

// Update implements view.View.
func (m *Case) Update(msg tea.Msg) (view.View, tea.Cmd) {
	switch msg := msg.(type) {
	case caseLoadedMsg:
		if a := m.selected(); a != nil && m.keep == "" {
			m.keep = a.ID
		}
		at := m.cur.Sel
		m.rows, m.loaded, m.loadErr = msg.rows, true, nil
		m.refilter()
		m.cur.Sel = at // a removed row's neighbour takes its place
		for i, ri := range m.shown {
			if m.rows[ri].ID == m.keep {
				m.cur.Sel = i
			}
		}
		m.keep = ""
		m.cur.Clamp(len(m.shown), m.visibleRows())
		return m, nil
	case removedMsg:
		return m, view.Changed(fmt.Sprintf("%s taken out of case %s", describe(msg.a), safe.Text(msg.name)))
	case view.FetchFailedMsg:
		if msg.Key == "case" {
			m.loadErr = msg.Err
		}
		return m, nil
	case view.RefreshMsg:
		return m, m.load()
	case view.QueryChangedMsg:
		// The shell switched to the job of the anomaly enter asked for.
		if a := m.opening; a != nil {
			m.opening = nil
			return m, view.Send(view.OpenAnomalyMsg{Anomaly: *a})
		}
		return m, nil
	case view.FilterMsg:
		m.filter.Set(msg)
		m.refilter()
		m.cur.Clamp(len(m.shown), m.visibleRows())
		return m, nil
	case view.StepMatchMsg:
		m.cur.Step(msg.Backward, len(m.shown), m.visibleRows())
		return m, nil
	case tea.KeyMsg:
		if m.Capturing() {
			return m, m.answer(msg)
		}
		return m, m.keyPress(msg)
	}
	return m, nil
}

func (m *Case) refilter() {
	m.shown = m.shown[:0]
	for i := range m.rows {
		a := &m.rows[i]
		if m.filter.Match(a.Entity, a.Executable, a.JobID, a.Triage.Note, a.Triage.State.String(), a.FoundFor()) {
			m.shown = append(m.shown, i)
		}
	}
}

func (m *Case) selected() *model.Anomaly {
	if m.cur.Sel < 0 || m.cur.Sel >= len(m.shown) {
		return nil
	}
	return &m.rows[m.shown[m.cur.Sel]]
}

func (m *Case) keyPress(k tea.KeyMsg) tea.Cmd {
	km := m.keys
	m.opening = nil // a drill-down the shell could not switch for is given up
	if !m.cur.Navigate(k, km.MoveKeys, len(m.shown), m.visibleRows()) && key.Matches(k, km.Save) {
		return SaveCmd(m.ctx, m.name)
	}
	a := m.selected()
	if a == nil {
		return nil
	}
	switch {
	case key.Matches(k, km.Open):
		return m.open(*a)
	case key.Matches(k, km.Remove):
		if m.ctx.ReadOnly != nil {
			return view.Failure(m.ctx.ReadOnly)
		}
		m.target = *a
		m.confirm = form.New()
		m.confirm.Ask(fmt.Sprintf("Take %s out of case %s? Its triage is kept. y takes it out, n keeps it.", describe(*a), safe.Text(m.name)))
	}
	return nil
}

// open drills down into a case's anomaly as the swimlane does. The charts
// ask about the console's job, partition and bucket span: when the anomaly
// was found with others, the shell switches to them first (and to the whole
// data when the anomaly lies outside the range shown), then opens it.
func (m *Case) open(a model.Anomaly) tea.Cmd {
	q := m.ctx.Query
	want := q
	if _, ok := model.FindJob(m.ctx.Jobs, a.JobID); ok {
		want.Job, want.Scope = a.JobID, a.Scope
	}
	if a.BucketSpan > 0 {
		want.BucketSpan = a.BucketSpan
	}
	want.Partition = ""
	if a.PartitionField == "" {
		want.Partition = model.PartitionNone
	}
	if (!want.From.IsZero() && a.Time.Before(want.From)) || (!want.To.IsZero() && !a.Time.Before(want.To)) {
		want.From, want.To = time.Time{}, time.Time{}
	}
	if want == q {
		return view.Send(view.OpenAnomalyMsg{Anomaly: a})
	}
	m.opening = &a
	return view.Send(view.SetQueryMsg{Query: want})
}

func (m *Case) answer(k tea.KeyMsg) tea.Cmd {
	if m.confirm.Update(k) != form.Confirm {
		if !m.confirm.Asking() {
			m.confirm = nil
		}
		return nil
	}
	m.confirm = nil
	name, a := m.name, m.target
	return view.Fetch(view.FetchMsg{
		Key:   "remove " + a.ID,
		Label: "remove from case",
		Quiet: true,
		Run: view.OnCases(func(ctx context.Context, cb model.CaseBackend) (tea.Msg, error) {
			if err := cb.RemoveFromCase(ctx, name, a.ID); err != nil {
				return nil, err
			}
			return removedMsg{name: name, a: a}, nil
		}),
	})
}

var caseColumns = []listing.Column{
	{Header: "time", Min: 12, Max: 12, Keep: 0},
	{Header: "sev", Min: 5, Max: 5, Keep: 1},
	{Header: "job", Min: 10, Max: 24, Keep: 6},
	{Header: "entity", Min: 8, Max: 20, Keep: 3},
	{Header: "found for", Min: 12, Max: 40, Keep: 2},
	{Header: "state", Min: 5, Max: 5, Keep: 4},
	{Header: "note", Min: 8, Max: 60, Keep: 5},
}

// View implements view.View.
func (m *Case) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	th := m.ctx.Theme
	listW, panelW := m.width, 0
	if m.width >= sidePanelAt {
		panelW = sidePanelW
		listW = m.width - panelW - 1
	}
	idx, widths := listing.Layout(caseColumns, listW)
	lines := []string{listing.Header(caseColumns, idx, widths, th)}
	switch {
	case m.loadErr != nil:
		for _, l := range view.Wrap(" could not read the case: "+safe.Text(m.loadErr.Error()), listW) {
			lines = append(lines, th.Error.Apply(l))
		}
	case !m.loaded:
		lines = append(lines, th.Dim.Apply(" loading the case…"))
	case len(m.rows) == 0:
		lines = append(lines, th.Dim.Apply(view.Truncate(" the case holds no anomaly: A on an anomaly adds it", listW)))
	case len(m.shown) == 0:
		lines = append(lines, th.Dim.Apply(" no anomaly matches the filter"))
	}
	var bottom []string
	if m.Capturing() {
		bottom = m.confirm.Lines(listW, th)
	}
	rows := max(m.visibleRows()-len(bottom), 0)
	m.cur.Clamp(len(m.shown), rows)
	loc := m.loc()
	for i := m.cur.Top; i < len(m.shown) && i < m.cur.Top+rows; i++ {
		a := &m.rows[m.shown[i]]
		state := a.Triage.State.Short()
		if a.Triage.Note != "" {
			state += "*"
		}
		sev := a.Severity()
		cells := []string{a.Time.In(loc).Format("Jan 02 15:04"), string(sev.Glyph()) + " " + model.FormatScore(a.Score),
			safe.Text(a.JobID), safe.Text(a.Entity), safe.Text(a.FoundFor()), state, safe.Text(a.Triage.Note)}
		paint := func(col int, text string) string {
			switch {
			case col == 1:
				return th.SeverityText[sev].Apply(text)
			case col == 5 && a.Triage.State == model.StateEscalated:
				return th.Escalated.Apply(text)
			case col == 5 && a.Triage.State.Dismissed():
				return th.Dim.Apply(text)
			}
			return text
		}
		lines = append(lines, listing.Row(caseColumns, idx, widths, cells, th, i == m.cur.Sel, true, paint))
	}
	for len(lines) < m.height-len(bottom) {
		lines = append(lines, "")
	}
	lines = append(lines, bottom...)
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	if panelW > 0 {
		var panel []string
		if a := m.selected(); a != nil {
			panel = anomaly.Lines(*a, panelW, th, loc)
		}
		sep := th.Dim.Apply("│")
		for i := range lines {
			p := ""
			if i < len(panel) {
				p = panel[i]
			}
			lines[i] = view.Fit(lines[i], listW) + sep + p
		}
	}
	return view.Frame(strings.Join(lines, "\n"), m.width, m.height)
}

func (m *Case) loc() *time.Location {
	if m.ctx.Location == nil {
		return time.UTC
	}
	return m.ctx.Location
}

// describe names an anomaly in a notice: what it was found for, where.
func describe(a model.Anomaly) string {
	if a.Executable != "" && a.Executable != a.Entity {
		return safe.Text(a.Executable) + " on " + safe.Text(a.Entity)
	}
	return safe.Text(a.Entity)
}
