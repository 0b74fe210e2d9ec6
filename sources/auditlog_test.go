package sources

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-libaudit/v2/auparse"

	"github.com/auditlens/auditlens/internal/corpora"
)

// readAuditText reads text as one raw audit log and returns copies of the
// events with the report.
func readAuditText(t testing.TB, text string, opts Options) ([]Event, Report) {
	t.Helper()
	return readAuditTextConfig(t, text, opts, defaultAuditReadConfig())
}

func readAuditTextConfig(t testing.TB, text string, opts Options, cfg auditReadConfig) ([]Event, Report) {
	t.Helper()
	var events []Event
	src := auditSource{path: "test.log", open: func() (io.Reader, io.Closer, error) {
		return strings.NewReader(text), nopCloser{}, nil
	}}
	rep, err := readAuditSources(context.Background(), []auditSource{src}, "fallback-host", opts, cfg, func(e *Event) error {
		events = append(events, *e)
		return nil
	})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return events, rep
}

// readAuditFile reads one file of the corpora or the testdata folder.
func readAuditFile(t testing.TB, path string, opts Options) ([]Event, Report) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Format: FormatAuditLog, Files: []FileInfo{{Path: path, Size: fi.Size(), ContentSize: fi.Size()}}, Host: "fallback-host"}
	var events []Event
	rep, err := Read(context.Background(), in, opts, func(e *Event) error {
		events = append(events, *e)
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return events, rep
}

func countBy(events []Event, key func(Event) string) map[string]int {
	m := map[string]int{}
	for _, e := range events {
		m[key(e)]++
	}
	return m
}

func TestAuditLogMapsEveryField(t *testing.T) {
	events, rep := readAuditFile(t, filepath.Join("testdata", "auditlog", "enriched-split-argv.log"), Options{})
	if len(events) != 1 {
		t.Fatalf("got %d events, want 1 (report %+v)", len(events), rep)
	}
	big := strings.Repeat("A", 40) + " with spaces" + strings.Repeat("B", 30)
	want := Event{
		Time:       time.Unix(1700000000, 123e6).UTC(),
		Host:       "web-01",
		Executable: "/opt/my tool/bin",
		Name:       "my tool",
		Args:       []string{"/opt/my tool/bin", "--name=x y", big, ""},
		Title:      "/opt/my tool/bin --name=x y",
		User:       User{Name: "root", ID: "0", AuditName: "alice", AuditID: "1000"},
		PID:        200,
		PPID:       100,
		WorkingDir: "/home/alice/dir with space",
		Result:     "success",
		Syscall:    "execve",
		Action:     "executed",
		Origin:     Origin{File: filepath.Join("testdata", "auditlog", "enriched-split-argv.log"), Line: 1},
	}
	if !reflect.DeepEqual(events[0], want) {
		t.Errorf("event\n got %#v\nwant %#v", events[0], want)
	}
	f := rep.Files[0]
	if f.Lines != 7 || f.Seen != 1 || f.Events != 1 || f.Rejected != 0 || f.Repaired != 0 {
		t.Errorf("report %+v", f)
	}
}

func TestAuditLogSyscallsByArchitecture(t *testing.T) {
	path := filepath.Join("testdata", "auditlog", "arches.log")
	type row struct {
		exe, syscall, result string
		args                 []string
	}
	summarize := func(events []Event) []row {
		var rows []row
		for _, e := range events {
			rows = append(rows, row{e.Executable, e.Syscall, e.Result, e.Args})
		}
		return rows
	}
	execs, rep := readAuditFile(t, path, Options{Selection: Executions})
	wantExecs := []row{
		{"/usr/bin/ls", "execve", "success", []string{"ls", "-l"}}, // aarch64 221
		{"/usr/bin/dash", "execveat", "fail", []string{"sh"}},      // aarch64 281, args from PROCTITLE
		{"/opt/old32", "execve", "success", []string{"old32"}},     // i386 11
		{"/usr/bin/true", "execveat", "success", []string{}},       // x86_64 322, empty argv kept
	}
	if got := summarize(execs); !reflect.DeepEqual(got, wantExecs) {
		t.Errorf("executions\n got %q\nwant %q", got, wantExecs)
	}
	if rep.Files[0].Seen != 5 || rep.Files[0].Events != 4 {
		t.Errorf("report %+v, want 5 seen, 4 yielded", rep.Files[0])
	}
	all, rep := readAuditFile(t, path, Options{Selection: AllSyscalls})
	if len(all) != 5 || all[3].Syscall != "munmap" || all[3].Action != "" || all[3].Executable != "/opt/unmapper" {
		t.Errorf("all syscalls: %+v", summarize(all))
	}
	if rep.Files[0].Seen != 5 || rep.Files[0].Events != 5 {
		t.Errorf("report %+v", rep.Files[0])
	}
	if all[0].User.AuditID != "unset" || all[0].User.AuditName != "" {
		t.Errorf("unset login uid: %+v", all[0].User)
	}
}

func TestAuditLogGarbage(t *testing.T) {
	path := filepath.Join("testdata", "auditlog", "garbage.log")
	events, rep := readAuditFile(t, path, Options{MaxSamples: 20})
	f := rep.Files[0]
	wantRejects := []Reject{
		{2, reasonNotRecord},
		{5, reasonOnlyJunk},
		{8, reasonBadHeader},
		{9, reasonUnknownType},
		{10, reasonNodeOnly},
		{11, reasonTruncatedLast},
	}
	if !reflect.DeepEqual(f.Samples, wantRejects) {
		t.Errorf("rejects\n got %v\nwant %v", f.Samples, wantRejects)
	}
	if f.Lines != 11 || f.Rejected != 6 || f.Repaired != 2 {
		t.Errorf("report %+v, want 11 lines, 6 rejected, 2 repaired", f)
	}
	if got := []string{events[0].Executable, events[1].Executable}; len(events) != 2 || !reflect.DeepEqual(got, []string{"/usr/bin/nul", "/usr/bin/badutf"}) {
		t.Fatalf("events %+v", events)
	}
	if events[1].Name != "bad\uFFFDutf" {
		t.Errorf("invalid UTF-8 should be replaced, got %q", events[1].Name)
	}
	// Reports reach a terminal: they never quote audit data.
	if s := rep.Summary(); strings.ContainsAny(s, "\x1b\x00") || strings.Contains(s, "17000002") {
		t.Errorf("summary quotes raw data: %q", s)
	}
}

func TestAuditLogReassemblyAcrossRebootAndRollover(t *testing.T) {
	events, rep := readAuditFile(t, filepath.Join("testdata", "auditlog", "reboot-rollover.log"), Options{})
	var got []string
	for _, e := range events {
		got = append(got, e.Executable+" "+strings.Join(e.Args, ","))
	}
	want := []string{
		"/usr/bin/before-wrap before-wrap",
		"/usr/bin/at-max at-max",
		"/usr/bin/at-zero at-zero",
		"/usr/bin/after-wrap ",
		"/usr/bin/first-after-boot first-after-boot",
		"/usr/bin/second-after-boot second-after-boot",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}
	if f := rep.Files[0]; f.Seen != 8 || f.Rejected != 0 {
		t.Errorf("report %+v, want 8 seen (6 executions, 2 daemon records)", f)
	}
}

func TestAuditLogLostRecords(t *testing.T) {
	const sys = `type=SYSCALL msg=audit(1700000500.000:%d): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=%d auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts1 ses=2 comm="x" exe="/usr/bin/x%d" key=(null)`
	tests := []struct {
		name     string
		lines    []string
		seen     int64
		wantArgs [][]string // per yielded event
	}{
		{"syscall only", []string{fmt.Sprintf(sys, 1, 1, 1), "type=EOE msg=audit(1700000500.000:1): "}, 1, [][]string{nil}},
		{"execve lost, proctitle kept", []string{fmt.Sprintf(sys, 2, 2, 2), "type=PROCTITLE msg=audit(1700000500.000:2): proctitle=78002D61"}, 1, [][]string{{"x", "-a"}}},
		{"execve without syscall is not yielded", []string{"type=EXECVE msg=audit(1700000500.000:3): argc=1 a0=\"x\"", "type=EOE msg=audit(1700000500.000:3): "}, 1, nil},
		{"second EXECVE record lost", []string{fmt.Sprintf(sys, 4, 4, 4), `type=EXECVE msg=audit(1700000500.000:4): argc=3 a0="x" a1_len=8 a1[0]="abcd"`}, 1, [][]string{{"x"}}},
		{"argc larger than the arguments read", []string{fmt.Sprintf(sys, 5, 5, 5), `type=EXECVE msg=audit(1700000500.000:5): argc=4000000000 a0="x" a1="y"`}, 1, [][]string{{"x", "y"}}},
		{"forged argument numbers", []string{fmt.Sprintf(sys, 6, 6, 6), `type=EXECVE msg=audit(1700000500.000:6): argc=2 a99999999=z a1="y"`}, 1, [][]string{nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, rep := readAuditText(t, strings.Join(tc.lines, "\n")+"\n", Options{})
			if rep.Files[0].Seen != tc.seen {
				t.Errorf("seen %d, want %d", rep.Files[0].Seen, tc.seen)
			}
			if len(events) != len(tc.wantArgs) {
				t.Fatalf("got %d events, want %d", len(events), len(tc.wantArgs))
			}
			for i, e := range events {
				if !reflect.DeepEqual(e.Args, tc.wantArgs[i]) {
					t.Errorf("args %q, want %q", e.Args, tc.wantArgs[i])
				}
			}
		})
	}
}

func TestAuditLogOverlongLine(t *testing.T) {
	head := "type=SYSCALL msg=audit(1700000600.000:1): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=7 auid=1000 uid=1000 comm=\"a\" exe=\"/usr/bin/a\" key=(null)\n"
	long := "type=EXECVE msg=audit(1700000600.000:1): argc=1 a0=\"" + strings.Repeat("x", (1<<20)+10) + "\"\n"
	tail := "type=SYSCALL msg=audit(1700000600.001:2): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=8 auid=1000 uid=1000 comm=\"b\" exe=\"/usr/bin/b\" key=(null)\n"
	for _, last := range []bool{false, true} {
		text := head + long + tail
		if last {
			text = head + tail + strings.TrimSuffix(long, "\n")
		}
		events, rep := readAuditText(t, text, Options{})
		f := rep.Files[0]
		wantLine := int64(2)
		if last {
			wantLine = 3
		}
		if f.Lines != 3 || f.Rejected != 1 || len(f.Samples) != 1 || f.Samples[0] != (Reject{wantLine, reasonOverlong}) {
			t.Errorf("last=%v: report %+v", last, f)
		}
		if len(events) != 2 || events[0].Executable != "/usr/bin/a" || events[1].Executable != "/usr/bin/b" {
			t.Errorf("last=%v: events %+v", last, events)
		}
	}
	// A line of exactly the limit is read.
	exact := "type=PROCTITLE msg=audit(1700000600.002:3): proctitle=\"" + strings.Repeat("y", 100) + "\""
	cfg := defaultAuditReadConfig()
	cfg.maxLine, cfg.chunkSize = len(exact), 16
	_, rep := readAuditTextConfig(t, exact+"\n"+exact+"x\n", Options{}, cfg)
	if f := rep.Files[0]; f.Lines != 2 || f.Rejected != 1 || f.Samples[0].Line != 2 {
		t.Errorf("limit boundary: report %+v", f)
	}
}

// A log read in tiny chunks with tiny buffers gives what it gives read whole.
func TestAuditLogChunkingDoesNotChangeResults(t *testing.T) {
	paths := []string{
		corpora.Path(t, "beats-7.17.29", "filebeat", "module", "auditd", "log", "test", "audit-rhel7.log"),
		corpora.Path(t, "laurel", "testdata", "record-execve-long.txt"),
		corpora.Path(t, "laurel", "testdata", "shell-proc-trace-reordered.txt"),
		filepath.Join("testdata", "auditlog", "garbage.log"),
		filepath.Join("testdata", "auditlog", "reboot-rollover.log"),
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, sel := range []Selection{Executions, AllSyscalls} {
			want, wantRep := readAuditText(t, string(data), Options{Selection: sel})
			for _, cfg := range []auditReadConfig{
				{chunkSize: 1, maxLine: 1 << 20, workers: 1, window: 64},
				{chunkSize: 77, maxLine: 1 << 20, workers: 3, window: 64},
				{chunkSize: 4096, maxLine: 1 << 20, workers: 2, window: 64},
			} {
				got, gotRep := readAuditTextConfig(t, string(data), Options{Selection: sel}, cfg)
				if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotRep, wantRep) {
					t.Errorf("%s, selection %d, chunk %d: results differ (%d vs %d events)", filepath.Base(p), sel, cfg.chunkSize, len(got), len(want))
				}
			}
		}
	}
}

