package sources

import (
	"strings"
	"time"

	"github.com/elastic/go-libaudit/v2/auparse"
)

const (
	// reassemblyTimeout is the Reassembler timeout the window stands for:
	// effectively never, since the wall clock says nothing about a file, so
	// events complete on their end marker or when the window is full.
	reassemblyTimeout = 30 * 24 * time.Hour
	// A record that goes back this far in serials, or is this much later than
	// the highest serial seen, starts a new series (reboot): see restarts.
	restartSerialGap = 1 << 20
	restartTimeGap   = 2 * time.Second
	// internLimit bounds the table of repeated strings (hosts, executables).
	internLimit = 4096
	// maxEventRecords bounds one event: a real one has at most a few hundred
	// records (a 2 MiB argv fills about 250 EXECVE records).
	maxEventRecords = 8192
	// maxNodes bounds the reassemblers alive at once, one per node= name; the
	// least recently used is flushed to make room.
	maxNodes = 64
)

// auditAssembler groups records into events with go-libaudit's reassembler,
// one per node (serials are per machine), and turns each event into a
// sources.Event. It runs on one goroutine, in file order.
type auditAssembler struct {
	sel     Selection
	host    string // for records without node=
	window  int
	reports []FileReport
	paths   []string
	fn      EventFunc
	err     error // the first error from fn; later events are dropped

	nodes  map[string]*auditNode
	order  []*auditNode // first-seen order, so the final flush is deterministic
	pushes int64

	event Event
	strs  map[string]string
	eoe   auparse.AuditMessage // end-of-event marker for runs that end their event
	alone [1]*auparse.AuditMessage
}

type auditNode struct {
	name     string
	r        *auditWindow
	started  bool
	high     uint32 // highest serial seen, in the order that survives rollover at 2^32
	highTime time.Time
	records  map[uint32]int // records pushed per serial of the events in the window
	lastUse  int64
}

func newAuditAssembler(sel Selection, host string, window int, paths []string, fn EventFunc) *auditAssembler {
	reports := make([]FileReport, len(paths))
	for i, p := range paths {
		reports[i].Path = p
	}
	return &auditAssembler{
		sel: sel, host: host, window: window, reports: reports, paths: paths, fn: fn,
		nodes: map[string]*auditNode{},
		strs:  map[string]string{},
		eoe:   auparse.AuditMessage{RecordType: auparse.AUDIT_EOE},
	}
}

// node returns the reassembly state of a node, flushing the least recently
// used one when too many are alive.
func (a *auditAssembler) node(name string) (*auditNode, error) {
	a.pushes++
	if n := a.nodes[name]; n != nil {
		n.lastUse = a.pushes
		return n, nil
	}
	if len(a.order) >= maxNodes {
		oldest := 0
		for i, n := range a.order {
			if n.lastUse < a.order[oldest].lastUse {
				oldest = i
			}
		}
		n := a.order[oldest]
		n.r.flush()
		delete(a.nodes, n.name)
		a.order = append(a.order[:oldest], a.order[oldest+1:]...)
	}
	n := &auditNode{name: strings.Clone(name), r: newAuditWindow(a.window, a.ReassemblyComplete), records: map[uint32]int{}, lastUse: a.pushes}
	a.nodes[n.name] = n
	a.order = append(a.order, n)
	return n, nil
}

// admit reports whether a run still fits its event's record budget; runs past
// it are rejected, so that no input, however forged, grows one event without
// end.
func (a *auditAssembler) admit(rec *auditRecord) (bool, error) {
	if isDaemonRecord(rec.typ) || rec.eoeRun {
		return true, nil
	}
	n, err := a.node(rec.node)
	if err != nil {
		return false, err
	}
	return n.records[rec.seq]+len(rec.run) <= maxEventRecords, nil
}

// push hands a run of records of one event (its head) to its node's
// reassembler, or an EOE record alone.
func (a *auditAssembler) push(rec *auditRecord) error {
	msg := rec.msg
	if isDaemonRecord(msg.RecordType) {
		// auditd's own records count with auditd's serial, not the kernel's:
		// in the window they would collide with kernel events.
		a.pushAlone(msg)
		return a.err
	}
	n, err := a.node(rec.node)
	if err != nil {
		return err
	}
	if n.restarts(msg) {
		// Flush the old series whole, so no event of it waits in the window
		// for records that can no longer come, and serials never mix.
		n.r.flush()
	}
	if !rec.eoeRun && len(n.records) == 0 && (rec.completes || endsAuditEvent(msg.RecordType)) {
		// With the window empty, the reassembler would hand this event back
		// at once and alone: skip its bookkeeping, the bulk of a clean log.
		a.pushAlone(msg)
		return a.err
	}
	if !rec.eoeRun {
		n.records[msg.Sequence] += len(rec.run)
	}
	n.r.push(msg)
	if rec.completes {
		// The reassembler keeps no EOE message, so one serves every run.
		a.eoe.Sequence, a.eoe.Timestamp = msg.Sequence, msg.Timestamp
		n.r.push(&a.eoe)
	}
	return a.err
}

