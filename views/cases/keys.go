package cases

import (
	"github.com/auditlens/auditlens/views/internal/listing"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// keyMap is every key the case screens answer to; Update matches against
// these same bindings, so the hint bar and the ? overlay cannot drift from
// what the keys do. None is a key the shell owns (ctrl+c q esc ? : / n N y
// r [ ]).
type keyMap struct {
	listing.MoveKeys
	Open, Save, Delete, Remove key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		MoveKeys: listing.NewMoveKeys(),
		Open:     b([]string{"enter"}, "enter", "open"),
		Save:     b([]string{"w"}, "w", "save to a file"),
		Delete:   b([]string{"d"}, "d", "delete case"),
		Remove:   b([]string{"d"}, "d", "remove from case"),
	}
}

// listKeys is the cases list's key map as help sees it.
type listKeys struct {
	km     keyMap
	asking help.KeyMap // the confirmation's keys while it asks
}

func (k listKeys) ShortHelp() []key.Binding {
	if k.asking != nil {
		return k.asking.ShortHelp()
	}
	return []key.Binding{k.km.Down, k.km.Open, k.km.Save, k.km.Delete}
}

func (k listKeys) FullHelp() [][]key.Binding {
	if k.asking != nil {
		return k.asking.FullHelp()
	}
	return [][]key.Binding{
		{k.km.Up, k.km.Down, k.km.Top, k.km.Bottom, k.km.PageDown, k.km.PageUp},
		{k.km.Open, k.km.Save, k.km.Delete},
	}
}

// caseKeys is a case's anomalies screen's key map as help sees it.
type caseKeys struct {
	km     keyMap
	asking help.KeyMap
}

func (k caseKeys) ShortHelp() []key.Binding {
	if k.asking != nil {
		return k.asking.ShortHelp()
	}
	return []key.Binding{k.km.Down, k.km.Open, k.km.Remove, k.km.Save}
}

func (k caseKeys) FullHelp() [][]key.Binding {
	if k.asking != nil {
		return k.asking.FullHelp()
	}
	return [][]key.Binding{
		{k.km.Up, k.km.Down, k.km.Top, k.km.Bottom, k.km.PageDown, k.km.PageUp},
		{k.km.Open, k.km.Remove, k.km.Save},
	}
}

var (
	_ help.KeyMap = listKeys{}
	_ help.KeyMap = caseKeys{}
)
