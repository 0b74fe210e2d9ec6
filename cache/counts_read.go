package cache

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// How Counts reads. The range is cut into windows of whole buckets, aligned
// to the epoch. One statement per window seeks the count blocks
// (countblock.go) of the asked entities that may hold minutes of the window,
// and Go decodes them, keeping the window's minutes. Go sums the minutes into
// buckets by integer keys (bucket, entity rank, executable rank) with a radix
// sort, and hands out counts whose names are shared strings. A reader
// goroutine reads and sums a window while the caller's goroutine hands out
// the one before, so decoding and the caller's work overlap. Memory follows
// the window, not the range: each window is sized from the row density of
// the one before it to hold about countWindowRows minute rows (more for a
// fleet of many thousand entities, as each window seeks every one).
const (
	// countWindowRows is the number of minute rows a window aims at; a
	// window's entries take 16 bytes a row, and at most four windows' worth
	// of buffers exist at once.
	countWindowRows = 1 << 19
	// firstWindow is the first window's length in seconds: small, so that a
	// dense cache does not overshoot before its density is known.
	firstWindow = 60
	// windowGrowth bounds how fast windows grow, so that one sparse window
	// does not predict a huge next one.
	windowGrowth = 8
	// maxWindow bounds a window's length in seconds (about 34,000 years).
	maxWindow = 1 << 40
	// maxChunkBucketBits bounds the buckets one chunk holds.
	maxChunkBucketBits = 20
	// entityWindowRows is the minute rows a window aims at per entity asked:
	// a window seeks every entity (about a microsecond each, as long as four
	// rows take), so a fleet of many hosts or containers reads in larger
	// windows.
	entityWindowRows = 8
)

// countEntry is one minute row, or a sum of them. key packs, high bits to
// low, the bucket index within its chunk, the entity's rank and the
// executable: its local index while read, its rank once sorted.
type countEntry struct {
	key   uint64
	count int64
}

// countEntity is an entity of the query; its rank is its index.
type countEntity struct {
	scope engine.Scope
	name  string
}

// countChunk is whole buckets of counts, summed and in order.
type countChunk struct {
	sums    []countEntry // keys hold executable ranks
	cs      int64        // the first bucket's start
	span    int64
	ents    []countEntity
	paths   []string // rank -> path
	exeBits uint
	entBits uint
}

// denseExecutables bounds the executable ids looked up in a table (4 bytes
// an id); larger ones go through a map.
const denseExecutables = 1 << 22

// noRank marks an executable without a row: its counts are dropped, as the
// join of a query drops them.
const noRank = math.MaxUint32

// countBuffers is how many entry buffers a read uses: the reader's two
// (entries and sort scratch), one chunk queued and one being handed out.
const countBuffers = 4

// countPipe carries chunks from the reader to the caller's goroutine and
// their buffers back.
type countPipe struct {
	chunks chan *countChunk
	free   chan []countEntry
}

// streamCounts reads and sums on its own goroutine and connection and hands
// out the counts on the caller's; windowRows is the number of minute rows a
// window aims at.
func (s *Store) streamCounts(ctx context.Context, q CountQuery, span int64, windowRows int, fn func(engine.Count) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("query counts: %w", err)
	}
	// Runs last: Close waits for the reader to give the connection back.
	defer conn.Close()
	readCtx, stop := context.WithCancel(ctx)
	defer stop()
	pipe := &countPipe{chunks: make(chan *countChunk, 1), free: make(chan []countEntry, countBuffers)}
	var readErr error
	go func() {
		defer close(pipe.chunks)
		readErr = conn.Raw(func(dc any) error {
			return readBucketCounts(readCtx, dc, q, span, windowRows, pipe)
		})
	}()
	var emitErr error
	for ch := range pipe.chunks {
		if emitErr == nil {
			if emitErr = emitChunk(ctx, ch, fn); emitErr != nil {
				stop()
			}
		}
		select {
		case pipe.free <- ch.sums[:0]:
		default:
		}
	}
	if emitErr != nil {
		var cb callbackError
		if errors.As(emitErr, &cb) {
			return cb.err
		}
		return fmt.Errorf("query counts: %w", emitErr)
	}
	return readErr
}

