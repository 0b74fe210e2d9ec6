package tui

// TEST DOUBLE. The fake backend's case side: cases of the fake's records
// and suppression rules that hide them, answered the way the real backend
// is specified to (skip_result rules in force hide every record whose
// executables all match, on the hosts or containers that match; the fake
// ignores skip_model_update, which only changes scores). It can be told to
// run on a read-only case file, refusing every change.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/auditlens/auditlens/views/model"
)

type fakeCase struct {
	summary          string
	created, updated time.Time
	ids              []string
}

// seedCases gives the fake two cases and two rules that hide nothing: an
// expired one and a skip_model_update one.
func (b *fakeBackend) seedCases() {
	b.cases = map[string]*fakeCase{
		"INC-42":       {summary: "nc and a copy spree on the web tier", created: at(1, 20), updated: testNow.Add(-3 * time.Hour), ids: []string{"r1", "h1"}},
		"patch-review": {created: at(0, 12), updated: at(1, 12), ids: []string{"r8"}},
	}
	b.rules = []model.Rule{
		{ID: "r0a1b2c3d", Executable: "/usr/bin/apt", Scope: "host", Action: model.RuleSkipResult,
			Until: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Note: "october patching", Created: at(-40, 0), Updated: at(-40, 0)},
		{ID: "r4e5f6a7b", Executable: "/usr/bin/rsync", Scope: "host", Entity: "backup-*", Action: model.RuleSkipModelUpdate,
			Note: "nightly backups", Created: at(-3, 0), Updated: at(-3, 0)},
	}
}

// globRE compiles a rule pattern: * any run, ? one character, \ quotes.
func globRE(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '*':
			b.WriteString(".*")
		case c == '?':
			b.WriteString(".")
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile("(?s)" + b.String())
}

func recordExecutables(a model.Anomaly) []string {
	if a.Executable != "" {
		return []string{a.Executable}
	}
	for _, in := range a.Influencers {
		if in.Field == "process.executable" {
			return in.Values
		}
	}
	return nil
}

// hiddenBy is the rule that hides a record; the caller holds b.mu.
func (b *fakeBackend) hiddenBy(a model.Anomaly) (string, bool) {
	for _, r := range b.rules {
		if r.Action != model.RuleSkipResult || !r.Active(testNow) {
			continue
		}
		if r.Scope != model.RuleScopeAny && r.Scope != string(a.Scope) {
			continue
		}
		if r.Entity != "" && !globRE(r.Entity).MatchString(a.Entity) {
			continue
		}
		exes := recordExecutables(a)
		re := globRE(r.Executable)
		if len(exes) > 0 && !slices.ContainsFunc(exes, func(e string) bool { return !re.MatchString(e) }) {
			return r.ID, true
		}
	}
	return "", false
}

func (b *fakeBackend) change() error {
	if b.readOnly != nil {
		return b.readOnly
	}
	return nil
}

func (b *fakeBackend) record(id string) (*model.Anomaly, error) {
	for i := range b.records {
		if b.records[i].ID == id {
			return &b.records[i], nil
		}
	}
	return nil, fmt.Errorf("no anomaly %s", id)
}

func (b *fakeBackend) CaseFileInfo() (model.CaseFile, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.caseFile, b.caseFile.Name != ""
}

func (b *fakeBackend) Writable() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readOnly
}

