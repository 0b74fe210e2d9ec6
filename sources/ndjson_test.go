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
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/auditlens/auditlens/internal/corpora"
)

// ndDecode runs the decoder over data and returns copies of the events and the report.
func ndDecode(t testing.TB, data []byte, opts Options) ([]Event, FileReport) {
	t.Helper()
	var events []Event
	rep := FileReport{Path: "test.ndjson"}
	err := decodeNDJSON(context.Background(), bytes.NewReader(data), "test.ndjson", opts, func(e *Event) error {
		events = append(events, *e)
		return nil
	}, &rep)
	if err != nil {
		t.Fatalf("decodeNDJSON: %v", err)
	}
	return events, rep
}

// ndDecodeEverything yields every well-formed document, to check field mapping
// on documents the selection would skip.
func ndDecodeEverything(t testing.TB, data []byte) ([]Event, FileReport) {
	t.Helper()
	var events []Event
	rep := FileReport{Path: "test.ndjson"}
	d := newNDJSONDecoder(context.Background(), bytes.NewReader(data), "test.ndjson", Options{}, func(e *Event) error {
		events = append(events, *e)
		return nil
	}, &rep)
	d.everything = true
	if err := d.run(); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return events, rep
}

func ndTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

func ndFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ndjson", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNDJSONFieldMapping(t *testing.T) {
	ts := ndTime(t, "2021-06-01T12:00:00.123Z")
	origin := func(line int64) Origin { return Origin{File: "test.ndjson", Line: line} }
	cases := []struct {
		name string
		doc  string
		want Event
	}{
		{
			name: "ECS 7 auditd execve with process.ppid",
			doc:  `{"@timestamp":"2021-06-01T12:00:00.123Z","agent":{"hostname":"agent-name"},"host":{"name":"web-01"},"auditd":{"data":{"syscall":"execve"},"result":"success","message_type":"syscall"},"event":{"action":"executed","category":"audit-rule","module":"auditd"},"process":{"args":["ls","-la"],"executable":"/usr/bin/ls","name":"ls","pid":10043,"ppid":10027,"title":"ls -la","working_directory":"/home/alice"},"user":{"audit":{"id":"1000","name":"alice"},"id":"0","name":"root"}}`,
			want: Event{Time: ts, Host: "web-01", Executable: "/usr/bin/ls", Name: "ls", Args: []string{"ls", "-la"}, Title: "ls -la",
				User: User{Name: "root", ID: "0", AuditName: "alice", AuditID: "1000"}, PID: 10043, PPID: 10027, WorkingDir: "/home/alice",
				Result: "success", Syscall: "execve", Action: "executed", Origin: origin(1)},
		},
		{
			name: "ECS 8 arrays, process.parent.pid, container",
			doc:  `{"@timestamp":"2021-06-01T13:00:00.123+01:00","event":{"category":["process"],"type":["start"],"outcome":"failure","module":"auditd"},"container":{"id":"abc123","name":"nginx-1","runtime":"containerd"},"agent":{"hostname":"node-7"},"process":{"executable":"/usr/sbin/nginx","parent":{"pid":1},"pid":22}}`,
			want: Event{Time: ts, Host: "node-7", Container: Container{ID: "abc123", Name: "nginx-1", Runtime: "containerd"},
				Executable: "/usr/sbin/nginx", PID: 22, PPID: 1, Result: "fail", Origin: origin(1)},
		},
		{
			name: "Auditbeat 6 names and string pids",
			doc:  `{"@timestamp":"2021-06-01T12:00:00.123Z","beat":{"name":"legacy-01","hostname":"legacy-01.example"},"docker":{"container":{"id":"c0ffee","name":"redis"}},"auditd":{"result":"fail","data":{"syscall":"execve"}},"process":{"exe":"/usr/bin/redis-server","pid":"31964","ppid":"1","cwd":"/data","args":["redis-server"]},"user":{"name_map":{"uid":"redis","auid":"deploy"},"uid":"999","auid":"1000"}}`,
			want: Event{Time: ts, Host: "legacy-01", Container: Container{ID: "c0ffee", Name: "redis"}, Executable: "/usr/bin/redis-server",
				Args: []string{"redis-server"}, User: User{Name: "redis", ID: "999", AuditName: "deploy", AuditID: "1000"},
				PID: 31964, PPID: 1, WorkingDir: "/data", Result: "fail", Syscall: "execve", Origin: origin(1)},
		},
		{
			name: "beat.hostname when beat.name is absent",
			doc:  `{"@timestamp":"2021-06-01T12:00:00.123Z","beat":{"hostname":"only-hostname"},"process":{"exe":"/bin/sh"}}`,
			want: Event{Time: ts, Host: "only-hostname", Executable: "/bin/sh", Origin: origin(1)},
		},
		{
			name: "first match wins whatever the key order",
			doc:  `{"beat":{"name":"beat-name"},"agent":{"hostname":"agent-host"},"process":{"exe":"/old/exe","ppid":5,"parent":{"pid":6},"executable":"/new/exe"},"user":{"name_map":{"uid":"old"},"name":"new"},"host":{"name":"host-name"},"@timestamp":"2021-06-01T12:00:00.123Z"}`,
			want: Event{Time: ts, Host: "host-name", Executable: "/new/exe", PPID: 6, User: User{Name: "new"}, Origin: origin(1)},
		},
		{
			name: "empty strings and unknown outcome leave room for later fields",
			doc:  `{"@timestamp":"2021-06-01T12:00:00.123Z","host":{"name":""},"agent":{"hostname":"fallback"},"process":{"executable":"","exe":"/bin/fallback"},"event":{"outcome":"unknown"},"auditd":{"result":"fail"}}`,
			want: Event{Time: ts, Host: "fallback", Executable: "/bin/fallback", Result: "fail", Origin: origin(1)},
		},
		{
			name: "search hit",
			doc:  `{"_index":"auditbeat-7.17.29","_id":"doc-1","_score":null,"_source":{"@timestamp":"2021-06-01T12:00:00.123Z","host":{"name":"h"},"process":{"executable":"/bin/id"}},"sort":[1]}`,
			want: Event{Time: ts, Host: "h", Executable: "/bin/id", Origin: Origin{File: "test.ndjson", Line: 1, Index: "auditbeat-7.17.29", ID: "doc-1"}},
		},
		{
			name: "es_archiver record on one line",
			doc:  `{"type":"doc","value":{"index":"auditbeat-8.0.0","id":"arch-1","source":{"@timestamp":"2021-06-01T12:00:00.123Z","host":{"name":"h"},"process":{"executable":"/bin/id","args":"/bin/id"}}}}`,
			want: Event{Time: ts, Host: "h", Executable: "/bin/id", Args: []string{"/bin/id"}, Origin: Origin{File: "test.ndjson", Line: 1, Index: "auditbeat-8.0.0", ID: "arch-1"}},
		},
		{
			name: "wrapper fields inside the wrapped document are ordinary data",
			doc:  `{"_id":"outer","_source":{"@timestamp":"2021-06-01T12:00:00.123Z","_id":"inner","_source":{"host":{"name":"nested"}},"process":{"executable":"/bin/id"}}}`,
			want: Event{Time: ts, Executable: "/bin/id", Origin: Origin{File: "test.ndjson", Line: 1, ID: "outer"}},
		},
		{
			name: "dotted keys as Filebeat and flattened exports write them",
			doc:  `{"@timestamp":"2021-06-01T12:00:00.123Z","host.name":"flat","process.executable":"/bin/flat","process":{"parent.pid":12},"user.audit.id":"4294967295","event.action":"executed"}`,
			want: Event{Time: ts, Host: "flat", Executable: "/bin/flat", PPID: 12, User: User{AuditID: "4294967295"}, Action: "executed", Origin: origin(1)},
		},
		{
			name: "escapes, surrogate pairs and escaped keys",
			doc:  `{"@timestamp":"2021-06-01T12:00:00.123Z","h\u006fst":{"name":"caf\u00e9-\ud83d\ude00"},"process":{"executable":"\/usr\/bin\/x\\y","args":["say \"hi\"","tab\there","nl\nx"],"title":"\u2603"}}`,
			want: Event{Time: ts, Host: "café-😀", Executable: `/usr/bin/x\y`, Args: []string{`say "hi"`, "tab\there", "nl\nx"}, Title: "☃", Origin: origin(1)},
		},
		{
			name: "numbers where strings are expected, lists where one value is expected",
			doc:  `{"@timestamp":1622548800123,"host":{"name":["first","second"]},"user":{"id":0,"audit":{"id":1000}},"process":{"executable":"/bin/n","pid":7.5,"args":[1,null,"two",{"x":1}]}}`,
			want: Event{Time: ts, Host: "first", User: User{ID: "0", AuditID: "1000"}, Executable: "/bin/n", Args: []string{"1", "two"}, Origin: origin(1)},
		},
		{
			name: "mapped names holding unexpected types are ignored",
			doc:  `{"@timestamp":"2021-06-01T12:00:00.123Z","host":"not-an-object","process":{"executable":{"path":"/x"},"exe":"/bin/real","pid":true,"ppid":"12a","args":{"0":"a"}},"user":[1,2]}`,
			want: Event{Time: ts, Executable: "/bin/real", Origin: origin(1)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events, rep := ndDecodeEverything(t, []byte(tc.doc+"\n"))
			if rep.Rejected != 0 || len(events) != 1 {
				t.Fatalf("got %d events, report %+v", len(events), rep)
			}
			got := events[0]
			if !got.Time.Equal(tc.want.Time) {
				t.Errorf("time %v, want %v", got.Time, tc.want.Time)
			}
			got.Time = tc.want.Time
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestNDJSONSelection(t *testing.T) {
	const ts = `"@timestamp":"2024-01-01T00:00:00Z","host":{"name":"h"},"process":{"executable":"/bin/x"}`
	cases := []struct {
		name                string
		doc                 string
		execution, syscall  bool
		rejectedAsExecution bool
	}{
		{"event.action executed", `{` + ts + `,"event":{"action":"executed"}}`, true, false, false},
		{"execve syscall", `{` + ts + `,"auditd":{"data":{"syscall":"execve"}}}`, true, true, false},
		{"execveat syscall", `{` + ts + `,"auditd":{"data":{"syscall":"execveat"}}}`, true, true, false},
		{"other syscall", `{` + ts + `,"auditd":{"data":{"syscall":"openat"}},"event":{"action":"opened-file"}}`, false, true, false},
		{"category process and type start as arrays", `{` + ts + `,"event":{"category":["process"],"type":["start"],"module":"auditd"}}`, true, false, false},
		{"category process and type start as strings", `{` + ts + `,"event":{"category":"process","type":"start"}}`, true, false, false},
		{"type start among others", `{` + ts + `,"event":{"category":["network","process"],"type":["info","start"],"module":"endpoint"}}`, true, false, false},
		{"category process without start", `{` + ts + `,"event":{"category":["process"],"type":["change"]}}`, false, false, false},
		{"system module snapshot", `{` + ts + `,"event":{"category":["process"],"type":["start"],"module":"system","action":"process_started"}}`, false, false, false},
		{"sudo ran-command is not the execve", `{` + ts + `,"auditd":{"message_type":"user_cmd"},"event":{"category":["process"],"type":["start"],"action":"ran-command"}}`, false, false, false},
		{"auditd syscall record with category and type", `{` + ts + `,"auditd":{"message_type":"syscall"},"event":{"category":["process"],"type":["start"]}}`, true, false, false},
		{"login", `{` + ts + `,"event":{"action":"logged-in","category":["authentication"],"type":["start"]}}`, false, false, false},
		{"execution without executable", `{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"}}`, false, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, sel := range []Selection{Executions, AllSyscalls} {
				want := tc.execution
				if sel == AllSyscalls {
					want = tc.syscall
				}
				events, rep := ndDecode(t, []byte(tc.doc+"\n"), Options{Selection: sel})
				if got := len(events) == 1; got != want {
					t.Errorf("selection %d: yielded %v, want %v (report %+v)", sel, got, want, rep)
				}
				wantRejected := int64(0)
				if sel == Executions && tc.rejectedAsExecution {
					wantRejected = 1
				}
				if rep.Rejected != wantRejected || rep.Lines != 1 || rep.Seen+rep.Rejected != 1 || rep.Events != int64(len(events)) {
					t.Errorf("selection %d: report %+v", sel, rep)
				}
			}
		})
	}
}

func TestNDJSONFixtures(t *testing.T) {
	cases := []struct {
		file       string
		sel        Selection
		seen       int64
		executable []string
		lines      []int64
	}{
		{"ecs7.ndjson", Executions, 3, []string{"/usr/bin/ls"}, []int64{1}},
		{"ecs7.ndjson", AllSyscalls, 3, []string{"/usr/bin/ls", "/usr/bin/curl"}, []int64{1, 2}},
		{"ecs8.ndjson", Executions, 3, []string{"/usr/lib/postgresql/16/bin/psql", "/usr/bin/id"}, []int64{1, 3}},
		{"beats6.ndjson", Executions, 2, []string{"/usr/sbin/nginx"}, []int64{1}},
		{"beats6.ndjson", AllSyscalls, 2, []string{"/usr/sbin/nginx", "/usr/sbin/nginx"}, []int64{1, 2}},
		{"hits.ndjson", Executions, 2, []string{"/usr/bin/ssh", "/usr/bin/scp"}, []int64{1, 2}},
		{"es_archiver.json", Executions, 2, []string{"/usr/bin/tar"}, []int64{1}},
	}
	for _, tc := range cases {
		events, rep := ndDecode(t, ndFixture(t, tc.file), Options{Selection: tc.sel})
		var exes []string
		var lines []int64
		for _, e := range events {
			exes = append(exes, e.Executable)
			lines = append(lines, e.Origin.Line)
		}
		if rep.Seen != tc.seen || rep.Rejected != 0 || !reflect.DeepEqual(exes, tc.executable) || !reflect.DeepEqual(lines, tc.lines) {
			t.Errorf("%s selection %d: executables %q at lines %v, report %+v", tc.file, tc.sel, exes, lines, rep)
		}
	}

	// The es_archiver fixture's document, field by field.
	events, _ := ndDecode(t, ndFixture(t, "es_archiver.json"), Options{})
	want := Event{Time: ndTime(t, "2024-03-01T11:00:00Z"), Host: "jump-01", Executable: "/usr/bin/tar", Name: "tar",
		Args: []string{"tar", "czf", "/tmp/x.tgz"}, PID: 501, PPID: 500, Action: "executed",
		Origin: Origin{File: "test.ndjson", Line: 1, Index: "auditbeat-8.0.0-2024.03.01-000001", ID: "archived-exec-1"}}
	if len(events) != 1 || !reflect.DeepEqual(events[0], want) {
		t.Errorf("es_archiver document:\n got %+v\nwant %+v", events, want)
	}
	_, rep := ndDecode(t, ndFixture(t, "es_archiver.json"), Options{})
	if lines := int64(bytes.Count(ndFixture(t, "es_archiver.json"), []byte("\n"))); rep.Lines != lines {
		t.Errorf("es_archiver lines %d, want %d", rep.Lines, lines)
	}
	// The surrogate pair and escapes of the ECS 8 fixture.
	events, _ = ndDecode(t, ndFixture(t, "ecs8.ndjson"), Options{})
	if got := events[0].Args[2]; got != "SELECT 'café' — 😀" {
		t.Errorf("unescaped argument %q", got)
	}
	if got := events[0].Time; !got.Equal(ndTime(t, "2023-11-20T07:15:30.000000123Z")) {
		t.Errorf("time with offset %v", got)
	}
}

func TestNDJSONBadLines(t *testing.T) {
	events, rep := ndDecode(t, ndFixture(t, "bad-lines.ndjson"), Options{MaxSamples: 20})
	var exes []string
	for _, e := range events {
		exes = append(exes, e.Executable)
	}
	wantExes := []string{"/bin/true", "/bin/cat", "/tmp/\uFFFD\uFFFDbad"}
	if !reflect.DeepEqual(exes, wantExes) {
		t.Errorf("executables %q, want %q", exes, wantExes)
	}
	want := []struct {
		line   int64
		reason string
	}{
		{2, "not a JSON object"},
		{3, "the line ends before the document does"},
		{4, "has no @timestamp"},
		{5, "has no process.executable"},
		{6, "neither an RFC 3339 time"},
		{8, "only NUL bytes"},
		{10, "unexpected data after the document"},
	}
	if rep.Lines != 10 || rep.Rejected != int64(len(want)) || rep.Events != 3 || rep.Seen != 3 || rep.Repaired != 2 {
		t.Errorf("report %+v", rep)
	}
	for i, w := range want {
		if i >= len(rep.Samples) {
			t.Fatalf("missing sample for line %d", w.line)
		}
		if s := rep.Samples[i]; s.Line != w.line || !strings.Contains(s.Reason, w.reason) {
			t.Errorf("sample %d: line %d %q, want line %d containing %q", i, s.Line, s.Reason, w.line, w.reason)
		}
	}
}

func TestNDJSONMalformed(t *testing.T) {
	good := `{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"executable":"/bin/ok"}}`
	cases := []struct {
		name   string
		line   string
		reason string
	}{
		{"unterminated string", `{"a":"abc`, "ends before the document"},
		{"missing colon", `{"a" 1}`, "expected ':'"},
		{"missing comma", `{"a":1 "b":2}`, "expected ',' or '}'"},
		{"bad array", `{"a":[1 2]}`, "expected ',' or ']'"},
		{"bare word", `{"a":nope}`, "invalid literal"},
		{"bad escape", `{"a":"\x"}`, "invalid escape"},
		{"short unicode escape", `{"a":"\u12"}`, "invalid escape"},
		{"bad number", `{"a":-}`, "invalid number"},
		{"leading zero", `{"a":01}`, "expected ',' or '}'"},
		{"bad exponent", `{"a":1e}`, "invalid number"},
		{"unquoted key", `{a:1}`, "expected a field name"},
		{"trailing comma", `{"a":1,}`, "expected a field name"},
		{"array at top", `[1,2]`, "not a JSON object"},
		{"string at top", `"x"`, "not a JSON object"},
		{"deep nesting", `{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, "more than 512 levels"},
		{"garbage after", good[:len(good)-1] + `}}`, "unexpected data after"},
		{"missing value", `{"a":}`, "expected a value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := good + "\n" + tc.line + "\n" + good + "\n"
			events, rep := ndDecode(t, []byte(data), Options{})
			if len(events) != 2 || rep.Rejected != 1 || rep.Lines != 3 {
				t.Fatalf("events %d, report %+v", len(events), rep)
			}
			if s := rep.Samples[0]; s.Line != 2 || !strings.Contains(s.Reason, tc.reason) {
				t.Errorf("sample %+v, want line 2 containing %q", s, tc.reason)
			}
		})
	}
}

// Reasons say what was wrong and where, never the attacker's bytes.
func TestNDJSONRejectReasonsQuoteNoData(t *testing.T) {
	const marker = "EVIL\x1b[31mMARKER"
	lines := []string{
		marker,
		`{"` + marker + `":` + marker + `}`,
		`{"@timestamp":"` + marker + `","event":{"action":"executed"},"process":{"executable":"/x"}}`,
		`{"event":{"action":"executed"},"process":{"executable":"` + marker + `"}}`,
		`{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"name":"` + marker + `"}}`,
		`{"a":"` + marker + `"}{"b":"` + marker + `"}`,
		`{"a":"` + marker,
		marker + strings.Repeat("x", maxDocumentBytes+10),
	}
	_, rep := ndDecode(t, []byte(strings.Join(lines, "\n")+"\n"), Options{MaxSamples: 100})
	if rep.Rejected != int64(len(lines)) {
		t.Fatalf("rejected %d of %d lines: %+v", rep.Rejected, len(lines), rep.Samples)
	}
	for _, s := range rep.Samples {
		if strings.Contains(s.Reason, "EVIL") || strings.Contains(s.Reason, "\x1b") {
			t.Errorf("line %d reason quotes data: %q", s.Line, s.Reason)
		}
	}
}

func TestNDJSONInvalidUTF8AndNUL(t *testing.T) {
	doc := "{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"event\":{\"action\":\"executed\"},\"host\":{\"name\":\"h\\u0000x\"},\"process\":{\"executable\":\"/bin/\xc3\x28\",\"args\":[\"a\x00b\",\"\\ud800\"],\"title\":\"ok\"}}\n"
	events, rep := ndDecode(t, []byte(doc), Options{})
	if len(events) != 1 || rep.Repaired != 1 {
		t.Fatalf("events %d report %+v", len(events), rep)
	}
	e := events[0]
	if e.Host != "h\uFFFDx" || e.Executable != "/bin/\uFFFD(" || !reflect.DeepEqual(e.Args, []string{"a\uFFFDb", "\uFFFD"}) || e.Title != "ok" {
		t.Errorf("repaired event %+v", e)
	}
	for _, s := range append([]string{e.Host, e.Executable, e.Title}, e.Args...) {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			t.Errorf("string %q is not clean", s)
		}
	}
}

