package tui

import (
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// The clipboard of y is the terminal's, reached with OSC 52, which works over
// SSH on a jump host with no clipboard daemon: the sequence travels with the
// output to the analyst's own terminal.

// maxClipboard bounds what y sends; terminals drop longer OSC 52 payloads.
const maxClipboard = 74994 // base64 of this fits xterm's 100,000-byte limit

// osc52 is the sequence that puts text on the system clipboard.
func osc52(text string) string {
	return "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(text)) + "\x07"
}

// tmuxPassthrough wraps a sequence for tmux's passthrough (allow-passthrough
// on), doubling its escapes, for tmux set-ups that do not forward OSC 52
// themselves.
func tmuxPassthrough(seq string) string {
	return "\x1bPtmux;" + strings.ReplaceAll(seq, "\x1b", "\x1b\x1b") + "\x1b\\"
}

// writeClipboard writes text to the clipboard through w. Inside tmux it also
// sends the passthrough form: tmux either takes the plain sequence (with
// set-clipboard on) or passes the wrapped one on, and setting the same text
// twice does no harm.
func writeClipboard(w io.Writer, text string, inTmux bool) error {
	if len(text) > maxClipboard {
		return fmt.Errorf("too long to copy through the terminal: %d bytes (at most %d)", len(text), maxClipboard)
	}
	seq := osc52(text)
	if inTmux {
		seq += tmuxPassthrough(seq)
	}
	if _, err := io.WriteString(w, seq); err != nil {
		return fmt.Errorf("copying to the clipboard: %w", err)
	}
	return nil
}
