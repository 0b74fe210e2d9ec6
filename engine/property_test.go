package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"
)

// variants are the job shapes the property tests run.
func variants(t testing.TB) []struct {
	name  string
	job   Job
	scope Scope
} {
	return []struct {
		name  string
		job   Job
		scope Scope
	}{
		{"host rare", mustJob(t, "host_rare_process"), ScopeHost},
		{"host rate", mustJob(t, "host_high_process_rate"), ScopeHost},
		{"fleet rare", mustJob(t, "host_rare_process").WithPartition(PartitionNone), ScopeHost},
		{"fleet rate", mustJob(t, "host_high_process_rate").WithPartition(PartitionNone), ScopeHost},
		{"container count", mustJob(t, "docker_high_process_rate"), ScopeContainer},
		{"container rare hourly", mustJob(t, "docker_rare_process").WithBucketSpan(time.Hour), ScopeContainer},
	}
}

// incidentFleet is a synthetic fleet with a little of everything.
func incidentFleet(scope Scope, seed uint64, days int) *synthFleet {
	f := newSynthFleet(8, days)
	f.seed, f.scope = seed, scope
	f.inject = func(h, b int, emit func(string, int64)) {
		switch {
		case h == 1 && b == 300:
			emit("/tmp/.hidden/x", 1)
		case h == 2 && b == 350:
			emit("/usr/bin/ssh", 120)
			emit("/usr/bin/scp", 90)
		case h == 3 && b >= 2*96+8 && b < 2*96+28:
			emit(synthExe(0), 6)
		case b >= 400+h:
			emit("/opt/release/bin/app", 1)
		}
	}
	return f
}

func opts() Options {
	o := DefaultOptions()
	o.KeepModel = true
	return o
}

// prefixOf cuts results to the buckets before cut (epoch ms).
func prefixOf(res Results, cut int64) Results {
	out := Results{JobID: res.JobID, BucketSpan: res.BucketSpan}
	for _, r := range res.Records {
		if r.Timestamp < cut {
			out.Records = append(out.Records, r)
		}
	}
	for _, b := range res.Buckets {
		if b.Timestamp < cut {
			out.Buckets = append(out.Buckets, b)
		}
	}
	for _, in := range res.Influencers {
		if in.Timestamp < cut {
			out.Influencers = append(out.Influencers, in)
		}
	}
	if res.Model != nil {
		out.Model = map[string][]ModelPoint{}
		for k, pts := range res.Model {
			for _, p := range pts {
				if p.Bucket < cut {
					out.Model[k] = append(out.Model[k], p)
				}
			}
		}
	}
	return out
}

func TestLaterBucketsNeverChangeEarlierScores(t *testing.T) {
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			whole := incidentFleet(v.scope, 3, 5)
			part := incidentFleet(v.scope, 3, 5)
			part.buckets = 3*96 + 77
			full := runSynth(t, v.job, opts(), whole)
			pre := runSynth(t, v.job, opts(), part)
			cut := (part.start + int64(part.buckets)*part.span) * 1000
			if len(pre.Records) == 0 {
				t.Fatal("the prefix has no records: the test would prove nothing")
			}
			got := prefixOf(full, cut)
			// A partial last bucket of a longer span may differ; compare whole buckets.
			if v.job.BucketSpan > 15*time.Minute {
				last := cut - v.job.BucketSpan.Milliseconds()
				got, pre = prefixOf(got, last), prefixOf(pre, last)
			}
			if !reflect.DeepEqual(got, pre) {
				t.Fatalf("the whole run disagrees with the prefix run on the prefix (%d vs %d records)",
					len(got.Records), len(pre.Records))
			}
		})
	}
}

func TestScoresStayInRange(t *testing.T) {
	in := func(x, lo, hi float64) bool { return !math.IsNaN(x) && x >= lo && x <= hi }
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 2; seed++ {
				res := runSynth(t, v.job, opts(), incidentFleet(v.scope, seed, 4))
				for _, r := range res.Records {
					if !in(r.RecordScore, 0, 100) || r.RecordScore != r.InitialRecordScore || !in(r.Probability, 0, 1) ||
						r.Probability <= 0 || !in(r.MultiBucketImpact, -5, 5) || len(r.Actual) != 1 || len(r.Typical) != 1 ||
						r.ResultType != "record" || r.JobID != v.job.ID || r.BucketSpan != int64(v.job.BucketSpan/time.Second) || r.Why == "" {
						t.Fatalf("record %+v", r)
					}
				}
				for _, b := range res.Buckets {
					if !in(b.AnomalyScore, 0, 100) {
						t.Fatalf("bucket %+v", b)
					}
				}
				for _, i := range res.Influencers {
					if !in(i.InfluencerScore, 0, 100) || !in(i.Probability, 0, 1) {
						t.Fatalf("influencer %+v", i)
					}
				}
				for k, pts := range res.Model {
					for _, p := range pts {
						if !in(p.Score, 0, 100) || math.IsNaN(p.Typical) || math.IsNaN(p.Lower) || math.IsNaN(p.Upper) {
							t.Fatalf("model point of %s: %+v", k, p)
						}
					}
				}
			}
		})
	}
}

func TestRunsAreBitForBitDeterministic(t *testing.T) {
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			a := runSynth(t, v.job, opts(), incidentFleet(v.scope, 5, 4))
			b := runSynth(t, v.job, opts(), incidentFleet(v.scope, 5, 4))
			if !reflect.DeepEqual(a, b) {
				t.Fatal("two runs differ")
			}
			ja, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Fatal("two runs marshal differently")
			}
		})
	}
}

func TestQuietWorkloadsRaiseNoMajorAnomaly(t *testing.T) {
	for _, flat := range []bool{true, false} {
		for seed := uint64(1); seed <= 3; seed++ {
			for _, v := range variants(t) {
				name := fmt.Sprintf("%s/flat=%v/seed=%d", v.name, flat, seed)
				t.Run(name, func(t *testing.T) {
					f := newSynthFleet(12, 14)
					f.seed, f.flat, f.scope, f.maxExes = seed, flat, v.scope, 12
					res := runSynth(t, v.job, DefaultOptions(), f)
					for _, r := range recordsAbove(res, 50) {
						t.Errorf("%s %s %s scored %.1f: %s", when(r.Timestamp), r.Entity, r.ByFieldValue, r.RecordScore, r.Why)
					}
				})
			}
		}
	}
}

func when(ms int64) string {
	return fmt.Sprintf("day %d %02d:%02d", (ms/1000-synthMonday)/86400, ms/1000%86400/3600, ms/1000%3600/60)
}
