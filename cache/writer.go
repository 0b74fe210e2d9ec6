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
	flushCounts = 1 << 15
	// eventRows is how many rows one INSERT carries, which spreads the
	// per-statement cost of database/sql and cgo.
	eventRows = 32
)

// countKey names one minute count.
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
// memory and flushed in blocks (countblock.go); the executions of files in
// blocks, those of range-queried sources in multi-row inserts.
type writer struct {
	tx    *sql.Tx
	names *names

	counts        map[countKey]int64
	insertCounts  *sql.Stmt
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

	// File loads keep their executions in blocks (eventblock.go) instead of
	// a row each; range-queried sources, whose spans are replaced piecewise,
	// keep rows.
	blocks      bool
	maxOpen     int // bytes of open blocks past which all are stored
	open        map[blockKey]*blockBuilder
	lastBlock   *blockBuilder
	spare       []*blockBuilder
	openBytes   int
	insertBlock *sql.Stmt
	blockData   []byte

	sorted    []pendingCount // reused by flushCounts
	countRows []countRow
	countData []byte
}

// blockKey names the open block of one entity of one load.
type blockKey struct{ load, entity int64 }

// pendingCount is one summed count, for writing in key order.
type pendingCount struct {
	k countKey
	n int64
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
	w.insertEvents = prep(insertEventsSQL(eventRows))
	w.insertEvent = prep(insertEventsSQL(1))
	w.insertCounts = prep(insertCountBlockSQL(""))
	if err != nil {
		n.close()
		return nil, fmt.Errorf("prepare insert statements: %w", err)
	}
	w.pendingEvents = make([]any, 0, eventRows*eventColumnCount)
	return w, nil
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

// storeBlocks makes the writer keep executions in blocks.
func (w *writer) storeBlocks(ctx context.Context) error {
	st, err := w.tx.PrepareContext(ctx, `INSERT INTO event_block (load_id, entity_id, time, last_time, events, data)
		VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare insert statements: %w", err)
	}
	w.blocks, w.insertBlock, w.open, w.maxOpen = true, st, map[blockKey]*blockBuilder{}, openBlockBytes
	return nil
}

// close releases the statements; the transaction's end closes them too.
func (w *writer) close() {
	w.names.close()
	if w.insertBlock != nil {
		w.insertBlock.Close()
	}
	if w.insertCounts != nil {
		w.insertCounts.Close()
	}
}

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

// record is one event handed from the reader to the writer: a copy of the
// reader's event (which the reader reuses), whose arguments live in the
// batch, so that it can be stored on another goroutine while the reader goes
// on. Encoding is left to the writer, which keeps the reader's goroutine free
// for parsing.
type record struct {
	ev        sources.Event
	load      int64
	ordinal   int64 // the event's position in its load, from 1
	minute    int64
	ns        int64
	execution bool
	sameFile  bool // the event's file is its load's path, not stored per event
}

// batch is a run of records handed from the reader to the writer.
type batch struct {
	records []record
	args    []string // the records' arguments
}

const batchSize = 512

func (b *batch) reset() {
	clear(b.records) // drop the strings, so they can be collected
	b.records = b.records[:0]
	clear(b.args)
	b.args = b.args[:0]
}

// add takes what the cache keeps of ev, counted under load.
func (b *batch) add(ev *sources.Event, load *loadState) error {
	b.records = append(b.records, record{ev: *ev})
	r := &b.records[len(b.records)-1]
	r.load, r.minute, r.ns, r.execution = load.id, minuteOf(ev.Time), unixNano(ev.Time), ev.IsExecution()
	load.saw(r.ns, r.execution)
	r.ordinal = load.events
	if r.execution && len(ev.Args) > 0 {
		start := len(b.args)
		b.args = append(b.args, ev.Args...)
		r.ev.Args = b.args[start:len(b.args):len(b.args)]
	} else if !r.execution {
		r.ev.Args = nil
	} // else nil or empty: nothing the reader can change later
	r.sameFile = ev.Origin.File == load.path
	return nil
}

// write counts a record and, when it is an execution, keeps it.
func (w *writer) write(ctx context.Context, r *record) error {
	ev := &r.ev
	scope := ev.Scope()
	entityID, hostID, exeID, err := w.ids(ctx, scope, ev.Entity(), ev.Host, ev.Executable)
	if err != nil {
		return err
	}
	kind := int8(kindOther)
	if r.execution {
		kind = kindExecution
	}
	countHost := int64(0)
	if scope == sources.ScopeContainer {
		countHost = hostID
	}
	if err := w.count(ctx, countKey{entity: entityID, minute: r.minute, exe: exeID, host: countHost, load: r.load, kind: kind}, 1); err != nil {
		return err
	}
	if !r.execution {
		return nil
	}
	originFile := ev.Origin.File
	if r.sameFile {
		originFile = ""
	}
	if w.blocks {
		return w.addToBlock(ctx, r, entityID, hostID, exeID, originFile)
	}
	args, err := json.Marshal(ev.Args)
	if err != nil {
		return fmt.Errorf("encode arguments: %w", err)
	}
	// SQLite copies bound values, so the arena is reset once the rows are
	// stored.
	start := len(w.arena)
	w.arena = packDetail(w.arena, ev, originFile)
	w.pendingEvents = append(w.pendingEvents,
		r.load, entityID, r.ns, hostID, exeID, ev.PID, ev.PPID, string(args), w.arena[start:len(w.arena):len(w.arena)])
	w.pendingRows++
	if w.pendingRows == eventRows {
		return w.flushEvents(ctx)
	}
	return nil
}

// addToBlock adds an execution to its entity's open block, storing the
// block first when the event does not fit in it.
func (w *writer) addToBlock(ctx context.Context, r *record, entityID, hostID, exeID int64, originFile string) error {
	b := w.lastBlock
	if b == nil || b.load != r.load || b.entity != entityID {
		b = w.open[blockKey{r.load, entityID}]
		if b == nil {
			b = w.newBlock(r.load, entityID)
			w.open[blockKey{r.load, entityID}] = b
		}
		w.lastBlock = b
	}
	if !b.fits(r.ns) {
		if err := w.storeBlock(ctx, b); err != nil {
			return err
		}
	}
	before := b.size()
	b.add(&r.ev, r.ns, r.ordinal, exeID, hostID, originFile)
	w.openBytes += b.size() - before
	if b.n >= blockEvents {
		if err := w.storeBlock(ctx, b); err != nil {
			return err
		}
	}
	if w.openBytes > w.maxOpen {
		return w.flushBlocks(ctx)
	}
	return nil
}

func (w *writer) newBlock(load, entity int64) *blockBuilder {
	var b *blockBuilder
	if n := len(w.spare); n > 0 {
		b, w.spare = w.spare[n-1], w.spare[:n-1]
	} else {
		b = newBlockBuilder()
	}
	b.reset(load, entity)
	return b
}

// storeBlock writes b's events, if any, and empties it for the next ones.
func (w *writer) storeBlock(ctx context.Context, b *blockBuilder) error {
	if b.n == 0 {
		return nil
	}
	w.blockData = b.encode(w.blockData[:0])
	if _, err := w.insertBlock.ExecContext(ctx, b.load, b.entity, b.min, b.max, int64(b.n), w.blockData); err != nil {
		return fmt.Errorf("store events: %w", err)
	}
	w.openBytes -= b.size()
	b.reset(b.load, b.entity)
	return nil
}

// flushBlocks stores every open block, in load and entity order so that the
// rows come out the same for the same input.
func (w *writer) flushBlocks(ctx context.Context) error {
	keys := make([]blockKey, 0, len(w.open))
	for k := range w.open {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b blockKey) int { return cmp.Or(cmp.Compare(a.load, b.load), cmp.Compare(a.entity, b.entity)) })
	for _, k := range keys {
		b := w.open[k]
		if err := w.storeBlock(ctx, b); err != nil {
			return err
		}
		delete(w.open, k)
		w.spare = append(w.spare, b)
	}
	w.lastBlock, w.openBytes = nil, 0
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

// count adds n to one minute count, flushing when the map is full.
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

// flushCounts writes the summed counts as blocks, one per load, entity and
// day.
func (w *writer) flushCounts(ctx context.Context) error {
	if len(w.counts) == 0 {
		return nil
	}
	entries := w.sorted[:0]
	for k, n := range w.counts {
		entries = append(entries, pendingCount{k, n})
	}
	slices.SortFunc(entries, func(a, b pendingCount) int { return compareCountKeys(&a.k, &b.k) })
	w.sorted = entries[:0]
	for len(entries) > 0 {
		k := entries[0].k
		rows := w.countRows[:0]
		for len(entries) > 0 && entries[0].k.load == k.load && entries[0].k.entity == k.entity {
			e := &entries[0]
			rows = append(rows, countRow{minute: e.k.minute, exe: e.k.exe, host: e.k.host, kind: e.k.kind, count: e.n})
			entries = entries[1:]
		}
		w.countRows = rows[:0]
		var err error
		if w.countData, err = storeCountBlocks(ctx, w.insertCounts, k.load, k.entity, rows, w.countData); err != nil {
			return fmt.Errorf("store counts: %w", err)
		}
	}
	clear(w.counts)
	return nil
}

// compareCountKeys orders counts by load and entity, then as a block holds
// them.
func compareCountKeys(a, b *countKey) int {
	switch {
	case a.load != b.load:
		return cmp.Compare(a.load, b.load)
	case a.entity != b.entity:
		return cmp.Compare(a.entity, b.entity)
	case a.minute != b.minute:
		return cmp.Compare(a.minute, b.minute)
	case a.exe != b.exe:
		return cmp.Compare(a.exe, b.exe)
	case a.kind != b.kind:
		return cmp.Compare(a.kind, b.kind)
	}
	return cmp.Compare(a.host, b.host)
}

// flush writes everything still held in memory.
func (w *writer) flush(ctx context.Context) error {
	if err := w.flushBlocks(ctx); err != nil {
		return err
	}
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
