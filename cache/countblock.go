package cache

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// Counts are kept at the minute grain in blocks: one count_block row holds
// the minute counts of one host or container, from one load, within one UTC
// day. A row per minute count cost more to write than parsing the log it came
// from (two B-tree inserts for every count), and reading blocks back is a
// loop over bytes in Go rather than a row per count through SQLite.
//
// A block's data is a format byte (countBlockFormat), then a record per
// count in order of minute, executable, kind and host:
//
//	uvarint  minutes since the previous count's minute (the block's first
//	         minute for the first count)
//	varint   executable id, less the previous count's (zigzag)
//	uvarint  host id << 1 | kind (kind: 0 execution, 1 other event; the host
//	         a container ran on, 0 for a host's own counts)
//	uvarint  count
//
// Blocks of one load and entity may share a day (a load whose counts were
// flushed more than once): readers sum, as they sum the minutes of a bucket.

const (
	countBlockFormat  = 1
	countBlockSeconds = 86400 // a block holds minutes of one UTC day
)

// countRow is one minute count.
type countRow struct {
	minute int64 // Unix seconds, a multiple of 60
	exe    int64
	host   int64
	count  int64
	kind   int8
}

// dayOf is the start of the UTC day a minute lies in.
func dayOf(minute int64) int64 {
	return minute - ((minute%countBlockSeconds)+countBlockSeconds)%countBlockSeconds
}

// errCountBlock says a block's bytes are not a block this package wrote.
var errCountBlock = errors.New("corrupt count block")

// appendCountBlock encodes rows, which are in block order and of one day; the
// block's first minute is the first row's.
func appendCountBlock(dst []byte, rows []countRow) []byte {
	dst = append(dst, countBlockFormat)
	if len(rows) == 0 {
		return dst
	}
	minute, exe := rows[0].minute, int64(0)
	for i := range rows {
		r := &rows[i]
		dst = binary.AppendUvarint(dst, uint64(r.minute-minute)/60)
		dst = binary.AppendVarint(dst, r.exe-exe)
		dst = binary.AppendUvarint(dst, uint64(r.host)<<1|uint64(r.kind&1))
		dst = binary.AppendUvarint(dst, uint64(r.count))
		minute, exe = r.minute, r.exe
	}
	return dst
}

// insertCountBlockSQL stores one block; schema is "" or an attached
// database's name and a dot.
func insertCountBlockSQL(schema string) string {
	return "INSERT INTO " + schema + "count_block (load_id, entity_id, first_minute, last_minute, rows, data) VALUES (?, ?, ?, ?, ?, ?)"
}

// storeCountBlocks stores the rows of one load and entity, in block order, as
// a block per day, with st (insertCountBlockSQL). buf is scratch space, handed
// back for the next call.
func storeCountBlocks(ctx context.Context, st *sql.Stmt, load, entity int64, rows []countRow, buf []byte) ([]byte, error) {
	for len(rows) > 0 {
		end := dayOf(rows[0].minute) + countBlockSeconds
		n := 1
		for n < len(rows) && rows[n].minute < end {
			n++
		}
		buf = appendCountBlock(buf[:0], rows[:n])
		if _, err := st.ExecContext(ctx, load, entity, rows[0].minute, rows[n-1].minute, n, buf); err != nil {
			return buf, err
		}
		rows = rows[n:]
	}
	return buf, nil
}

// countBlockReader reads the rows of one block in order.
type countBlockReader struct {
	data   []byte
	minute int64
	exe    int64
}

func newCountBlockReader(data []byte, first int64) (countBlockReader, error) {
	if len(data) == 0 || data[0] != countBlockFormat {
		return countBlockReader{}, errCountBlock
	}
	return countBlockReader{data: data[1:], minute: first}, nil
}

// next fills r with the next row; false at the end of the block or on
// corrupt bytes (err says which).
func (b *countBlockReader) next(r *countRow) (ok bool, err error) {
	if len(b.data) == 0 {
		return false, nil
	}
	d, n := binary.Uvarint(b.data)
	if n <= 0 || d > countBlockSeconds/60 {
		return false, errCountBlock
	}
	b.data = b.data[n:]
	x, n := binary.Varint(b.data)
	if n <= 0 {
		return false, errCountBlock
	}
	b.data = b.data[n:]
	hk, n := binary.Uvarint(b.data)
	if n <= 0 || hk>>1 > 1<<62 {
		return false, errCountBlock
	}
	b.data = b.data[n:]
	c, n := binary.Uvarint(b.data)
	if n <= 0 || c > 1<<62 {
		return false, errCountBlock
	}
	b.data = b.data[n:]
	b.minute += int64(d) * 60
	b.exe += x
	*r = countRow{minute: b.minute, exe: b.exe, host: int64(hk >> 1), kind: int8(hk & 1), count: int64(c)}
	return true, nil
}

