package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/auditlens/auditlens/sources"
)

// ReadFunc reads one input, as sources.Read does.
type ReadFunc func(ctx context.Context, in sources.Input, opts sources.Options, fn sources.EventFunc) (sources.Report, error)

// IngestOptions tune an Ingest.
type IngestOptions struct {
	// Selection is which events to load; a file loaded with AllSyscalls also
	// serves Executions, the other way round it is read again.
	Selection sources.Selection
	// Host names the machine for raw audit logs without node= prefixes.
	Host string
	// MaxSamples bounds the rejected positions kept per file.
	MaxSamples int
	// Strict makes any rejected line fail its input: nothing of it is loaded
	// and the error names the file and line.
	Strict bool
	// Progress, when set, is called as inputs are read (from the calling
	// goroutine, often: keep it quick).
	Progress func(Progress)
	// Read reads an input; nil means sources.Read.
	Read ReadFunc
}

// Progress is how far an Ingest has come.
type Progress struct {
	Inputs, InputsDone int
	Files, FilesDone   int
	Bytes, BytesDone   int64 // bytes on disk of the files
	Events             int64 // events read so far
	Path               string
}

// FileStatus says what an Ingest did with one file.
type FileStatus string

const (
	FileNew       FileStatus = "new"       // read and stored
	FileGrown     FileStatus = "grown"     // read again in full: it grew since an earlier load, which it replaces
	FileReloaded  FileStatus = "reloaded"  // read again: loaded before with fewer syscalls, under another host name, or incompletely; replaced
	FileKnown     FileStatus = "known"     // already in the cache, with this content: not read
	FileDuplicate FileStatus = "duplicate" // same content as an earlier file of the same input: not stored twice
)

// FileResult is what became of one file.
type FileResult struct {
	Path   string
	Status FileStatus
	// Load is the load that holds the file's events now (new, or the earlier
	// one when known); 0 for a duplicate or when the input failed.
	Load int64
	// Replaced lists the earlier loads this file's load replaced.
	Replaced []int64
	Report   sources.FileReport
}

// InputResult is what became of one input.
type InputResult struct {
	Files []FileResult
	// Read says whether the input was parsed; false when all its files were
	// already in the cache.
	Read   bool
	Report sources.Report
	// Err is why nothing of this input was loaded: an unreadable file, or a
	// rejected line under Strict.
	Err error
}

// IngestResult says, input by input, what an Ingest loaded and skipped.
type IngestResult struct {
	Inputs []InputResult
}

// Loads lists the loads that now hold the files of the ingested inputs, for
// restricting queries and statistics to them.
func (r IngestResult) Loads() []int64 {
	var ids []int64
	for _, in := range r.Inputs {
		for _, f := range in.Files {
			if f.Load != 0 {
				ids = append(ids, f.Load)
			}
		}
	}
	return ids
}

// Count says how many files ended in each status.
func (r IngestResult) Count(status FileStatus) int {
	n := 0
	for _, in := range r.Inputs {
		for _, f := range in.Files {
			if f.Status == status && in.Err == nil {
				n++
			}
		}
	}
	return n
}

// storeError marks an error of the cache itself inside the reader's callback,
// which stops the whole Ingest rather than failing one input.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// Ingest loads inputs into the cache, each input in one transaction, so an
// interrupted Ingest leaves only whole inputs behind and a rerun does the
// rest. An input whose files are all known (same fingerprint and content
// size, even renamed or gzipped by logrotate) is not read at all. A file that
// grew by appends is read again in full and replaces its earlier load.
//
// A cancelled context rolls back the input being read and returns ctx.Err().
// An input that fails (unreadable, or a rejected line under Strict) is rolled
// back and reported in its InputResult; Ingest goes on with the others and
// returns all such failures joined. Errors of the cache itself stop it.
func (s *Store) Ingest(ctx context.Context, inputs []sources.Input, opts IngestOptions) (IngestResult, error) {
	defer relaxGC()()
	if opts.Read == nil {
		opts.Read = sources.Read
	}
	tr := &tracker{fn: opts.Progress}
	tr.p.Inputs = len(inputs)
	for _, in := range inputs {
		tr.p.Files += len(in.Files)
		for _, f := range in.Files {
			tr.p.Bytes += f.Size
		}
	}
	tr.report()

	var res IngestResult
	var failed []error
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		ir, err := s.ingestInput(ctx, in, opts, tr)
		res.Inputs = append(res.Inputs, ir)
		if err != nil {
			return res, err
		}
		if ir.Err != nil {
			failed = append(failed, ir.Err)
		}
		tr.inputDone(in)
	}
	if len(failed) > 0 {
		return res, fmt.Errorf("%d of %d inputs not loaded: %w", len(failed), len(inputs), errors.Join(failed...))
	}
	return res, nil
}

