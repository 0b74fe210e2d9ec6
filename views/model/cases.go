package model

import (
	"context"
	"errors"
	"time"
)

// Cases and suppression rules as the console shows them. A case is a named
// set of anomalies kept to hand over or review later; a suppression rule
// declares an executable benign (everywhere, or on hosts or containers whose
// names match a pattern, maybe until a date), so its records are hidden and
// counted. Like everything in this package, every string in them may come
// from audit data or from a file someone else wrote: draw it through
// safe.Text.

// CaseBackend is what the case and rule screens ask for. A Backend that also
// implements it gets the add-to-case and suppress keys, the cases and rules
// lists and the suppressed count; the screens and the shell reach it through
// Cases. Calls with a context follow Backend's rules (off the UI goroutine,
// cancelled with their context); the two without one answer from memory and
// may be called anywhere.
type CaseBackend interface {
	// CaseFileInfo says whether the console runs on a saved case file, and
	// which.
	CaseFileInfo() (CaseFile, bool)
	// Writable is nil when the backend can store changes, else the error
	// that says why not and what to do (a *ReadOnlyError for a case file
	// opened read-only).
	Writable() error

	// CaseList lists the cases, by name.
	CaseList(ctx context.Context) ([]Case, error)
	// CaseAnomalies lists a case's anomalies with their triage, oldest
	// first; the scores are those saved with the case.
	CaseAnomalies(ctx context.Context, name string) ([]Anomaly, error)
	// AddToCase adds an anomaly of the range on screen to the named case,
	// creating the case; a note, when given, becomes the anomaly's triage
	// note.
	AddToCase(ctx context.Context, caseName, anomalyID, note string) error
	// RemoveFromCase takes an anomaly out of a case.
	RemoveFromCase(ctx context.Context, name, anomalyID string) error
	// DeleteCase deletes a case; its anomalies' triage is kept.
	DeleteCase(ctx context.Context, name string) error
	// SaveCaseFile writes a case as one self-contained file at path; an
	// existing file is an error unless overwrite.
	SaveCaseFile(ctx context.Context, name, path string, overwrite bool) (SavedCase, error)

	// Suppress makes a rule from an anomaly of the range on screen: its
	// executable, its job's scope, and what s says. The swimlane answers
	// with the rule in force from then on.
	Suppress(ctx context.Context, anomalyID string, s Suppression) (Rule, error)
	// RuleList lists every rule, active or not, oldest first, with how many
	// records of the swimlane on screen each hides.
	RuleList(ctx context.Context) ([]Rule, error)
	// EditRule stores an edited rule (a new one when it has no ID) and
	// returns it as stored.
	EditRule(ctx context.Context, r Rule) (Rule, error)
	// RemoveRule deletes a rule; the records it hid are back at once.
	RemoveRule(ctx context.Context, id string) error
	// ExportRules writes every rule to a rule file at path and says how
	// many.
	ExportRules(ctx context.Context, path string) (int, error)
	// ImportRules reads a rule file and stores its rules (replacing those
	// of the same ID) and says how many.
	ImportRules(ctx context.Context, path string) (int, error)

	// SuppressedCount is how many records the rules hide in the swimlane of
	// q.
	SuppressedCount(ctx context.Context, q Query) (int, error)
	// SuppressedRecords lists the hidden records of one selection of the
	// swimlane on screen, each with SuppressedBy set.
	SuppressedRecords(ctx context.Context, q AnomalyQuery) ([]Anomaly, error)
}

// ErrNoCases says the backend keeps no cases and no rules.
var ErrNoCases = errors.New("this data source keeps no cases or suppression rules")

// Cases returns b's case side, or ErrNoCases.
func Cases(b Backend) (CaseBackend, error) {
	if c, ok := b.(CaseBackend); ok {
		return c, nil
	}
	return nil, ErrNoCases
}

// ReadOnlyError refuses a change to a case file opened read-only. Its text
// is the backend's advice on how to make the change; the shell shows it as
// it is, without the labels of the call that met it, so the advice is not
// cut off on a narrow terminal.
type ReadOnlyError struct {
	Advice string // e.g. "read-only case file: to change it, reopen it with --edit"
	Err    error
}

func (e *ReadOnlyError) Error() string { return e.Advice }

func (e *ReadOnlyError) Unwrap() error { return e.Err }

// CaseFile describes the saved case file the console runs on.
type CaseFile struct {
	Name     string // the case's name
	ReadOnly bool   // opened without --edit: nothing can be changed
	SavedAt  time.Time
	// From and To are the case's range.
	From, To time.Time
}

// Case is one case of the cases list.
type Case struct {
	Name      string
	Summary   string
	Anomalies int
	Created   time.Time
	Updated   time.Time
}

// SavedCase says what SaveCaseFile wrote.
type SavedCase struct {
	Path      string
	Anomalies int
	Counts    int64 // minute-count rows
	Events    int64
	Size      int64 // bytes
	// FleetCounts says the file holds the counts of every host or container
	// of the case's scopes, not only of its own.
	FleetCounts bool
}

// What a rule does, as Elastic's job rules name it.
const (
	// RuleSkipResult hides the matching records (counted as suppressed).
	RuleSkipResult = "skip_result"
	// RuleSkipModelUpdate keeps the matching executions out of the models,
	// so the jobs score without them.
	RuleSkipModelUpdate = "skip_model_update"
)

// RuleActions lists the actions in the order a form offers them.
func RuleActions() []string { return []string{RuleSkipResult, RuleSkipModelUpdate} }

// RuleScopeAny is the scope of a rule for hosts and containers alike.
const RuleScopeAny = "any"

// Suppression is what the analyst decides when suppressing an anomaly's
// executable.
type Suppression struct {
	Action string // RuleSkipResult or RuleSkipModelUpdate
	// Entity is a pattern of host or container names; empty for every one
	// of the job's scope.
	Entity string
	// Until ends the rule (wall clock); zero for good.
	Until time.Time
	Note  string
}

// Rule is a suppression rule. Executable and Entity are patterns: * any run
// of characters (slashes too), ? one character, \ quotes the next.
type Rule struct {
	ID         string
	Executable string
	Scope      string // RuleScopeAny, host or container
	Entity     string // empty: every host or container of the scope
	Action     string
	Until      time.Time // zero: for good
	Note       string
	Created    time.Time
	Updated    time.Time
	// Hides is how many records of the swimlane on screen the rule hides.
	Hides int
}

// Active says whether the rule applies at now.
func (r Rule) Active(now time.Time) bool { return r.Until.IsZero() || now.Before(r.Until) }

// Where says which hosts or containers a rule covers, in words: "every
// host", "hosts matching web-*".
func (r Rule) Where() string {
	noun := "host"
	switch r.Scope {
	case string(ScopeContainer):
		noun = "container"
	case RuleScopeAny:
		noun = "host and container"
	}
	if r.Entity == "" {
		return "every " + noun
	}
	if r.Scope == RuleScopeAny {
		return "hosts and containers matching " + r.Entity
	}
	return noun + "s matching " + r.Entity
}

// SuppressibleExecutable is the one executable a rule made from a could
// name: a rare anomaly's, or a rate anomaly's single executable influencer.
// ok is false when there is none or more than one.
func SuppressibleExecutable(a Anomaly) (string, bool) {
	if a.Executable != "" {
		return a.Executable, true
	}
	var exes []string
	for _, in := range a.Influencers {
		if in.Field == "process.executable" {
			exes = append(exes, in.Values...)
		}
	}
	if len(exes) == 1 {
		return exes[0], true
	}
	return "", false
}