// eachCountBlockRow calls fn for every row of a block.
func eachCountBlockRow(data []byte, first int64, fn func(r *countRow) error) error {
	br, err := newCountBlockReader(data, first)
	if err != nil {
		return err
	}
	var r countRow
	for {
		ok, err := br.next(&r)
		if err != nil || !ok {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
}

// countScan picks minute counts: the conditions a row of counts must meet.
type countScan struct {
	scope    engine.Scope
	entities []string // names; empty: every entity of the scope
	from, to int64    // minutes [from, to), Unix seconds; to 0: unbounded
	bounded  bool     // from and to apply
	sel      sources.Selection
	loads    []int64 // empty: every load
}

// newCountScan builds the scan of the minutes overlapping [from, to); a
// zero time leaves its end open.
func newCountScan(scope engine.Scope, from, to time.Time, sel sources.Selection, entities []string, loads []int64) countScan {
	cs := countScan{scope: scope, entities: entities, sel: sel, loads: loads}
	if !from.IsZero() || !to.IsZero() {
		cs.bounded, cs.from, cs.to = true, minMinute, maxMinute
		if !from.IsZero() {
			cs.from = minuteOf(from)
		}
		if !to.IsZero() {
			cs.to = endSecond(to)
		}
	}
	return cs
}

// The open ends of a bounded scan: far beyond any minute an int64 of
// nanoseconds holds, yet far from overflowing when a day is subtracted.
const (
	minMinute = -1 << 62
	maxMinute = 1 << 62
)

// where is the condition on count_block c for the blocks that may hold rows
// of the scan; param returns the placeholder of one argument.
func (cs countScan) where(param func(v any) string) (string, error) {
	ents, err := entityFilter(cs.scope, cs.entities, param)
	if err != nil {
		return "", err
	}
	sub := "SELECT id FROM entity"
	if ents != "" {
		sub += " WHERE " + ents
	}
	conds := []string{"c.entity_id IN (" + sub + ")"}
	if cs.bounded {
		// A block starts less than a day before its last minute.
		conds = append(conds, "c.first_minute < "+param(cs.to),
			"c.first_minute > "+param(cs.from-countBlockSeconds), "c.last_minute >= "+param(cs.from))
	}
	if len(cs.loads) > 0 {
		list, err := json.Marshal(cs.loads)
		if err != nil {
			return "", err
		}
		conds = append(conds, "c.load_id IN (SELECT value FROM json_each("+param(string(list))+"))")
	}
	return strings.Join(conds, " AND "), nil
}

// keeps reports whether a row of a picked block is one the scan asks for.
func (cs countScan) keeps(r *countRow) bool {
	if cs.sel == sources.Executions && r.kind != kindExecution {
		return false
	}
	return !cs.bounded || r.minute >= cs.from && r.minute < cs.to
}

// queryer runs queries: a database, a connection or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// countBlock is a block as eachCount hands it out.
type countBlock struct {
	id, entity, load int64
}

// eachCount calls fn for every minute count the scan picks, block by block
// (a block's rows in order).
func eachCount(ctx context.Context, q queryer, cs countScan, fn func(b countBlock, r *countRow) error) error {
	var args []any
	where, err := cs.where(func(v any) string {
		args = append(args, v)
		return "?"
	})
	if err != nil {
		return err
	}
	rows, err := q.QueryContext(ctx, `SELECT c.id, c.entity_id, c.load_id, c.first_minute, c.data FROM count_block c WHERE `+where, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var data sql.RawBytes // valid until the next row: decoded at once
	for rows.Next() {
		var b countBlock
		var first int64
		if err := rows.Scan(&b.id, &b.entity, &b.load, &first, &data); err != nil {
			return err
		}
		err := eachCountBlockRow(data, first, func(r *countRow) error {
			if !cs.keeps(r) {
				return nil
			}
			return fn(b, r)
		})
		if err != nil {
			return fmt.Errorf("counts of entity %d, load %d: %w", b.entity, b.load, err)
		}
	}
	return rows.Err()
}