// A line over 1 MiB is skipped as it streams past: the decoder never holds it.
func TestNDJSONLongLineIsNotBuffered(t *testing.T) {
	good := `{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"executable":"/bin/ok"}}` + "\n"
	const longBytes = 32 << 20
	r := io.MultiReader(
		strings.NewReader(good),
		strings.NewReader(`{"process":{"args":["`),
		io.LimitReader(ndRepeatReader('A'), longBytes),
		strings.NewReader("\"]}}\n"+good),
	)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var rep FileReport
	n := 0
	err := decodeNDJSON(context.Background(), r, "long.ndjson", Options{}, func(*Event) error { n++; return nil }, &rep)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || rep.Lines != 3 || rep.Rejected != 1 || rep.Samples[0].Line != 2 || !strings.Contains(rep.Samples[0].Reason, "over the 1 MiB limit") {
		t.Fatalf("events %d, report %+v", n, rep)
	}
	if want := fmt.Sprintf("line of %d bytes", len(`{"process":{"args":["`)+longBytes+len(`"]}}`)); !strings.Contains(rep.Samples[0].Reason, want) {
		t.Errorf("reason %q does not say %q", rep.Samples[0].Reason, want)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("allocated %d bytes reading a %d-byte line: it was buffered", grew, longBytes)
	}
}

