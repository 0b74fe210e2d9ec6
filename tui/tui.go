// Package tui is the console's application shell: the program, the view
// stack with its breadcrumbs, the keys every screen shares, the status and
// hint bars, the ? help overlay, the : command line, the / filter, the
// clipboard, and the running of backend calls with progress and cancel.
//
// Screens live in views/ and follow the contract documented in package view:
// they are pushed on the stack, get keys the shell does not own, and ask for
// data with view.Fetch; the shell runs the call and routes the result back
// to the screen that asked, by its id, so a late answer never lands on
// another screen.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/auditlens/auditlens/views/anomaly"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/rarechart"
	"github.com/auditlens/auditlens/views/ratechart"
	"github.com/auditlens/auditlens/views/swimlane"
	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// State is the shell's explicit state: whether long work is in flight, the
// last one failed, or the console is ready.
type State int

const (
	StateReady State = iota
	StateLoading
	StateError
)

func (s State) String() string {
	switch s {
	case StateLoading:
		return "loading"
	case StateError:
		return "error"
	}
	return "ready"
}

// The shell's chrome: a breadcrumb line on top, a status line and a hint
// (or input) line at the bottom.
const (
	chromeLines   = 3
	minShellWidth = 40
	minShellLines = 4 // content lines
)

type viewID uint64

type entry struct {
	id viewID
	v  view.View
}

// routedMsg is a message produced by a screen's command, tagged with the
// screen's id.
type routedMsg struct {
	from viewID
	msg  tea.Msg
}

type inputMode int

const (
	modeNone inputMode = iota
	modeHelp
	modeCommand
	modeFilter
)

// Model is the root Bubble Tea model.
type Model struct {
	ctx     *view.Context
	backend model.Backend
	opts    Options
	out     io.Writer
	getenv  func(string) string
	keys    globalKeys

	stack  []entry
	nextID viewID

	width, height int
	state         State
	err           error
	notice        string
	noticeErr     bool

	base      context.Context
	stop      context.CancelFunc
	fetches   map[fetchID]*fetch
	fetchKeys map[fetchKey]fetchID
	nextFetch fetchID
	work      *sync.WaitGroup

	mode      inputMode
	input     view.LineInput
	comp      completion
	filterErr error
	helpTop   int

	caseNames []string // for completing :case; refreshed as : opens
}

