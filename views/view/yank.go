package view

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// YankJSON encodes v as indented JSON for the clipboard. encoding/json
// already escapes C0 controls; this also escapes C1 controls and the
// invisible and bidirectional format characters, so a pasted record cannot
// carry an escape sequence or reorder text in whatever it is pasted into.
func YankJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("encoding for the clipboard: %w", err)
	}
	s := strings.TrimRight(buf.String(), "\n")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r >= 0x80 && r <= 0x9f) || (r >= 0x200b && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) ||
			(r >= 0x2066 && r <= 0x2069) || r == 0x061c || r == 0x2060 || r == 0xfeff {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String(), nil
}
