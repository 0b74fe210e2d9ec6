package cache

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// schemaRules keeps suppression rules: what the analyst declared benign.
// The workspace applies them; the cache only keeps them. until is the end
// of a rule's life (wall-clock), NULL for none.
const schemaRules = `
CREATE TABLE suppression_rule (
	id         TEXT PRIMARY KEY,
	executable TEXT NOT NULL,
	scope      TEXT NOT NULL CHECK (scope IN ('any', 'host', 'container')),
	entity     TEXT NOT NULL DEFAULT '',
	action     TEXT NOT NULL CHECK (action IN ('skip_result', 'skip_model_update')),
	until      INTEGER,          -- Unix nanoseconds
	note       TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL, -- Unix nanoseconds
	updated_at INTEGER NOT NULL
);
`

// What a rule does, as Elastic's job rules name it.
const (
	// RuleSkipResult hides matching anomaly records (they are counted as
	// suppressed); detection itself is unchanged.
	RuleSkipResult = "skip_result"
	// RuleSkipModelUpdate keeps matching executions out of the models, so
	// they neither score nor shape what is typical.
	RuleSkipModelUpdate = "skip_model_update"
)

// Scopes a rule applies to: RuleScopeAny, or "host" or "container".
const RuleScopeAny = "any"

// ErrNoRule says a rule id is unknown.
var ErrNoRule = errors.New("no such rule")

// Rule is a suppression rule. Executable and Entity are patterns the
// workspace matches (exact, or glob with * and ?).
type Rule struct {
	ID         string `json:"id"`
	Executable string `json:"executable"`
	Scope      string `json:"scope"`            // any, host or container
	Entity     string `json:"entity,omitempty"` // empty: every host or container of the scope
	Action     string `json:"action"`           // skip_result or skip_model_update
	// Until, when set, ends the rule: from then on it does nothing.
	Until   time.Time `json:"until,omitzero"`
	Note    string    `json:"note,omitempty"`
	Created time.Time `json:"created,omitzero"`
	Updated time.Time `json:"updated,omitzero"`
}

// Active says whether the rule applies at now.
func (r Rule) Active(now time.Time) bool { return r.Until.IsZero() || now.Before(r.Until) }

// Check reports what is wrong with a rule's fields, if anything.
func (r Rule) Check() error {
	var errs []string
	if strings.TrimSpace(r.Executable) == "" {
		errs = append(errs, "an executable (a path, or a pattern such as /opt/app/bin/*) is required")
	}
	switch r.Scope {
	case RuleScopeAny, "host", "container":
	default:
		errs = append(errs, fmt.Sprintf("scope %q: want any, host or container", r.Scope))
	}
	switch r.Action {
	case RuleSkipResult, RuleSkipModelUpdate:
	default:
		errs = append(errs, fmt.Sprintf("action %q: want skip_result or skip_model_update", r.Action))
	}
	if len(errs) > 0 {
		return fmt.Errorf("rule %s: %s", r.ID, strings.Join(errs, "; "))
	}
	return nil
}

// newRuleID is a short random id, unique enough for a person's rule list
// and for merging lists exported from other caches.
func newRuleID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "r" + hex.EncodeToString(b[:]), nil
}

// SaveRule stores a rule: a new one (no id) gets an id and its creation
// time; one with an id replaces the rule of that id, or is added under it
// (an imported rule keeps its id). It returns the rule as stored.
func (s *Store) SaveRule(ctx context.Context, r Rule) (Rule, error) {
	if err := s.writable(); err != nil {
		return r, err
	}
	if err := r.Check(); err != nil {
		return r, err
	}
	now := time.Now().UTC()
	if r.ID == "" {
		id, err := newRuleID()
		if err != nil {
			return r, fmt.Errorf("new rule id: %w", err)
		}
		r.ID = id
	}
	if r.Created.IsZero() {
		r.Created = now
	}
	r.Updated = now
	var until any
	if !r.Until.IsZero() {
		until = r.Until.UnixNano()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO suppression_rule (id, executable, scope, entity, action, until, note, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET executable = excluded.executable, scope = excluded.scope, entity = excluded.entity,
			action = excluded.action, until = excluded.until, note = excluded.note, updated_at = excluded.updated_at`,
		r.ID, r.Executable, r.Scope, r.Entity, r.Action, until, r.Note, r.Created.UnixNano(), r.Updated.UnixNano())
	if err != nil {
		return r, fmt.Errorf("cache %s: save rule: %w", s.path, err)
	}
	return s.Rule(ctx, r.ID)
}

// Rule returns one rule; an unknown id is ErrNoRule.
func (s *Store) Rule(ctx context.Context, id string) (Rule, error) {
	rules, err := s.rules(ctx, "WHERE id = ?", id)
	if err != nil {
		return Rule{}, err
	}
	if len(rules) == 0 {
		return Rule{}, fmt.Errorf("%w %q", ErrNoRule, id)
	}
	return rules[0], nil
}

// Rules lists every rule, active or not, oldest first.
func (s *Store) Rules(ctx context.Context) ([]Rule, error) { return s.rules(ctx, "") }

func (s *Store) rules(ctx context.Context, where string, args ...any) ([]Rule, error) {
	var out []Rule
	err := s.each(ctx, `SELECT id, executable, scope, entity, action, until, note, created_at, updated_at
		FROM suppression_rule `+where+` ORDER BY created_at, id`, args, func(rows *sql.Rows) error {
		var r Rule
		var until sql.NullInt64
		var created, updated int64
		if err := rows.Scan(&r.ID, &r.Executable, &r.Scope, &r.Entity, &r.Action, &until, &r.Note, &created, &updated); err != nil {
			return err
		}
		if until.Valid {
			r.Until = timeOf(until.Int64)
		}
		r.Created, r.Updated = timeOf(created), timeOf(updated)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache %s: read rules: %w", s.path, err)
	}
	return out, nil
}

// RemoveRule deletes a rule; an unknown id is ErrNoRule.
func (s *Store) RemoveRule(ctx context.Context, id string) error {
	if err := s.writable(); err != nil {
		return err
	}
	r, err := s.db.ExecContext(ctx, `DELETE FROM suppression_rule WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("cache %s: remove rule: %w", s.path, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("%w %q", ErrNoRule, id)
	}
	return nil
}