// callbackError carries fn's error out unwrapped.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// cancelCheck is how many counts are handed out between looks at the
// context: a cancelled read stops within as many.
const cancelCheck = 256

// emitChunk hands a chunk's counts to fn in order.
func emitChunk(ctx context.Context, ch *countChunk, fn func(engine.Count) error) error {
	exeMask := uint64(1)<<ch.exeBits - 1
	entMask := uint64(1)<<ch.entBits - 1
	biShift := ch.entBits + ch.exeBits
	done := ctx.Done()
	for i, e := range ch.sums {
		if i%cancelCheck == 0 {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
		}
		ent := &ch.ents[(e.key>>ch.exeBits)&entMask]
		c := engine.Count{
			Scope:      ent.scope,
			Entity:     ent.name,
			Bucket:     ch.cs + int64(e.key>>biShift)*ch.span,
			Executable: ch.paths[e.key&exeMask],
			Count:      e.count,
		}
		if err := fn(c); err != nil {
			return callbackError{err}
		}
	}
	return nil
}

// countSorter sums entries; it keeps its scratch buffers between chunks.
type countSorter struct {
	tmp  []countEntry
	hist [][radixSize]uint32
}

// sum turns the executables of entries into ranks (dropping those without
// one), sorts by key and sums equal keys. The sums sit at the start of
// entries' or the scratch buffer's array.
func (s *countSorter) sum(entries []countEntry, rank []uint32, exeBits, width uint) ([]countEntry, error) {
	exeMask := uint64(1)<<exeBits - 1
	kept := entries[:0]
	for _, e := range entries {
		rk := rank[e.key&exeMask]
		if rk == noRank {
			continue
		}
		e.key = e.key&^exeMask | uint64(rk)
		kept = append(kept, e)
	}
	if len(kept) == 0 {
		return kept, nil
	}
	if cap(s.tmp) < len(kept) {
		s.tmp = make([]countEntry, len(kept), cap(entries))
	}
	sorted := radixSort(kept, s.tmp[:len(kept)], width, &s.hist)
	merged := sorted[:1]
	for _, e := range sorted[1:] {
		last := &merged[len(merged)-1]
		if e.key != last.key {
			merged = append(merged, e)
			continue
		}
		n := last.count + e.count
		if (n > last.count) != (e.count > 0) {
			return nil, errors.New("integer overflow")
		}
		last.count = n
	}
	return merged, nil
}

// rawConn is what the reader needs of the SQLite driver's connection.
type rawConn interface {
	driver.ExecerContext
	driver.QueryerContext
	driver.ConnPrepareContext
}

// countReader reads the windows of one Counts query.
type countReader struct {
	ctx  context.Context
	conn rawConn
	q    CountQuery
	span int64
	pipe *countPipe
	// windowRows is the number of minute rows a window aims at.
	windowRows int

	ents    []countEntity
	entIDs  []int64
	entRank map[int64]uint64 // entity id -> rank, shifted into place
	entBits uint

	exeMax    int64
	exeBits   uint
	exeLocal  []int32          // executable id -> local index + 1; 0 when not met yet
	exeSparse map[uint64]int32 // the same for ids from denseExecutables on
	exeIDs    []int64          // local index -> id
	paths     []string
	missing   []bool
	pending   []int32  // local indexes whose path is not read yet
	rank      []uint32 // local index -> rank; rebuilt, never changed, once handed out
	byRank    []int32  // rank -> local index
	byPath    []string // rank -> path
	ranked    bool

	window driver.Stmt
	args   numbered

	// The chunk being read: buckets [cs, end).
	cs, end int64
	biBits  uint
	buf     []countEntry
	sorter  countSorter
	buffers int // entry buffers made for chunks after the first
	rows    int // entries of the last chunk summed, before summing
}

