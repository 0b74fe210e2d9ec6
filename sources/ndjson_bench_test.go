package sources

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ndjsonSynth generates realistic Auditbeat 7.17 auditd documents (~1.6 KB
// each) on the fly, so benchmarks can stream gigabytes without a file. About
// seven in ten are executions; one in ten runs in a container; some carry
// escapes and non-ASCII text.
type ndjsonSynth struct {
	limit   int64 // bytes to produce
	emitted int64
	seq     int64
	doc     []byte
	off     int
}

func newNDJSONSynth(limit int64, seed int64) *ndjsonSynth {
	return &ndjsonSynth{limit: limit, seq: seed}
}

func (g *ndjsonSynth) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if g.off == len(g.doc) {
			if g.emitted >= g.limit {
				if n == 0 {
					return 0, io.EOF
				}
				break
			}
			g.doc = appendSynthDoc(g.doc[:0], g.seq)
			g.seq++
			g.off = 0
			g.emitted += int64(len(g.doc))
		}
		c := copy(p[n:], g.doc[g.off:])
		n += c
		g.off += c
	}
	return n, nil
}

var (
	synthHosts = []string{"web-01", "web-02", "web-03", "db-01", "db-02", "cache-01", "bastion", "build-07", "k8s-node-1", "k8s-node-2", "mail-01", "vpn-gw"}
	synthExes  = []struct{ exe, name, cwd string }{
		{"/usr/bin/ls", "ls", "/home/alice"}, {"/usr/bin/bash", "bash", "/"}, {"/usr/bin/python3.10", "python3", "/srv/app"},
		{"/usr/bin/git", "git", "/srv/repo"}, {"/usr/sbin/sshd", "sshd", "/"}, {"/usr/bin/curl", "curl", "/tmp"},
		{"/usr/bin/sudo", "sudo", "/home/bob"}, {"/usr/bin/cat", "cat", "/etc"}, {"/usr/lib/postgresql/16/bin/postgres", "postgres", "/var/lib/postgresql"},
		{"/usr/bin/systemctl", "systemctl", "/"}, {"/opt/app/bin/worker", "worker", "/opt/app"}, {"/usr/bin/grep", "grep", "/var/log"},
	}
	synthUsers = []string{"root", "alice", "bob", "deploy", "postgres", "www-data"}
	synthArgs  = []string{"-la", "--verbose", "/var/log/syslog", "status", "-c", "import os; print(os.getcwd())", "origin", "main", "--since=\"1 hour ago\"", "caf\u00e9", "\\u263a", "-o", "json"}
)

