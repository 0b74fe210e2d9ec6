package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
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

// countFilter builds the WHERE clause shared by count queries over
// minute_count c. The entity condition comes first so SQLite can seek the
// primary key entity by entity and then by minute.
func countFilter(scope engine.Scope, from, to time.Time, sel sources.Selection, entities []string, loads []int64) (string, []any, error) {
	var conds []string
	var args []any
	param := func(v any) string {
		args = append(args, v)
		return "?"
	}
	ents, err := entityFilter(scope, entities, param)
	if err != nil {
		return "", nil, err
	}
	sub := "SELECT id FROM entity"
	if ents != "" {
		sub += " WHERE " + ents
	}
	conds = append(conds, "c.entity_id IN ("+sub+")")
	if !from.IsZero() {
		conds = append(conds, "c.minute >= "+param(minuteOf(from)))
	}
	if !to.IsZero() {
		conds = append(conds, "c.minute < "+param(endSecond(to)))
	}
	if sel == sources.Executions {
		conds = append(conds, fmt.Sprintf("c.kind = %d", kindExecution))
	}
	if len(loads) > 0 {
		list, err := json.Marshal(loads)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, "c.load_id IN (SELECT value FROM json_each("+param(string(list))+"))")
	}
	return strings.Join(conds, " AND "), args, nil
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
	where, args, err := countFilter(scope, time.Time{}, time.Time{}, sources.AllSyscalls, nil, nil)
	if err != nil {
		return nil, err
	}
	// One pass over the minute rows in primary-key order gives the sums and
	// the hosts containers ran on (a host's host_id is 0); the first and
	// last minutes are a seek each.
	hostIDs := "''"
	if scope != engine.ScopeHost {
		hostIDs = "group_concat(DISTINCT c.host_id) FILTER (WHERE c.host_id != 0)"
	}
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT e.id, e.scope, e.name,
		(SELECT min(minute) FROM minute_count WHERE entity_id = e.id),
		(SELECT max(minute) FROM minute_count WHERE entity_id = e.id),
		t.executions, t.events, coalesce(t.hosts, '')
		FROM (SELECT c.entity_id AS id, coalesce(SUM(c.count) FILTER (WHERE c.kind = %d), 0) AS executions,
			SUM(c.count) AS events, %s AS hosts
			FROM minute_count c WHERE %s GROUP BY c.entity_id) t
		JOIN entity e ON e.id = t.id ORDER BY e.scope, e.name`, kindExecution, hostIDs, where), args...)
	if err != nil {
		return nil, fmt.Errorf("list entities: %w", err)
	}
	defer rows.Close()
	var out []Entity
	hostsOf := map[int][]int64{} // index in out -> host ids
	for rows.Next() {
		var e Entity
		var id, first, last int64
		var sc, hosts string
		if err := rows.Scan(&id, &sc, &e.Name, &first, &last, &e.Executions, &e.Events, &hosts); err != nil {
			return nil, fmt.Errorf("list entities: %w", err)
		}
		e.Scope = engine.Scope(sc)
		e.First, e.Last = time.Unix(first, 0).UTC(), time.Unix(last+60, 0).UTC()
		if e.Scope == engine.ScopeContainer && hosts != "" {
			for _, h := range strings.Split(hosts, ",") {
				hid, err := strconv.ParseInt(h, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("list container hosts: %w", err)
				}
				hostsOf[len(out)] = append(hostsOf[len(out)], hid)
			}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list entities: %w", err)
	}
	rows.Close()
	if len(hostsOf) == 0 {
		return out, nil
	}
	names, err := s.entityNames(ctx, hostsOf)
	if err != nil {
		return nil, fmt.Errorf("list container hosts: %w", err)
	}
	for i, ids := range hostsOf {
		var hs []string
		for _, id := range ids {
			if name, ok := names[id]; ok {
				hs = append(hs, name)
			}
		}
		slices.Sort(hs)
		out[i].Hosts = slices.Compact(hs)
	}
	return out, nil
}

// entityNames reads the names of the entity ids in ids; ids without a row
// are left out.
func (s *Store) entityNames(ctx context.Context, ids map[int][]int64) (map[int64]string, error) {
	var all []int64
	for _, l := range ids {
		all = append(all, l...)
	}
	slices.Sort(all)
	list, err := json.Marshal(slices.Compact(all))
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id, name FROM entity WHERE id IN (SELECT value FROM json_each(?))", string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		names[id] = name
	}
	return names, rows.Err()
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
	where, args, err := countFilter(scope, time.Time{}, time.Time{}, sources.Executions, entities, nil)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT x.path, SUM(c.count), COUNT(DISTINCT c.entity_id)
		FROM minute_count c JOIN executable x ON x.id = c.executable_id WHERE `+where+`
		GROUP BY c.executable_id ORDER BY 2 DESC, x.path`, args...)
	if err != nil {
		return nil, fmt.Errorf("list executables: %w", err)
	}
	defer rows.Close()
	var out []ExecutableCount
	for rows.Next() {
		var x ExecutableCount
		if err := rows.Scan(&x.Path, &x.Executions, &x.Entities); err != nil {
			return nil, fmt.Errorf("list executables: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
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