// readBucketCounts reads a Counts query on a connection of the driver and
// sends its chunks down the pipe; span is the bucket span in seconds.
func readBucketCounts(ctx context.Context, dc any, q CountQuery, span int64, windowRows int, pipe *countPipe) (err error) {
	conn, ok := dc.(rawConn)
	if !ok {
		return fmt.Errorf("query counts: the SQLite driver's connection (%T) cannot run queries", dc)
	}
	r := &countReader{ctx: ctx, conn: conn, q: q, span: span, windowRows: max(windowRows, 1), pipe: pipe}
	// One read transaction holds every window to the same snapshot.
	if _, err := conn.ExecContext(ctx, "BEGIN", nil); err != nil {
		return fmt.Errorf("query counts: %w", err)
	}
	defer func() {
		if r.window != nil {
			r.window.Close()
		}
		// The connection goes back to the pool: it must not stay inside
		// the transaction, else it is dropped.
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK", nil); rerr != nil {
			err = errors.Join(err, fmt.Errorf("query counts: end the read: %w: %w", rerr, driver.ErrBadConn))
		}
	}()
	if err := r.read(); err != nil {
		return fmt.Errorf("query counts: %w", err)
	}
	return nil
}

func (r *countReader) read() error {
	ok, err := r.loadEntities()
	if err != nil || !ok {
		return err
	}
	ok, err = r.loadExecutableRange()
	if err != nil || !ok {
		return err
	}
	r.entRank = make(map[int64]uint64, len(r.entIDs))
	for i, id := range r.entIDs {
		r.entRank[id] = uint64(i) << r.exeBits
	}
	lo, hi, ok, err := r.bounds()
	if err != nil || !ok {
		return err
	}
	r.windowRows = max(r.windowRows, entityWindowRows*len(r.ents))
	if err := r.prepareWindow(); err != nil {
		return err
	}
	// A key holds bucket index, entity and executable in 64 bits; SQLite's
	// packed key holds bucket index and executable in 63.
	maxBits := min(maxChunkBucketBits, 62-int(r.exeBits), 64-int(r.entBits)-int(r.exeBits))
	if maxBits < 0 {
		// Ids this large are not made by this package: the file was
		// written elsewhere.
		return fmt.Errorf("executable ids reach %d and %d hosts or containers are asked: more than a count key holds", r.exeMax, len(r.ents))
	}
	kCap := int64(1) << maxBits
	w := int64(firstWindow)
	density := 0.0 // rows a second in the last window
	open := false
	for pos := lo; pos < hi; {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if !open {
			r.cs = floorDiv(pos, r.span) * r.span
			k := max(1, min((pos-r.cs+w)/r.span, kCap))
			r.end = r.cs + k*r.span
			r.biBits = uint(bits.Len64(uint64(k - 1)))
			open = true
		}
		end := min(pos+w, r.end, hi)
		// Room for the rows the last window's density predicts, so the
		// buffer does not grow by doubling.
		if density > 0 {
			r.buf = slices.Grow(r.buf, int(min(density*float64(end-pos)*1.125, 4*float64(r.windowRows))))
		}
		rows, err := r.readWindow(pos, end)
		if err != nil {
			return err
		}
		density = float64(rows) / float64(end-pos)
		w = nextWindow(w, end-pos, rows, r.windowRows)
		pos = end
		switch {
		case pos >= r.end || pos >= hi:
			if err := r.send(); err != nil {
				return err
			}
			open = false
		case len(r.buf) >= r.windowRows:
			// A bucket longer than a window: fold what it holds so far.
			if err := r.foldChunk(); err != nil {
				return err
			}
		}
	}
	return nil
}

