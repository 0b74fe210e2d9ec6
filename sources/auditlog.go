package sources

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/elastic/go-libaudit/v2/auparse"
)

// A raw audit log is read by a pipeline that keeps both cores busy and the
// output in file order:
//
//	splitter (one goroutine): files of the rotation set, oldest first, cut
//	  into chunks of whole lines
//	parsers (one per core): auparse headers, plus the fields of the records
//	  a process event needs
//	assembler (the caller's goroutine): chunks taken back in order, records
//	  grouped into events by go-libaudit's reassembler, events handed to fn
//
// Memory stays bounded: a few chunks in flight and the reassembly window.

// auditReadConfig sizes the pipeline. Tests shrink it to reach chunk and line
// boundaries with small inputs.
type auditReadConfig struct {
	chunkSize int // bytes of text handed to a parser at once
	maxLine   int // longer lines are skipped without being held in memory
	workers   int // parser goroutines
	window    int // events the reassembler holds while waiting for late records
}

func defaultAuditReadConfig() auditReadConfig {
	return auditReadConfig{
		chunkSize: 256 << 10,
		maxLine:   1 << 20,
		workers:   max(1, runtime.GOMAXPROCS(0)),
		window:    64,
	}
}

// normalized keeps a config workable: a chunk never holds a line longer than
// maxLine, since a line that fits the buffer is taken whole.
func (c auditReadConfig) normalized() auditReadConfig {
	c.maxLine = max(c.maxLine, 1)
	c.chunkSize = min(max(c.chunkSize, 1), c.maxLine+1)
	c.workers = max(c.workers, 1)
	c.window = max(c.window, 1)
	return c
}

// auditSource is one file of a rotation set, opened when its turn comes.
type auditSource struct {
	path string
	open func() (io.Reader, io.Closer, error)
	hash []PrefixHash // prefixes to hash while reading (Options.HashPrefixes)
}

func readAuditLog(ctx context.Context, in Input, opts Options, fn EventFunc) (Report, error) {
	host := in.Host
	if host == "" {
		host = opts.Host
	}
	if host == "" && len(in.Files) > 0 {
		host = filepath.Base(filepath.Dir(mustAbs(in.Files[len(in.Files)-1].Path)))
	}
	srcs := make([]auditSource, len(in.Files))
	for i, info := range in.Files {
		srcs[i] = auditSource{path: info.Path, open: func() (io.Reader, io.Closer, error) { return openContent(info) }}
		if i < len(opts.HashPrefixes) && len(opts.HashPrefixes[i]) > 0 {
			srcs[i].hash = opts.HashPrefixes[i]
		}
	}
	return readAuditSources(ctx, srcs, host, opts, defaultAuditReadConfig(), fn)
}

// readAuditLogFrom reads one raw audit log from r: the entry point for
// benchmarks, fuzzing and callers holding a stream rather than a file.
func readAuditLogFrom(ctx context.Context, r io.Reader, name, host string, opts Options, fn EventFunc) (Report, error) {
	src := auditSource{path: name, open: func() (io.Reader, io.Closer, error) { return r, nopCloser{}, nil }}
	return readAuditSources(ctx, []auditSource{src}, host, opts, defaultAuditReadConfig(), fn)
}

// auditChunk is a run of whole lines of one file, or a note about lines that
// never made it into a chunk (too long, unreadable).
type auditChunk struct {
	file      int32
	firstLine int64  // number of the first line of text, from 1
	text      string // whole lines; the last may lack its newline at the end of a file
	lines     int64  // lines this chunk accounts for, text and notes
	noNewline bool   // text ends a file that did not end with a newline
	notes     []auditNote
	fatal     error    // the read cannot go on
	hashes    []string // the file's prefix hashes, once read to its end

	recs    []auditRecord // filled by a parser: the records read
	rejects []auditNote   // filled by a parser: the lines that could not be
	done    chan struct{}
}

type auditNote struct {
	line   int64
	reason string
}

