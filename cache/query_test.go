package cache

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

func TestEventsRoundTripEveryField(t *testing.T) {
	s := openStore(t)
	want := []sources.Event{
		{
			Time: testStart.Add(234567891 * time.Nanosecond), Host: "web-01",
			Container:  sources.Container{ID: "0123abcd", Name: "nginx", Runtime: "docker"},
			Executable: "/usr/bin/curl", Name: "curl", Args: []string{"curl", "-s", "http://x/\x1b[2J", "ünï"},
			Title: "curl -s http://x", User: sources.User{Name: "root", ID: "0", AuditName: "alice", AuditID: "1000"},
			PID: 4242, PPID: 4200, WorkingDir: "/root", Result: "fail", Syscall: "execveat", Action: "executed",
			Origin: sources.Origin{File: "/elsewhere/audit.log", Line: 77},
		},
		{
			Time: testStart.Add(time.Second), Host: "web-01", Executable: "/bin/sh", Name: "sh",
			Args: []string{}, PID: 4200, PPID: 1, Syscall: "execve",
			Origin: sources.Origin{File: "mem", Line: 3},
		},
		{
			Time: testStart.Add(2 * time.Second), Host: "", Executable: "", PID: 1, Syscall: "execve",
			Origin: sources.Origin{File: "mem", Line: 4},
		},
	}
	read := func(ctx context.Context, in sources.Input, opts sources.Options, fn sources.EventFunc) (sources.Report, error) {
		for i := range want {
			ev := want[i] // a copy: the reader may reuse its event
			if err := fn(&ev); err != nil {
				return sources.Report{}, err
			}
		}
		return sources.Report{Files: []sources.FileReport{{Path: "mem", Seen: 3, Events: 3, Lines: 5}}}, nil
	}
	in := sources.Input{Format: sources.FormatAuditLog, Files: []sources.FileInfo{{Path: "mem", Fingerprint: "x", ContentSize: 9}}}
	if _, err := s.Ingest(context.Background(), []sources.Input{in}, IngestOptions{Read: read}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Events(context.Background(), EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	for i := range want {
		w := want[i]
		w.Time = w.Time.UTC()
		if w.Origin.File == "mem" {
			w.Origin.File = absPath("mem") // the load's path is stored absolute
		}
		if !reflect.DeepEqual(got[i], w) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], w)
		}
	}
}

func TestEventsWindowsAndProcessLookups(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	docs := genDocs(3000, 77)
	path := filepath.Join(dir, "a.ndjson")
	writeDocs(t, path, docs)
	ingest(t, s, &lineReader{}, sources.Executions, discover(t, path))
	ctx := context.Background()
	from, to := testStart.Add(time.Hour), testStart.Add(90*time.Minute)

	filter := func(keep func(d doc) bool) []doc {
		var out []doc
		for _, d := range docs {
			if d.Syscall == "execve" && keep(d) {
				out = append(out, d)
			}
		}
		slices.SortStableFunc(out, func(a, b doc) int { return a.T.Compare(b.T) })
		return out
	}
	inWindow := func(d doc) bool { return !d.T.Before(from) && d.T.Before(to) }
	cases := []struct {
		name string
		q    EventQuery
		want []doc
	}{
		{"host window", EventQuery{Scope: sources.ScopeHost, Entity: "host-1", From: from, To: to},
			filter(func(d doc) bool { return d.Container == "" && d.Host == "host-1" && inWindow(d) })},
		{"container window", EventQuery{Scope: sources.ScopeContainer, Entity: "web-0", From: from, To: to},
			filter(func(d doc) bool { return d.Container == "web-0" && inWindow(d) })},
		{"executable", EventQuery{Scope: sources.ScopeHost, Entity: "host-2", Executable: "/usr/bin/curl"},
			filter(func(d doc) bool { return d.Container == "" && d.Host == "host-2" && d.Exe == "/usr/bin/curl" })},
		{"children", EventQuery{Scope: sources.ScopeHost, Entity: "host-0", PPID: 7},
			filter(func(d doc) bool { return d.Container == "" && d.Host == "host-0" && d.PPID == 7 })},
		{"process", EventQuery{Scope: sources.ScopeHost, Entity: "host-0", PID: 1500},
			filter(func(d doc) bool { return d.Container == "" && d.Host == "host-0" && d.PID == 1500 })},
		{"unknown entity", EventQuery{Scope: sources.ScopeHost, Entity: "nope"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Events(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%d events, want %d", len(got), len(c.want))
			}
			for i := range got {
				if !got[i].Time.Equal(c.want[i].T) || got[i].PID != c.want[i].PID || got[i].Executable != c.want[i].Exe {
					t.Errorf("event %d: %v pid %d %s, want %v pid %d %s", i, got[i].Time, got[i].PID, got[i].Executable,
						c.want[i].T, c.want[i].PID, c.want[i].Exe)
				}
			}
		})
	}
	all := cases[0].want
	newest, err := s.Events(ctx, EventQuery{Scope: sources.ScopeHost, Entity: "host-1", From: from, To: to, Limit: 5, Newest: true})
	if err != nil || len(newest) != 5 {
		t.Fatalf("newest: %d %v", len(newest), err)
	}
	for i, ev := range newest {
		if w := all[len(all)-1-i]; !ev.Time.Equal(w.T) {
			t.Errorf("newest %d at %v, want %v", i, ev.Time, w.T)
		}
	}
	if _, err := s.Events(ctx, EventQuery{Scope: "vm"}); err == nil {
		t.Error("unknown scope accepted")
	}
}