// pushAlone completes an event of one message without a slice per call.
func (a *auditAssembler) pushAlone(msg *auparse.AuditMessage) {
	a.alone[0] = msg
	a.ReassemblyComplete(a.alone[:])
	a.alone[0] = nil
}

// isDaemonRecord tells auditd's own records, numbered apart from the kernel's.
func isDaemonRecord(t auparse.AuditMessageType) bool {
	return t >= auparse.AUDIT_DAEMON_START && t <= auparse.AUDIT_LAST_DAEMON
}

// restarts reports a record that begins a new series of serials: the kernel
// numbers records from 1 again after a reboot, and a log spans reboots. A
// serial at or behind the highest seen is a late record of a recent event,
// unless it is far behind or clearly later in time (an event's records share
// one timestamp, and late records are never newer than what came before).
func (n *auditNode) restarts(msg *auparse.AuditMessage) bool {
	seq, ts := msg.Sequence, msg.Timestamp
	if !n.started {
		n.started, n.high, n.highTime = true, seq, ts
		return false
	}
	behind := int32(n.high - seq) // wraps, so 2^32-1 is behind 0
	if behind < 0 {
		n.high, n.highTime = seq, ts
		return false
	}
	if behind > restartSerialGap || ts.Sub(n.highTime) > restartTimeGap {
		n.high, n.highTime = seq, ts
		return true
	}
	return false
}

// flush completes every event still in a window, at the end of the input.
func (a *auditAssembler) flush() error {
	for _, n := range a.order {
		n.r.flush()
	}
	return a.err
}

// ReassemblyComplete takes one event's records, in the order read, as
// libaudit.Stream does. Serial gaps are normal in files (rules filter, auditd
// restarts), so lost events are not reported.
//
// What an event needs: a SYSCALL record that names the executable. Records
// lost around it (EXECVE, CWD, PROCTITLE) leave those fields empty, with the
// arguments taken from PROCTITLE when EXECVE is missing; an event whose
// SYSCALL record was lost is counted as seen but not yielded, since nothing
// else in it says which program ran.
func (a *auditAssembler) ReassemblyComplete(msgs []*auparse.AuditMessage) {
	if len(msgs) == 0 {
		return
	}
	first := msgs[0].Payload.(*auditRecord)
	// auditd's own records never enter a window (see push): their serial may
	// be that of a kernel event still waiting there.
	if !isDaemonRecord(first.typ) {
		if n := a.nodes[first.node]; n != nil {
			delete(n.records, msgs[0].Sequence)
		}
	}
	report := &a.reports[first.file]
	report.Seen++
	if a.err != nil {
		return
	}
	var sys, cwd, title *auditRecord
	hasExecve := false
	for _, m := range msgs {
		run := m.Payload.(*auditRecord).run
		for i := range run {
			rec := &run[i]
			switch rec.typ {
			case auparse.AUDIT_SYSCALL:
				if sys == nil {
					sys = rec
				}
			case auparse.AUDIT_EXECVE:
				hasExecve = true
			case auparse.AUDIT_CWD:
				if cwd == nil {
					cwd = rec
				}
			case auparse.AUDIT_PROCTITLE:
				if title == nil {
					title = rec
				}
			}
		}
	}
	if sys == nil || sys.sys == nil {
		return // no syscall, or not one the selection takes
	}
	f := sys.sys
	if (a.sel == Executions && !f.execution) || strings.TrimSpace(f.exe) == "" {
		return
	}

	e := &a.event
	*e = Event{
		Time:       msgs[0].Timestamp,
		Host:       a.intern(first.node),
		Executable: a.intern(f.exe),
		Name:       a.intern(f.comm),
		User: User{
			ID:      a.intern(f.uid),
			Name:    a.intern(f.uidName),
			AuditID: a.intern(f.auid),
		},
		PID:     f.pid,
		PPID:    f.ppid,
		Result:  f.result,
		Syscall: a.intern(f.syscall),
		Origin:  Origin{File: a.paths[first.file], Line: first.line},
	}
	if e.Host == "" {
		e.Host = a.host
	}
	if f.auid != "unset" {
		e.User.AuditName = a.intern(f.auidName)
	}
	if cwd != nil && cwd.value != "" {
		e.WorkingDir = a.intern(decodeAuditValue(cwd.value, nulToSpace))
	}
	if title != nil && title.value != "" {
		e.Title = ownedAuditValue(title.value, nulToSpace)
	}
	if hasExecve {
		e.Args = assembleArgs(msgs)
	}
	if e.Args == nil && title != nil && title.value != "" {
		e.Args = proctitleArgs(title.value)
	}
	if f.execution {
		// Other syscalls get no action: Auditbeat names them from aucoalesce's
		// normalization table, whose YAML parser this module does not carry.
		e.Action = "executed"
	}
	if err := a.fn(e); err != nil {
		a.err = err
		return
	}
	report.Events++
}