// appendSynthDoc appends document number i and its newline.
func appendSynthDoc(b []byte, i int64) []byte {
	host := synthHosts[i%int64(len(synthHosts))]
	x := synthExes[(i/3+i*7)%int64(len(synthExes))]
	user := synthUsers[(i/5)%int64(len(synthUsers))]
	auid := synthUsers[1+(i/11)%int64(len(synthUsers)-1)]
	kind := i % 10 // 0-6 executions, 7 connect, 8 openat, 9 login
	pid := 1000 + i%60000
	ts := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 37 * time.Millisecond)

	b = append(b, `{"@timestamp":"`...)
	b = ts.AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, `","agent":{"ephemeral_id":"6f0ef2c4-7c1d-4c0e-9c9f-`...)
	b = strconv.AppendInt(b, 100000000000+i%900000000000, 10)
	b = append(b, `","hostname":"`...)
	b = append(b, host...)
	b = append(b, `","id":"0b2e0a52-8e5f-4b7e-a1a4-6c1f3f0e9d21","name":"`...)
	b = append(b, host...)
	b = append(b, `","type":"auditbeat","version":"7.17.29"},"auditd":{"data":{"a0":"55d1a0c0","a1":"55d1a3e8","a2":"55d1a410","a3":"0","arch":"x86_64","argc":"3","exit":"0","syscall":"`...)
	switch kind {
	case 7:
		b = append(b, "connect"...)
	case 8:
		b = append(b, "openat"...)
	case 9:
		b = append(b, "none"...)
	default:
		b = append(b, "execve"...)
	}
	b = append(b, `","tty":"pts1"},"message_type":"syscall","paths":[{"dev":"fd:01","inode":"1054`...)
	b = strconv.AppendInt(b, i%977, 10)
	b = append(b, `","item":"0","mode":"0100755","name":"`...)
	b = append(b, x.exe...)
	b = append(b, `","nametype":"NORMAL","ogid":"0","ouid":"0","rdev":"00:00"},{"dev":"fd:01","inode":"1923","item":"1","mode":"0100755","name":"/lib64/ld-linux-x86-64.so.2","nametype":"NORMAL","ogid":"0","ouid":"0","rdev":"00:00"}],"result":"success","sequence":`...)
	b = strconv.AppendInt(b, 8972+i, 10)
	b = append(b, `,"session":"`...)
	b = strconv.AppendInt(b, 1+i%40, 10)
	b = append(b, `","summary":{"actor":{"primary":"`...)
	b = append(b, auid...)
	b = append(b, `","secondary":"`...)
	b = append(b, user...)
	b = append(b, `"},"how":"`...)
	b = append(b, x.exe...)
	b = append(b, `","object":{"primary":"`...)
	b = append(b, x.exe...)
	b = append(b, `","type":"file"}}},`...)
	if i%10 == 4 {
		b = append(b, `"container":{"id":"4f0e1a3cdd1c9b6c2a3f0b5b0f7e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f`...)
		b = strconv.AppendInt(b, 10+i%89, 10)
		b = append(b, `","image":{"name":"registry.local/app:1.4.2"},"name":"app-`...)
		b = strconv.AppendInt(b, i%17, 10)
		b = append(b, `","runtime":"docker"},`...)
	}
	b = append(b, `"ecs":{"version":"1.12.0"},"event":{"action":"`...)
	switch kind {
	case 7:
		b = append(b, `connected-to","category":["network"],"kind":"event","module":"auditd","outcome":"success","type":["connection","start"]},`...)
	case 8:
		b = append(b, `opened-file","category":["file"],"kind":"event","module":"auditd","outcome":"success","type":["access"]},`...)
	case 9:
		b = append(b, `logged-in","category":["authentication"],"kind":"event","module":"auditd","outcome":"success","type":["start","authentication_success"]},`...)
	default:
		b = append(b, `executed","category":["process"],"kind":"event","module":"auditd","outcome":"success","type":["start"]},`...)
	}
	b = append(b, `"host":{"architecture":"x86_64","containerized":false,"hostname":"`...)
	b = append(b, host...)
	b = append(b, `","id":"2ab45fc1c41e4c84bbd02202a7e5761f","ip":["10.1.4.`...)
	b = strconv.AppendInt(b, i%12, 10)
	b = append(b, `","fe80::a00:27ff:fe4e:66a1"],"mac":["08:00:27:4e:66:a1"],"name":"`...)
	b = append(b, host...)
	b = append(b, `","os":{"codename":"jammy","family":"debian","kernel":"5.15.0-91-generic","name":"Ubuntu","platform":"ubuntu","type":"linux","version":"22.04.3 LTS (Jammy Jellyfish)"}},"process":{"args":["`...)
	b = append(b, x.name...)
	nargs := int(i % 4)
	for k := 0; k < nargs; k++ {
		b = append(b, `","`...)
		b = appendJSONText(b, synthArgs[(int(i)+k*5)%len(synthArgs)])
	}
	b = append(b, `"],"executable":"`...)
	b = append(b, x.exe...)
	b = append(b, `","name":"`...)
	b = append(b, x.name...)
	b = append(b, `","parent":{"pid":`...)
	b = strconv.AppendInt(b, pid-1-i%7, 10)
	b = append(b, `},"pid":`...)
	b = strconv.AppendInt(b, pid, 10)
	b = append(b, `,"ppid":`...)
	b = strconv.AppendInt(b, pid-1-i%7, 10)
	b = append(b, `,"title":"`...)
	b = append(b, x.name...)
	if nargs > 0 {
		b = append(b, ' ')
		b = appendJSONText(b, synthArgs[int(i)%len(synthArgs)])
	}
	b = append(b, `","working_directory":"`...)
	b = append(b, x.cwd...)
	b = append(b, `"},"service":{"type":"auditd"},"tags":["exec-watch"],"user":{"audit":{"id":"`...)
	b = strconv.AppendInt(b, 1000+(i/11)%5, 10)
	b = append(b, `","name":"`...)
	b = append(b, auid...)
	b = append(b, `"},"effective":{"group":{"id":"0","name":"root"},"id":"0","name":"root"},"filesystem":{"group":{"id":"0","name":"root"},"id":"0","name":"root"},"group":{"id":"0","name":"root"},"id":"`...)
	b = strconv.AppendInt(b, (i/5)%6, 10)
	b = append(b, `","name":"`...)
	b = append(b, user...)
	b = append(b, `","saved":{"group":{"id":"0","name":"root"},"id":"0","name":"root"}}}`...)
	return append(b, '\n')
}

