package cache

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// CountQuery asks for bucket counts.
type CountQuery struct {
	// Scope is host or container counts; empty means both.
	Scope engine.Scope
	// From and To bound the minutes summed: those overlapping [From, To).
	// Zero means unbounded.
	From, To time.Time
	// BucketSpan is the bucket length, a whole number of minutes; zero means
	// one minute. Buckets are aligned to the Unix epoch (UTC).
	BucketSpan time.Duration
	// Selection is Executions to count executions only, AllSyscalls to count
	// every event loaded.
	Selection sources.Selection
	// Entities, when set, keeps only these hosts or containers.
	Entities []string
	// Loads, when set, keeps only counts from these loads.
	Loads []int64
}

// bucketSeconds validates the span and returns it in seconds.
func bucketSeconds(span time.Duration) (int64, error) {
	if span == 0 {
		return 60, nil
	}
	if span < time.Minute || span%time.Minute != 0 {
		return 0, fmt.Errorf("bucket span %s is not a whole number of minutes", span)
	}
	return int64(span / time.Second), nil
}

// entityFilter builds the conditions on entity (scope, name) that pick the
// hosts or containers of a query; empty when every entity is asked. param
// returns the placeholder of one argument, so callers may number them.
func entityFilter(scope engine.Scope, entities []string, param func(v any) string) (string, error) {
	var conds []string
	switch scope {
	case "":
	case engine.ScopeHost, engine.ScopeContainer:
		conds = append(conds, "scope = "+param(string(scope)))
	default:
		return "", fmt.Errorf("unknown scope %q (want host or container)", scope)
	}
	if len(entities) > 0 {
		list, err := json.Marshal(entities)
		if err != nil {
			return "", err
		}
		conds = append(conds, "name IN (SELECT value FROM json_each("+param(string(list))+"))")
	}
	return strings.Join(conds, " AND "), nil
}

// endSecond is the first Unix second at or after t: minutes before it start
// before t.
func endSecond(t time.Time) int64 {
	end := t.Unix()
	if t.Nanosecond() != 0 {
		end++
	}
	return end
}

// Counts streams bucket counts to fn, ordered by bucket, then scope, entity
// and executable (byte order). Each bucket is the sum of the minutes it holds:
// bucket = minute - minute % span, in Unix seconds. An error from fn stops the
// query and is returned. All counts come from one snapshot of the cache, even
// while another auditlens writes to it.
func (s *Store) Counts(ctx context.Context, q CountQuery, fn func(engine.Count) error) error {
	span, err := bucketSeconds(q.BucketSpan)
	if err != nil {
		return err
	}
	if _, err := entityFilter(q.Scope, nil, func(any) string { return "?" }); err != nil {
		return err
	}
	return s.streamCounts(ctx, q, span, countWindowRows, fn)
}

// Entity is one host or container in the cache.
type Entity struct {
	Scope engine.Scope
	Name  string
	// Hosts are the hosts a container ran on.
	Hosts      []string
	Executions int64
	Events     int64 // executions and, where loaded, other syscall events
	// First is the start of its first minute with events, Last the end of its
	// last.
	First, Last time.Time
}

