package cache

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/auditlens/auditlens/sources"
)

// The executions of a file are stored in blocks: one event_block row holds up
// to blockEvents events of one entity of one load, all less than blockSpan
// apart. A row per event cost more than parsing the log (SQLite's B-tree and
// index work, plus cgo for every bound value); a block costs one row for
// hundreds of events, and a file's events are only ever dropped all at once,
// with their load. Drill-down windows and process look-ups decode the few
// blocks that overlap their window.
//
// A block is self-contained but for its load and entity (columns of its
// row), so a block copied to another database reads the same. Its data is,
// after a version byte:
//
//	n                          uvarint: the number of events, at least 1
//	names                      uvarint count, then each a uvarint length and
//	                           its bytes: the block's executables and hosts
//	base time, base ordinal    varints: the first event's
//	time, ordinal, pid, ppid   n zigzag varints each: the difference to the
//	                           previous event's value (the first: to the base,
//	                           or to 0 for pid and ppid)
//	executable                 n uvarints: an index into names
//	host                       n uvarints: 0 none, k names[k-1]
//	records                    n of: a uvarint length, then the event's strings
//
// The ordinal is the event's position in its load, so events at the same
// instant keep the order they were read in. The columns come first so that a
// window, a pid or an executable is checked without touching the strings; the
// strings of events not asked for are read in place, never copied.
//
// A record is the arguments (uvarint 0: the previous event's, 1: none (nil),
// k+2: k arguments, each a shared string), then each string of blockStrings
// (uvarint 0: the previous event's value of that field, the first event's
// "previous" values being empty; 1, for the title only: the arguments joined
// by spaces; else 2 more than a shared string's tag), then the origin line as
// a zigzag varint difference to the previous event's. A shared string is a
// uvarint 2n followed by its n bytes, or 2i+1 for the i-th string of at least
// minShared bytes written so far in the block: commands, titles and paths
// repeat within an hour.
const blockVersion = 1

const (
	// blockEvents bounds a block's events: a look-up decodes whole blocks.
	blockEvents = 512
	// blockSpan bounds the time from a block's first to its last event, so a
	// window's blocks are those starting in (From-blockSpan, To).
	blockSpan = int64(time.Hour)
	// openBlockBytes bounds the bytes held in blocks still open: a log that
	// interleaves thousands of containers stores them smaller rather than
	// growing memory.
	openBlockBytes = 32 << 20
)

// The strings of a record, in order.
const (
	fieldTitle = iota
	fieldName
	fieldContainerID
	fieldContainerName
	fieldContainerRuntime
	fieldUserName
	fieldUserID
	fieldAuditName
	fieldAuditID
	fieldWorkingDir
	fieldResult
	fieldSyscall
	fieldAction
	fieldOriginFile
	fieldOriginIndex
	fieldOriginID
	blockStringCount
)

// blockStrings points at an event's strings in record order. originFile
// stands for ev.Origin.File, "" when it is the load's path.
func blockStrings(ev *sources.Event, originFile *string) [blockStringCount]*string {
	return [blockStringCount]*string{
		&ev.Title, &ev.Name,
		&ev.Container.ID, &ev.Container.Name, &ev.Container.Runtime,
		&ev.User.Name, &ev.User.ID, &ev.User.AuditName, &ev.User.AuditID,
		&ev.WorkingDir, &ev.Result, &ev.Syscall, &ev.Action,
		originFile, &ev.Origin.Index, &ev.Origin.ID,
	}
}

const (
	tagSame    = 0
	tagDerived = 1
	tagShared  = 2

	argsSame    = 0
	argsNil     = 1
	argsLiteral = 2

	// minShared is the shortest string kept for later records of the block
	// to refer back to; a shorter one costs less written again.
	minShared = 4
)

// Block columns, in the order they are stored.
const (
	colTime = iota
	colOrdinal
	colPID
	colPPID
	colExecutable
	colHost
	blockColumns
)

// blockBuilder collects the events of one block as they come.
type blockBuilder struct {
	load, entity int64
	min, max     int64 // event times, Unix nanoseconds
	n            int
	base         [2]int64 // the first event's time and ordinal
	prev         [4]int64 // time, ordinal, pid and ppid of the previous event
	cols         [blockColumns][]byte
	recs         []byte

	// The block's names: executables and hosts, by the caller's keys for them
	// (dictionary ids while ingesting).
	names     []string
	nameBytes int
	exeIndex  map[int64]uint64
	hostIndex map[int64]uint64
	shared    map[string]uint64 // strings of minShared bytes or more met in the block, by order met

	prevStrings [blockStringCount]string
	prevArgs    []string
	prevArgsNil bool
	prevLine    int64
	scratch     []byte
}

