package sources

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/elastic/go-libaudit/v2/auparse"
)

// auditRecord is one line of a raw audit log after parsing: auparse's header
// (type, time, serial) plus the few fields a process event needs, read by hand
// from the record types that carry them.
type auditRecord struct {
	// The header. msg, the reassembler's currency, is made for run heads only.
	typ     auparse.AuditMessageType
	seq     uint32
	tsMilli int64  // the header's time, in Unix milliseconds
	raw     string // the record after "msg=", as auparse keeps it
	msg     *auparse.AuditMessage

	line     int64
	file     int32
	repaired bool   // NUL bytes or invalid UTF-8 were replaced before parsing
	node     string // node= prefix, empty when absent

	sys    *syscallFields // SYSCALL records of the selected kind
	execve *execveFields  // EXECVE records
	value  string         // cwd= of CWD, proctitle= of PROCTITLE, as written

	// A run of consecutive records of one event goes to the reassembler as
	// its first record other than EOE (the head), which carries the run.
	run       []auditRecord // set on the head (on the first record of an EOE-only run)
	completes bool          // the run ends its event (a record other than the head does)
	eoeRun    bool          // the run holds EOE records only
}

// syscallFields are the SYSCALL record fields a process event uses, decoded.
type syscallFields struct {
	syscall   string // name ("execve"), or the number when the table has none
	execution bool   // execve or execveat on the record's architecture
	result    string // "success", "fail", or empty when absent
	pid, ppid int64
	uid, auid string
	comm, exe string
	// Names auditd resolved in its ENRICHED format, when present.
	uidName, auidName string
}

// execveFields holds the argument pieces of one EXECVE record. A long argv is
// spread over several EXECVE records, and a long argument over several pieces
// (a1_len=N a1[0]=... a1[1]=...), so arguments are assembled per event.
type execveFields struct {
	argc  int // -1 when this record carries no argc
	parts []argPart
}

type argPart struct {
	arg    int
	piece  int    // index of a piece of a split argument, or pieceWhole / pieceLength
	text   string // decoded text (pieces keep NUL bytes until joined)
	length int    // the kernel's count: declared for pieceLength, written for pieces
	owned  bool   // text was decoded from hex: it does not share the chunk's memory
}

const (
	pieceWhole  = -1 // aN=...
	pieceLength = -2 // aN_len=...
)

// Reasons a line is rejected. They never quote the line: audit data is
// attacker-controlled and reports reach a terminal.
const (
	reasonNotRecord      = "not an audit record (expected type= or node= at the start)"
	reasonNodeOnly       = "node= prefix without a record after it"
	reasonUnknownType    = "unknown record type"
	reasonBadHeader      = "malformed msg=audit(time:serial) header"
	reasonOnlyJunk       = "nothing but NUL bytes or invalid UTF-8"
	reasonTruncatedLast  = "truncated last line (no newline, value cut off)"
	reasonOverlong       = "line longer than the limit, skipped"
	reasonCorruptContent = "compressed content corrupt or truncated; the rest of this file is unreadable"
	reasonEventTooLarge  = "event has too many records; the rest of it is skipped"
)

// execSyscallNumbers holds every number that is execve or execveat on some
// architecture auparse knows. A SYSCALL record without one of them is not an
// execution, which a byte search can tell before any field is read.
var execSyscallNumbers = func() map[int]bool {
	nums := map[int]bool{}
	for _, table := range auparse.AuditSyscalls {
		for n, name := range table {
			if name == "execve" || name == "execveat" {
				nums[n] = true
			}
		}
	}
	return nums
}()

