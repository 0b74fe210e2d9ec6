package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
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

	// One pass over the counts: executions by executable and by host (a
	// container's go to the host it ran on), and the hosts and containers
	// with events of any kind.
	ents, err := entitiesByID(ctx, s.db)
	if err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	byExe := map[int64]int64{}
	byHost := map[int64]int64{}
	hosts, containers := map[int64]bool{}, map[int64]bool{}
	err = eachCount(ctx, s.db, newCountScan(q.Scope, q.From, q.To, sources.AllSyscalls, nil, q.Loads),
		func(b countBlock, r *countRow) error {
			host := b.entity
			if ents[b.entity].scope == engine.ScopeContainer {
				containers[b.entity] = true
				host = r.host
			}
			if host != 0 {
				hosts[host] = true
			}
			if r.kind == kindExecution {
				byExe[r.exe] += r.count
				byHost[host] += r.count
			}
			return nil
		})
	if err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	paths, err := executablePaths(ctx, s.db, slices.Collect(maps.Keys(byExe)))
	if err != nil {
		return st, fmt.Errorf("stats by executable: %w", err)
	}
	for id, n := range byExe {
		if path, ok := paths[id]; ok {
			st.ByExecutable[path] += n
			st.Executions += n
		}
	}
	st.Executables = len(st.ByExecutable)
	for id, n := range byHost {
		if e, ok := ents[id]; ok {
			st.ByHost[e.name] += n
		}
	}
	st.Hosts, st.Containers = len(hosts), len(containers)
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
