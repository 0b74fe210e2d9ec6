package workspace

import (
	"context"
	"errors"
	"fmt"
	"os"
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
// to edit it. The advice comes first and stays short: the console shows it
// as it is on terminals 80 cells wide.
func readOnlyAdvice(err error) error {
	if errors.Is(err, cache.ErrReadOnly) {
		return &model.ReadOnlyError{Advice: "read-only case file: to change it, reopen it with --edit (auditlens open FILE --edit)", Err: err}
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
	// Like the swimlane's scan, from the start of the data (see Console.scan).
	s := Scan{Job: job, Options: c.settings.Options, To: q.To, Selection: c.settings.Selection, Loads: loads}
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
	return c.suppressAnomaly(ctx, anomalyID, action, entityPattern, until, "")
}

// suppressAnomaly is SuppressAnomaly with the analyst's note; without one
// the rule notes the anomaly it came from.
func (c *Console) suppressAnomaly(ctx context.Context, anomalyID, action, entityPattern string, until time.Time, note string) (cache.Rule, error) {
	if note == "" {
		note = "from anomaly " + anomalyID
	}
	r, s, _, err := c.findAnomaly(ctx, anomalyID)
	if err != nil {
		return cache.Rule{}, err
	}
	exes := recordExecutables(r)
	if len(exes) != 1 {
		return cache.Rule{}, fmt.Errorf("this anomaly is about %d executables; a rule names one (add rules with auditlens rules add)", len(exes))
	}
	rule, err := c.ws.SaveRule(ctx, cache.Rule{Executable: exes[0], Scope: string(s.Job.Scope), Entity: entityPattern,
		Action: action, Until: until, Note: note})
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
	if last != nil {
		// Questions asked meanwhile get the old answers rather than none:
		// with no scan remembered, the table's questions would scan the
		// job over their own (default) range and settle on it. The copy's
		// empty key is never reused, so scan answers afresh.
		stale := *last
		stale.key = ""
		c.last = &stale
	}
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

// The console's case side in the console's own terms (model.CaseBackend):
// thin adapters over the methods above, mapping cache types to view models.

// CaseFileInfo implements model.CaseBackend.
func (c *Console) CaseFileInfo() (model.CaseFile, bool) {
	f, ok := c.CaseFile()
	if !ok {
		return model.CaseFile{}, false
	}
	return model.CaseFile{Name: f.Case, ReadOnly: c.ws.Store.ReadOnly(), SavedAt: f.SavedAt, From: f.From, To: f.To}, true
}

// Writable implements model.CaseBackend: nil unless the store was opened
// read-only.
func (c *Console) Writable() error {
	if !c.ws.Store.ReadOnly() {
		return nil
	}
	err := fmt.Errorf("%s: %w", c.ws.Store.Path(), cache.ErrReadOnly)
	if c.ws.pinned == nil {
		return err
	}
	return readOnlyAdvice(err)
}

// CaseList implements model.CaseBackend.
func (c *Console) CaseList(ctx context.Context) ([]model.Case, error) {
	cases, err := c.Cases(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]model.Case, len(cases))
	for i, cs := range cases {
		out[i] = model.Case{Name: cs.Name, Summary: cs.Summary, Anomalies: cs.Anomalies, Created: cs.Created, Updated: cs.Updated}
	}
	return out, nil
}

// DeleteCase implements model.CaseBackend.
func (c *Console) DeleteCase(ctx context.Context, name string) error {
	return readOnlyAdvice(c.ws.Store.DeleteCase(ctx, name))
}

// SaveCaseFile implements model.CaseBackend.
func (c *Console) SaveCaseFile(ctx context.Context, name, path string, overwrite bool) (model.SavedCase, error) {
	saved, err := c.SaveCase(ctx, name, path, overwrite)
	if err != nil {
		return model.SavedCase{}, err
	}
	return model.SavedCase{Path: saved.Path, Anomalies: saved.Anomalies, Counts: saved.Counts, Events: saved.Events,
		Size: saved.Size, FleetCounts: saved.FleetCounts}, nil
}

// Suppress implements model.CaseBackend.
func (c *Console) Suppress(ctx context.Context, anomalyID string, s model.Suppression) (model.Rule, error) {
	r, err := c.suppressAnomaly(ctx, anomalyID, s.Action, s.Entity, s.Until, s.Note)
	if err != nil {
		return model.Rule{}, err
	}
	return c.modelRule(r), nil
}

// RuleList implements model.CaseBackend.
func (c *Console) RuleList(ctx context.Context) ([]model.Rule, error) {
	rules, err := c.Rules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]model.Rule, len(rules))
	for i, r := range rules {
		out[i] = c.modelRule(r)
	}
	return out, nil
}

// EditRule implements model.CaseBackend.
func (c *Console) EditRule(ctx context.Context, r model.Rule) (model.Rule, error) {
	stored, err := c.UpdateRule(ctx, cache.Rule{ID: r.ID, Executable: r.Executable, Scope: r.Scope, Entity: r.Entity,
		Action: r.Action, Until: r.Until, Note: r.Note, Created: r.Created})
	if err != nil {
		return model.Rule{}, err
	}
	return c.modelRule(stored), nil
}

// ExportRules implements model.CaseBackend: the rule file is written with
// mode 0600, as the command line writes it.
func (c *Console) ExportRules(ctx context.Context, path string) (int, error) {
	rules, err := c.ws.Store.Rules(ctx)
	if err != nil {
		return 0, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, fmt.Errorf("export rules: %w", err)
	}
	if err := writeRuleFile(f, rules); err != nil {
		f.Close()
		return 0, fmt.Errorf("export rules to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("export rules to %s: %w", path, err)
	}
	return len(rules), nil
}

// ImportRules implements model.CaseBackend; the swimlane is answered again
// with the imported rules in force.
func (c *Console) ImportRules(ctx context.Context, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("import rules: %w", err)
	}
	defer f.Close()
	rules, err := ParseRules(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	stored, err := c.ws.ImportRules(ctx, rules)
	if err != nil {
		return len(stored), readOnlyAdvice(err)
	}
	return len(stored), c.rescan(ctx)
}

// SuppressedRecords implements model.CaseBackend.
func (c *Console) SuppressedRecords(ctx context.Context, q model.AnomalyQuery) ([]model.Anomaly, error) {
	hidden, err := c.SuppressedAnomalies(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]model.Anomaly, len(hidden))
	for i, h := range hidden {
		out[i] = h.Anomaly
		out[i].SuppressedBy = h.Rule
	}
	return out, nil
}

// modelRule maps a stored rule, counting the records of the remembered scan
// it hides.
func (c *Console) modelRule(r cache.Rule) model.Rule {
	out := model.Rule{ID: r.ID, Executable: r.Executable, Scope: r.Scope, Entity: r.Entity, Action: r.Action,
		Until: r.Until, Note: r.Note, Created: r.Created, Updated: r.Updated}
	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	if last != nil {
		for _, s := range last.out.Suppressed {
			if s.Rule == r.ID {
				out.Hides++
			}
		}
	}
	return out
}

var _ model.CaseBackend = (*Console)(nil)

// The console's rule actions are the cache's, word for word: a mismatch
// repeats the key false and fails to compile.
var _ = map[bool]struct{}{
	model.RuleSkipResult == cache.RuleSkipResult && model.RuleSkipModelUpdate == cache.RuleSkipModelUpdate && model.RuleScopeAny == cache.RuleScopeAny: {},
	false: {},
}