// parseAuditLine fills rec from one line, or says why the line is rejected.
// lastNoNewline marks the final line of a file that did not end with a
// newline, the one place a cut-off record can be told from a whole one. ok is
// false for a blank line.
func parseAuditLine(line string, lastNoNewline bool, sel Selection, rec *auditRecord) (reason string, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" {
		return "", false
	}
	if strings.HasPrefix(line, "node=") {
		sp := strings.IndexByte(line, ' ')
		if sp < 0 {
			return reasonNodeOnly, true
		}
		rec.node = line[len("node="):sp]
		line = strings.TrimLeft(line[sp+1:], " ")
	}
	// The ENRICHED format appends interpreted fields after a 0x1d byte, which
	// auparse would read as part of the last value.
	var enriched string
	if i := strings.IndexByte(line, 0x1d); i >= 0 {
		enriched = line[i+1:]
		line = strings.TrimSpace(line[:i])
	}
	if !strings.HasPrefix(line, "type=") {
		return reasonNotRecord, true
	}
	if !parseAuditHeaderFast(line, rec) {
		msg, err := auparse.ParseLogLine(line)
		if err != nil {
			return headerRejectReason(line), true
		}
		rec.typ, rec.seq, rec.raw, rec.msg = msg.RecordType, msg.Sequence, msg.RawData, msg
		rec.tsMilli = msg.Timestamp.UnixMilli()
	}
	body := rec.raw
	if i := strings.IndexByte(body, ')'); i >= 0 {
		body = body[i+1:]
	}
	if lastNoNewline && looksCutOff(body) {
		return reasonTruncatedLast, true
	}
	switch rec.typ {
	case auparse.AUDIT_SYSCALL:
		if sel == AllSyscalls || mightBeExecution(body) {
			rec.sys = parseSyscallFields(body, enriched)
			if sel != AllSyscalls && !rec.sys.execution {
				rec.sys = nil
			}
		}
	case auparse.AUDIT_EXECVE:
		rec.execve = parseExecveFields(body)
	case auparse.AUDIT_CWD:
		scanAuditFields(body, false, false, func(key, orig string) {
			if key == "cwd" {
				rec.value = orig
			}
		})
	case auparse.AUDIT_PROCTITLE:
		scanAuditFields(body, false, false, func(key, orig string) {
			if key == "proctitle" {
				rec.value = orig
			}
		})
	}
	return "", true
}

// parseAuditHeaderFast reads "type=NAME msg=audit(SEC.MSEC:SERIAL)" in the
// shape auditd writes, with the same result as auparse.ParseLogLine, at a
// fraction of its cost (no allocation). Any other shape returns false and is
// left to auparse.
func parseAuditHeaderFast(line string, rec *auditRecord) bool {
	const prefix = "msg=audit("
	sp := strings.IndexByte(line, ' ')
	if sp <= len("type=") {
		return false
	}
	name := line[len("type="):sp]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '[' || c == ']') {
			return false // lower case, "msg=" inside the name: auparse decides
		}
	}
	rest := line[sp+1:]
	if !strings.HasPrefix(rest, prefix) {
		return false
	}
	p := len(prefix)
	sec, p, ok := auditDigits(rest, p, '.', 12)
	if !ok {
		return false
	}
	ms, p, ok := auditDigits(rest, p, ':', 9)
	if !ok {
		return false
	}
	seq, _, ok := auditDigits(rest, p, ')', 10)
	if !ok || seq > 1<<32-1 {
		return false
	}
	typ, ok := commonAuditType(name)
	if !ok {
		var err error
		if typ, err = auparse.GetAuditMessageType(name); err != nil {
			return false // auparse rejects it, and says why
		}
	}
	rec.typ, rec.seq, rec.raw = typ, uint32(seq), strings.TrimSpace(rest[len("msg="):])
	rec.tsMilli = sec*1000 + ms
	return true
}

// commonAuditType names the record types of most lines without the upper-
// casing and map lookup of auparse.GetAuditMessageType, which gives the same.
func commonAuditType(name string) (auparse.AuditMessageType, bool) {
	switch name {
	case "SYSCALL":
		return auparse.AUDIT_SYSCALL, true
	case "EXECVE":
		return auparse.AUDIT_EXECVE, true
	case "CWD":
		return auparse.AUDIT_CWD, true
	case "PATH":
		return auparse.AUDIT_PATH, true
	case "PROCTITLE":
		return auparse.AUDIT_PROCTITLE, true
	case "EOE":
		return auparse.AUDIT_EOE, true
	}
	return 0, false
}

