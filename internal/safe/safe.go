// Package safe makes attacker-controlled strings harmless on a terminal.
//
// Process names, arguments, paths and user names in audit data are chosen by
// whoever ran the process. Written raw, an escape sequence in them could
// retitle the terminal, move the cursor, or hide text. Every string from the
// data passes through Text before it is drawn or printed.
package safe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text returns s with every control character, escape sequence introducer,
// bidirectional override and invalid UTF-8 byte replaced by a visible escape
// (\x1b, \n, \u202e, \xff). Printable text, including non-ASCII letters, is
// kept as it is.
func Text(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f: // C1 controls, including the 8-bit CSI
			fmt.Fprintf(&b, `\u%04x`, r)
		case isInvisibleFormat(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		case r == '\\' && looksLikeEscape(s[i+1:]):
			// Escape a literal backslash that would read as one of our escapes,
			// so "\x1b" typed by an attacker cannot pass for a real one.
			b.WriteString(`\\`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Texts applies Text to each element and joins them with sep.
func Texts(ss []string, sep string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Text(s)
	}
	return strings.Join(out, sep)
}

func isClean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// isInvisibleFormat reports bidirectional overrides and isolates, which can
// make a terminal show text in another order than it is stored, plus
// zero-width characters that hide differences between names.
func isInvisibleFormat(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
		r == 0x200e, r == 0x200f, r == 0x061c,
		r >= 0x200b && r <= 0x200d, r == 0x2060, r == 0xfeff:
		return true
	}
	return false
}

func looksLikeEscape(rest string) bool {
	if rest == "" {
		return false
	}
	switch rest[0] {
	case 'x', 'u', 'n', 'r', 't', '\\':
		return true
	}
	return false
}

// JSON makes encoded JSON harmless on a terminal. encoding/json already
// escapes C0 controls; this also escapes DEL, C1 controls (U+009B is a CSI on
// some terminals), bidirectional overrides and zero-width characters, which
// are legal unescaped in JSON strings. The result decodes to the same values.
func JSON(b []byte) []byte {
	clean := true
	for _, c := range b {
		if c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == 0x7f || (r >= 0x80 && r <= 0x9f) || isInvisibleFormat(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}
