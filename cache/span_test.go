package cache

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

func TestMarkSpanMergesAndMissingSpans(t *testing.T) {
	at := func(m int) time.Time { return testStart.Add(time.Duration(m) * time.Minute) }
	sp := func(a, b int) Span { return Span{at(a), at(b)} }
	cases := []struct {
		name    string
		marks   [][2]int
		have    []Span
		missing []Span // of [0, 100)
	}{
		{"nothing", nil, nil, []Span{sp(0, 100)}},
		{"one", [][2]int{{10, 20}}, []Span{sp(10, 20)}, []Span{sp(0, 10), sp(20, 100)}},
		{"adjacent merge", [][2]int{{10, 20}, {20, 30}}, []Span{sp(10, 30)}, []Span{sp(0, 10), sp(30, 100)}},
		{"overlap merge", [][2]int{{10, 25}, {20, 30}, {5, 12}}, []Span{sp(5, 30)}, []Span{sp(0, 5), sp(30, 100)}},
		{"apart", [][2]int{{10, 20}, {40, 50}}, []Span{sp(10, 20), sp(40, 50)}, []Span{sp(0, 10), sp(20, 40), sp(50, 100)}},
		{"bridge", [][2]int{{10, 20}, {40, 50}, {15, 45}}, []Span{sp(10, 50)}, []Span{sp(0, 10), sp(50, 100)}},
		{"inside", [][2]int{{10, 50}, {20, 30}}, []Span{sp(10, 50)}, []Span{sp(0, 10), sp(50, 100)}},
		{"covers all", [][2]int{{-10, 200}}, []Span{sp(-10, 200)}, nil},
		{"edges", [][2]int{{0, 10}, {90, 100}}, []Span{sp(0, 10), sp(90, 100)}, []Span{sp(10, 90)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openStore(t)
			ctx := context.Background()
			for _, m := range c.marks {
				if err := s.MarkSpan(ctx, "es", at(m[0]), at(m[1])); err != nil {
					t.Fatal(err)
				}
			}
			// Another source's spans do not count.
			if err := s.MarkSpan(ctx, "es other", at(0), at(100)); err != nil {
				t.Fatal(err)
			}
			have, err := s.Spans(ctx, "es")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(have, c.have) {
				t.Errorf("spans %v, want %v", have, c.have)
			}
			missing, err := s.MissingSpans(ctx, "es", at(0), at(100))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(missing, c.missing) {
				t.Errorf("missing %v, want %v", missing, c.missing)
			}
		})
	}
	s := openStore(t)
	if err := s.MarkSpan(context.Background(), "es", at(5), at(5)); err == nil {
		t.Error("empty span accepted")
	}
}

