package engine

import (
	"errors"
	"reflect"
	"testing"
)

func TestFeedRejectsBadBuckets(t *testing.T) {
	job := mustJob(t, "host_rare_process")
	c := func(b int64) Count {
		return Count{Scope: ScopeHost, Entity: "h", Bucket: b, Executable: "/bin/sh", Count: 1}
	}
	cases := []struct {
		name string
		feed func(r *Runner) error
		want error
	}{
		{"misaligned", func(r *Runner) error { return r.Feed(synthMonday+60, nil) }, ErrMisaligned},
		{"same bucket twice", func(r *Runner) error {
			if err := r.Feed(synthMonday, []Count{c(synthMonday)}); err != nil {
				return err
			}
			return r.Feed(synthMonday, []Count{c(synthMonday)})
		}, ErrOutOfOrder},
		{"earlier bucket", func(r *Runner) error {
			if err := r.Feed(synthMonday+900, nil); err != nil {
				return err
			}
			return r.Feed(synthMonday, nil)
		}, ErrOutOfOrder},
		{"count outside its bucket", func(r *Runner) error {
			return r.Feed(synthMonday, []Count{c(synthMonday + 900)})
		}, ErrWrongBucket},
		{"advance backwards", func(r *Runner) error {
			if err := r.Feed(synthMonday+1800, nil); err != nil {
				return err
			}
			return r.Advance(synthMonday)
		}, ErrOutOfOrder},
		{"before the start", func(r *Runner) error {
			if err := r.Advance(synthMonday + 900); err != nil {
				return err
			}
			return r.Feed(synthMonday, nil)
		}, ErrOutOfOrder},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRunner(job, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.feed(r); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestEmptyBucketsAreProcessed(t *testing.T) {
	r, err := NewRunner(mustJob(t, "docker_high_process_rate"), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Advance(synthMonday); err != nil {
		t.Fatal(err)
	}
	one := []Count{{Scope: ScopeContainer, Entity: "c", Bucket: synthMonday + 1800, Executable: "/bin/sh", Count: 3}}
	if err := r.Feed(synthMonday+1800, one); err != nil {
		t.Fatal(err)
	}
	if err := r.Advance(synthMonday + 5*900 + 1); err != nil { // the bucket at 5 spans has begun: it counts
		t.Fatal(err)
	}
	res := r.Results()
	if len(res.Buckets) != 6 {
		t.Fatalf("%d buckets, want 6", len(res.Buckets))
	}
	for i, b := range res.Buckets {
		if b.Timestamp != (synthMonday+int64(i)*900)*1000 {
			t.Fatalf("bucket %d at %d", i, b.Timestamp)
		}
		want := int64(0)
		if i == 2 {
			want = 3
		}
		if b.EventCount != want || b.ResultType != "bucket" || b.JobID != "docker_high_process_rate" {
			t.Fatalf("bucket %d = %+v", i, b)
		}
	}
}

// fineCounts splits a fleet's bucket counts into one-minute counts, as the
// cache stores them, with a few counts of the other scope mixed in.
func fineCounts(f *synthFleet) []Count {
	var out []Count
	f.each(func(bucket int64, counts []Count) {
		for _, c := range counts {
			n := c.Count
			for m := int64(0); n > 0; m = (m + 7) % 15 {
				part := (n + 1) / 2
				c2 := c
				c2.Bucket, c2.Count = c.Bucket+m*60, part
				out = append(out, c2)
				n -= part
			}
		}
		out = append(out, Count{Scope: ScopeContainer, Entity: "noise", Bucket: bucket, Executable: "/x", Count: 99})
	})
	// Time order within a bucket is not required; across buckets it is.
	return out
}

func TestRunGroupsFineCountsLikeFeed(t *testing.T) {
	f := newSynthFleet(4, 3)
	counts := fineCounts(f)
	for _, id := range []string{"host_rare_process", "host_high_process_rate"} {
		job := mustJob(t, id)
		opts := DefaultOptions()
		opts.KeepModel = true
		want := runSynth(t, job, opts, f)
		got, err := Run(job, opts, f.start, f.start+int64(f.buckets)*f.span, func(yield func(Count) error) error {
			for _, c := range counts {
				if err := yield(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: Run over one-minute counts differs from Feed over buckets (%d vs %d records)",
				id, len(got.Records), len(want.Records))
		}
	}
}

func TestRunErrors(t *testing.T) {
	job := mustJob(t, "host_high_process_rate")
	c := func(b int64) Count {
		return Count{Scope: ScopeHost, Entity: "h", Bucket: b, Executable: "/bin/sh", Count: 1}
	}
	_, err := Run(job, DefaultOptions(), synthMonday, synthMonday+86400, func(yield func(Count) error) error {
		if err := yield(c(synthMonday + 1800)); err != nil {
			return err
		}
		return yield(c(synthMonday + 60))
	})
	if !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("out of order stream: err = %v", err)
	}
	boom := errors.New("disk on fire")
	_, err = Run(job, DefaultOptions(), synthMonday, synthMonday+86400, func(func(Count) error) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("iterate error: err = %v", err)
	}
	res, err := Run(job, DefaultOptions(), synthMonday, synthMonday+3600, func(yield func(Count) error) error {
		for _, b := range []int64{synthMonday - 900, synthMonday + 900, synthMonday + 7200} {
			if err := yield(c(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var events int64
	for _, b := range res.Buckets {
		events += b.EventCount
	}
	if len(res.Buckets) != 4 || events != 1 {
		t.Fatalf("range [start, start+1h): %d buckets, %d events; want 4 and only the count inside", len(res.Buckets), events)
	}
}

func TestResultsAreCopies(t *testing.T) {
	f := newSynthFleet(3, 2)
	f.inject = func(h, b int, emit func(string, int64)) {
		if h == 1 && b == 150 {
			emit("/tmp/.x/dropper", 1)
		}
	}
	r, err := NewRunner(mustJob(t, "host_rare_process"), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	f.each(func(b int64, c []Count) {
		if err := r.Feed(b, c); err != nil {
			t.Fatal(err)
		}
	})
	a := r.Results()
	if len(a.Records) == 0 {
		t.Fatal("no records")
	}
	a.Records[0].Influencers[0].FieldValues[0] = "mutated"
	a.Records[0].Fleet.HostsBefore = -9
	a.Records[0].Actual[0] = -1
	b := r.Results()
	if b.Records[0].Influencers[0].FieldValues[0] == "mutated" || b.Records[0].Fleet.HostsBefore == -9 || b.Records[0].Actual[0] == -1 {
		t.Fatal("Results shares memory with the runner")
	}
}