// failingReader yields its text, then an I/O error.
type failingReader struct{ r io.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("device gone")
	}
	return n, err
}

// Events complete on their end marker (EOE, PROCTITLE), not only when the
// window fills or the input ends: here the input breaks before either.
func TestAuditLogEventsCompleteOnEndMarker(t *testing.T) {
	text := `type=SYSCALL msg=audit(1700000900.000:1): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=2 auid=1 uid=1 comm="a" exe="/usr/bin/a" key=(null)
type=SYSCALL msg=audit(1700000900.001:2): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=3 auid=1 uid=1 comm="b" exe="/usr/bin/b" key=(null)
type=EOE msg=audit(1700000900.000:1):
type=PROCTITLE msg=audit(1700000900.001:2): proctitle="b"
type=SYSCALL msg=audit(1700000900.002:3): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=4 auid=1 uid=1 comm="c" exe="/usr/bin/c" key=(null)
`
	src := auditSource{path: "broken.log", open: func() (io.Reader, io.Closer, error) {
		return failingReader{strings.NewReader(text)}, nopCloser{}, nil
	}}
	var got []string
	_, err := readAuditSources(context.Background(), []auditSource{src}, "h", Options{}, defaultAuditReadConfig(), func(e *Event) error {
		got = append(got, e.Executable)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "device gone") {
		t.Errorf("err %v, want the read error", err)
	}
	if !reflect.DeepEqual(got, []string{"/usr/bin/a", "/usr/bin/b"}) {
		t.Errorf("events before the error %q, want the two that had ended", got)
	}
}

func TestAuditLogStopsOnCallerErrorAndCancel(t *testing.T) {
	path := corpora.Path(t, "beats-7.17.29", "filebeat", "module", "auditd", "log", "test", "audit-rhel7.log")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("enough")
	n := 0
	_, err = readAuditLogFrom(context.Background(), bytes.NewReader(data), "x", "h", Options{}, func(*Event) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Errorf("err %v after %d events, want the caller's error after 10", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	_, err = readAuditLogFrom(ctx, bytes.NewReader(bytes.Repeat(data, 20)), "x", "h", Options{}, func(*Event) error {
		if n++; n == 5 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

// writeGzip writes data gzipped to path.
func writeGzip(t *testing.T, path string, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// An event whose records straddle a rotation comes out once, from the file
// of its first record; a gzipped member of the set is read in its place.
func TestAuditLogRotationSet(t *testing.T) {
	data, err := os.ReadFile(corpora.Path(t, "laurel", "testdata", "shell-proc-trace.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// The trace's comments would keep the format sniffer from recognizing
	// the gzipped member.
	var kept []string
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if strings.HasPrefix(l, "type=") {
			kept = append(kept, l)
		}
	}
	whole, wholeRep := readAuditText(t, strings.Join(kept, ""), Options{})
	lines := kept
	// Cut inside the first execution event: after its SYSCALL record.
	cut := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "syscall=59 ") }) + 1
	if cut <= 0 {
		t.Fatal("no execution in the trace")
	}
	third := len(lines) * 2 / 3
	dir := t.TempDir()
	writeGzip(t, filepath.Join(dir, "audit.log.2.gz"), []byte(strings.Join(lines[:cut], "")))
	if err := os.WriteFile(filepath.Join(dir, "audit.log.1"), []byte(strings.Join(lines[cut:third], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "audit.log"), []byte(strings.Join(lines[third:], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs, err := Discover([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) != 1 || len(inputs[0].Files) != 3 {
		t.Fatalf("inputs %+v, want one rotation set of three files", inputs)
	}
	var got []Event
	rep, err := Read(context.Background(), inputs[0], Options{}, func(e *Event) error {
		got = append(got, *e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(whole) {
		t.Fatalf("got %d events across the rotation, want %d", len(got), len(whole))
	}
	for i := range got {
		g, w := got[i], whole[i]
		g.Origin, w.Origin, g.Host, w.Host = Origin{}, Origin{}, "", ""
		if !reflect.DeepEqual(g, w) {
			t.Errorf("event %d differs across the rotation:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if got[0].Origin.File != filepath.Join(dir, "audit.log.2.gz") || got[0].Origin.Line != int64(cut) {
		t.Errorf("straddling event origin %+v, want line %d of the gzipped member", got[0].Origin, cut)
	}
	var lines64, seen, events int64
	for _, f := range rep.Files {
		lines64 += f.Lines
		seen += f.Seen
		events += f.Events
	}
	if w := wholeRep.Files[0]; lines64 != w.Lines || seen != w.Seen || events != w.Events {
		t.Errorf("totals %d lines %d seen %d events, want %+v", lines64, seen, events, w)
	}
	if rep.Files[0].Events != 1 || rep.Files[0].Seen < 1 {
		t.Errorf("the straddling event counts for its first file: %+v", rep.Files[0])
	}
	if got[0].Host != filepath.Base(dir) {
		t.Errorf("host %q, want the folder name %q", got[0].Host, filepath.Base(dir))
	}
}

func TestAuditLogCorruptGzipMember(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "auditlog", "arches.log"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var old bytes.Buffer
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&old, "type=SYSCALL msg=audit(1600000000.%03d:%d): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=%d auid=1 uid=1 comm=\"old\" exe=\"/usr/bin/old\" key=(null)\ntype=EOE msg=audit(1600000000.%03d:%d): \n", i, 100+i, 1000+i, i, 100+i)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(old.Bytes())
	zw.Close()
	cut := buf.Bytes()[:buf.Len()/2]
	if err := os.WriteFile(filepath.Join(dir, "audit.log.1.gz"), cut, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "audit.log"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	inputs, err := Discover([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Read(context.Background(), inputs[0], Options{}, func(*Event) error { return nil })
	if err != nil {
		t.Fatalf("a cut gzip member must not stop the read: %v", err)
	}
	if f := rep.Files[0]; f.Rejected == 0 || f.Samples[len(f.Samples)-1].Reason != reasonCorruptContent {
		t.Errorf("cut member report %+v", f)
	}
	if f := rep.Files[1]; f.Events != 4 || f.Rejected != 0 {
		t.Errorf("live file report %+v, want its 4 executions", f)
	}
}

// auditHeaderPattern finds the header of a readable record.
var auditHeaderPattern = regexp.MustCompile(`^(?:node=(\S+) )?type=\S+ msg=audit\((\d+)\.(\d+):(\d+)\)`)

func TestAuditLogGoldenRHEL7(t *testing.T) {
	path := corpora.Path(t, "beats-7.17.29", "filebeat", "module", "auditd", "log", "test", "audit-rhel7.log")
	events, rep := readAuditFile(t, path, Options{})
	if len(events) != 243 {
		t.Fatalf("got %d executions, want 243", len(events))
	}
	byExe := countBy(events, func(e Event) string { return e.Executable })
	if len(byExe) != 30 {
		t.Errorf("got %d distinct executables, want 30", len(byExe))
	}
	for exe, n := range map[string]int{
		"/usr/sbin/setfiles": 68, "/usr/bin/python2.7": 50, "/usr/sbin/ip": 25, "/usr/bin/systemctl": 16,
		"/usr/sbin/auditctl": 9, "/usr/bin/sudo": 9, "/usr/bin/bash": 8,
	} {
		if byExe[exe] != n {
			t.Errorf("%s: %d executions, want %d", exe, byExe[exe], n)
		}
	}
	if ok := countBy(events, func(e Event) string { return e.Result })["success"]; ok != 186 {
		t.Errorf("%d successful executions, want 186", ok)
	}
	// Every readable record's event is seen once; lines without a header are
	// rejected, each of them.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]bool{}
	var bad int64
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if m := auditHeaderPattern.FindStringSubmatch(line); m != nil {
			headers[m[0][strings.Index(m[0], "msg="):]] = true
		} else {
			bad++
		}
	}
	f := rep.Files[0]
	if f.Seen != int64(len(headers)) || f.Rejected != bad || f.Lines != 2447 {
		t.Errorf("report %+v, want %d seen, %d rejected, 2447 lines", f, len(headers), bad)
	}

	ausearch, err := exec.LookPath("ausearch")
	if err != nil {
		t.Log("ausearch not installed (Debian package auditd): reference counts from the audit tools not recomputed")
		return
	}
	out, err := exec.Command(ausearch, "-if", path, "-sc", "execve", "--raw").Output()
	if err != nil {
		t.Fatalf("ausearch: %v", err)
	}
	ref := map[string]int{}
	exeField := regexp.MustCompile(` exe=("[^"]*"|\S+)`)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "type=SYSCALL ") {
			if m := exeField.FindStringSubmatch(line); m != nil {
				ref[decodeAuditValue(m[1], nulToSpace)]++
			}
		}
	}
	if !reflect.DeepEqual(byExe, ref) {
		t.Errorf("per-executable counts differ from ausearch:\n ours %v\n ausearch %v", byExe, ref)
	}
}

// goldenCase is one test of go-libaudit's aucoalesce goldens: the YAML holds
// raw records per test name, the JSON the coalesced event.
type goldenCase struct {
	name   string
	lines  []string
	folded bool
}

// parseCoalesceYAML reads the simple shape of those files by hand: a "tests:"
// map of names to literal blocks ("|") of record lines.
func parseCoalesceYAML(t *testing.T, data string) []goldenCase {
	t.Helper()
	var cases []goldenCase
	for _, line := range strings.Split(data, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#") || trimmed == "---" || trimmed == "tests:":
		case strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "    ") && strings.HasSuffix(trimmed, ": |"):
			cases = append(cases, goldenCase{name: strings.TrimSuffix(trimmed, ": |")})
		case strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "    ") && strings.HasSuffix(trimmed, ": >"):
			cases = append(cases, goldenCase{name: strings.TrimSuffix(trimmed, ": >"), folded: true})
		case strings.HasPrefix(line, "    ") && len(cases) > 0:
			c := &cases[len(cases)-1]
			if c.folded && len(c.lines) > 0 {
				c.lines[0] += " " + trimmed // a folded block is one line
				continue
			}
			c.lines = append(c.lines, trimmed)
		default:
			t.Fatalf("unexpected YAML line %q", line)
		}
	}
	return cases
}

func TestAuditLogGoldenCoalesce(t *testing.T) {
	dir := corpora.Path(t, "go-libaudit", "aucoalesce", "testdata")
	yamls, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(yamls) == 0 {
		t.Fatalf("no goldens in %s: %v", dir, err)
	}
	checked := 0
	for _, y := range yamls {
		data, err := os.ReadFile(y)
		if err != nil {
			t.Fatal(err)
		}
		cases := parseCoalesceYAML(t, string(data))
		raw, err := os.ReadFile(strings.TrimSuffix(y, ".yaml") + ".json.golden")
		if err != nil {
			t.Fatal(err)
		}
		var goldens []struct {
			TestName string `json:"test_name"`
			Event    struct {
				Summary struct {
					Action string `json:"action"`
				} `json:"summary"`
				User struct {
					IDs map[string]string `json:"ids"`
				} `json:"user"`
				Process struct {
					PID, PPID, Title, Name, Exe, CWD string
					Args                             []string
				} `json:"process"`
				Result string `json:"result"`
			} `json:"event"`
		}
		if err := json.Unmarshal(raw, &goldens); err != nil {
			t.Fatal(err)
		}
		byName := map[string]goldenCase{}
		for _, c := range cases {
			byName[c.name] = c
		}
		for _, g := range goldens {
			c, ok := byName[g.TestName]
			if !ok {
				t.Fatalf("%s: golden %q has no test case", filepath.Base(y), g.TestName)
			}
			events, _ := readAuditText(t, strings.Join(c.lines, "\n")+"\n", Options{})
			if g.Event.Summary.Action != "executed" {
				if len(events) != 0 {
					t.Errorf("%s/%s: not an execution, got %+v", filepath.Base(y), g.TestName, events)
				}
				continue
			}
			checked++
			if len(events) != 1 {
				t.Fatalf("%s/%s: got %d events, want 1", filepath.Base(y), g.TestName, len(events))
			}
			e, p := events[0], g.Event.Process
			got := []string{e.Executable, strconv.FormatInt(e.PID, 10), strconv.FormatInt(e.PPID, 10), e.WorkingDir, e.Title, e.Name, e.User.ID, e.User.AuditID, e.Result}
			want := []string{p.Exe, p.PID, p.PPID, p.CWD, p.Title, p.Name, g.Event.User.IDs["uid"], g.Event.User.IDs["auid"], g.Event.Result}
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(e.Args, p.Args) {
				t.Errorf("%s/%s:\n got %q %q\nwant %q %q", filepath.Base(y), g.TestName, got, e.Args, want, p.Args)
			}
		}
	}
	if checked != 3 {
		t.Errorf("checked %d executed goldens, want the 3 the corpus holds", checked)
	}
}

// reassemblyStreams are go-libaudit's reassembler test streams: the same
// five events, whole, out of order, with records lost, and across a serial
// rollover.
func TestAuditLogGoldenReassemblyStreams(t *testing.T) {
	type summary struct {
		syscall    string
		pid        int64
		executable string
		args       []string
		cwd        string
	}
	read := func(name string, sel Selection) ([]summary, FileReport) {
		events, rep := readAuditFile(t, corpora.Path(t, "go-libaudit", "testdata", name), Options{Selection: sel})
		var out []summary
		for _, e := range events {
			out = append(out, summary{e.Syscall, e.PID, e.Executable, e.Args, e.WorkingDir})
		}
		return out, rep.Files[0]
	}
	normal, rep := read("normal.log", AllSyscalls)
	wantNormal := []summary{
		{"connect", 1172, "/usr/bin/python2.7;58d1ccfb (deleted)", nil, ""},
		{"execve", 13393, "/usr/bin/grep", []string{"grep", "--color=auto", "mapping"}, "/home/andrew_kroh"},
		{"execve", 13392, "/usr/bin/cat", []string{"cat", "securitybeat"}, "/home/andrew_kroh"},
		{"connect", 1229, "/usr/libexec/postfix/master", nil, "/var/spool/postfix"},
		{"accept", 12992, "/usr/libexec/postfix/pickup", nil, ""},
	}
	if !reflect.DeepEqual(normal, wantNormal) || rep.Seen != 5 {
		t.Errorf("normal:\n got %+v\nwant %+v (seen %d)", normal, wantNormal, rep.Seen)
	}
	if got, rep := read("out_of_order.log", AllSyscalls); !reflect.DeepEqual(got, wantNormal) || rep.Seen != 5 {
		t.Errorf("out of order:\n got %+v\nwant %+v (seen %d)", got, wantNormal, rep.Seen)
	}
	lost, rep := read("lost_messages.log", AllSyscalls)
	if len(lost) != 5 || !reflect.DeepEqual(lost[1:], wantNormal[1:]) || lost[0].pid != 1172 || rep.Seen != 5 {
		t.Errorf("lost messages:\n got %+v (seen %d)", lost, rep.Seen)
	}
	rolled, rep := read("rollover.log", AllSyscalls)
	var pids []int64
	for _, s := range rolled {
		pids = append(pids, s.pid)
	}
	if !reflect.DeepEqual(pids, []int64{1172, 13392, 1229, 12992, 12992}) || rep.Seen != 5 {
		t.Errorf("rollover: pids %v (seen %d)", pids, rep.Seen)
	}
	if execs, _ := read("normal.log", Executions); len(execs) != 2 || execs[0].executable != "/usr/bin/grep" {
		t.Errorf("executions of normal.log: %+v", execs)
	}
}

// laurelEvent is the part of laurel's expected JSON an execution maps from.
type laurelEvent struct {
	Node    string `json:"NODE"`
	Syscall struct {
		Syscall json.RawMessage `json:"syscall"`
		PID     int64           `json:"pid"`
		PPID    int64           `json:"ppid"`
		Exe     string          `json:"exe"`
		UID     json.RawMessage `json:"UID"`
		AUID    json.RawMessage `json:"AUID"`
	} `json:"SYSCALL"`
	Execve *struct {
		Argv []string `json:"ARGV"`
	} `json:"EXECVE"`
	CWD *struct {
		Cwd string `json:"cwd"`
	} `json:"CWD"`
}

// laurelName is the user name laurel resolved, or "" where it kept the number
// (the log was not in the ENRICHED format).
func laurelName(raw json.RawMessage) string {
	var name string
	if json.Unmarshal(raw, &name) != nil {
		return ""
	}
	return name
}

func TestAuditLogGoldenLaurel(t *testing.T) {
	dir := corpora.Path(t, "laurel", "testdata")
	jsons, err := filepath.Glob(filepath.Join(dir, "record-*.json"))
	if err != nil || len(jsons) == 0 {
		t.Fatalf("no laurel goldens: %v", err)
	}
	checked := 0
	for _, j := range jsons {
		raw, err := os.ReadFile(j)
		if err != nil {
			t.Fatal(err)
		}
		var want []laurelEvent
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			var ev laurelEvent
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("%s: %v", filepath.Base(j), err)
			}
			// encoding/json matches keys case-insensitively: the ENRICHED
			// "SYSCALL":"execve" lands on the same field as "syscall":59.
			switch string(ev.Syscall.Syscall) {
			case "59", "322", `"execve"`, `"execveat"`:
				want = append(want, ev)
			}
		}
		events, _ := readAuditFile(t, strings.TrimSuffix(j, ".json")+".txt", Options{})
		if len(events) != len(want) {
			t.Errorf("%s: %d executions, laurel has %d", filepath.Base(j), len(events), len(want))
			continue
		}
		for i, w := range want {
			e := events[i]
			host := w.Node
			if host == "" {
				host = "fallback-host"
			}
			cwd := ""
			if w.CWD != nil {
				cwd = w.CWD.Cwd
			}
			var argv []string
			if w.Execve != nil {
				argv = w.Execve.Argv
			}
			got := []any{e.Executable, e.PID, e.PPID, e.User.Name, e.User.AuditName, e.Host, e.WorkingDir, e.Args}
			exp := []any{w.Syscall.Exe, w.Syscall.PID, w.Syscall.PPID, laurelName(w.Syscall.UID), laurelName(w.Syscall.AUID), host, cwd, argv}
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("%s event %d:\n got %q\nwant %q", filepath.Base(j), i, got, exp)
			}
			checked++
		}
	}
	if checked < 3 {
		t.Errorf("checked %d laurel executions, want at least 3", checked)
	}
}

// naiveExecutions is a reference that holds the whole file in memory: it
// groups records by node and header and takes each execve SYSCALL's exe and
// pid, and its EXECVE's simple arguments.
func naiveExecutions(t *testing.T, data string) map[string]int {
	t.Helper()
	type ev struct {
		exe, pid, node string
		exec           bool
	}
	events := map[string]*ev{}
	field := func(line, key string) string {
		m := regexp.MustCompile(` ` + key + `=("[^"]*"|\S+)`).FindStringSubmatch(line)
		if m == nil {
			return ""
		}
		return m[1]
	}
	for _, line := range strings.Split(data, "\n") {
		if i := strings.IndexByte(line, 0x1d); i >= 0 {
			line = line[:i]
		}
		m := auditHeaderPattern.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key := m[1] + " " + m[0][strings.Index(m[0], "msg="):]
		e := events[key]
		if e == nil {
			e = &ev{node: m[1]}
			events[key] = e
		}
		if strings.Contains(line, "type=SYSCALL ") {
			arch, num := field(line, "arch"), field(line, "syscall")
			_, isExec := syscallName(arch, num)
			e.exec, e.exe, e.pid = isExec, decodeAuditValue(field(line, "exe"), nulToSpace), field(line, "pid")
		}
	}
	out := map[string]int{}
	for _, e := range events {
		if e.exec && e.exe != "" {
			out[e.node+" "+e.exe+" "+e.pid]++
		}
	}
	return out
}

// Every corpus log gives the executions a whole-file reference finds, and
// never fails.
func TestAuditLogCorporaAgainstNaiveReference(t *testing.T) {
	root := corpora.Dir(t)
	var files []string
	for _, pattern := range []string{
		"laurel/testdata/*.txt", "laurel/testdata/tree/*.txt", "audit-userspace/test*.log",
		"beats-7.17.29/filebeat/module/auditd/log/test/*.log", "beats-7.17.29/auditbeat/module/auditd/testdata/*.log",
		"go-libaudit/testdata/*.log", "go-libaudit/auparse/testdata/*.log",
	} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 40 {
		t.Fatalf("found %d corpus logs, expected more", len(files))
	}
	total := 0
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		events, _ := readAuditFile(t, p, Options{})
		got := countBy(events, func(e Event) string {
			node := e.Host
			if node == "fallback-host" {
				node = ""
			}
			return node + " " + e.Executable + " " + strconv.FormatInt(e.PID, 10)
		})
		if want := naiveExecutions(t, string(data)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", p, got, want)
		}
		total += len(events)
	}
	if total < 300 {
		t.Errorf("only %d executions over the corpora", total)
	}
}

// Auditbeat's expected documents for raw logs: every syscall event carries
// the executable, name, pid, ppid, title, working directory and ids we read.
func TestAuditLogGoldenAuditbeat(t *testing.T) {
	dir := corpora.Path(t, "beats-7.17.29", "auditbeat", "module", "auditd", "testdata")
	expected, err := filepath.Glob(filepath.Join(dir, "*.log-expected.json"))
	if err != nil || len(expected) == 0 {
		t.Fatalf("no expected documents: %v", err)
	}
	checked := 0
	for _, x := range expected {
		raw, err := os.ReadFile(x)
		if err != nil {
			t.Fatal(err)
		}
		var docs []struct {
			Auditd struct {
				Data struct {
					Syscall string `json:"syscall"`
				} `json:"data"`
				Sequence int64 `json:"sequence"`
			} `json:"auditd"`
			Process struct {
				Executable string `json:"executable"`
				Name       string `json:"name"`
				PID        int64  `json:"pid"`
				PPID       int64  `json:"ppid"`
				Title      string `json:"title"`
				WorkingDir string `json:"working_directory"`
			} `json:"process"`
			User struct {
				ID    string `json:"id"`
				Audit struct {
					ID string `json:"id"`
				} `json:"audit"`
			} `json:"user"`
			Event struct {
				Outcome string `json:"outcome"`
			} `json:"event"`
		}
		if err := json.Unmarshal(raw, &docs); err != nil {
			t.Fatal(err)
		}
		events, _ := readAuditFile(t, strings.TrimSuffix(x, "-expected.json"), Options{Selection: AllSyscalls})
		var want []string
		for _, d := range docs {
			if d.Auditd.Data.Syscall == "" {
				continue
			}
			p := d.Process
			want = append(want, fmt.Sprintf("%s %s %s %d %d %q %s %s %s %s", d.Auditd.Data.Syscall, p.Executable, p.Name, p.PID, p.PPID, p.Title, p.WorkingDir, d.User.ID, d.User.Audit.ID, d.Event.Outcome))
		}
		var got []string
		for _, e := range events {
			outcome := map[string]string{"success": "success", "fail": "failure"}[e.Result]
			got = append(got, fmt.Sprintf("%s %s %s %d %d %q %s %s %s %s", e.Syscall, e.Executable, e.Name, e.PID, e.PPID, e.Title, e.WorkingDir, e.User.ID, e.User.AuditID, outcome))
		}
		sort.Strings(want)
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", filepath.Base(x), got, want)
		}
		checked += len(want)
	}
	if checked != 4 {
		t.Errorf("checked %d syscall documents, want the 4 the corpus holds", checked)
	}
}

// The hand reader of fields gives what auparse's Data() gives, on every record
// of the corpora that carries fields a process event uses.
func TestAuditFieldsMatchAuparse(t *testing.T) {
	root := corpora.Dir(t)
	var files []string
	for _, pattern := range []string{"*/*/*/*/*/*/*.log", "*/*/*/*/*/*.log", "*/*/*.log", "*/*/*/*.log", "*/*.log", "*/testdata/*.txt", "*/testdata/tree/*.txt"} {
		m, _ := filepath.Glob(filepath.Join(root, pattern))
		files = append(files, m...)
	}
	checked := 0
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if diff := compareWithAuparse(line); diff != "" {
				t.Errorf("%s:%d: %s", filepath.Base(p), i+1, diff)
			} else {
				checked++
			}
		}
	}
	if checked < 3000 {
		t.Errorf("compared only %d lines", checked)
	}
}

// compareWithAuparse parses one line both ways and describes any difference
// in the fields a process event uses, or returns "".
func compareWithAuparse(line string) string {
	line = strings.TrimSpace(repairAuditLine(line)) // as the reader does first
	if strings.HasPrefix(line, "node=") {
		if sp := strings.IndexByte(line, ' '); sp >= 0 {
			line = strings.TrimLeft(line[sp+1:], " ")
		}
	}
	if i := strings.IndexByte(line, 0x1d); i >= 0 {
		line = strings.TrimSpace(line[:i])
	}
	if !strings.HasPrefix(line, "type=") {
		return ""
	}
	want, err := auparse.ParseLogLine(line)
	var fast auditRecord
	fastOK := parseAuditHeaderFast(line, &fast)
	if err != nil {
		if fastOK {
			return "fast header accepts what auparse rejects"
		}
		return ""
	}
	if fastOK && (fast.typ != want.RecordType || fast.seq != want.Sequence || fast.tsMilli != want.Timestamp.UnixMilli() || fast.raw != want.RawData) {
		return fmt.Sprintf("header differs: %v %d %d vs %v %d %d", fast.typ, fast.seq, fast.tsMilli, want.RecordType, want.Sequence, want.Timestamp.UnixMilli())
	}
	// auparse finds where fields start relative to the header's ')' but
	// applies it from the start of the record, which lands right only in
	// auditd's own shape, "audit(...): fields".
	close := strings.IndexByte(want.RawData, ')')
	if !strings.HasPrefix(want.RawData, "audit(") || close+1 >= len(want.RawData) || want.RawData[close+1] != ':' {
		return ""
	}
	data, err := want.Data()
	if err != nil {
		return "" // auparse cannot read it: nothing to compare
	}
	body := want.RawData[close+1:]
	utf := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	switch want.RecordType {
	case auparse.AUDIT_SYSCALL:
		f := parseSyscallFields(body, "")
		// Ids that are names (interpreted logs) move to the name fields.
		got := []string{f.syscall, f.exe, strconv.FormatInt(f.pid, 10), strconv.FormatInt(f.ppid, 10), f.uid + f.uidName, f.auid + f.auidName, f.result}
		number := func(s string) string {
			n, _ := strconv.ParseInt(s, 10, 64)
			return strconv.FormatInt(n, 10)
		}
		got[1] = trimAuditValue(got[1]) // we keep quotes that belong to the value
		exp := []string{data["syscall"], trimAuditValue(utf(data["exe"])), number(data["pid"]), number(data["ppid"]), data["uid"], data["auid"], data["result"]}
		if !isAuditHex(commOrig(body)) && trimAuditValue(f.comm) != trimAuditValue(data["comm"]) {
			return fmt.Sprintf("comm %q vs %q", f.comm, data["comm"])
		}
		if !reflect.DeepEqual(got, exp) {
			return fmt.Sprintf("syscall fields %q vs %q", got, exp)
		}
	case auparse.AUDIT_EXECVE:
		if strings.Contains(body, "[") {
			return "" // split arguments (a1[0]=...), which auparse does not read
		}
		x := parseExecveFields(body)
		last := map[int]string{}
		for _, p := range x.parts {
			if p.piece == pieceWhole && p.arg < x.argc {
				last[p.arg] = p.text
			}
		}
		for arg, text := range last {
			// auparse trims quoted values, which we keep whole.
			if exp := data["a"+strconv.Itoa(arg)]; trimAuditValue(text) != trimAuditValue(utf(exp)) {
				return fmt.Sprintf("a%d %q vs %q", arg, text, exp)
			}
		}
	case auparse.AUDIT_CWD:
		var orig string
		scanAuditFields(body, false, false, func(k, v string) {
			if k == "cwd" {
				orig = v
			}
		})
		if got := trimAuditValue(decodeAuditValue(orig, nulToSpace)); got != trimAuditValue(utf(data["cwd"])) && orig != "" {
			return fmt.Sprintf("cwd %q vs %q", got, data["cwd"])
		}
	case auparse.AUDIT_PROCTITLE:
		var orig string
		scanAuditFields(body, false, false, func(k, v string) {
			if k == "proctitle" {
				orig = v
			}
		})
		if got := trimAuditValue(decodeAuditValue(orig, nulToSpace)); got != trimAuditValue(utf(data["proctitle"])) && orig != "" {
			return fmt.Sprintf("proctitle %q vs %q", got, data["proctitle"])
		}
	}
	return ""
}

func commOrig(body string) string {
	var orig string
	scanAuditFields(body, false, false, func(k, v string) {
		if k == "comm" {
			orig = v
		}
	})
	return orig
}

// auparseKV is auparse's own key/value expression, to hold the hand scanner to
// it match for match.
var auparseKV = regexp.MustCompile(`([a-z0-9_-]+)=((?:[^"'\s]+)|'(?:\\'|[^'])*'|"(?:\\"|[^"])*")`)

func regexpPairs(s string) []string {
	var out []string
	for _, m := range auparseKV.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1]+"="+m[2])
	}
	return out
}

// scannerPairs scans flat (msg= not opened) and keeps every value, as the
// expression does.
func scannerPairs(s string) []string {
	var out []string
	scanAuditFieldsNested(s, false, true, false, func(k, v string) {
		out = append(out, k+"="+v)
	})
	return out
}

func TestScanAuditFieldsMatchesAuparseExpression(t *testing.T) {
	for _, s := range []string{
		`a=1 b="two" c='three'`,
		`key=(null) exe="/usr/bin/x" comm=7465737420636F6D6D`,
		`a="unclosed b=2 c=3`,
		`a='it\'s' b="say \"hi\"" c=4`,
		`a="ends with escape\" d=5`,
		`a="x\" b="y\"`,
		`Upper=1 lower=2 MiXed=3 x-y_z=4`,
		`a= b=  c=3 =4 ==5 d==6`,
		`subj==unconfined key="software_mgmt"`,
		`a1[0]=41 a1_len=2 a2=""`,
		"tab=\t1 nl=2\nx=3 ff=\f4",
		`a=b=c d="e"f g='h'i`,
		`a="\\" b='\\'' c=1`,
		``,
		`=`,
		`x=`,
	} {
		if got, want := scannerPairs(s), regexpPairs(s); !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %q\nwant %q", s, got, want)
		}
	}
}