func (b *fakeBackend) CaseList(ctx context.Context) ([]model.Case, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []model.Case
	for name, c := range b.cases {
		out = append(out, model.Case{Name: name, Summary: c.summary, Anomalies: len(c.ids), Created: c.created, Updated: c.updated})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, ctx.Err()
}

func (b *fakeBackend) CaseAnomalies(ctx context.Context, name string) ([]model.Anomaly, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.cases[name]
	if !ok {
		return nil, fmt.Errorf("no such case: %s", name)
	}
	var out []model.Anomaly
	for _, id := range c.ids {
		r, err := b.record(id)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	slices.SortStableFunc(out, func(x, y model.Anomaly) int { return x.Time.Compare(y.Time) })
	return out, ctx.Err()
}

func (b *fakeBackend) AddToCase(ctx context.Context, caseName, anomalyID, note string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.change(); err != nil {
		return err
	}
	r, err := b.record(anomalyID)
	if err != nil {
		return err
	}
	c, ok := b.cases[caseName]
	if !ok {
		c = &fakeCase{created: testNow}
		b.cases[caseName] = c
	}
	c.updated = testNow
	if !slices.Contains(c.ids, anomalyID) {
		c.ids = append(c.ids, anomalyID)
	}
	if note != "" {
		r.Triage.Note = note
	}
	return nil
}

func (b *fakeBackend) RemoveFromCase(ctx context.Context, name, anomalyID string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.change(); err != nil {
		return err
	}
	c, ok := b.cases[name]
	if !ok {
		return fmt.Errorf("no such case: %s", name)
	}
	c.ids = slices.DeleteFunc(c.ids, func(id string) bool { return id == anomalyID })
	return nil
}

func (b *fakeBackend) DeleteCase(ctx context.Context, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.change(); err != nil {
		return err
	}
	if _, ok := b.cases[name]; !ok {
		return fmt.Errorf("no such case: %s", name)
	}
	delete(b.cases, name)
	return nil
}

func (b *fakeBackend) SaveCaseFile(ctx context.Context, name, path string, overwrite bool) (model.SavedCase, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.cases[name]
	if !ok {
		return model.SavedCase{}, fmt.Errorf("no such case: %s", name)
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if !overwrite {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return model.SavedCase{}, err
	}
	n, err := fmt.Fprintf(f, "case %s: %s\n", name, strings.Join(c.ids, ","))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return model.SavedCase{}, err
	}
	b.saved = append(b.saved, path)
	return model.SavedCase{Path: path, Anomalies: len(c.ids), Events: 42, Size: int64(n)}, nil
}

func (b *fakeBackend) Suppress(ctx context.Context, anomalyID string, s model.Suppression) (model.Rule, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.change(); err != nil {
		return model.Rule{}, err
	}
	a, err := b.record(anomalyID)
	if err != nil {
		return model.Rule{}, err
	}
	exe, ok := model.SuppressibleExecutable(*a)
	if !ok {
		return model.Rule{}, errors.New("this anomaly is about several executables")
	}
	if s.Note == "" {
		s.Note = "from anomaly " + anomalyID
	}
	b.nextRule++
	r := model.Rule{ID: fmt.Sprintf("rfake%04d", b.nextRule), Executable: exe, Scope: string(a.Scope), Entity: s.Entity,
		Action: s.Action, Until: s.Until, Note: s.Note, Created: testNow, Updated: testNow}
	b.rules = append(b.rules, r)
	return b.withHides(r), nil
}

// withHides counts the records a rule hides among every record; the caller
// holds b.mu.
func (b *fakeBackend) withHides(r model.Rule) model.Rule {
	r.Hides = 0
	for _, a := range b.records {
		if id, ok := b.hiddenBy(a); ok && id == r.ID {
			r.Hides++
		}
	}
	return r
}

func (b *fakeBackend) RuleList(ctx context.Context) ([]model.Rule, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]model.Rule, len(b.rules))
	for i, r := range b.rules {
		out[i] = b.withHides(r)
	}
	return out, ctx.Err()
}

func (b *fakeBackend) EditRule(ctx context.Context, r model.Rule) (model.Rule, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.change(); err != nil {
		return r, err
	}
	if r.Executable == "" {
		return r, errors.New("a rule needs an executable")
	}
	r.Updated = testNow
	if i := slices.IndexFunc(b.rules, func(x model.Rule) bool { return x.ID == r.ID }); i >= 0 {
		b.rules[i] = r
	} else {
		b.nextRule++
		r.ID = fmt.Sprintf("rfake%04d", b.nextRule)
		b.rules = append(b.rules, r)
	}
	return b.withHides(r), nil
}

func (b *fakeBackend) RemoveRule(ctx context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.change(); err != nil {
		return err
	}
	i := slices.IndexFunc(b.rules, func(x model.Rule) bool { return x.ID == id })
	if i < 0 {
		return fmt.Errorf("no such rule: %s", id)
	}
	b.rules = slices.Delete(b.rules, i, i+1)
	return nil
}

func (b *fakeBackend) ExportRules(ctx context.Context, path string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, err := json.Marshal(b.rules)
	if err != nil {
		return 0, err
	}
	return len(b.rules), os.WriteFile(path, data, 0o600)
}

func (b *fakeBackend) ImportRules(ctx context.Context, path string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.change(); err != nil {
		return 0, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var rules []model.Rule
	if err := json.Unmarshal(data, &rules); err != nil {
		return 0, fmt.Errorf("not a rule file: %w", err)
	}
	for _, r := range rules {
		if i := slices.IndexFunc(b.rules, func(x model.Rule) bool { return x.ID == r.ID }); i >= 0 {
			b.rules[i] = r
		} else {
			b.rules = append(b.rules, r)
		}
	}
	return len(rules), nil
}

func (b *fakeBackend) SuppressedCount(ctx context.Context, q model.Query) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, a := range b.records {
		if _, hidden := b.hiddenBy(a); hidden && a.JobID == q.Job {
			n++
		}
	}
	return n, ctx.Err()
}

func (b *fakeBackend) SuppressedRecords(ctx context.Context, q model.AnomalyQuery) ([]model.Anomaly, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []model.Anomaly
	for _, a := range b.records {
		id, hidden := b.hiddenBy(a)
		if !hidden || a.JobID != q.Job || (q.Entity != "" && a.Entity != q.Entity) || a.Time.Before(q.From) || !a.Time.Before(q.To) {
			continue
		}
		a.SuppressedBy = id
		out = append(out, a)
	}
	return out, ctx.Err()
}

// rule returns the fake's rule of an id.
func (b *fakeBackend) rule(id string) (model.Rule, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.IndexFunc(b.rules, func(x model.Rule) bool { return x.ID == id })
	if i < 0 {
		return model.Rule{}, false
	}
	return b.rules[i], true
}

// caseIDs returns the anomalies of a fake case.
func (b *fakeBackend) caseIDs(name string) ([]string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.cases[name]
	if !ok {
		return nil, false
	}
	return slices.Clone(c.ids), true
}

var _ model.CaseBackend = (*fakeBackend)(nil)
