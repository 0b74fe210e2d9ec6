// Package view is the contract between the console's shell (package tui) and
// its screens (one package per screen under views/).
//
// # The view contract
//
// A screen is a View: a component with SetSize, Update, View and its own
// help.KeyMap, pushed on the shell's view stack. To add a screen:
//
//  1. Write a type implementing View; build it with the shared *Context (theme,
//     time zone, current query, jobs), e.g. New(ctx *view.Context, ...) *Model.
//  2. Open it from another screen by returning view.Push(v) from Update; the
//     shell gives it the content area's size, calls Init, draws its Title in
//     the breadcrumbs, and pops it on q/esc (GoBackMsg).
//
// Rules every screen keeps:
//
//   - Size: View never returns more than the height and width last given to
//     SetSize (the shell crops anything beyond, but a screen that relies on it
//     loses its bottom lines). SetSize can come at any time, with any size;
//     after it the shell also sends the screen a tea.WindowSizeMsg of the
//     same content size, so a screen whose data depends on its size can ask
//     for it from Update.
//   - Keys: Update only sees keys the shell does not own. The shell owns
//     ctrl+c, q, esc, ?, :, /, n and N (while a filter is set), y, r, [ and ];
//     a screen binds anything else and lists every binding in KeyMap, from
//     which the hint bar and the ? overlay are drawn, so they cannot drift.
//     While a screen reports Capturing (a text field has focus) it gets every
//     key but ctrl+c.
//   - Data: a screen never calls the backend, SQL or HTTP itself. It returns
//     Fetch(...) from Update; the shell runs the call off the UI goroutine with
//     a context it cancels on esc, on navigation away and on quit, shows its
//     progress, and delivers the result (or a FetchFailedMsg) to the screen
//     that asked, even if another screen is on top by then. A late result of
//     a screen that was closed is dropped; a newer fetch with the same key
//     supersedes (and cancels) an older one. The drill-down screens reach
//     the backend's drill-down side through OnDrillDown as Run, the case
//     and rule screens its case side through OnCases; the shell says
//     whether there is one in Context.Cases.
//   - Changes: a screen that changed what the backend answers (a rule, a
//     case, a note) returns Changed(text); the shell shows the text and
//     sends every screen a RefreshMsg, so all of them answer again.
//   - Messages: every command a screen returns is tagged with the screen's
//     identity by the shell, so its results come back to the same screen. Use
//     tea.Batch to combine commands; tea.Sequence escapes the tagging.
//   - Text: every string that comes from audit data (process names, paths,
//     host names, users, notes, error texts) is drawn through safe.Text.
//     Title returns raw text: the shell sanitizes it.
//   - Shared state: the *Context is written only by the shell; a screen reads
//     it while updating and drawing. Fetch functions run on other goroutines
//     and must capture what they need (e.g. a copy of the query) when built.
//
// Optional interfaces (Filterable, Yanker, Capturer, Statuser, Commander,
// Focuser, Legender, MinSizer) let a screen take part in the shell's /, y,
// :, status bar, shared selected time, ? legend and minimum size.
package view

import (
	"context"
	"regexp"
	"time"

	"github.com/auditlens/auditlens/views/model"
	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
)

// View is one screen on the shell's stack.
type View interface {
	// Init returns the screen's first commands, typically its first Fetch.
	Init() tea.Cmd
	// Update handles a message and returns the screen, which may be a new
	// value or the same pointer.
	Update(msg tea.Msg) (View, tea.Cmd)
	// View draws the screen within the size last given to SetSize.
	View() string
	// SetSize gives the screen its content area.
	SetSize(width, height int)
	// KeyMap is the screen's live key bindings, for hints and help.
	KeyMap() help.KeyMap
	// Title is the screen's breadcrumb, raw (the shell sanitizes it).
	Title() string
}

// Filterable screens narrow their current list by the / filter. They get
// FilterMsg and StepMatchMsg.
type Filterable interface {
	// FilterTarget names what the filter narrows, e.g. "lanes", "anomalies".
	FilterTarget() string
	// Filter is the filter in force, as typed; empty when none.
	Filter() string
}

// Yanker screens can hand the selected item to y, as JSON or text.
type Yanker interface {
	// Yank returns what to copy and a word for it ("anomaly"); ok is false
	// when nothing is selected.
	Yank() (text, what string, ok bool)
}

// Capturer screens have a text field that takes every key while focused.
type Capturer interface {
	Capturing() bool
}

// Statuser screens contribute to the status bar.
type Statuser interface {
	Status() Status
}

// Status is a screen's part of the status bar.
type Status struct {
	From, To time.Time // the range actually shown; zero when unknown
	Counts   string    // e.g. "1,000 hosts · 37 anomalies"
	// Suppressed is how many records suppression rules hide in what the
	// screen shows; negative when it could not be counted.
	Suppressed int
	// SuppressedShown says the hidden records are listed anyway, marked.
	SuppressedShown bool
}

// Commander screens add their own : commands. The shell completes and checks
// them, then sends the screen a CommandMsg.
type Commander interface {
	Commands() []Command
}

// Command is one : command.
type Command struct {
	Name string
	Args string // usage of the arguments, e.g. "NAME"
	Help string
	// Complete offers values for the argument being typed (prefix may be
	// empty); nil means the argument is free text.
	Complete func(prefix string) []string
	// CompleteArgs, when set, is used instead of Complete and also gets the
	// arguments typed before the one being completed, for commands whose
	// arguments depend on each other (:case save NAME FILE).
	CompleteArgs func(before []string, prefix string) []string
	// Check validates the arguments before the command is sent; nil accepts
	// anything.
	Check func(args []string) error
}

