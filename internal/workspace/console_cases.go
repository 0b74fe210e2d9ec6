package workspace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/views/model"
)

// The console's questions about cases and suppression rules. The screens
// that ask them call these methods off the UI goroutine, like the Backend's.
// Anomaly ids are model.Anomaly.ID, the same as AnomalyID and as scan's
// NDJSON anomaly_id.

// readOnlyAdvice tells an analyst who edits a case file opened read-only how
// to edit it.
func readOnlyAdvice(err error) error {
	if errors.Is(err, cache.ErrReadOnly) {
		return fmt.Errorf("read-only case: to change it, open it with auditlens open FILE --edit (%w)", err)
	}
	return err
}

// CaseFile says whether the console is open on a case file, and which.
func (c *Console) CaseFile() (cache.CaseFile, bool) {
	if c.ws.pinned == nil {
		return cache.CaseFile{}, false
	}
	return c.ws.pinned.file, true
}

// findAnomaly finds a record of the console's current range by its id: the
// remembered scan when it is of the anomaly's job, else the job's scan over
// the same range and settings (without replacing the remembered one).
func (c *Console) findAnomaly(ctx context.Context, anomalyID string) (engine.Record, Scan, Outcome, error) {
	jobID, err := JobOfAnomaly(anomalyID)
	if err != nil {
		return engine.Record{}, Scan{}, Outcome{}, err
	}
	c.mu.Lock()
	last, loads := c.last, c.settings.Loads
	c.mu.Unlock()
	if last == nil {
		return engine.Record{}, Scan{}, Outcome{}, errors.New("no swimlane shown yet: nothing to pick an anomaly from")
	}
	q := last.query
	q.Job = jobID
	job, err := c.job(q)
	if err != nil {
		return engine.Record{}, Scan{}, Outcome{}, err
	}
	s := Scan{Job: job, Options: c.settings.Options, From: q.From, To: q.To, Selection: c.settings.Selection, Loads: loads}
	r, out, err := c.ws.FindAnomaly(ctx, s, anomalyID)
	return r, s, out, err
}

// AddToCase adds an anomaly of the current range to the named case
// (creating it). A note, when given, becomes the anomaly's triage note.
func (c *Console) AddToCase(ctx context.Context, caseName, anomalyID, note string) error {
	r, s, out, err := c.findAnomaly(ctx, anomalyID)
	if err != nil {
		return err
	}
	if err := c.ws.AddToCase(ctx, caseName, s, out, r, note); err != nil {
		return readOnlyAdvice(err)
	}
	if note != "" {
		return c.refreshTriage(ctx, r.JobID)
	}
	return nil
}

// refreshTriage re-reads the remembered scan's triage after a note changed
// outside SetTriage.
func (c *Console) refreshTriage(ctx context.Context, jobID string) error {
	tr, err := c.ws.Store.TriageFor(ctx, jobID)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil && c.last.job.ID == jobID {
		c.last.triage = tr
	}
	return nil
}

// Cases lists the cases of the store, by name.
func (c *Console) Cases(ctx context.Context) ([]cache.Case, error) { return c.ws.Store.Cases(ctx) }

