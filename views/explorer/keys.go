package explorer

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// keyMap is every key the explorer answers to; Update matches against these
// same bindings, so the hint bar and the ? overlay cannot drift from what
// the keys do. None is a key the shell owns (ctrl+c q esc ? : / n N y r [ ]).
type keyMap struct {
	Up, Down, Top, Bottom, PageDown, PageUp key.Binding
	Detail, Sort, Reverse, Parent, Children key.Binding
	Widen, Narrow, Earlier, Later, More     key.Binding
	OnlyThis                                key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Up:       b([]string{"k", "up"}, "k/↑", "up"),
		Down:     b([]string{"j", "down"}, "j/↓", "down"),
		Top:      b([]string{"g", "home"}, "g", "first row"),
		Bottom:   b([]string{"G", "end"}, "G", "last row"),
		PageDown: b([]string{"ctrl+d", "pgdown"}, "ctrl+d", "half page down"),
		PageUp:   b([]string{"ctrl+u", "pgup"}, "ctrl+u", "half page up"),
		Detail:   b([]string{"enter"}, "enter", "details"),
		Sort:     b([]string{"o"}, "o", "sort by next column"),
		Reverse:  b([]string{"O"}, "O", "reverse sort"),
		Parent:   b([]string{"P"}, "P", "go to parent"),
		Children: b([]string{"C"}, "C", "list children"),
		Widen:    b([]string{"w"}, "w", "widen window"),
		Narrow:   b([]string{"W"}, "W", "narrow window"),
		Earlier:  b([]string{"<", ","}, "<", "window earlier"),
		Later:    b([]string{">", "."}, ">", "window later"),
		More:     b([]string{"+", "="}, "+", "raise row cap"),
		OnlyThis: b([]string{"e"}, "e", "this executable / all"),
	}
}

func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.Detail, k.Parent, k.Children, k.Sort, k.Widen}
}

func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageDown, k.PageUp, k.Detail},
		{k.Sort, k.Reverse, k.Parent, k.Children, k.OnlyThis},
		{k.Widen, k.Narrow, k.Earlier, k.Later, k.More},
	}
}

var _ help.KeyMap = keyMap{}
