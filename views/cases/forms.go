package cases

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/form"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
)

type (
	namesMsg struct{ names []string }
	addedMsg struct {
		name string
		a    model.Anomaly
	}
	savedMsg struct {
		name  string
		saved model.SavedCase
	}
)

// AddCmd opens the form that adds a to a case, or says why the backend
// would refuse it.
func AddCmd(ctx *view.Context, a model.Anomaly) tea.Cmd {
	switch {
	case !ctx.Cases:
		return view.Failure(model.ErrNoCases)
	case ctx.ReadOnly != nil:
		return view.Failure(ctx.ReadOnly)
	}
	return view.Push(NewAddForm(ctx, a))
}

// SaveCmd opens the form that saves the named case to a file.
func SaveCmd(ctx *view.Context, name string) tea.Cmd {
	switch {
	case !ctx.Cases:
		return view.Failure(model.ErrNoCases)
	case ctx.ReadOnly != nil:
		return view.Failure(ctx.ReadOnly)
	}
	return view.Push(NewSaveForm(ctx, name))
}

// AddForm asks for the case (completing the existing ones) and a note, then
// adds the anomaly to it.
type AddForm struct {
	ctx *view.Context
	a   model.Anomaly
	form.Screen
	names []string // existing cases, the most recently changed first
}

// NewAddForm returns the add-to-case form of a. The case field starts on
// the case file's case, when the console runs on one; the note on the
// anomaly's triage note.
func NewAddForm(ctx *view.Context, a model.Anomaly) *AddForm {
	m := &AddForm{ctx: ctx, a: a}
	name := form.Text("case", ctx.CaseFile.Name, "")
	name.Input.Limit = 100 // a case name is at most 100 bytes
	name.Complete = m.complete
	m.Form = form.New(name, form.Text("note", a.Triage.Note, "becomes its triage note"))
	return m
}

func (m *AddForm) complete(prefix string) []string {
	var out []string
	p := strings.ToLower(prefix)
	for _, n := range m.names {
		if strings.HasPrefix(strings.ToLower(n), p) {
			out = append(out, n)
		}
	}
	return out
}

// Init implements view.View: fetch the existing cases' names for
// completion.
func (m *AddForm) Init() tea.Cmd {
	return view.Fetch(view.FetchMsg{
		Key:   "case names",
		Label: "cases",
		Quiet: true,
		Run: view.OnCases(func(ctx context.Context, cb model.CaseBackend) (tea.Msg, error) {
			list, err := cb.CaseList(ctx)
			if err != nil {
				return nil, err
			}
			sort.SliceStable(list, func(i, j int) bool { return list[i].Updated.After(list[j].Updated) })
			names := make([]string, len(list))
			for i, c := range list {
				names[i] = c.Name
			}
			return namesMsg{names: names}, nil
		}),
	})
}

// Title implements view.View.
func (m *AddForm) Title() string { return "add to case" }

// Update implements view.View.
func (m *AddForm) Update(msg tea.Msg) (view.View, tea.Cmd) {
	switch msg := msg.(type) {
	case namesMsg:
		m.names = msg.names
	case addedMsg:
		return m, tea.Batch(view.Back(), view.Changed(fmt.Sprintf("added %s to case %s", describe(msg.a), safe.Text(msg.name))))
	case view.FetchFailedMsg:
		if msg.Key == "add" {
			m.Form.Problem(msg.Err.Error())
		}
	case tea.KeyMsg:
		switch m.Form.Update(msg) {
		case form.Cancel:
			return m, view.Back()
		case form.Submit:
			return m, m.submit()
		}
	}
	return m, nil
}

func (m *AddForm) submit() tea.Cmd {
	name, note := m.Form.Fields[0].Value(), m.Form.Fields[1].Value()
	if name == "" {
		m.Form.SetFocus(0)
		m.Form.Problem("name the case: type a new name, or tab through the existing ones")
		return nil
	}
	a := m.a
	return view.Fetch(view.FetchMsg{
		Key:   "add",
		Label: "add to case",
		Quiet: true,
		Run: view.OnCases(func(ctx context.Context, cb model.CaseBackend) (tea.Msg, error) {
			if err := cb.AddToCase(ctx, name, a.ID, note); err != nil {
				return nil, err
			}
			return addedMsg{name: name, a: a}, nil
		}),
	})
}

// View implements view.View.
func (m *AddForm) View() string {
	if m.Width <= 0 || m.Height <= 0 {
		return ""
	}
	lines := []string{m.ctx.Theme.Header.Apply(" add an anomaly to a case")}
	lines = append(lines, summary(m.a, m.Width, m.ctx)...)
	lines = append(lines, "")
	lines = append(lines, m.Form.Lines(m.Width, m.ctx.Theme)...)
	return view.Frame(strings.Join(lines, "\n"), m.Width, m.Height)
}

