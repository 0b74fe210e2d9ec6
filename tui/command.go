package tui

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/when"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// The : command line: the shell's own commands (range, bucket, job,
// partition, quit, help) and those the screen on top adds, all completed
// with tab from the same tables that check and run them.

// completion is the state of tab cycling: the candidates for the word being
// completed, which one is in, and the line as tab left it.
type completion struct {
	cands   []string
	i       int
	base    string // the line before the word
	applied string // the line after the last tab; other edits reset cycling
}

// commands lists the shell's commands, then the screen's.
func (m *Model) commands() []view.Command {
	jobs := make([]string, len(m.ctx.Jobs))
	for i, j := range m.ctx.Jobs {
		jobs[i] = j.ID
	}
	cmds := []view.Command{
		{Name: "range", Args: "FROM [TO]", Help: "time range: -24h, 2026-11-01 2026-11-03, or all",
			Complete: prefixed([]string{"-1h", "-24h", "-7d", "-30d", "all"}), Check: func(args []string) error {
				_, _, err := m.parseRange(args)
				return err
			}},
		{Name: "bucket", Args: "SPAN", Help: "bucket span: 5m, 15m, 1h…",
			Complete: prefixed([]string{"1m", "5m", "10m", "15m", "30m", "1h", "2h", "3h", "6h", "12h", "1d"}), Check: func(args []string) error {
				_, err := parseBucket(args)
				return err
			}},
		{Name: "job", Args: "ID", Help: "switch job", Complete: prefixed(jobs), Check: func(args []string) error {
			if len(args) != 1 {
				return errors.New("want one job id")
			}
			if _, ok := model.FindJob(m.ctx.Jobs, args[0]); !ok {
				return fmt.Errorf("unknown job %q: want one of %s", args[0], jobIDs(m.ctx.Jobs))
			}
			return nil
		}},
		{Name: "partition", Args: "none|default", Help: "score per host/container (default) or across the fleet (none)",
			Complete: prefixed([]string{"default", "none"}), Check: func(args []string) error {
				if len(args) != 1 || (args[0] != "none" && args[0] != "default") {
					return errors.New("want none or default")
				}
				return nil
			}},
	}
	cmds = append(cmds, m.caseCommands()...)
	cmds = append(cmds,
		view.Command{Name: "help", Help: "show the keys"},
		view.Command{Name: "quit", Help: "leave the console"},
	)
	if c, ok := m.top().v.(view.Commander); ok {
		cmds = append(cmds, c.Commands()...)
	}
	return cmds
}

func prefixed(all []string) func(string) []string {
	return func(p string) []string {
		var out []string
		for _, s := range all {
			if strings.HasPrefix(s, p) {
				out = append(out, s)
			}
		}
		return out
	}
}

func findCommand(cmds []view.Command, name string) (view.Command, bool) {
	for _, c := range cmds {
		if c.Name == name {
			return c, true
		}
	}
	if name == "q" {
		return findCommand(cmds, "quit")
	}
	return view.Command{}, false
}

// candidates are the completions of the word under the cursor (the last
// word of the line).
func (m *Model) candidates(line string) (base string, cands []string) {
	cmds := m.commands()
	words := splitArgs(line)
	trailing := strings.HasSuffix(line, " ") && !quoteOpen(line)
	if len(words) == 0 || (len(words) == 1 && !trailing) {
		prefix := ""
		if len(words) == 1 {
			prefix = words[0]
		}
		for _, c := range cmds {
			if strings.HasPrefix(c.Name, prefix) {
				cands = append(cands, c.Name)
			}
		}
		return "", cands
	}
	c, ok := findCommand(cmds, words[0])
	if !ok || (c.Complete == nil && c.CompleteArgs == nil) {
		return "", nil
	}
	prefix := ""
	if !trailing {
		prefix = words[len(words)-1]
		words = words[:len(words)-1]
	}
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = quoteArg(w)
	}
	base = strings.Join(quoted, " ") + " "
	if c.CompleteArgs != nil {
		return base, c.CompleteArgs(words[1:], prefix)
	}
	return base, c.Complete(prefix)
}

