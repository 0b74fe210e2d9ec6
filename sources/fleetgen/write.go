package fleetgen

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/auditlens/auditlens/sources"
)

// Format is an output format of the generator.
type Format string

const (
	FormatECS      Format = "ecs"      // Auditbeat 7.x/8.x ECS NDJSON, hosts and containers
	Format6x       Format = "6x"       // Auditbeat 6.x NDJSON, hosts and containers
	FormatAuditLog Format = "auditlog" // raw audit.log text, one folder per host, hosts only
)

// Formats lists the output formats.
func Formats() []Format { return []Format{FormatECS, Format6x, FormatAuditLog} }

// WriteOptions choose what WriteAll writes.
type WriteOptions struct {
	Formats []Format // empty: all
	Gzip    bool     // gzip every data file (labels stay plain)
}

// File is one file WriteAll wrote.
type File struct {
	Path   string `json:"path"`
	Format Format `json:"format"`
	Bytes  int64  `json:"bytes"`
	Events int64  `json:"events"`
}

// Summary is what WriteAll wrote.
type Summary struct {
	Files  []File `json:"files"`
	Totals Totals `json:"totals"`
}

func (t *Totals) add(r *record) {
	t.Events++
	if r.kind == recExec {
		t.Executions++
	} else {
		t.Noise++
	}
	if r.e.scope == sources.ScopeHost {
		t.HostEvents++
	}
}

// WriteECS writes every event as Auditbeat 8.x ECS documents, one per line.
func (f *Fleet) WriteECS(ctx context.Context, w io.Writer) (Totals, error) {
	return f.writeNDJSON(ctx, w, nil)
}

// Write6x writes every event as Auditbeat 6.x documents, one per line.
func (f *Fleet) Write6x(ctx context.Context, w io.Writer) (Totals, error) {
	return f.writeNDJSON(ctx, nil, w)
}

// writeNDJSON writes ECS and 6.x documents in one pass over the stream; a
// nil writer skips its format. Generation and encoding run on separate cores.
func (f *Fleet) writeNDJSON(ctx context.Context, ecs, v6 io.Writer) (Totals, error) {
	var tot Totals
	type batch struct{ a, b []byte }
	out := make(chan batch, 4)
	free := make(chan batch, 6)
	for i := 0; i < 6; i++ {
		free <- batch{make([]byte, 0, 1<<20), make([]byte, 0, 1<<20)}
	}
	var werr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for bt := range out {
			if werr == nil && ecs != nil {
				_, werr = ecs.Write(bt.a)
			}
			if werr == nil && v6 != nil {
				_, werr = v6.Write(bt.b)
			}
			free <- batch{bt.a[:0], bt.b[:0]}
		}
	}()
	x := newEncoder(f)
	cur := <-free
	flush := func() {
		out <- cur
		cur = <-free
	}
	err := f.streamAll(ctx, f.all, func(r *record) error {
		tot.add(r)
		if ecs != nil {
			cur.a = x.appendECS(cur.a, r)
		}
		if v6 != nil {
			cur.b = x.append6x(cur.b, r)
		}
		if len(cur.a) > 900<<10 || len(cur.b) > 900<<10 {
			flush()
		}
		return nil
	})
	out <- cur
	close(out)
	<-done
	if err != nil {
		return tot, fmt.Errorf("generate events: %w", err)
	}
	if werr != nil {
		return tot, fmt.Errorf("write events: %w", werr)
	}
	return tot, nil
}

// WriteAuditLog writes each host's own events as raw auditd records to
// dir/HOST/audit.log (audit.log.gz with gz), hosts in parallel. Container
// events are not in raw logs.
func (f *Fleet) WriteAuditLog(ctx context.Context, dir string, gz bool) ([]File, error) {
	files := make([]File, len(f.hosts))
	errs := make([]error, len(f.hosts))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(f.hosts) {
					return
				}
				files[i], errs[i] = f.writeHostLog(ctx, dir, f.hosts[i], gz)
			}
		}()
	}
	wg.Wait()
	return files, errors.Join(errs...)
}