// appendJSONText appends s escaped for a JSON string.
func appendJSONText(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q[1:len(q)-1]...)
}

// synthCorpus returns n generated documents as one buffer.
func synthCorpus(n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = appendSynthDoc(b, int64(i))
	}
	return b
}

// ecsReference is the same set of fields decoded by encoding/json: the
// baseline the hand-written scanner is measured and checked against.
type ecsReference struct {
	Timestamp string `json:"@timestamp"`
	Agent     struct {
		Hostname string `json:"hostname"`
	} `json:"agent"`
	Host struct {
		Name string `json:"name"`
	} `json:"host"`
	Container struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Runtime string `json:"runtime"`
	} `json:"container"`
	Process struct {
		Executable string   `json:"executable"`
		Name       string   `json:"name"`
		Args       []string `json:"args"`
		Title      string   `json:"title"`
		PID        int64    `json:"pid"`
		PPID       int64    `json:"ppid"`
		Parent     struct {
			PID int64 `json:"pid"`
		} `json:"parent"`
		WorkingDirectory string `json:"working_directory"`
	} `json:"process"`
	User struct {
		Name  string `json:"name"`
		ID    string `json:"id"`
		Audit struct {
			Name string `json:"name"`
			ID   string `json:"id"`
		} `json:"audit"`
	} `json:"user"`
	Event struct {
		Action   string   `json:"action"`
		Category []string `json:"category"`
		Type     []string `json:"type"`
		Module   string   `json:"module"`
		Outcome  string   `json:"outcome"`
	} `json:"event"`
	Auditd struct {
		Result      string `json:"result"`
		MessageType string `json:"message_type"`
		Data        struct {
			Syscall string `json:"syscall"`
		} `json:"data"`
	} `json:"auditd"`
}

func refContains(list []string, want string) bool {
	for _, s := range list {
		if s == want {
			return true
		}
	}
	return false
}

