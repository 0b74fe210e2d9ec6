package rules

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/internal/when"
	"github.com/auditlens/auditlens/views/form"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
)

type (
	suppressedMsg struct{ r model.Rule }
	editedMsg     struct{ r model.Rule }
)

// untilChoices are the ends tab offers for a rule.
var untilChoices = []string{"+1d", "+7d", "+30d", "+90d"}

// actionHint says what the chosen action does, beside it.
func actionHint(action string) string {
	if action == model.RuleSkipModelUpdate {
		return "keeps its executions out of the models"
	}
	return "hides its records, counted as suppressed"
}

// SuppressCmd opens the form that suppresses a's executable, or says why it
// cannot be done.
func SuppressCmd(ctx *view.Context, a model.Anomaly) tea.Cmd {
	switch {
	case !ctx.Cases:
		return view.Failure(model.ErrNoCases)
	case a.SuppressedBy != "":
		return view.Notice("already suppressed by rule " + safe.Text(a.SuppressedBy) + " (:rules lists the rules)")
	case ctx.ReadOnly != nil:
		return view.Failure(ctx.ReadOnly)
	}
	if _, ok := model.SuppressibleExecutable(a); !ok {
		return view.Failure(fmt.Errorf("this anomaly is about %s; a rule names one executable (write it with :rules or auditlens rules add)", executablesText(a)))
	}
	return view.Push(NewSuppressForm(ctx, a))
}

func executablesText(a model.Anomaly) string {
	n := 0
	for _, in := range a.Influencers {
		if in.Field == "process.executable" {
			n += len(in.Values)
		}
	}
	if n == 0 {
		return "no executable"
	}
	return fmt.Sprintf("%d executables", n)
}

// SuppressForm asks what to do with an anomaly's executable (skip_result or
// skip_model_update), on which hosts or containers and until when, asks to
// confirm, then makes the rule.
type SuppressForm struct {
	ctx *view.Context
	a   model.Anomaly
	exe string
	form.Screen
	req model.Suppression // what the question asks about
}

// NewSuppressForm returns the suppress form of a; the hosts pattern starts
// on a's host or container.
func NewSuppressForm(ctx *view.Context, a model.Anomaly) *SuppressForm {
	exe, _ := model.SuppressibleExecutable(a)
	m := &SuppressForm{ctx: ctx, a: a, exe: exe}
	noun := a.Scope.Noun(2)
	entity := a.Entity
	if entity == "" {
		entity = "*"
	}
	hosts := form.Text(noun, entity, "* for every one")
	hosts.Complete = prefixed(entityPatterns(a.Entity))
	until := form.Text("until", "", "empty: for good; +30d, 2026-12-31")
	until.Complete = prefixed(untilChoices)
	m.Form = form.New(
		form.Choice("action", model.RuleActions(), 0, actionHint(model.RuleSkipResult)),
		hosts,
		until,
		form.Text("note", "", "why it is benign"),
	)
	m.Form.SetFocus(1)
	return m
}

