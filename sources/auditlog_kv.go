package sources

import (
	"bytes"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// This file reads key=value fields out of raw audit records by hand. It
// follows the grammar of auparse's key/value regular expression
//
//	([a-z0-9_-]+)=((?:[^"'\s]+)|'(?:\\'|[^'])*'|"(?:\\"|[^"])*")
//
// match for match (leftmost-first, as Go's regexp finds them), because
// interpreting every record through auparse's Data() is an order of magnitude
// slower than reading the handful of fields a process event needs. The
// differential tests and fuzz target hold the two to the same answers.

// kvVisitor receives each key with its value as written (quotes included).
type kvVisitor func(key, orig string)

// isAuditKeyByte reports whether c may appear in a field name. Keys of split
// execve arguments ("a1[0]") also take brackets when brackets is set.
func isAuditKeyByte(c byte, brackets bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
		return true
	case brackets && (c == '[' || c == ']'):
		return true
	}
	return false
}

// auditValueStops marks the bytes that end an unquoted value: quotes and \s.
// A table, because values (long hex arguments) are read byte by byte.
var auditValueStops = func() (t [256]bool) {
	for _, c := range []byte{'"', '\'', ' ', '\t', '\n', '\f', '\r'} {
		t[c] = true
	}
	return t
}()

// auditHexDigits marks the digits of the kernel's hex encoding (upper case).
var auditHexDigits = func() (t [256]bool) {
	for _, c := range []byte("0123456789ABCDEF") {
		t[c] = true
	}
	return t
}()

// isRegexpSpace is \s in Go's regexp syntax.
func isRegexpSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// scanAuditFields calls visit for every field of s in order. Like auparse it
// skips values that mean "unknown" ("", "?", "?,", "(null)") unless keepAll is
// set, and reads the fields nested in a msg='...' value in place; a later
// field of the same name wins, as in auparse's map.
func scanAuditFields(s string, brackets, keepAll bool, visit kvVisitor) {
	scanAuditFieldsNested(s, brackets, keepAll, true, visit)
}

// scanAuditFieldsNested does the work; nested=false leaves msg= values shut,
// to compare with auparse's flat expression. Nesting is walked with a stack
// rather than recursion, so no line can make it deep.
func scanAuditFieldsNested(s string, brackets, keepAll, nested bool, visit kvVisitor) {
	type level struct {
		s   string
		pos int
	}
	var fixed [4]level
	stack := append(fixed[:0], level{s, 0})
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		s, pos := top.s, top.pos
		eq := -1
		if pos < len(s) {
			eq = strings.IndexByte(s[pos:], '=')
		}
		if eq < 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		eq += pos
		k := eq
		for k > pos && isAuditKeyByte(s[k-1], brackets) {
			k--
		}
		if k == eq {
			top.pos = eq + 1
			continue
		}
		end, ok := auditValueEnd(s, eq+1)
		if !ok {
			// No match can start inside this key: the next one starts after '='.
			top.pos = eq + 1
			continue
		}
		key, orig := s[k:eq], s[eq+1:end]
		top.pos = end
		if !keepAll {
			switch trimAuditValue(orig) {
			case "", "?", "?,", "(null)":
				continue
			}
		}
		if key == "msg" && nested {
			stack = append(stack, level{trimAuditValue(orig), 0})
			continue
		}
		visit(key, orig)
	}
}

// auditValueEnd returns where the value starting at v ends, or false when no
// value can be read there (end of text, whitespace, an unclosed quote).
func auditValueEnd(s string, v int) (int, bool) {
	if v >= len(s) {
		return 0, false
	}
	switch q := s[v]; {
	case q == '"' || q == '\'':
		lastEscaped := -1
		for p := v + 1; p < len(s); p++ {
			switch {
			case s[p] == '\\' && p+1 < len(s) && s[p+1] == q:
				lastEscaped = p + 1
				p++
			case s[p] == q:
				return p + 1, true
			}
		}
		// The regexp backtracks to the last escaped quote and ends there.
		if lastEscaped >= 0 {
			return lastEscaped + 1, true
		}
		return 0, false
	case isRegexpSpace(q):
		return 0, false
	default:
		p := v
		for p < len(s) && !auditValueStops[s[p]] {
			p++
		}
		return p, true
	}
}

// trimAuditValue is auparse's view of a value: quotes and spaces trimmed
// (strings.Trim with the cutset `'" `, without building the set each call).
func trimAuditValue(orig string) string {
	i, j := 0, len(orig)
	for i < j && isAuditTrimByte(orig[i]) {
		i++
	}
	for j > i && isAuditTrimByte(orig[j-1]) {
		j--
	}
	return orig[i:j]
}

func isAuditTrimByte(c byte) bool { return c == '\'' || c == '"' || c == ' ' }

