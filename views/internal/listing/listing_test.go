package listing

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
)

var cols = []Column{
	{Header: "name", Min: 10, Max: 20, Keep: 0},
	{Header: "n", Min: 3, Max: 3, Keep: 1, Right: true},
	{Header: "when", Min: 12, Max: 12, Keep: 2},
	{Header: "note", Min: 8, Max: 40, Keep: 3},
}

func TestLayout(t *testing.T) {
	tests := []struct {
		width      int
		wantIdx    []int
		wantWidths []int
	}{
		{width: 12, wantIdx: []int{0}, wantWidths: []int{11}}, // one column takes the room but the caret
		{width: 16, wantIdx: []int{0, 1}, wantWidths: []int{11, 3}},
		{width: 28, wantIdx: []int{0, 1, 2}, wantWidths: []int{10, 3, 12}},
		{width: 37, wantIdx: []int{0, 1, 2, 3}, wantWidths: []int{10, 3, 12, 8}},
		{width: 47, wantIdx: []int{0, 1, 2, 3}, wantWidths: []int{15, 3, 12, 13}},
		{width: 200, wantIdx: []int{0, 1, 2, 3}, wantWidths: []int{20, 3, 12, 40}},
	}
	for _, tt := range tests {
		idx, widths := Layout(cols, tt.width)
		if !reflect.DeepEqual(idx, tt.wantIdx) || !reflect.DeepEqual(widths, tt.wantWidths) {
			t.Errorf("Layout(%d) = %v %v, want %v %v", tt.width, idx, widths, tt.wantIdx, tt.wantWidths)
		}
		used := 1 + len(widths) - 1
		for _, w := range widths {
			used += w
		}
		if used > tt.width && tt.width >= 12 {
			t.Errorf("Layout(%d) uses %d cells", tt.width, used)
		}
	}
}

func TestRow(t *testing.T) {
	th := view.PlainTheme()
	idx, widths := Layout(cols, 40)
	cells := []string{"a-very-long-case-name-indeed", "7", "Nov 02 03:00", "note"}
	row := Row(cols, idx, widths, cells, th, true, true, nil)
	if !strings.HasPrefix(row, ">a-very-long…") || view.Width(row) > 40 || !strings.Contains(row, "  7 ") {
		t.Errorf("selected row %q", row)
	}
	row = Row(cols, idx, widths, cells, th, false, true, func(col int, s string) string { return strings.ToUpper(s) })
	if !strings.HasPrefix(row, " A-VERY") {
		t.Errorf("painted row %q", row)
	}
	if h := Header(cols, idx, widths, th); !strings.HasPrefix(h, " name") {
		t.Errorf("header %q", h)
	}
}

func TestCursor(t *testing.T) {
	var c Cursor
	c.Move(5, 10, 3)
	if c.Sel != 5 || c.Top != 3 {
		t.Errorf("after 5 down: %+v", c)
	}
	c.Move(100, 10, 3)
	if c.Sel != 9 || c.Top != 7 {
		t.Errorf("after the bottom: %+v", c)
	}
	c.Clamp(4, 3) // the list shrank
	if c.Sel != 3 || c.Top != 1 {
		t.Errorf("after shrinking: %+v", c)
	}
	c.Clamp(0, 3)
	if c.Sel != 0 || c.Top != 0 {
		t.Errorf("empty list: %+v", c)
	}
}

func TestCursorStep(t *testing.T) {
	tests := []struct {
		name             string
		sel, n, rows     int
		backward         bool
		wantSel, wantTop int
	}{
		{name: "forward", sel: 1, n: 5, rows: 3, wantSel: 2, wantTop: 0},
		{name: "forward wraps to the top", sel: 4, n: 5, rows: 3, wantSel: 0, wantTop: 0},
		{name: "backward wraps to the bottom", sel: 0, n: 5, rows: 3, backward: true, wantSel: 4, wantTop: 2},
		{name: "empty list stays", sel: 0, n: 0, rows: 3, wantSel: 0, wantTop: 0},
	}
	for _, tt := range tests {
		c := Cursor{Sel: tt.sel}
		c.Step(tt.backward, tt.n, tt.rows)
		if c.Sel != tt.wantSel || c.Top != tt.wantTop {
			t.Errorf("%s: got %+v, want sel %d top %d", tt.name, c, tt.wantSel, tt.wantTop)
		}
	}
}

