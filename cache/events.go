package cache

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/auditlens/auditlens/sources"
)

// EventQuery asks for stored execution events, for drill-down.
type EventQuery struct {
	// Scope and Entity pick a host or a container; empty means any.
	Scope  sources.Scope
	Entity string
	// From and To bound the window [From, To); zero means unbounded.
	From, To time.Time
	// Executable, when set, keeps only runs of it.
	Executable string
	// PID and PPID, when not zero, find a process (its parent: PID = the
	// child's PPID) or the children of one (PPID = its PID).
	PID, PPID int64
	// Loads, when set, keeps only events of these loads.
	Loads []int64
	// Limit caps how many events come back; zero means no cap.
	Limit int
	// Newest orders newest first; the default is oldest first.
	Newest bool
}

// Events returns the stored executions that match q, ordered by time (ties in
// the order they were read).
func (s *Store) Events(ctx context.Context, q EventQuery) ([]sources.Event, error) {
	var conds []string
	var args []any
	var entityConds []string
	if q.Scope != "" {
		if q.Scope != sources.ScopeHost && q.Scope != sources.ScopeContainer {
			return nil, fmt.Errorf("unknown scope %q (want host or container)", q.Scope)
		}
		entityConds = append(entityConds, "scope = ?")
		args = append(args, string(q.Scope))
	}
	if q.Entity != "" {
		entityConds = append(entityConds, "name = ?")
		args = append(args, q.Entity)
	}
	if len(entityConds) > 0 {
		conds = append(conds, "ev.entity_id IN (SELECT id FROM entity WHERE "+strings.Join(entityConds, " AND ")+")")
	}
	if q.PID != 0 {
		conds = append(conds, "ev.pid = ?")
		args = append(args, q.PID)
	}
	if q.PPID != 0 {
		conds = append(conds, "ev.ppid = ?")
		args = append(args, q.PPID)
	}
	if !q.From.IsZero() {
		conds = append(conds, "ev.time >= ?")
		args = append(args, unixNano(q.From))
	}
	if !q.To.IsZero() {
		conds = append(conds, "ev.time < ?")
		args = append(args, unixNano(q.To))
	}
	if q.Executable != "" {
		conds = append(conds, "ev.executable_id = (SELECT id FROM executable WHERE path = ?)")
		args = append(args, q.Executable)
	}
	if len(q.Loads) > 0 {
		list, err := json.Marshal(q.Loads)
		if err != nil {
			return nil, err
		}
		conds = append(conds, "ev.load_id IN (SELECT value FROM json_each(?))")
		args = append(args, string(list))
	}
	where := "1"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	order := "ev.time, ev.id"
	if q.Newest {
		order = "ev.time DESC, ev.id DESC"
	}
	limit := ""
	if q.Limit > 0 {
		limit = fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT ev.time, COALESCE(h.name, ''), x.path, ev.pid, ev.ppid,
		ev.args, ev.detail, l.path
		FROM event ev JOIN executable x ON x.id = ev.executable_id JOIN load l ON l.id = ev.load_id
		LEFT JOIN entity h ON h.id = ev.host_id
		WHERE `+where+" ORDER BY "+order+limit, args...)
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	defer rows.Close()
	var out []sources.Event
	for rows.Next() {
		var e sources.Event
		var ns int64
		var argsJSON, loadPath string
		var detail []byte
		if err := rows.Scan(&ns, &e.Host, &e.Executable, &e.PID, &e.PPID, &argsJSON, &detail, &loadPath); err != nil {
			return nil, fmt.Errorf("query events: %w", err)
		}
		e.Time = timeOf(ns)
		if err := json.Unmarshal([]byte(argsJSON), &e.Args); err != nil {
			return nil, fmt.Errorf("query events: arguments of the event at %s: %w", e.Time, err)
		}
		file, err := unpackDetail(detail, &e)
		if err != nil {
			return nil, fmt.Errorf("query events: the event at %s: %w", e.Time, err)
		}
		e.Origin.File = cmp.Or(file, loadPath)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	return out, nil
}
