package tui

// The shell's part in cases and suppression rules: it finds the backend's
// case side once, labels the status bar with the case file the console runs
// on, offers :cases, :case and :rules, and tells every screen to answer
// again when a screen changed a rule or a case (view.ChangedMsg).

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/cases"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/rules"
	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
)

// Results of the shell's own case and rule work.
type (
	caseNamesMsg   struct{ names []string }
	caseSavedMsg   struct{ text string }
	rulesExportMsg struct{ text string }
	rulesImportMsg struct{ text string }
)

// findCases reads the backend's case side into the shared context: whether
// there is one, the case file the console runs on, and whether changes
// can be stored. These answers come from memory, not I/O.
func (m *Model) findCases() {
	cb, err := model.Cases(m.backend)
	if err != nil {
		return
	}
	m.ctx.Cases = true
	if f, ok := cb.CaseFileInfo(); ok {
		m.ctx.CaseFile = f
	}
	m.ctx.ReadOnly = cb.Writable()
}

// caseSegment labels the status bar with the case file the console runs
// on, on every screen and job: it stays when the bar narrows, after the job
// alone.
func (m *Model) caseSegment() (statusSegment, bool) {
	f := m.ctx.CaseFile
	if f.Name == "" {
		return statusSegment{}, false
	}
	text := "case " + safe.Text(f.Name)
	seg := statusSegment{text: text, keep: 7}
	if f.ReadOnly {
		seg.text, seg.short, seg.shortKeep = text+" (read-only)", text, 5
	}
	return seg, true
}

// suppressedSegment says how many records the rules hide in what the
// screen shows.
func suppressedSegment(st view.Status) (statusSegment, bool) {
	var text string
	switch {
	case st.Suppressed < 0:
		text = "? suppressed"
	case st.Suppressed > 0:
		text = view.Thousands(st.Suppressed) + " suppressed"
	case st.SuppressedShown:
		text = "0 suppressed"
	default:
		return statusSegment{}, false
	}
	if st.SuppressedShown {
		text += " (listed)"
	}
	return statusSegment{text: text, keep: 5}, true
}

// refreshCaseNames asks for the cases' names for completion, quietly.
func (m *Model) refreshCaseNames() tea.Cmd {
	if !m.ctx.Cases {
		return nil
	}
	return m.startFetch(0, view.FetchMsg{
		Key:   "case names",
		Label: "cases",
		Quiet: true,
		Run: func(ctx context.Context, b model.Backend, _ func(model.Progress)) (tea.Msg, error) {
			cb, err := model.Cases(b)
			if err != nil {
				return nil, err
			}
			list, err := cb.CaseList(ctx)
			if err != nil {
				return nil, err
			}
			names := make([]string, len(list))
			for i, c := range list {
				names[i] = c.Name
			}
			return caseNamesMsg{names: names}, nil
		},
	})
}

// caseCommands are the : commands of cases and rules, when the backend
// keeps them.
func (m *Model) caseCommands() []view.Command {
	if !m.ctx.Cases {
		return nil
	}
	names := func(p string) []string { return prefixed(m.caseNames)(p) }
	return []view.Command{
		{Name: "cases", Help: "list the cases"},
		{Name: "case", Args: "NAME | save NAME FILE [force]", Help: "open a case, or save it as one file",
			CompleteArgs: func(before []string, p string) []string {
				switch {
				case len(before) == 0:
					return append(prefixed([]string{"save"})(p), names(p)...)
				case len(before) == 1 && before[0] == "save":
					return names(p)
				case len(before) == 3 && before[0] == "save":
					return prefixed([]string{"force"})(p)
				}
				return nil
			},
			Check: func(args []string) error {
				switch {
				case len(args) == 1 && args[0] != "save":
					return nil
				case len(args) >= 1 && args[0] == "save" && (len(args) == 3 || (len(args) == 4 && args[3] == "force")):
					return nil
				}
				return errors.New(`want a case name, or save NAME FILE [force] (quote names with spaces: "INC 42")`)
			}},
		{Name: "rules", Args: "[export FILE | import FILE]", Help: "list the suppression rules, or write or read a rule file",
			CompleteArgs: func(before []string, p string) []string {
				if len(before) == 0 {
					return prefixed([]string{"export", "import"})(p)
				}
				return nil
			},
			Check: func(args []string) error {
				switch {
				case len(args) == 0:
					return nil
				case len(args) == 2 && (args[0] == "export" || args[0] == "import"):
					return nil
				}
				return errors.New("want nothing, export FILE or import FILE")
			}},
	}
}