func readAuditSources(ctx context.Context, srcs []auditSource, host string, opts Options, cfg auditReadConfig, fn EventFunc) (Report, error) {
	cfg = cfg.normalized()
	paths := make([]string, len(srcs))
	for i, s := range srcs {
		paths[i] = s.path
	}
	asm := newAuditAssembler(opts.Selection, host, cfg.window, paths, fn)
	report := func() Report { return Report{Files: asm.reports} }

	ctx, cancel := context.WithCancel(ctx)
	ordered := make(chan *auditChunk, 4*cfg.workers)
	work := make(chan *auditChunk, 2*cfg.workers)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait() // files closed, no goroutine left behind
	}()

	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ordered)
		defer close(work)
		send := func(c *auditChunk) bool {
			c.done = make(chan struct{})
			select {
			case ordered <- c:
			case <-ctx.Done():
				return false
			}
			select {
			case work <- c:
				return true
			case <-ctx.Done():
				return false
			}
		}
		splitAuditSources(ctx, srcs, cfg, send)
	}()
	for range cfg.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				if ctx.Err() == nil {
					parseAuditChunk(c, opts.Selection)
				}
				close(c.done)
			}
		}()
	}

	limit := opts.maxSamples()
	// The last run of a chunk waits for the next chunk, whose first run may
	// be its continuation: runs, hence results, do not depend on chunking.
	var pending *auditRecord
	flushPending := func() error {
		if pending == nil {
			return nil
		}
		p := pending
		pending = nil
		return pushAuditRun(asm, p, limit)
	}
	for c := range ordered {
		select {
		case <-c.done:
		case <-ctx.Done():
			return report(), ctx.Err()
		}
		if c.fatal != nil {
			if err := flushPending(); err != nil {
				return report(), err
			}
			return report(), c.fatal
		}
		fr := &asm.reports[c.file]
		fr.Lines += c.lines
		if c.hashes != nil {
			fr.PrefixHashes = c.hashes
		}
		// Rejected lines and notes come in line order, chunk after chunk, so
		// the samples kept are the first ones.
		for _, n := range c.rejects {
			fr.reject(n.line, limit, "%s", n.reason)
		}
		for _, n := range c.notes {
			fr.reject(n.line, limit, "%s", n.reason)
		}
		for i := range c.recs {
			rec := &c.recs[i]
			if rec.run == nil {
				continue // a record carried by its run's head
			}
			head := rec
			if pending != nil {
				if sameAuditEvent(pending, rec) && len(pending.run)+len(rec.run) <= maxEventRecords {
					head = joinAuditRuns(pending, rec)
					pending = nil
				} else if err := flushPending(); err != nil {
					return report(), err
				}
			}
			if &rec.run[len(rec.run)-1] == &c.recs[len(c.recs)-1] {
				pending = head
				continue
			}
			if err := pushAuditRun(asm, head, limit); err != nil {
				return report(), err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return report(), err
	}
	if err := flushPending(); err != nil {
		return report(), err
	}
	if err := asm.flush(); err != nil {
		return report(), err
	}
	// Lines of an event over budget are rejected when the event is pushed,
	// which can come after the rejects of the next chunk.
	for i := range asm.reports {
		samples := asm.reports[i].Samples
		sort.SliceStable(samples, func(a, b int) bool { return samples[a].Line < samples[b].Line })
	}
	return report(), nil
}

// pushAuditRun hands a run to the assembler, or rejects its lines when its
// event is already over the record budget.
func pushAuditRun(asm *auditAssembler, head *auditRecord, limit int) error {
	ok, err := asm.admit(head)
	if err != nil {
		return err
	}
	for i := range head.run {
		r := &head.run[i]
		switch {
		case !ok:
			asm.reports[r.file].reject(r.line, limit, "%s", reasonEventTooLarge)
		case r.repaired:
			asm.reports[r.file].Repaired++
		}
	}
	if !ok {
		return nil
	}
	return asm.push(head)
}

// parseAuditChunk parses every line of a chunk. Records point back at their
// slot (Payload), which the assembler reads when their event completes.
func parseAuditChunk(c *auditChunk, sel Selection) {
	text := c.text
	if text == "" {
		return
	}
	// One pass over the whole chunk spares the per-line check in clean logs.
	dirty := strings.IndexByte(text, 0) >= 0 || !utf8.ValidString(text)
	// A slot per line, but no more than records of the shortest kind could
	// fill: a chunk of blank or junk lines must not cost a slot each.
	recs := make([]auditRecord, 0, min(c.lines, int64(len(text)/24+1)))
	line := c.firstLine
	for pos := 0; pos < len(text); line++ {
		end := strings.IndexByte(text[pos:], '\n')
		last := end < 0
		if last {
			end = len(text)
		} else {
			end += pos
		}
		raw := text[pos:end]
		pos = end + 1
		rec := auditRecord{line: line, file: c.file}
		if dirty {
			if fixed := repairAuditLine(raw); fixed != raw {
				raw, rec.repaired = fixed, true
				if strings.TrimSpace(raw) == "" {
					c.rejects = append(c.rejects, auditNote{line, reasonOnlyJunk})
					continue
				}
			}
		}
		if reason, ok := parseAuditLine(raw, last && c.noNewline, sel, &rec); reason != "" {
			c.rejects = append(c.rejects, auditNote{line, reason})
		} else if ok {
			recs = append(recs, rec)
		}
	}
	// Slots are final: records may now point at each other.
	groupAuditRuns(recs)
	c.recs = recs
}

// groupAuditRuns marks runs of consecutive records of one event (same node,
// serial and time), as auditd writes them. Pushing one message per run rather
// than per record divides the reassembler's work; the records would have
// joined the same event, and a run holding a record that ends the event still
// ends it (see auditAssembler.push). A run is kept whole even past such a
// record, where the reassembler alone would start a second event.
func groupAuditRuns(recs []auditRecord) {
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && sameAuditEvent(&recs[i], &recs[j]) {
			j++
		}
		markAuditRun(recs[i:j:j])
		i = j
	}
}

