package cache

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
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
	if q.Scope != "" && q.Scope != sources.ScopeHost && q.Scope != sources.ScopeContainer {
		return nil, fmt.Errorf("unknown scope %q (want host or container)", q.Scope)
	}
	var loads string
	if len(q.Loads) > 0 {
		list, err := json.Marshal(q.Loads)
		if err != nil {
			return nil, err
		}
		loads = string(list)
	}
	f := &found{limit: q.Limit, newest: q.Newest}
	if err := s.rowEvents(ctx, q, loads, f); err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	if err := s.blockEvents(ctx, q, loads, f); err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	return f.events(), nil
}

// found collects the events on their way out of Events, keeping at most
// limit of them (when set) once sorted.
type found struct {
	keys   []foundKey
	evs    []sources.Event
	limit  int
	newest bool
}

// foundKey is what an event is ordered by: its time, then file events
// (blocks, by load and position in it) before events of range-queried
// sources (rows, by row id).
type foundKey struct {
	ns   int64
	row  bool
	seq1 int64 // load, or row id
	seq2 int64 // position in the load
	ev   int   // index into evs
}

func compareFound(a, b *foundKey) int {
	switch {
	case a.ns != b.ns:
		return cmp.Compare(a.ns, b.ns)
	case a.row != b.row:
		if a.row {
			return 1
		}
		return -1
	case a.seq1 != b.seq1:
		return cmp.Compare(a.seq1, b.seq1)
	}
	return cmp.Compare(a.seq2, b.seq2)
}

func (f *found) add(k foundKey, ev *sources.Event) {
	k.ev = len(f.evs)
	f.keys = append(f.keys, k)
	f.evs = append(f.evs, *ev)
}

// trim sorts the keys and keeps the first limit, dropping the events of the
// others once they outnumber the kept ones, so a long scan holds few.
func (f *found) trim() {
	if f.newest {
		slices.SortFunc(f.keys, func(a, b foundKey) int { return compareFound(&b, &a) })
	} else {
		slices.SortFunc(f.keys, func(a, b foundKey) int { return compareFound(&a, &b) })
	}
	if f.limit <= 0 || len(f.keys) <= f.limit {
		return
	}
	f.keys = f.keys[:f.limit]
	if len(f.evs) > 4*f.limit {
		evs := make([]sources.Event, len(f.keys), 4*f.limit)
		for i := range f.keys {
			evs[i], f.keys[i].ev = f.evs[f.keys[i].ev], i
		}
		f.evs = evs
	}
}

// full says whether limit events are kept, and if so the time of the last:
// an event later than it (newest first: earlier) cannot make the cut.
func (f *found) full() (bool, int64) {
	if f.limit <= 0 || len(f.keys) < f.limit {
		return false, 0
	}
	f.trim()
	return true, f.keys[f.limit-1].ns
}

// events returns the kept events in order.
func (f *found) events() []sources.Event {
	f.trim()
	out := make([]sources.Event, len(f.keys))
	for i, k := range f.keys {
		out[i] = f.evs[k.ev]
	}
	return out
}

// eventEntities is the SQL condition on the entity table that picks q's
// entities; "" when q takes any.
func eventEntities(q EventQuery) (string, []any) {
	var conds []string
	var args []any
	if q.Scope != "" {
		conds = append(conds, "scope = ?")
		args = append(args, string(q.Scope))
	}
	if q.Entity != "" {
		conds = append(conds, "name = ?")
		args = append(args, q.Entity)
	}
	return strings.Join(conds, " AND "), args
}

