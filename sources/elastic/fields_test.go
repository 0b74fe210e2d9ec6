package elastic

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/sources"
)

// The field names come from the file readers' table, ECS names first.
func TestDocumentFieldsAccessor(t *testing.T) {
	cases := []struct {
		m    sources.Meaning
		want []string
	}{
		{sources.MeaningTime, []string{"@timestamp"}},
		{sources.MeaningHost, []string{"host.name", "agent.hostname", "beat.name", "beat.hostname"}},
		{sources.MeaningContainerName, []string{"container.name", "docker.container.name"}},
		{sources.MeaningContainerID, []string{"container.id", "docker.container.id"}},
		{sources.MeaningExecutable, []string{"process.executable", "process.exe"}},
		{sources.MeaningSyscall, []string{"auditd.data.syscall"}},
		{sources.Meaning(200), nil},
	}
	for _, c := range cases {
		if got := sources.DocumentFields(c.m); !slices.Equal(got, c.want) {
			t.Errorf("meaning %d: %v, want %v", c.m, got, c.want)
		}
	}
	all := sources.AllDocumentFields()
	for _, f := range []string{"process.args", "process.parent.pid", "user.name_map.uid", "event.outcome"} {
		if !slices.Contains(all, f) {
			t.Errorf("AllDocumentFields lacks %s", f)
		}
	}
}

func caps(indices []string, fields map[string]string) fieldCaps {
	fc := fieldCaps{Indices: indices, Fields: map[string]map[string]fieldCap{}}
	for name, typ := range fields {
		for _, t := range strings.Split(typ, "+") {
			if fc.Fields[name] == nil {
				fc.Fields[name] = map[string]fieldCap{}
			}
			fc.Fields[name][t] = fieldCap{Type: t, Aggregatable: t != "text"}
		}
	}
	return fc
}

func names(fs []field) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.name)
	}
	return out
}

func TestPlanFields(t *testing.T) {
	ecs := map[string]string{"@timestamp": "date", "host.name": "keyword", "agent.hostname": "keyword", "container.name": "keyword",
		"container.id": "keyword", "container.runtime": "keyword", "process.executable": "keyword", "event.action": "keyword",
		"event.category": "keyword", "event.type": "keyword", "event.module": "keyword", "auditd.message_type": "keyword", "auditd.data.syscall": "keyword"}
	v6 := map[string]string{"@timestamp": "date", "beat.name": "keyword", "beat.hostname": "keyword", "docker.container.name": "keyword",
		"docker.container.id": "keyword", "process.exe": "keyword", "event.action": "keyword", "auditd.data.syscall": "keyword"}
	mixed := map[string]string{}
	for k, v := range ecs {
		mixed[k] = v
	}
	for k, v := range v6 {
		mixed[k] = v
	}
	dynamic := map[string]string{"@timestamp": "date", "host.name": "text", "host.name.keyword": "keyword",
		"process.executable": "text", "process.executable.keyword": "keyword", "event.action": "text", "event.action.keyword": "keyword"}
	textOnly := map[string]string{"@timestamp": "date", "host.name": "text", "process.executable": "keyword"}
	conflict := map[string]string{"@timestamp": "date+date_nanos", "host.name": "keyword+text", "host.name.keyword": "keyword", "process.exe": "keyword"}

	cases := []struct {
		name       string
		fields     map[string]string
		problem    string
		mapping    Mapping
		host, cont []string
		exe        []string
		category   string
		warnings   int
	}{
		{"ecs", ecs, "", MappingECS, []string{"host.name", "agent.hostname"}, []string{"container.name", "container.id", "container.runtime"}, []string{"process.executable"}, "event.category", 0},
		{"6x", v6, "", Mapping6x, []string{"beat.name", "beat.hostname"}, []string{"docker.container.name", "docker.container.id"}, []string{"process.exe"}, "", 0},
		{"mixed", mixed, "", MappingMixed, []string{"host.name", "agent.hostname", "beat.name", "beat.hostname"},
			[]string{"container.name", "docker.container.name", "container.id", "docker.container.id", "container.runtime"}, []string{"process.executable", "process.exe"}, "event.category", 0},
		{"dynamic mapping", dynamic, "", MappingECS, []string{"host.name.keyword"}, nil, []string{"process.executable.keyword"}, "", 0},
		{"text without keyword", textOnly, "", MappingECS, nil, nil, []string{"process.executable"}, "", 1},
		{"type conflict across indices", conflict, "", Mapping6x, []string{"host.name.keyword"}, nil, []string{"process.exe"}, "", 0},
		{"no timestamp", map[string]string{"process.executable": "keyword"}, "no @timestamp field", "", nil, nil, nil, "", 0},
		{"timestamp not a date", map[string]string{"@timestamp": "keyword", "process.executable": "keyword"}, "mapped as keyword, not as a date", "", nil, nil, nil, "", 0},
		{"no executable", map[string]string{"@timestamp": "date", "host.name": "keyword"}, "do not look like Auditbeat data", "", nil, nil, nil, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, problem := planFields(caps([]string{"i"}, c.fields))
			if problem != "" || c.problem != "" {
				if !strings.Contains(problem, c.problem) || c.problem == "" {
					t.Fatalf("problem %q, want %q", problem, c.problem)
				}
				return
			}
			if p.mapping != c.mapping || !slices.Equal(names(p.host), c.host) || !slices.Equal(names(p.container), c.cont) ||
				!slices.Equal(names(p.exe), c.exe) || p.category != c.category || len(p.warnings) != c.warnings {
				t.Errorf("plan %+v", p)
			}
		})
	}
}

