package fleetgen

import (
	"strconv"
	"unicode/utf8"
)

// appendJSONString appends s as a JSON string. Audit data is attacker
// controlled: control bytes and invalid UTF-8 are escaped, never passed raw.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"':
				b = append(b, '\\', '"')
			case '\\':
				b = append(b, '\\', '\\')
			case '\n':
				b = append(b, '\\', 'n')
			case '\t':
				b = append(b, '\\', 't')
			case '\r':
				b = append(b, '\\', 'r')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendField appends "key": and the string value, after a comma when the
// object has fields already.
func appendStrField(b []byte, key, val string) []byte {
	b = appendKey(b, key)
	return appendJSONString(b, val)
}

func appendKey(b []byte, key string) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' && b[n-1] != '[' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

func appendIntField(b []byte, key string, v int64) []byte {
	b = appendKey(b, key)
	return strconv.AppendInt(b, v, 10)
}

func appendStrArray(b []byte, key string, xs []string) []byte {
	b = appendKey(b, key)
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, x)
	}
	return append(b, ']')
}

// appendTimestamp appends a unix-millisecond time as RFC 3339 in UTC with
// milliseconds, as Beats write @timestamp.
func appendTimestamp(b []byte, ms int64) []byte {
	days := floorDiv(ms, dayMS)
	rem := ms - days*dayMS
	y, m, d := civil(days)
	b = appendPad(b, y, 4)
	b = append(b, '-')
	b = appendPad(b, m, 2)
	b = append(b, '-')
	b = appendPad(b, d, 2)
	b = append(b, 'T')
	b = appendPad(b, int(rem/hourMS), 2)
	b = append(b, ':')
	b = appendPad(b, int(rem%hourMS/minuteMS), 2)
	b = append(b, ':')
	b = appendPad(b, int(rem%minuteMS/1000), 2)
	b = append(b, '.')
	b = appendPad(b, int(rem%1000), 3)
	return append(b, 'Z')
}

func appendPad(b []byte, v, width int) []byte {
	var tmp [8]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// civil converts days since 1970-01-01 to a date (Howard Hinnant's
// algorithm), faster than going through time.Time per event.
func civil(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd := doy - (153*mp+2)/5 + 1
	mm := mp + 3
	if mp >= 10 {
		mm = mp - 9
	}
	if mm <= 2 {
		yy++
	}
	return int(yy), int(mm), int(dd)
}

// needsHex reports whether auditd logs a value hex-encoded instead of in
// quotes: for a double quote, a space or control byte, or a byte past '~'.
func needsHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c < 0x21 || c > 0x7e {
			return true
		}
	}
	return false
}

const upperHex = "0123456789ABCDEF"

// appendAuditValue appends a value the way the kernel logs untrusted
// strings: "quoted", or hex digits when quoting would be ambiguous.
func appendAuditValue(b []byte, s string) []byte {
	if !needsHex(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	for i := 0; i < len(s); i++ {
		b = append(b, upperHex[s[i]>>4], upperHex[s[i]&0xf])
	}
	return b
}

func appendHex(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 16) }