func (m *Model) complete(d int) {
	line := m.input.Value()
	if line != m.comp.applied || len(m.comp.cands) == 0 {
		base, cands := m.candidates(line)
		if len(cands) == 0 {
			m.comp = completion{}
			return
		}
		m.comp = completion{cands: cands, i: 0, base: base}
		if d < 0 {
			m.comp.i = len(cands) - 1
		}
	} else {
		n := len(m.comp.cands)
		m.comp.i = ((m.comp.i+d)%n + n) % n
	}
	next := m.comp.base + quoteArg(m.comp.cands[m.comp.i])
	if len(m.comp.cands) == 1 {
		next += " " // a unique completion moves on to the next word
	}
	m.input.SetValue(next)
	m.comp.applied = next
}

func (m *Model) commandKey(k tea.KeyMsg) tea.Cmd {
	g := m.keys
	switch {
	case key.Matches(k, g.Esc):
		m.mode = modeNone
		return nil
	case key.Matches(k, g.Complete):
		m.complete(1)
		return nil
	case key.Matches(k, g.CompleteBack):
		m.complete(-1)
		return nil
	case key.Matches(k, g.Accept):
		m.mode = modeNone
		return m.runCommand(m.input.Value())
	}
	if m.input.Value() == "" && k.Type == tea.KeyBackspace {
		m.mode = modeNone // backspace over the colon leaves, as in vim
		return nil
	}
	if m.input.Update(k) {
		m.comp.applied = "" // typed: the next tab completes afresh
	}
	return nil
}

// runCommand checks and runs one command line.
func (m *Model) runCommand(line string) tea.Cmd {
	words := splitArgs(line)
	if len(words) == 0 {
		return nil
	}
	cmds := m.commands()
	c, ok := findCommand(cmds, words[0])
	if !ok {
		names := make([]string, len(cmds))
		for i, c := range cmds {
			names[i] = c.Name
		}
		sort.Strings(names)
		m.setNotice(fmt.Sprintf(":%s is not a command; try %s", words[0], strings.Join(names, " ")), true)
		return nil
	}
	args := words[1:]
	if c.Check != nil {
		if err := c.Check(args); err != nil {
			m.setNotice(":"+c.Name+": "+err.Error(), true)
			return nil
		}
	}
	if cmd, ok := m.runCaseCommand(c.Name, args); ok {
		return cmd
	}
	q := m.ctx.Query
	switch c.Name {
	case "quit":
		return m.quit()
	case "help":
		m.mode, m.helpTop = modeHelp, 0
		return nil
	case "range":
		from, to, _ := m.parseRange(args)
		q.From, q.To = from, to
		return m.setQuery(q)
	case "bucket":
		q.BucketSpan, _ = parseBucket(args)
		return m.setQuery(q)
	case "job":
		q.Job = args[0]
		return m.setQuery(q)
	case "partition":
		q.Partition = ""
		if args[0] == "none" {
			q.Partition = model.PartitionNone
		}
		return m.setQuery(q)
	}
	return m.deliver(m.top().id, view.CommandMsg{Name: c.Name, Args: args})
}

// parseRange reads :range FROM [TO]; one relative FROM means "until now",
// "all" means the whole data.
func (m *Model) parseRange(args []string) (time.Time, time.Time, error) {
	if len(args) == 1 && args[0] == "all" {
		return time.Time{}, time.Time{}, nil
	}
	if len(args) < 1 || len(args) > 2 {
		return time.Time{}, time.Time{}, errors.New("want FROM [TO], e.g. -24h or 2026-11-01 2026-11-03, or all")
	}
	now := m.ctx.Now()
	from, err := when.Parse(args[0], now, m.ctx.Location)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	var to time.Time
	if len(args) == 2 {
		if to, err = when.Parse(args[1], now, m.ctx.Location); err != nil {
			return time.Time{}, time.Time{}, err
		}
	} else if strings.HasPrefix(args[0], "-") {
		to = now
	}
	if !to.IsZero() && !to.After(from) {
		return time.Time{}, time.Time{}, errors.New("the range must end after it starts")
	}
	return from, to, nil
}

func parseBucket(args []string) (time.Duration, error) {
	if len(args) != 1 {
		return 0, errors.New("want one span, e.g. 15m or 1h")
	}
	d, err := when.ParseSpan(args[0])
	if err != nil {
		return 0, err
	}
	if d < time.Minute || d > 7*24*time.Hour || d%time.Minute != 0 {
		return 0, fmt.Errorf("bucket %s: want whole minutes from 1m to 7d", args[0])
	}
	return d, nil
}