func TestDecodeAuditValue(t *testing.T) {
	tests := []struct {
		orig string
		mode nulMode
		want string
	}{
		{`"plain"`, nulToSpace, "plain"},
		{`"'quoted'"`, nulToSpace, "'quoted'"},
		{"2F62696E2F6C73", nulToSpace, "/bin/ls"},
		{"6C73002D6C", nulToSpace, "ls -l"},
		{"6C73002D6C", nulCuts, "ls"},
		{"6C73002D6C", nulKeep, "ls\x00-l"},
		{"2f62696e", nulToSpace, "2f62696e"}, // lower case is not the kernel's hex
		{"ABC", nulToSpace, "ABC"},           // odd length is not hex
		{"FFFE41", nulToSpace, "\uFFFDA"},
		{"FFFE41", nulRaw, "\xff\xfeA"},
		{"(null)", nulToSpace, "(null)"},
	}
	for _, tc := range tests {
		if got := decodeAuditValue(tc.orig, tc.mode); got != tc.want {
			t.Errorf("decode(%q, %d) = %q, want %q", tc.orig, tc.mode, got, tc.want)
		}
	}
}

func TestAssembleSplitArgumentEdgeCases(t *testing.T) {
	const sys = `type=SYSCALL msg=audit(1700000700.000:1): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=9 auid=1 uid=1 comm="x" exe="/usr/bin/x" key=(null)` + "\n"
	tests := []struct {
		name   string
		execve string
		want   []string
	}{
		{"pieces out of order", `argc=2 a0="x" a1_len=6 a1[1]="def" a1[0]="abc"`, []string{"x", "abcdef"}},
		{"piece missing", `argc=2 a0="x" a1_len=6 a1[0]="abc" a1[2]="ghi"`, []string{"x"}},
		{"length short", `argc=2 a0="x" a1_len=9 a1[0]="abc" a1[1]="def"`, []string{"x"}},
		{"hex pieces count hex digits", `argc=2 a0="x" a1_len=8 a1[0]=4142 a1[1]=4344`, []string{"x", "ABCD"}},
		{"multibyte character across pieces", `argc=2 a0="x" a1_len=6 a1[0]=C3A9 a1[1]=41`, []string{"x", "éA"}},
		{"duplicate piece", `argc=2 a0="x" a1[0]="a" a1[0]="b"`, []string{"x"}},
		{"empty and question mark arguments", `argc=3 a0="x" a1="" a2="?"`, []string{"x", "", "?"}},
		{"hex argument cut at NUL", `argc=1 a0=78007979`, []string{"x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, _ := readAuditText(t, sys+"type=EXECVE msg=audit(1700000700.000:1): "+tc.execve+"\n", Options{})
			if len(events) != 1 || !reflect.DeepEqual(events[0].Args, tc.want) {
				t.Errorf("got %+v, want args %q", events, tc.want)
			}
		})
	}
}

