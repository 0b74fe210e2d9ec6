package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// StatsQuery picks what Stats summarises. Zero values mean everything.
type StatsQuery struct {
	From, To time.Time
	Scope    engine.Scope
	// Loads, when set, keeps only these loads (for instance the ones an
	// Ingest reported).
	Loads []int64
}

// Stats summarises what the cache holds.
type Stats struct {
	// Events is how many events of any kind the sources held (seen), and
	// Rejected how many of their lines could not be read; both are counted
	// over whole sources that overlap the time range.
	Events     int64 `json:"events"`
	Executions int64 `json:"executions"`
	// Hosts counts hosts with events, theirs or their containers'.
	Hosts       int   `json:"hosts"`
	Containers  int   `json:"containers"`
	Executables int   `json:"executables"`
	Rejected    int64 `json:"rejected"`
	// From and To are the first and last event times, within the range.
	From         time.Time        `json:"from,omitzero"`
	To           time.Time        `json:"to,omitzero"`
	ByExecutable map[string]int64 `json:"by_executable"`
	// ByHost is executions per host, its containers' included.
	ByHost  map[string]int64 `json:"by_host"`
	Sources []Source         `json:"sources"`
}

// Stats summarises the cache, or the part of it q picks.
func (s *Store) Stats(ctx context.Context, q StatsQuery) (Stats, error) {
	st := Stats{ByExecutable: map[string]int64{}, ByHost: map[string]int64{}, Sources: []Source{}}

	// Sources: those picked, overlapping the range.
	var conds []string
	var args []any
	if len(q.Loads) > 0 {
		list, err := json.Marshal(q.Loads)
		if err != nil {
			return st, err
		}
		conds = append(conds, "id IN (SELECT value FROM json_each(?))")
		args = append(args, string(list))
	}
	if !q.From.IsZero() {
		conds = append(conds, "last_time >= ?")
		args = append(args, unixNano(q.From))
	}
	if !q.To.IsZero() {
		conds = append(conds, "first_time < ?")
		args = append(args, unixNano(q.To))
	}
	where := "1"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	srcs, err := s.sources(ctx, where, args)
	if err != nil {
		return st, err
	}
	if srcs != nil {
		st.Sources = srcs
	}
	for _, src := range st.Sources {
		st.Events += src.Seen
		st.Rejected += src.Rejected
		if !src.First.IsZero() && (st.From.IsZero() || src.First.Before(st.From)) {
			st.From = src.First
		}
		if !src.Last.IsZero() && src.Last.After(st.To) {
			st.To = src.Last
		}
	}
	if !q.From.IsZero() && st.From.Before(q.From) {
		st.From = q.From.UTC()
	}
	if !q.To.IsZero() && !st.To.Before(q.To) {
		st.To = q.To.Add(-time.Nanosecond).UTC()
	}

	execWhere, execArgs, err := countFilter(q.Scope, q.From, q.To, sources.Executions, nil, q.Loads)
	if err != nil {
		return st, err
	}
	err = s.each(ctx, `SELECT x.path, SUM(c.count) FROM minute_count c JOIN executable x ON x.id = c.executable_id
		WHERE `+execWhere+` GROUP BY c.executable_id`, execArgs, func(r *sql.Rows) error {
		var path string
		var n int64
		if err := r.Scan(&path, &n); err != nil {
			return err
		}
		st.ByExecutable[path] += n
		st.Executions += n
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("stats by executable: %w", err)
	}
	st.Executables = len(st.ByExecutable)

	err = s.each(ctx, `SELECT h.name, SUM(c.count) FROM minute_count c JOIN entity e ON e.id = c.entity_id
		JOIN entity h ON h.id = (CASE WHEN e.scope = 'host' THEN c.entity_id ELSE c.host_id END)
		WHERE `+execWhere+` GROUP BY h.id`, execArgs, func(r *sql.Rows) error {
		var name string
		var n int64
		if err := r.Scan(&name, &n); err != nil {
			return err
		}
		st.ByHost[name] += n
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("stats by host: %w", err)
	}

	allWhere, allArgs, err := countFilter(q.Scope, q.From, q.To, sources.AllSyscalls, nil, q.Loads)
	if err != nil {
		return st, err
	}
	err = s.db.QueryRowContext(ctx, `SELECT
		COUNT(DISTINCT CASE WHEN e.scope = 'host' THEN c.entity_id ELSE NULLIF(c.host_id, 0) END),
		COUNT(DISTINCT CASE WHEN e.scope = 'container' THEN c.entity_id END)
		FROM minute_count c JOIN entity e ON e.id = c.entity_id WHERE `+allWhere, allArgs...).Scan(&st.Hosts, &st.Containers)
	if err != nil {
		return st, fmt.Errorf("stats of hosts and containers: %w", err)
	}
	return st, nil
}

// each runs a query and hands every row to fn.
func (s *Store) each(ctx context.Context, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