// rowEvents reads the events stored a row each (range-queried sources).
func (s *Store) rowEvents(ctx context.Context, q EventQuery, loads string, f *found) error {
	var conds []string
	var args []any
	if c, a := eventEntities(q); c != "" {
		conds, args = append(conds, "ev.entity_id IN (SELECT id FROM entity WHERE "+c+")"), append(args, a...)
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
	if loads != "" {
		conds = append(conds, "ev.load_id IN (SELECT value FROM json_each(?))")
		args = append(args, loads)
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
	rows, err := s.db.QueryContext(ctx, `SELECT ev.id, ev.time, COALESCE(h.name, ''), x.path, ev.pid, ev.ppid,
		ev.args, ev.detail, l.path
		FROM event ev JOIN executable x ON x.id = ev.executable_id JOIN load l ON l.id = ev.load_id
		LEFT JOIN entity h ON h.id = ev.host_id
		WHERE `+where+" ORDER BY "+order+limit, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		k := foundKey{row: true}
		var e sources.Event
		var argsJSON, loadPath string
		var detail []byte
		if err := rows.Scan(&k.seq1, &k.ns, &e.Host, &e.Executable, &e.PID, &e.PPID, &argsJSON, &detail, &loadPath); err != nil {
			return err
		}
		e.Time = timeOf(k.ns)
		if err := json.Unmarshal([]byte(argsJSON), &e.Args); err != nil {
			return fmt.Errorf("arguments of the event at %s: %w", e.Time, err)
		}
		file, err := unpackDetail(detail, &e)
		if err != nil {
			return fmt.Errorf("the event at %s: %w", e.Time, err)
		}
		e.Origin.File = cmp.Or(file, loadPath)
		f.add(k, &e)
	}
	return rows.Err()
}

// blockEvents reads the events stored in blocks (files). The blocks that may
// hold events of the window are read in time order, one entity at a time
// through event_block_by_time, and with a limit the reading stops once no
// block left can hold an event that would make it.
func (s *Store) blockEvents(ctx context.Context, q EventQuery, loads string, f *found) error {
	if c, a := eventEntities(q); c != "" {
		var entities []int64
		err := s.each(ctx, "SELECT id FROM entity WHERE "+c+" ORDER BY id", a, func(r *sql.Rows) error {
			var id int64
			err := r.Scan(&id)
			entities = append(entities, id)
			return err
		})
		if err != nil {
			return err
		}
		for _, id := range entities {
			if err := s.entityBlockEvents(ctx, q, loads, f, "b.entity_id = ?", id); err != nil {
				return err
			}
		}
		return nil
	}
	return s.entityBlockEvents(ctx, q, loads, f, "1")
}

// entityBlockEvents reads the block events that match q of the blocks cond
// picks (one entity's, or all).
func (s *Store) entityBlockEvents(ctx context.Context, q EventQuery, loads string, f *found, cond string, condArgs ...any) error {
	var from, to int64 = math.MinInt64, math.MaxInt64
	conds, args := []string{cond}, condArgs
	if !q.From.IsZero() {
		from = unixNano(q.From)
		conds = append(conds, "b.time > ? AND b.last_time >= ?")
		args = append(args, satSub(from, blockSpan), from)
	}
	if !q.To.IsZero() {
		to = unixNano(q.To)
		conds = append(conds, "b.time < ?")
		args = append(args, to)
	}
	if loads != "" {
		conds = append(conds, "b.load_id IN (SELECT value FROM json_each(?))")
		args = append(args, loads)
	}
	order := "b.time, b.id"
	if q.Newest {
		order = "b.time DESC, b.id DESC"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT b.load_id, b.time, b.data, (SELECT path FROM load WHERE id = b.load_id)
		FROM event_block b WHERE `+strings.Join(conds, " AND ")+" ORDER BY "+order, args...)
	if err != nil {
		return err
	}
	defer rows.Close()

	var r blockReader
	var data []byte
	var exes []bool // per name of the block: a run of the executable asked for
	for rows.Next() {
		var load, start int64
		var loadPath string
		if err := rows.Scan(&load, &start, &data, &loadPath); err != nil {
			return err
		}
		// Blocks still to come start at or after this one (newest first: at
		// or before it, and end less than blockSpan later), so once limit
		// events are kept, the reading stops at the first block that cannot
		// hold a better one, and skips the events of the others that cannot.
		full, last := f.full()
		if full && ((!q.Newest && last < start) || (q.Newest && last > satAdd(start, blockSpan-1))) {
			break
		}
		if err := r.read(data); err != nil {
			return fmt.Errorf("events of load %d at %s: %w", load, timeOf(start), err)
		}
		exes = exes[:0]
		for _, name := range r.names {
			exes = append(exes, q.Executable == "" || string(name) == q.Executable)
		}
		keep := func(i int) bool {
			e := &r.events[i]
			return e.ns >= from && e.ns < to && exes[e.exe] &&
				(q.PID == 0 || e.pid == q.PID) && (q.PPID == 0 || e.ppid == q.PPID) &&
				(!full || (!q.Newest && e.ns <= last) || (q.Newest && e.ns >= last))
		}
		err := r.each(keep, func(i int, ev *sources.Event, originFile string) error {
			e := &r.events[i]
			ev.Time, ev.PID, ev.PPID = timeOf(e.ns), e.pid, e.ppid
			ev.Origin.File = cmp.Or(originFile, loadPath)
			f.add(foundKey{ns: e.ns, seq1: load, seq2: e.ordinal}, ev)
			return nil
		})
		if err != nil {
			return fmt.Errorf("events of load %d at %s: %w", load, timeOf(start), err)
		}
	}
	return rows.Err()
}

// copyEventBlocks copies into the attached database dst (a schema name) the
// file events of windows: a block wholly inside a window as it is, one that
// straddles a window's edge cut down to the events inside the windows, each
// block once however many windows overlap it. loads, when not nil, is a JSON
// list of the loads whose events to copy. It returns how many events it
// copied.
func copyEventBlocks(ctx context.Context, conn *sql.Conn, dst string, windows []EventWindow, loads any) (int64, error) {
	type span struct{ from, to int64 }
	type stored struct {
		load, entity, start, end int64
		data                     []byte
		spans                    []span
	}
	blocks := map[int64]*stored{}
	for _, w := range windows {
		from, to := unixNano(w.From), unixNano(w.To)
		rows, err := conn.QueryContext(ctx, `SELECT b.id, b.load_id, b.entity_id, b.time, b.last_time, b.data
			FROM main.event_block b
			WHERE b.entity_id IN (SELECT id FROM main.entity WHERE scope = ? AND name = ?)
			AND b.time > ? AND b.time < ? AND b.last_time >= ?
			AND (?6 IS NULL OR b.load_id IN (SELECT value FROM json_each(?6)))`,
			string(w.Scope), w.Entity, satSub(from, blockSpan), to, from, loads)
		if err != nil {
			return 0, fmt.Errorf("copy events: %w", err)
		}
		for rows.Next() {
			var id int64
			b := &stored{}
			if err := rows.Scan(&id, &b.load, &b.entity, &b.start, &b.end, &b.data); err != nil {
				rows.Close()
				return 0, fmt.Errorf("copy events: %w", err)
			}
			if blocks[id] == nil {
				blocks[id] = b
			}
			blocks[id].spans = append(blocks[id].spans, span{from, to})
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, fmt.Errorf("copy events: %w", err)
		}
	}
	ids := make([]int64, 0, len(blocks))
	for id := range blocks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	insert := `INSERT INTO ` + dst + `.event_block (load_id, entity_id, time, last_time, events, data) VALUES (?, ?, ?, ?, ?, ?)`
	var copied int64
	var r blockReader
	nb := newBlockBuilder()
	for _, id := range ids {
		b := blocks[id]
		inside := func(ns int64) bool {
			for _, s := range b.spans {
				if ns >= s.from && ns < s.to {
					return true
				}
			}
			return false
		}
		if err := r.read(b.data); err != nil {
			return 0, fmt.Errorf("copy events of load %d at %s: %w", b.load, timeOf(b.start), err)
		}
		whole := true
		for i := range r.events {
			whole = whole && inside(r.events[i].ns)
		}
		data, start, end, n := b.data, b.start, b.end, len(r.events)
		if !whole {
			nb.reset(b.load, b.entity)
			err := r.each(func(i int) bool { return inside(r.events[i].ns) }, func(i int, ev *sources.Event, originFile string) error {
				e := &r.events[i]
				ev.PID, ev.PPID = e.pid, e.ppid
				nb.add(ev, e.ns, e.ordinal, int64(e.exe), int64(e.host), originFile)
				return nil
			})
			if err != nil {
				return 0, fmt.Errorf("copy events of load %d at %s: %w", b.load, timeOf(b.start), err)
			}
			if nb.n == 0 {
				continue
			}
			data, start, end, n = nb.encode(nil), nb.min, nb.max, nb.n
		}
		if _, err := conn.ExecContext(ctx, insert, b.load, b.entity, start, end, int64(n), data); err != nil {
			return 0, fmt.Errorf("copy events: %w", err)
		}
		copied += int64(n)
	}
	return copied, nil
}