// Entities lists the hosts or containers (scope empty: both) that have counts,
// ordered by scope and name.
func (s *Store) Entities(ctx context.Context, scope engine.Scope) ([]Entity, error) {
	type sums struct {
		first, last        int64
		executions, events int64
		hosts              map[int64]bool // the hosts a container ran on
	}
	byID := map[int64]*sums{}
	err := eachCount(ctx, s.db, newCountScan(scope, time.Time{}, time.Time{}, sources.AllSyscalls, nil, nil),
		func(b countBlock, r *countRow) error {
			e := byID[b.entity]
			if e == nil {
				e = &sums{first: r.minute, last: r.minute}
				byID[b.entity] = e
			}
			e.first, e.last = min(e.first, r.minute), max(e.last, r.minute)
			e.events += r.count
			if r.kind == kindExecution {
				e.executions += r.count
			}
			if r.host != 0 {
				if e.hosts == nil {
					e.hosts = map[int64]bool{}
				}
				e.hosts[r.host] = true
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list entities: %w", err)
	}
	ents, err := entitiesByID(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("list entities: %w", err)
	}
	var out []Entity
	for id, e := range byID {
		info, ok := ents[id]
		if !ok {
			continue
		}
		en := Entity{Scope: info.scope, Name: info.name, Executions: e.executions, Events: e.events,
			First: time.Unix(e.first, 0).UTC(), Last: time.Unix(e.last+60, 0).UTC()}
		if en.Scope == engine.ScopeContainer {
			for h := range e.hosts {
				if host, ok := ents[h]; ok {
					en.Hosts = append(en.Hosts, host.name)
				}
			}
			slices.Sort(en.Hosts)
			en.Hosts = slices.Compact(en.Hosts)
		}
		out = append(out, en)
	}
	slices.SortFunc(out, func(a, b Entity) int {
		return cmp.Or(strings.Compare(string(a.Scope), string(b.Scope)), strings.Compare(a.Name, b.Name))
	})
	return out, nil
}

// entityInfo is what the entity table says of one id.
type entityInfo struct {
	scope engine.Scope
	name  string
}

// entitiesByID reads every host and container: a fleet's worth of rows.
func entitiesByID(ctx context.Context, q queryer) (map[int64]entityInfo, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, scope, name FROM entity")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]entityInfo{}
	for rows.Next() {
		var id int64
		var e entityInfo
		if err := rows.Scan(&id, &e.scope, &e.name); err != nil {
			return nil, err
		}
		out[id] = e
	}
	return out, rows.Err()
}

// executablePaths reads the paths of the executable ids in ids; ids without
// a row are left out.
func executablePaths(ctx context.Context, q queryer, ids []int64) (map[int64]string, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, "SELECT id, path FROM executable WHERE id IN (SELECT value FROM json_each(?))", string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]string, len(ids))
	for rows.Next() {
		var id int64
		var path string
		if err := rows.Scan(&id, &path); err != nil {
			return nil, err
		}
		out[id] = path
	}
	return out, rows.Err()
}

// ExecutableCount is how often one executable ran.
type ExecutableCount struct {
	Path       string
	Executions int64
	Entities   int // hosts or containers it ran on
}

// Executables lists the executables run in a scope (empty: both), on one
// entity when entity is set, most executions first.
func (s *Store) Executables(ctx context.Context, scope engine.Scope, entity string) ([]ExecutableCount, error) {
	var entities []string
	if entity != "" {
		entities = []string{entity}
	}
	type sums struct {
		executions int64
		entities   map[int64]bool
	}
	byID := map[int64]*sums{}
	err := eachCount(ctx, s.db, newCountScan(scope, time.Time{}, time.Time{}, sources.Executions, entities, nil),
		func(b countBlock, r *countRow) error {
			x := byID[r.exe]
			if x == nil {
				x = &sums{entities: map[int64]bool{}}
				byID[r.exe] = x
			}
			x.executions += r.count
			x.entities[b.entity] = true
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list executables: %w", err)
	}
	paths, err := executablePaths(ctx, s.db, slices.Collect(maps.Keys(byID)))
	if err != nil {
		return nil, fmt.Errorf("list executables: %w", err)
	}
	var out []ExecutableCount
	for id, x := range byID {
		if path, ok := paths[id]; ok {
			out = append(out, ExecutableCount{Path: path, Executions: x.executions, Entities: len(x.entities)})
		}
	}
	slices.SortFunc(out, func(a, b ExecutableCount) int {
		return cmp.Or(cmp.Compare(b.Executions, a.Executions), strings.Compare(a.Path, b.Path))
	})
	return out, nil
}

// TimeSpan is the time of the first and the last event loaded; both are zero
// when the cache is empty.
func (s *Store) TimeSpan(ctx context.Context) (first, last time.Time, err error) {
	var f, l sql.NullInt64
	err = s.db.QueryRowContext(ctx, "SELECT MIN(first_time), MAX(last_time) FROM load").Scan(&f, &l)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, time.Time{}, fmt.Errorf("time span: %w", err)
	}
	if f.Valid {
		first = timeOf(f.Int64)
	}
	if l.Valid {
		last = timeOf(l.Int64)
	}
	return first, last, nil
}