// ndRepeatReader yields one byte forever.
type ndRepeatReader byte

func (r ndRepeatReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = byte(r)
	for n := 1; n < len(p); n *= 2 {
		copy(p[n:], p[:n])
	}
	return len(p), nil
}

func TestNDJSONDocumentAtTheLimit(t *testing.T) {
	prefix := `{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"executable":"/bin/ok","title":"`
	suffix := `"}}`
	for _, size := range []int{maxDocumentBytes, maxDocumentBytes + 1} {
		line := prefix + strings.Repeat("t", size-len(prefix)-len(suffix)) + suffix
		events, rep := ndDecode(t, []byte(line+"\n"+line), Options{})
		want := 2
		if size > maxDocumentBytes {
			want = 0
		}
		if len(events) != want || rep.Lines != 2 || rep.Rejected != int64(2-want) {
			t.Errorf("document of %d bytes: events %d report %+v", size, len(events), rep)
		}
	}
}

func TestNDJSONPrettyDocuments(t *testing.T) {
	doc := func(exe string) string {
		return "{\n  \"@timestamp\": \"2024-01-01T00:00:00Z\",\n  \"event\": {\n    \"action\": \"executed\"\n  },\n  \"process\": {\n    \"executable\": \"" + exe + "\"\n  }\n}\n"
	}
	cases := []struct {
		name      string
		data      string
		exes      []string
		lines     []int64
		rejects   []int64
		lineCount int64
	}{
		{"three documents with blank lines", doc("/a") + "\n" + doc("/b") + "\r\n" + doc("/c"), []string{"/a", "/b", "/c"}, []int64{1, 11, 21}, nil, 29},
		{"pretty then single-line", doc("/a") + `{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"executable":"/b"}}` + "\n", []string{"/a", "/b"}, []int64{1, 10}, nil, 10},
		{"broken body resumes at next document", "{\n  \"@timestamp\": \"2024-01-01T00:00:00Z\",\n  \"event\" {\n    \"action\": \"executed\"\n  }\n}\n\n" + doc("/b"), []string{"/b"}, []int64{8}, []int64{1}, 16},
		{"cut short by a new document", "{\n  \"@timestamp\": \"2024-01-01T00:00:00Z\",\n  \"event\": {\n" + doc("/b"), []string{"/b"}, []int64{4}, []int64{1}, 12},
		{"lone brace then single lines", "{\n" + `{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"executable":"/b"}}` + "\n", []string{"/b"}, []int64{2}, []int64{1}, 2},
		{"string left open", "{\n  \"a\": \"open\n  \"b\": 1\n}\n" + doc("/b"), []string{"/b"}, []int64{5}, []int64{1}, 13},
		{"file ends inside", doc("/a") + "{\n  \"a\": 1,\n", []string{"/a"}, []int64{1}, []int64{10}, 11},
		{"text after the closing brace", "{\n  \"a\": 1\n} trailing\n" + doc("/b"), []string{"/b"}, []int64{4}, []int64{1}, 12},
		{"no final newline", strings.TrimSuffix(doc("/a"), "\n"), []string{"/a"}, []int64{1}, nil, 9},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events, rep := ndDecode(t, []byte(tc.data), Options{})
			var exes []string
			var lines []int64
			for _, e := range events {
				exes = append(exes, e.Executable)
				lines = append(lines, e.Origin.Line)
			}
			var rejects []int64
			for _, s := range rep.Samples {
				rejects = append(rejects, s.Line)
			}
			if !reflect.DeepEqual(exes, tc.exes) || !reflect.DeepEqual(lines, tc.lines) || !reflect.DeepEqual(rejects, tc.rejects) || rep.Lines != tc.lineCount {
				t.Errorf("executables %q at %v, rejects %v (%+v), lines %d; want %q at %v, rejects %v, lines %d",
					exes, lines, rejects, rep.Samples, rep.Lines, tc.exes, tc.lines, tc.rejects, tc.lineCount)
			}
		})
	}
}

