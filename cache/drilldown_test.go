package cache

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// drillEvent is an execution on host db-1 (or in container api on it)
// minutes after testStart, as a range-queried source would return it.
func drillEvent(minutes int, exe string, container bool) sources.Event {
	ev := sources.Event{
		Time: testStart.Add(time.Duration(minutes) * time.Minute), Host: "db-1", Executable: exe, Name: "x",
		Args: []string{exe, "-v"}, PID: int64(100 + minutes), PPID: 1, Syscall: "execve", Action: "executed",
		Result: "success", User: sources.User{Name: "root", ID: "0"},
		Origin: sources.Origin{Index: "auditbeat-8.19.0-2024.03.10", ID: "doc-" + exe + time.Duration(minutes).String()},
	}
	if container {
		ev.Container = sources.Container{ID: "c0ffee", Name: "api", Runtime: "docker"}
	}
	return ev
}

func eventTimes(evs []sources.Event) []int {
	var out []int
	for _, ev := range evs {
		out = append(out, int(ev.Time.Sub(testStart)/time.Minute))
	}
	return out
}

func TestStoreDrillDownKeepsEventsWithoutCounting(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	const key = "elasticsearch cluster=abc index=auditbeat-* selection=executions"
	at := func(m int) time.Time { return testStart.Add(time.Duration(m) * time.Minute) }

	// The counts came from the source's aggregation.
	_, err := s.IngestSpan(ctx, SpanLoad{Source: key, From: at(0), To: at(60)}, func(w *SpanWriter) error {
		return w.IngestCounts(MinuteCount{Scope: sources.ScopeHost, Entity: "db-1", Minute: at(10).Unix(), Executable: "/bin/ls", Execution: true, Count: 2})
	})
	if err != nil {
		t.Fatal(err)
	}
	version, err := s.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}

	host := DrillDownWindow{Scope: sources.ScopeHost, Entity: "db-1", From: at(0), To: at(30)}
	evs := []sources.Event{drillEvent(10, "/bin/ls", false), drillEvent(10, "/bin/ls", false), drillEvent(20, "/bin/cat", false)}
	if err := s.StoreDrillDown(ctx, key, host, evs, false); err != nil {
		t.Fatal(err)
	}
	_, counts := readCounts(t, s, CountQuery{BucketSpan: time.Hour})
	mapsEqual(t, counts, map[bucketKey]int64{{engine.ScopeHost, "db-1", testStart.Unix(), "/bin/ls"}: 2})
	if v, _ := s.DataVersion(ctx); v != version {
		t.Errorf("data version moved from %s to %s: detection results would go stale", version, v)
	}

	got, held, err := s.DrillDownEvents(ctx, key, host)
	if err != nil || !held {
		t.Fatalf("held %v, err %v", held, err)
	}
	if !reflect.DeepEqual(got, evs) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, evs)
	}
	// The process explorer's own query sees them too.
	if all, _ := s.Events(ctx, EventQuery{Scope: sources.ScopeHost, Entity: "db-1", PID: 120}); len(all) != 1 {
		t.Errorf("Events by pid: %+v", all)
	}

	cases := []struct {
		name  string
		w     DrillDownWindow
		held  bool
		times []int
	}{
		{"inside", DrillDownWindow{Scope: sources.ScopeHost, Entity: "db-1", From: at(5), To: at(15)}, true, []int{10, 10}},
		{"one executable", DrillDownWindow{Scope: sources.ScopeHost, Entity: "db-1", From: at(0), To: at(30), Executable: "/bin/cat"}, true, []int{20}},
		{"beyond", DrillDownWindow{Scope: sources.ScopeHost, Entity: "db-1", From: at(20), To: at(40)}, false, []int{20}},
		{"other entity", DrillDownWindow{Scope: sources.ScopeHost, Entity: "db-2", From: at(0), To: at(30)}, false, nil},
		{"container of the host", DrillDownWindow{Scope: sources.ScopeContainer, Entity: "db-1", From: at(0), To: at(30)}, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, held, err := s.DrillDownEvents(ctx, key, c.w)
			if err != nil {
				t.Fatal(err)
			}
			if held != c.held || !slices.Equal(eventTimes(got), c.times) {
				t.Errorf("held %v times %v, want %v %v", held, eventTimes(got), c.held, c.times)
			}
		})
	}

	// An overlapping window replaces the events it covers: none twice.
	later := DrillDownWindow{Scope: sources.ScopeHost, Entity: "db-1", From: at(15), To: at(45)}
	if err := s.StoreDrillDown(ctx, key, later, []sources.Event{drillEvent(20, "/bin/cat", false), drillEvent(40, "/bin/ls", false)}, false); err != nil {
		t.Fatal(err)
	}
	whole := DrillDownWindow{Scope: sources.ScopeHost, Entity: "db-1", From: at(0), To: at(45)}
	got, held, err = s.DrillDownEvents(ctx, key, whole)
	if err != nil || !held || !slices.Equal(eventTimes(got), []int{10, 10, 20, 40}) {
		t.Errorf("merged windows: held %v times %v err %v", held, eventTimes(got), err)
	}

	// A window of one executable replaces only that executable's events, and
	// is held on its own.
	cat := DrillDownWindow{Scope: sources.ScopeHost, Entity: "db-1", From: at(45), To: at(90), Executable: "/bin/cat"}
	if err := s.StoreDrillDown(ctx, key, cat, []sources.Event{drillEvent(50, "/bin/cat", false)}, false); err != nil {
		t.Fatal(err)
	}
	if _, held, _ := s.DrillDownEvents(ctx, key, DrillDownWindow{Scope: sources.ScopeHost, Entity: "db-1", From: at(0), To: at(90)}); held {
		t.Error("a window of every executable is held where only /bin/cat was fetched")
	}
	if got, held, _ := s.DrillDownEvents(ctx, key, DrillDownWindow{Scope: sources.ScopeHost, Entity: "db-1", From: at(0), To: at(90), Executable: "/bin/cat"}); !held || !slices.Equal(eventTimes(got), []int{20, 50}) {
		t.Errorf("/bin/cat over both windows: held %v times %v", held, eventTimes(got))
	}

	// A truncated answer is held only up to its last event's instant.
	box := DrillDownWindow{Scope: sources.ScopeContainer, Entity: "api", From: at(0), To: at(60)}
	if err := s.StoreDrillDown(ctx, key, box, []sources.Event{drillEvent(5, "/bin/sh", true), drillEvent(8, "/bin/sh", true)}, true); err != nil {
		t.Fatal(err)
	}
	if _, held, _ := s.DrillDownEvents(ctx, key, DrillDownWindow{Scope: sources.ScopeContainer, Entity: "api", From: at(0), To: at(8)}); !held {
		t.Error("truncated window not held before its last event")
	}
	if got, held, _ := s.DrillDownEvents(ctx, key, box); held || len(got) != 2 || got[0].Container.Name != "api" || got[0].Host != "db-1" {
		t.Errorf("truncated window: held %v events %+v", held, got)
	}

	// Still no count moved, and loads whose events were all replaced are gone.
	_, counts = readCounts(t, s, CountQuery{BucketSpan: time.Hour, Selection: sources.AllSyscalls})
	mapsEqual(t, counts, map[bucketKey]int64{{engine.ScopeHost, "db-1", testStart.Unix(), "/bin/ls"}: 2})
	if n := queryInt(t, s, "SELECT count(*) FROM event"); n != 7 {
		t.Errorf("%d events stored, want 7", n)
	}
	if n := queryInt(t, s, "SELECT count(*) FROM load WHERE NOT EXISTS (SELECT 1 FROM event WHERE load_id = load.id) AND format = 'drilldown'"); n != 0 {
		t.Errorf("%d empty drill-down loads left", n)
	}
	// A span load of the source does not touch its drill-down events.
	if _, err := s.IngestSpan(ctx, SpanLoad{Source: key, From: at(0), To: at(60)}, func(*SpanWriter) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, s, "SELECT count(*) FROM event"); n != 7 {
		t.Errorf("%d events after reloading the counts, want 7", n)
	}
}