// New builds the console over backend with the home screen (the swimlane)
// on its stack. ctx bounds every backend call.
func New(ctx context.Context, backend model.Backend, opts Options) (*Model, error) {
	if backend == nil {
		return nil, errors.New("the console needs a backend")
	}
	mode, err := ParseColorMode(opts.Color)
	if err != nil {
		return nil, err
	}
	loc, err := ParseTZ(opts.TZ)
	if err != nil {
		return nil, err
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	theme := opts.Theme
	if theme == nil {
		theme = ResolveTheme(mode, getenv)
	}
	jobs := opts.Jobs
	if len(jobs) == 0 {
		jobs = model.DefaultJobs()
	}
	q := model.Query{Job: opts.Job, Partition: opts.Partition, From: opts.From, To: opts.To, BucketSpan: opts.Bucket}
	if q.Job == "" {
		q.Job = jobs[0].ID
	}
	job, ok := model.FindJob(jobs, q.Job)
	if !ok {
		return nil, fmt.Errorf("unknown job %q: want one of %s", q.Job, jobIDs(jobs))
	}
	q.Scope = job.Scope
	if q.BucketSpan <= 0 {
		q.BucketSpan = DefaultBucket
	}
	if err := checkPartition(q.Partition); err != nil {
		return nil, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return nil, fmt.Errorf("the range ends (%s) before it starts (%s)", q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	out := opts.Output
	if out == nil {
		out = os.Stdout
	}
	base, stop := context.WithCancel(ctx)
	m := &Model{
		ctx:       &view.Context{Theme: theme, Location: loc, Jobs: jobs, Query: q, Now: now},
		backend:   backend,
		opts:      opts,
		out:       out,
		getenv:    getenv,
		keys:      newGlobalKeys(),
		base:      base,
		stop:      stop,
		fetches:   map[fetchID]*fetch{},
		fetchKeys: map[fetchKey]fetchID{},
		work:      &sync.WaitGroup{},
	}
	m.findCases()
	m.stack = []entry{m.newEntry(swimlane.New(m.ctx))}
	return m, nil
}

func jobIDs(jobs []model.Job) string {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	return strings.Join(ids, ", ")
}

func checkPartition(p string) error {
	if p != "" && p != model.PartitionNone {
		return fmt.Errorf("partition %q: want none, or nothing for per host or container", p)
	}
	return nil
}

func (m *Model) newEntry(v view.View) entry {
	m.nextID++
	return entry{id: m.nextID, v: v}
}

// Context is the shared context the screens see.
func (m *Model) Context() *view.Context { return m.ctx }

// State is the shell's current state.
func (m *Model) State() State { return m.state }

// Depth is the number of screens on the stack.
func (m *Model) Depth() int { return len(m.stack) }

// Top is the screen on top of the stack.
func (m *Model) Top() view.View { return m.top().v }

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd {
	e := m.top()
	return tag(e.id, e.v.Init())
}

// Shutdown cancels every backend call in flight and waits up to wait for
// them to return, so the process does not exit while the cache is being
// written.
func (m *Model) Shutdown(wait time.Duration) error {
	m.stop()
	done := make(chan struct{})
	go func() { m.work.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(wait):
		return fmt.Errorf("backend calls still running %s after cancel", wait)
	}
}

func (m *Model) top() *entry { return &m.stack[len(m.stack)-1] }

func (m *Model) find(id viewID) *entry {
	for i := range m.stack {
		if m.stack[i].id == id {
			return &m.stack[i]
		}
	}
	return nil
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	return m, m.update(msg)
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m.resize()
	case tea.KeyMsg:
		return m.key(msg)
	case routedMsg:
		return m.routed(msg)
	case fetchProgressMsg:
		if f, ok := m.fetches[msg.id]; ok {
			f.progress = msg.p
			return msg.next
		}
		return nil // a cancelled fetch: stop waiting on it
	case fetchDoneMsg:
		return m.fetchDone(msg)
	case rerunDoneMsg:
		m.setNotice("re-run done", false)
		return m.broadcast(view.RefreshMsg{})
	}
	if cmd, ok := m.caseResult(msg); ok {
		return cmd
	}
	// Anything else (e.g. from tea.Sequence, which escapes tagging) goes to
	// the screen on top.
	return m.deliver(m.top().id, msg)
}

// routed handles what a screen's command produced: navigation and fetches
// for the shell, anything else back to the screen that asked.
func (m *Model) routed(r routedMsg) tea.Cmd {
	switch msg := r.msg.(type) {
	case view.ChangedMsg:
		// Handled even from a screen that closed meanwhile: a form closes
		// itself and announces its change in one batch.
		return m.changed(msg.Text)
	case view.NoticeMsg:
		if msg.Err != nil {
			m.setNotice(noticeText(msg.Err), true)
		} else {
			m.setNotice(msg.Text, false)
		}
		return nil
	}
	e := m.find(r.from)
	if e == nil {
		return nil // the screen was closed: a late result goes nowhere
	}
	onTop := r.from == m.top().id
	switch msg := r.msg.(type) {
	case view.PushViewMsg:
		if onTop && msg.View != nil {
			return m.push(msg.View)
		}
		return nil
	case view.GoBackMsg:
		if onTop {
			return m.pop()
		}
		return nil
	case view.OpenAnomalyMsg:
		if onTop {
			return m.push(m.openAnomaly(msg.Anomaly))
		}
		return nil
	case view.SetQueryMsg:
		if onTop {
			return m.setQuery(msg.Query)
		}
		return nil
	case view.FetchMsg:
		return m.startFetch(r.from, msg)
	}
	return m.deliver(r.from, r.msg)
}

// openAnomaly builds the screen enter opens for an anomaly: the
// rare-process chart for a rare job, the rate drill-down for a rate job, or
// the anomaly's record when the backend offers no drill-down.
func (m *Model) openAnomaly(a model.Anomaly) view.View {
	if m.opts.OpenAnomaly != nil {
		if v := m.opts.OpenAnomaly(m.ctx, a); v != nil {
			return v
		}
	}
	if _, err := model.DrillDown(m.backend); err != nil || a.Entity == "" {
		return anomaly.New(m.ctx, a)
	}
	if a.Rare() {
		return rarechart.New(m.ctx, a)
	}
	return ratechart.New(m.ctx, a)
}

// deliver hands msg to one screen and tags what it returns.
func (m *Model) deliver(id viewID, msg tea.Msg) tea.Cmd {
	e := m.find(id)
	if e == nil || msg == nil {
		return nil
	}
	v, cmd := e.v.Update(msg)
	if v != nil {
		e.v = v
	}
	return tag(id, cmd)
}

// broadcast hands msg to every screen on the stack, bottom first.
func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.stack))
	for _, e := range m.stack {
		cmds = append(cmds, m.deliver(e.id, msg))
	}
	return tea.Batch(cmds...)
}

// tag wraps a screen's command so that its messages come back marked with
// the screen's id. Bubble Tea's own messages (quit, batches, sequences) pass
// through; a batch's commands are tagged one by one.
func tag(id viewID, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		msg := cmd()
		switch msg := msg.(type) {
		case nil:
			return nil
		case tea.BatchMsg:
			out := make(tea.BatchMsg, 0, len(msg))
			for _, c := range msg {
				if c != nil {
					out = append(out, tag(id, c))
				}
			}
			return out
		}
		if isTeaMsg(msg) {
			return msg
		}
		return routedMsg{from: id, msg: msg}
	}
}