// tracker reports progress.
type tracker struct {
	fn           func(Progress)
	p            Progress
	inputBytes   int64 // BytesDone when the current input started
	inputFiles   int
	lastReported time.Time
}

func (t *tracker) report() {
	if t.fn != nil {
		t.fn(t.p)
	}
}

func (t *tracker) inputDone(in sources.Input) {
	t.p.InputsDone++
	t.p.FilesDone = t.inputFiles + len(in.Files)
	t.inputFiles = t.p.FilesDone
	var size int64
	for _, f := range in.Files {
		size += f.Size
	}
	t.p.BytesDone = t.inputBytes + size
	t.inputBytes = t.p.BytesDone
	t.report()
}

// reading says the current input has reached file i.
func (t *tracker) reading(in sources.Input, i int) {
	var done int64
	for _, f := range in.Files[:i] {
		done += f.Size
	}
	t.p.FilesDone = t.inputFiles + i
	t.p.BytesDone = t.inputBytes + done
	t.p.Path = in.Files[i].Path
}

// tick is called per event; it reports at most every 100ms.
func (t *tracker) tick() {
	t.p.Events++
	if t.fn == nil || t.p.Events%1024 != 0 {
		return
	}
	if now := time.Now(); now.Sub(t.lastReported) >= 100*time.Millisecond {
		t.lastReported = now
		t.report()
	}
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// filePlan is what to do with one file of an input.
type filePlan struct {
	info   sources.FileInfo
	status FileStatus // FileKnown, FileDuplicate, or FileNew (to read)
	known  storedLoad // the load that has it, when known
	same   []int64    // loads of the same content to replace when read
}

type storedLoad struct {
	id       int64
	rejected int64
	samples  string
}

// plan classifies the files of an input against the loads in the cache. A
// file is known when a complete load has its content, read with at least the
// selection asked for and, for raw logs (whose host name may come from the
// command line rather than the data), under the same host name.
func plan(ctx context.Context, q querier, in sources.Input, sel sources.Selection, host string) ([]filePlan, error) {
	plans := make([]filePlan, len(in.Files))
	seen := map[[2]string]bool{}
	for i, f := range in.Files {
		p := &plans[i]
		p.info, p.status = f, FileNew
		id := [2]string{f.Fingerprint, fmt.Sprint(f.ContentSize)}
		if seen[id] {
			p.status = FileDuplicate
			continue
		}
		seen[id] = true
		rows, err := q.QueryContext(ctx, `SELECT id, selection, complete, format, host, rejected, samples FROM load
			WHERE source = 'file' AND fingerprint = ? AND content_size = ?
			ORDER BY complete DESC, selection DESC, id`, f.Fingerprint, f.ContentSize)
		if err != nil {
			return nil, fmt.Errorf("look up %s: %w", f.Path, err)
		}
		for rows.Next() {
			var l storedLoad
			var selection int
			var complete bool
			var format, loadHost string
			if err := rows.Scan(&l.id, &selection, &complete, &format, &loadHost, &l.rejected, &l.samples); err != nil {
				rows.Close()
				return nil, fmt.Errorf("look up %s: %w", f.Path, err)
			}
			sameHost := format != string(sources.FormatAuditLog) || loadHost == host
			if p.status == FileNew && complete && selection >= int(sel) && sameHost {
				p.status, p.known = FileKnown, l
				continue
			}
			p.same = append(p.same, l.id)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("look up %s: %w", f.Path, err)
		}
		if p.status == FileKnown {
			p.same = nil
		}
	}
	return plans, nil
}

func allSkipped(plans []filePlan) bool {
	for _, p := range plans {
		if p.status == FileNew {
			return false
		}
	}
	return true
}

// strictKnown fails a skipped input under Strict when a file of it was loaded
// earlier with rejected lines, so the verdict does not depend on the cache.
func strictKnown(plans []filePlan) error {
	for _, p := range plans {
		if p.status != FileKnown || p.known.rejected == 0 {
			continue
		}
		var samples []sources.Reject
		_ = json.Unmarshal([]byte(p.known.samples), &samples)
		return strictError(p.info.Path, p.known.rejected, samples, " (loaded earlier without strict)")
	}
	return nil
}

func strictError(path string, rejected int64, samples []sources.Reject, note string) error {
	if len(samples) == 0 {
		return fmt.Errorf("strict: %s: %d rejected line(s)%s", path, rejected, note)
	}
	return fmt.Errorf("strict: %s line %d: %s (%d rejected line(s) in the file)%s", path, samples[0].Line, samples[0].Reason, rejected, note)
}

// growthCandidate is an earlier load that may be a prefix of a file being read.
type growthCandidate struct {
	id   int64
	size int64
	hash string
}

// ingestInput loads one input in one transaction. The error is for failures
// that stop the whole Ingest; failures of the input itself go in Err.
func (s *Store) ingestInput(ctx context.Context, in sources.Input, opts IngestOptions, tr *tracker) (InputResult, error) {
	ir := InputResult{Files: make([]FileResult, len(in.Files))}
	for i, f := range in.Files {
		ir.Files[i] = FileResult{Path: f.Path}
	}
	if len(in.Files) == 0 {
		return ir, nil
	}
	tr.p.Path = in.Files[0].Path
	tr.report()
	skip := func(plans []filePlan) InputResult {
		for i, p := range plans {
			ir.Files[i].Status, ir.Files[i].Load = p.status, p.known.id
		}
		if opts.Strict {
			ir.Err = strictKnown(plans)
		}
		return ir
	}

	// A first look outside any transaction, so a known input costs no lock.
	plans, err := plan(ctx, s.db, in, opts.Selection, hostOf(in, opts))
	if err != nil {
		return ir, err
	}
	if allSkipped(plans) {
		return skip(plans), nil
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ir, fmt.Errorf("begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	if plans, err = plan(ctx, tx, in, opts.Selection, hostOf(in, opts)); err != nil { // the cache may have changed meanwhile
		return ir, err
	}
	if allSkipped(plans) {
		return skip(plans), nil
	}
	for i, p := range plans {
		ir.Files[i].Status = p.status
	}
	if opts.Strict {
		if ir.Err = strictKnown(plans); ir.Err != nil {
			return ir, nil
		}
	}

	// One load per file to read; known and duplicate files are read over but
	// their events dropped.
	loads := make([]*loadState, len(plans))
	known := map[int64]bool{}
	for _, p := range plans {
		if p.status == FileKnown {
			known[p.known.id] = true
		}
	}
	candidates := make([][]growthCandidate, len(plans))
	now := time.Now().UnixNano()
	for i, p := range plans {
		if p.status != FileNew {
			continue
		}
		f := p.info
		res, err := tx.ExecContext(ctx, `INSERT INTO load (source, path, format, host, size, mod_time, gzip,
			fingerprint, content_size, selection, loaded_at, complete) VALUES ('file', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
			absPath(f.Path), string(in.Format), hostOf(in, opts), f.Size, f.ModTime.UnixNano(), f.Gzip,
			f.Fingerprint, f.ContentSize, int(opts.Selection), now)
		if err != nil {
			return ir, fmt.Errorf("record load of %s: %w", f.Path, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return ir, err
		}
		loads[i] = &loadState{id: id, path: f.Path}
		if candidates[i], err = findGrowthCandidates(ctx, tx, f, known); err != nil {
			return ir, err
		}
	}

	// A raw audit log is hashed by its reader in the same pass; other inputs
	// are hashed beside the read.
	inline := in.Format == sources.FormatAuditLog
	readOpts := sources.Options{Selection: opts.Selection, Host: opts.Host, MaxSamples: opts.MaxSamples}
	if inline {
		readOpts.HashPrefixes = make([][]sources.PrefixHash, len(plans))
		for i, p := range plans {
			if loads[i] != nil {
				readOpts.HashPrefixes[i] = hashSizes(p, candidates[i])
			}
		}
	}
	hashes := startHashing(ctx, plans, loads, candidates, inline)
	defer hashes.stop()

	w, err := newWriter(ctx, s, tx)
	if err != nil {
		return ir, err
	}
	defer w.close()
	if err := w.storeBlocks(ctx); err != nil {
		return ir, err
	}

	byPath := make(map[string]int, len(in.Files))
	for i, f := range in.Files {
		if _, ok := byPath[f.Path]; !ok {
			byPath[f.Path] = i
		}
	}
	pl := startPipeline(ctx, w)
	defer pl.stop()
	cur := 0
	tr.reading(in, 0)
	fn := func(ev *sources.Event) error {
		tr.tick()
		if tr.p.Events%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if ev.Origin.File != in.Files[cur].Path {
			if i, ok := byPath[ev.Origin.File]; ok && i != cur {
				cur = i
				tr.reading(in, i)
			}
		}
		l := loads[cur]
		if l == nil {
			return nil // a known or duplicate file
		}
		if err := pl.add(ev, l); err != nil {
			return &storeError{err}
		}
		return nil
	}
	report, err := opts.Read(ctx, in, readOpts, fn)
	ir.Report = report
	if err != nil {
		var se *storeError
		switch {
		case ctx.Err() != nil:
			return ir, ctx.Err()
		case errors.As(err, &se):
			if werr := pl.finish(); werr != nil {
				return ir, werr
			}
			return ir, se.err
		}
		ir.Err = fmt.Errorf("read %s: %w", inputName(in), err)
		return ir, nil
	}
	if err := pl.finish(); err != nil {
		if ctx.Err() != nil {
			return ir, ctx.Err()
		}
		return ir, err
	}
	if err := ctx.Err(); err != nil {
		return ir, err
	}
	reports := fileReports(in, report)
	if opts.Strict {
		for i, p := range plans {
			if loads[i] != nil && reports[i].Rejected > 0 {
				ir.Err = strictError(p.info.Path, reports[i].Rejected, reports[i].Samples, "")
				return ir, nil
			}
		}
	}
	if err := w.flush(ctx); err != nil {
		return ir, err
	}
	hashed := hashes.wait()
	for i, sizes := range readOpts.HashPrefixes {
		if sizes == nil {
			continue
		}
		if h := reports[i].PrefixHashes; len(h) == len(sizes) {
			hashed[i] = h
		} else if h, err := sources.PrefixHashes(ctx, plans[i].info, sizes); err == nil {
			hashed[i] = h // a reader that does not hash, or a read cut short
		}
	}
	if err := ctx.Err(); err != nil {
		return ir, err
	}

	replaced := map[int64]bool{}
	for i, p := range plans {
		fr := &ir.Files[i]
		fr.Status, fr.Report = p.status, reports[i]
		if p.status == FileKnown {
			fr.Load = p.known.id
		}
		l := loads[i]
		if l == nil {
			continue
		}
		fr.Load = l.id
		contentHash := ""
		if h := hashed[i]; h != nil {
			contentHash = h[0]
			for j, c := range candidates[i] {
				if h[j+1] != "" && h[j+1] == c.hash && !replaced[c.id] {
					fr.Replaced = append(fr.Replaced, c.id)
					replaced[c.id] = true
					fr.Status = FileGrown
				}
			}
		}
		for _, id := range p.same {
			if !replaced[id] && !known[id] {
				fr.Replaced = append(fr.Replaced, id)
				replaced[id] = true
				if fr.Status == FileNew {
					fr.Status = FileReloaded
				}
			}
		}
		for _, id := range fr.Replaced {
			if _, err := tx.ExecContext(ctx, "DELETE FROM load WHERE id = ?", id); err != nil {
				return ir, fmt.Errorf("replace load %d: %w", id, err)
			}
		}
		if err := finishLoad(ctx, tx, l, reports[i], contentHash); err != nil {
			return ir, err
		}
	}
	if err := tx.Commit(); err != nil {
		return ir, fmt.Errorf("commit %s: %w", inputName(in), err)
	}
	committed = true
	w.names.committed()
	ir.Read = true
	return ir, nil
}

// findGrowthCandidates lists earlier loads that may be a prefix of f: those
// with the same first 64 KiB, and small ones (whose fingerprint covers their
// whole content, so it cannot match a longer file's).
func findGrowthCandidates(ctx context.Context, tx *sql.Tx, f sources.FileInfo, known map[int64]bool) ([]growthCandidate, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, content_size, content_hash FROM load
		WHERE source = 'file' AND content_size > 0 AND content_size < ? AND content_hash != ''
		AND (fingerprint = ? OR content_size < 65536)`, f.ContentSize, f.Fingerprint)
	if err != nil {
		return nil, fmt.Errorf("look up earlier copies of %s: %w", f.Path, err)
	}
	defer rows.Close()
	var out []growthCandidate
	for rows.Next() {
		var c growthCandidate
		if err := rows.Scan(&c.id, &c.size, &c.hash); err != nil {
			return nil, err
		}
		if !known[c.id] {
			out = append(out, c)
		}
	}
	return out, rows.Err()
}

// finishLoad records what a load holds and marks it complete.
func finishLoad(ctx context.Context, tx *sql.Tx, l *loadState, fr sources.FileReport, contentHash string) error {
	samples, err := json.Marshal(nonNil(fr.Samples))
	if err != nil {
		return err
	}
	var first, last any
	if l.hasTime {
		first, last = l.first, l.last
	}
	_, err = tx.ExecContext(ctx, `UPDATE load SET lines = ?, seen = ?, events = ?, executions = ?, rejected = ?,
		repaired = ?, samples = ?, first_time = ?, last_time = ?, content_hash = ?, complete = 1 WHERE id = ?`,
		fr.Lines, fr.Seen, fr.Events, l.executions, fr.Rejected, fr.Repaired, string(samples), first, last, contentHash, l.id)
	if err != nil {
		return fmt.Errorf("record load %d: %w", l.id, err)
	}
	return nil
}

func nonNil(s []sources.Reject) []sources.Reject {
	if s == nil {
		return []sources.Reject{}
	}
	return s
}

// fileReports lines the report's files up with the input's, by path, else by
// position.
func fileReports(in sources.Input, r sources.Report) []sources.FileReport {
	out := make([]sources.FileReport, len(in.Files))
	byPath := map[string]sources.FileReport{}
	for _, f := range r.Files {
		byPath[f.Path] = f
	}
	for i, f := range in.Files {
		if fr, ok := byPath[f.Path]; ok {
			out[i] = fr
		} else if len(r.Files) == len(in.Files) {
			out[i] = r.Files[i]
		} else {
			out[i] = sources.FileReport{Path: f.Path}
		}
	}
	return out
}

func hostOf(in sources.Input, opts IngestOptions) string {
	if opts.Host != "" {
		return opts.Host
	}
	return in.Host
}

func inputName(in sources.Input) string {
	paths := make([]string, len(in.Files))
	for i, f := range in.Files {
		paths[i] = f.Path
	}
	return strings.Join(paths, ", ")
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// ingestGCPercent lets the heap grow further between collections while an
// ingest runs: its garbage is short-lived text and records, and collecting it
// at the default pace costs a good share of the CPU the ingest needs.
const ingestGCPercent = 400

// relaxGC raises the collector's target for the duration of an ingest and
// returns what puts it back. A setting already higher, or collection turned
// off, is left alone.
func relaxGC() (restore func()) {
	old := debug.SetGCPercent(ingestGCPercent)
	if old < 0 || old >= ingestGCPercent {
		debug.SetGCPercent(old)
		return func() {}
	}
	return func() { debug.SetGCPercent(old) }
}

// hashing hashes the files being read beside the parse: the whole content,
// to know the file again when it grows, and the sizes of earlier loads that
// may be its prefix (they grew into it).
type hashing struct {
	cancel context.CancelFunc
	done   chan struct{}
	hashes [][]string // per file: [content hash, candidate prefix hashes...]
}

func startHashing(ctx context.Context, plans []filePlan, loads []*loadState, candidates [][]growthCandidate, byReader bool) *hashing {
	hctx, cancel := context.WithCancel(ctx)
	h := &hashing{cancel: cancel, done: make(chan struct{}), hashes: make([][]string, len(plans))}
	go func() {
		defer close(h.done)
		for i, p := range plans {
			if loads[i] == nil || byReader {
				continue
			}
			sizes := hashSizes(p, candidates[i])
			if sizes == nil {
				continue
			}
			hs, err := sources.PrefixHashes(hctx, p.info, sizes)
			if err != nil {
				continue // growth is then not recognised; the load itself is sound
			}
			h.hashes[i] = hs
		}
	}()
	return h
}

// hashSizes lists the prefixes of a file to hash: [content, candidates...],
// or nil when there is nothing to hash. A candidate loaded by an older
// auditlens holds a SHA-256 digest, which only a SHA-256 of the same prefix
// can match.
func hashSizes(p filePlan, candidates []growthCandidate) []sources.PrefixHash {
	// A compressed file never grows, so only the prefixes that earlier loads
	// may share with it are hashed, sparing work on a gunzipped stream.
	wants := []sources.PrefixHash{{Size: -1}}
	if !p.info.Gzip {
		wants[0].Size = p.info.ContentSize
	}
	for _, c := range candidates {
		wants = append(wants, sources.PrefixHash{Size: c.size, Legacy: !strings.HasPrefix(c.hash, "blake3:")})
	}
	if len(wants) == 1 && wants[0].Size < 0 {
		return nil
	}
	return wants
}

// wait returns the hashes once all are done.
func (h *hashing) wait() [][]string {
	<-h.done
	return h.hashes
}

// stop abandons the hashing and waits for it to end.
func (h *hashing) stop() {
	h.cancel()
	<-h.done
}
