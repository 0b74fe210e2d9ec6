package engine

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzRunner feeds arbitrary counts to every job and checks that nothing
// panics and that every score, probability and bound stays a sane number.
func FuzzRunner(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte("\x00\x00\x05\xff\xff\xff\xff\xff\x01\x02\x03\x80\x00\x00\x00\x7f"))
	f.Fuzz(fuzzBody)
}

func fuzzBody(t *testing.T, data []byte) {
	{
		entities := []string{"", "a", "b", "\x1b[31mred", "host-with-a-long-name"}
		exes := []string{"", "/bin/sh", "/usr/bin/ssh", "/tmp/\x00x", "/usr/bin/scp", "/opt/app"}
		for _, job := range append(Jobs(), mustJob(t, "host_rare_process").WithPartition(PartitionNone),
			mustJob(t, "docker_high_process_rate").WithPartition(PartitionNone)) {
			o := DefaultOptions()
			o.KeepModel = true
			o.LearningBuckets, o.RateLearningBuckets = 2, 3
			r, err := NewRunner(job, o)
			if err != nil {
				t.Fatal(err)
			}
			bucket := int64(synthMonday)
			var counts []Count
			for i := 0; i+4 <= len(data); i += 4 {
				op, e, x, n := data[i], data[i+1], data[i+2], data[i+3]
				switch {
				case op%5 == 0: // next bucket, sometimes skipping some
					if err := r.Feed(bucket, counts); err != nil {
						t.Fatal(err)
					}
					counts = counts[:0]
					bucket += 900 * int64(1+op%3)
				default:
					c := Count{Scope: []Scope{ScopeHost, ScopeContainer}[op%2], Entity: entities[int(e)%len(entities)],
						Bucket: bucket + int64(x%15)*60, Executable: exes[int(x)%len(exes)], Count: int64(n) - 8}
					if op > 250 && i+12 <= len(data) {
						c.Count = int64(binary.LittleEndian.Uint64(data[i+4:])) >> 8
					}
					counts = append(counts, c)
				}
			}
			if err := r.Feed(bucket, counts); err != nil {
				t.Fatal(err)
			}
			check(t, r.Results())
		}
	}
}

func check(t *testing.T, res Results) {
	t.Helper()
	bad := func(x, lo, hi float64) bool { return math.IsNaN(x) || x < lo || x > hi }
	for _, r := range res.Records {
		if bad(r.RecordScore, 0, 100) || bad(r.Probability, 0, 1) || bad(r.MultiBucketImpact, -5, 5) ||
			math.IsNaN(r.Actual[0]) || math.IsNaN(r.Typical[0]) || math.IsNaN(r.Explanation.UpperConfidenceBound) {
			t.Fatalf("record %+v", r)
		}
	}
	for _, b := range res.Buckets {
		if bad(b.AnomalyScore, 0, 100) {
			t.Fatalf("bucket %+v", b)
		}
	}
	for _, pts := range res.Model {
		for _, p := range pts {
			if bad(p.Score, 0, 100) || math.IsNaN(p.Typical) || math.IsNaN(p.Lower) || math.IsNaN(p.Upper) || math.IsInf(p.Upper, 0) {
				t.Fatalf("model point %+v", p)
			}
		}
	}
}