func TestCursorNavigate(t *testing.T) {
	km := NewMoveKeys()
	tests := []struct {
		key     string
		sel     int
		wantSel int
		wantOK  bool
	}{
		{key: "j", sel: 0, wantSel: 1, wantOK: true},
		{key: "k", sel: 3, wantSel: 2, wantOK: true},
		{key: "ctrl+d", sel: 0, wantSel: 2, wantOK: true}, // half of 4 rows
		{key: "ctrl+u", sel: 5, wantSel: 3, wantOK: true},
		{key: "g", sel: 7, wantSel: 0, wantOK: true},
		{key: "G", sel: 0, wantSel: 9, wantOK: true},
		{key: "x", sel: 4, wantSel: 4, wantOK: false},
	}
	for _, tt := range tests {
		var k tea.KeyMsg
		switch tt.key {
		case "ctrl+d":
			k = tea.KeyMsg{Type: tea.KeyCtrlD}
		case "ctrl+u":
			k = tea.KeyMsg{Type: tea.KeyCtrlU}
		default:
			k = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(tt.key)}
		}
		c := Cursor{Sel: tt.sel}
		c.Clamp(10, 4)
		ok := c.Navigate(k, km, 10, 4)
		if ok != tt.wantOK || c.Sel != tt.wantSel || c.Sel < c.Top || c.Sel >= c.Top+4 {
			t.Errorf("%s from %d: got %+v ok %v, want sel %d ok %v", tt.key, tt.sel, c, ok, tt.wantSel, tt.wantOK)
		}
	}
}

func TestFilter(t *testing.T) {
	var f Filter
	if !f.Match("anything") || !f.Match() {
		t.Error("no filter should match everything")
	}
	f.Set(view.FilterMsg{Text: "ssh", Pattern: regexp.MustCompile("ssh")})
	if f.Text != "ssh" || !f.Match("/bin/bash", "/usr/sbin/sshd") || f.Match("/bin/bash", "cron") {
		t.Errorf("filter ssh: %+v", f)
	}
	f.Set(view.FilterMsg{Text: "left over"})
	if f.Text != "" || f.Pattern != nil || !f.Match("cron") {
		t.Errorf("cleared filter kept %+v", f)
	}
}

func TestScrollText(t *testing.T) {
	km := NewMoveKeys()
	tests := []struct {
		name    string
		k       tea.KeyMsg
		top     int
		wantTop int
		wantOK  bool
	}{
		{name: "down", k: tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("j")}, top: 2, wantTop: 3, wantOK: true},
		{name: "up", k: tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("k")}, top: 2, wantTop: 1, wantOK: true},
		{name: "first", k: tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("g")}, top: 7, wantTop: 0, wantOK: true},
		{name: "last", k: tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("G")}, top: 0, wantTop: 20, wantOK: true},
		{name: "half page down", k: tea.KeyMsg{Type: tea.KeyCtrlD}, top: 4, wantTop: 9, wantOK: true},
		{name: "half page up", k: tea.KeyMsg{Type: tea.KeyCtrlU}, top: 4, wantTop: -1, wantOK: true}, // the caller clamps
		{name: "other key", k: tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("x")}, top: 4, wantTop: 4, wantOK: false},
	}
	for _, tt := range tests {
		top, ok := ScrollText(tt.k, km, tt.top, 5, 20)
		if top != tt.wantTop || ok != tt.wantOK {
			t.Errorf("%s from %d: got %d ok %v, want %d ok %v", tt.name, tt.top, top, ok, tt.wantTop, tt.wantOK)
		}
	}
}