// event applies the same selection and mapping to the reference decode.
func (r *ecsReference) event(line int64) (Event, bool) {
	sys := r.Auditd.Data.Syscall
	selected := r.Event.Action == "executed" || sys == "execve" || sys == "execveat" ||
		(refContains(r.Event.Category, "process") && refContains(r.Event.Type, "start") && r.Event.Module != "system" &&
			(r.Auditd.MessageType == "" || r.Auditd.MessageType == "syscall"))
	if !selected {
		return Event{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, r.Timestamp)
	if err != nil || r.Process.Executable == "" {
		return Event{}, false
	}
	e := Event{
		Time:       t.UTC(),
		Host:       r.Host.Name,
		Container:  Container{ID: r.Container.ID, Name: r.Container.Name, Runtime: r.Container.Runtime},
		Executable: r.Process.Executable,
		Name:       r.Process.Name,
		Args:       r.Process.Args,
		Title:      r.Process.Title,
		User:       User{Name: r.User.Name, ID: r.User.ID, AuditName: r.User.Audit.Name, AuditID: r.User.Audit.ID},
		PID:        r.Process.PID,
		PPID:       r.Process.Parent.PID,
		WorkingDir: r.Process.WorkingDirectory,
		Syscall:    sys,
		Action:     r.Event.Action,
		Origin:     Origin{File: "bench", Line: line},
	}
	if e.Host == "" {
		e.Host = r.Agent.Hostname
	}
	if e.PPID == 0 {
		e.PPID = r.Process.PPID
	}
	switch r.Event.Outcome {
	case "success":
		e.Result = "success"
	case "failure":
		e.Result = "fail"
	}
	if e.Result == "" {
		switch r.Auditd.Result {
		case "success", "fail":
			e.Result = r.Auditd.Result
		}
	}
	return e, true
}

// decodeWithEncodingJSON is the baseline reader: lines from bufio, each
// unmarshalled into ecsReference.
func decodeWithEncodingJSON(r io.Reader, fn func(*Event)) (docs int64, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 256<<10), maxDocumentBytes+1)
	var line int64
	for sc.Scan() {
		line++
		var doc ecsReference
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			continue
		}
		docs++
		if e, ok := doc.event(line); ok {
			fn(&e)
		}
	}
	return docs, sc.Err()
}

// The scanner and encoding/json agree on every generated document.
func TestNDJSONMatchesEncodingJSON(t *testing.T) {
	corpus := synthCorpus(2000)
	var want []Event
	if _, err := decodeWithEncodingJSON(bytes.NewReader(corpus), func(e *Event) { want = append(want, *e) }); err != nil {
		t.Fatal(err)
	}
	var got []Event
	var rep FileReport
	if err := decodeNDJSON(context.Background(), bytes.NewReader(corpus), "bench", Options{}, func(e *Event) error {
		got = append(got, *e)
		return nil
	}, &rep); err != nil {
		t.Fatal(err)
	}
	if len(want) != 1400 || len(got) != len(want) || rep.Seen != 2000 || rep.Rejected != 0 || rep.Repaired != 0 {
		t.Fatalf("got %d events, encoding/json %d; report %+v", len(got), len(want), rep)
	}
	containers := 0
	for i := range got {
		g, w := got[i], want[i]
		if !g.Time.Equal(w.Time) {
			t.Fatalf("event %d time %v, want %v", i, g.Time, w.Time)
		}
		g.Time = w.Time
		if len(g.Args) == 0 && len(w.Args) == 0 {
			g.Args, w.Args = nil, nil
		}
		if fmt.Sprintf("%#v", g) != fmt.Sprintf("%#v", w) {
			t.Fatalf("event %d differs:\n got %#v\nwant %#v", i, g, w)
		}
		if g.Scope() == ScopeContainer {
			containers++
		}
	}
	if containers == 0 {
		t.Error("no container events generated")
	}
}

// benchCorpusDocs is how many generated documents one benchmark op reads.
const benchCorpusDocs = 4096

