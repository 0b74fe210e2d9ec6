package rarechart

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// keyMap is every key the chart answers to; Update matches against these
// same bindings, so the hint bar and the ? overlay cannot drift from what
// the keys do. None is a key the shell owns (ctrl+c q esc ? : / n N y r [ ]).
type keyMap struct {
	Up, Down, Top, Bottom, PageDown, PageUp key.Binding
	Earlier, Later, DayEarlier, DayLater    key.Binding
	First, Last, ZoomIn, ZoomOut            key.Binding
	Explore, Details                        key.Binding
	AddToCase, Suppress                     key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Up:         b([]string{"k", "up"}, "k/↑", "up"),
		Down:       b([]string{"j", "down"}, "j/↓", "down"),
		Top:        b([]string{"g"}, "g", "most frequent"),
		Bottom:     b([]string{"G"}, "G", "rarest"),
		PageDown:   b([]string{"ctrl+d", "pgdown"}, "ctrl+d", "half page down"),
		PageUp:     b([]string{"ctrl+u", "pgup"}, "ctrl+u", "half page up"),
		Earlier:    b([]string{"h", "left"}, "h/←", "earlier"),
		Later:      b([]string{"l", "right"}, "l/→", "later"),
		DayEarlier: b([]string{"H", "shift+left"}, "H", "a day earlier"),
		DayLater:   b([]string{"L", "shift+right"}, "L", "a day later"),
		First:      b([]string{"0", "home"}, "0", "first bucket"),
		Last:       b([]string{"$", "end"}, "$", "last bucket"),
		ZoomIn:     b([]string{"+", "="}, "+", "zoom in"),
		ZoomOut:    b([]string{"-", "_"}, "-", "zoom out"),
		Explore:    b([]string{"enter", "p"}, "enter/p", "processes"),
		Details:    b([]string{"d"}, "d", "anomaly record"),
		AddToCase:  b([]string{"A"}, "A", "add anomaly to a case"),
		Suppress:   b([]string{"S"}, "S", "suppress its executable"),
	}
}

func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.Earlier, k.Explore, k.ZoomIn, k.Details}
}

func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageDown, k.PageUp},
		{k.Earlier, k.Later, k.DayEarlier, k.DayLater, k.First, k.Last, k.ZoomIn, k.ZoomOut},
		{k.Explore, k.Details, k.AddToCase, k.Suppress},
	}
}

var _ help.KeyMap = keyMap{}