func TestEntitiesExecutablesTimeSpan(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	if first, last, err := s.TimeSpan(ctx); err != nil || !first.IsZero() || !last.IsZero() {
		t.Errorf("empty cache time span %v %v %v", first, last, err)
	}
	dir := t.TempDir()
	docs := genDocs(2000, 8)
	path := filepath.Join(dir, "a.ndjson")
	writeDocs(t, path, docs)
	ingest(t, s, &lineReader{}, sources.AllSyscalls, discover(t, path))

	first, last, err := s.TimeSpan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantFirst, wantLast := docs[0].T, docs[0].T
	for _, d := range docs {
		if d.T.Before(wantFirst) {
			wantFirst = d.T
		}
		if d.T.After(wantLast) {
			wantLast = d.T
		}
	}
	if !first.Equal(wantFirst) || !last.Equal(wantLast) {
		t.Errorf("time span %v..%v, want %v..%v", first, last, wantFirst, wantLast)
	}

	ents, err := s.Entities(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, string(e.Scope)+":"+e.Name)
		var execs, events int64
		hosts := map[string]bool{}
		for _, d := range docs {
			ev := d.event("", 0)
			if string(ev.Scope()) == string(e.Scope) && ev.Entity() == e.Name {
				events++
				if ev.IsExecution() {
					execs++
				}
				if e.Scope == engine.ScopeContainer {
					hosts[d.Host] = true
				}
			}
		}
		if e.Executions != execs || e.Events != events || len(e.Hosts) != len(hosts) {
			t.Errorf("%s: %d executions %d events hosts %v, want %d %d %v", e.Name, e.Executions, e.Events, e.Hosts, execs, events, hosts)
		}
		if e.First.After(wantFirst) || e.Last.Before(wantFirst) {
			t.Errorf("%s: first/last %v %v", e.Name, e.First, e.Last)
		}
	}
	want := []string{"container:web-0", "container:web-1", "host:host-0", "host:host-1", "host:host-2"}
	if !slices.Equal(names, want) {
		t.Errorf("entities %v, want %v", names, want)
	}

	exes, err := s.Executables(ctx, engine.ScopeHost, "host-1")
	if err != nil {
		t.Fatal(err)
	}
	wantExe := map[string]int64{}
	for _, d := range docs {
		if d.Host == "host-1" && d.Container == "" && d.Syscall == "execve" {
			wantExe[d.Exe]++
		}
	}
	if len(exes) != len(wantExe) {
		t.Errorf("%d executables, want %d", len(exes), len(wantExe))
	}
	for i, x := range exes {
		if x.Executions != wantExe[x.Path] || x.Entities != 1 {
			t.Errorf("%q: %d on %d, want %d on 1", x.Path, x.Executions, x.Entities, wantExe[x.Path])
		}
		if i > 0 && x.Executions > exes[i-1].Executions {
			t.Error("executables not ordered by executions")
		}
	}
}