// Focuser screens have a selected time that should survive a drill-down and
// the way back.
type Focuser interface {
	FocusTime() (time.Time, bool)
}

// Legender screens explain their symbols (glyphs, marks) at the foot of the
// ? overlay.
type Legender interface {
	Legend() []string
}

// MinSizer screens need more than the shell's minimum content area.
type MinSizer interface {
	MinSize() (width, height int)
}

// Messages from a screen to the shell.
type (
	// PushViewMsg opens View on top of the asking screen.
	PushViewMsg struct{ View View }
	// GoBackMsg closes the asking screen (when it is on top).
	GoBackMsg struct{}
	// OpenAnomalyMsg asks the shell to open the screen for one anomaly (the
	// rare-process chart or the rate drill-down, by the anomaly's function).
	OpenAnomalyMsg struct{ Anomaly model.Anomaly }
	// SetQueryMsg asks the shell to look at another job, scope, partition or
	// range; the shell checks it and tells every screen with QueryChangedMsg.
	SetQueryMsg struct{ Query model.Query }
	// ChangedMsg says the asking screen changed what the backend answers
	// (a rule, a case, a note); the shell shows Text and tells every screen
	// with RefreshMsg. It is handled even when the screen closed meanwhile,
	// so a form can return tea.Batch(Back(), Changed(...)).
	ChangedMsg struct{ Text string }
	// NoticeMsg shows a short message (or an error) in the hint bar.
	NoticeMsg struct {
		Text string
		Err  error
	}
	// FetchMsg asks the shell to run a backend call; build it with Fetch.
	FetchMsg struct {
		// Key identifies the call within the screen; a newer fetch with the
		// same key cancels and supersedes an older one.
		Key string
		// Label says what is loading, e.g. "swimlane".
		Label string
		// Quiet fetches (quick lookups) do not put the shell in its loading
		// state and cannot be cancelled with esc.
		Quiet bool
		// Run calls the backend. It runs off the UI goroutine; its message is
		// delivered to the screen that asked.
		Run func(ctx context.Context, b model.Backend, progress func(model.Progress)) (tea.Msg, error)
	}
)

// Messages from the shell to a screen.
type (
	// QueryChangedMsg says the shell now looks at Query; reload.
	QueryChangedMsg struct{ Query model.Query }
	// RefreshMsg says the data was re-run or changed; reload what is
	// shown, keeping the analyst's place.
	RefreshMsg struct{}
	// FetchFailedMsg says a fetch of the screen failed or was cancelled
	// (errors.Is(Err, context.Canceled)).
	FetchFailedMsg struct {
		Key string
		Err error
	}
	// FilterMsg sets the / filter; a nil Pattern clears it.
	FilterMsg struct {
		Text    string
		Pattern *regexp.Regexp
	}
	// StepMatchMsg moves to the next (or previous) item matching the filter.
	StepMatchMsg struct{ Backward bool }
	// CommandMsg runs one of the screen's own : commands.
	CommandMsg struct {
		Name string
		Args []string
	}
	// ResumeMsg says the screen is on top again after the one above closed;
	// Context.Focus holds the selected time to return to.
	ResumeMsg struct{}
)

// Push returns the command that opens v on top of the current screen.
func Push(v View) tea.Cmd { return func() tea.Msg { return PushViewMsg{View: v} } }

// Back returns the command that closes the current screen.
func Back() tea.Cmd { return func() tea.Msg { return GoBackMsg{} } }

// Notice returns the command that shows text in the hint bar.
func Notice(text string) tea.Cmd { return func() tea.Msg { return NoticeMsg{Text: text} } }

// Failure returns the command that shows err in the hint bar.
func Failure(err error) tea.Cmd { return func() tea.Msg { return NoticeMsg{Err: err} } }

// Fetch returns the command that asks the shell to run a backend call.
func Fetch(f FetchMsg) tea.Cmd { return func() tea.Msg { return f } }

// Changed returns the command that tells the shell the data changed.
func Changed(text string) tea.Cmd { return func() tea.Msg { return ChangedMsg{Text: text} } }

// Send returns a command that delivers msg; for emitting typed messages.
func Send(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// OnDrillDown adapts a fetch that asks the backend's drill-down side to
// FetchMsg.Run, failing with model.ErrNoDrillDown when the backend has none.
func OnDrillDown(run func(ctx context.Context, d model.DrillDownBackend) (tea.Msg, error)) func(context.Context, model.Backend, func(model.Progress)) (tea.Msg, error) {
	return func(ctx context.Context, b model.Backend, _ func(model.Progress)) (tea.Msg, error) {
		d, err := model.DrillDown(b)
		if err != nil {
			return nil, err
		}
		return run(ctx, d)
	}
}

// OnCases adapts a fetch that asks the backend's case side to FetchMsg.Run,
// failing with model.ErrNoCases when the backend has none.
func OnCases(run func(ctx context.Context, cb model.CaseBackend) (tea.Msg, error)) func(context.Context, model.Backend, func(model.Progress)) (tea.Msg, error) {
	return func(ctx context.Context, b model.Backend, _ func(model.Progress)) (tea.Msg, error) {
		cb, err := model.Cases(b)
		if err != nil {
			return nil, err
		}
		return run(ctx, cb)
	}
}
