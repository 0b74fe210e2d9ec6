// Package rules holds the console's suppression-rule screens: the rules
// list (:rules), the form that edits a rule, and the form that suppresses
// an anomaly's executable. They reach the backend's rule side through
// model.Cases inside their fetches; every change they make is announced
// with view.Changed, so every screen answers again with the rules in force.
package rules

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
	loadedMsg  struct{ rules []model.Rule }
	removedMsg struct{ r model.Rule }
)

// List is the rules list.
type List struct {
	ctx           *view.Context
	keys          keyMap
	width, height int

	rules   []model.Rule
	shown   []int
	cur     listing.Cursor
	loaded  bool
	loadErr error
	keep    string // the rule to select once the list arrives

	filter listing.Filter

	confirm *form.Form
	target  model.Rule
}

// NewList returns the rules list.
func NewList(ctx *view.Context) *List { return &List{ctx: ctx, keys: newKeyMap()} }

// Init implements view.View: load the rules.
func (m *List) Init() tea.Cmd { return m.load() }

// Title implements view.View.
func (m *List) Title() string { return "rules" }

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

// Capturing implements view.Capturer: the remove question takes every key.
func (m *List) Capturing() bool { return m.confirm != nil && m.confirm.Asking() }

// FilterTarget implements view.Filterable.
func (m *List) FilterTarget() string { return "rules" }

// Filter implements view.Filterable.
func (m *List) Filter() string { return m.filter.Text }

// Yank implements view.Yanker: the selected rule as JSON, in the rule
// file's field names.
func (m *List) Yank() (string, string, bool) {
	r := m.selected()
	if r == nil {
		return "", "", false
	}
	type yanked struct {
		ID         string    `json:"id"`
		Executable string    `json:"executable"`
		Scope      string    `json:"scope"`
		Entity     string    `json:"entity,omitempty"`
		Action     string    `json:"action"`
		Until      time.Time `json:"until,omitzero"`
		Note       string    `json:"note,omitempty"`
	}
	text, err := view.YankJSON(yanked{r.ID, r.Executable, r.Scope, r.Entity, r.Action, r.Until, r.Note})
	if err != nil {
		return "", "", false
	}
	return text, "rule", true
}

// Status implements view.Statuser.
func (m *List) Status() view.Status {
	if !m.loaded {
		return view.Status{}
	}
	active, hides := 0, 0
	now := m.now()
	for _, r := range m.rules {
		if r.Active(now) {
			active++
		}
		hides += r.Hides
	}
	n := len(m.rules)
	counts := fmt.Sprintf("%s %s · %s active · %s suppressed", view.Thousands(n), plural(n, "rule"), view.Thousands(active), view.Thousands(hides))
	return view.Status{Counts: counts}
}

// Legend implements view.Legender.
func (m *List) Legend() []string {
	return []string{
		"action: result = skip_result, hides the records (counted as suppressed) · model = skip_model_update, keeps the executions out of the models",
		"patterns: * any run of characters (slashes too) · ? one character · \\ quotes the next",
		"hides: records of the swimlane on screen the rule hides · expired rules do nothing",
	}
}

// SetSize implements view.View.
func (m *List) SetSize(w, h int) {
	m.width, m.height = w, h
	m.cur.Clamp(len(m.shown), m.visibleRows())
}

func (m *List) visibleRows() int { return max(m.height-1, 0) }

func (m *List) now() time.Time {
	if m.ctx.Now != nil {
		return m.ctx.Now()
	}
	return time.Now()
}

func (m *List) load() tea.Cmd {
	return view.Fetch(view.FetchMsg{
		Key:   "rules",
		Label: "rules",
		Run: view.OnCases(func(ctx context.Context, cb model.CaseBackend) (tea.Msg, error) {
			rules, err := cb.RuleList(ctx)
			if err != nil {
				return nil, err
			}
			return loadedMsg{rules: rules}, nil
		}),
	})
}

