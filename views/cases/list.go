// Package cases holds the console's case screens: the list of cases
// (:cases), one case's anomalies, and the forms that add an anomaly to a
// case and save a case to a file. They reach the backend's case side
// through model.Cases inside their fetches.
package cases

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/form"
	"github.com/auditlens/auditlens/views/internal/listing"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

const (
	minWidth  = 40
	minHeight = 5
)

type (
	listLoadedMsg struct{ cases []model.Case }
	deletedMsg    struct{ name string }
)

// List is the cases list.
type List struct {
	ctx           *view.Context
	keys          keyMap
	width, height int

	cases   []model.Case
	shown   []int // indices into cases, narrowed by the filter
	cur     listing.Cursor
	loaded  bool
	loadErr error
	want    string // the case to select once the list arrives

	filter listing.Filter

	confirm *form.Form // the delete question, while it is asked
	target  string     // the case it asks about
}

// NewList returns the cases list with the cursor on the case named
// selected, when there is one.
func NewList(ctx *view.Context, selected string) *List {
	return &List{ctx: ctx, keys: newKeyMap(), want: selected}
}

// Init implements view.View: load the list.
func (m *List) Init() tea.Cmd { return m.load() }

// Title implements view.View.
func (m *List) Title() string { return "cases" }

// MinSize implements view.MinSizer.
func (m *List) MinSize() (int, int) { return minWidth, minHeight }

// KeyMap implements view.View.
func (m *List) KeyMap() help.KeyMap {
	k := listKeys{km: m.keys}
	if m.Capturing() {
		k.asking = m.confirm.KeyMap()
	}
	return k
}

// Capturing implements view.Capturer: the delete question takes every key.
func (m *List) Capturing() bool { return m.confirm != nil && m.confirm.Asking() }

// FilterTarget implements view.Filterable.
func (m *List) FilterTarget() string { return "cases" }

// Filter implements view.Filterable.
func (m *List) Filter() string { return m.filter.Text }

// Status implements view.Statuser.
func (m *List) Status() view.Status {
	if !m.loaded {
		return view.Status{}
	}
	n := len(m.cases)
	counts := view.Thousands(n) + " " + plural(n, "case")
	if len(m.shown) != n {
		counts = view.Thousands(len(m.shown)) + "/" + counts
	}
	return view.Status{Counts: counts}
}

// SetSize implements view.View.
func (m *List) SetSize(w, h int) {
	m.width, m.height = w, h
	m.cur.Clamp(len(m.shown), m.rows())
}

func (m *List) rows() int { return max(m.height-1, 0) } // below the header

func (m *List) load() tea.Cmd {
	return view.Fetch(view.FetchMsg{
		Key:   "cases",
		Label: "cases",
		Run: view.OnCases(func(ctx context.Context, cb model.CaseBackend) (tea.Msg, error) {
			list, err := cb.CaseList(ctx)
			if err != nil {
				return nil, err
			}
			return listLoadedMsg{cases: list}, nil
		}),
	})
}

// Update implements view.View.
func (m *List) Update(msg tea.Msg) (view.View, tea.Cmd) {
	switch msg := msg.(type) {
	case listLoadedMsg:
		if c := m.selected(); c != nil && m.want == "" {
			m.want = c.Name
		}
		m.cases, m.loaded, m.loadErr = msg.cases, true, nil
		m.refilter()
		for i, ci := range m.shown {
			if m.cases[ci].Name == m.want {
				m.cur.Sel = i
			}
		}
		m.want = ""
		m.cur.Clamp(len(m.shown), m.rows())
		return m, nil
	case deletedMsg:
		return m, view.Changed("case " + safe.Text(msg.name) + " deleted (its anomalies' triage is kept)")
	case view.FetchFailedMsg:
		if msg.Key == "cases" {
			m.loadErr = msg.Err
		}
		return m, nil
	case view.RefreshMsg:
		return m, m.load()
	case view.FilterMsg:
		m.filter.Set(msg)
		m.refilter()
		m.cur.Clamp(len(m.shown), m.rows())
		return m, nil
	case view.StepMatchMsg:
		m.cur.Step(msg.Backward, len(m.shown), m.rows())
		return m, nil
	case tea.KeyMsg:
		if m.Capturing() {
			return m, m.answer(msg)
		}
		return m, m.keyPress(msg)
	}
	return m, nil
}

