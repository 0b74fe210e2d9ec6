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

const (
	kindExecution = 0
	kindOther     = 1

	// flushCounts bounds the in-memory count map: past it, counts go to SQLite,
	// so memory does not grow with input size.
	flushCounts = 1 << 16
	// countRows and eventRows are how many rows one INSERT carries, which
	// spreads the per-statement cost of database/sql and cgo.
	countRows = 64
	eventRows = 32
)

// countKey is one minute_count row.
type countKey struct {
	entity, minute, exe, host, load int64
	kind                            int8
}

// loadState follows one load being written: what it holds so far.
type loadState struct {
	id         int64
	path       string
	events     int64
	executions int64
	first      int64 // Unix nanoseconds
	last       int64
	hasTime    bool
}

func (l *loadState) saw(ns int64, execution bool) {
	l.events++
	if execution {
		l.executions++
	}
	if !l.hasTime || ns < l.first {
		l.first = ns
	}
	if !l.hasTime || ns > l.last {
		l.last = ns
	}
	l.hasTime = true
}

// writer writes counts and events inside one transaction: counts summed in
// memory and flushed in sorted batches, events in multi-row inserts.
type writer struct {
	tx    *sql.Tx
	names *names

	counts        map[countKey]int64
	upsertCounts  *sql.Stmt // countRows rows
	upsertCount   *sql.Stmt // one row
	insertEvents  *sql.Stmt // eventRows rows
	insertEvent   *sql.Stmt // one row
	pendingEvents []any
	pendingRows   int
	arena         []byte

	// The previous event's names, since consecutive events mostly repeat them.
	lastScope    sources.Scope
	lastEntity   string
	lastEntityID int64
	lastHost     string
	lastHostID   int64
	lastExe      string
	lastExeID    int64
	haveLast     bool
}

const eventColumns = "load_id, entity_id, time, host_id, executable_id, pid, ppid, args, detail"

const eventColumnCount = 9

func newWriter(ctx context.Context, s *Store, tx *sql.Tx) (*writer, error) {
	n, err := newNames(ctx, s, tx)
	if err != nil {
		return nil, err
	}
	w := &writer{tx: tx, names: n, counts: make(map[countKey]int64, 1024)}
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = tx.PrepareContext(ctx, q)
		return st
	}
	w.upsertCounts = prep(upsertCountsSQL(countRows))
	w.upsertCount = prep(upsertCountsSQL(1))
	w.insertEvents = prep(insertEventsSQL(eventRows))
	w.insertEvent = prep(insertEventsSQL(1))
	if err != nil {
		n.close()
		return nil, fmt.Errorf("prepare insert statements: %w", err)
	}
	w.pendingEvents = make([]any, 0, eventRows*eventColumnCount)
	return w, nil
}

func upsertCountsSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO minute_count (entity_id, minute, executable_id, kind, host_id, load_id, count) VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("(?,?,?,?,?,?,?)")
	}
	b.WriteString(" ON CONFLICT (entity_id, minute, executable_id, kind, host_id, load_id) DO UPDATE SET count = count + excluded.count")
	return b.String()
}

func insertEventsSQL(rows int) string {
	row := "(" + strings.Repeat("?,", eventColumnCount-1) + "?)"
	var b strings.Builder
	b.WriteString("INSERT INTO event (" + eventColumns + ") VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(row)
	}
	return b.String()
}

// close releases the statements; the transaction's end closes them too.
func (w *writer) close() { w.names.close() }

// ids interns the names an event counts under.
func (w *writer) ids(ctx context.Context, scope sources.Scope, entity, host, exe string) (entityID, hostID, exeID int64, err error) {
	if w.haveLast && scope == w.lastScope && entity == w.lastEntity && host == w.lastHost && exe == w.lastExe {
		return w.lastEntityID, w.lastHostID, w.lastExeID, nil
	}
	if !w.haveLast || scope != w.lastScope || entity != w.lastEntity {
		if w.lastEntityID, err = w.names.entity(ctx, scope, entity); err != nil {
			return 0, 0, 0, err
		}
	}
	if !w.haveLast || host != w.lastHost {
		w.lastHostID = 0
		if host != "" {
			if w.lastHostID, err = w.names.entity(ctx, sources.ScopeHost, host); err != nil {
				return 0, 0, 0, err
			}
		}
	}
	if !w.haveLast || exe != w.lastExe {
		if w.lastExeID, err = w.names.executable(ctx, exe); err != nil {
			return 0, 0, 0, err
		}
	}
	w.lastScope, w.lastEntity, w.lastHost, w.lastExe, w.haveLast = scope, entity, host, exe, true
	return w.lastEntityID, w.lastHostID, w.lastExeID, nil
}

// record is what the cache keeps of one event, taken from the reader's
// event (which the reader reuses) so that it can be stored on another
// goroutine while the reader goes on.
type record struct {
	load              int64
	scope             sources.Scope
	entity, host, exe string
	minute, ns        int64
	pid, ppid         int64
	execution         bool
	args              string // JSON; executions only
	detail            []byte // packed fields; executions only, in the batch's arena
}

// batch is a run of records handed from the reader to the writer.
type batch struct {
	records []record
	arena   []byte
}

const batchSize = 512

func (b *batch) reset() {
	b.records = b.records[:0]
	b.arena = b.arena[:0]
}

