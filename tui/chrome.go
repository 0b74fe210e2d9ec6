package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// View implements tea.Model: breadcrumbs, the screen (or the help overlay),
// the status bar and the hint or input line, never larger than the terminal.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if m.tooSmall() {
		w, h := m.minSize()
		return tooSmallView(m.width, m.height, w, h)
	}
	contentH := m.height - chromeLines
	var content string
	if m.mode == modeHelp {
		content = m.helpView(m.width, contentH)
	} else {
		content = m.top().v.View()
	}
	parts := []string{
		m.breadcrumbs(m.width),
		view.Frame(content, m.width, contentH),
		m.statusLine(m.width),
		m.bottomLine(m.width),
	}
	return view.Frame(strings.Join(parts, "\n"), m.width, m.height)
}

// tooSmallView says how big the terminal is and how big it must be, centred,
// within whatever room there is.
func tooSmallView(w, h, needW, needH int) string {
	msg := fmt.Sprintf("Terminal too small: %dx%d. auditlens needs at least %dx%d. Enlarge it, or press q to quit.", w, h, needW, needH)
	lines := view.Wrap(msg, w)
	if len(lines) > h {
		lines = lines[:h]
	}
	out := make([]string, 0, h)
	for i := 0; i < (h-len(lines))/2; i++ {
		out = append(out, "")
	}
	for _, l := range lines {
		out = append(out, view.Center(l, w))
	}
	return view.Frame(strings.Join(out, "\n"), w, h)
}

// breadcrumbs draws the stack's titles; when they do not fit, the left end
// goes, since the current screen matters most.
func (m *Model) breadcrumbs(w int) string {
	th := m.ctx.Theme
	titles := make([]string, len(m.stack))
	for i, e := range m.stack {
		titles[i] = safe.Text(e.v.Title())
	}
	plain := " " + strings.Join(titles, " > ")
	if view.Width(plain) > w {
		return th.CrumbLast.Apply(view.TruncateLeft(plain, w))
	}
	var b strings.Builder
	b.WriteString(" ")
	for i, t := range titles {
		if i > 0 {
			b.WriteString(th.Dim.Apply(" > "))
		}
		if i == len(titles)-1 {
			b.WriteString(th.CrumbLast.Apply(t))
		} else {
			b.WriteString(th.Crumb.Apply(t))
		}
	}
	return b.String()
}

// statusSegment is one part of the status bar; the least needed go first
// when the bar is too narrow.
type statusSegment struct {
	text string
	keep int // higher stays longer
	// short, when set, replaces text once the bar narrows past shortKeep:
	// before the segments of that keep are dropped.
	short     string
	shortKeep int
}

// statusLine draws source, range, bucket, job, counts and zone; while long
// work runs, its progress comes first.
func (m *Model) statusLine(w int) string {
	th := m.ctx.Theme
	if m.mode == modeCommand {
		// Unpainted: the current candidate's own paint would end the bar's.
		return view.Fit(" "+m.commandHint(w-1), w)
	}
	if m.mode == modeFilter {
		text := " filter " + m.filterTarget() + " by regular expression · enter keeps it · esc clears"
		if m.filterErr != nil {
			text = " " + safe.Text(m.filterErr.Error())
		}
		return th.StatusBar.Apply(view.Fit(text, w))
	}
	segs := m.statusSegments()
	zone := " " + m.ctx.ZoneName() + " "
	room := w - view.Width(zone)
	for len(segs) > 1 && segmentsWidth(segs) > room {
		// The next step is the lowest: dropping a segment (at 2*keep) or
		// shortening one (just before the segments of its shortKeep go).
		at, step, shorten := -1, 0, false
		for i, s := range segs {
			if v := 2 * s.keep; at < 0 || v < step {
				at, step, shorten = i, v, false
			}
			if s.short != "" {
				if v := 2*s.shortKeep - 1; v < step {
					at, step, shorten = i, v, true
				}
			}
		}
		if shorten {
			segs[at].text, segs[at].short = segs[at].short, ""
			continue
		}
		segs = append(segs[:at], segs[at+1:]...)
	}
	texts := make([]string, len(segs))
	for i, s := range segs {
		texts[i] = s.text
	}
	left := view.Fit(" "+strings.Join(texts, " │ "), max(room, 0))
	if room < 0 {
		return th.StatusBar.Apply(view.Fit(left, w))
	}
	return th.StatusBar.Apply(left + zone)
}

func segmentsWidth(segs []statusSegment) int {
	w := 1
	for i, s := range segs {
		if i > 0 {
			w += 3
		}
		w += view.Width(s.text)
	}
	return w
}