// Update implements view.View.
func (m *List) Update(msg tea.Msg) (view.View, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		if r := m.selected(); r != nil && m.keep == "" {
			m.keep = r.ID
		}
		at := m.cur.Sel
		m.rules, m.loaded, m.loadErr = msg.rules, true, nil
		m.refilter()
		m.cur.Sel = at
		for i, ri := range m.shown {
			if m.rules[ri].ID == m.keep {
				m.cur.Sel = i
			}
		}
		m.keep = ""
		m.cur.Clamp(len(m.shown), m.visibleRows())
		return m, nil
	case removedMsg:
		text := "rule " + safe.Text(msg.r.ID) + " removed"
		if msg.r.Hides > 0 {
			text += fmt.Sprintf(": %d %s back", msg.r.Hides, plural(msg.r.Hides, "record"))
		}
		return m, view.Changed(text)
	case view.FetchFailedMsg:
		if msg.Key == "rules" {
			m.loadErr = msg.Err
		}
		return m, nil
	case view.RefreshMsg:
		return m, m.load()
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

func (m *List) refilter() {
	m.shown = m.shown[:0]
	for i, r := range m.rules {
		if m.filter.Match(r.ID, r.Executable, r.Entity, r.Note, r.Action, r.Scope) {
			m.shown = append(m.shown, i)
		}
	}
}

func (m *List) selected() *model.Rule {
	if m.cur.Sel < 0 || m.cur.Sel >= len(m.shown) {
		return nil
	}
	return &m.rules[m.shown[m.cur.Sel]]
}

func (m *List) keyPress(k tea.KeyMsg) tea.Cmd {
	km := m.keys
	m.cur.Navigate(k, km.MoveKeys, len(m.shown), m.visibleRows())
	r := m.selected()
	if r == nil {
		return nil
	}
	switch {
	case key.Matches(k, km.Edit):
		if m.ctx.ReadOnly != nil {
			return view.Failure(m.ctx.ReadOnly)
		}
		return view.Push(NewEditForm(m.ctx, *r))
	case key.Matches(k, km.Remove):
		if m.ctx.ReadOnly != nil {
			return view.Failure(m.ctx.ReadOnly)
		}
		m.target = *r
		m.confirm = form.New()
		q := fmt.Sprintf("Remove rule %s (%s)?", safe.Text(r.ID), describe(*r, m.loc()))
		if r.Hides > 0 {
			q += fmt.Sprintf(" The %d %s it hides come back.", r.Hides, plural(r.Hides, "record"))
		}
		m.confirm.Ask(q + " y removes it, n keeps it.")
	}
	return nil
}

func (m *List) answer(k tea.KeyMsg) tea.Cmd {
	if m.confirm.Update(k) != form.Confirm {
		if !m.confirm.Asking() {
			m.confirm = nil
		}
		return nil
	}
	m.confirm = nil
	r := m.target
	return view.Fetch(view.FetchMsg{
		Key:   "remove " + r.ID,
		Label: "remove rule",
		Quiet: true,
		Run: view.OnCases(func(ctx context.Context, cb model.CaseBackend) (tea.Msg, error) {
			if err := cb.RemoveRule(ctx, r.ID); err != nil {
				return nil, err
			}
			return removedMsg{r: r}, nil
		}),
	})
}

var columns = []listing.Column{
	{Header: "executable", Min: 12, Max: 44, Keep: 0},
	{Header: "where", Min: 10, Max: 30, Keep: 1},
	{Header: "action", Min: 6, Max: 6, Keep: 2},
	{Header: "state", Min: 7, Max: 7, Keep: 3},
	{Header: "id", Min: 9, Max: 9, Keep: 4},
	{Header: "until", Min: 12, Max: 12, Keep: 6},
	{Header: "hides", Min: 5, Max: 5, Keep: 5, Right: true},
	{Header: "note", Min: 8, Max: 60, Keep: 7},
}

// View implements view.View.
func (m *List) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	th := m.ctx.Theme
	idx, widths := listing.Layout(columns, m.width)
	lines := []string{listing.Header(columns, idx, widths, th)}
	switch {
	case m.loadErr != nil:
		for _, l := range view.Wrap(" could not list the rules: "+safe.Text(m.loadErr.Error()), m.width) {
			lines = append(lines, th.Error.Apply(l))
		}
	case !m.loaded:
		lines = append(lines, th.Dim.Apply(" loading the rules…"))
	case len(m.rules) == 0:
		lines = append(lines, th.Dim.Apply(view.Truncate(" no rules: S on an anomaly suppresses its executable; :rules import FILE reads a rule file", m.width)))
	case len(m.shown) == 0:
		lines = append(lines, th.Dim.Apply(" no rule matches the filter"))
	}
	var bottom []string
	if m.Capturing() {
		bottom = m.confirm.Lines(m.width, th)
	}
	rows := max(m.visibleRows()-len(bottom), 0)
	m.cur.Clamp(len(m.shown), rows)
	now, loc := m.now(), m.loc()
	for i := m.cur.Top; i < len(m.shown) && i < m.cur.Top+rows; i++ {
		r := &m.rules[m.shown[i]]
		active := r.Active(now)
		state, until := "active", "-"
		if !active {
			state = "expired"
		}
		if !r.Until.IsZero() {
			until = r.Until.In(loc).Format("Jan 02 15:04")
			if r.Until.In(loc).Year() != now.In(loc).Year() {
				until = r.Until.In(loc).Format("2006-01-02")
			}
		}
		cells := []string{safe.Text(r.Executable), where(*r), actionWord(r.Action), state, safe.Text(r.ID), until,
			view.Thousands(r.Hides), safe.Text(firstLine(r.Note))}
		paint := func(col int, text string) string {
			if !active {
				return th.Dim.Apply(text)
			}
			return text
		}
		lines = append(lines, listing.Row(columns, idx, widths, cells, th, i == m.cur.Sel, true, paint))
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

// where is the list's short form of the hosts or containers a rule covers.
func where(r model.Rule) string {
	noun := "host"
	switch r.Scope {
	case string(model.ScopeContainer):
		noun = "container"
	case model.RuleScopeAny:
		noun = "any"
	}
	if r.Entity == "" {
		if noun == "any" {
			return "everywhere"
		}
		return "every " + noun
	}
	return noun + " " + safe.Text(r.Entity)
}

// actionWord is the action in the list's narrow column.
func actionWord(a string) string {
	switch a {
	case model.RuleSkipResult:
		return "result"
	case model.RuleSkipModelUpdate:
		return "model"
	}
	return safe.Text(a)
}

// describe says what a rule does in words, sanitized.
func describe(r model.Rule, loc *time.Location) string {
	s := safe.Text(r.Action) + " " + safe.Text(r.Executable) + " on " + safe.Text(r.Where())
	if !r.Until.IsZero() {
		s += " until " + r.Until.In(loc).Format("2006-01-02 15:04")
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