func isTeaMsg(msg tea.Msg) bool {
	t := reflect.TypeOf(msg)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() == reflect.TypeOf(tea.QuitMsg{}).PkgPath()
}

// push opens v on top, carrying the selected time over.
func (m *Model) push(v view.View) tea.Cmd {
	if f, ok := m.top().v.(view.Focuser); ok {
		if t, ok := f.FocusTime(); ok {
			m.ctx.Focus = t
		}
	}
	e := m.newEntry(v)
	m.stack = append(m.stack, e)
	m.mode = modeNone
	if w, h, ok := m.contentSize(); ok {
		v.SetSize(w, h)
	}
	return tag(e.id, v.Init())
}

// pop closes the top screen (never the home screen) and tells the one below
// which time was selected last.
func (m *Model) pop() tea.Cmd {
	if len(m.stack) <= 1 {
		return nil
	}
	e := m.stack[len(m.stack)-1]
	m.cancelOwner(e.id)
	if f, ok := e.v.(view.Focuser); ok {
		if t, ok := f.FocusTime(); ok {
			m.ctx.Focus = t
		}
	}
	m.stack = m.stack[:len(m.stack)-1]
	m.mode = modeNone
	m.err = nil
	m.settle()
	if w, h, ok := m.contentSize(); ok {
		m.top().v.SetSize(w, h)
	}
	return m.deliver(m.top().id, view.ResumeMsg{})
}

// setQuery switches job, scope, partition or range after checking them.
func (m *Model) setQuery(q model.Query) tea.Cmd {
	job, ok := model.FindJob(m.ctx.Jobs, q.Job)
	if !ok {
		m.setNotice(fmt.Sprintf("unknown job %s", q.Job), true)
		return nil
	}
	q.Scope = job.Scope
	if q.BucketSpan <= 0 {
		q.BucketSpan = DefaultBucket
	}
	if err := checkPartition(q.Partition); err != nil {
		m.setNotice(err.Error(), true)
		return nil
	}
	if q == m.ctx.Query {
		return nil
	}
	m.ctx.Query = q
	m.err = nil
	m.settle()
	return m.broadcast(view.QueryChangedMsg{Query: q})
}

func (m *Model) setNotice(text string, isErr bool) {
	m.notice, m.noticeErr = text, isErr
}

// minSize is the smallest terminal the current screen can be drawn in.
func (m *Model) minSize() (int, int) {
	w, h := minShellWidth, minShellLines
	if ms, ok := m.top().v.(view.MinSizer); ok {
		vw, vh := ms.MinSize()
		w, h = max(w, vw), max(h, vh)
	}
	return w, h + chromeLines
}

func (m *Model) tooSmall() bool {
	w, h := m.minSize()
	return m.width < w || m.height < h
}

// contentSize is the screens' area; ok is false before the first size or
// below the minimum.
func (m *Model) contentSize() (int, int, bool) {
	if m.width <= 0 || m.height <= 0 || m.tooSmall() {
		return 0, 0, false
	}
	return m.width, m.height - chromeLines, true
}

// resize gives every screen the new content area, then tells each with a
// WindowSizeMsg of that size, so a screen whose data depends on its size can
// ask for it.
func (m *Model) resize() tea.Cmd {
	w, h, ok := m.contentSize()
	if !ok {
		return nil
	}
	m.helpTop = 0
	for _, e := range m.stack {
		e.v.SetSize(w, h)
	}
	return m.broadcast(tea.WindowSizeMsg{Width: w, Height: h})
}

