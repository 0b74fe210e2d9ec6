// Package viewtest helps the screens' tests: it runs a screen's commands
// the way the shell does (fetches against a backend, their answers back to
// the screen) without a terminal, and offers a TEST DOUBLE of the backend
// whose drill-down answers are set by the test.
package viewtest

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
)

// Drive runs cmd for screen v as the shell would: a fetch runs against b
// and its message (or a FetchFailedMsg) goes back to v, whose commands run
// in turn; every other message is returned in order for the test to look
// at (PushViewMsg, NoticeMsg, GoBackMsg, ...). It returns the screen as
// its last Update left it.
func Drive(t testing.TB, v view.View, b model.Backend, cmd tea.Cmd) (view.View, []tea.Msg) {
	t.Helper()
	var out []tea.Msg
	var run func(cmd tea.Cmd)
	run = func(cmd tea.Cmd) {
		if cmd == nil {
			return
		}
		switch msg := cmd().(type) {
		case nil:
		case tea.BatchMsg:
			for _, c := range msg {
				run(c)
			}
		case view.FetchMsg:
			res, err := msg.Run(context.Background(), b, func(model.Progress) {})
			var next tea.Cmd
			if err != nil {
				v, next = v.Update(view.FetchFailedMsg{Key: msg.Key, Err: err})
			} else {
				v, next = v.Update(res)
			}
			run(next)
		default:
			out = append(out, msg)
		}
	}
	run(cmd)
	return v, out
}

// Send hands msg to v and drives what it returns.
func Send(t testing.TB, v view.View, b model.Backend, msg tea.Msg) (view.View, []tea.Msg) {
	t.Helper()
	v, cmd := v.Update(msg)
	return Drive(t, v, b, cmd)
}

// Keys presses keys by name ("j", "enter", "esc", "left", ...) one by one
// and returns every message they produced.
func Keys(t testing.TB, v view.View, b model.Backend, keys ...string) (view.View, []tea.Msg) {
	t.Helper()
	var all []tea.Msg
	for _, k := range keys {
		var msgs []tea.Msg
		v, msgs = Send(t, v, b, Key(k))
		all = append(all, msgs...)
	}
	return v, all
}

// Key is the key message of a key's name.
func Key(s string) tea.KeyMsg {
	types := map[string]tea.KeyType{
		"esc": tea.KeyEsc, "enter": tea.KeyEnter, "tab": tea.KeyTab, "ctrl+d": tea.KeyCtrlD, "ctrl+u": tea.KeyCtrlU,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"shift+left": tea.KeyShiftLeft, "shift+right": tea.KeyShiftRight, "home": tea.KeyHome, "end": tea.KeyEnd,
	}
	if t, ok := types[s]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// Pushed returns the screens the messages open, in order.
func Pushed(msgs []tea.Msg) []view.View {
	var out []view.View
	for _, m := range msgs {
		if p, ok := m.(view.PushViewMsg); ok {
			out = append(out, p.View)
		}
	}
	return out
}

// Notices returns the notices' texts (and errors) the messages show.
func Notices(msgs []tea.Msg) []string {
	var out []string
	for _, m := range msgs {
		if n, ok := m.(view.NoticeMsg); ok {
			if n.Err != nil {
				out = append(out, n.Err.Error())
			} else {
				out = append(out, n.Text)
			}
		}
	}
	return out
}

// Filter is the / filter message of a pattern, as the shell compiles it.
func Filter(pattern string) view.FilterMsg {
	return view.FilterMsg{Text: pattern, Pattern: regexp.MustCompile(pattern)}
}

// Backend is a TEST DOUBLE of the console's backend: the drill-down
// answers are what the test puts in it; ProcessEvents filters Processes by
// the query as the real backend is specified to. The other calls answer
// nothing.
type Backend struct {
	mu        sync.Mutex
	Rare      model.RareChart
	Rate      model.RateChart
	Processes []model.Process
	// Err, when set, fails every drill-down call.
	Err error
	// Asked records the queries, in order.
	RareQs    []model.RareChartQuery
	RateQs    []model.RateChartQuery
	ProcessQs []model.ProcessQuery
}

var errNothing = errors.New("the test backend answers drill-down questions only")

func (b *Backend) Swimlane(context.Context, model.Query, func(model.Progress)) (model.Swimlane, error) {
	return model.Swimlane{}, errNothing
}

func (b *Backend) Anomalies(context.Context, model.AnomalyQuery) ([]model.Anomaly, error) {
	return nil, errNothing
}

func (b *Backend) SetTriage(context.Context, string, model.Triage) (model.Triage, error) {
	return model.Triage{}, errNothing
}

func (b *Backend) Run(context.Context, model.Query, func(model.Progress)) error { return errNothing }

func (b *Backend) RareChart(ctx context.Context, q model.RareChartQuery) (model.RareChart, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.RareQs = append(b.RareQs, q)
	if b.Err != nil {
		return model.RareChart{}, b.Err
	}
	return b.Rare, ctx.Err()
}

func (b *Backend) RateChart(ctx context.Context, q model.RateChartQuery) (model.RateChart, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.RateQs = append(b.RateQs, q)
	if b.Err != nil {
		return model.RateChart{}, b.Err
	}
	return b.Rate, ctx.Err()
}

func (b *Backend) ProcessEvents(ctx context.Context, q model.ProcessQuery) (model.ProcessPage, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ProcessQs = append(b.ProcessQs, q)
	if b.Err != nil {
		return model.ProcessPage{}, b.Err
	}
	var rows []model.Process
	for _, p := range b.Processes {
		switch {
		case q.Entity != "" && p.Host != q.Entity && p.Container != q.Entity:
		case !q.From.IsZero() && p.Time.Before(q.From), !q.To.IsZero() && !p.Time.Before(q.To):
		case q.Executable != "" && p.Executable != q.Executable:
		case q.PID != 0 && p.PID != q.PID, q.PPID != 0 && p.PPID != q.PPID:
		default:
			rows = append(rows, p)
		}
	}
	slices.SortStableFunc(rows, func(a, b model.Process) int { return a.Time.Compare(b.Time) })
	if q.Newest {
		slices.Reverse(rows)
	}
	limit := q.EffectiveLimit()
	page := model.ProcessPage{Limit: limit, Source: "test"}
	if len(rows) > limit {
		rows, page.Truncated = rows[:limit], true
	}
	page.Rows = rows
	return page, ctx.Err()
}

// HasControl reports whether s holds a byte or rune a terminal would act
// on: C0 controls but newline, DEL, C1 controls, or a bidirectional or
// invisible format character. Styled output's own escape sequences are
// not data; strip them first (plain theme screens have none).
func HasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		switch {
		case r == '\n':
			return false
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return true
		case r >= 0x200b && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0xfeff, r == 0x061c:
			return true
		}
		return false
	}) >= 0
}

var (
	_ model.Backend          = (*Backend)(nil)
	_ model.DrillDownBackend = (*Backend)(nil)
)
