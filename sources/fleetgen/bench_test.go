package fleetgen

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// BenchmarkEvents is the in-memory stream of the default demo fleet.
func BenchmarkEvents(b *testing.B) {
	f := mustNew(b, Default())
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		if err := f.Events(context.Background(), func(*sources.Event) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkWriteECS writes the default demo fleet's ECS NDJSON.
func BenchmarkWriteECS(b *testing.B) {
	f := mustNew(b, Default())
	b.ResetTimer()
	var n int64
	cw := &countingWriter{}
	for i := 0; i < b.N; i++ {
		tot, err := f.WriteECS(context.Background(), cw)
		if err != nil {
			b.Fatal(err)
		}
		n += tot.Events
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cw.n)/float64(n), "bytes/event")
	b.SetBytes(cw.n / int64(b.N))
}

// BenchmarkWriteAuditLog writes the default demo fleet's raw logs.
func BenchmarkWriteAuditLog(b *testing.B) {
	f := mustNew(b, Default())
	b.ResetTimer()
	var n int64
	for i := 0; i < b.N; i++ {
		files, err := f.WriteAuditLog(context.Background(), b.TempDir(), false)
		if err != nil {
			b.Fatal(err)
		}
		for _, fl := range files {
			n += fl.Events
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkCountsDefault is the direct count stream of the demo fleet.
func BenchmarkCountsDefault(b *testing.B) { benchCounts(b, Default()) }

// BenchmarkCountsHuge is the direct count stream of 1,000 hosts over 30
// days at 15-minute buckets, fleet construction included.
func BenchmarkCountsHuge(b *testing.B) {
	c := Default()
	c.Hosts, c.Containers, c.Days = 1000, 0, 30
	benchCounts(b, c)
}

func benchCounts(b *testing.B, c Config) {
	var execs, cells int64
	for i := 0; i < b.N; i++ {
		f := mustNew(b, c)
		err := f.Counts(context.Background(), 15*time.Minute, func(c engine.Count) error {
			execs += c.Count
			cells++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(execs)/b.Elapsed().Seconds(), "executions/s")
	b.ReportMetric(float64(cells)/float64(b.N), "counts/op")
	b.ReportMetric(float64(execs)/float64(b.N), "executions/op")
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)