// key routes one key press: ctrl+c always quits; an open overlay or input
// takes the key next; a screen typing text gets everything; then the
// shell's keys; then the screen.
func (m *Model) key(k tea.KeyMsg) tea.Cmd {
	g := m.keys
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste {
		// Keys typed faster than they are read (a slow link, tmux
		// send-keys) arrive as one message; each is its own key press,
		// and ":" may switch what the next ones mean.
		cmds := make([]tea.Cmd, 0, len(k.Runes))
		for _, r := range k.Runes {
			one := k
			one.Runes = []rune{r}
			cmds = append(cmds, m.key(one))
		}
		return tea.Batch(cmds...)
	}
	if key.Matches(k, g.Quit) {
		return m.quit()
	}
	m.notice = ""
	if m.tooSmall() {
		switch {
		case key.Matches(k, g.Back) && len(m.stack) == 1:
			return m.quit()
		case key.Matches(k, g.Back), key.Matches(k, g.Esc):
			return m.pop()
		}
		return nil
	}
	switch m.mode {
	case modeHelp:
		return m.helpKey(k)
	case modeCommand:
		return m.commandKey(k)
	case modeFilter:
		return m.filterKey(k)
	}
	top := m.top()
	if c, ok := top.v.(view.Capturer); ok && c.Capturing() {
		return m.deliver(top.id, k)
	}
	if k.Paste {
		return nil // pasted text means nothing outside a text field
	}
	filterable, _ := top.v.(view.Filterable)
	filtering := filterable != nil && filterable.Filter() != ""
	switch {
	case key.Matches(k, g.Esc):
		switch {
		case m.state == StateLoading:
			return m.cancelLoading()
		case m.state == StateError:
			m.err = nil
			m.settle()
			return nil
		case filtering:
			return m.deliver(top.id, view.FilterMsg{})
		case len(m.stack) > 1:
			return m.pop()
		}
		m.setNotice("q quits", false)
		return nil
	case key.Matches(k, g.Back):
		if len(m.stack) == 1 {
			return m.quit()
		}
		return m.pop()
	case key.Matches(k, g.Help):
		m.mode, m.helpTop = modeHelp, 0
		return nil
	case key.Matches(k, g.Command):
		m.mode = modeCommand
		m.input = view.LineInput{Prompt: ":"}
		m.comp = completion{}
		return m.refreshCaseNames()
	case key.Matches(k, g.Filter) && filterable != nil:
		m.mode = modeFilter
		m.input = view.LineInput{Prompt: "/"}
		m.input.SetValue(filterable.Filter())
		m.filterErr = nil
		return nil
	case filtering && key.Matches(k, g.NextMatch):
		return m.deliver(top.id, view.StepMatchMsg{})
	case filtering && key.Matches(k, g.PrevMatch):
		return m.deliver(top.id, view.StepMatchMsg{Backward: true})
	case key.Matches(k, g.Yank):
		return m.yank()
	case key.Matches(k, g.Rerun):
		return m.rerun()
	case key.Matches(k, g.PrevJob):
		return m.stepJob(-1)
	case key.Matches(k, g.NextJob):
		return m.stepJob(1)
	}
	return m.deliver(top.id, k)
}

func (m *Model) quit() tea.Cmd {
	m.stop() // cancels every backend call in flight
	return tea.Quit
}

func (m *Model) stepJob(d int) tea.Cmd {
	job, ok := model.StepJob(m.ctx.Jobs, m.ctx.Query.Job, d)
	if !ok || job.ID == m.ctx.Query.Job {
		m.setNotice("no other "+string(m.ctx.Query.Scope)+" job", false)
		return nil
	}
	q := m.ctx.Query
	q.Job = job.ID
	return m.setQuery(q)
}

func (m *Model) helpKey(k tea.KeyMsg) tea.Cmd {
	g := m.keys
	switch {
	case key.Matches(k, g.Help), key.Matches(k, g.Esc), key.Matches(k, g.Back):
		m.mode = modeNone
	case key.Matches(k, g.ScrollDown):
		m.helpTop++
	case key.Matches(k, g.ScrollUp):
		m.helpTop = max(m.helpTop-1, 0)
	}
	return nil
}

func (m *Model) filterKey(k tea.KeyMsg) tea.Cmd {
	g := m.keys
	top := m.top()
	switch {
	case key.Matches(k, g.Esc):
		m.mode = modeNone
		return m.deliver(top.id, view.FilterMsg{})
	case key.Matches(k, g.Accept):
		m.mode = modeNone
		return nil
	}
	if !m.input.Update(k) {
		return nil
	}
	text := m.input.Value()
	if text == "" {
		m.filterErr = nil
		return m.deliver(top.id, view.FilterMsg{})
	}
	re, err := compileFilter(text)
	if err != nil {
		m.filterErr = err
		return nil
	}
	m.filterErr = nil
	return m.deliver(top.id, view.FilterMsg{Text: text, Pattern: re})
}

// compileFilter reads a / filter as a regular expression, case-insensitive
// unless it has an upper-case letter (smart case, as in vim and less).
func compileFilter(text string) (*regexp.Regexp, error) {
	pattern := text
	if strings.ToLower(text) == text {
		pattern = "(?i)" + text
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	return re, nil
}

func (m *Model) yank() tea.Cmd {
	y, ok := m.top().v.(view.Yanker)
	if !ok {
		m.setNotice("nothing to copy here", false)
		return nil
	}
	text, what, ok := y.Yank()
	if !ok {
		m.setNotice("nothing selected to copy", false)
		return nil
	}
	if err := writeClipboard(m.out, text, m.getenv("TMUX") != ""); err != nil {
		m.setNotice(err.Error(), true)
		return nil
	}
	m.setNotice(fmt.Sprintf("copied the %s (%d bytes) through the terminal (OSC 52)", what, len(text)), false)
	return nil
}