// markAuditRun sets up the head of a run and returns it: the first record
// other than EOE, or the first EOE when there is nothing else.
func markAuditRun(run []auditRecord) *auditRecord {
	head := 0
	for head < len(run) && run[head].typ == auparse.AUDIT_EOE {
		head++
	}
	eoeOnly := head == len(run)
	if eoeOnly {
		head = 0
	}
	for k := range run {
		run[k].run, run[k].completes, run[k].eoeRun = nil, false, false
		if k != head && endsAuditEvent(run[k].typ) {
			run[head].completes = !eoeOnly
		}
	}
	h := &run[head]
	h.run, h.eoeRun = run, eoeOnly
	if h.msg == nil {
		ts := time.UnixMilli(h.tsMilli).UTC()
		h.msg = &auparse.AuditMessage{RecordType: h.typ, Timestamp: ts, Sequence: h.seq, RawData: h.raw}
	}
	h.msg.Payload = h
	return h
}

// joinAuditRuns makes one run of two halves that a chunk boundary cut apart.
func joinAuditRuns(a, b *auditRecord) *auditRecord {
	run := make([]auditRecord, 0, len(a.run)+len(b.run))
	run = append(append(run, a.run...), b.run...)
	return markAuditRun(run)
}

func sameAuditEvent(a, b *auditRecord) bool {
	return a.seq == b.seq && a.tsMilli == b.tsMilli && a.node == b.node
}

// endsAuditEvent is the reassembler's rule for records that complete an event.
func endsAuditEvent(t auparse.AuditMessageType) bool {
	return t == auparse.AUDIT_EOE || t == auparse.AUDIT_PROCTITLE ||
		t <= auparse.AUDIT_LAST_DAEMON || t >= auparse.AUDIT_ANOM_LOGIN_FAILURES
}

