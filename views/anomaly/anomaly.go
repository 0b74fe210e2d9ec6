// Package anomaly is the screen for one anomaly record: every field of it in
// words, scrollable, yankable as JSON. It is what enter opens until the
// rare-process chart and the rate drill-down take over, and its Lines draw
// the swimlane's side panel on wide terminals.
package anomaly

import (
	"fmt"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/internal/listing"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// labelWidth is the width of the field names' column.
const labelWidth = 10

// Lines describes a for a reader in lines of at most w cells. Every string
// from the data goes through safe.Text.
func Lines(a model.Anomaly, w int, th *view.Theme, loc *time.Location) []string {
	if w <= 0 {
		return nil
	}
	if loc == nil {
		loc = time.UTC
	}
	var out []string
	sev := a.Severity()
	head := th.SeverityText[sev].Apply(fmt.Sprintf("%s %s", sev, model.FormatScore(a.Score))) +
		" · " + safe.Text(a.Function) + " · " + safe.Text(a.JobID)
	out = append(out, view.Truncate(head, w))

	field := func(label, value string) {
		if value == "" {
			return
		}
		valueW := w - labelWidth
		if valueW < 8 {
			// Too narrow for two columns: the label on its own line.
			out = append(out, th.Dim.Apply(view.Truncate(label, w)))
			for _, l := range view.Wrap(value, w) {
				out = append(out, l)
			}
			return
		}
		for i, l := range view.Wrap(value, valueW) {
			lab := ""
			if i == 0 {
				lab = label
			}
			out = append(out, th.Dim.Apply(view.Fit(lab, labelWidth))+l)
		}
	}
	end := a.Time.Add(a.BucketSpan)
	field("time", a.Time.In(loc).Format("2006-01-02 15:04")+"–"+end.In(loc).Format("15:04")+" "+view.ZoneName(loc, a.Time))
	entityLabel := "host"
	if a.Scope == model.ScopeContainer {
		entityLabel = "container"
	}
	field(entityLabel, safe.Text(a.Entity))
	field("process", safe.Text(a.Executable))
	values := "actual " + model.FormatValues(a.Actual) + " · typical " + model.FormatValues(a.Typical)
	if d := model.Describe(a); d != "" {
		values += " · " + d
	}
	field("values", values)
	if a.Probability > 0 {
		field("p", fmt.Sprintf("%.3g", a.Probability))
	}
	field("why", safe.Text(a.Why))
	if len(a.Influencers) > 0 {
		out = append(out, th.Dim.Apply("influenced by"))
		for _, in := range a.Influencers {
			// One line per field, wrapped with a hanging indent: field
			// names are too long for the label column.
			text := safe.Text(in.Field) + ": " + safe.Texts(in.Values, ", ")
			for i, l := range view.Wrap(text, max(w-4, 1)) {
				indent := "  "
				if i > 0 {
					indent = "    "
				}
				out = append(out, indent+l)
			}
		}
	}
	field("detector", safe.Text(a.Detector))
	if a.InitialScore > 0 && model.FormatScore(a.InitialScore) != model.FormatScore(a.Score) {
		field("first", "scored "+model.FormatScore(a.InitialScore)+" when found")
	}
	state := a.Triage.State.String()
	if !a.Triage.Updated.IsZero() {
		state += " (" + a.Triage.Updated.In(loc).Format("Jan 02 15:04") + ")"
	}
	if a.Triage.State == model.StateEscalated {
		state = th.Escalated.Apply(state)
	}
	field("state", state)
	field("note", safe.Text(a.Triage.Note))
	if a.SuppressedBy != "" {
		field("hidden", th.Dim.Apply("suppressed by rule "+safe.Text(a.SuppressedBy)))
	}
	for i, l := range out {
		out[i] = view.Truncate(l, w)
	}
	return out
}

// Model is the anomaly screen.
type Model struct {
	ctx           *view.Context
	a             model.Anomaly
	width, height int
	top           int
	keys          keyMap
}

// New returns the screen for a.
func New(ctx *view.Context, a model.Anomaly) *Model {
	return &Model{ctx: ctx, a: a, keys: newKeyMap()}
}

type keyMap struct {
	listing.MoveKeys
}

func newKeyMap() keyMap {
	return keyMap{listing.MoveKeys{
		Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", "scroll down")),
		Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", "scroll up")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		PageDown: key.NewBinding(key.WithKeys("ctrl+d", "pgdown"), key.WithHelp("ctrl+d", "half page down")),
		PageUp:   key.NewBinding(key.WithKeys("ctrl+u", "pgup"), key.WithHelp("ctrl+u", "half page up")),
	}}
}

func (k keyMap) ShortHelp() []key.Binding { return []key.Binding{k.Down, k.Up} }
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Down, k.Up, k.Top, k.Bottom, k.PageDown, k.PageUp}}
}

// Init implements view.View.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize implements view.View.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.clamp()
}

// KeyMap implements view.View.
func (m *Model) KeyMap() help.KeyMap { return m.keys }

// Title implements view.View: the entity and what was found for it.
func (m *Model) Title() string {
	if m.a.Executable != "" && m.a.Executable != m.a.Entity {
		return m.a.Entity + ": " + m.a.Executable
	}
	return m.a.Entity
}

// FocusTime implements view.Focuser: the anomaly's bucket.
func (m *Model) FocusTime() (time.Time, bool) { return m.a.Time, !m.a.Time.IsZero() }

// Yank implements view.Yanker.
func (m *Model) Yank() (string, string, bool) {
	text, err := view.YankJSON(m.a.Record())
	if err != nil {
		return "", "", false
	}
	return text, "anomaly", true
}

func (m *Model) lines() []string {
	return Lines(m.a, m.width, m.ctx.Theme, m.ctx.Location)
}

func (m *Model) clamp() {
	max := len(m.lines()) - m.height
	if m.top > max {
		m.top = max
	}
	if m.top < 0 {
		m.top = 0
	}
}

// Update implements view.View.
func (m *Model) Update(msg tea.Msg) (view.View, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return m, nil
	}
	half := max(m.height/2, 1)
	m.top, _ = listing.ScrollText(k, m.keys.MoveKeys, m.top, half, len(m.lines()))
	m.clamp()
	return m, nil
}

// View implements view.View.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := m.lines()
	if m.top < len(lines) {
		lines = lines[m.top:]
	}
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	return strings.Join(lines, "\n")
}
