package cache

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// fleetEvents makes n events of a small fleet: 20 hosts, one in four events
// in a container, 200 executables, 20 events a second, four in five of them
// executions.
func fleetEvents(n int) []sources.Event {
	evs := make([]sources.Event, n)
	for i := range evs {
		ev := &evs[i]
		ev.Time = testStart.Add(time.Duration(i) * 50 * time.Millisecond)
		ev.Host = fmt.Sprintf("host-%02d", i%20)
		if i%4 == 0 {
			ev.Container = sources.Container{ID: fmt.Sprintf("c%d", i%7), Name: fmt.Sprintf("svc-%d", i%7), Runtime: "docker"}
		}
		ev.Executable = fmt.Sprintf("/usr/bin/tool-%03d", (i*7919)%200)
		ev.Name = "tool"
		ev.Args = []string{"tool", "--flag", fmt.Sprint(i)}
		ev.Title = "tool --flag"
		ev.User = sources.User{Name: "root", ID: "0", AuditName: "alice", AuditID: "1000"}
		ev.PID, ev.PPID = int64(10000+i), int64(1+i%300)
		ev.WorkingDir, ev.Result = "/", "success"
		ev.Syscall = "execve"
		if i%5 == 4 {
			ev.Syscall = "openat"
		}
		ev.Origin = sources.Origin{File: "bench", Line: int64(i + 1)}
	}
	return evs
}

// BenchmarkIngestCounts measures events per second into the cache: counts
// for every event and a stored row for every execution, one input of 100,000
// events per iteration into a cache that grows.
func BenchmarkIngestCounts(b *testing.B) {
	const perInput = 100_000
	evs := fleetEvents(perInput)
	s := openStore(b)
	read := func(ctx context.Context, in sources.Input, opts sources.Options, fn sources.EventFunc) (sources.Report, error) {
		for i := range evs {
			if opts.Selection == sources.Executions && !evs[i].IsExecution() {
				continue
			}
			if err := fn(&evs[i]); err != nil {
				return sources.Report{}, err
			}
		}
		return sources.Report{}, nil
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		in := sources.Input{Format: sources.FormatNDJSON, Files: []sources.FileInfo{{
			Path: "bench", Fingerprint: fmt.Sprintf("bench-%d", i), ContentSize: int64(i + 1)}}}
		if _, err := s.Ingest(context.Background(), []sources.Input{in}, IngestOptions{Selection: sources.AllSyscalls, Read: read}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(perInput*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkCountsRead measures bucket counts per second out of the cache at
// a 15-minute span, over three days of 10 hosts running 8 executables every
// minute.
func BenchmarkCountsRead(b *testing.B) {
	s := openStore(b)
	const hosts, exes, minutes = 10, 8, 3 * 24 * 60
	from := testStart
	to := from.Add(minutes * time.Minute)
	_, err := s.IngestSpan(context.Background(), SpanLoad{Source: "bench", From: from, To: to}, func(w *SpanWriter) error {
		for m := range minutes {
			for h := range hosts {
				for x := range exes {
					c := MinuteCount{Scope: sources.ScopeHost, Entity: fmt.Sprintf("host-%02d", h), Minute: from.Unix() + int64(m*60),
						Executable: fmt.Sprintf("/usr/bin/tool-%d", x), Execution: true, Count: int64(1 + (m+h+x)%5)}
					if err := w.IngestCounts(c); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var rows int
	b.ResetTimer()
	for b.Loop() {
		rows = 0
		err := s.Counts(context.Background(), CountQuery{Scope: engine.ScopeHost, BucketSpan: 15 * time.Minute, From: from, To: to},
			func(engine.Count) error { rows++; return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	if want := minutes / 15 * hosts * exes; rows != want {
		b.Fatalf("%d counts, want %d", rows, want)
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "counts/s")
	b.ReportMetric(float64(minutes*hosts*exes*b.N)/b.Elapsed().Seconds(), "minute-rows/s")
}

// writeFleetNDJSON writes fleetEvents as Auditbeat ECS documents.
func writeFleetNDJSON(b *testing.B, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, ev := range fleetEvents(n) {
		action := "executed"
		if !ev.IsExecution() {
			action = "opened-file"
		}
		container := ""
		if ev.Container.ID != "" {
			container = fmt.Sprintf(`,"container":{"id":%q,"name":%q,"runtime":"docker"}`, ev.Container.ID, ev.Container.Name)
		}
		args, _ := json.Marshal(ev.Args)
		fmt.Fprintf(w, `{"@timestamp":%q,"host":{"name":%q},"process":{"executable":%q,"name":%q,"args":%s,"pid":%d,`+
			`"parent":{"pid":%d},"working_directory":"/"},"user":{"name":"root","id":"0","audit":{"name":"alice","id":"1000"}},`+
			`"event":{"module":"auditd","action":%q,"outcome":"success"},"auditd":{"data":{"syscall":%q}}%s}`+"\n",
			ev.Time.Format(time.RFC3339Nano), ev.Host, ev.Executable, ev.Name, args, ev.PID, ev.PPID, action, ev.Syscall, container)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}

// BenchmarkIngestNDJSON measures a whole ingest of Auditbeat NDJSON through
// the real reader, beside the reader alone: the difference is what storing
// costs once parsing and SQLite run side by side.
func BenchmarkIngestNDJSON(b *testing.B) {
	const n = 100_000
	path := filepath.Join(b.TempDir(), "auditbeat.ndjson")
	writeFleetNDJSON(b, path, n)
	ins, err := sources.Discover([]string{path}, sources.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			rep, err := sources.Read(context.Background(), ins[0], sources.Options{Selection: sources.AllSyscalls},
				func(*sources.Event) error { return nil })
			if err != nil || rep.Events() != n {
				b.Fatalf("%d events, %v", rep.Events(), err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("ingest", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s, err := Open(context.Background(), filepath.Join(b.TempDir(), fmt.Sprintf("cache-%d.db", i)))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res, err := s.Ingest(context.Background(), ins, IngestOptions{Selection: sources.AllSyscalls})
			if err != nil || res.Inputs[0].Report.Events() != n {
				b.Fatalf("%+v, %v", res, err)
			}
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