// intern returns a copy of s that does not pin the chunk of log text it was
// cut from, shared between events: hosts, users and executables repeat.
func (a *auditAssembler) intern(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := a.strs[s]; ok {
		return v
	}
	if len(a.strs) >= internLimit {
		clear(a.strs)
	}
	v := strings.Clone(s)
	a.strs[v] = v
	return v
}

// assembleArgs builds argv from an event's EXECVE records: whole arguments
// (aN) and arguments split in pieces (aN_len, aN[0], aN[1], ...), possibly
// over several records. When records were lost it returns the arguments up to
// the first one missing or incomplete, and nil when there are none.
func assembleArgs(msgs []*auparse.AuditMessage) []string {
	argc, nparts := -1, 0
	for _, m := range msgs {
		run := m.Payload.(*auditRecord).run
		for i := range run {
			if x := run[i].execve; x != nil {
				if argc < 0 && x.argc >= 0 {
					argc = x.argc
				}
				nparts += len(x.parts)
			}
		}
	}
	// Arguments past the number of parts read cannot all be present.
	n := nparts
	if argc >= 0 && argc < n {
		n = argc
	}
	type argState struct {
		whole    string
		hasWhole bool
		owned    bool // whole is decoded hex, a string of its own
		declared int
		pieces   []argPart
	}
	args := make([]argState, n)
	for _, m := range msgs {
		run := m.Payload.(*auditRecord).run
		for i := range run {
			x := run[i].execve
			if x == nil {
				continue
			}
			for _, p := range x.parts {
				if p.arg >= n {
					continue
				}
				st := &args[p.arg]
				switch p.piece {
				case pieceWhole:
					st.whole, st.hasWhole, st.owned = p.text, true, p.owned
				case pieceLength:
					st.declared = p.length
				default:
					st.pieces = append(st.pieces, p)
				}
			}
		}
	}
	out := make([]string, 0, n)
	for i := range args {
		st := &args[i]
		if st.hasWhole {
			if st.owned {
				out = append(out, st.whole)
			} else {
				out = append(out, strings.Clone(st.whole))
			}
			continue
		}
		text, ok := joinArgPieces(st.pieces, st.declared)
		if !ok {
			break
		}
		out = append(out, text)
	}
	if len(out) == 0 && argc != 0 {
		return nil
	}
	return out
}

// joinArgPieces joins the pieces of one split argument in order, or says the
// argument is incomplete: a piece missing, or fewer characters than declared.
func joinArgPieces(pieces []argPart, declared int) (string, bool) {
	if len(pieces) == 0 {
		return "", false
	}
	ordered := make([]string, len(pieces))
	seen := make([]bool, len(pieces))
	total := 0
	for _, p := range pieces {
		if p.piece >= len(pieces) || seen[p.piece] {
			return "", false
		}
		ordered[p.piece], seen[p.piece] = p.text, true
		total += p.length
	}
	if declared > 0 && total != declared {
		return "", false
	}
	joined := strings.Join(ordered, "")
	if i := strings.IndexByte(joined, 0); i >= 0 {
		joined = joined[:i]
	}
	// Pieces are raw bytes: a character may straddle two of them.
	return strings.ToValidUTF8(joined, "\uFFFD"), true
}

// proctitleArgs splits the process title (the command line, NUL-separated,
// cut by the kernel at 128 bytes) into arguments.
func proctitleArgs(orig string) []string {
	text, ok := decodeAuditHex(orig, nulKeep)
	if !ok {
		return []string{strings.Clone(unquoteAuditValue(orig))}
	}
	text = strings.TrimSuffix(text, "\x00")
	return strings.Split(text, "\x00")
}