func TestIngestSpan(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	const key = "elasticsearch http://es:9200 auditbeat-* executions"
	from, to := testStart, testStart.Add(time.Hour)
	counts := []MinuteCount{
		{Scope: sources.ScopeHost, Entity: "db-1", Minute: testStart.Unix(), Executable: "/bin/ls", Execution: true, Count: 5},
		{Scope: sources.ScopeHost, Entity: "db-1", Minute: testStart.Unix() + 60, Executable: "/bin/ls", Execution: true, Count: 2},
		{Scope: sources.ScopeContainer, Entity: "api", Host: "db-1", Minute: testStart.Unix() + 600, Executable: "/bin/sh", Execution: true, Count: 3},
		{Scope: sources.ScopeHost, Entity: "db-1", Minute: testStart.Unix(), Executable: "/bin/ls", Execution: false, Count: 11},
	}
	ev := sources.Event{Time: testStart.Add(30 * time.Minute), Host: "db-1", Executable: "/usr/bin/id", Syscall: "execve", PID: 9,
		Origin: sources.Origin{Index: "auditbeat-2024.03.10", ID: "doc-1"}}
	res, err := s.IngestSpan(ctx, SpanLoad{Source: key, From: from, To: to}, func(w *SpanWriter) error {
		if err := w.IngestCounts(counts...); err != nil {
			return err
		}
		return w.IngestEvents(&ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 1 || res.Counts != 21 {
		t.Errorf("result %+v", res)
	}
	if missing, _ := s.MissingSpans(ctx, key, from, to); len(missing) != 0 {
		t.Errorf("span not marked: missing %v", missing)
	}
	_, got := readCounts(t, s, CountQuery{BucketSpan: time.Hour})
	want := map[bucketKey]int64{
		{engine.ScopeHost, "db-1", testStart.Unix(), "/bin/ls"}:     7,
		{engine.ScopeHost, "db-1", testStart.Unix(), "/usr/bin/id"}: 1,
		{engine.ScopeContainer, "api", testStart.Unix(), "/bin/sh"}: 3,
	}
	mapsEqual(t, got, want)
	if _, all := readCounts(t, s, CountQuery{BucketSpan: time.Hour, Selection: sources.AllSyscalls}); all[bucketKey{engine.ScopeHost, "db-1", testStart.Unix(), "/bin/ls"}] != 18 {
		t.Errorf("all syscalls count %v", all)
	}
	evs, err := s.Events(ctx, EventQuery{Scope: sources.ScopeHost, Entity: "db-1"})
	if err != nil || len(evs) != 1 || evs[0].Origin != ev.Origin || evs[0].PID != 9 {
		t.Errorf("events %+v %v", evs, err)
	}
	ents, _ := s.Entities(ctx, engine.ScopeContainer)
	if len(ents) != 1 || !reflect.DeepEqual(ents[0].Hosts, []string{"db-1"}) {
		t.Errorf("container entities %+v", ents)
	}

	// Fetching the second half again replaces what the first load held there.
	half := testStart.Add(5 * time.Minute)
	_, err = s.IngestSpan(ctx, SpanLoad{Source: key, From: half, To: to}, func(w *SpanWriter) error {
		return w.IngestCounts(MinuteCount{Scope: sources.ScopeHost, Entity: "db-1", Minute: half.Unix(), Executable: "/bin/ls", Execution: true, Count: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	_, got = readCounts(t, s, CountQuery{BucketSpan: time.Hour})
	mapsEqual(t, got, map[bucketKey]int64{{engine.ScopeHost, "db-1", testStart.Unix(), "/bin/ls"}: 8})

	// A failing fill leaves nothing, and no mark.
	other := "elasticsearch other"
	boom := errors.New("cluster went away")
	_, err = s.IngestSpan(ctx, SpanLoad{Source: other, From: from, To: to}, func(w *SpanWriter) error {
		if err := w.IngestCounts(counts[0]); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("error %v", err)
	}
	if missing, _ := s.MissingSpans(ctx, other, from, to); len(missing) != 1 {
		t.Errorf("failed span marked: missing %v", missing)
	}
	_, got = readCounts(t, s, CountQuery{BucketSpan: time.Hour})
	mapsEqual(t, got, map[bucketKey]int64{{engine.ScopeHost, "db-1", testStart.Unix(), "/bin/ls"}: 8})

	// A partial span is stored but stays missing.
	_, err = s.IngestSpan(ctx, SpanLoad{Source: other, From: from, To: to, Partial: true}, func(w *SpanWriter) error {
		return w.IngestCounts(counts[0])
	})
	if err != nil {
		t.Fatal(err)
	}
	if missing, _ := s.MissingSpans(ctx, other, from, to); len(missing) != 1 {
		t.Errorf("partial span marked: missing %v", missing)
	}
	_, got = readCounts(t, s, CountQuery{BucketSpan: time.Hour})
	mapsEqual(t, got, map[bucketKey]int64{{engine.ScopeHost, "db-1", testStart.Unix(), "/bin/ls"}: 13})

	// Bad input.
	bad := []struct {
		name string
		load SpanLoad
		fill func(w *SpanWriter) error
	}{
		{"not on a minute", SpanLoad{Source: key, From: from.Add(time.Second), To: to}, func(*SpanWriter) error { return nil }},
		{"empty", SpanLoad{Source: key, From: to, To: to}, func(*SpanWriter) error { return nil }},
		{"no key", SpanLoad{From: from, To: to}, func(*SpanWriter) error { return nil }},
		{"event outside", SpanLoad{Source: key, From: from, To: to}, func(w *SpanWriter) error {
			e := ev
			e.Time = to
			return w.IngestEvents(&e)
		}},
		{"count outside", SpanLoad{Source: key, From: from, To: to}, func(w *SpanWriter) error {
			return w.IngestCounts(MinuteCount{Scope: sources.ScopeHost, Minute: to.Unix(), Count: 1})
		}},
		{"count off minute", SpanLoad{Source: key, From: from, To: to}, func(w *SpanWriter) error {
			return w.IngestCounts(MinuteCount{Scope: sources.ScopeHost, Minute: from.Unix() + 1, Count: 1})
		}},
		{"count bad scope", SpanLoad{Source: key, From: from, To: to}, func(w *SpanWriter) error {
			return w.IngestCounts(MinuteCount{Scope: "vm", Minute: from.Unix(), Count: 1})
		}},
	}
	for _, b := range bad {
		if _, err := s.IngestSpan(ctx, b.load, b.fill); err == nil {
			t.Errorf("%s: accepted", b.name)
		}
	}
	_, got = readCounts(t, s, CountQuery{BucketSpan: time.Hour})
	mapsEqual(t, got, map[bucketKey]int64{{engine.ScopeHost, "db-1", testStart.Unix(), "/bin/ls"}: 13})
}