func newBlockBuilder() *blockBuilder {
	return &blockBuilder{exeIndex: map[int64]uint64{}, hostIndex: map[int64]uint64{}, shared: map[string]uint64{}}
}

func (b *blockBuilder) reset(load, entity int64) {
	b.load, b.entity, b.n = load, entity, 0
	for i := range b.cols {
		b.cols[i] = b.cols[i][:0]
	}
	b.recs = b.recs[:0]
	clear(b.names)
	b.names, b.nameBytes = b.names[:0], 0
	clear(b.exeIndex)
	clear(b.hostIndex)
	clear(b.shared)
	b.prevStrings = [blockStringCount]string{}
	clear(b.prevArgs)
	b.prevArgs, b.prevArgsNil, b.prevLine = b.prevArgs[:0], false, 0
}

// size is about how many bytes the block's data takes.
func (b *blockBuilder) size() int {
	n := len(b.recs) + b.nameBytes
	for _, c := range b.cols {
		n += len(c)
	}
	return n
}

// fits says whether an event at ns may join the block.
func (b *blockBuilder) fits(ns int64) bool {
	if b.n == 0 {
		return true
	}
	if b.n >= blockEvents {
		return false
	}
	lo, hi := min(b.min, ns), max(b.max, ns)
	d := hi - lo
	return d >= 0 && d < blockSpan // d < 0: the difference overflowed
}

// name returns the index of a name in the block, adding it the first time
// its key is seen.
func (b *blockBuilder) name(index map[int64]uint64, key int64, s string) uint64 {
	if i, ok := index[key]; ok {
		return i
	}
	i := uint64(len(b.names))
	b.names = append(b.names, s)
	b.nameBytes += len(s) + 2
	index[key] = i
	return i
}

// add appends one event. exeKey and hostKey identify its executable and host
// (hostKey 0: no host), ordinal is its position in its load, originFile is ""
// when its file is the load's.
func (b *blockBuilder) add(ev *sources.Event, ns, ordinal, exeKey, hostKey int64, originFile string) {
	if b.n == 0 {
		b.min, b.max = ns, ns
		b.base = [2]int64{ns, ordinal}
		b.prev = [4]int64{ns, ordinal, 0, 0}
	}
	b.min, b.max = min(b.min, ns), max(b.max, ns)
	b.n++
	for i, v := range [4]int64{ns, ordinal, ev.PID, ev.PPID} {
		b.cols[i] = binary.AppendVarint(b.cols[i], v-b.prev[i])
		b.prev[i] = v
	}
	b.cols[colExecutable] = binary.AppendUvarint(b.cols[colExecutable], b.name(b.exeIndex, exeKey, ev.Executable))
	host := uint64(0)
	if hostKey != 0 {
		host = b.name(b.hostIndex, hostKey, ev.Host) + 1
	}
	b.cols[colHost] = binary.AppendUvarint(b.cols[colHost], host)

	r := b.scratch[:0]
	switch {
	case b.n > 1 && (ev.Args == nil) == b.prevArgsNil && slices.Equal(ev.Args, b.prevArgs):
		r = append(r, argsSame)
	case ev.Args == nil:
		r = append(r, argsNil)
	default:
		r = binary.AppendUvarint(r, uint64(len(ev.Args))+argsLiteral)
		for _, a := range ev.Args {
			r = b.appendShared(r, a, 0)
		}
	}
	b.prevArgs = append(b.prevArgs[:0], ev.Args...)
	b.prevArgsNil = ev.Args == nil

	for i, s := range blockStrings(ev, &originFile) {
		switch {
		case *s == b.prevStrings[i]:
			r = append(r, tagSame)
		case i == fieldTitle && len(ev.Args) > 0 && joinsTo(ev.Args, *s):
			r = append(r, tagDerived)
		default:
			r = b.appendShared(r, *s, tagShared)
		}
		b.prevStrings[i] = *s
	}
	r = binary.AppendVarint(r, ev.Origin.Line-b.prevLine)
	b.prevLine = ev.Origin.Line
	b.scratch = r
	b.recs = binary.AppendUvarint(b.recs, uint64(len(r)))
	b.recs = append(b.recs, r...)
}

