package sources

import (
	"fmt"
	"strings"
)

// Reject is one position in a file that could not be read as an event.
type Reject struct {
	Line   int64
	Reason string
}

// FileReport says what one file gave: lines read, events yielded, lines
// rejected, and the first few rejected positions.
type FileReport struct {
	Path  string
	Lines int64
	// Seen counts events of any kind read from the file, selected or not.
	Seen int64
	// Events counts the events yielded (those the selection took).
	Events int64
	// Rejected counts lines that could not be read and were skipped.
	Rejected int64
	// Repaired counts lines kept after repair (invalid UTF-8 or NUL bytes
	// replaced), so nothing is silently dropped or silently changed.
	Repaired int64
	Samples  []Reject
	// PrefixHashes answers Options.HashPrefixes as PrefixHashes would; nil
	// when not asked, or when the content could not be read to its end.
	PrefixHashes []string
}

// Report is what one Read gave, file by file.
type Report struct {
	Files []FileReport
}

// Rejected is the number of rejected lines over all files.
func (r Report) Rejected() int64 {
	var n int64
	for _, f := range r.Files {
		n += f.Rejected
	}
	return n
}

// Events is the number of events yielded over all files.
func (r Report) Events() int64 {
	var n int64
	for _, f := range r.Files {
		n += f.Events
	}
	return n
}

// reject counts a rejected line and keeps its position while under the limit.
func (f *FileReport) reject(line int64, limit int, format string, args ...any) {
	f.Rejected++
	if len(f.Samples) < limit {
		f.Samples = append(f.Samples, Reject{Line: line, Reason: fmt.Sprintf(format, args...)})
	}
}

// Summary says in one line per file what was rejected and where, e.g.
// "audit.log: 3 rejected lines (line 7: truncated record; line 9: ...)".
func (r Report) Summary() string {
	var b strings.Builder
	for _, f := range r.Files {
		if f.Rejected == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s: %d rejected line(s)", f.Path, f.Rejected)
		for i, s := range f.Samples {
			sep := "; "
			if i == 0 {
				sep = " ("
			}
			fmt.Fprintf(&b, "%sline %d: %s", sep, s.Line, s.Reason)
		}
		if len(f.Samples) > 0 {
			b.WriteString(")")
		}
		if int64(len(f.Samples)) < f.Rejected {
			b.WriteString(", more not shown")
		}
		b.WriteString("\n")
	}
	return b.String()
}
