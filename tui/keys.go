package tui

import "github.com/charmbracelet/bubbles/key"

// globalKeys are the keys the shell owns on every screen. Screens must not
// bind them (see package view). The shell matches keys against these same
// bindings that the hint bar and the ? overlay show.
type globalKeys struct {
	Help, Command, Filter, NextMatch, PrevMatch    key.Binding
	Back, Esc, Quit, Yank, Rerun, PrevJob, NextJob key.Binding
	// Inside the ? overlay, the : command line and the / filter.
	ScrollDown, ScrollUp, Complete, CompleteBack, Accept key.Binding
}

func newGlobalKeys() globalKeys {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return globalKeys{
		Help:         b([]string{"?"}, "?", "help"),
		Command:      b([]string{":"}, ":", "command"),
		Filter:       b([]string{"/"}, "/", "filter"),
		NextMatch:    b([]string{"n"}, "n", "next match"),
		PrevMatch:    b([]string{"N"}, "N", "previous match"),
		Back:         b([]string{"q"}, "q", "back"),
		Esc:          b([]string{"esc"}, "esc", "back / cancel"),
		Quit:         b([]string{"ctrl+c"}, "ctrl+c", "quit"),
		Yank:         b([]string{"y"}, "y", "copy as JSON"),
		Rerun:        b([]string{"r"}, "r", "re-run range"),
		PrevJob:      b([]string{"["}, "[", "previous job"),
		NextJob:      b([]string{"]"}, "]", "next job"),
		ScrollDown:   b([]string{"j", "down"}, "j", "scroll down"),
		ScrollUp:     b([]string{"k", "up"}, "k", "scroll up"),
		Complete:     b([]string{"tab"}, "tab", "complete"),
		CompleteBack: b([]string{"shift+tab"}, "shift+tab", "previous completion"),
		Accept:       b([]string{"enter"}, "enter", "run"),
	}
}

// shellKeys is the global key map as help shows it on one screen: q says
// quit at the root and back elsewhere, and keys that cannot act are off.
type shellKeys struct {
	g                 globalKeys
	root              bool
	filterable, yanks bool
	filtering         bool
}

func (k shellKeys) bindings() globalKeys {
	g := k.g
	if k.root {
		g.Back.SetHelp("q", "quit")
		g.Esc.SetHelp("esc", "cancel / clear")
	}
	g.Filter.SetEnabled(k.filterable)
	g.NextMatch.SetEnabled(k.filtering)
	g.PrevMatch.SetEnabled(k.filtering)
	g.Yank.SetEnabled(k.yanks)
	return g
}

func (k shellKeys) ShortHelp() []key.Binding {
	g := k.bindings()
	return []key.Binding{g.Help, g.Command, g.Back}
}

func (k shellKeys) FullHelp() [][]key.Binding {
	g := k.bindings()
	return [][]key.Binding{{g.Help, g.Command, g.Filter, g.NextMatch, g.PrevMatch, g.Yank, g.Rerun, g.PrevJob, g.NextJob, g.Back, g.Esc, g.Quit}}
}