// unquoteAuditValue strips the one pair of quotes a value was written with.
// Unlike auparse's trim it keeps quotes that belong to the value itself, such
// as an argument 'x' that the kernel logged as a1="'x'".
func unquoteAuditValue(orig string) string {
	if len(orig) >= 2 && (orig[0] == '"' || orig[0] == '\'') && orig[len(orig)-1] == orig[0] {
		return orig[1 : len(orig)-1]
	}
	return trimAuditValue(orig)
}

// isAuditHex reports whether an unquoted value is hex as the kernel writes it
// for strings with spaces, quotes or control bytes: upper case, even length.
func isAuditHex(orig string) bool {
	if len(orig) == 0 || len(orig)%2 != 0 {
		return false
	}
	for i := 0; i < len(orig); i++ {
		if !auditHexDigits[orig[i]] {
			return false
		}
	}
	return true
}

// nulMode says what decoding does with NUL bytes inside a hex value.
type nulMode int

const (
	nulToSpace nulMode = iota // exe, cwd, proctitle: auparse joins the parts with spaces
	nulCuts                   // execve arguments: auparse stops at the first NUL
	nulKeep                   // process titles split into arguments later
	nulRaw                    // pieces of a split argument: raw bytes, checked once joined
)

// decodeAuditValue turns a value as written into its text: hex is decoded,
// quotes are stripped. Bytes that are not UTF-8 become U+FFFD, as they would in
// Auditbeat's JSON.
func decodeAuditValue(orig string, mode nulMode) string {
	if text, ok := decodeAuditHex(orig, mode); ok {
		return text
	}
	return unquoteAuditValue(orig)
}

// auditHexValues maps the digits of the kernel's hex encoding (upper case) to
// their value and every other byte to 0xFF, so that one OR over a value's
// digits tells whether it was hex.
var auditHexValues = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for i, c := range []byte("0123456789ABCDEF") {
		t[c] = byte(i)
	}
	return t
}()

// decodeAuditHex decodes a value the kernel wrote in hex, checking and
// decoding in one pass; false when the value is not hex (isAuditHex). The
// text is a string of its own: it does not share the log's memory. Long hex
// values (process titles, arguments with spaces) are the bulk of a log's
// bytes, so this loop is hot.
func decodeAuditHex(orig string, mode nulMode) (string, bool) {
	n := len(orig)
	if n == 0 || n%2 != 0 || auditHexValues[orig[0]] == 0xFF {
		return "", false
	}
	buf := make([]byte, n/2)
	var bad byte
	for i := range buf {
		hi, lo := auditHexValues[orig[2*i]], auditHexValues[orig[2*i+1]]
		bad |= hi | lo
		buf[i] = hi<<4 | lo
	}
	if bad > 0x0F {
		return "", false
	}
	switch mode {
	case nulToSpace:
		for i := bytes.IndexByte(buf, 0); i >= 0; i = bytes.IndexByte(buf, 0) {
			buf[i] = ' '
		}
	case nulCuts:
		if i := bytes.IndexByte(buf, 0); i >= 0 {
			buf = buf[:i]
		}
	}
	if len(buf) == 0 {
		return "", true
	}
	if mode != nulRaw && !utf8.Valid(buf) {
		return strings.ToValidUTF8(string(buf), "\uFFFD"), true
	}
	// buf is never written again: the string may take its bytes, saving
	// a copy of every decoded value.
	return unsafe.String(&buf[0], len(buf)), true
}

// ownedAuditValue is decodeAuditValue for text that outlives the chunk it
// was read from: decoded hex is already a string of its own, other values are
// copied.
func ownedAuditValue(orig string, mode nulMode) string {
	if text, ok := decodeAuditHex(orig, mode); ok {
		return text
	}
	return strings.Clone(unquoteAuditValue(orig))
}

// auditValueLen is the length the kernel counts for a piece of a split
// argument (aN_len): hex digits for hex pieces, bytes for quoted ones.
func auditValueLen(orig string) int {
	if isAuditHex(orig) {
		return len(orig)
	}
	return len(unquoteAuditValue(orig))
}

// scanEnrichedFields reads the interpreted fields auditd appends after a 0x1d
// byte in its ENRICHED format: upper-case keys, values quoted or bare.
func scanEnrichedFields(s string, visit kvVisitor) {
	for len(s) > 0 {
		s = strings.TrimLeft(s, " ")
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return
		}
		key := s[:eq]
		if strings.IndexByte(key, ' ') >= 0 {
			s = s[strings.IndexByte(key, ' ')+1:]
			continue
		}
		rest := s[eq+1:]
		var val string
		if len(rest) > 0 && rest[0] == '"' {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return
			}
			val, s = rest[1:1+end], rest[end+2:]
		} else {
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			val, s = rest[:end], rest[end:]
		}
		visit(key, val)
	}
}
