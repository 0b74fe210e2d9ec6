package view

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/model"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

func key(s string) tea.KeyMsg {
	switch s {
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "home":
		return tea.KeyMsg{Type: tea.KeyHome}
	case "ctrl+w":
		return tea.KeyMsg{Type: tea.KeyCtrlW}
	case "ctrl+u":
		return tea.KeyMsg{Type: tea.KeyCtrlU}
	case "delete":
		return tea.KeyMsg{Type: tea.KeyDelete}
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func TestLineInput(t *testing.T) {
	tests := []struct {
		name   string
		keys   []string
		want   string
		cursor int
	}{
		{"typing", []string{"a", "b", "c"}, "abc", 3},
		{"backspace", []string{"a", "b", "backspace"}, "a", 1},
		{"insert in the middle", []string{"a", "c", "left", "b"}, "abc", 2},
		{"home then delete", []string{"x", "y", "home", "delete"}, "y", 0},
		{"delete word", []string{"range", "space", "-24h", "ctrl+w"}, "range ", 6},
		{"delete to start", []string{"abc", "left", "ctrl+u"}, "c", 0},
		{"escape sequences dropped", []string{"a\x1b]0;x\x07b"}, "a]0;xb", 6},
		{"bidi override dropped", []string{"x\u202ey"}, "xy", 2},
		{"newline becomes space", []string{"a\nb"}, "a b", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l LineInput
			for _, k := range tt.keys {
				l.Update(key(k))
			}
			if l.Value() != tt.want || l.Cursor() != tt.cursor {
				t.Errorf("value %q cursor %d, want %q %d", l.Value(), l.Cursor(), tt.want, tt.cursor)
			}
		})
	}
}

func TestLineInputViewFits(t *testing.T) {
	l := LineInput{Prompt: ":"}
	l.SetValue(strings.Repeat("host_rare_process ", 10))
	for _, w := range []int{1, 2, 5, 20, 80} {
		for _, th := range []*Theme{PlainTheme(), NewTheme(termenv.TrueColor, true)} {
			got := l.View(w, th)
			if Width(got) > w {
				t.Errorf("width %d: drew %d cells: %q", w, Width(got), got)
			}
		}
	}
	if got := l.View(20, PlainTheme()); !strings.HasSuffix(got, "process |") {
		t.Errorf("cursor at the end not in sight: %q", got)
	}
}

func TestFrame(t *testing.T) {
	tests := []struct {
		name string
		in   string
		w, h int
		want string
	}{
		{"pads lines", "a", 3, 2, "a\n"},
		{"crops lines", "a\nb\nc", 3, 2, "a\nb"},
		{"cuts wide lines", "abcdef", 3, 1, "abc"},
		{"keeps styled text within width", "\x1b[7mabcdef\x1b[0m", 2, 1, "\x1b[7mab\x1b[0m"},
		{"nothing for no room", "abc", 0, 3, ""},
	}
	for _, tt := range tests {
		if got := Frame(tt.in, tt.w, tt.h); got != tt.want {
			t.Errorf("%s: Frame = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"fits", Truncate("web-07", 6), "web-07"},
		{"cut", Truncate("web-07.example", 6), "web-0…"},
		{"left", TruncateLeft("swimlane > web-07 > explorer", 12), "… > explorer"},
		{"fit pads", Fit("ab", 4), "ab  "},
		{"fit right", FitRight("7", 3), "  7"},
		{"wide runes", Truncate("进程进程", 5), "进程…"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestThemes(t *testing.T) {
	plain := PlainTheme()
	if plain.Cursor.Apply("x") != "x" || plain.Cell(CellPlain, model.SeverityCritical, true).Apply("@") != "@" {
		t.Error("plain theme draws escape sequences")
	}
	mono := NewTheme(termenv.ANSI256, false)
	got := mono.Cell(CellPlain, model.SeverityCritical, true).Apply("@")
	if !strings.Contains(got, "7") || strings.Contains(got, "38;") || strings.Contains(got, "48;") {
		t.Errorf("colourless theme cursor = %q, want reverse video without colours", got)
	}
	full := NewTheme(termenv.TrueColor, true)
	if got := full.Cell(CellPlain, model.SeverityCritical, false).Apply("@"); !strings.Contains(got, "48;2;254;80;80") {
		t.Errorf("truecolor critical cell = %q, want Elastic's #fe5050 background", got)
	}
	if got := NewTheme(termenv.ANSI, true).Cell(CellPlain, model.SeverityCritical, false).Apply("@"); strings.Contains(got, "48;2") || !strings.Contains(got, "\x1b[") {
		t.Errorf("16-colour critical cell = %q, want a basic colour", got)
	}
}

func TestZoneName(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	if got := ZoneName(berlin, time.Now()); got != "Europe/Berlin" {
		t.Errorf("ZoneName = %q", got)
	}
	if got := ZoneName(nil, time.Now()); got != "UTC" {
		t.Errorf("ZoneName(nil) = %q", got)
	}
}

// FuzzLineInput types arbitrary text, pasted or key by key, and checks the
// field never keeps a character that could reach the terminal raw and never
// draws wider than asked.
func FuzzLineInput(f *testing.F) {
	for _, s := range []string{"", "host web-01", "\x1b]0;x\x07", "a\u202eb", "进程\x00\xff", "\u009b2J"} {
		f.Add(s, 20)
	}
	f.Fuzz(func(t *testing.T, s string, w int) {
		w = (w%200+200)%200 + 1
		var l LineInput
		l.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true})
		for _, r := range s {
			l.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
		l.Update(tea.KeyMsg{Type: tea.KeyLeft})
		l.Update(tea.KeyMsg{Type: tea.KeyCtrlW})
		for _, r := range l.Value() {
			if !printable(r) {
				t.Fatalf("kept %U from %q", r, s)
			}
		}
		for _, th := range []*Theme{PlainTheme(), nil} {
			if got := l.View(w, th); Width(got) > w || strings.ContainsRune(got, 0x1b) {
				t.Fatalf("View(%d) = %q", w, got)
			}
		}
	})
}

func TestYankJSON(t *testing.T) {
	got, err := YankJSON(map[string]string{"exe": "a\x1b]0;x\x07\u009b2J\u202e<b>"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "exe": "a\u001b]0;x\u0007\u009b2J\u202e<b>"
}`
	if got != want {
		t.Errorf("YankJSON = %s, want %s", got, want)
	}
}

// bareBackend has neither a drill-down nor a case side.
type bareBackend struct{ model.Backend }

func TestOnSidesRefuseABareBackend(t *testing.T) {
	called := false
	runs := map[string]func(context.Context, model.Backend, func(model.Progress)) (tea.Msg, error){
		"drill-down": OnDrillDown(func(context.Context, model.DrillDownBackend) (tea.Msg, error) { called = true; return nil, nil }),
		"cases":      OnCases(func(context.Context, model.CaseBackend) (tea.Msg, error) { called = true; return nil, nil }),
	}
	want := map[string]error{"drill-down": model.ErrNoDrillDown, "cases": model.ErrNoCases}
	for name, run := range runs {
		if _, err := run(context.Background(), bareBackend{}, nil); !errors.Is(err, want[name]) {
			t.Errorf("%s: err %v, want %v", name, err, want[name])
		}
	}
	if called {
		t.Error("a fetch ran without the backend side it needs")
	}
}
