package cache

import (
	"context"
	"testing"
	"time"

	"github.com/auditlens/auditlens/sources"
)

// BenchmarkEventsDrillDown measures the process explorer's questions of a
// cache holding 100,000 events of 20 hosts over 83 minutes (fleetEvents),
// four in five of them executions: a host's 15-minute window, the newest 200
// of a host before a moment, and a process by pid and its children by ppid
// over all of a host's time.
func BenchmarkEventsDrillDown(b *testing.B) {
	const n = 100_000
	evs := fleetEvents(n)
	s := openStore(b)
	read := func(ctx context.Context, in sources.Input, opts sources.Options, fn sources.EventFunc) (sources.Report, error) {
		for i := range evs {
			if err := fn(&evs[i]); err != nil {
				return sources.Report{}, err
			}
		}
		return sources.Report{}, nil
	}
	in := sources.Input{Format: sources.FormatNDJSON, Files: []sources.FileInfo{{Path: "bench", Fingerprint: "drill", ContentSize: 1}}}
	if _, err := s.Ingest(context.Background(), []sources.Input{in}, IngestOptions{Selection: sources.AllSyscalls, Read: read}); err != nil {
		b.Fatal(err)
	}
	host := "host-07"
	mid := testStart.Add(40 * time.Minute)
	cases := []struct {
		name string
		q    EventQuery
	}{
		{"window-15m", EventQuery{Scope: sources.ScopeHost, Entity: host, From: mid, To: mid.Add(15 * time.Minute)}},
		{"newest-200", EventQuery{Scope: sources.ScopeHost, Entity: host, To: mid, Limit: 200, Newest: true}},
		{"pid", EventQuery{Scope: sources.ScopeHost, Entity: host, PID: 10000 + 50_007}},
		{"ppid", EventQuery{Scope: sources.ScopeHost, Entity: host, PPID: 8}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var got int
			for b.Loop() {
				evs, err := s.Events(context.Background(), c.q)
				if err != nil {
					b.Fatal(err)
				}
				got = len(evs)
			}
			if got == 0 {
				b.Fatalf("%s found nothing", c.name)
			}
			b.ReportMetric(float64(got), "events")
		})
	}
}
