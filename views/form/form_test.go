package form

import (
	"strings"
	"testing"

	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
)

func press(s string) tea.KeyMsg {
	types := map[string]tea.KeyType{"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight, "space": tea.KeySpace,
		"backspace": tea.KeyBackspace, "ctrl+u": tea.KeyCtrlU}
	if t, ok := types[s]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func newTestForm() *Form {
	name := Text("case", "", "")
	name.Complete = func(p string) []string {
		var out []string
		for _, c := range []string{"INC-42", "INC-7", "patch-review"} {
			if strings.HasPrefix(c, p) {
				out = append(out, c)
			}
		}
		return out
	}
	return New(name, Choice("action", []string{"skip_result", "skip_model_update"}, 0, ""), Text("note", "kept", ""))
}

func TestFormKeys(t *testing.T) {
	tests := []struct {
		name       string
		keys       []string
		wantAction Action
		want       []string // the fields' values
		wantFocus  int
	}{
		{"typing fills the focused field", []string{"I", "N", "C"}, None, []string{"INC", "skip_result", "kept"}, 0},
		{"tab completes the first candidate", []string{"I", "tab"}, None, []string{"INC-42", "skip_result", "kept"}, 0},
		{"tab again cycles", []string{"I", "tab", "tab"}, None, []string{"INC-7", "skip_result", "kept"}, 0},
		{"tab cycles around", []string{"I", "tab", "tab", "tab"}, None, []string{"INC-42", "skip_result", "kept"}, 0},
		{"shift+tab cycles back", []string{"I", "shift+tab"}, None, []string{"INC-7", "skip_result", "kept"}, 0},
		{"typing after a completion completes afresh", []string{"I", "tab", "backspace", "tab"}, None, []string{"INC-42", "skip_result", "kept"}, 0},
		{"tab with nothing to complete moves on", []string{"z", "tab"}, None, []string{"z", "skip_result", "kept"}, 1},
		{"a unique exact value moves on", []string{"p", "tab", "tab"}, None, []string{"patch-review", "skip_result", "kept"}, 1},
		{"down moves to the next field", []string{"down"}, None, []string{"", "skip_result", "kept"}, 1},
		{"up wraps to the last field", []string{"up"}, None, []string{"", "skip_result", "kept"}, 2},
		{"right changes a choice", []string{"down", "right"}, None, []string{"", "skip_model_update", "kept"}, 1},
		{"space changes a choice and wraps", []string{"down", "space", "space"}, None, []string{"", "skip_result", "kept"}, 1},
		{"left changes a choice back", []string{"down", "left"}, None, []string{"", "skip_model_update", "kept"}, 1},
		{"letters do not type into a choice", []string{"down", "x"}, None, []string{"", "skip_result", "kept"}, 1},
		{"enter submits", []string{"a", "enter"}, Submit, []string{"a", "skip_result", "kept"}, 0},
		{"esc cancels", []string{"a", "esc"}, Cancel, []string{"a", "skip_result", "kept"}, 0},
		{"ctrl+u clears the field", []string{"up", "ctrl+u", "n", "e", "w"}, None, []string{"", "skip_result", "new"}, 2},
		{"values are trimmed", []string{"space", "a", "space"}, None, []string{"a", "skip_result", "kept"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTestForm()
			var last Action
			for _, k := range tt.keys {
				last = f.Update(press(k))
			}
			if last != tt.wantAction {
				t.Errorf("action %v, want %v", last, tt.wantAction)
			}
			for i, w := range tt.want {
				if got := f.Fields[i].Value(); got != w {
					t.Errorf("field %d = %q, want %q", i, got, w)
				}
			}
			if f.Focus() != tt.wantFocus {
				t.Errorf("focus %d, want %d", f.Focus(), tt.wantFocus)
			}
		})
	}
}

func TestFormQuestion(t *testing.T) {
	tests := []struct {
		answer string
		want   Action
		asking bool
	}{
		{"y", Confirm, false},
		{"enter", Confirm, false},
		{"n", None, false},
		{"esc", None, false},
		{"x", None, true}, // anything else: still asking
	}
	for _, tt := range tests {
		f := newTestForm()
		f.Ask("Do it?")
		if got := f.Update(press(tt.answer)); got != tt.want || f.Asking() != tt.asking {
			t.Errorf("%q: action %v asking %v, want %v %v", tt.answer, got, f.Asking(), tt.want, tt.asking)
		}
	}
	f := newTestForm()
	f.Ask("Do it?")
	f.Update(press("a"))
	if f.Fields[0].Value() != "" {
		t.Error("a key typed into a field while the question was asked")
	}
}

func TestLockedField(t *testing.T) {
	raw := "/tmp/\x1b]0;x\x07*"
	f := New(Text("executable", raw, "a pattern"))
	for _, k := range []string{"a", "backspace", "ctrl+u", "tab"} {
		f.Update(press(k))
	}
	if !f.Fields[0].Locked() || f.Fields[0].Value() != raw {
		t.Fatalf("a value with control characters was changed: %q", f.Fields[0].Value())
	}
	lines := strings.Join(f.Lines(60, view.PlainTheme()), "\n")
	if strings.ContainsAny(lines, "\x1b\x07") || !strings.Contains(lines, `/tmp/\x1b]0;x\x07*`) || !strings.Contains(lines, "kept as it is") {
		t.Errorf("locked field drawn as:\n%q", lines)
	}
}

func TestLinesFitAndShowState(t *testing.T) {
	f := newTestForm()
	f.Update(press("I"))
	th := view.PlainTheme()
	for _, w := range []int{10, 30, 80} {
		for _, l := range f.Lines(w, th) {
			if view.Width(l) > w {
				t.Errorf("line %q is wider than %d", l, w)
			}
		}
	}
	out := strings.Join(f.Lines(80, th), "\n")
	for _, want := range []string{"> case", "I|", "INC-42  INC-7", "[skip_result]"} {
		if !strings.Contains(out, want) {
			t.Errorf("form lacks %q:\n%s", want, out)
		}
	}
	f.Problem("bad value")
	if !strings.Contains(strings.Join(f.Lines(80, th), "\n"), "bad value") {
		t.Error("problem not shown")
	}
	f.Ask("Really?")
	out = strings.Join(f.Lines(80, th), "\n")
	if !strings.Contains(out, "Really?") || strings.Contains(out, "bad value") || strings.Contains(out, "> case") {
		t.Errorf("question state drawn as:\n%s", out)
	}
	if len(f.KeyMap().ShortHelp()) != 2 {
		t.Errorf("keys while asking: %v", f.KeyMap().ShortHelp())
	}
}