func (m *Model) statusSegments() []statusSegment {
	q := m.ctx.Query
	var segs []statusSegment
	if f := m.loading(); f != nil {
		segs = append(segs, statusSegment{text: "loading " + safe.Text(f.label) + progressText(f) + " · esc cancels", keep: 9})
	} else if m.state == StateError {
		segs = append(segs, statusSegment{text: "error", keep: 9})
	}
	if seg, ok := m.caseSegment(); ok {
		// On a case file the case is the source: its label replaces the
		// source's, which the bar would drop first.
		segs = append(segs, seg)
	} else if m.opts.Source != "" {
		segs = append(segs, statusSegment{text: safe.Text(m.opts.Source), keep: 1})
	}
	from, to := q.From, q.To
	var counts string
	var suppressed *statusSegment
	if s, ok := m.top().v.(view.Statuser); ok {
		st := s.Status()
		if !st.From.IsZero() {
			from, to = st.From, st.To
		}
		counts = st.Counts
		if seg, ok := suppressedSegment(st); ok {
			suppressed = &seg
		}
	}
	segs = append(segs, statusSegment{text: rangeText(from, to, m.ctx.Location), keep: 6})
	segs = append(segs, statusSegment{text: "bucket " + spanText(q.BucketSpan), keep: 4})
	job := safe.Text(q.Job)
	if q.Partition != "" {
		job += " (partition " + safe.Text(q.Partition) + ")"
	}
	segs = append(segs, statusSegment{text: job, keep: 8})
	if suppressed != nil {
		segs = append(segs, *suppressed)
	}
	if counts != "" {
		segs = append(segs, statusSegment{text: counts, keep: 3})
	}
	return segs
}

func progressText(f *fetch) string {
	p := f.progress
	var parts []string
	if p.Stage != "" {
		parts = append(parts, safe.Text(p.Stage))
	}
	switch {
	case p.Total > 0:
		parts = append(parts, fmt.Sprintf("%d%%", min(100, p.Done*100/p.Total)))
	case p.Done > 0:
		parts = append(parts, fmt.Sprint(p.Done))
	}
	if len(parts) == 0 {
		return "…"
	}
	return ": " + strings.Join(parts, " ")
}

// rangeText writes the range in the display zone; open ends read "start" and
// "end" of the data.
func rangeText(from, to time.Time, loc *time.Location) string {
	layout := "Jan 02 15:04"
	if from.In(loc).Year() != to.In(loc).Year() && !from.IsZero() && !to.IsZero() {
		layout = "2006-01-02 15:04"
	}
	f := func(t time.Time, open string) string {
		if t.IsZero() {
			return open
		}
		return t.In(loc).Format(layout)
	}
	if from.IsZero() && to.IsZero() {
		return "all data"
	}
	return f(from, "start") + " – " + f(to, "end")
}