// summary names the anomaly a form is about in two lines.
func summary(a model.Anomaly, w int, ctx *view.Context) []string {
	th := ctx.Theme
	sev := a.Severity()
	loc := ctx.Location
	if loc == nil {
		loc = time.UTC
	}
	first := "   " + th.SeverityText[sev].Apply(fmt.Sprintf("%s %s", sev, model.FormatScore(a.Score))) + " · " + safe.Text(a.JobID)
	second := "   " + safe.Text(a.Entity)
	if f := a.FoundFor(); f != a.Entity {
		second += " · " + safe.Text(f)
	}
	second += " · " + a.Time.In(loc).Format("2006-01-02 15:04") + " " + view.ZoneName(loc, a.Time)
	return []string{view.Truncate(first, w), view.Truncate(second, w)}
}

// SaveForm asks where to save a case, then writes the case file.
type SaveForm struct {
	ctx  *view.Context
	name string
	form.Screen
	saving bool
}

// NewSaveForm returns the form that saves the named case; the file is
// named after the case in the current folder.
func NewSaveForm(ctx *view.Context, name string) *SaveForm {
	return &SaveForm{ctx: ctx, name: name, Screen: form.Screen{Form: form.New(
		form.Text("file", FileName(name), "one SQLite file, mode 0600"),
		form.Choice("overwrite", []string{"no", "yes"}, 0, "an existing file"),
	)}}
}

// FileName is a file name for a case: its name with anything but letters,
// digits, dots, dashes and underscores made a dash, then .alcase.
func FileName(caseName string) string {
	var b strings.Builder
	for _, r := range caseName {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), ".-")
	if s == "" {
		s = "case"
	}
	return s + ".alcase"
}

// Title implements view.View.
func (m *SaveForm) Title() string { return "save case " + m.name }

// Update implements view.View.
func (m *SaveForm) Update(msg tea.Msg) (view.View, tea.Cmd) {
	switch msg := msg.(type) {
	case savedMsg:
		m.saving = false
		return m, tea.Batch(view.Back(), view.Notice(SavedText(msg.name, msg.saved)))
	case view.FetchFailedMsg:
		if msg.Key == "save" {
			m.saving = false
			m.Form.Problem(msg.Err.Error())
		}
	case tea.KeyMsg:
		if m.saving {
			return m, nil
		}
		switch m.Form.Update(msg) {
		case form.Cancel:
			return m, view.Back()
		case form.Submit:
			return m, m.submit()
		}
	}
	return m, nil
}

func (m *SaveForm) submit() tea.Cmd {
	path, overwrite := m.Form.Fields[0].Value(), m.Form.Fields[1].Value() == "yes"
	if path == "" {
		m.Form.SetFocus(0)
		m.Form.Problem("say where to write the case file")
		return nil
	}
	m.saving = true
	return SaveFetch("save", m.name, path, overwrite, func(saved model.SavedCase) tea.Msg {
		return savedMsg{name: m.name, saved: saved}
	})
}

// SaveFetch is the fetch that writes a case file; done makes the message
// of its success.
func SaveFetch(key, name, path string, overwrite bool, done func(model.SavedCase) tea.Msg) tea.Cmd {
	return view.Fetch(view.FetchMsg{
		Key:   key,
		Label: "saving case " + safe.Text(name),
		Run: view.OnCases(func(ctx context.Context, cb model.CaseBackend) (tea.Msg, error) {
			saved, err := cb.SaveCaseFile(ctx, name, path, overwrite)
			if err != nil {
				return nil, err
			}
			return done(saved), nil
		}),
	})
}

// SavedText says what a saved case file holds.
func SavedText(name string, s model.SavedCase) string {
	return fmt.Sprintf("saved case %s to %s: %d %s, %s events, %s KiB (mode 0600: it holds audit data)",
		safe.Text(name), safe.Text(s.Path), s.Anomalies, plural(s.Anomalies, "anomaly"), view.Thousands(int(s.Events)),
		view.Thousands(int((s.Size+1023)/1024)))
}

// View implements view.View.
func (m *SaveForm) View() string {
	if m.Width <= 0 || m.Height <= 0 {
		return ""
	}
	th := m.ctx.Theme
	lines := []string{th.Header.Apply(view.Truncate(" save case "+safe.Text(m.name)+" as one file", m.Width))}
	for _, l := range view.Wrap("its anomalies as found, their triage, and the counts and events its screens read: auditlens open FILE shows it anywhere", max(m.Width-3, 1)) {
		lines = append(lines, "   "+th.Dim.Apply(l))
	}
	lines = append(lines, "")
	lines = append(lines, m.Form.Lines(m.Width, th)...)
	if m.saving {
		lines = append(lines, th.Dim.Apply("  saving…"))
	}
	return view.Frame(strings.Join(lines, "\n"), m.Width, m.Height)
}
