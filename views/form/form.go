// Package form is the small form the console's dialogs are made of: text
// fields (with tab completion) and choice fields, one under the other, then
// an optional confirmation. A screen embeds a Form, hands it every key
// while it is open (view.Capturer), acts on the Action it returns, and
// draws its Lines.
//
// The form has no timers and no blinking cursor, so screens that use it stay
// deterministic; typed text goes through view.LineInput, which keeps only
// printable text.
package form

import (
	"strings"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Field is one row of a form: free text, or one of a few choices.
type Field struct {
	Label string
	// Choices, when set, make the field a choice among them; Choice is the
	// index of the one chosen.
	Choices []string
	Choice  int
	// Input holds a text field's value.
	Input view.LineInput
	// Complete offers values for a text field as typed so far; tab takes
	// the first and cycles through the rest.
	Complete func(prefix string) []string
	// Hint is a dim word of help shown after the field, e.g. "empty: for
	// good".
	Hint string
	// kept is a value the field cannot edit: it holds characters a text
	// field does not take (controls, escapes). It is shown escaped and
	// kept exactly, rather than silently changed by an edit.
	kept   string
	locked bool
}

// Text returns a text field holding value. A value with characters a text
// field does not take is kept as it is and cannot be edited.
func Text(label, value, hint string) *Field {
	f := &Field{Label: label, Hint: hint, Input: view.LineInput{Limit: 400}}
	if safe.Text(value) != value {
		f.kept, f.locked = value, true
		f.Hint = "holds control characters: kept as it is"
		return f
	}
	f.Input.SetValue(value)
	return f
}

// Locked reports whether the field keeps a value it cannot edit.
func (f *Field) Locked() bool { return f.locked }

// Choice returns a choice field with the choice at index chosen.
func Choice(label string, choices []string, chosen int, hint string) *Field {
	return &Field{Label: label, Choices: choices, Choice: min(max(chosen, 0), max(len(choices)-1, 0)), Hint: hint}
}

// Value is the field's text, or its chosen value, with surrounding space
// trimmed.
func (f *Field) Value() string {
	if f.Choices != nil {
		if f.Choice >= 0 && f.Choice < len(f.Choices) {
			return f.Choices[f.Choice]
		}
		return ""
	}
	if f.locked {
		return f.kept
	}
	return strings.TrimSpace(f.Input.Value())
}

// Action is what a key did to the form.
type Action int

const (
	None    Action = iota // the key edited the form, or did nothing
	Submit                // enter: check the values, then Confirm or Done
	Cancel                // esc while editing: close the form
	Confirm               // y or enter on the confirmation: do it
)

// Form is a column of fields with one focused, and an optional question
// asked before the form's action is done.
type Form struct {
	Fields []*Field
	focus  int

	// question, when set, is being asked: y does it, n goes back.
	question string
	// problem is what was wrong with the last submit, shown under the
	// fields.
	problem string

	comp completion
	keys keyMap
}

// completion is tab cycling through one field's candidates.
type completion struct {
	cands   []string
	i       int
	applied string // the value tab left; any other edit starts afresh
}

// New returns a form of fields, the first focused.
func New(fields ...*Field) *Form { return &Form{Fields: fields, keys: newKeyMap()} }

// Focus is the index of the focused field.
func (f *Form) Focus() int { return f.focus }

// SetFocus focuses field i.
func (f *Form) SetFocus(i int) {
	if len(f.Fields) > 0 {
		f.focus = min(max(i, 0), len(f.Fields)-1)
	}
	f.comp = completion{}
}

// Ask puts a question before the action (after a Submit the screen found
// good); y or enter answers Confirm, n or esc goes back to the fields.
func (f *Form) Ask(question string) { f.question, f.problem = question, "" }

// Asking reports whether the form waits for an answer to its question.
func (f *Form) Asking() bool { return f.question != "" }

// Problem shows what is wrong with the values (after a Submit the screen
// found bad, or when the backend refused them); empty clears it.
func (f *Form) Problem(text string) { f.problem, f.question = text, "" }

func (f *Form) focused() *Field {
	if f.focus < 0 || f.focus >= len(f.Fields) {
		return nil
	}
	return f.Fields[f.focus]
}

// Update takes one key and says what it did.
func (f *Form) Update(k tea.KeyMsg) Action {
	km := f.keys
	if f.question != "" {
		switch {
		case key.Matches(k, km.Yes):
			f.question = ""
			return Confirm
		case key.Matches(k, km.No):
			f.question = ""
		}
		return None
	}
	fd := f.focused()
	switch {
	case key.Matches(k, km.Cancel):
		return Cancel
	case key.Matches(k, km.Submit):
		f.problem = ""
		return Submit
	case key.Matches(k, km.Complete) && fd != nil && fd.Choices == nil && !fd.locked && fd.Complete != nil && f.complete(fd, 1):
		return None
	case key.Matches(k, km.CompleteBack) && fd != nil && fd.Choices == nil && !fd.locked && fd.Complete != nil && f.complete(fd, -1):
		return None
	case key.Matches(k, km.Next):
		f.SetFocus((f.focus + 1) % max(len(f.Fields), 1))
		return None
	case key.Matches(k, km.Prev):
		f.SetFocus((f.focus - 1 + len(f.Fields)) % max(len(f.Fields), 1))
		return None
	}
	if fd == nil || fd.locked {
		return None
	}
	if fd.Choices != nil {
		n := len(fd.Choices)
		switch {
		case key.Matches(k, km.ChoiceNext) && n > 0:
			fd.Choice = (fd.Choice + 1) % n
		case key.Matches(k, km.ChoicePrev) && n > 0:
			fd.Choice = (fd.Choice - 1 + n) % n
		}
		return None
	}
	if fd.Input.Update(k) {
		f.comp = completion{}
	}
	return None
}

// complete puts the next (d 1) or previous (d -1) candidate in the field;
// false when there is none, so tab moves on to the next field instead.
func (f *Form) complete(fd *Field, d int) bool {
	value := fd.Input.Value()
	if value != f.comp.applied || len(f.comp.cands) == 0 {
		cands := fd.Complete(value)
		if len(cands) == 0 || (len(cands) == 1 && cands[0] == value) {
			f.comp = completion{}
			return false
		}
		f.comp = completion{cands: cands}
		if d < 0 {
			f.comp.i = len(cands) - 1
		}
	} else {
		n := len(f.comp.cands)
		if n == 1 {
			f.comp = completion{} // nothing to cycle to: move on
			return false
		}
		f.comp.i = ((f.comp.i+d)%n + n) % n
	}
	fd.Input.SetValue(f.comp.cands[f.comp.i])
	f.comp.applied = fd.Input.Value()
	return true
}

// Lines draws the fields in w cells: a label column, the value (the focused
// field's with its cursor, a choice's with arrows), the focused field's
// candidates and hint, then the problem or the question.
func (f *Form) Lines(w int, th *view.Theme) []string {
	labelW := 0
	for _, fd := range f.Fields {
		labelW = max(labelW, view.Width(fd.Label))
	}
	labelW = min(labelW+2, max(w/3, 4))
	valueW := max(w-labelW-2, 1)
	var out []string
	for i, fd := range f.Fields {
		focused := i == f.focus && f.question == ""
		caret := "  "
		if focused {
			caret = "> "
		}
		label := view.Fit(safe.Text(fd.Label), labelW)
		if focused {
			label = th.Bold.Apply(label)
		} else {
			label = th.Dim.Apply(label)
		}
		var value string
		switch {
		case fd.Choices != nil:
			value = choiceText(fd, focused, th)
		case fd.locked:
			value = view.Truncate(safe.Text(fd.kept), valueW)
		case focused:
			value = fd.Input.View(valueW, th)
		default:
			value = view.Truncate(safe.Text(fd.Input.Value()), valueW)
		}
		line := caret + label + value
		hint := "(" + safe.Text(fd.Hint) + ")"
		switch {
		case fd.Hint == "":
		case view.Width(line)+2+view.Width(hint) <= w:
			line += "  " + th.Dim.Apply(hint)
		case fd.locked:
			// Why the value cannot change matters: on a line of its own.
			out = append(out, view.Truncate(line, w))
			line = strings.Repeat(" ", 2+labelW) + th.Dim.Apply(hint)
		}
		out = append(out, view.Truncate(line, w))
		if focused && fd.Choices == nil && !fd.locked && fd.Complete != nil {
			if c := f.candidatesLine(fd, valueW, th); c != "" {
				out = append(out, view.Truncate(strings.Repeat(" ", 2+labelW)+c, w))
			}
		}
	}
	out = append(out, "")
	switch {
	case f.question != "":
		for _, l := range view.Wrap(safe.Text(f.question), max(w-2, 1)) {
			out = append(out, "  "+th.Notice.Apply(l))
		}
	case f.problem != "":
		for _, l := range view.Wrap(safe.Text(f.problem), max(w-2, 1)) {
			out = append(out, "  "+th.Error.Apply(l))
		}
	}
	return out
}

// choiceText shows every choice, the chosen one marked with brackets (and
// reverse video on the focused field), so the choice reads without colour.
func choiceText(fd *Field, focused bool, th *view.Theme) string {
	var parts []string
	for i, c := range fd.Choices {
		c = safe.Text(c)
		if i == fd.Choice {
			c = "[" + c + "]"
			if focused {
				c = th.Selected.Apply(c)
			}
		} else {
			c = " " + c + " "
		}
		parts = append(parts, c)
	}
	return strings.Join(parts, " ")
}

// candidatesLine lists what tab would put in the field.
func (f *Form) candidatesLine(fd *Field, w int, th *view.Theme) string {
	cands, cur := f.comp.cands, f.comp.i
	if fd.Input.Value() != f.comp.applied || len(cands) == 0 {
		cands, cur = fd.Complete(fd.Input.Value()), -1
	}
	if len(cands) == 0 {
		return ""
	}
	var b strings.Builder
	used := 0
	for i, c := range cands {
		c = safe.Text(c)
		cw := view.Width(c) + 2
		if used+cw > w-6 && i > 0 {
			b.WriteString(th.Dim.Apply("…+" + view.Thousands(len(cands)-i)))
			break
		}
		if i == cur {
			b.WriteString(th.Cursor.Apply(c))
		} else {
			b.WriteString(th.Dim.Apply(c))
		}
		b.WriteString("  ")
		used += cw
	}
	return strings.TrimRight(b.String(), " ")
}

// KeyMap is the form's keys in its current state, for hints and help.
func (f *Form) KeyMap() help.KeyMap {
	fd := f.focused()
	return boundKeys{km: f.keys, asking: f.question != "", choice: fd != nil && fd.Choices != nil,
		completes: fd != nil && fd.Choices == nil && fd.Complete != nil}
}

type keyMap struct {
	Next, Prev, Complete, CompleteBack, ChoiceNext, ChoicePrev key.Binding
	Submit, Cancel, Yes, No                                    key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Next:         b([]string{"down", "tab"}, "↓/tab", "next field"),
		Prev:         b([]string{"up", "shift+tab"}, "↑/shift+tab", "previous field"),
		Complete:     b([]string{"tab"}, "tab", "complete"),
		CompleteBack: b([]string{"shift+tab"}, "shift+tab", "previous completion"),
		ChoiceNext:   b([]string{"right", " ", "l"}, "→/space", "next choice"),
		ChoicePrev:   b([]string{"left", "h"}, "←", "previous choice"),
		Submit:       b([]string{"enter"}, "enter", "done"),
		Cancel:       b([]string{"esc"}, "esc", "cancel"),
		Yes:          b([]string{"y", "Y", "enter"}, "y/enter", "yes"),
		No:           b([]string{"n", "N", "esc"}, "n/esc", "no, back"),
	}
}