// Thousands of arguments over many EXECVE records, as the kernel splits them.
func TestAuditLogThousandsOfArguments(t *testing.T) {
	var b strings.Builder
	b.WriteString(`type=SYSCALL msg=audit(1700000800.000:1): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=9 auid=1 uid=1 comm="xargs" exe="/usr/bin/xargs" key=(null)` + "\n")
	const n = 5000
	want := make([]string, n)
	for i := 0; i < n; i++ {
		want[i] = "arg" + strconv.Itoa(i)
		if i%200 == 0 {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString("type=EXECVE msg=audit(1700000800.000:1):")
			if i == 0 {
				b.WriteString(" argc=" + strconv.Itoa(n))
			}
		}
		fmt.Fprintf(&b, ` a%d="%s"`, i, want[i])
	}
	b.WriteString("\ntype=EOE msg=audit(1700000800.000:1): \n")
	events, rep := readAuditText(t, b.String(), Options{})
	if len(events) != 1 || !reflect.DeepEqual(events[0].Args, want) || rep.Files[0].Seen != 1 {
		t.Fatalf("got %d events, %d args", len(events), len(events[0].Args))
	}
}

func TestParseAuditHeaderFastFallsBackOnOddShapes(t *testing.T) {
	for _, line := range []string{
		"type=SYSCALL msg=audit(1700000000.123:42): a=1",
		"type=UNKNOWN[1329] msg=audit(1700000000.123:42): a=1",
		"type=syscall msg=audit(1700000000.123:42): a=1",
		"type=SYSCALL msg=audit(+1700000000.123:42): a=1",
		"type=SYSCALL msg=audit(1700000000.123:4294967296): a=1",
		"type=SYSCALL msg=audit(1700000000.1234:42): a=1",
		"type=SYSCALL msg=audit(1700000000123.0:42): a=1",
		"type=SYSCALL  msg=audit(1700000000.123:42): a=1",
		"type=SYSCALL msg=audit(1700000000.123:42)",
		"type=SYSCALL msg=audit(.123:42): a=1",
		"type=NOPE msg=audit(1700000000.123:42): a=1",
	} {
		if diff := compareWithAuparse(line); diff != "" {
			t.Errorf("%q: %s", line, diff)
		}
	}
}