// splitAuditSources reads the files in order and sends their chunks; it stops
// when send refuses (the read was cancelled) or a file cannot be read.
func splitAuditSources(ctx context.Context, srcs []auditSource, cfg auditReadConfig, send func(*auditChunk) bool) {
	for i, src := range srcs {
		if ctx.Err() != nil {
			return
		}
		r, closer, err := src.open()
		if err != nil {
			send(&auditChunk{file: int32(i), fatal: err})
			return
		}
		var hasher *prefixHasher
		if len(src.hash) > 0 {
			// The bytes read for parsing are hashed on the way: one pass.
			hasher = newPrefixHasher(src.hash)
			r = hashingReader{r, hasher}
		}
		ok := splitAuditFile(ctx, int32(i), src.path, r, hasher, cfg, send)
		closer.Close()
		if !ok {
			return
		}
	}
}

// splitAuditFile cuts one file into chunks of whole lines. A line longer than
// cfg.maxLine is skipped up to its newline without being held in memory. It
// returns false when the read must stop.
func splitAuditFile(ctx context.Context, file int32, path string, r io.Reader, hasher *prefixHasher, cfg auditReadConfig, send func(*auditChunk) bool) bool {
	buf := make([]byte, 0, cfg.chunkSize)
	var line int64 // lines of this file already sent
	skipping := false
	for {
		if ctx.Err() != nil {
			return false
		}
		readErr := fillAuditBuffer(r, &buf)
		eof := readErr != nil
		data := buf
		if skipping {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				buf = buf[:0]
				if !eof {
					continue
				}
				data = nil
			} else {
				data = data[i+1:]
			}
			line++
			skipping = false
			if !send(&auditChunk{file: file, lines: 1, notes: []auditNote{{line, reasonOverlong}}}) {
				return false
			}
		}
		if last := bytes.LastIndexByte(data, '\n'); last >= 0 {
			text := string(data[:last+1])
			n := int64(strings.Count(text, "\n"))
			if !send(&auditChunk{file: file, firstLine: line + 1, text: text, lines: n}) {
				return false
			}
			line += n
			data = data[last+1:]
		}
		if eof {
			if len(data) > 0 {
				line++
				if !send(&auditChunk{file: file, firstLine: line, text: string(data), lines: 1, noNewline: true}) {
					return false
				}
			}
			if hasher != nil && (readErr == io.EOF || errors.Is(readErr, io.ErrUnexpectedEOF)) {
				// As PrefixHashes: a cut stream still hashes what it holds.
				if !send(&auditChunk{file: file, hashes: hasher.sums()}) {
					return false
				}
			}
			if readErr == io.EOF {
				return true
			}
			if isCorruptContent(readErr) {
				// The rest of a damaged gzip member is lost; later files still count.
				return send(&auditChunk{file: file, notes: []auditNote{{line + 1, reasonCorruptContent}}})
			}
			send(&auditChunk{file: file, fatal: fmt.Errorf("audit log %q: read: %w", path, readErr)})
			return false
		}
		// Keep the partial last line for the next round.
		n := copy(buf[:cap(buf)], data)
		buf = buf[:n]
		if n == cap(buf) {
			if n > cfg.maxLine {
				skipping = true
				buf = buf[:0]
				continue
			}
			grown := make([]byte, n, min(2*cap(buf), cfg.maxLine+1))
			copy(grown, buf)
			buf = grown
		}
	}
}

// fillAuditBuffer reads until buf is full or the reader stops; the error is
// io.EOF at a clean end.
func fillAuditBuffer(r io.Reader, buf *[]byte) error {
	b := *buf
	defer func() { *buf = b }()
	for idle := 0; len(b) < cap(b); {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			return err
		}
		if n == 0 {
			if idle++; idle > 100 {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}

// isCorruptContent tells a damaged or cut gzip stream, whose readable part
// still counts, from an I/O error that stops the read.
func isCorruptContent(err error) bool {
	var corrupt flate.CorruptInputError
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) ||
		errors.Is(err, gzip.ErrHeader) || errors.As(err, &corrupt)
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