func (m *List) refilter() {
	m.shown = m.shown[:0]
	for i, c := range m.cases {
		if m.filter.Match(c.Name, c.Summary) {
			m.shown = append(m.shown, i)
		}
	}
}

func (m *List) selected() *model.Case {
	if m.cur.Sel < 0 || m.cur.Sel >= len(m.shown) {
		return nil
	}
	return &m.cases[m.shown[m.cur.Sel]]
}

func (m *List) keyPress(k tea.KeyMsg) tea.Cmd {
	km := m.keys
	m.cur.Navigate(k, km.MoveKeys, len(m.shown), m.rows())
	c := m.selected()
	if c == nil {
		return nil
	}
	switch {
	case key.Matches(k, km.Open):
		return view.Push(NewCase(m.ctx, c.Name))
	case key.Matches(k, km.Save):
		return SaveCmd(m.ctx, c.Name)
	case key.Matches(k, km.Delete):
		if m.ctx.ReadOnly != nil {
			return view.Failure(m.ctx.ReadOnly)
		}
		m.target = c.Name
		m.confirm = form.New()
		m.confirm.Ask(fmt.Sprintf("Delete case %s and its list of %d %s? Their triage is kept. y deletes, n keeps it.",
			safe.Text(c.Name), c.Anomalies, plural(c.Anomalies, "anomaly")))
	}
	return nil
}

// answer takes the key that answers the delete question.
func (m *List) answer(k tea.KeyMsg) tea.Cmd {
	if m.confirm.Update(k) != form.Confirm {
		if !m.confirm.Asking() {
			m.confirm = nil
		}
		return nil
	}
	m.confirm = nil
	name := m.target
	return view.Fetch(view.FetchMsg{
		Key:   "delete " + name,
		Label: "delete case",
		Quiet: true,
		Run: view.OnCases(func(ctx context.Context, cb model.CaseBackend) (tea.Msg, error) {
			if err := cb.DeleteCase(ctx, name); err != nil {
				return nil, err
			}
			return deletedMsg{name: name}, nil
		}),
	})
}

var listColumns = []listing.Column{
	{Header: "case", Min: 10, Max: 40, Keep: 0},
	{Header: "anomalies", Min: 9, Max: 9, Keep: 1, Right: true},
	{Header: "updated", Min: 12, Max: 12, Keep: 2},
	{Header: "summary", Min: 10, Max: 200, Keep: 3},
}

// View implements view.View.
func (m *List) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	th := m.ctx.Theme
	idx, widths := listing.Layout(listColumns, m.width)
	lines := []string{listing.Header(listColumns, idx, widths, th)}
	switch {
	case m.loadErr != nil:
		lines = append(lines, th.Error.Apply(view.Truncate(" could not list the cases: "+safe.Text(m.loadErr.Error()), m.width)))
	case !m.loaded:
		lines = append(lines, th.Dim.Apply(" loading the cases…"))
	case len(m.cases) == 0:
		lines = append(lines, th.Dim.Apply(view.Truncate(" no cases yet: A on an anomaly adds it to a new or existing case", m.width)))
	case len(m.shown) == 0:
		lines = append(lines, th.Dim.Apply(" no case matches the filter"))
	}
	var bottom []string
	if m.Capturing() {
		bottom = m.confirm.Lines(m.width, th)
	}
	rows := max(m.rows()-len(bottom), 0)
	m.cur.Clamp(len(m.shown), rows)
	for i := m.cur.Top; i < len(m.shown) && i < m.cur.Top+rows; i++ {
		c := &m.cases[m.shown[i]]
		name := safe.Text(c.Name)
		if c.Name == m.ctx.CaseFile.Name {
			name += " (this file)"
		}
		cells := []string{name, view.Thousands(c.Anomalies), c.Updated.In(m.loc()).Format("Jan 02 15:04"), safe.Text(firstLine(c.Summary))}
		lines = append(lines, listing.Row(listColumns, idx, widths, cells, th, i == m.cur.Sel, true, nil))
	}
	for len(lines) < m.height-len(bottom) {
		lines = append(lines, "")
	}
	lines = append(lines, bottom...)
	return view.Frame(strings.Join(lines, "\n"), m.width, m.height)
}

func (m *List) loc() *time.Location {
	if m.ctx.Location == nil {
		return time.UTC
	}
	return m.ctx.Location
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	if strings.HasSuffix(word, "y") {
		return word[:len(word)-1] + "ies"
	}
	return word + "s"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
