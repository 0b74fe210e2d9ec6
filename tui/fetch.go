package tui

import (
	"context"
	"errors"
	"fmt"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
)

// Backend calls run here: one goroutine per call, a context the shell can
// cancel, progress coalesced to the latest report, and the result delivered
// back to the screen that asked, by its id.

type fetchID uint64

type fetch struct {
	id       fetchID
	owner    viewID // 0 for the shell's own work (re-run)
	key      string
	label    string
	quiet    bool
	cancel   context.CancelFunc
	progress model.Progress
}

type fetchKey struct {
	owner viewID
	key   string
}

// fetchProgressMsg carries a progress report and the command that waits for
// the next one.
type fetchProgressMsg struct {
	id   fetchID
	p    model.Progress
	next tea.Cmd
}

type fetchDoneMsg struct {
	id  fetchID
	msg tea.Msg
	err error
}

// rerunDoneMsg is the shell's own result of r.
type rerunDoneMsg struct{}

// startFetch runs f for the screen owner, cancelling an older fetch of the
// same screen and key.
func (m *Model) startFetch(owner viewID, f view.FetchMsg) tea.Cmd {
	if f.Run == nil {
		return nil
	}
	k := fetchKey{owner, f.Key}
	if old, ok := m.fetchKeys[k]; ok {
		m.dropFetch(old)
	}
	m.nextFetch++
	id := m.nextFetch
	ctx, cancel := context.WithCancel(m.base)
	m.fetches[id] = &fetch{id: id, owner: owner, key: f.Key, label: f.Label, quiet: f.Quiet, cancel: cancel}
	m.fetchKeys[k] = id
	m.settle()

	progress := make(chan model.Progress, 1)
	done := make(chan fetchDoneMsg, 1)
	report := func(p model.Progress) {
		// Keep only the latest report: the UI wants where the work is now.
		select {
		case <-progress:
		default:
		}
		select {
		case progress <- p:
		default:
		}
	}
	backend := m.backend
	m.work.Add(1)
	go func() {
		defer m.work.Done()
		defer cancel()
		msg, err := runSafely(ctx, f, backend, report)
		done <- fetchDoneMsg{id: id, msg: msg, err: err}
	}()
	return waitFetch(id, progress, done)
}

// runSafely turns a panic in a backend call into an error, so a bug in the
// data layer shows as a message instead of leaving the terminal raw.
func runSafely(ctx context.Context, f view.FetchMsg, b model.Backend, report func(model.Progress)) (msg tea.Msg, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s failed: %v", f.Label, r)
		}
	}()
	return f.Run(ctx, b, report)
}

func waitFetch(id fetchID, progress chan model.Progress, done chan fetchDoneMsg) tea.Cmd {
	return func() tea.Msg {
		select {
		case d := <-done:
			return d
		case p := <-progress:
			return fetchProgressMsg{id: id, p: p, next: waitFetch(id, progress, done)}
		}
	}
}

// dropFetch cancels a fetch and forgets it, so its late result is dropped.
func (m *Model) dropFetch(id fetchID) {
	f, ok := m.fetches[id]
	if !ok {
		return
	}
	f.cancel()
	delete(m.fetches, id)
	if m.fetchKeys[fetchKey{f.owner, f.key}] == id {
		delete(m.fetchKeys, fetchKey{f.owner, f.key})
	}
}

// cancelLoading cancels the long work in flight (esc while loading) and
// tells its screens.
func (m *Model) cancelLoading() tea.Cmd {
	var cmds []tea.Cmd
	var labels []string
	for id, f := range m.fetches {
		if f.quiet {
			continue
		}
		labels = append(labels, f.label)
		m.dropFetch(id)
		cmds = append(cmds, m.deliver(f.owner, view.FetchFailedMsg{Key: f.key, Err: fmt.Errorf("%s: %w", f.label, context.Canceled)}))
	}
	m.settle()
	if len(labels) > 0 {
		m.setNotice("cancelled "+labels[0], false)
	}
	return tea.Batch(cmds...)
}

// cancelOwner cancels every fetch of a screen that is closing.
func (m *Model) cancelOwner(owner viewID) {
	for id, f := range m.fetches {
		if f.owner == owner {
			m.dropFetch(id)
		}
	}
	m.settle()
}

func (m *Model) fetchDone(d fetchDoneMsg) tea.Cmd {
	f, ok := m.fetches[d.id]
	if !ok {
		return nil // superseded, cancelled, or its screen closed
	}
	m.dropFetch(d.id)
	defer m.settle()
	if d.err != nil {
		err := d.err
		if text, ok := readOnlyText(err); ok {
			// The backend's advice alone: labels before it would push the
			// way to edit off a narrow screen.
			m.setNotice(text, true)
			return m.deliver(f.owner, view.FetchFailedMsg{Key: f.key, Err: err})
		}
		if errors.Is(err, context.Canceled) {
			m.setNotice("cancelled "+f.label, false)
		} else {
			err = fmt.Errorf("%s: %w", f.label, err)
			if f.quiet {
				m.setNotice(err.Error(), true)
			} else {
				m.err = err
			}
		}
		return m.deliver(f.owner, view.FetchFailedMsg{Key: f.key, Err: err})
	}
	if !f.quiet {
		m.err = nil
	}
	if f.owner == 0 {
		return m.update(d.msg)
	}
	return m.deliver(f.owner, d.msg)
}

// rerun runs the backend's detection again over the current range, then
// tells every screen to reload.
func (m *Model) rerun() tea.Cmd {
	q := m.ctx.Query
	return m.startFetch(0, view.FetchMsg{
		Key:   "rerun",
		Label: "re-run of " + q.Job,
		Run: func(ctx context.Context, b model.Backend, progress func(model.Progress)) (tea.Msg, error) {
			if err := b.Run(ctx, q, progress); err != nil {
				return nil, err
			}
			return rerunDoneMsg{}, nil
		},
	})
}

// settle sets the shell's state from what is in flight and what failed.
func (m *Model) settle() {
	for _, f := range m.fetches {
		if !f.quiet {
			m.state = StateLoading
			return
		}
	}
	if m.err != nil {
		m.state = StateError
		return
	}
	m.state = StateReady
}

// loading returns the long fetch whose progress the status bar shows.
func (m *Model) loading() *fetch {
	var best *fetch
	for _, f := range m.fetches {
		if !f.quiet && (best == nil || f.id < best.id) {
			best = f
		}
	}
	return best
}
