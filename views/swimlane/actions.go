package swimlane

// What the analyst does to the anomalies: triage, notes, filters and the
// screen's own : commands.

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/timeaxis"
	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
)

func (m *Model) triage(st model.TriageState) tea.Cmd {
	a := m.selected()
	if a == nil {
		return view.Notice("no anomaly selected")
	}
	return m.sendTriage(*a, st, a.Triage.Note)
}

func (m *Model) sendTriage(a model.Anomaly, st model.TriageState, note string) tea.Cmd {
	id := a.ID
	t := model.Triage{State: st, Note: note}
	return view.Fetch(view.FetchMsg{
		Key:   "triage " + id,
		Label: "triage",
		Quiet: true,
		Run: func(ctx context.Context, b model.Backend, _ func(model.Progress)) (tea.Msg, error) {
			got, err := b.SetTriage(ctx, id, t)
			if err != nil {
				return nil, fmt.Errorf("triage of %s: %w", safe.Text(a.FoundFor()), err)
			}
			return triagedMsg{id: id, triage: got}, nil
		},
	})
}

// applyTriage records a stored verdict in the table and in the swimlane's
// marks. The table holds every anomaly of the selected column, so the
// cell's set of states can be rebuilt exactly from its rows.
func (m *Model) applyTriage(id string, t model.Triage) tea.Cmd {
	var changed *model.Anomaly
	for i := range m.rows {
		if m.rows[i].ID == id {
			m.rows[i].Triage = t
			changed = &m.rows[i]
		}
	}
	if changed == nil || m.data == nil {
		return nil
	}
	if li, ok := m.byEntity[changed.Entity]; ok && m.data.Lanes[li].Scope == changed.Scope {
		if b, ok := m.data.Axis.BucketAt(changed.Time); ok {
			lane := &m.data.Lanes[li]
			if lane.States == nil {
				lane.States = make([]model.StateSet, m.data.Axis.Buckets)
			}
			var set model.StateSet
			for i := range m.rows {
				r := &m.rows[i]
				if rb, ok := m.data.Axis.BucketAt(r.Time); ok && rb == b && r.Entity == changed.Entity {
					set = set.With(r.Triage.State)
				}
			}
			lane.States[b] = set
			m.laneStates[li] = 0
			for _, st := range lane.States {
				m.laneStates[li] |= st
			}
		}
	}
	keep := changed.ID
	m.refilterRows()
	for i, r := range m.shownRows {
		if m.rows[r].ID == keep {
			m.rowSel = i
		}
	}
	m.scroll()
	what := safe.Text(changed.Entity) + " " + safe.Text(changed.FoundFor())
	if changed.Executable == "" {
		what = safe.Text(changed.Entity)
	}
	return view.Notice(what + ": " + t.State.String())
}

func (m *Model) cycleStateFilter() tea.Cmd {
	states := model.TriageStates()
	switch {
	case !m.stateFilter.on:
		m.stateFilter = stateFilter{on: true, state: states[0]}
	case int(m.stateFilter.state) == len(states)-1:
		m.stateFilter = stateFilter{}
	default:
		m.stateFilter.state++
	}
	return m.applyStateFilter()
}

func (m *Model) applyStateFilter() tea.Cmd {
	m.resort()
	m.refilterRows()
	m.scroll()
	return tea.Batch(m.selectionChanged(), view.Notice("state: "+m.stateFilter.String()))
}

func (m *Model) setFilter(text string, re *regexp.Regexp) tea.Cmd {
	f := m.activeFilter()
	f.text, f.re = text, re
	if re == nil {
		f.text = ""
	}
	if m.data == nil {
		return nil
	}
	if m.focus == tablePane {
		m.refilterRows()
		m.scroll()
		return nil
	}
	m.resort()
	if m.row > 0 && m.indexOf(m.entity) < 0 {
		// The lane under the cursor was filtered away: take the first match.
		m.row = min(1, len(m.shown))
		m.entity = m.rowEntity()
	}
	m.scroll()
	return m.selectionChanged()
}

