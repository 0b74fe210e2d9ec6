package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// stubView is a minimal screen for navigation tests: it records what it is
// sent and asks for nothing.
type stubView struct {
	title  string
	got    []tea.Msg
	typing bool
}

func (s *stubView) Init() tea.Cmd { return nil }
func (s *stubView) Update(msg tea.Msg) (view.View, tea.Cmd) {
	s.got = append(s.got, msg)
	return s, nil
}
func (s *stubView) View() string        { return "stub " + s.title }
func (s *stubView) SetSize(int, int)    {}
func (s *stubView) KeyMap() help.KeyMap { return stubKeys{} }
func (s *stubView) Title() string       { return s.title }
func (s *stubView) Capturing() bool     { return s.typing }

type stubKeys struct{}

func (stubKeys) ShortHelp() []key.Binding  { return nil }
func (stubKeys) FullHelp() [][]key.Binding { return nil }

func TestKeyHandling(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(h *harness)
		keys      []string
		wantQuit  bool
		wantDepth int
		wantMode  inputMode
	}{
		{name: "q at the root quits", keys: []string{"q"}, wantQuit: true, wantDepth: 1},
		{name: "esc at the root does not quit", keys: []string{"esc"}, wantDepth: 1},
		{name: "ctrl+c at the root quits", keys: []string{"ctrl+c"}, wantQuit: true, wantDepth: 1},
		{name: "q in a pushed screen goes back", setup: pushStub, keys: []string{"q"}, wantDepth: 1},
		{name: "esc in a pushed screen goes back", setup: pushStub, keys: []string{"esc"}, wantDepth: 1},
		{name: "q twice from a pushed screen quits at the root", setup: pushStub, keys: []string{"q", "q"}, wantQuit: true, wantDepth: 1},
		{name: "ctrl+c in a pushed screen quits", setup: pushStub, keys: []string{"ctrl+c"}, wantQuit: true, wantDepth: 2},
		{name: "? opens help", keys: []string{"?"}, wantDepth: 1, wantMode: modeHelp},
		{name: "q in help closes help", keys: []string{"?", "q"}, wantDepth: 1},
		{name: "esc in help closes help", keys: []string{"?", "esc"}, wantDepth: 1},
		{name: "ctrl+c in help quits", keys: []string{"?", "ctrl+c"}, wantQuit: true, wantDepth: 1, wantMode: modeHelp},
		{name: ": opens the command line", keys: []string{":"}, wantDepth: 1, wantMode: modeCommand},
		{name: "q in the command line is typed", keys: []string{":", "q"}, wantDepth: 1, wantMode: modeCommand},
		{name: "esc closes the command line", keys: []string{":", "esc"}, wantDepth: 1},
		{name: "backspace over the colon closes the command line", keys: []string{":", "backspace"}, wantDepth: 1},
		{name: "backspace over the last letter keeps it open", keys: []string{":", "j", "backspace"}, wantDepth: 1, wantMode: modeCommand},
		{name: "ctrl+c in the command line quits", keys: []string{":", "ctrl+c"}, wantQuit: true, wantDepth: 1, wantMode: modeCommand},
		{name: ":q quits", keys: []string{":", "q", "enter"}, wantQuit: true, wantDepth: 1},
		{name: "/ opens the filter", keys: []string{"/"}, wantDepth: 1, wantMode: modeFilter},
		{name: "q in the filter is typed", keys: []string{"/", "q"}, wantDepth: 1, wantMode: modeFilter},
		{name: "q while a screen types text is typed", setup: pushTyping, keys: []string{"q", "esc"}, wantDepth: 2},
		{name: "ctrl+c while a screen types text quits", setup: pushTyping, keys: []string{"ctrl+c"}, wantQuit: true, wantDepth: 2},
		{name: "q while loading at the root quits", setup: blockLoading, keys: []string{"q"}, wantQuit: true, wantDepth: 1},
		{name: "esc while loading cancels, stays", setup: blockLoading, keys: []string{"esc"}, wantDepth: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 80, 24)
			if tt.setup != nil {
				tt.setup(h)
			}
			h.press(tt.keys...)
			if h.quit != tt.wantQuit {
				t.Errorf("quit = %v, want %v", h.quit, tt.wantQuit)
			}
			if h.m.Depth() != tt.wantDepth {
				t.Errorf("depth = %d, want %d", h.m.Depth(), tt.wantDepth)
			}
			if h.m.mode != tt.wantMode {
				t.Errorf("mode = %v, want %v", h.m.mode, tt.wantMode)
			}
		})
	}
}

func pushStub(h *harness) {
	h.dispatch(h.m.push(&stubView{title: "stub"}))
	h.settle()
}

func pushTyping(h *harness) {
	h.dispatch(h.m.push(&stubView{title: "typing", typing: true}))
	h.settle()
}

func blockLoading(h *harness) {
	h.b.mu.Lock()
	h.b.block = make(chan struct{})
	h.b.mu.Unlock()
	h.press("r")
	if h.m.State() != StateLoading {
		h.t.Fatalf("state %v after r with a blocking backend", h.m.State())
	}
}