// runCaseCommand runs :cases, :case and :rules; ok is false for another
// command.
func (m *Model) runCaseCommand(name string, args []string) (tea.Cmd, bool) {
	switch name {
	case "cases":
		return m.push(cases.NewList(m.ctx, m.ctx.CaseFile.Name)), true
	case "case":
		if args[0] != "save" {
			return m.push(cases.NewCase(m.ctx, args[0])), true
		}
		if m.ctx.ReadOnly != nil {
			m.setNotice(m.ctx.ReadOnly.Error(), true)
			return nil, true
		}
		caseName, path, force := args[1], args[2], len(args) == 4
		return m.startFetch(0, view.FetchMsg{
			Key:   "case save",
			Label: "saving case " + safe.Text(caseName),
			Run: func(ctx context.Context, b model.Backend, _ func(model.Progress)) (tea.Msg, error) {
				cb, err := model.Cases(b)
				if err != nil {
					return nil, err
				}
				saved, err := cb.SaveCaseFile(ctx, caseName, path, force)
				if err != nil {
					return nil, err
				}
				return caseSavedMsg{text: cases.SavedText(caseName, saved)}, nil
			},
		}), true
	case "rules":
		if len(args) == 0 {
			return m.push(rules.NewList(m.ctx)), true
		}
		return m.ruleFile(args[0], args[1]), true
	}
	return nil, false
}

// ruleFile writes (export) or reads (import) a rule file.
func (m *Model) ruleFile(verb, path string) tea.Cmd {
	if verb == "import" && m.ctx.ReadOnly != nil {
		m.setNotice(m.ctx.ReadOnly.Error(), true)
		return nil
	}
	return m.startFetch(0, view.FetchMsg{
		Key:   "rules " + verb,
		Label: verb + " rules",
		Quiet: verb == "export",
		Run: func(ctx context.Context, b model.Backend, _ func(model.Progress)) (tea.Msg, error) {
			cb, err := model.Cases(b)
			if err != nil {
				return nil, err
			}
			if verb == "export" {
				n, err := cb.ExportRules(ctx, path)
				if err != nil {
					return nil, err
				}
				return rulesExportMsg{text: fmt.Sprintf("%d %s written to %s", n, pluralRule(n), safe.Text(path))}, nil
			}
			n, err := cb.ImportRules(ctx, path)
			if err != nil {
				return nil, err
			}
			return rulesImportMsg{text: fmt.Sprintf("%d %s imported from %s", n, pluralRule(n), safe.Text(path))}, nil
		},
	})
}

func pluralRule(n int) string {
	if n == 1 {
		return "rule"
	}
	return "rules"
}

// caseResult handles the results of the shell's own case and rule work.
func (m *Model) caseResult(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case caseNamesMsg:
		m.caseNames = msg.names
		return nil, true
	case caseSavedMsg:
		m.setNotice(msg.text, false)
		return m.refreshCaseNames(), true
	case rulesExportMsg:
		m.setNotice(msg.text, false)
		return nil, true
	case rulesImportMsg:
		return m.changed(msg.text), true
	}
	return nil, false
}

// changed shows what a screen (or the shell) changed and tells every screen
// to answer again.
func (m *Model) changed(text string) tea.Cmd {
	if text != "" {
		m.setNotice(text, false)
	}
	notice, isErr := m.notice, m.noticeErr
	cmd := tea.Batch(m.broadcast(view.RefreshMsg{}), m.refreshCaseNames())
	m.notice, m.noticeErr = notice, isErr
	return cmd
}

// readOnlyText is the backend's advice when err refuses a change to a
// read-only case file.
func readOnlyText(err error) (string, bool) {
	var ro *model.ReadOnlyError
	if errors.As(err, &ro) {
		return ro.Error(), true
	}
	return "", false
}

// splitArgs splits a command line into words at spaces; double quotes
// keep spaces inside one word ("INC 42"), and a backslash keeps the next
// character as it is.
func splitArgs(line string) []string {
	var words []string
	var b strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line):
			i++
			b.WriteByte(line[i])
			inWord = true
		case c == '"':
			quoted = !quoted
			inWord = true
		case c == ' ' && !quoted:
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words
}

// quoteOpen reports whether line ends inside double quotes.
func quoteOpen(line string) bool {
	open := false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '"':
			open = !open
		}
	}
	return open
}

// quoteArg writes a word so splitArgs reads it back.
func quoteArg(w string) string {
	if w != "" && !strings.ContainsAny(w, " \"\\") {
		return w
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(w) + `"`
}

// noticeText is an error as the hint bar shows it: a read-only refusal as
// the backend's advice alone.
func noticeText(err error) string {
	if text, ok := readOnlyText(err); ok {
		return text
	}
	return err.Error()
}