func TestAuditLogHostFallback(t *testing.T) {
	plain := filepath.Join("testdata", "auditlog", "arches.log")
	noded := filepath.Join("testdata", "auditlog", "enriched-split-argv.log")
	tests := []struct {
		name     string
		path     string
		inHost   string
		optsHost string
		wantHost string
	}{
		{"node= prefix wins", noded, "input-host", "option-host", "web-01"},
		{"input host", plain, "input-host", "option-host", "input-host"},
		{"option host", plain, "", "option-host", "option-host"},
		{"folder name", plain, "", "", "auditlog"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fi, err := os.Stat(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			in := Input{Format: FormatAuditLog, Files: []FileInfo{{Path: tc.path, Size: fi.Size()}}, Host: tc.inHost}
			var hosts []string
			if _, err := Read(context.Background(), in, Options{Host: tc.optsHost}, func(e *Event) error {
				hosts = append(hosts, e.Host)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(hosts) == 0 || hosts[0] != tc.wantHost {
				t.Errorf("hosts %q, want %q", hosts, tc.wantHost)
			}
		})
	}
}

// No input grows one event without end: records past the budget of one
// event are rejected, and many node= names never keep more reassemblers alive
// than the limit, without losing events.
func TestAuditLogBoundsForgedInput(t *testing.T) {
	var b strings.Builder
	b.WriteString(`type=SYSCALL msg=audit(1700001000.000:1): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=2 auid=1 uid=1 comm="a" exe="/usr/bin/a" key=(null)` + "\n")
	const paths = maxEventRecords + 500
	for i := 0; i < paths; i++ {
		fmt.Fprintf(&b, "type=PATH msg=audit(1700001000.000:1): item=%d name=\"/x\" nametype=NORMAL\n", i)
	}
	b.WriteString("type=EOE msg=audit(1700001000.000:1): \n")
	events, rep := readAuditText(t, b.String(), Options{})
	f := rep.Files[0]
	// Whole runs are admitted or not, so at least the excess is rejected.
	if len(events) != 1 || f.Rejected < paths+1-maxEventRecords || f.Rejected > paths || f.Samples[0].Reason != reasonEventTooLarge {
		t.Errorf("oversized event: %d events, report %+v", len(events), f)
	}
	for i := 1; i < len(f.Samples); i++ {
		if f.Samples[i].Line <= f.Samples[i-1].Line {
			t.Errorf("samples out of order: %v", f.Samples)
		}
	}

	b.Reset()
	const nodes = 3 * maxNodes
	for i := 0; i < nodes; i++ {
		fmt.Fprintf(&b, "node=host-%d type=SYSCALL msg=audit(1700001001.000:%d): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=%d auid=1 uid=1 comm=\"a\" exe=\"/usr/bin/a\" key=(null)\n", i, 7, i)
	}
	for i := 0; i < nodes; i++ {
		fmt.Fprintf(&b, "node=host-%d type=EXECVE msg=audit(1700001001.000:%d): argc=1 a0=\"a%d\"\n", i, 7, i)
	}
	// Every node's SYSCALL record is flushed before its EXECVE record comes:
	// each execution is still yielded once, the EXECVE alone is seen apart.
	events, rep = readAuditText(t, b.String(), Options{})
	if len(events) != nodes || rep.Files[0].Seen != 2*nodes {
		t.Errorf("%d events, seen %d", len(events), rep.Files[0].Seen)
	}
	hosts := countBy(events, func(e Event) string { return e.Host })
	if len(hosts) != nodes {
		t.Errorf("%d hosts, want %d", len(hosts), nodes)
	}
}