// nextWindow sizes the next window from the rows the last one held.
func nextWindow(w, length int64, rows, target int) int64 {
	next := w * windowGrowth
	if rows > 0 {
		if est := float64(length) * float64(target) / float64(rows); est < float64(next) {
			next = int64(est)
		}
	}
	return min(max(next, 60), maxWindow)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// query runs one statement and hands every row to fn.
func (r *countReader) query(query string, args []driver.NamedValue, fn func(row []driver.Value) error) error {
	rows, err := r.conn.QueryContext(r.ctx, query, args)
	if err != nil {
		return err
	}
	return eachRow(rows, fn)
}

func eachRow(rows driver.Rows, fn func(row []driver.Value) error) error {
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	for {
		if err := rows.Next(dest); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if err := fn(dest); err != nil {
			return err
		}
	}
}

// numbered collects the arguments of ?NNN placeholders.
type numbered []driver.NamedValue

func (n *numbered) param(v any) string {
	*n = append(*n, driver.NamedValue{Ordinal: len(*n) + 1, Value: v})
	return "?" + strconv.Itoa(len(*n))
}

// oneBlock makes the strings substrings of one: every count handed out then
// points into a few blocks, which keeps the garbage collector's work small
// when a caller keeps millions of counts.
func oneBlock(strs []string) []string {
	n := 0
	for _, s := range strs {
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range strs {
		b.WriteString(s)
	}
	block := b.String()
	out := make([]string, len(strs))
	at := 0
	for i, s := range strs {
		out[i] = block[at : at+len(s)]
		at += len(s)
	}
	return out
}

func textOf(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case []byte:
		return string(t), true
	}
	return "", false
}

// entityWhere is the WHERE clause over entity that picks the query's
// entities, or "" for all of them.
func entityWhere(q CountQuery, args *numbered) (string, error) {
	where, err := entityFilter(q.Scope, q.Entities, args.param)
	if where != "" {
		where = " WHERE " + where
	}
	return where, err
}

// loadEntities reads the asked entities in output order; false when none.
func (r *countReader) loadEntities() (bool, error) {
	var args numbered
	where, err := entityWhere(r.q, &args)
	if err != nil {
		return false, err
	}
	err = r.query("SELECT id, scope, name FROM entity"+where+" ORDER BY scope, name", args, func(row []driver.Value) error {
		id, ok1 := row[0].(int64)
		scope, ok2 := textOf(row[1])
		name, ok3 := textOf(row[2])
		if !ok1 || !ok2 || !ok3 {
			return fmt.Errorf("entity row of unexpected types %T %T %T", row[0], row[1], row[2])
		}
		r.entIDs = append(r.entIDs, id)
		r.ents = append(r.ents, countEntity{scope: engine.Scope(scope), name: name})
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("read entities: %w", err)
	}
	if len(r.ents) == 0 {
		return false, nil
	}
	names := make([]string, len(r.ents))
	for i, e := range r.ents {
		names[i] = e.name
	}
	names = oneBlock(names)
	for i := range r.ents {
		r.ents[i].name = names[i]
		// The constants are no heap objects for the collector to mark.
		switch r.ents[i].scope {
		case engine.ScopeHost:
			r.ents[i].scope = engine.ScopeHost
		case engine.ScopeContainer:
			r.ents[i].scope = engine.ScopeContainer
		}
	}
	r.entBits = uint(bits.Len64(uint64(len(r.ents) - 1)))
	return true, nil
}

// loadExecutableRange reads the highest executable id, which sizes an
// executable's bits; false when there is no executable.
func (r *countReader) loadExecutableRange() (bool, error) {
	var found bool
	err := r.query("SELECT max(id) FROM executable", nil, func(row []driver.Value) error {
		r.exeMax, found = row[0].(int64)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("read executables: %w", err)
	}
	if !found || r.exeMax < 0 {
		return false, nil
	}
	r.exeBits = uint(bits.Len64(uint64(r.exeMax)))
	return true, nil
}

// bounds is the range of minutes to read: the query's, narrowed to the
// asked entities' first and last minute (so that a wide or open range costs
// no empty windows); false when empty.
func (r *countReader) bounds() (lo, hi int64, ok bool, err error) {
	// The entity index gives each entity's first minute in a seek, and its
	// last from the entity's blocks.
	var args numbered
	where, err := entityWhere(r.q, &args)
	if err != nil {
		return 0, 0, false, err
	}
	var first, last int64
	var found bool
	err = r.query(`SELECT min(m0), max(m1) FROM (SELECT
		(SELECT min(first_minute) FROM count_block WHERE entity_id = e.id) AS m0,
		(SELECT max(last_minute) FROM count_block WHERE entity_id = e.id) AS m1
		FROM entity e`+where+`)`, args, func(row []driver.Value) error {
		a, ok1 := row[0].(int64)
		b, ok2 := row[1].(int64)
		first, last, found = a, b, ok1 && ok2
		return nil
	})
	if err != nil {
		return 0, 0, false, fmt.Errorf("read the time range: %w", err)
	}
	// A minute is a multiple of 60, which the last int64 is not.
	if !found || last == math.MaxInt64 {
		return 0, 0, false, nil
	}
	lo, hi = first, last+1
	if !r.q.From.IsZero() {
		lo = max(lo, minuteOf(r.q.From))
	}
	if !r.q.To.IsZero() {
		hi = min(hi, endSecond(r.q.To))
	}
	return lo, hi, lo < hi, nil
}

// windowQuery is the statement that reads the blocks that may hold minutes
// of one window of q: its arguments are the window's first and end minute,
// then those of the entity and load filters.
func windowQuery(q CountQuery) (string, numbered, error) {
	args := numbered{{Ordinal: 1, Value: int64(0)}, {Ordinal: 2, Value: int64(0)}}
	where, err := entityWhere(q, &args)
	if err != nil {
		return "", nil, err
	}
	// A block starts less than a day before its last minute, so the entity
	// index is read from a day before the window on.
	conds := []string{
		"c.entity_id IN (SELECT id FROM entity" + where + ")",
		fmt.Sprintf("c.first_minute < ?2 AND c.first_minute > ?1 - %d AND c.last_minute >= ?1", countBlockSeconds),
	}
	if len(q.Loads) > 0 {
		list, err := json.Marshal(q.Loads)
		if err != nil {
			return "", nil, err
		}
		// The unary + keeps SQLite off the load index, which would read a
		// load's whole time range for every window.
		conds = append(conds, "+c.load_id IN (SELECT value FROM json_each("+args.param(string(list))+"))")
	}
	return `SELECT c.entity_id, c.first_minute, c.data FROM count_block c WHERE ` + strings.Join(conds, " AND "), args, nil
}

func (r *countReader) prepareWindow() error {
	query, args, err := windowQuery(r.q)
	if err != nil {
		return err
	}
	st, err := r.conn.PrepareContext(r.ctx, query)
	if err != nil {
		return fmt.Errorf("prepare the count read: %w", err)
	}
	r.window, r.args = st, args
	return nil
}

// readWindow adds the minute counts of [lo, hi) to the chunk and returns how
// many it read.
func (r *countReader) readWindow(lo, hi int64) (int, error) {
	r.args[0].Value = lo
	r.args[1].Value = hi
	stq, ok := r.window.(driver.StmtQueryContext)
	if !ok {
		return 0, fmt.Errorf("the SQLite driver's statement (%T) cannot run queries", r.window)
	}
	rows, err := stq.QueryContext(r.ctx, r.args)
	if err != nil {
		return 0, fmt.Errorf("read counts: %w", err)
	}
	before := len(r.buf)
	err = eachRow(rows, func(row []driver.Value) error {
		id, ok1 := row[0].(int64)
		first, ok2 := row[1].(int64)
		data, ok3 := row[2].([]byte)
		if !ok1 || !ok2 || !ok3 {
			return fmt.Errorf("count block of unexpected types %T %T %T", row[0], row[1], row[2])
		}
		er, ok := r.entRank[id]
		if !ok {
			return fmt.Errorf("counts of entity %d, which the query did not ask for", id)
		}
		if err := r.addMinutes(er, data, first, lo, hi); err != nil {
			return fmt.Errorf("counts of entity %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read counts: %w", err)
	}
	if err := r.resolveExecutables(); err != nil {
		return 0, err
	}
	return len(r.buf) - before, nil
}

// addMinutes adds the minutes of [lo, hi) that one block of an entity holds.
func (r *countReader) addMinutes(er uint64, data []byte, first, lo, hi int64) error {
	biShift := r.entBits + r.exeBits
	br, err := newCountBlockReader(data, first)
	if err != nil {
		return err
	}
	executions := r.q.Selection == sources.Executions
	var c countRow
	for {
		ok, err := br.next(&c)
		if err != nil || !ok {
			return err
		}
		// Executables without a row would not be named, and the bound
		// keeps the key within its bits.
		if c.minute < lo || c.minute >= hi || executions && c.kind != kindExecution || c.exe < 0 || c.exe > r.exeMax {
			continue
		}
		bi := uint64(c.minute-r.cs) / uint64(r.span)
		x := uint64(c.exe)
		l := int32(-1)
		if x < uint64(len(r.exeLocal)) {
			l = r.exeLocal[x] - 1
		}
		if l < 0 {
			l = r.localOf(x)
		}
		r.buf = append(r.buf, countEntry{key: bi<<biShift | er | uint64(l), count: c.count})
	}
}

// localOf is the local index of an executable id, made when it is met
// first. Ids index a table up to denseExecutables; beyond, a map (ids are
// dense from 1 in a cache this package wrote, but a file may come from
// elsewhere).
func (r *countReader) localOf(x uint64) int32 {
	if l, ok := r.exeSparse[x]; ok {
		return l
	}
	if x < uint64(len(r.exeLocal)) && r.exeLocal[x] > 0 {
		return r.exeLocal[x] - 1
	}
	l := int32(len(r.exeIDs))
	switch {
	case x < denseExecutables:
		if x >= uint64(len(r.exeLocal)) {
			r.exeLocal = slices.Grow(r.exeLocal, int(x)+1-len(r.exeLocal))[:int(x)+1]
		}
		r.exeLocal[x] = l + 1
	default:
		if r.exeSparse == nil {
			r.exeSparse = map[uint64]int32{}
		}
		r.exeSparse[x] = l
	}
	r.exeIDs = append(r.exeIDs, int64(x))
	r.paths = append(r.paths, "")
	r.missing = append(r.missing, true)
	r.pending = append(r.pending, l)
	return l
}

// local is the local index of an executable id already met.
func (r *countReader) local(id int64) (int32, bool) {
	if id < 0 {
		return 0, false
	}
	if id < int64(len(r.exeLocal)) && r.exeLocal[id] > 0 {
		return r.exeLocal[id] - 1, true
	}
	l, ok := r.exeSparse[uint64(id)]
	return l, ok
}

// resolveExecutables reads the paths of the executables met for the first
// time.
func (r *countReader) resolveExecutables() error {
	if len(r.pending) == 0 {
		return nil
	}
	ids := make([]int64, len(r.pending))
	for i, l := range r.pending {
		ids[i] = r.exeIDs[l]
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	err = r.query("SELECT id, path FROM executable WHERE id IN (SELECT value FROM json_each(?1))",
		[]driver.NamedValue{{Ordinal: 1, Value: string(list)}}, func(row []driver.Value) error {
			id, ok1 := row[0].(int64)
			path, ok2 := textOf(row[1])
			l, known := r.local(id)
			if !ok1 || !ok2 || !known {
				return fmt.Errorf("unexpected executable row %v %T", row[0], row[1])
			}
			r.paths[l], r.missing[l] = path, false
			return nil
		})
	if err != nil {
		return fmt.Errorf("read executables: %w", err)
	}
	r.pending = r.pending[:0]
	r.ranked = false
	return nil
}

// rankExecutables orders the paths met in byte order. The tables are made
// anew, as chunks handed out keep the old ones.
func (r *countReader) rankExecutables() {
	if r.ranked {
		return
	}
	byRank := make([]int32, 0, len(r.exeIDs))
	for l := range r.exeIDs {
		if !r.missing[l] {
			byRank = append(byRank, int32(l))
		}
	}
	slices.SortFunc(byRank, func(a, b int32) int { return strings.Compare(r.paths[a], r.paths[b]) })
	rank := make([]uint32, len(r.exeIDs))
	for i := range rank {
		rank[i] = noRank
	}
	byPath := make([]string, len(byRank))
	for i, l := range byRank {
		rank[l] = uint32(i)
		byPath[i] = r.paths[l]
	}
	byPath = oneBlock(byPath)
	r.rank, r.byRank, r.byPath, r.ranked = rank, byRank, byPath, true
}

// sumChunk sums the chunk read so far in place: afterwards r.buf holds the
// sums, their keys holding executable ranks.
func (r *countReader) sumChunk() error {
	r.rows = len(r.buf)
	r.rankExecutables()
	sums, err := r.sorter.sum(r.buf, r.rank, r.exeBits, r.biBits+r.entBits+r.exeBits)
	if err != nil {
		return err
	}
	if len(sums) > 0 && &sums[0] != &r.buf[0] {
		// The sums sit in the scratch buffer: the entries' array is the
		// scratch now.
		r.sorter.tmp = r.buf
	}
	r.buf = sums
	return nil
}

// send sums the finished chunk, hands it to the caller's goroutine and takes
// a free buffer for the next one.
func (r *countReader) send() error {
	if err := r.sumChunk(); err != nil {
		return err
	}
	if len(r.buf) == 0 {
		return nil
	}
	ch := &countChunk{sums: r.buf, cs: r.cs, span: r.span, ents: r.ents, paths: r.byPath, exeBits: r.exeBits, entBits: r.entBits}
	select {
	case r.pipe.chunks <- ch:
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
	// A buffer comes back once its chunk is handed out; until countBuffers
	// exist (the first two are the entries' and the sort's), a new one is
	// made for as many entries as the last chunk had.
	if r.buffers < countBuffers-2 {
		select {
		case r.buf = <-r.pipe.free:
		default:
			r.buf = make([]countEntry, 0, r.rows+r.rows/8)
			r.buffers++
		}
		return nil
	}
	select {
	case r.buf = <-r.pipe.free:
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
	return nil
}

// foldChunk sums what the chunk holds so far and turns the ranks back into
// local indexes, so that the minutes read next join them.
func (r *countReader) foldChunk() error {
	if err := r.sumChunk(); err != nil {
		return err
	}
	exeMask := uint64(1)<<r.exeBits - 1
	for i := range r.buf {
		e := &r.buf[i]
		e.key = e.key&^exeMask | uint64(r.byRank[e.key&exeMask])
	}
	return nil
}

// radixMaxBits is the widest digit of the radix sort: its counters fit in
// the first-level cache.
const (
	radixMaxBits = 12
	radixSize    = 1 << radixMaxBits
)

// radixSort sorts a by the low width bits of the key, least significant digit
// first, with tmp (as long as a) as scratch; it returns the buffer that holds
// the result. The digits are as wide as needed for the fewest passes, and
// digits that every key shares are skipped.
func radixSort(a, tmp []countEntry, width uint, hist *[][radixSize]uint32) []countEntry {
	passes := (width + radixMaxBits - 1) / radixMaxBits
	if passes == 0 || len(a) < 2 {
		return a
	}
	digit := (width + passes - 1) / passes
	mask := uint64(1)<<digit - 1
	if uint(len(*hist)) < passes {
		*hist = make([][radixSize]uint32, passes)
	}
	h := (*hist)[:passes]
	for p := range h {
		clear(h[p][:mask+1])
	}
	for _, e := range a {
		k := e.key
		for p := range h {
			h[p][k&mask]++
			k >>= digit
		}
	}
	src, dst := a, tmp
	n := uint32(len(a))
	for p := range h {
		shift := uint(p) * digit
		if h[p][(src[0].key>>shift)&mask] == n {
			continue
		}
		var sum uint32
		for d := range h[p][:mask+1] {
			c := h[p][d]
			h[p][d] = sum
			sum += c
		}
		for _, e := range src {
			d := (e.key >> shift) & mask
			dst[h[p][d]] = e
			h[p][d]++
		}
		src, dst = dst, src
	}
	return src
}