// entityPatterns are the patterns tab offers for a host or container: its
// own name, its family (web-03 gives web-*), every one.
func entityPatterns(entity string) []string {
	var out []string
	if entity != "" {
		out = append(out, entity)
		if i := strings.LastIndexAny(entity, "-_."); i > 0 && i < len(entity)-1 {
			out = append(out, entity[:i+1]+"*")
		}
	}
	return append(out, "*")
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

// Title implements view.View.
func (m *SuppressForm) Title() string { return "suppress " + m.exe }

// Update implements view.View.
func (m *SuppressForm) Update(msg tea.Msg) (view.View, tea.Cmd) {
	switch msg := msg.(type) {
	case suppressedMsg:
		text := fmt.Sprintf("rule %s: %s suppressed on %s (:rules lists, edits and removes rules)", safe.Text(msg.r.ID),
			safe.Text(msg.r.Executable), safe.Text(msg.r.Where()))
		return m, tea.Batch(view.Back(), view.Changed(text))
	case view.FetchFailedMsg:
		if msg.Key == "suppress" {
			m.Form.Problem(msg.Err.Error())
		}
	case tea.KeyMsg:
		switch m.Form.Update(msg) {
		case form.Cancel:
			return m, view.Back()
		case form.Submit:
			m.submit()
		case form.Confirm:
			return m, m.suppress()
		}
		m.Form.Fields[0].Hint = actionHint(m.Form.Fields[0].Value())
	}
	return m, nil
}

// submit checks the values and asks to confirm.
func (m *SuppressForm) submit() {
	req := model.Suppression{Action: m.Form.Fields[0].Value(), Note: m.Form.Fields[3].Value()}
	req.Entity = entityOf(m.Form.Fields[1].Value())
	until, err := parseUntil(m.Form.Fields[2].Value(), m.ctx)
	if err != nil {
		m.Form.SetFocus(2)
		m.Form.Problem(err.Error())
		return
	}
	req.Until = until
	m.req = req
	r := model.Rule{Executable: m.exe, Scope: string(m.a.Scope), Entity: req.Entity, Action: req.Action, Until: until}
	end := "for good"
	if !until.IsZero() {
		end = "until " + until.In(m.loc()).Format("2006-01-02 15:04") + " " + view.ZoneName(m.loc(), until)
	}
	m.Form.Ask(fmt.Sprintf("Suppress %s on %s %s (%s)? y suppresses, n goes back.", safe.Text(m.exe), safe.Text(r.Where()), end, req.Action))
}

func (m *SuppressForm) suppress() tea.Cmd {
	id, req := m.a.ID, m.req
	return view.Fetch(view.FetchMsg{
		Key:   "suppress",
		Label: "suppress",
		Quiet: true,
		Run: view.OnCases(func(ctx context.Context, cb model.CaseBackend) (tea.Msg, error) {
			r, err := cb.Suppress(ctx, id, req)
			if err != nil {
				return nil, err
			}
			return suppressedMsg{r: r}, nil
		}),
	})
}

func (m *SuppressForm) loc() *time.Location {
	if m.ctx.Location == nil {
		return time.UTC
	}
	return m.ctx.Location
}

// View implements view.View.
func (m *SuppressForm) View() string {
	if m.Width <= 0 || m.Height <= 0 {
		return ""
	}
	th := m.ctx.Theme
	lines := []string{th.Header.Apply(view.Truncate(" suppress "+safe.Text(m.exe), m.Width))}
	lines = append(lines, anomalyLines(m.a, m.Width, m.ctx)...)
	for _, l := range view.Wrap("a rule names the executable exactly, for the "+m.a.Scope.Noun(2)+" below; records it covers are hidden over the whole range and counted as suppressed; :rules undoes it", max(m.Width-3, 1)) {
		lines = append(lines, "   "+th.Dim.Apply(l))
	}
	lines = append(lines, "")
	lines = append(lines, m.Form.Lines(m.Width, th)...)
	return view.Frame(strings.Join(lines, "\n"), m.Width, m.Height)
}

// anomalyLines name the anomaly a form is about.
func anomalyLines(a model.Anomaly, w int, ctx *view.Context) []string {
	th := ctx.Theme
	loc := ctx.Location
	if loc == nil {
		loc = time.UTC
	}
	sev := a.Severity()
	first := "   from " + th.SeverityText[sev].Apply(fmt.Sprintf("%s %s", sev, model.FormatScore(a.Score))) + " · " + safe.Text(a.JobID) +
		" · " + safe.Text(a.Entity) + " · " + a.Time.In(loc).Format("2006-01-02 15:04") + " " + view.ZoneName(loc, a.Time)
	return []string{view.Truncate(first, w)}
}

// EditForm edits a rule: its executable and hosts patterns, action, end and
// note.
type EditForm struct {
	ctx       *view.Context
	r         model.Rule
	untilText string // the end as the form first showed it
	form.Screen
}

// NewEditForm returns the form of rule r.
func NewEditForm(ctx *view.Context, r model.Rule) *EditForm {
	m := &EditForm{ctx: ctx, r: r}
	entity := r.Entity
	if entity == "" {
		entity = "*"
	}
	scopes := []string{string(model.ScopeHost), string(model.ScopeContainer), model.RuleScopeAny}
	scope := slices.Index(scopes, r.Scope)
	if !r.Until.IsZero() {
		m.untilText = r.Until.In(m.loc()).Format(time.RFC3339)
	}
	until := m.untilText
	untilField := form.Text("until", until, "empty: for good; +30d, 2026-12-31")
	untilField.Complete = prefixed(untilChoices)
	action := slices.Index(model.RuleActions(), r.Action)
	m.Form = form.New(
		form.Text("executable", r.Executable, "a path, or a pattern"),
		form.Choice("scope", scopes, scope, ""),
		form.Text("hosts", entity, "* for every one"),
		form.Choice("action", model.RuleActions(), action, actionHint(r.Action)),
		untilField,
		form.Text("note", r.Note, ""),
	)
	m.Form.SetFocus(5)
	return m
}

// Title implements view.View.
func (m *EditForm) Title() string { return "rule " + m.r.ID }

func (m *EditForm) loc() *time.Location {
	if m.ctx.Location == nil {
		return time.UTC
	}
	return m.ctx.Location
}

// Update implements view.View.
func (m *EditForm) Update(msg tea.Msg) (view.View, tea.Cmd) {
	switch msg := msg.(type) {
	case editedMsg:
		return m, tea.Batch(view.Back(), view.Changed("rule "+safe.Text(msg.r.ID)+" saved: "+describe(msg.r, m.loc())))
	case view.FetchFailedMsg:
		if msg.Key == "edit" {
			m.Form.Problem(msg.Err.Error())
		}
	case tea.KeyMsg:
		switch m.Form.Update(msg) {
		case form.Cancel:
			return m, view.Back()
		case form.Submit:
			return m, m.submit()
		}
		m.Form.Fields[3].Hint = actionHint(m.Form.Fields[3].Value())
	}
	return m, nil
}

func (m *EditForm) submit() tea.Cmd {
	f := m.Form.Fields
	r := m.r
	r.Executable, r.Scope, r.Entity, r.Action, r.Note = f[0].Value(), f[1].Value(), entityOf(f[2].Value()), f[3].Value(), f[5].Value()
	if r.Executable == "" {
		m.Form.SetFocus(0)
		m.Form.Problem("a rule needs an executable: a path, or a pattern such as /opt/app/bin/*")
		return nil
	}
	if f[4].Value() != m.untilText {
		// A changed end must lie ahead; an unchanged one (even past) stays.
		until, err := parseUntil(f[4].Value(), m.ctx)
		if err != nil {
			m.Form.SetFocus(4)
			m.Form.Problem(err.Error())
			return nil
		}
		r.Until = until
	}
	return view.Fetch(view.FetchMsg{
		Key:   "edit",
		Label: "edit rule",
		Quiet: true,
		Run: view.OnCases(func(ctx context.Context, cb model.CaseBackend) (tea.Msg, error) {
			stored, err := cb.EditRule(ctx, r)
			if err != nil {
				return nil, err
			}
			return editedMsg{r: stored}, nil
		}),
	})
}

// View implements view.View.
func (m *EditForm) View() string {
	if m.Width <= 0 || m.Height <= 0 {
		return ""
	}
	th := m.ctx.Theme
	lines := []string{th.Header.Apply(view.Truncate(" rule "+safe.Text(m.r.ID), m.Width))}
	meta := "   created " + m.r.Created.In(m.loc()).Format("2006-01-02 15:04")
	if !m.r.Updated.IsZero() && !m.r.Updated.Equal(m.r.Created) {
		meta += " · changed " + m.r.Updated.In(m.loc()).Format("2006-01-02 15:04")
	}
	meta += fmt.Sprintf(" · hides %d %s on screen", m.r.Hides, plural(m.r.Hides, "record"))
	lines = append(lines, th.Dim.Apply(view.Truncate(meta, m.Width)))
	lines = append(lines, th.Dim.Apply(view.Truncate("   patterns: * any run of characters (slashes too), ? one character, \\ quotes the next", m.Width)))
	lines = append(lines, "")
	lines = append(lines, m.Form.Lines(m.Width, th)...)
	return view.Frame(strings.Join(lines, "\n"), m.Width, m.Height)
}

// entityOf reads the hosts field: * (or nothing) is every one.
func entityOf(s string) string {
	if s == "*" {
		return ""
	}
	return s
}

// parseUntil reads a rule's end: empty for good, else a time to come.
func parseUntil(s string, ctx *view.Context) (time.Time, error) {
	if s == "" || s == "none" || s == "never" {
		return time.Time{}, nil
	}
	now := time.Now()
	if ctx.Now != nil {
		now = ctx.Now()
	}
	loc := ctx.Location
	if loc == nil {
		loc = time.UTC
	}
	t, err := when.Parse(s, now, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("until: %w", err)
	}
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("until %s has passed: the rule would do nothing (empty keeps it for good)", t.In(loc).Format("2006-01-02 15:04"))
	}
	return t.UTC(), nil
}