// appendShared appends s as offset plus 2n and its n bytes, or, when the
// block holds it already, offset plus 2i+1 for the i-th string of at least
// minShared bytes written in the block.
func (b *blockBuilder) appendShared(r []byte, s string, offset uint64) []byte {
	if len(s) >= minShared {
		if i, ok := b.shared[s]; ok {
			return binary.AppendUvarint(r, offset+(i<<1|1))
		}
		b.shared[s] = uint64(len(b.shared))
	}
	r = binary.AppendUvarint(r, offset+(uint64(len(s))<<1))
	return append(r, s...)
}

// encode appends the block's data to dst.
func (b *blockBuilder) encode(dst []byte) []byte {
	dst = append(dst, blockVersion)
	dst = binary.AppendUvarint(dst, uint64(b.n))
	dst = binary.AppendUvarint(dst, uint64(len(b.names)))
	for _, s := range b.names {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = binary.AppendVarint(dst, b.base[0])
	dst = binary.AppendVarint(dst, b.base[1])
	for _, c := range b.cols {
		dst = append(dst, c...)
	}
	return append(dst, b.recs...)
}

// joinsTo says whether s is args joined by single spaces, as a process title
// usually is, without building the joined string.
func joinsTo(args []string, s string) bool {
	for i, a := range args {
		if i > 0 {
			if len(s) == 0 || s[0] != ' ' {
				return false
			}
			s = s[1:]
		}
		if !strings.HasPrefix(s, a) {
			return false
		}
		s = s[len(a):]
	}
	return len(s) == 0
}

var errBadBlock = errors.New("damaged event block")

// blockEvent is one event of a decoded block, before its strings are read.
type blockEvent struct {
	ns, ordinal, pid, ppid int64
	exe                    uint64 // index into the block's names
	host                   uint64 // 0 none, else 1 + index into names
}

// blockReader decodes blocks; its buffers are reused from one block to the
// next.
type blockReader struct {
	events []blockEvent
	names  [][]byte // views into the block last read
	strs   []string // names as strings, made when first needed
	recs   []byte   // the records of the block last read
	title  []byte   // the last title derived from arguments
	shared [][]byte // the strings a record may refer back to
	wanted []bool   // per event: asked for
}

// blockDecoder steps through varints, remembering the first failure.
type blockDecoder struct {
	p   []byte
	bad bool
}

func (d *blockDecoder) uvarint() uint64 {
	v, k := binary.Uvarint(d.p)
	if k <= 0 {
		d.bad, d.p = true, nil
		return 0
	}
	d.p = d.p[k:]
	return v
}

func (d *blockDecoder) varint() int64 {
	v, k := binary.Varint(d.p)
	if k <= 0 {
		d.bad, d.p = true, nil
		return 0
	}
	d.p = d.p[k:]
	return v
}

// bytes takes a uvarint length and that many bytes.
func (d *blockDecoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.bad, d.p = true, nil
		return nil
	}
	b := d.p[:n]
	d.p = d.p[n:]
	return b
}

// shared reads a string written by appendShared, given its tag less the
// offset, and keeps it in shared when later strings may refer back to it.
func (d *blockDecoder) shared(shared *[][]byte, tag uint64) []byte {
	if tag&1 == 1 {
		if tag>>1 >= uint64(len(*shared)) {
			d.bad, d.p = true, nil
			return nil
		}
		return (*shared)[tag>>1]
	}
	n := tag >> 1
	if n > uint64(len(d.p)) {
		d.bad, d.p = true, nil
		return nil
	}
	b := d.p[:n]
	d.p = d.p[n:]
	if n >= minShared {
		*shared = append(*shared, b)
	}
	return b
}

// minRecord is the fewest bytes one event takes in a block: six column
// bytes, a record length, the argument tag, the string tags and the line.
const minRecord = blockColumns + 1 + 1 + blockStringCount + 1