// auditDigits reads at most limit decimal digits from s at p, followed by
// stop; it returns the number and the position after stop.
func auditDigits(s string, p int, stop byte, limit int) (int64, int, bool) {
	var n int64
	start := p
	for p < len(s) && s[p] >= '0' && s[p] <= '9' {
		n = n*10 + int64(s[p]-'0')
		p++
	}
	if p == start || p-start > limit || p >= len(s) || s[p] != stop {
		return 0, 0, false
	}
	return n, p + 1, true
}

// headerRejectReason tells an unknown record type from a broken header.
func headerRejectReason(line string) string {
	typ := line[len("type="):]
	if i := strings.IndexByte(typ, ' '); i >= 0 {
		typ = typ[:i]
	}
	if _, err := auparse.GetAuditMessageType(typ); err != nil {
		return reasonUnknownType
	}
	return reasonBadHeader
}

// looksCutOff reports a record whose last value stops mid-way: a quote opened
// after '=' and never closed, or hex of odd length at the very end.
func looksCutOff(body string) bool {
	open := max(strings.LastIndex(body, `="`), strings.LastIndex(body, `='`))
	if open >= 0 && strings.IndexByte(body[open+2:], body[open+1]) < 0 {
		return true
	}
	eq := strings.LastIndexByte(body, '=')
	if eq < 0 {
		return false
	}
	// Decimal fields (ses=123) are odd-length hex digits too; encoded strings
	// are long and carry letters.
	last := body[eq+1:]
	if len(last) < 9 || len(last)%2 == 0 || !strings.ContainsAny(last, "ABCDEF") {
		return false
	}
	return isAuditHex(last[:len(last)-1]) && isAuditHex(last[1:])
}

// mightBeExecution is the cheap look: false means no syscall= field of the
// record can name execve or execveat on any architecture.
func mightBeExecution(body string) bool {
	for s := body; ; {
		i := strings.Index(s, "syscall=")
		if i < 0 {
			return false
		}
		s = s[i+len("syscall="):]
		j := 0
		for j < len(s) && j < 6 && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == 0 || j < len(s) && s[j] != ' ' {
			return true // not plain digits ("+59", quoted): the full read decides
		}
		if n, _ := strconv.Atoi(s[:j]); execSyscallNumbers[n] {
			return true
		}
	}
}

func parseSyscallFields(body, enriched string) *syscallFields {
	f := &syscallFields{}
	var arch, num, success, res, pid, ppid, uid, auid, comm, exe string
	scanAuditFields(body, false, false, func(key, orig string) {
		switch key {
		case "arch":
			arch = orig
		case "syscall":
			num = orig
		case "success":
			success = orig
		case "res":
			res = orig
		case "pid":
			pid = orig
		case "ppid":
			ppid = orig
		case "uid":
			uid = orig
		case "auid":
			auid = orig
		case "comm":
			comm = orig
		case "exe":
			exe = orig
		}
	})
	f.syscall, f.execution = syscallName(trimAuditValue(arch), trimAuditValue(num))
	switch {
	case success != "":
		f.result = auditResult(trimAuditValue(success))
	case res != "":
		f.result = auditResult(trimAuditValue(res))
	}
	f.pid, _ = strconv.ParseInt(trimAuditValue(pid), 10, 64)
	f.ppid, _ = strconv.ParseInt(trimAuditValue(ppid), 10, 64)
	f.uid = trimAuditValue(uid)
	f.auid = auditUnsetID(trimAuditValue(auid))
	// An interpreted log (ausearch -i) writes names where ids belong.
	if !isDecimal(f.uid) {
		f.uidName, f.uid = f.uid, ""
	}
	if f.auid != "unset" && !isDecimal(f.auid) {
		f.auidName, f.auid = f.auid, ""
	}
	// auparse leaves comm hex-encoded; an analyst reads the decoded name.
	f.comm = decodeAuditValue(comm, nulToSpace)
	f.exe = decodeAuditValue(exe, nulToSpace)
	if enriched != "" {
		scanEnrichedFields(enriched, func(key, val string) {
			switch key {
			case "UID":
				f.uidName = val
			case "AUID":
				f.auidName = val
			}
		})
	}
	return f
}