func spanText(d time.Duration) string {
	switch {
	case d <= 0:
		return "?"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

func (m *Model) filterTarget() string {
	if f, ok := m.top().v.(view.Filterable); ok {
		return f.FilterTarget()
	}
	return ""
}

// commandHint shows, while typing a command, what tab would complete to, or
// the usage of the command being typed.
func (m *Model) commandHint(w int) string {
	th := m.ctx.Theme
	line := m.input.Value()
	var cands []string
	cur := -1
	if line == m.comp.applied && len(m.comp.cands) > 0 {
		cands, cur = m.comp.cands, m.comp.i
	} else {
		_, cands = m.candidates(line)
	}
	if words := splitArgs(line); len(words) > 0 && (len(words) > 1 || strings.HasSuffix(line, " ")) {
		if c, ok := findCommand(m.commands(), words[0]); ok && len(cands) == 0 {
			return view.Truncate(":"+c.Name+" "+c.Args+" — "+c.Help, w)
		}
	}
	if len(cands) == 0 {
		return view.Truncate("no completions · enter runs · esc cancels", w)
	}
	var b strings.Builder
	used := 0
	for i, c := range cands {
		c = safe.Text(c)
		cw := view.Width(c) + 2
		if used+cw > w-12 && i > 0 {
			fmt.Fprintf(&b, " …+%d", len(cands)-i)
			break
		}
		if i == cur {
			b.WriteString(th.Cursor.Apply(c))
		} else {
			b.WriteString(c)
		}
		b.WriteString("  ")
		used += cw
	}
	return b.String()
}

// bottomLine is the command or filter input while open, else a notice or
// error, else the hints of the screen and the shell.
func (m *Model) bottomLine(w int) string {
	th := m.ctx.Theme
	switch m.mode {
	case modeCommand, modeFilter:
		return m.input.View(w, th)
	}
	if m.state == StateError && m.err != nil {
		return th.Error.Apply(view.Truncate(" "+safe.Text(m.err.Error())+" · esc dismisses · r re-runs", w))
	}
	if m.notice != "" {
		p := th.Notice
		if m.noticeErr {
			p = th.Error
		}
		return p.Apply(view.Truncate(" "+safe.Text(m.notice), w))
	}
	h := th.Help()
	h.Width = w - 1
	var bindings []key.Binding
	if m.mode == modeHelp {
		g := m.keys
		g.Help.SetHelp("?", "close help")
		bindings = []key.Binding{g.Help, g.ScrollDown, g.ScrollUp}
	} else if c, ok := m.top().v.(view.Capturer); ok && c.Capturing() {
		// A text field takes every key: the shell's keys would type.
		bindings = m.top().v.KeyMap().ShortHelp()
	} else {
		bindings = append(m.shellKeys().ShortHelp(), m.top().v.KeyMap().ShortHelp()...)
	}
	return view.Truncate(" "+h.ShortHelpView(bindings), w)
}

func (m *Model) shellKeys() shellKeys {
	top := m.top().v
	f, filterable := top.(view.Filterable)
	_, yanks := top.(view.Yanker)
	return shellKeys{g: m.keys, root: len(m.stack) == 1, filterable: filterable, yanks: yanks, filtering: filterable && f.Filter() != ""}
}

// helpView is the ? overlay: the screen's key map and the shell's, as
// columns that wrap to the width, then the screen's legend; it scrolls.
func (m *Model) helpView(w, h int) string {
	th := m.ctx.Theme
	top := m.top().v
	groups := append([][]key.Binding{}, top.KeyMap().FullHelp()...)
	groups = append(groups, m.shellKeys().FullHelp()...)
	lines := []string{th.Header.Apply(view.Truncate(" keys: "+safe.Text(top.Title()), w)), ""}
	lines = append(lines, helpColumns(groups, w, th)...)
	if l, ok := top.(view.Legender); ok {
		lines = append(lines, "")
		for _, s := range l.Legend() {
			lines = append(lines, " "+s)
		}
	}
	maxTop := max(len(lines)-h, 0)
	m.helpTop = min(m.helpTop, maxTop)
	lines = lines[m.helpTop:]
	if len(lines) > h {
		lines = lines[:h]
		if h > 0 {
			lines[h-1] = th.Dim.Apply(" … j for more")
		}
	}
	return strings.Join(lines, "\n")
}

// helpColumns lays out key groups as columns (key, description) side by
// side while they fit, wrapping to a new band of columns when not.
func helpColumns(groups [][]key.Binding, w int, th *view.Theme) []string {
	type col struct {
		lines []string
		width int
	}
	var cols []col
	for _, g := range groups {
		keyW := 0
		for _, b := range g {
			if b.Enabled() {
				keyW = max(keyW, view.Width(b.Help().Key))
			}
		}
		var c col
		for _, b := range g {
			if !b.Enabled() {
				continue
			}
			l := th.Key.Apply(view.Fit(b.Help().Key, keyW)) + " " + th.Desc.Apply(b.Help().Desc)
			c.lines = append(c.lines, l)
			c.width = max(c.width, keyW+1+view.Width(b.Help().Desc))
		}
		if len(c.lines) > 0 {
			c.width = min(c.width, w-1)
			cols = append(cols, c)
		}
	}
	var out []string
	for len(cols) > 0 {
		n, used := 0, 1
		for n < len(cols) && (n == 0 || used+3+cols[n].width <= w) {
			if n > 0 {
				used += 3
			}
			used += cols[n].width
			n++
		}
		band := cols[:n]
		cols = cols[n:]
		rows := 0
		for _, c := range band {
			rows = max(rows, len(c.lines))
		}
		for r := 0; r < rows; r++ {
			var b strings.Builder
			b.WriteString(" ")
			for i, c := range band {
				if i > 0 {
					b.WriteString("   ")
				}
				cell := ""
				if r < len(c.lines) {
					cell = c.lines[r]
				}
				b.WriteString(view.Fit(cell, c.width))
			}
			out = append(out, strings.TrimRight(b.String(), " "))
		}
		if len(cols) > 0 {
			out = append(out, "")
		}
	}
	return out
}

var _ help.KeyMap = shellKeys{}
