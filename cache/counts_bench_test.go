package cache

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// BenchmarkCountsShapes reads 15-minute counts out of two caches, with the
// windowed reader and with the one-query reference it replaced:
//
//   - minute rows: 10 hosts x 8 executables every minute for 3 days, so each
//     count sums 15 minute rows;
//   - bucket rows: 100 hosts x 6 executables once per 15 minutes for 7 days,
//     one minute row per count, the shape of a fleet whose counts were
//     loaded already bucketed.
func BenchmarkCountsShapes(b *testing.B) {
	shapes := []struct {
		name                    string
		hosts, exes, step, days int
	}{
		{"minute rows", 10, 8, 1, 3},
		{"bucket rows", 100, 6, 15, 7},
	}
	for _, sh := range shapes {
		s := openStore(b)
		from := testStart.Truncate(24 * time.Hour)
		to := from.Add(time.Duration(sh.days) * 24 * time.Hour)
		rows := 0
		_, err := s.IngestSpan(context.Background(), SpanLoad{Source: "bench", From: from, To: to, Selection: sources.Executions}, func(w *SpanWriter) error {
			batch := make([]MinuteCount, 0, 4096)
			for m := from.Unix(); m < to.Unix(); m += int64(sh.step * 60) {
				for h := range sh.hosts {
					for x := range sh.exes {
						batch = append(batch, MinuteCount{Scope: sources.ScopeHost, Entity: fmt.Sprintf("host-%03d", h), Minute: m,
							Executable: fmt.Sprintf("/usr/bin/tool-%d", (h+x)%(2*sh.exes)), Execution: true, Count: 1 + (m/60+int64(h+x))%5})
						rows++
					}
				}
				if len(batch) >= 4000 {
					if err := w.IngestCounts(batch...); err != nil {
						return err
					}
					batch = batch[:0]
				}
			}
			return w.IngestCounts(batch...)
		})
		if err != nil {
			b.Fatal(err)
		}
		q := CountQuery{Scope: engine.ScopeHost, BucketSpan: 15 * time.Minute, From: from, To: to}
		want := sh.days * 96 * sh.hosts * sh.exes
		b.Run(sh.name+"/windows", func(b *testing.B) {
			var n int
			for b.Loop() {
				n = 0
				if err := s.Counts(context.Background(), q, func(engine.Count) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			if n != want {
				b.Fatalf("%d counts, want %d", n, want)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "counts/s")
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "minute-rows/s")
		})
		b.Run(sh.name+"/one query", func(b *testing.B) {
			var n int
			for b.Loop() {
				got, err := referenceCounts(context.Background(), s, q)
				if err != nil {
					b.Fatal(err)
				}
				n = len(got)
			}
			if n != want {
				b.Fatalf("%d counts, want %d", n, want)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "counts/s")
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "minute-rows/s")
		})
	}
}