// read decodes a block's names and columns; its records are left for each.
func (r *blockReader) read(data []byte) error {
	if len(data) == 0 || data[0] != blockVersion {
		return errBadBlock
	}
	d := blockDecoder{p: data[1:]}
	n := d.uvarint()
	if d.bad || n == 0 || n > uint64(len(d.p))/minRecord {
		return errBadBlock
	}
	names := d.uvarint()
	if d.bad || names > uint64(len(d.p)) {
		return errBadBlock
	}
	r.names, r.strs = r.names[:0], r.strs[:0]
	for range names {
		r.names = append(r.names, d.bytes())
	}
	base := [2]int64{d.varint(), d.varint()}
	if d.bad || n > uint64(len(d.p))/minRecord {
		return errBadBlock
	}
	r.events = growEvents(r.events, int(n))
	prev := [4]int64{base[0], base[1], 0, 0}
	for c := range 4 {
		for i := range r.events {
			prev[c] += d.varint()
			e := &r.events[i]
			switch c {
			case colTime:
				e.ns = prev[c]
			case colOrdinal:
				e.ordinal = prev[c]
			case colPID:
				e.pid = prev[c]
			case colPPID:
				e.ppid = prev[c]
			}
		}
	}
	for i := range r.events {
		r.events[i].exe = d.uvarint()
	}
	for i := range r.events {
		r.events[i].host = d.uvarint()
	}
	if d.bad {
		return errBadBlock
	}
	for i := range r.events {
		if e := &r.events[i]; e.exe >= names || e.host > names {
			return errBadBlock
		}
	}
	r.recs = d.p
	return nil
}

// growEvents returns s resized to n zeroed elements, reusing its memory.
func growEvents(s []blockEvent, n int) []blockEvent {
	if cap(s) < n {
		return make([]blockEvent, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// name returns names[i] of the block last read as a string, converting each
// name once.
func (r *blockReader) name(i uint64) string {
	for len(r.strs) < len(r.names) {
		r.strs = append(r.strs, string(r.names[len(r.strs)]))
	}
	return r.strs[i]
}

// each walks the records of the block last read, in order, and hands fn the
// events keep wants (keep sees only the columns), every field filled but
// Time, PID and PPID (which the caller has from the columns) and
// Origin.File, which is originFile or, when that is "", the load's path. The
// strings of the others are read in place, never copied, and those past the
// last event wanted not at all.
func (r *blockReader) each(keep func(i int) bool, fn func(i int, ev *sources.Event, originFile string) error) error {
	r.wanted = r.wanted[:0]
	upto := 0
	for i := range r.events {
		w := keep(i)
		r.wanted = append(r.wanted, w)
		if w {
			upto = i + 1
		}
	}
	p := r.recs
	var prevStrings [blockStringCount][]byte
	var prevArgs [][]byte
	shared := r.shared[:0]
	defer func() { r.shared = shared[:0] }()
	prevArgsNil := true
	var prevLine int64
	for i := range upto {
		size, k := binary.Uvarint(p)
		if k <= 0 || size > uint64(len(p)-k) {
			return errBadBlock
		}
		d := blockDecoder{p: p[k : k+int(size)]}
		p = p[k+int(size):]

		switch tag := d.uvarint(); {
		case d.bad:
			return errBadBlock
		case tag == argsSame:
			if i == 0 {
				return errBadBlock
			}
		case tag == argsNil:
			prevArgs, prevArgsNil = prevArgs[:0], true
		default:
			count := tag - argsLiteral
			if count > uint64(len(d.p)) {
				return errBadBlock
			}
			prevArgs, prevArgsNil = prevArgs[:0], false
			for range count {
				prevArgs = append(prevArgs, d.shared(&shared, d.uvarint()))
			}
		}
		for f := range prevStrings {
			switch tag := d.uvarint(); {
			case tag == tagSame:
			case tag == tagDerived:
				if f != fieldTitle || prevArgsNil || len(prevArgs) == 0 {
					return errBadBlock
				}
				r.title = joinArgs(r.title[:0], prevArgs)
				prevStrings[f] = r.title
			default:
				prevStrings[f] = d.shared(&shared, tag-tagShared)
			}
		}
		prevLine += d.varint()
		if d.bad || len(d.p) != 0 {
			return errBadBlock
		}
		if !r.wanted[i] {
			continue
		}
		var ev sources.Event
		var originFile string
		if !prevArgsNil {
			ev.Args = make([]string, len(prevArgs))
			for j, a := range prevArgs {
				ev.Args[j] = string(a)
			}
		}
		for f, s := range blockStrings(&ev, &originFile) {
			*s = string(prevStrings[f])
		}
		e := &r.events[i]
		ev.Executable = r.name(e.exe)
		if e.host > 0 {
			ev.Host = r.name(e.host - 1)
		}
		ev.Origin.Line = prevLine
		if err := fn(i, &ev, originFile); err != nil {
			return err
		}
	}
	if upto == len(r.events) && len(p) != 0 {
		return errBadBlock
	}
	return nil
}

func joinArgs(b []byte, args [][]byte) []byte {
	for i, a := range args {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, a...)
	}
	return b
}

// satSub and satAdd are a-b and a+b (b >= 0) held inside int64.
func satSub(a, b int64) int64 {
	if a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
