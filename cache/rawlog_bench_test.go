package cache

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/sources"
	"github.com/auditlens/auditlens/sources/fleetgen"
)

// findAureport locates auditd's aureport, which often sits in an sbin folder
// outside an ordinary user's PATH.
func findAureport() string {
	if p, err := exec.LookPath("aureport"); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, "aureport")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// writeFleetAuditLog writes the demo fleet's raw audit logs, one per host,
// and joins them into one file at path, hosts in name order (each record
// names its host with node=). It returns the file's size.
func writeFleetAuditLog(b *testing.B, path string) int64 {
	b.Helper()
	ctx := context.Background()
	f, err := fleetgen.New(fleetgen.Default())
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(path), "hosts")
	files, err := f.WriteAuditLog(ctx, dir, false)
	if err != nil {
		b.Fatal(err)
	}
	slices.SortFunc(files, func(x, y fleetgen.File) int { return strings.Compare(x.Path, y.Path) })
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	for _, fl := range files {
		in, err := os.Open(fl.Path)
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(w, in)
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// BenchmarkIngestRawVsAureport loads the demo fleet's raw audit log (about
// 200 MB, every host's log in one file) into a fresh cache, and in the same
// run has auditd's own aureport summarise the executables of the same file:
// aureport-ratio above 1 means the cache loads the log faster than aureport
// merely reads it. The cache's time covers opening a new cache, the ingest
// and closing it (which checkpoints the WAL), as the ingest command does.
// read-MB/s is the raw reader alone on the same file, the bound the ingest
// approaches.
func BenchmarkIngestRawVsAureport(b *testing.B) {
	aureport := findAureport()
	if aureport == "" {
		b.Skip("aureport (auditd) is not installed")
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "audit.log")
	size := writeFleetAuditLog(b, path)
	ins, err := sources.Discover([]string{path}, sources.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// Warm the page cache, so neither side pays for the first read.
	if data, err := os.ReadFile(path); err != nil || int64(len(data)) != size {
		b.Fatalf("read %s: %v", path, err)
	}

	var aureportTime, ingestTime, readTime time.Duration
	var executions int64
	for i := 0; b.Loop(); i++ {
		// The reader alone, for the share of the ingest that is parsing.
		start := time.Now()
		rep, err := sources.Read(ctx, ins[0], sources.Options{}, func(*sources.Event) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		readTime += time.Since(start)

		start = time.Now()
		cmd := exec.CommandContext(ctx, aureport, "-if", path, "-x", "--summary")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("aureport: %v: %.200q", err, stderr.String())
		}
		aureportTime += time.Since(start)
		if !bytes.Contains(stdout.Bytes(), []byte("Executable Summary Report")) {
			b.Fatalf("aureport printed no executable summary: %.200q", stdout.String())
		}

		cachePath := filepath.Join(dir, fmt.Sprintf("cache-%d.db", i))
		start = time.Now()
		s, err := Open(ctx, cachePath)
		if err != nil {
			b.Fatal(err)
		}
		res, err := s.Ingest(ctx, ins, IngestOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		ingestTime += time.Since(start)
		if res.Inputs[0].Report.Events() != rep.Events() {
			b.Fatalf("ingest read %d executions, the reader alone %d", res.Inputs[0].Report.Events(), rep.Events())
		}
		// Every execution is in the cache.
		s, err = Open(ctx, cachePath)
		if err != nil {
			b.Fatal(err)
		}
		if executions = queryInt(b, s, storedEventsSQL); executions != rep.Events() || executions == 0 {
			b.Fatalf("the cache holds %d executions, the reader yields %d", executions, rep.Events())
		}
		s.Close()
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(cachePath + suffix)
		}
	}
	mb := float64(size) / 1e6 * float64(b.N)
	b.ReportMetric(mb/ingestTime.Seconds(), "ingest-MB/s")
	b.ReportMetric(mb/aureportTime.Seconds(), "aureport-MB/s")
	b.ReportMetric(mb/readTime.Seconds(), "read-MB/s")
	b.ReportMetric(aureportTime.Seconds()/ingestTime.Seconds(), "aureport-ratio")
	b.ReportMetric(float64(executions*int64(b.N))/ingestTime.Seconds(), "executions/s")
}