// syscallName names a syscall number on an architecture (arch= in hex), the
// two common ones without a table lookup; the bool says it is an execution.
func syscallName(arch, num string) (string, bool) {
	switch arch {
	case "c000003e": // x86_64
		switch num {
		case "59":
			return "execve", true
		case "322":
			return "execveat", true
		}
	case "c00000b7": // aarch64
		switch num {
		case "221":
			return "execve", true
		case "281":
			return "execveat", true
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		// An interpreted log (ausearch -i) names the syscall itself.
		return num, num == "execve" || num == "execveat"
	}
	// As auparse reads them: arch as a 64-bit number cut to 32 bits.
	a, err := strconv.ParseInt(arch, 16, 64)
	if err != nil {
		return num, false
	}
	name, ok := auparse.AuditSyscalls[auparse.AuditArch(a).String()][n]
	if !ok {
		return num, false
	}
	return name, name == "execve" || name == "execveat"
}

func isDecimal(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// auditResult maps success=/res= the way auparse does.
func auditResult(v string) string {
	switch v = strings.ToLower(v); {
	case v == "yes", v == "1", strings.HasPrefix(v, "suc"):
		return "success"
	}
	return "fail"
}

// auditUnsetID names the login uid of processes never logged in as Auditbeat
// does.
func auditUnsetID(id string) string {
	if id == "4294967295" || id == "-1" {
		return "unset"
	}
	return id
}

// parseExecveFields reads argc, aN, aN_len and aN[i]. Empty and "?" arguments
// are kept: they are arguments, whereas auparse drops them and fails the record.
func parseExecveFields(body string) *execveFields {
	// Every part is a field: one allocation for the parts of a usual record,
	// capped so that a forged line of '=' cannot claim much memory up front.
	f := &execveFields{argc: -1, parts: make([]argPart, 0, min(strings.Count(body, "="), 256))}
	scanAuditFields(body, true, true, func(key, orig string) {
		if key == "argc" {
			if n, err := strconv.Atoi(trimAuditValue(orig)); err == nil && n >= 0 {
				f.argc = n
			}
			return
		}
		arg, piece, ok := parseArgKey(key)
		if !ok {
			return
		}
		p := argPart{arg: arg, piece: piece}
		switch piece {
		case pieceLength:
			p.length, _ = strconv.Atoi(trimAuditValue(orig))
		case pieceWhole:
			if p.text, p.owned = decodeAuditHex(orig, nulCuts); !p.owned {
				p.text = unquoteAuditValue(orig)
			}
		default:
			p.text = decodeAuditValue(orig, nulRaw)
			p.length = auditValueLen(orig)
		}
		f.parts = append(f.parts, p)
	})
	return f
}

// maxArgIndex bounds argument and piece numbers so a forged record cannot
// make the assembler allocate for billions of arguments.
const maxArgIndex = 1 << 20

// parseArgKey reads "a12", "a12_len" and "a12[3]".
func parseArgKey(key string) (arg, piece int, ok bool) {
	if len(key) < 2 || key[0] != 'a' {
		return 0, 0, false
	}
	i := 1
	for i < len(key) && key[i] >= '0' && key[i] <= '9' {
		i++
	}
	if i == 1 || i > 8 {
		return 0, 0, false
	}
	arg, _ = strconv.Atoi(key[1:i])
	rest := key[i:]
	switch {
	case rest == "":
		piece = pieceWhole
	case rest == "_len":
		piece = pieceLength
	case len(rest) >= 3 && rest[0] == '[' && rest[len(rest)-1] == ']':
		p, err := strconv.Atoi(rest[1 : len(rest)-1])
		if err != nil || p < 0 || p > maxArgIndex {
			return 0, 0, false
		}
		piece = p
	default:
		return 0, 0, false
	}
	if arg > maxArgIndex {
		return 0, 0, false
	}
	return arg, piece, true
}

// repairAuditLine drops NUL bytes (holes a crash leaves in a log) and replaces
// invalid UTF-8, so the rest of the line can still be read.
func repairAuditLine(line string) string {
	if strings.IndexByte(line, 0) >= 0 {
		line = strings.ReplaceAll(line, "\x00", "")
	}
	if !utf8.ValidString(line) {
		line = strings.ToValidUTF8(line, "\uFFFD")
	}
	return line
}