func (m *Model) command(c view.CommandMsg) tea.Cmd {
	arg := ""
	if len(c.Args) > 0 {
		arg = c.Args[0]
	}
	switch c.Name {
	case "host":
		return m.goTo(model.ScopeHost, arg)
	case "container":
		return m.goTo(model.ScopeContainer, arg)
	case "state":
		if arg == "all" {
			m.stateFilter = stateFilter{}
		} else {
			st, err := model.ParseTriageState(arg)
			if err != nil {
				return view.Failure(err)
			}
			m.stateFilter = stateFilter{on: true, state: st}
		}
		return m.applyStateFilter()
	case "sort":
		m.sort = map[string]sortOrder{"time": bySelectedTime, "max": byMaxScore, "name": byName}[arg]
		m.resort()
		return view.Notice("lanes sorted by " + m.sortDescription())
	case "suppressed":
		return m.setShowSuppressed(arg == "on")
	}
	return nil
}

// setShowSuppressed lists (or stops listing) the records the rules hide
// in the table, and asks for the selection's rows again.
func (m *Model) setShowSuppressed(on bool) tea.Cmd {
	if !m.ctx.Cases {
		return view.Failure(model.ErrNoCases)
	}
	m.showSuppressed = on
	text := "suppressed records hidden"
	if on {
		text = "suppressed records listed, marked supp"
		if m.suppressed == 0 {
			text = "no record is suppressed in this swimlane; any would be listed, marked supp"
		}
	}
	if m.data == nil {
		return view.Notice(text)
	}
	m.rowsFor = selection{}
	return tea.Batch(m.fetchRows(), view.Notice(text))
}

// goTo puts the cursor on an entity's lane (and on its highest bucket when
// it has nothing at the selected time), switching between hosts and
// containers first when needed.
func (m *Model) goTo(scope model.Scope, name string) tea.Cmd {
	if m.ctx.Query.Scope != scope {
		job, ok := model.SiblingJob(m.ctx.Jobs, m.ctx.Query.Job)
		if !ok || job.Scope != scope {
			return view.Failure(fmt.Errorf("no %s job to show %s in", scope, safe.Text(name)))
		}
		m.pending = name
		q := m.ctx.Query
		q.Job, q.Scope = job.ID, job.Scope
		return view.Send(view.SetQueryMsg{Query: q})
	}
	if m.data == nil {
		m.pending = name
		return nil
	}
	li, ok := m.byEntity[name]
	if !ok {
		return view.Failure(fmt.Errorf("no %s named %s in this range", scope, safe.Text(name)))
	}
	if m.laneFilter.re != nil && !m.laneFilter.re.MatchString(name) {
		m.laneFilter = filter{}
	}
	if m.stateFilter.on && !m.laneStates[li].Has(m.stateFilter.state) {
		m.stateFilter = stateFilter{}
	}
	m.entity, m.row = name, -1
	lane := &m.data.Lanes[li]
	if mergeCell(lane.Scores, lane.States, m.cursorCol(), m.z(), m.stateFilter).score == 0 && m.laneMax[li] > 0 {
		// Nothing at the selected time: go to the lane's highest bucket,
		// which is what the analyst is after.
		m.cursorBucket = hottest(lane.Scores)
	}
	m.resort()
	m.focus = lanesPane
	return m.selectionChanged()
}

func (m *Model) toggleScope() tea.Cmd {
	job, ok := model.SiblingJob(m.ctx.Jobs, m.ctx.Query.Job)
	if !ok {
		return view.Failure(fmt.Errorf("no %s job configured", m.ctx.Query.Scope.Other()))
	}
	q := m.ctx.Query
	q.Job, q.Scope = job.ID, job.Scope
	return view.Send(view.SetQueryMsg{Query: q})
}

func thousands(n int) string { return view.Thousands(n) }

func formatSpan(d time.Duration) string { return timeaxis.FormatSpan(d) }

// Legend implements view.Legender: what the swimlane's marks mean.
func (m *Model) Legend() []string {
	return []string{
		"cells: (blank) none · . low · : warning · + minor · # major · @ critical (score 0-100: <3, <25, <50, <75, 75+)",
		"marks: ! escalated anomaly · - all put aside (acknowledged or false positive) · > selected lane · ^ selected time",
		"table: state new, ack, fp, esc or supp (hidden by a rule; . lists them); * has a note · enter on a lane: its anomalies",
	}
}
