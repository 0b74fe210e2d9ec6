package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// synthFleet is a deterministic fleet for tests: every host runs the same
// catalogue of executables at rates falling geometrically (a few run every
// bucket, some daily, some almost never), shaped by a daily cycle and quieter
// weekends, with Poisson noise. Incidents are added by inject.
type synthFleet struct {
	seed     uint64
	start    int64 // Unix seconds, a Monday 00:00 UTC
	span     int64
	buckets  int
	hosts    int
	exes     int
	scope    Scope
	flat     bool    // no daily or weekly cycle
	rateMul  float64 // scales every rate; 0 means 1
	maxExes  int     // executables per host drawn from the catalogue; 0 means all
	inject   func(host, bucket int, emit func(exe string, n int64))
	hostName func(i int) string
}

const synthMonday = 1709510400 // 2024-03-04 00:00:00 UTC, a Monday

func newSynthFleet(hosts, days int) *synthFleet {
	return &synthFleet{seed: 1, start: synthMonday, span: 900, buckets: days * 96, hosts: hosts, exes: 40,
		scope: ScopeHost}
}

func (f *synthFleet) host(i int) string {
	if f.hostName != nil {
		return f.hostName(i)
	}
	return fmt.Sprintf("host-%02d", i)
}

func synthExe(j int) string { return fmt.Sprintf("/usr/bin/tool%02d", j) }

// seasonal is the daily and weekly shape of activity at Unix time t.
func (f *synthFleet) seasonal(t int64) float64 {
	if f.flat {
		return 1
	}
	h := float64(t%86400) / 3600
	s := 0.9 + 0.6*math.Cos(2*math.Pi*(h-14)/24)
	if wd := (t/86400 + 4) % 7; wd == 0 || wd == 6 { // 1970-01-01 was a Thursday
		s *= 0.6
	}
	return s
}

// each calls fn with every bucket's counts, in time order.
func (f *synthFleet) each(fn func(bucket int64, counts []Count)) {
	rng := rand.New(rand.NewPCG(f.seed, 0x5eed))
	mul := f.rateMul
	if mul == 0 {
		mul = 1
	}
	// Each host gets the catalogue's rates in a slightly shuffled order so
	// hosts differ without differing in vocabulary.
	rates := make([][]float64, f.hosts)
	for h := range rates {
		rates[h] = make([]float64, f.exes)
		for j := range rates[h] {
			rates[h][j] = mul * 3 * math.Pow(0.72, float64(j)) * (0.7 + 0.6*rng.Float64())
		}
		if f.maxExes > 0 && f.maxExes < f.exes {
			for j := f.maxExes; j < f.exes; j++ {
				rates[h][j] = 0
			}
		}
	}
	var counts []Count
	for b := 0; b < f.buckets; b++ {
		t := f.start + int64(b)*f.span
		s := f.seasonal(t)
		counts = counts[:0]
		for h := 0; h < f.hosts; h++ {
			name := f.host(h)
			for j, r := range rates[h] {
				if n := poisson(rng, r*s); n > 0 {
					counts = append(counts, Count{Scope: f.scope, Entity: name, Bucket: t, Executable: synthExe(j), Count: n})
				}
			}
			if f.inject != nil {
				f.inject(h, b, func(exe string, n int64) {
					counts = append(counts, Count{Scope: f.scope, Entity: name, Bucket: t, Executable: exe, Count: n})
				})
			}
		}
		fn(t, counts)
	}
}

// poisson draws a Poisson count (Knuth below 30, rounded normal above).
func poisson(rng *rand.Rand, lambda float64) int64 {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return max(0, int64(math.Round(lambda+math.Sqrt(lambda)*rng.NormFloat64())))
	}
	l := math.Exp(-lambda)
	var k int64
	for p := rng.Float64(); p > l; p *= rng.Float64() {
		k++
	}
	return k
}

// runSynth runs job over the fleet and returns the results: bucket by bucket
// through Feed, or through Run when the job's buckets are longer.
func runSynth(t testing.TB, job Job, opts Options, f *synthFleet) Results {
	t.Helper()
	if span := int64(job.BucketSpan.Seconds()); span != f.span {
		res, err := Run(job, opts, f.start, f.start+int64(f.buckets)*f.span, func(yield func(Count) error) error {
			var err error
			f.each(func(_ int64, counts []Count) {
				for _, c := range counts {
					if err == nil {
						err = yield(c)
					}
				}
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	r, err := NewRunner(job, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.each(func(bucket int64, counts []Count) {
		if err := r.Feed(bucket, counts); err != nil {
			t.Fatal(err)
		}
	})
	return r.Results()
}

func mustJob(t testing.TB, id string) Job {
	t.Helper()
	j, err := JobByID(id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// topRecords returns records at or above min score.
func recordsAbove(res Results, min float64) []Record {
	var out []Record
	for _, r := range res.Records {
		if r.RecordScore >= min {
			out = append(out, r)
		}
	}
	return out
}
