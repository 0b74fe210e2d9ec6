package rules

import (
	"github.com/auditlens/auditlens/views/internal/listing"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// keyMap is every key the rules list answers to; Update matches against
// these same bindings, so the hint bar and the ? overlay cannot drift from
// what the keys do. None is a key the shell owns (ctrl+c q esc ? : / n N y
// r [ ]).
type keyMap struct {
	listing.MoveKeys
	Edit, Remove key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		MoveKeys: listing.NewMoveKeys(),
		Edit:     b([]string{"enter", "e"}, "enter/e", "edit"),
		Remove:   b([]string{"d"}, "d", "remove rule"),
	}
}

type listKeys struct {
	km     keyMap
	asking help.KeyMap // the confirmation's keys while it asks
}

func (k listKeys) ShortHelp() []key.Binding {
	if k.asking != nil {
		return k.asking.ShortHelp()
	}
	return []key.Binding{k.km.Down, k.km.Edit, k.km.Remove}
}

func (k listKeys) FullHelp() [][]key.Binding {
	if k.asking != nil {
		return k.asking.FullHelp()
	}
	return [][]key.Binding{
		{k.km.Up, k.km.Down, k.km.Top, k.km.Bottom, k.km.PageDown, k.km.PageUp},
		{k.km.Edit, k.km.Remove},
	}
}

var _ help.KeyMap = listKeys{}
