package sources

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/auditlens/auditlens/internal/corpora"
)

// The synthetic log is built once per test process from real events, and
// removed by TestMain when the process ends.
var syntheticLog struct {
	once sync.Once
	dir  string
	path string
	size int64
	err  error
}

// syntheticTarget is the size of the benchmark log: large enough that startup
// costs vanish for both readers, small enough to build in about a second.
const syntheticTarget = 160 << 20

func TestMain(m *testing.M) {
	code := m.Run()
	if syntheticLog.dir != "" {
		os.RemoveAll(syntheticLog.dir)
	}
	os.Exit(code)
}

// syntheticAuditLog returns the path and size of a raw audit log of about
// syntheticTarget bytes made of real events (a RHEL 7 log, ENRICHED and
// node-prefixed laurel records) repeated with rising serials and timestamps,
// varied pids, and a node= prefix naming one of eight hosts on every other
// event.
func syntheticAuditLog(b *testing.B) (string, int64) {
	b.Helper()
	templates := []string{
		corpora.Path(b, "beats-7.17.29", "filebeat", "module", "auditd", "log", "test", "audit-rhel7.log"),
		corpora.Path(b, "laurel", "testdata", "record-execve.txt"),
		corpora.Path(b, "laurel", "testdata", "tree", "00.txt"),
		corpora.Path(b, "laurel", "testdata", "shell-proc-trace.txt"),
	}
	syntheticLog.once.Do(func() {
		syntheticLog.dir, syntheticLog.err = os.MkdirTemp("", "auditlens-bench-")
		if syntheticLog.err != nil {
			return
		}
		syntheticLog.path = filepath.Join(syntheticLog.dir, "audit.log")
		syntheticLog.size, syntheticLog.err = writeSyntheticAuditLog(syntheticLog.path, templates, syntheticTarget)
	})
	if syntheticLog.err != nil {
		b.Fatalf("build synthetic audit log: %v", syntheticLog.err)
	}
	return syntheticLog.path, syntheticLog.size
}

// templateEvent is one event of a template file: its lines cut around the
// msg=audit(...) header so the header can be rewritten.
type templateEvent struct {
	lines []templateLine
}

type templateLine struct {
	typ  []byte // "type=SYSCALL "
	rest []byte // everything after "msg=audit(TIME:SERIAL)"
}

func loadTemplateEvents(paths []string) ([]templateEvent, error) {
	var events []templateEvent
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		index := map[string]int{}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if i := bytes.IndexByte(line, 0x1d); i >= 0 && !bytes.Contains(line[:i], []byte("msg=audit(")) {
				continue
			}
			if bytes.HasPrefix(line, []byte("node=")) {
				line = line[bytes.IndexByte(line, ' ')+1:]
			}
			start := bytes.Index(line, []byte("msg=audit("))
			if !bytes.HasPrefix(line, []byte("type=")) || start < 0 {
				continue // comments, blank lines, records without a header
			}
			end := bytes.IndexByte(line[start:], ')')
			if end < 0 {
				continue
			}
			header := string(line[start : start+end])
			k, ok := index[header]
			if !ok {
				k = len(events)
				index[header] = k
				events = append(events, templateEvent{})
			}
			events[k].lines = append(events[k].lines, templateLine{typ: line[:start], rest: line[start+end:]})
		}
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("no template events in %v", paths)
	}
	return events, nil
}

func writeSyntheticAuditLog(path string, templates []string, target int64) (int64, error) {
	events, err := loadTemplateEvents(templates)
	if err != nil {
		return 0, err
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var written int64
	var serial uint64 = 1000
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	line := make([]byte, 0, 64<<10)
	for rep := 0; written < target; rep++ {
		for k, ev := range events {
			serial++
			ms := start + int64(serial)*7
			for _, tl := range ev.lines {
				line = line[:0]
				if k%2 == 0 {
					line = fmt.Appendf(line, "node=host-%02d ", (rep+k)%8)
				}
				line = append(line, tl.typ...)
				line = append(line, "msg=audit("...)
				line = strconv.AppendInt(line, ms/1000, 10)
				line = append(line, '.')
				line = fmt.Appendf(line, "%03d", ms%1000)
				line = append(line, ':')
				line = strconv.AppendUint(line, serial, 10)
				line = appendVariedPID(line, tl.rest, rep)
				line = append(line, '\n')
				n, err := w.Write(line)
				written += int64(n)
				if err != nil {
					f.Close()
					return written, err
				}
			}
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return written, err
	}
	return written, f.Close()
}

// appendVariedPID copies rest with the number after " pid=" shifted per
// repetition, so the log is not one process tree over and over.
func appendVariedPID(dst, rest []byte, rep int) []byte {
	i := bytes.Index(rest, []byte(" pid="))
	if i < 0 {
		return append(dst, rest...)
	}
	i += len(" pid=")
	j := i
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	pid, err := strconv.Atoi(string(rest[i:j]))
	if err != nil {
		return append(dst, rest...)
	}
	dst = append(dst, rest[:i]...)
	dst = strconv.AppendInt(dst, int64((pid+rep*7919)%4194304+1), 10)
	return append(dst, rest[j:]...)
}

// BenchmarkAuditLogIngest reads the synthetic log through the whole pipeline
// (split, parse, reassemble, map) as the console does, counting executions.
func BenchmarkAuditLogIngest(b *testing.B) {
	path, size := syntheticAuditLog(b)
	info := FileInfo{Path: path, Size: size, ContentSize: size}
	in := Input{Format: FormatAuditLog, Files: []FileInfo{info}, Host: "bench"}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	var events int64
	for b.Loop() {
		rep, err := Read(context.Background(), in, Options{}, func(*Event) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		events += rep.Events()
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAureportSummary runs the audit package's own executable report
// over the same file, for the ratio against BenchmarkAuditLogIngest.
func BenchmarkAureportSummary(b *testing.B) {
	aureport, err := exec.LookPath("aureport")
	if err != nil {
		b.Skip("aureport not installed (Debian package auditd)")
	}
	path, size := syntheticAuditLog(b)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command(aureport, "-if", path, "-x", "--summary")
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			b.Fatalf("aureport: %v", err)
		}
		if out.Len() == 0 {
			b.Fatal("aureport printed nothing")
		}
	}
}