func TestQuitCancelsWorkInFlight(t *testing.T) {
	h := newHarness(t, 80, 24)
	blockLoading(h)
	h.press("ctrl+c")
	if !h.quit {
		t.Fatal("ctrl+c while loading did not quit")
	}
	if err := h.m.Shutdown(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got := h.b.cancelledCalls(); len(got) != 1 || got[0] != "run" {
		t.Errorf("cancelled backend calls %v, want the run", got)
	}
}

func TestEscCancelsLoading(t *testing.T) {
	h := newHarness(t, 80, 24, func(_ *Options, b *fakeBackend) { b.block = make(chan struct{}) })
	if h.m.State() != StateLoading {
		t.Fatalf("state %v while the first swimlane loads", h.m.State())
	}
	if !strings.Contains(h.view(), "loading swimlane host_rare_process: scoring 25% · esc cancels") {
		t.Errorf("no progress in the status bar:\n%s", h.view())
	}
	h.press("esc")
	if h.m.State() != StateReady {
		t.Errorf("state %v after esc", h.m.State())
	}
	waitFor(t, func() bool { return len(h.b.cancelledCalls()) == 1 })
	if got := h.b.cancelledCalls(); got[0] != "swimlane" {
		t.Errorf("cancelled %v", got)
	}
	if !strings.Contains(h.view(), "was cancelled") {
		t.Errorf("the swimlane does not say it was cancelled:\n%s", h.view())
	}
	if h.m.Depth() != 1 || h.quit {
		t.Error("esc while loading navigated or quit")
	}
}

func TestHintsFollowTheKeyMaps(t *testing.T) {
	h := newHarness(t, 200, 30)
	line := lastLine(h.view())
	for _, want := range []string{"? help", ": command", "q quit", "h/← earlier bucket", "enter to anomalies"} {
		if !strings.Contains(line, want) {
			t.Errorf("hint bar %q lacks %q", line, want)
		}
	}
	pushStub(h)
	if line := lastLine(h.view()); !strings.Contains(line, "q back") || strings.Contains(line, "earlier bucket") {
		t.Errorf("hint bar on a pushed screen: %q", line)
	}
}

func TestLateResultsGoToTheScreenThatAsked(t *testing.T) {
	h := newHarness(t, 80, 24)
	release := make(chan struct{})
	ask := view.FetchMsg{Key: "k", Label: "slow", Quiet: true, Run: func(ctx context.Context, _ model.Backend, _ func(model.Progress)) (tea.Msg, error) {
		<-release
		return "answer", nil
	}}

	// A asks, B is pushed on top, the answer comes: it goes to A.
	a := &stubView{title: "a"}
	pushView(h, a)
	id := h.m.top().id
	h.handle(routedMsg{from: id, msg: ask})
	b := &stubView{title: "b"}
	pushView(h, b)
	close(release)
	h.settle()
	if !received(a.got, "answer") || received(b.got, "answer") {
		t.Fatalf("answer went to a=%v b=%v", received(a.got, "answer"), received(b.got, "answer"))
	}

	// C asks, C is closed, D is pushed, the answer comes: nobody gets it.
	release = make(chan struct{})
	c := &stubView{title: "c"}
	pushView(h, c)
	h.handle(routedMsg{from: h.m.top().id, msg: ask})
	h.press("q")
	d := &stubView{title: "d"}
	pushView(h, d)
	close(release)
	h.settle()
	if received(c.got, "answer") || received(d.got, "answer") || received(b.got, "answer") {
		t.Error("the answer of a closed screen landed somewhere")
	}
}

func pushView(h *harness, v view.View) {
	h.dispatch(h.m.push(v))
	h.settle()
}

func received(msgs []tea.Msg, want tea.Msg) bool {
	for _, m := range msgs {
		if m == want {
			return true
		}
	}
	return false
}

func lastLine(frame string) string {
	lines := strings.Split(frame, "\n")
	return lines[len(lines)-1]
}

// waitFor polls cond for up to two seconds: for effects on the backend's
// goroutines.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKeysArrivingTogether(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(":host db-01")})
	if h.m.mode != modeCommand || h.m.input.Value() != "host db-01" {
		t.Fatalf("mode %v line %q", h.m.mode, h.m.input.Value())
	}
	h.press("enter")
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jk")})
	if !strings.Contains(h.view(), ">db-01") {
		t.Errorf("keys typed together were lost:\n%s", h.view())
	}
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("qq"), Paste: true})
	if h.quit {
		t.Error("a paste outside a text field acted as keys")
	}
}

// TestDataBeforeSize covers the start-up race where the swimlane arrives
// before the terminal's size: the columns depend on the width, so the
// selection's anomalies must be asked for again once it is known.
func TestDataBeforeSize(t *testing.T) {
	h := &harness{t: t, b: newFakeBackend(), clip: &lockedBuffer{}, msgs: make(chan tea.Msg, 256)}
	m, err := New(t.Context(), h.b, testOptions(h.clip))
	if err != nil {
		t.Fatal(err)
	}
	h.m = m
	t.Cleanup(func() { _ = m.Shutdown(time.Second) })
	h.dispatch(m.Init())
	h.settle()
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	v := h.view()
	for _, want := range []string{"anomalies · all hosts · Nov 02 03:00–04:00 · 3", " web-03 ", "/tmp/.x/kworker"} {
		if !strings.Contains(v, want) {
			t.Errorf("frame lacks %q:\n%s", want, v)
		}
	}
	if strings.Index(v, "web-02") > strings.Index(v, "db-01") {
		t.Errorf("lanes not sorted by the selected column:\n%s", v)
	}
}