func TestStoreDrillDownRefusesBadInput(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	at := func(m int) time.Time { return testStart.Add(time.Duration(m) * time.Minute) }
	w := DrillDownWindow{Scope: sources.ScopeHost, Entity: "db-1", From: at(0), To: at(30)}
	cases := []struct {
		name   string
		source string
		w      DrillDownWindow
		events []sources.Event
	}{
		{"no source", "", w, nil},
		{"file source", "file", w, nil},
		{"bad scope", "es", DrillDownWindow{Scope: "vm", Entity: "db-1", From: at(0), To: at(30)}, nil},
		{"empty window", "es", DrillDownWindow{Scope: sources.ScopeHost, Entity: "db-1", From: at(30), To: at(30)}, nil},
		{"event after", "es", w, []sources.Event{drillEvent(30, "/bin/ls", false)}},
		{"event of a container", "es", w, []sources.Event{drillEvent(3, "/bin/ls", true)}},
		{"other executable", "es", DrillDownWindow{Scope: sources.ScopeHost, Entity: "db-1", From: at(0), To: at(30), Executable: "/bin/cat"}, []sources.Event{drillEvent(3, "/bin/ls", false)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := s.StoreDrillDown(ctx, c.source, c.w, c.events, false); err == nil {
				t.Error("accepted")
			}
		})
	}
	if n := queryInt(t, s, "SELECT count(*) FROM load"); n != 0 {
		t.Errorf("%d loads after refused input", n)
	}
}
