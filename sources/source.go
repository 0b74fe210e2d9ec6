package sources

import (
	"context"
	"fmt"
	"time"
)

// Format is the kind of file an input holds.
type Format string

const (
	FormatNDJSON   Format = "ndjson"   // Auditbeat documents, one JSON object per line, maybe gzipped
	FormatAuditLog Format = "auditlog" // raw auditd text records, maybe gzipped
)

// FileInfo identifies one file of an input. Fingerprint is the hex SHA-256 of
// the first 64 KiB of the file's content (after gunzip), and ContentSize the
// content's length (for gzip, the trailer's size, which is modulo 4 GiB): the
// pair recognises a file already loaded even after logrotate renamed or
// compressed it, and PrefixHashes tells a file that only grew since.
type FileInfo struct {
	Path        string
	Size        int64 // bytes on disk
	ModTime     time.Time
	Gzip        bool
	ContentSize int64
	Fingerprint string
}

// Input is one unit of reading. An NDJSON input is a single file. A raw
// audit-log input is a rotation set (audit.log.3 ... audit.log.1, audit.log)
// read oldest first as one stream, because one event's records can straddle a
// rotation boundary.
type Input struct {
	Format Format
	Files  []FileInfo // in reading order, oldest first
	// Host names the machine for raw records that carry no node= prefix.
	Host string
}

// Options tune how inputs are read.
type Options struct {
	Selection Selection
	// Host is the host name for raw audit logs without node= prefixes. When
	// empty, the name of the folder holding the log is used.
	Host string
	// MaxSamples bounds how many rejected positions are kept per file.
	MaxSamples int
	// HashPrefixes asks a raw audit-log read to hash its files' content in
	// the same pass: for file i, the prefixes HashPrefixes[i] as PrefixHashes
	// takes them, answered in FileReport.PrefixHashes. Other formats ignore it.
	HashPrefixes [][]PrefixHash
}

func (o Options) maxSamples() int {
	if o.MaxSamples <= 0 {
		return 5
	}
	return o.MaxSamples
}

// EventFunc receives each event read. The event is only valid during the call:
// readers reuse it, so keep a copy, not the pointer.
type EventFunc func(*Event) error

// Read streams the events of one input to fn, in file order, and reports what
// was read and what was rejected. Bad lines never stop the read; an error is
// returned for an unreadable file, a cancelled context, or an error from fn.
func Read(ctx context.Context, in Input, opts Options, fn EventFunc) (Report, error) {
	switch in.Format {
	case FormatNDJSON:
		return readNDJSON(ctx, in, opts, fn)
	case FormatAuditLog:
		return readAuditLog(ctx, in, opts, fn)
	default:
		return Report{}, fmt.Errorf("unknown input format %q", in.Format)
	}
}