func (f *Fleet) writeHostLog(ctx context.Context, dir string, e *entity, gz bool) (File, error) {
	name := "audit.log"
	if gz {
		name += ".gz"
	}
	p := filepath.Join(dir, e.name, name)
	out := File{Path: p, Format: FormatAuditLog}
	err := writeFile(p, gz, func(w io.Writer) error {
		x := newEncoder(f)
		var buf []byte
		err := f.streamAll(ctx, []*entity{e}, func(r *record) error {
			out.Events++
			buf = x.appendRaw(buf, r, !f.cfg.AuditLogNoNode, f.cfg.AuditLogEnriched)
			if len(buf) > 512<<10 {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
			return nil
		})
		if err != nil {
			return err
		}
		_, err = w.Write(buf)
		return err
	}, &out.Bytes)
	if err != nil {
		return out, fmt.Errorf("raw audit log of %s: %w", e.name, err)
	}
	return out, nil
}

// writeFile creates p (and its folder), hands fill a buffered, maybe
// gzipped writer, and records the bytes on disk.
func writeFile(p string, gz bool, fill func(io.Writer) error, size *int64) (err error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	fh, err := os.Create(p)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if fi, serr := os.Stat(p); serr == nil && size != nil {
			*size = fi.Size()
		}
	}()
	bw := bufio.NewWriterSize(fh, 1<<20)
	var w io.Writer = bw
	var zw *gzip.Writer
	if gz {
		// A zero header (no name, no time) keeps gzip output reproducible.
		zw, _ = gzip.NewWriterLevel(bw, gzip.BestSpeed)
		w = zw
	}
	if err := fill(w); err != nil {
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteAll writes the chosen formats under dir — ecs/auditbeat.ndjson,
// 6x/auditbeat.ndjson, raw/HOST/audit.log (each .gz with Gzip) — and
// labels.json with the totals.
func (f *Fleet) WriteAll(ctx context.Context, dir string, opts WriteOptions) (Summary, error) {
	formats := opts.Formats
	if len(formats) == 0 {
		formats = Formats()
	}
	for _, fm := range formats {
		if !slices.Contains(Formats(), fm) {
			return Summary{}, fmt.Errorf("unknown output format %q (want ecs, 6x or auditlog)", fm)
		}
	}
	ext := ""
	if opts.Gzip {
		ext = ".gz"
	}
	var sum Summary
	wantECS, want6x := slices.Contains(formats, FormatECS), slices.Contains(formats, Format6x)
	if wantECS || want6x {
		ecsFile := File{Path: filepath.Join(dir, "ecs", "auditbeat.ndjson"+ext), Format: FormatECS}
		v6File := File{Path: filepath.Join(dir, "6x", "auditbeat.ndjson"+ext), Format: Format6x}
		var tot Totals
		var inner func(ecs, v6 io.Writer) error = func(ecs, v6 io.Writer) error {
			var err error
			tot, err = f.writeNDJSON(ctx, ecs, v6)
			return err
		}
		var err error
		switch {
		case wantECS && want6x:
			err = writeFile(ecsFile.Path, opts.Gzip, func(a io.Writer) error {
				return writeFile(v6File.Path, opts.Gzip, func(b io.Writer) error { return inner(a, b) }, &v6File.Bytes)
			}, &ecsFile.Bytes)
		case wantECS:
			err = writeFile(ecsFile.Path, opts.Gzip, func(a io.Writer) error { return inner(a, nil) }, &ecsFile.Bytes)
		default:
			err = writeFile(v6File.Path, opts.Gzip, func(b io.Writer) error { return inner(nil, b) }, &v6File.Bytes)
		}
		if err != nil {
			return sum, err
		}
		ecsFile.Events, v6File.Events = tot.Events, tot.Events
		if wantECS {
			sum.Files = append(sum.Files, ecsFile)
		}
		if want6x {
			sum.Files = append(sum.Files, v6File)
		}
		sum.Totals = tot
	} else {
		if err := f.streamAll(ctx, f.all, func(r *record) error { sum.Totals.add(r); return nil }); err != nil {
			return sum, err
		}
	}
	if slices.Contains(formats, FormatAuditLog) {
		files, err := f.WriteAuditLog(ctx, filepath.Join(dir, "raw"), opts.Gzip)
		if err != nil {
			return sum, err
		}
		sum.Files = append(sum.Files, files...)
	}
	labels := f.Labels()
	labels.Totals = &sum.Totals
	lp := filepath.Join(dir, "labels.json")
	err := writeFile(lp, false, func(w io.Writer) error { return WriteLabels(w, labels) }, nil)
	if err != nil {
		return sum, fmt.Errorf("labels: %w", err)
	}
	return sum, nil
}
