package ratechart

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// keyMap is every key the rate drill-down answers to; Update matches
// against these same bindings, so the hint bar and the ? overlay cannot
// drift from what the keys do. None is a key the shell owns (ctrl+c q esc ?
// : / n N y r [ ]).
type keyMap struct {
	Earlier, Later, DayEarlier, DayLater, First, Last key.Binding
	Up, Down, ZoomIn, ZoomOut, Explore, Details       key.Binding
	AddToCase, Suppress                               key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Earlier:    b([]string{"h", "left"}, "h/←", "earlier bucket"),
		Later:      b([]string{"l", "right"}, "l/→", "later bucket"),
		DayEarlier: b([]string{"H", "shift+left"}, "H", "a day earlier"),
		DayLater:   b([]string{"L", "shift+right"}, "L", "a day later"),
		First:      b([]string{"0", "home"}, "0", "first bucket"),
		Last:       b([]string{"$", "end"}, "$", "last bucket"),
		Up:         b([]string{"k", "up"}, "k/↑", "previous executable"),
		Down:       b([]string{"j", "down"}, "j/↓", "next executable"),
		ZoomIn:     b([]string{"+", "="}, "+", "narrower window"),
		ZoomOut:    b([]string{"-", "_"}, "-", "wider window"),
		Explore:    b([]string{"enter", "p"}, "enter/p", "processes"),
		Details:    b([]string{"d"}, "d", "anomaly record"),
		AddToCase:  b([]string{"A"}, "A", "add anomaly to a case"),
		Suppress:   b([]string{"S"}, "S", "suppress its executable"),
	}
}

func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Earlier, k.Down, k.Explore, k.ZoomIn, k.ZoomOut, k.Details}
}

func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Earlier, k.Later, k.DayEarlier, k.DayLater, k.First, k.Last},
		{k.Up, k.Down, k.ZoomIn, k.ZoomOut},
		{k.Explore, k.Details, k.AddToCase, k.Suppress},
	}
}

var _ help.KeyMap = keyMap{}
