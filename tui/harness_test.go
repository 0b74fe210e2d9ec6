package tui

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
)

// harness drives the root model like Bubble Tea's event loop does (commands
// run on goroutines, their messages handled one at a time on the test's
// goroutine) but without a terminal, so tests can step through keys and look
// at the model between them.
type harness struct {
	t       testing.TB
	m       *Model
	b       *fakeBackend
	clip    *lockedBuffer
	msgs    chan tea.Msg
	running atomic.Int64
	quit    bool
}

// lockedBuffer is the clipboard's output, written from the UI loop.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var testNow = time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)

// testOptions are the options every test starts from: the plain theme (no
// escape sequences at all), hour buckets, a fixed clock and environment.
func testOptions(clip *lockedBuffer) Options {
	return Options{
		Theme:  view.PlainTheme(),
		Source: "fixture: 12 records",
		Bucket: time.Hour,
		Now:    func() time.Time { return testNow },
		Getenv: func(string) string { return "" },
		Output: clip,
	}
}

func newHarness(t testing.TB, w, h int, edit ...func(*Options, *fakeBackend)) *harness {
	t.Helper()
	hs := &harness{t: t, b: newFakeBackend(), clip: &lockedBuffer{}, msgs: make(chan tea.Msg, 256)}
	opts := testOptions(hs.clip)
	for _, e := range edit {
		e(&opts, hs.b)
	}
	m, err := New(context.Background(), hs.b, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs.m = m
	t.Cleanup(func() {
		hs.b.mu.Lock()
		if hs.b.block != nil {
			select {
			case <-hs.b.block:
			default:
				close(hs.b.block)
			}
		}
		hs.b.mu.Unlock()
		if err := m.Shutdown(5 * time.Second); err != nil {
			t.Error(err)
		}
	})
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.dispatch(m.Init())
	hs.settle()
	return hs
}

func (h *harness) dispatch(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	h.running.Add(1)
	go func() {
		msg := cmd()
		h.msgs <- msg
		h.running.Add(-1)
	}()
}

func (h *harness) handle(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			h.dispatch(c)
		}
	case tea.QuitMsg:
		h.quit = true
	default:
		_, cmd := h.m.Update(msg)
		h.dispatch(cmd)
	}
}

// send hands one message to the model and lets everything it starts
// settle.
func (h *harness) send(msg tea.Msg) {
	h.handle(msg)
	h.settle()
}

// settle handles messages until no command is running, or until nothing
// has arrived for a while (a backend told to block).
func (h *harness) settle() {
	for {
		if h.running.Load() == 0 && len(h.msgs) == 0 {
			return
		}
		select {
		case msg := <-h.msgs:
			h.handle(msg)
		case <-time.After(300 * time.Millisecond):
			return
		}
	}
}

// press sends keys by name ("q", "esc", "ctrl+c", "enter") one by one.
func (h *harness) press(keys ...string) {
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

// typeText types every rune of s as a key.
func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func (h *harness) view() string { return h.m.View() }

func keyMsg(s string) tea.KeyMsg {
	types := map[string]tea.KeyType{
		"esc": tea.KeyEsc, "enter": tea.KeyEnter, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"ctrl+c": tea.KeyCtrlC, "ctrl+d": tea.KeyCtrlD, "ctrl+u": tea.KeyCtrlU, "backspace": tea.KeyBackspace,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"shift+left": tea.KeyShiftLeft, "shift+right": tea.KeyShiftRight, "space": tea.KeySpace,
		"home": tea.KeyHome, "end": tea.KeyEnd,
	}
	if t, ok := types[s]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// assertFits fails when a frame is taller or wider than the terminal.
func assertFits(t *testing.T, frame string, w, h int) {
	t.Helper()
	lines := strings.Split(frame, "\n")
	if len(lines) > h {
		t.Errorf("frame has %d lines for a %dx%d terminal", len(lines), w, h)
	}
	for i, l := range lines {
		if n := view.Width(l); n > w {
			t.Errorf("line %d is %d cells wide for a %dx%d terminal: %q", i, n, w, h, l)
		}
	}
}
