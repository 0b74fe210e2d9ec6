package sources

import (
	"sort"

	"github.com/elastic/go-libaudit/v2/auparse"
)

// auditWindow groups the messages of one node into events by the rules of
// go-libaudit's Reassembler, rule for rule: events wait in a window ordered by
// serial (the Reassembler's rollover-aware order), the oldest leaves once it
// is complete or the window is over its size, and closing flushes them all in
// that order. It drops what a file has no use for and what dominated the cost
// of reading one: a lock, two wall-clock reads, a sort and three allocations
// per event. Its timeout is never reached when reading files (see
// reassemblyTimeout), and lost-event counts are not reported. A differential
// test holds it to the Reassembler's answers.
type auditWindow struct {
	maxSize int
	seqs    auditSerials // the serials waiting, oldest first
	events  map[uint32]*windowEvent
	// numeric says seqs is in plain numeric order and spans at most
	// maxSortRange, where the rollover-aware order is the numeric one.
	numeric bool
	free    []*windowEvent
	done    func([]*auparse.AuditMessage)
}

type windowEvent struct {
	msgs     []*auparse.AuditMessage
	complete bool
}

// maxSortRange is go-libaudit's: serials further apart are taken to have
// rolled over.
const maxSortRange = 1<<24 - 1

// auditSerials sorts as go-libaudit's sequenceNumSlice does.
type auditSerials []uint32

func (p auditSerials) Len() int      { return len(p) }
func (p auditSerials) Swap(i, j int) { p[i], p[j] = p[j], p[i] }
func (p auditSerials) Less(i, j int) bool {
	diff := int64(p[i]) - int64(p[j])
	if diff < 0 {
		diff = -diff
	}
	if diff > maxSortRange {
		return p[i] > p[j]
	}
	return p[i] < p[j]
}

func newAuditWindow(maxSize int, done func([]*auparse.AuditMessage)) *auditWindow {
	return &auditWindow{
		maxSize: maxSize,
		seqs:    make(auditSerials, 0, maxSize+1),
		events:  make(map[uint32]*windowEvent, maxSize+1),
		numeric: true,
		done:    done,
	}
}

// push is Reassembler.PushMessage.
func (w *auditWindow) push(msg *auparse.AuditMessage) {
	w.put(msg)
	w.cleanUp()
}

func (w *auditWindow) put(msg *auparse.AuditMessage) {
	seq := msg.Sequence
	e, found := w.events[seq]
	if msg.RecordType == auparse.AUDIT_EOE {
		if found {
			e.complete = true
		}
		return
	}
	if !found {
		w.insert(seq)
		if n := len(w.free); n > 0 {
			e, w.free = w.free[n-1], w.free[:n-1]
		} else {
			e = &windowEvent{msgs: make([]*auparse.AuditMessage, 0, 4)}
		}
		w.events[seq] = e
	}
	e.msgs = append(e.msgs, msg)
	t := msg.RecordType
	if t == auparse.AUDIT_PROCTITLE || t <= auparse.AUDIT_LAST_DAEMON || t >= auparse.AUDIT_ANOM_LOGIN_FAILURES {
		e.complete = true
	}
}

// insert places a new serial where the Reassembler's sort would: by binary
// search while the order is plainly numeric, else by the same sort.
func (w *auditWindow) insert(seq uint32) {
	if len(w.seqs) == 0 {
		w.numeric = true
	}
	if w.numeric && (len(w.seqs) == 0 || int64(max(seq, w.seqs[len(w.seqs)-1]))-int64(min(seq, w.seqs[0])) <= maxSortRange) {
		i := sort.Search(len(w.seqs), func(i int) bool { return w.seqs[i] > seq })
		w.seqs = append(w.seqs, 0)
		copy(w.seqs[i+1:], w.seqs[i:])
		w.seqs[i] = seq
		return
	}
	w.numeric = false
	w.seqs = append(w.seqs, seq)
	sort.Sort(w.seqs)
}

// cleanUp hands over events from the oldest while it is complete or the
// window is over its size.
func (w *auditWindow) cleanUp() {
	for len(w.seqs) > 0 {
		e := w.events[w.seqs[0]]
		if !e.complete && len(w.seqs) <= w.maxSize {
			return
		}
		w.evict()
	}
}

// flush hands over every event waiting, oldest first (Reassembler.Close).
func (w *auditWindow) flush() {
	for len(w.seqs) > 0 {
		w.evict()
	}
}

func (w *auditWindow) evict() {
	seq := w.seqs[0]
	e := w.events[seq]
	// Shift rather than reslice, so appends never reallocate.
	copy(w.seqs, w.seqs[1:])
	w.seqs = w.seqs[:len(w.seqs)-1]
	delete(w.events, seq)
	w.done(e.msgs)
	clear(e.msgs)
	e.msgs, e.complete = e.msgs[:0], false
	w.free = append(w.free, e)
}