// BenchmarkNDJSONDecode measures the hand-written scanner over generated
// Auditbeat documents. Compare with BenchmarkNDJSONEncodingJSON.
func BenchmarkNDJSONDecode(b *testing.B) {
	corpus := synthCorpus(benchCorpusDocs)
	ctx := context.Background()
	b.SetBytes(int64(len(corpus)))
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0, _ := processCPUSeconds()
	b.ResetTimer()
	var events int64
	for b.Loop() {
		var rep FileReport
		if err := decodeNDJSON(ctx, bytes.NewReader(corpus), "bench", Options{}, func(*Event) error { events++; return nil }, &rep); err != nil {
			b.Fatal(err)
		}
		if rep.Seen != benchCorpusDocs {
			b.Fatalf("read %d documents", rep.Seen)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	reportPerDoc(b, ms1.Mallocs-ms0.Mallocs, cpu0)
}

// BenchmarkNDJSONEncodingJSON is the baseline: encoding/json into a struct of
// the same fields, over the same documents.
func BenchmarkNDJSONEncodingJSON(b *testing.B) {
	corpus := synthCorpus(benchCorpusDocs)
	b.SetBytes(int64(len(corpus)))
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0, _ := processCPUSeconds()
	b.ResetTimer()
	var events int64
	for b.Loop() {
		docs, err := decodeWithEncodingJSON(bytes.NewReader(corpus), func(*Event) { events++ })
		if err != nil || docs != benchCorpusDocs {
			b.Fatalf("read %d documents: %v", docs, err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	reportPerDoc(b, ms1.Mallocs-ms0.Mallocs, cpu0)
}

// reportPerDoc reports documents per second of wall time and, where the
// process's CPU time can be read, per second of CPU time: on a shared machine
// the second stays steady when other work steals the processor.
func reportPerDoc(b *testing.B, mallocs uint64, cpu0 float64) {
	docs := float64(benchCorpusDocs) * float64(b.N)
	b.ReportMetric(docs/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(float64(mallocs)/docs, "allocs/doc")
	if cpu1, ok := processCPUSeconds(); ok && cpu1 > cpu0 {
		b.ReportMetric(docs/(cpu1-cpu0), "docs/cpu-s")
	}
}

// processCPUSeconds is the user and system CPU time of this process, read
// from /proc/self/stat (Linux, in USER_HZ = 100 ticks a second).
func processCPUSeconds() (float64, bool) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// Fields after the parenthesised command name start at field 3; utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	user, err1 := strconv.ParseFloat(f[11], 64)
	sys, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (user + sys) / 100, true
}

// BenchmarkNDJSONStreaming reads generated NDJSON from a reader that makes
// documents on the fly (no disk, no corpus in memory) and reports the peak
// heap, which stays flat however much is read. The 1 GB case runs only with
// AUDITLENS_BENCH_1GB=1.
func BenchmarkNDJSONStreaming(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int64
	}{{"100MB", 100 << 20}, {"1GB", 1 << 30}} {
		b.Run(size.name, func(b *testing.B) {
			if size.bytes > 100<<20 && os.Getenv("AUDITLENS_BENCH_1GB") == "" {
				b.Skip("set AUDITLENS_BENCH_1GB=1 to stream 1 GB")
			}
			b.SetBytes(size.bytes)
			var peak uint64
			var docs int64
			for b.Loop() {
				p, rep := streamPeakHeap(b, size.bytes)
				peak = max(peak, p)
				docs += rep.Seen
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// streamPeakHeap decodes size bytes of generated documents and returns the
// largest heap seen while doing it, sampled every 1024 events.
func streamPeakHeap(tb testing.TB, size int64) (uint64, FileReport) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	read := func() {
		metrics.Read(sample)
		peak = max(peak, sample[0].Value.Uint64())
	}
	read()
	var rep FileReport
	n := 0
	err := decodeNDJSON(context.Background(), newNDJSONSynth(size, 0), "stream", Options{}, func(*Event) error {
		if n++; n%1024 == 0 {
			read()
		}
		return nil
	}, &rep)
	if err != nil {
		tb.Fatal(err)
	}
	read()
	return peak, rep
}

// The heap stays flat as the stream grows: eight times the data may not need
// noticeably more memory. Under -short the larger stream is smaller.
func TestNDJSONStreamingHeapIsFlat(t *testing.T) {
	small, large := int64(4<<20), int64(32<<20)
	if testing.Short() {
		large = 12 << 20
	}
	peakSmall, repSmall := streamPeakHeap(t, small)
	peakLarge, repLarge := streamPeakHeap(t, large)
	if repSmall.Rejected != 0 || repLarge.Rejected != 0 || float64(repLarge.Seen) < 0.9*float64(large/small)*float64(repSmall.Seen) {
		t.Fatalf("reports %+v %+v", repSmall, repLarge)
	}
	t.Logf("peak heap: %.1f MiB for %d MiB, %.1f MiB for %d MiB", float64(peakSmall)/(1<<20), small>>20, float64(peakLarge)/(1<<20), large>>20)
	if peakLarge > peakSmall+8<<20 || peakLarge > 64<<20 {
		t.Errorf("peak heap grew from %d to %d bytes", peakSmall, peakLarge)
	}
}