// A pretty-printed document split across many small reads still decodes, and
// one over the limit is skipped with the lines after it read.
func TestNDJSONPrettyDocumentAcrossReads(t *testing.T) {
	var b strings.Builder
	b.WriteString("{\n  \"@timestamp\": \"2024-01-01T00:00:00Z\",\n  \"event\": {\"action\": \"executed\"},\n  \"process\": {\"executable\": \"/big\", \"args\": [\n")
	for i := 0; i < 20000; i++ {
		b.WriteString("    \"argument-number-xxxxxxxxxxxxxxxxxxxx\",\n")
	}
	b.WriteString("    \"last\"\n  ]}\n}\n")
	big := b.String()
	small := "{\n  \"@timestamp\": \"2024-01-01T00:00:00Z\",\n  \"event\": {\"action\": \"executed\"},\n  \"process\": {\"executable\": \"/small\"}\n}\n"
	for _, tc := range []struct {
		name string
		data string
		exes []string
	}{
		{"under the limit", big + small, []string{"/big", "/small"}},
		{"over the limit", strings.Replace(big, "    \"last\"\n", strings.Repeat("    \"pad-pad-pad-pad-pad-pad-pad-pad-pad-pad\",\n", 30000)+"    \"last\"\n", 1) + small, []string{"/small"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rep FileReport
			var exes []string
			err := decodeNDJSON(context.Background(), io.LimitReader(&ndSlowReader{data: []byte(tc.data)}, int64(len(tc.data))), "p.json", Options{},
				func(e *Event) error { exes = append(exes, e.Executable); return nil }, &rep)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(exes, tc.exes) || rep.Lines != int64(strings.Count(tc.data, "\n")) || rep.Seen+rep.Rejected != 2 {
				t.Errorf("executables %q, report lines %d seen %d rejected %d %+v", exes, rep.Lines, rep.Seen, rep.Rejected, rep.Samples)
			}
		})
	}
}