// The selection query mirrors the file readers' selection rules.
func TestSelectionQueries(t *testing.T) {
	ecs, _ := planFields(caps([]string{"i"}, map[string]string{"@timestamp": "date", "host.name": "keyword", "process.executable": "keyword",
		"event.action": "keyword", "event.category": "keyword", "event.type": "keyword", "event.module": "keyword",
		"auditd.message_type": "keyword", "auditd.data.syscall": "keyword"}))
	v6, _ := planFields(caps([]string{"i"}, map[string]string{"@timestamp": "date", "beat.name": "keyword", "process.exe": "keyword",
		"event.action": "keyword", "auditd.data.syscall": "keyword"}))
	js := func(q obj) string {
		b, err := json.Marshal(q)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct {
		name string
		q    obj
		want string
	}{
		{"6x executions", v6.selection(sources.Executions),
			`{"bool":{"minimum_should_match":1,"should":[{"term":{"event.action":"executed"}},{"terms":{"auditd.data.syscall":["execve","execveat"]}}]}}`},
		{"ecs executions", ecs.selection(sources.Executions),
			`{"bool":{"minimum_should_match":1,"should":[{"bool":{"minimum_should_match":1,"should":[{"term":{"event.action":"executed"}},{"terms":{"auditd.data.syscall":["execve","execveat"]}}]}},` +
				`{"bool":{"filter":[{"term":{"event.category":"process"}},{"term":{"event.type":"start"}}],"must_not":[{"term":{"event.module":"system"}},` +
				`{"bool":{"filter":[{"bool":{"filter":[{"exists":{"field":"auditd.message_type"}}],"must_not":[{"term":{"auditd.message_type":""}}]}},{"bool":{"must_not":[{"term":{"auditd.message_type":"syscall"}}]}}]}}]}}]}}`},
		{"all syscalls", ecs.selection(sources.AllSyscalls),
			`{"bool":{"filter":[{"exists":{"field":"auditd.data.syscall"}}],"must_not":[{"term":{"auditd.data.syscall":""}}]}}`},
		{"time range", ecs.timeRange(1000, 61000), `{"range":{"@timestamp":{"format":"epoch_millis","gte":1000,"lt":61000}}}`},
	}
	for _, c := range cases {
		if got := js(c.q); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	if !v6.onlyExecutions(sources.Executions) || ecs.onlyExecutions(sources.Executions) || v6.onlyExecutions(sources.AllSyscalls) {
		t.Error("onlyExecutions")
	}
}

func TestSplitDays(t *testing.T) {
	day := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	at := func(h float64) time.Time { return day.Add(time.Duration(h * float64(time.Hour))) }
	sp := func(a, b float64) cache.Span { return cache.Span{From: at(a), To: at(b)} }
	cases := []struct {
		in   cache.Span
		want []cache.Span
	}{
		{sp(1, 5), []cache.Span{sp(1, 5)}},
		{sp(0, 24), []cache.Span{sp(0, 24)}},
		{sp(20, 50), []cache.Span{sp(20, 24), sp(24, 48), sp(48, 50)}},
		{sp(23.5, 24.5), []cache.Span{sp(23.5, 24), sp(24, 24.5)}},
	}
	for _, c := range cases {
		if got := splitDays(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: %v, want %v", c.in, got, c.want)
		}
	}
	if got := floorMinute(at(1).Add(59 * time.Second)); !got.Equal(at(1)) {
		t.Errorf("floor %v", got)
	}
	if got := ceilMinute(at(1).Add(time.Nanosecond)); !got.Equal(at(1).Add(time.Minute)) {
		t.Errorf("ceil %v", got)
	}
	if got := ceilMinute(at(1)); !got.Equal(at(1)) {
		t.Errorf("ceil of a minute %v", got)
	}
}

func TestBucketTakesFirstFieldOfEachChain(t *testing.T) {
	l := &countLoad{
		host:      []field{{doc: "host.name"}, {doc: "beat.name"}},
		container: []field{{doc: "container.name", part: partName}, {doc: "container.id", part: partID}, {doc: "container.runtime", part: partRuntime}},
		exe:       []field{{doc: "process.executable"}, {doc: "process.exe"}},
	}
	host := pass{execution: true, scope: sources.ScopeHost}
	box := pass{execution: false, scope: sources.ScopeContainer}
	cases := []struct {
		name string
		key  string
		ps   pass
		want cache.MinuteCount
		ok   bool
		err  bool
	}{
		{"host", `{"t":60000,"h":"web-1","h1":null,"x":"/bin/ls","x1":null}`, host,
			cache.MinuteCount{Scope: "host", Entity: "web-1", Minute: 60, Executable: "/bin/ls", Execution: true, Count: 3}, true, false},
		{"fallback host and exe", `{"t":120000,"h":null,"h1":"old-1","x":"","x1":"/bin/cat"}`, host,
			cache.MinuteCount{Scope: "host", Entity: "old-1", Minute: 120, Executable: "/bin/cat", Execution: true, Count: 3}, true, false},
		{"container by name", `{"t":60000,"h":"web-1","c":"api","c1":"c0ffee","c2":"docker","x":"/bin/sh"}`, box,
			cache.MinuteCount{Scope: "container", Entity: "api", Host: "web-1", Minute: 60, Executable: "/bin/sh", Count: 3}, true, false},
		{"container by id", `{"t":60000,"h":"web-1","c":null,"c1":"c0ffee","c2":"docker","x":"/bin/sh"}`, box,
			cache.MinuteCount{Scope: "container", Entity: "c0ffee", Host: "web-1", Minute: 60, Executable: "/bin/sh", Count: 3}, true, false},
		{"container by runtime only", `{"t":60000,"h":"web-1","c":null,"c1":null,"c2":"docker","x":"/bin/sh"}`, box,
			cache.MinuteCount{Scope: "container", Entity: "", Host: "web-1", Minute: 60, Executable: "/bin/sh", Count: 3}, true, false},
		{"numeric keyword", `{"t":60000,"h":42,"x":"/bin/sh"}`, host,
			cache.MinuteCount{Scope: "host", Entity: "42", Minute: 60, Executable: "/bin/sh", Execution: true, Count: 3}, true, false},
		{"no executable", `{"t":60000,"h":"web-1","x":null,"x1":null}`, host, cache.MinuteCount{}, false, false},
		{"time off the minute", `{"t":61000,"h":"web-1","x":"/bin/ls"}`, host, cache.MinuteCount{}, false, true},
		{"time not a number", `{"t":"soon","h":"web-1","x":"/bin/ls"}`, host, cache.MinuteCount{}, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var key map[string]json.RawMessage
			if err := json.Unmarshal([]byte(c.key), &key); err != nil {
				t.Fatal(err)
			}
			got, ok, err := l.bucket(key, 3, c.ps)
			if (err != nil) != c.err || ok != c.ok || (ok && got != c.want) {
				t.Errorf("got %+v ok %v err %v, want %+v", got, ok, err, c.want)
			}
		})
	}
}

func TestParseErrorBody(t *testing.T) {
	cases := []struct {
		name, body, typ, reason string
	}{
		{"error document", `{"error":{"type":"index_not_found_exception","reason":"no such index [x]"},"status":404}`, "index_not_found_exception", "no such index [x]"},
		{"root cause added", `{"error":{"type":"search_phase_execution_exception","reason":"all shards failed","root_cause":[{"type":"illegal_argument_exception","reason":"Fielddata is disabled on [host.name]"}]}}`,
			"search_phase_execution_exception", "all shards failed (first cause: illegal_argument_exception: Fielddata is disabled on [host.name])"},
		{"plain error string", `{"error":"Incorrect HTTP method for uri [/x] and method [PUT]","status":405}`, "", "Incorrect HTTP method for uri [/x] and method [PUT]"},
		{"proxy page", "<html><body>502 Bad Gateway</body></html>\n", "", "<html><body>502 Bad Gateway</body></html>"},
		{"escape sequences", "{\"error\":{\"type\":\"x\",\"reason\":\"bad value [\\u001b[2J\\u0007]\"}}", "x", "bad value [\ufffd[2J\ufffd]"},
		{"invalid UTF-8", "\xff\xfe oops", "", "\ufffd\ufffd oops"},
	}
	for _, c := range cases {
		typ, reason := parseErrorBody([]byte(c.body))
		if typ != c.typ || reason != c.reason {
			t.Errorf("%s: %q %q, want %q %q", c.name, typ, reason, c.typ, c.reason)
		}
	}
	if got := clean(strings.Repeat("a", 50), 10); got != "aaaaaaaaaa…" {
		t.Errorf("clean cut %q", got)
	}
}