type boundKeys struct {
	km                        keyMap
	asking, choice, completes bool
}

func (k boundKeys) ShortHelp() []key.Binding {
	if k.asking {
		return []key.Binding{k.km.Yes, k.km.No}
	}
	out := []key.Binding{k.km.Submit, k.km.Cancel}
	switch {
	case k.choice:
		out = append(out, k.km.ChoiceNext)
	case k.completes:
		out = append(out, k.km.Complete)
	}
	return append(out, k.km.Next, k.km.Prev)
}

func (k boundKeys) FullHelp() [][]key.Binding {
	if k.asking {
		return [][]key.Binding{{k.km.Yes, k.km.No}}
	}
	return [][]key.Binding{
		{k.km.Submit, k.km.Cancel, k.km.Next, k.km.Prev},
		{k.km.Complete, k.km.ChoiceNext, k.km.ChoicePrev},
	}
}

var _ help.KeyMap = boundKeys{}

// Screen is what every form screen shares: its form, its size, and that the
// form takes every key. A screen embeds it and adds its title, fields and
// what submitting does.
type Screen struct {
	Form          *Form
	Width, Height int
}

// Init implements view.View: a form has nothing to fetch.
func (s *Screen) Init() tea.Cmd { return nil }

// Capturing implements view.Capturer: the form takes every key.
func (s *Screen) Capturing() bool { return true }

// KeyMap implements view.View: the form's keys in its current state.
func (s *Screen) KeyMap() help.KeyMap { return s.Form.KeyMap() }

// SetSize implements view.View.
func (s *Screen) SetSize(w, h int) { s.Width, s.Height = w, h }