// CaseAnomalies lists a case's anomalies as table rows, with their triage,
// in time order; the scores are those saved with the case.
func (c *Console) CaseAnomalies(ctx context.Context, name string) ([]model.Anomaly, error) {
	cs, err := c.ws.Case(ctx, name)
	if err != nil {
		return nil, err
	}
	triage := map[string]map[string]cache.Triage{}
	var out []model.Anomaly
	for _, e := range cs.Entries {
		tr, ok := triage[e.Record.JobID]
		if !ok {
			if tr, err = c.ws.Store.TriageFor(ctx, e.Record.JobID); err != nil {
				return nil, err
			}
			triage[e.Record.JobID] = tr
		}
		out = append(out, toAnomaly(e.Record, e.Scan.Job, tr[e.ID]))
	}
	slices.SortStableFunc(out, func(a, b model.Anomaly) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// RemoveFromCase takes an anomaly out of a case.
func (c *Console) RemoveFromCase(ctx context.Context, name, anomalyID string) error {
	return readOnlyAdvice(c.ws.Store.RemoveFromCase(ctx, name, anomalyID))
}

// SaveCase writes a case as a case file (see Workspace.SaveCase).
func (c *Console) SaveCase(ctx context.Context, name, path string, overwrite bool) (cache.SavedCase, error) {
	return c.ws.SaveCase(ctx, name, path, overwrite)
}

// SuppressAnomaly makes a rule from an anomaly of the current range: its
// executable (a rare anomaly's value, a rate anomaly's single executable
// influencer), the job's scope, and entityPattern ("" for every host or
// container of the scope, or a pattern such as web-*). action is
// cache.RuleSkipResult or cache.RuleSkipModelUpdate; a zero until means for
// good. The swimlane is answered again at once with the rule in force.
func (c *Console) SuppressAnomaly(ctx context.Context, anomalyID, action, entityPattern string, until time.Time) (cache.Rule, error) {
	r, s, _, err := c.findAnomaly(ctx, anomalyID)
	if err != nil {
		return cache.Rule{}, err
	}
	exes := recordExecutables(r)
	if len(exes) != 1 {
		return cache.Rule{}, fmt.Errorf("this anomaly is about %d executables; a rule names one (add rules with auditlens rules add)", len(exes))
	}
	rule, err := c.ws.SaveRule(ctx, cache.Rule{Executable: exes[0], Scope: string(s.Job.Scope), Entity: entityPattern,
		Action: action, Until: until, Note: "from anomaly " + anomalyID})
	if err != nil {
		return rule, readOnlyAdvice(err)
	}
	return rule, c.rescan(ctx)
}

// Rules lists every suppression rule, active or not, oldest first.
func (c *Console) Rules(ctx context.Context) ([]cache.Rule, error) { return c.ws.Store.Rules(ctx) }

// UpdateRule stores an edited rule (a new one when it has no id) and answers
// the swimlane again.
func (c *Console) UpdateRule(ctx context.Context, r cache.Rule) (cache.Rule, error) {
	r, err := c.ws.SaveRule(ctx, r)
	if err != nil {
		return r, readOnlyAdvice(err)
	}
	return r, c.rescan(ctx)
}

// RemoveRule deletes a rule; the records it hid are back at once.
func (c *Console) RemoveRule(ctx context.Context, id string) error {
	if err := c.ws.Store.RemoveRule(ctx, id); err != nil {
		return readOnlyAdvice(err)
	}
	return c.rescan(ctx)
}

// rescan answers the remembered question again, so the swimlane, the table
// and the drill-downs see the rules now in force. Result rules need no new
// detection; model rules run the job (or find its cached results).
func (c *Console) rescan(ctx context.Context) error {
	c.mu.Lock()
	last := c.last
	c.last = nil
	c.mu.Unlock()
	if last == nil {
		return nil
	}
	_, err := c.scan(ctx, last.query, nil)
	return err
}

// SuppressedCount is how many records the rules hide in the swimlane of q
// ("3 suppressed" in the status bar).
func (c *Console) SuppressedCount(ctx context.Context, q model.Query) (int, error) {
	s, err := c.scan(ctx, q, nil)
	if err != nil {
		return 0, err
	}
	return len(s.out.Suppressed), nil
}

// SuppressedAnomaly is a hidden record with the rule that hides it.
type SuppressedAnomaly struct {
	model.Anomaly
	Rule string
}

// SuppressedAnomalies lists the hidden records of one selection of the
// swimlane on screen, for a "show suppressed" view.
func (c *Console) SuppressedAnomalies(ctx context.Context, q model.AnomalyQuery) ([]SuppressedAnomaly, error) {
	c.mu.Lock()
	s := c.last
	c.mu.Unlock()
	if s == nil || s.job.ID != q.Job {
		return nil, errors.New("no swimlane of this job shown yet")
	}
	var out []SuppressedAnomaly
	for _, sr := range s.out.Suppressed {
		t := time.UnixMilli(sr.Record.Timestamp)
		if (!q.From.IsZero() && t.Before(q.From)) || (!q.To.IsZero() && !t.Before(q.To)) {
			continue
		}
		if q.Entity != "" && !slices.Contains(recordEntities(sr.Record), q.Entity) {
			continue
		}
		out = append(out, SuppressedAnomaly{Anomaly: toAnomaly(sr.Record, s.job, s.triage[AnomalyID(sr.Record)]), Rule: sr.Rule})
	}
	return out, nil
}
