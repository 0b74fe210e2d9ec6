package swimlane

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// keyMap is every key the swimlane answers to; Update matches against these
// same bindings, so the hint bar and the ? overlay cannot drift from what
// the keys do. None of them is a key the shell owns (ctrl+c q esc ? : / n N
// y r [ ]).
type keyMap struct {
	Up, Down, Top, Bottom, PageDown, PageUp       key.Binding
	NextPane, PrevPane, Open                      key.Binding
	Earlier, Later, DayEarlier, DayLater          key.Binding
	First, Last, ZoomIn, ZoomOut                  key.Binding
	MarkNew, Acknowledge, FalsePositive, Escalate key.Binding
	Note, StateFilter, Scope, Sort, Processes     key.Binding
	AddToCase, Suppress, ShowSuppressed           key.Binding
	// While a note is being typed.
	SaveNote, CancelNote key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Up:             b([]string{"k", "up"}, "k/↑", "up"),
		Down:           b([]string{"j", "down"}, "j/↓", "down"),
		Top:            b([]string{"g"}, "g", "top"),
		Bottom:         b([]string{"G"}, "G", "bottom"),
		PageDown:       b([]string{"ctrl+d", "pgdown"}, "ctrl+d", "half page down"),
		PageUp:         b([]string{"ctrl+u", "pgup"}, "ctrl+u", "half page up"),
		NextPane:       b([]string{"tab"}, "tab", "next pane"),
		PrevPane:       b([]string{"shift+tab"}, "shift+tab", "previous pane"),
		Open:           b([]string{"enter"}, "enter", "open"),
		Earlier:        b([]string{"h", "left"}, "h/←", "earlier bucket"),
		Later:          b([]string{"l", "right"}, "l/→", "later bucket"),
		DayEarlier:     b([]string{"H", "shift+left"}, "H", "a day earlier"),
		DayLater:       b([]string{"L", "shift+right"}, "L", "a day later"),
		First:          b([]string{"0", "home"}, "0", "first bucket"),
		Last:           b([]string{"$", "end"}, "$", "last bucket"),
		ZoomIn:         b([]string{"+", "="}, "+", "zoom in"),
		ZoomOut:        b([]string{"-", "_"}, "-", "zoom out"),
		MarkNew:        b([]string{"u", "1"}, "u/1", "mark new"),
		Acknowledge:    b([]string{"a", "2"}, "a/2", "acknowledge"),
		FalsePositive:  b([]string{"x", "3"}, "x/3", "false positive"),
		Escalate:       b([]string{"e", "4"}, "e/4", "escalate"),
		Note:           b([]string{"i"}, "i", "note"),
		StateFilter:    b([]string{"s"}, "s", "filter by state"),
		Scope:          b([]string{"c"}, "c", "hosts/containers"),
		Sort:           b([]string{"o"}, "o", "sort lanes"),
		Processes:      b([]string{"p"}, "p", "processes"),
		AddToCase:      b([]string{"A"}, "A", "add to a case"),
		Suppress:       b([]string{"S"}, "S", "suppress executable"),
		ShowSuppressed: b([]string{"."}, ".", "show suppressed"),
		SaveNote:       b([]string{"enter"}, "enter", "save note"),
		CancelNote:     b([]string{"esc"}, "esc", "cancel"),
	}
}

// boundKeys is the key map as help sees it in one state of the screen.
type boundKeys struct {
	km     keyMap
	noting bool
}

func (k boundKeys) ShortHelp() []key.Binding {
	if k.noting {
		return []key.Binding{k.km.SaveNote, k.km.CancelNote}
	}
	return []key.Binding{k.km.Earlier, k.km.Down, k.km.Open, k.km.NextPane, k.km.Acknowledge, k.km.Escalate, k.km.ZoomIn, k.km.Scope}
}

func (k boundKeys) FullHelp() [][]key.Binding {
	if k.noting {
		return [][]key.Binding{{k.km.SaveNote, k.km.CancelNote}}
	}
	return [][]key.Binding{
		{k.km.Up, k.km.Down, k.km.Top, k.km.Bottom, k.km.PageDown, k.km.PageUp, k.km.NextPane, k.km.PrevPane, k.km.Open, k.km.Processes},
		{k.km.Earlier, k.km.Later, k.km.DayEarlier, k.km.DayLater, k.km.First, k.km.Last, k.km.ZoomIn, k.km.ZoomOut},
		{k.km.MarkNew, k.km.Acknowledge, k.km.FalsePositive, k.km.Escalate, k.km.Note, k.km.StateFilter, k.km.Scope, k.km.Sort},
		{k.km.AddToCase, k.km.Suppress, k.km.ShowSuppressed},
	}
}

var _ help.KeyMap = boundKeys{}
