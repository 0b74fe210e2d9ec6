package workspace

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
	"github.com/auditlens/auditlens/sources/fleetgen"
)

// The detection benchmark: 1,000 hosts x 30 days at 15-minute
// buckets (2.88 million host-buckets, about 40 executables per host), read
// from the cache. It compares reading the bucket counts out of SQLite with
// the engine's own time over the same counts, and reports both.
var bigFleet struct {
	once   sync.Once
	dir    string
	store  *cache.Store
	counts []engine.Count
	from   time.Time
	to     time.Time
	err    error
}

func bigFleetCache(b *testing.B) {
	b.Helper()
	bigFleet.once.Do(func() {
		ctx := context.Background()
		cfg := fleetgen.Default()
		cfg.Hosts, cfg.Containers, cfg.Days, cfg.Scenario = 1000, 0, 30, fleetgen.ScenarioNone
		fleet, err := fleetgen.New(cfg)
		if err != nil {
			bigFleet.err = err
			return
		}
		bigFleet.dir, bigFleet.err = os.MkdirTemp("", "auditlens-bench-")
		if bigFleet.err != nil {
			return
		}
		store, err := cache.Open(ctx, filepath.Join(bigFleet.dir, "cache.db"))
		if err != nil {
			bigFleet.err = err
			return
		}
		bigFleet.store = store
		bigFleet.from, bigFleet.to = fleet.Start(), fleet.End()
		// Counts go in at the minute their bucket starts: the cache sums
		// minutes into buckets, so a 15-minute query reads one row per count.
		_, bigFleet.err = store.IngestSpan(ctx, cache.SpanLoad{Source: "bench", From: fleet.Start(), To: fleet.End(), Selection: sources.Executions},
			func(sw *cache.SpanWriter) error {
				batch := make([]cache.MinuteCount, 0, 4096)
				err := fleet.Counts(ctx, 15*time.Minute, func(c engine.Count) error {
					batch = append(batch, cache.MinuteCount{Scope: sources.Scope(c.Scope), Entity: c.Entity, Minute: c.Bucket,
						Executable: c.Executable, Execution: true, Count: c.Count})
					if len(batch) == cap(batch) {
						err := sw.IngestCounts(batch...)
						batch = batch[:0]
						return err
					}
					return nil
				})
				if err != nil {
					return err
				}
				return sw.IngestCounts(batch...)
			})
	})
	if bigFleet.err != nil {
		b.Fatal(bigFleet.err)
	}
}

func bigQuery() cache.CountQuery {
	return cache.CountQuery{Scope: engine.ScopeHost, From: bigFleet.from, To: bigFleet.to, BucketSpan: 15 * time.Minute}
}

// BenchmarkBigFleetReadCounts reads the fleet's 15-minute counts out of SQLite.
func BenchmarkBigFleetReadCounts(b *testing.B) {
	bigFleetCache(b)
	ctx := context.Background()
	for b.Loop() {
		n := 0
		counts := bigFleet.counts[:0]
		if err := bigFleet.store.Counts(ctx, bigQuery(), func(c engine.Count) error {
			counts = append(counts, c)
			n++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		bigFleet.counts = counts
		b.ReportMetric(float64(n), "counts/op")
	}
	b.ReportMetric(2.88e6, "host-buckets/op")
}

// BenchmarkBigFleetDetect runs the rare and the rate host jobs over the same
// counts held in memory: the engine's own time.
func BenchmarkBigFleetDetect(b *testing.B) {
	bigFleetCache(b)
	if len(bigFleet.counts) == 0 {
		if err := bigFleet.store.Counts(context.Background(), bigQuery(), func(c engine.Count) error {
			bigFleet.counts = append(bigFleet.counts, c)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	for _, id := range []string{"host_rare_process", "host_high_process_rate"} {
		b.Run(id, func(b *testing.B) {
			job, _ := engine.JobByID(id)
			for b.Loop() {
				_, err := engine.Run(job, engine.DefaultOptions(), bigFleet.from.Unix(), bigFleet.to.Unix(), func(yield func(engine.Count) error) error {
					for _, c := range bigFleet.counts {
						if err := yield(c); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2.88e6, "ns/host-bucket")
		})
	}
}

// TestMain removes the big fleet's cache after the benchmarks.
func TestMain(m *testing.M) {
	code := m.Run()
	if bigFleet.store != nil {
		bigFleet.store.Close()
	}
	if bigFleet.dir != "" {
		os.RemoveAll(bigFleet.dir)
	}
	os.Exit(code)
}
