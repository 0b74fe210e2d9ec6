package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// benchFleet synthesizes a fleet bucket by bucket: hosts x 40 executables at
// geometric rates (about 15 run in a typical bucket), with a daily cycle.
type benchFleet struct {
	hosts, buckets int
	names          []string
	exes           []string
	rates          [][]float64
	rng            *rand.Rand
	buf            []Count
}

func newBenchFleet(hosts, days int) *benchFleet {
	f := &benchFleet{hosts: hosts, buckets: days * 96, rng: rand.New(rand.NewPCG(7, 7))}
	for j := 0; j < 40; j++ {
		f.exes = append(f.exes, fmt.Sprintf("/usr/lib/fleet/bin/executable-%02d", j))
	}
	for h := 0; h < hosts; h++ {
		f.names = append(f.names, fmt.Sprintf("web-%04d.prod.example.internal", h))
		r := make([]float64, len(f.exes))
		for j := range r {
			r[j] = 5 * math.Pow(0.85, float64(j)) * (0.5 + f.rng.Float64())
		}
		f.rates = append(f.rates, r)
	}
	return f
}

// bucket returns the counts of bucket b (reusing one buffer).
func (f *benchFleet) bucket(b int) (int64, []Count) {
	t := int64(synthMonday) + int64(b)*900
	h := float64(t%86400) / 3600
	s := 0.9 + 0.6*math.Cos(2*math.Pi*(h-14)/24)
	f.buf = f.buf[:0]
	for i, name := range f.names {
		for j, r := range f.rates[i] {
			if n := poisson(f.rng, r*s); n > 0 {
				f.buf = append(f.buf, Count{Scope: ScopeHost, Entity: name, Bucket: t, Executable: f.exes[j], Count: n})
			}
		}
	}
	return t, f.buf
}

// BenchmarkDetectFleet runs the rare and the rate job over 1,000 hosts x 30
// days of 15-minute buckets (2.88 million host-buckets); the synthesis of the
// counts is not timed.
func BenchmarkDetectFleet(b *testing.B) {
	const hosts, days = 1000, 30
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := newBenchFleet(hosts, days)
		rare, err := NewRunner(mustJob(b, "host_rare_process"), DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		rate, err := NewRunner(mustJob(b, "host_high_process_rate"), DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		var rows int64
		for k := 0; k < f.buckets; k++ {
			t, counts := f.bucket(k)
			rows += int64(len(counts))
			b.StartTimer()
			if err := rare.Feed(t, counts); err != nil {
				b.Fatal(err)
			}
			if err := rate.Feed(t, counts); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
		}
		if i == 0 {
			b.ReportMetric(float64(rows)/float64(hosts*days*96), "rows/host-bucket")
			rr, rt := rare.Results(), rate.Results()
			b.ReportMetric(float64(len(rr.Records)+len(rt.Records)), "records")
		}
	}
	b.StartTimer()
	hb := float64(hosts * days * 96)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/hb, "ns/host-bucket")
}

// BenchmarkFeed times one job over 200 hosts x 2 days, per count row.
func BenchmarkFeed(b *testing.B) {
	for _, id := range []string{"host_rare_process", "host_high_process_rate"} {
		b.Run(id, func(b *testing.B) {
			f := newBenchFleet(200, 2)
			var ts []int64
			var buckets [][]Count
			for k := 0; k < f.buckets; k++ {
				t, c := f.bucket(k)
				ts = append(ts, t)
				buckets = append(buckets, append([]Count(nil), c...))
			}
			rows := 0
			for _, c := range buckets {
				rows += len(c)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := NewRunner(mustJob(b, id), DefaultOptions())
				if err != nil {
					b.Fatal(err)
				}
				for k, c := range buckets {
					if err := r.Feed(ts[k], c); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
		})
	}
}