func TestStats(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	dir := t.TempDir()
	a, b := genDocs(1500, 31), genDocs(700, 32)
	pa, pb := filepath.Join(dir, "a.ndjson"), filepath.Join(dir, "b.ndjson")
	writeDocs(t, pa, a)
	writeDocs(t, pb, b)
	appendDocs(t, pb, nil)
	resA := ingest(t, s, &lineReader{}, sources.Executions, discover(t, pa))
	ingest(t, s, &lineReader{}, sources.Executions, discover(t, pb))

	expect := func(docs []doc) Stats {
		st := Stats{ByExecutable: map[string]int64{}, ByHost: map[string]int64{}, Events: int64(len(docs))}
		hosts, containers := map[string]bool{}, map[string]bool{}
		for _, d := range docs {
			if d.Syscall != "execve" {
				continue // the loads hold executions only
			}
			hosts[d.Host] = true
			if d.Container != "" {
				containers[d.Container] = true
			}
			st.Executions++
			st.ByExecutable[d.Exe]++
			st.ByHost[d.Host]++
		}
		st.Hosts, st.Containers, st.Executables = len(hosts), len(containers), len(st.ByExecutable)
		return st
	}
	check := func(name string, got, want Stats) {
		t.Helper()
		if got.Events != want.Events || got.Executions != want.Executions || got.Hosts != want.Hosts ||
			got.Containers != want.Containers || got.Executables != want.Executables ||
			!reflect.DeepEqual(got.ByExecutable, want.ByExecutable) || !reflect.DeepEqual(got.ByHost, want.ByHost) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
	all, err := s.Stats(ctx, StatsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	check("all", all, expect(append(slices.Clone(a), b...)))
	if len(all.Sources) != 2 || all.Sources[0].Path != pa || all.Sources[1].Path != pb {
		t.Errorf("sources %+v", all.Sources)
	}
	onlyA, err := s.Stats(ctx, StatsQuery{Loads: resA.Loads()})
	if err != nil {
		t.Fatal(err)
	}
	check("load a", onlyA, expect(a))

	// A host-scope query drops the containers.
	hostOnly, err := s.Stats(ctx, StatsQuery{Scope: engine.ScopeHost, Loads: resA.Loads()})
	if err != nil {
		t.Fatal(err)
	}
	var noContainers []doc
	for _, d := range a {
		if d.Container == "" {
			noContainers = append(noContainers, d)
		}
	}
	want := expect(noContainers)
	want.Events = int64(len(a)) // events count whole sources
	check("hosts of a", hostOnly, want)

	// The JSON keys the command line prints.
	js, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	json.Unmarshal(js, &keys)
	for _, k := range strings.Split("events executions hosts containers executables rejected from to by_executable by_host sources", " ") {
		if _, ok := keys[k]; !ok {
			t.Errorf("stats JSON lacks %q: %s", k, js[:min(len(js), 300)])
		}
	}
	// A time range keeps the minutes inside it.
	from, to := testStart.Add(time.Hour), testStart.Add(2*time.Hour)
	ranged, err := s.Stats(ctx, StatsQuery{From: from, To: to, Loads: resA.Loads()})
	if err != nil {
		t.Fatal(err)
	}
	var inRange []doc
	for _, d := range a {
		if !d.T.Before(from) && d.T.Before(to) {
			inRange = append(inRange, d)
		}
	}
	want = expect(inRange)
	want.Events = int64(len(a))
	check("range", ranged, want)
	if ranged.From.Before(from) || !ranged.To.Before(to) {
		t.Errorf("range from/to %v %v outside %v %v", ranged.From, ranged.To, from, to)
	}
}