// add takes what the cache keeps of ev, counted under load.
func (b *batch) add(ev *sources.Event, load *loadState) error {
	r := record{
		load: load.id, scope: ev.Scope(), entity: ev.Entity(), host: ev.Host, exe: ev.Executable,
		minute: minuteOf(ev.Time), ns: unixNano(ev.Time), pid: ev.PID, ppid: ev.PPID, execution: ev.IsExecution(),
	}
	load.saw(r.ns, r.execution)
	if r.execution {
		args, err := json.Marshal(ev.Args)
		if err != nil {
			return fmt.Errorf("encode arguments: %w", err)
		}
		r.args = string(args)
		originFile := ev.Origin.File
		if originFile == load.path {
			originFile = ""
		}
		start := len(b.arena)
		b.arena = packDetail(b.arena, ev, originFile)
		r.detail = b.arena[start:len(b.arena):len(b.arena)]
	}
	b.records = append(b.records, r)
	return nil
}

// write counts a record and, when it is an execution, keeps it.
func (w *writer) write(ctx context.Context, r *record) error {
	entityID, hostID, exeID, err := w.ids(ctx, r.scope, r.entity, r.host, r.exe)
	if err != nil {
		return err
	}
	kind := int8(kindOther)
	if r.execution {
		kind = kindExecution
	}
	countHost := int64(0)
	if r.scope == sources.ScopeContainer {
		countHost = hostID
	}
	if err := w.count(ctx, countKey{entity: entityID, minute: r.minute, exe: exeID, host: countHost, load: r.load, kind: kind}, 1); err != nil {
		return err
	}
	if !r.execution {
		return nil
	}
	// The packed bytes are copied to the writer's own arena, since the batch
	// goes back to the reader before the last rows are stored; the arena is
	// reset once they are (SQLite copies bound values).
	start := len(w.arena)
	w.arena = append(w.arena, r.detail...)
	w.pendingEvents = append(w.pendingEvents,
		r.load, entityID, r.ns, hostID, exeID, r.pid, r.ppid, r.args, w.arena[start:len(w.arena):len(w.arena)])
	w.pendingRows++
	if w.pendingRows == eventRows {
		return w.flushEvents(ctx)
	}
	return nil
}

// writeBatch writes every record of b.
func (w *writer) writeBatch(ctx context.Context, b *batch) error {
	for i := range b.records {
		if err := w.write(ctx, &b.records[i]); err != nil {
			return err
		}
	}
	return nil
}

// count adds n to one minute_count row, flushing when the map is full.
func (w *writer) count(ctx context.Context, k countKey, n int64) error {
	w.counts[k] += n
	if len(w.counts) >= flushCounts {
		return w.flushCounts(ctx)
	}
	return nil
}

func (w *writer) flushEvents(ctx context.Context) error {
	if w.pendingRows == 0 {
		return nil
	}
	var err error
	if w.pendingRows == eventRows {
		_, err = w.insertEvents.ExecContext(ctx, w.pendingEvents...)
	} else {
		for i := 0; i < w.pendingRows && err == nil; i++ {
			_, err = w.insertEvent.ExecContext(ctx, w.pendingEvents[i*eventColumnCount:(i+1)*eventColumnCount]...)
		}
	}
	w.pendingEvents = w.pendingEvents[:0]
	w.pendingRows = 0
	w.arena = w.arena[:0]
	if err != nil {
		return fmt.Errorf("store events: %w", err)
	}
	return nil
}

// flushCounts writes the summed counts in primary-key order, so SQLite walks
// its B-tree forward instead of jumping around it.
func (w *writer) flushCounts(ctx context.Context) error {
	if len(w.counts) == 0 {
		return nil
	}
	keys := make([]countKey, 0, len(w.counts))
	for k := range w.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b countKey) int {
		return cmp.Or(cmp.Compare(a.entity, b.entity), cmp.Compare(a.minute, b.minute), cmp.Compare(a.exe, b.exe),
			cmp.Compare(a.kind, b.kind), cmp.Compare(a.host, b.host), cmp.Compare(a.load, b.load))
	})
	args := make([]any, 0, countRows*7)
	for len(keys) > 0 {
		st, n := w.upsertCounts, countRows
		if len(keys) < countRows {
			st, n = w.upsertCount, 1
		}
		args = args[:0]
		for _, k := range keys[:n] {
			args = append(args, k.entity, k.minute, k.exe, int64(k.kind), k.host, k.load, w.counts[k])
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("store counts: %w", err)
		}
		keys = keys[n:]
	}
	clear(w.counts)
	return nil
}

// flush writes everything still held in memory.
func (w *writer) flush(ctx context.Context) error {
	if err := w.flushEvents(ctx); err != nil {
		return err
	}
	return w.flushCounts(ctx)
}

// minuteOf is the start of t's minute in Unix seconds, rounding down also
// before 1970.
func minuteOf(t time.Time) int64 {
	s := t.Unix()
	return s - ((s%60)+60)%60
}

// unixNano is t in Unix nanoseconds, clamped to the years 1678-2262 that an
// int64 holds: a time outside them is a broken clock, kept at the edge.
func unixNano(t time.Time) int64 {
	const limit = math.MaxInt64 / int64(time.Second)
	switch s := t.Unix(); {
	case s < -limit:
		return math.MinInt64
	case s >= limit:
		return math.MaxInt64
	}
	return t.UnixNano()
}

// timeOf turns stored Unix nanoseconds back into a UTC time.
func timeOf(ns int64) time.Time { return time.Unix(0, ns).UTC() }