// ndSlowReader hands out its data a few kilobytes at a time.
type ndSlowReader struct {
	data []byte
}

func (r *ndSlowReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 3001)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestNDJSONGzip(t *testing.T) {
	var plain bytes.Buffer
	for i := 0; i < 2000; i++ {
		plain.WriteString(`{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"host":{"name":"gz"},"process":{"executable":"/bin/gz","args":["x","`)
		plain.WriteString(strings.Repeat("y", i%50))
		plain.WriteString("\"]}}\n")
	}
	var packed bytes.Buffer
	zw := gzip.NewWriter(&packed)
	zw.Write(plain.Bytes())
	zw.Close()
	dir := t.TempDir()
	whole := filepath.Join(dir, "auditbeat.ndjson.gz")
	if err := os.WriteFile(whole, packed.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.ndjson.gz")
	if err := os.WriteFile(cut, packed.Bytes()[:packed.Len()/2], 0o644); err != nil {
		t.Fatal(err)
	}

	inputs, err := Discover([]string{whole, cut}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) != 2 || !inputs[0].Files[0].Gzip || inputs[0].Format != FormatNDJSON {
		t.Fatalf("inputs %+v", inputs)
	}

	rep, err := Read(context.Background(), inputs[0], Options{}, func(*Event) error { return nil })
	if err != nil || rep.Events() != 2000 || rep.Rejected() != 0 || rep.Files[0].Lines != 2000 {
		t.Fatalf("whole gzip: %v %+v", err, rep)
	}

	var last int64
	rep, err = Read(context.Background(), inputs[1], Options{}, func(e *Event) error { last = e.Origin.Line; return nil })
	if err != nil {
		t.Fatalf("truncated gzip: %v", err)
	}
	fr := rep.Files[0]
	if fr.Events == 0 || fr.Events >= 2000 || fr.Rejected != 1 || fr.Lines != fr.Events+1 || last != fr.Events {
		t.Fatalf("truncated gzip report %+v (last event line %d)", fr, last)
	}
	if s := fr.Samples[0]; s.Line != fr.Lines || !strings.Contains(s.Reason, "gzip stream is truncated") {
		t.Errorf("truncation sample %+v, want line %d", s, fr.Lines)
	}

	// Cut exactly at a line boundary: the report names the line after the last one read.
	content := plain.Bytes()[:bytes.IndexByte(plain.Bytes(), '\n')+1]
	var one bytes.Buffer
	zw = gzip.NewWriter(&one)
	zw.Write(content)
	zw.Flush() // the data is complete, the trailer missing
	zr, err := gzip.NewReader(bytes.NewReader(one.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var brep FileReport
	n := 0
	if err := decodeNDJSON(context.Background(), zr, "b.gz", Options{}, func(*Event) error { n++; return nil }, &brep); err != nil {
		t.Fatal(err)
	}
	if n != 1 || brep.Lines != 2 || brep.Rejected != 1 || brep.Samples[0].Line != 2 || !strings.Contains(brep.Samples[0].Reason, "nothing after line 1") {
		t.Errorf("boundary cut: events %d report %+v", n, brep)
	}
}

// ndFailingReader fails after handing out its data.
type ndFailingReader struct {
	data []byte
	err  error
}

func (r *ndFailingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestNDJSONReadErrorIsReturned(t *testing.T) {
	good := `{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"executable":"/bin/ok"}}` + "\n"
	disk := errors.New("input/output error")
	var rep FileReport
	n := 0
	err := decodeNDJSON(context.Background(), &ndFailingReader{data: []byte(good), err: disk}, "f", Options{}, func(*Event) error { n++; return nil }, &rep)
	if !errors.Is(err, disk) || n != 1 || rep.Lines != 1 {
		t.Errorf("err %v, events %d, report %+v", err, n, rep)
	}
}

func TestNDJSONCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var rep FileReport
	n := 0
	err := decodeNDJSON(ctx, newNDJSONSynth(1<<30, 1), "endless", Options{}, func(*Event) error {
		n++
		if n == 10 {
			cancel()
		}
		return nil
	}, &rep)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if n > 10+ndjsonCheckEvery {
		t.Errorf("%d events after cancel: not prompt", n-10)
	}

	// Cancelled while skipping a line that never ends.
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = decodeNDJSON(ctx, ndRepeatReader('x'), "endless-line", Options{}, func(*Event) error { return nil }, &rep)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("endless line: err %v after %v", err, time.Since(start))
	}
}

func TestNDJSONCallbackErrorStops(t *testing.T) {
	stop := errors.New("enough")
	var rep FileReport
	n := 0
	err := decodeNDJSON(context.Background(), bytes.NewReader(ndFixture(t, "hits.ndjson")), "hits", Options{}, func(*Event) error {
		n++
		return stop
	}, &rep)
	if !errors.Is(err, stop) || n != 1 || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("err %v after %d events", err, n)
	}
}

// Events handed out earlier keep their values after the reader moves on,
// even when the caller kept a shallow copy.
func TestNDJSONKeptEventsStayIntact(t *testing.T) {
	var data bytes.Buffer
	for i := 0; i < 3*argSlotsChunk/2; i++ {
		data.WriteString(`{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"executable":"/bin/e","args":["`)
		data.WriteString(strings.Repeat("a", i%7))
		data.WriteString(`","z"],"title":"t`)
		data.WriteString(strings.Repeat("b", i%5))
		data.WriteString("\"}}\n")
	}
	events, rep := ndDecode(t, data.Bytes(), Options{})
	if len(events) != 3*argSlotsChunk/2 || rep.Events != int64(len(events)) {
		t.Fatalf("events %d report %+v", len(events), rep)
	}
	for i, e := range events {
		if e.Args[0] != strings.Repeat("a", i%7) || e.Args[1] != "z" || e.Title != "t"+strings.Repeat("b", i%5) || e.Origin.Line != int64(i+1) {
			t.Fatalf("event %d changed: %+v", i, e)
		}
	}
}

func TestParseRFC3339(t *testing.T) {
	cases := []struct {
		in   string
		want string // RFC 3339 in UTC, "" when invalid
	}{
		{"2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z"},
		{"2024-02-29T23:59:59.5+02:30", "2024-02-29T21:29:59.5Z"},
		{"2024-01-01t00:00:00.123456789123z", "2024-01-01T00:00:00.123456789Z"},
		{"2024-01-01 00:00:00-01:00", "2024-01-01T01:00:00Z"},
		{"2023-02-29T00:00:00Z", ""},
		{"2024-13-01T00:00:00Z", ""},
		{"2024-01-01T24:00:00Z", ""},
		{"2024-01-01T00:00:00", ""},
		{"2024-01-01T00:00:00.Z", ""},
		{"2024-01-01T00:00:00+0100", ""},
		{"2024-01-01T00:00:00Zjunk", ""},
		{"yesterday", ""},
		{"", ""},
	}
	for _, tc := range cases {
		got, ok := parseRFC3339([]byte(tc.in))
		if tc.want == "" {
			if ok {
				t.Errorf("%q parsed as %v", tc.in, got)
			}
			continue
		}
		if !ok || got.Format(time.RFC3339Nano) != tc.want {
			t.Errorf("%q: got %v %v, want %s", tc.in, got.Format(time.RFC3339Nano), ok, tc.want)
		}
	}
}

func TestNDJSONReadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auditbeat.ndjson")
	if err := os.WriteFile(path, ndFixture(t, "ecs7.ndjson"), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs, err := Discover([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []Event
	rep, err := Read(context.Background(), inputs[0], Options{Selection: AllSyscalls}, func(e *Event) error { got = append(got, *e); return nil })
	if err != nil || len(rep.Files) != 1 || rep.Files[0].Path != path || rep.Events() != 2 || len(got) != 2 {
		t.Fatalf("err %v report %+v", err, rep)
	}
	if got[1].Origin.File != path || got[1].Origin.Line != 2 || got[1].Result != "fail" {
		t.Errorf("origin %+v result %q", got[1].Origin, got[1].Result)
	}
	// A document without a host field takes the host the user named.
	events, _ := ndDecode(t, []byte(`{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"executable":"/x"}}`+"\n"+
		`{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"host":{"name":"own"},"process":{"executable":"/x"}}`), Options{Host: "given"})
	if len(events) != 2 || events[0].Host != "given" || events[1].Host != "own" {
		t.Errorf("hosts %+v", events)
	}
	if _, err := Read(context.Background(), Input{Format: FormatNDJSON}, Options{}, nil); err == nil {
		t.Error("an input without files read without error")
	}
	missing := Input{Format: FormatNDJSON, Files: []FileInfo{{Path: filepath.Join(dir, "gone.ndjson")}}}
	if _, err := Read(context.Background(), missing, Options{}, nil); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

// ndRef is a corpus document read independently with encoding/json: the
// check on what the scanner makes of it.
type ndRef struct {
	doc       map[string]any
	index, id string
	line      int64
}

// ndRefLookup finds a field by its dotted path, nested or written with dots.
func ndRefLookup(m map[string]any, path string) (any, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		if sub, ok := m[path[:i]].(map[string]any); ok {
			if v, ok := ndRefLookup(sub, path[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// ndRefText is the first of paths holding a non-empty string (a number as its
// text, a list as its first non-empty string).
func ndRefText(m map[string]any, paths ...string) string {
	for _, p := range paths {
		v, _ := ndRefLookup(m, p)
		switch v := v.(type) {
		case string:
			if v != "" {
				return v
			}
		case json.Number:
			return v.String()
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok && s != "" {
					return s
				}
			}
		}
	}
	return ""
}

func ndRefInt(m map[string]any, paths ...string) int64 {
	for _, p := range paths {
		v, _ := ndRefLookup(m, p)
		var text string
		switch v := v.(type) {
		case string:
			text = v
		case json.Number:
			text = v.String()
		}
		if text != "" {
			n, _ := strconv.ParseInt(text, 10, 64)
			return n
		}
	}
	return 0
}

func ndRefHas(m map[string]any, path, word string) bool {
	v, _ := ndRefLookup(m, path)
	switch v := v.(type) {
	case string:
		return v == word
	case []any:
		for _, e := range v {
			if e == word {
				return true
			}
		}
	}
	return false
}

func ndRefOutcome(m map[string]any) string {
	for _, p := range []string{"event.outcome", "auditd.result"} {
		if s, ok := func() (string, bool) { v, _ := ndRefLookup(m, p); s, ok := v.(string); return s, ok }(); ok {
			switch s {
			case "success":
				return "success"
			case "fail", "failure", "failed":
				return "fail"
			}
		}
	}
	return ""
}

func ndRefTime(m map[string]any) (time.Time, bool) {
	switch v := m["@timestamp"].(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t.UTC(), err == nil
	case json.Number:
		ms, err := v.Int64()
		return time.UnixMilli(ms).UTC(), err == nil
	}
	return time.Time{}, false
}

// event maps a reference document the way inputs.md describes, field by field.
func (r ndRef) event(file string) Event {
	m := r.doc
	t, _ := ndRefTime(m)
	e := Event{
		Time:       t,
		Host:       ndRefText(m, "host.name", "agent.hostname", "beat.name", "beat.hostname"),
		Container:  Container{ID: ndRefText(m, "container.id", "docker.container.id"), Name: ndRefText(m, "container.name", "docker.container.name"), Runtime: ndRefText(m, "container.runtime")},
		Executable: ndRefText(m, "process.executable", "process.exe"),
		Name:       ndRefText(m, "process.name"),
		Title:      ndRefText(m, "process.title"),
		User: User{
			Name:      ndRefText(m, "user.name", "user.name_map.uid"),
			ID:        ndRefText(m, "user.id", "user.uid"),
			AuditName: ndRefText(m, "user.audit.name", "user.name_map.auid"),
			AuditID:   ndRefText(m, "user.audit.id", "user.auid"),
		},
		PID:        ndRefInt(m, "process.pid"),
		PPID:       ndRefInt(m, "process.parent.pid", "process.ppid"),
		WorkingDir: ndRefText(m, "process.working_directory", "process.cwd"),
		Result:     ndRefOutcome(m),
		Syscall:    ndRefText(m, "auditd.data.syscall"),
		Action:     ndRefText(m, "event.action"),
		Origin:     Origin{File: file, Line: r.line, Index: r.index, ID: r.id},
	}
	if args, ok := ndRefLookup(m, "process.args"); ok {
		switch a := args.(type) {
		case string:
			e.Args = []string{a}
		case []any:
			e.Args = []string{}
			for _, v := range a {
				switch v := v.(type) {
				case string:
					e.Args = append(e.Args, v)
				case json.Number:
					e.Args = append(e.Args, v.String())
				}
			}
		}
	}
	return e
}

// selects is the selection rule, restated over the generic decode.
func (r ndRef) selects(sel Selection) bool {
	m := r.doc
	sys := ndRefText(m, "auditd.data.syscall")
	if sel == AllSyscalls {
		return sys != ""
	}
	if ndRefText(m, "event.action") == "executed" || sys == "execve" || sys == "execveat" {
		return true
	}
	mt := ndRefText(m, "auditd.message_type")
	return ndRefHas(m, "event.category", "process") && ndRefHas(m, "event.type", "start") &&
		ndRefText(m, "event.module") != "system" && (mt == "" || mt == "syscall")
}

func ndDecodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// ndCorpus reads a corpus file into the bytes the decoder gets and the
// reference documents. kind is "lines" (one document per line), "stream" (a
// run of pretty-printed documents or es_archiver records) or "array" (a JSON
// array, turned into one compact line per document).
func ndCorpus(t *testing.T, path, kind string) ([]byte, []ndRef) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var refs []ndRef
	switch kind {
	case "lines":
		for i, line := range bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n")) {
			refs = append(refs, ndRef{doc: ndDecodeJSON(t, line), line: int64(i + 1)})
		}
		return raw, refs
	case "array":
		var docs []json.RawMessage
		if err := json.Unmarshal(raw, &docs); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		for i, d := range docs {
			if err := json.Compact(&out, d); err != nil {
				t.Fatal(err)
			}
			out.WriteByte('\n')
			refs = append(refs, ndRef{doc: ndDecodeJSON(t, d), line: int64(i + 1)})
		}
		return out.Bytes(), refs
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	for {
		at := int(dec.InputOffset())
		for at < len(raw) && (raw[at] == ' ' || raw[at] == '\n' || raw[at] == '\r' || raw[at] == '\t') {
			at++
		}
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		ref := ndRef{doc: m, line: int64(bytes.Count(raw[:at], []byte("\n")) + 1)}
		if v, ok := m["value"].(map[string]any); ok {
			ref.doc, _ = v["source"].(map[string]any)
			ref.index, _ = v["index"].(string)
			ref.id, _ = v["id"].(string)
		}
		refs = append(refs, ref)
	}
	return raw, refs
}

// ndCheckCorpus decodes data every way and checks each result against the
// reference documents.
func ndCheckCorpus(t *testing.T, name string, data []byte, refs []ndRef) {
	t.Helper()
	events, rep := ndDecodeEverything(t, data)
	if len(events) != len(refs) || rep.Rejected != 0 || rep.Seen != int64(len(refs)) {
		t.Fatalf("%s: %d events from %d documents, report %+v", name, len(events), len(refs), rep)
	}
	for i, e := range events {
		want := refs[i].event("test.ndjson")
		ndSameEvent(t, fmt.Sprintf("%s document %d", name, i+1), e, want)
	}
	for _, sel := range []Selection{Executions, AllSyscalls} {
		var want []Event
		var rejected int64
		for _, r := range refs {
			if !r.selects(sel) {
				continue
			}
			e := r.event("test.ndjson")
			if _, ok := ndRefTime(r.doc); !ok || e.Executable == "" {
				rejected++
				continue
			}
			want = append(want, e)
		}
		got, rep := ndDecode(t, data, Options{Selection: sel})
		if len(got) != len(want) || rep.Rejected != rejected || rep.Seen != int64(len(refs))-rejected {
			t.Errorf("%s selection %d: %d events and %d rejected, want %d and %d (%+v)", name, sel, len(got), rep.Rejected, len(want), rejected, rep.Samples)
			continue
		}
		for i := range got {
			ndSameEvent(t, fmt.Sprintf("%s selection %d event %d", name, sel, i+1), got[i], want[i])
		}
	}
}

func ndSameEvent(t *testing.T, what string, got, want Event) {
	t.Helper()
	if !got.Time.Equal(want.Time) {
		t.Errorf("%s: time %v, want %v", what, got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if len(got.Args) == 0 && len(want.Args) == 0 {
		got.Args, want.Args = nil, nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func TestNDJSONKibanaArchives(t *testing.T) {
	dir := corpora.Path(t, "kibana-es-archives")
	statsRaw, err := os.ReadFile(filepath.Join(dir, "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	var stats map[string]struct {
		Docs       int            `json:"docs"`
		IDs        []*string      `json:"ids"`
		Indices    []string       `json:"indices"`
		TimeMin    string         `json:"time_min"`
		TimeMax    string         `json:"time_max"`
		Hosts      map[string]int `json:"host.name"`
		Executable map[string]int `json:"process.executable"`
		Exe        map[string]int `json:"process.exe"`
		Actions    map[string]int `json:"event.action"`
	}
	if err := json.Unmarshal(statsRaw, &stats); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, archive := range []string{"uncommon_processes", "host_uncommon_processes", "kpi_hosts", "users", "default.sample"} {
		st, ok := stats[archive]
		if !ok {
			t.Fatalf("stats.json has no %s", archive)
		}
		files := []struct{ path, kind string }{{filepath.Join(dir, archive+".ndjson"), "lines"}}
		if archive != "default.sample" {
			files = append(files, struct{ path, kind string }{filepath.Join(dir, "raw", archive+".data.json"), "stream"})
		}
		for _, f := range files {
			data, refs := ndCorpus(t, f.path, f.kind)
			name := archive + " (" + f.kind + ")"
			ndCheckCorpus(t, name, data, refs)
			checked += len(refs)

			// What the archive's own statistics say, independent of both decoders.
			events, _ := ndDecodeEverything(t, data)
			if len(events) != st.Docs {
				t.Errorf("%s: %d documents, stats say %d", name, len(events), st.Docs)
			}
			hosts := map[string]int{}
			exes := map[string]int{}
			actions := map[string]int{}
			var ids []string
			var first, last time.Time
			for i, e := range events {
				hosts[e.Host]++
				if e.Executable != "" {
					exes[e.Executable]++
				}
				actions[e.Action]++
				ids = append(ids, e.Origin.ID)
				if i == 0 || e.Time.Before(first) {
					first = e.Time
				}
				if i == 0 || e.Time.After(last) {
					last = e.Time
				}
				if f.kind == "stream" && e.Origin.Index != st.Indices[0] {
					t.Errorf("%s: index %q, want %q", name, e.Origin.Index, st.Indices[0])
				}
			}
			wantExes := map[string]int{}
			for _, m := range []map[string]int{st.Executable, st.Exe} {
				for k, v := range m {
					if k != "" && k != "None" {
						wantExes[k] += v
					}
				}
			}
			if !reflect.DeepEqual(hosts, st.Hosts) || !reflect.DeepEqual(exes, wantExes) || !reflect.DeepEqual(actions, st.Actions) {
				t.Errorf("%s: hosts %v executables %v actions %v; stats say %v %v %v", name, hosts, exes, actions, st.Hosts, wantExes, st.Actions)
			}
			if first.Format("2006-01-02T15:04:05.000Z") != st.TimeMin || last.Format("2006-01-02T15:04:05.000Z") != st.TimeMax {
				t.Errorf("%s: time range %v - %v, stats say %s - %s", name, first, last, st.TimeMin, st.TimeMax)
			}
			if f.kind == "stream" {
				var want []string
				for _, id := range st.IDs {
					want = append(want, *id)
				}
				sort.Strings(ids)
				sort.Strings(want)
				if !reflect.DeepEqual(ids, want) {
					t.Errorf("%s: ids %v, stats say %v", name, ids, want)
				}
			}

			// Every document here is a /proc snapshot of the system module or a
			// login: none is an execution.
			for _, sel := range []Selection{Executions, AllSyscalls} {
				if got, rep := ndDecode(t, data, Options{Selection: sel}); len(got) != 0 || rep.Rejected != 0 {
					t.Errorf("%s selection %d: %d events, report %+v", name, sel, len(got), rep)
				}
			}
		}
	}
	if checked < 60 {
		t.Errorf("checked only %d documents", checked)
	}
}

func TestNDJSONBeatsExpectedDocuments(t *testing.T) {
	auditd := corpora.Path(t, "beats-7.17.29", "auditbeat", "module", "auditd")
	filebeat := corpora.Path(t, "beats-7.17.29", "filebeat", "module", "auditd", "log", "test")
	var all []string
	for _, pattern := range []string{filepath.Join(auditd, "testdata", "*-expected.json"), filepath.Join(filebeat, "*-expected.json")} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, m...)
	}
	if len(all) < 15 {
		t.Fatalf("found only %d expected-document files", len(all))
	}
	checked := 0
	for _, path := range all {
		data, refs := ndCorpus(t, path, "array")
		ndCheckCorpus(t, filepath.Base(path), data, refs)
		checked += len(refs)
	}
	if checked < 200 {
		t.Errorf("checked only %d documents", checked)
	}

	// Auditbeat's expected documents carry no @timestamp: the syscall events
	// among them are rejected for it, and read once a time is added.
	var lines, stamped bytes.Buffer
	matches, _ := filepath.Glob(filepath.Join(auditd, "testdata", "*-expected.json"))
	for _, path := range matches {
		data, _ := ndCorpus(t, path, "array")
		lines.Write(data)
		for _, line := range bytes.SplitAfter(data, []byte("\n")) {
			if len(line) > 1 {
				stamped.WriteString(`{"@timestamp":"2021-01-18T17:59:56.780Z",`)
				stamped.Write(line[1:])
			}
		}
	}
	_, rep := ndDecode(t, lines.Bytes(), Options{Selection: AllSyscalls})
	if rep.Events != 0 || rep.Rejected != 4 || !strings.Contains(rep.Samples[0].Reason, "has no @timestamp") {
		t.Errorf("without time: report %+v", rep)
	}
	events, rep := ndDecode(t, stamped.Bytes(), Options{Selection: AllSyscalls})
	var got []string
	for _, e := range events {
		got = append(got, e.Syscall+" "+e.Executable)
	}
	want := []string{"fchownat /usr/bin/chown", "setgid /tmp/setuids", "setresuid /tmp/setuids", "setuid /tmp/setuids"}
	if !reflect.DeepEqual(got, want) || rep.Rejected != 0 {
		t.Errorf("syscall events %q, want %q (report %+v)", got, want, rep)
	}
	// sudo's "ran-command" documents say process/start but are not the execve.
	if events, rep := ndDecode(t, stamped.Bytes(), Options{}); len(events) != 0 || rep.Rejected != 0 {
		t.Errorf("executions %d, report %+v", len(events), rep)
	}
}

func TestNDJSONBeatsSampleDocuments(t *testing.T) {
	meta := corpora.Path(t, "beats-7.17.29", "auditbeat", "module", "auditd", "_meta")
	for _, name := range []string{"data.json", "execve.json", "accept.json"} {
		data, refs := ndCorpus(t, filepath.Join(meta, name), "stream")
		ndCheckCorpus(t, name, data, refs)
	}

	// execve.json, read through Discover and Read as a user's file would be.
	inputs, err := Discover([]string{filepath.Join(meta, "execve.json")}, Options{})
	if err != nil || len(inputs) != 1 || inputs[0].Format != FormatNDJSON {
		t.Fatalf("discover: %v %+v", err, inputs)
	}
	rep, err := Read(context.Background(), inputs[0], Options{}, func(*Event) error { return nil })
	if err != nil || rep.Events() != 0 || rep.Rejected() != 1 || !strings.Contains(rep.Files[0].Samples[0].Reason, "execution has no @timestamp") {
		t.Errorf("execve.json without a time: %v %+v", err, rep)
	}
	events, _ := ndDecodeEverything(t, ndReadFile(t, filepath.Join(meta, "execve.json")))
	want := Event{Executable: "/bin/uname", Name: "uname", Args: []string{"uname", "-a"}, Title: "uname -a",
		User: User{ID: "1001", AuditID: "1001"}, PID: 10043, PPID: 10027, WorkingDir: "/home/andrew_kroh",
		Result: "success", Syscall: "execve", Action: "executed", Origin: Origin{File: "test.ndjson", Line: 1}}
	if len(events) != 1 || !reflect.DeepEqual(events[0], want) {
		t.Errorf("execve.json:\n got %+v\nwant %+v", events, want)
	}
}

func ndReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every row of the field table fills its target, nested or written with dots.
func TestNDJSONEveryTableRow(t *testing.T) {
	get := map[fieldTarget]func(e Event) any{
		targetTime:             func(e Event) any { return e.Time.Format(time.RFC3339) },
		targetHost:             func(e Event) any { return e.Host },
		targetContainerID:      func(e Event) any { return e.Container.ID },
		targetContainerName:    func(e Event) any { return e.Container.Name },
		targetContainerRuntime: func(e Event) any { return e.Container.Runtime },
		targetExecutable:       func(e Event) any { return e.Executable },
		targetName:             func(e Event) any { return e.Name },
		targetArgs:             func(e Event) any { return strings.Join(e.Args, " ") },
		targetTitle:            func(e Event) any { return e.Title },
		targetUserName:         func(e Event) any { return e.User.Name },
		targetUserID:           func(e Event) any { return e.User.ID },
		targetAuditName:        func(e Event) any { return e.User.AuditName },
		targetAuditID:          func(e Event) any { return e.User.AuditID },
		targetPID:              func(e Event) any { return e.PID },
		targetPPID:             func(e Event) any { return e.PPID },
		targetWorkingDir:       func(e Event) any { return e.WorkingDir },
		targetResult:           func(e Event) any { return e.Result },
		targetSyscall:          func(e Event) any { return e.Syscall },
		targetAction:           func(e Event) any { return e.Action },
	}
	nest := func(path, value string) string {
		segs := strings.Split(path, ".")
		doc := value
		for i := len(segs) - 1; i >= 0; i-- {
			doc = `{"` + segs[i] + `":` + doc + `}`
		}
		return doc
	}
	rows := 0
	for _, m := range fieldTable {
		read, ok := get[m.Target]
		if !ok {
			continue // selection-only targets: see TestNDJSONSelection
		}
		value, want := `"v-`+m.Path+`"`, any("v-"+m.Path)
		switch fieldKinds[m.Target] {
		case valueTime:
			value, want = `"2024-01-02T03:04:05Z"`, "2024-01-02T03:04:05Z"
		case valueInteger:
			value, want = `"4242"`, int64(4242)
		case valueList:
			value, want = `["a","b c"]`, "a b c"
		case valueOutcome:
			value, want = `"failure"`, "fail"
		}
		for _, doc := range []string{nest(m.Path, value), `{"` + m.Path + `":` + value + `}`} {
			events, rep := ndDecodeEverything(t, []byte(doc))
			if len(events) != 1 || rep.Rejected != 0 {
				t.Fatalf("%s: %+v", doc, rep)
			}
			if got := read(events[0]); got != want {
				t.Errorf("%s: got %v, want %v", doc, got, want)
			}
		}
		rows++
	}
	if rows < 30 {
		t.Errorf("only %d rows checked", rows)
	}
}
