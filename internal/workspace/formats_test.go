package workspace

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
	"github.com/auditlens/auditlens/sources/fleetgen"
)

// TestFormatsAgree writes one fleet as ECS NDJSON, 6.x NDJSON and raw
// audit.log, reads each through the real readers into its own cache, and
// checks the host bucket counts and the host jobs' results are identical
// (raw logs hold no containers, so container jobs are compared between the
// two NDJSON forms only).
func TestFormatsAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads a fleet three times")
	}
	ctx := context.Background()
	cfg := fleetgen.Default()
	cfg.Days, cfg.Hosts, cfg.Containers = 4, 10, 4
	fleet, err := fleetgen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := fleet.WriteAll(ctx, dir, fleetgen.WriteOptions{Gzip: true}); err != nil {
		t.Fatal(err)
	}
	type loaded struct {
		name  string
		store *cache.Store
	}
	var all []loaded
	for _, f := range []struct{ name, path string }{
		{"ecs", filepath.Join(dir, "ecs")},
		{"6x", filepath.Join(dir, "6x")},
		{"auditlog", filepath.Join(dir, "raw", "*", "audit.log.gz")},
	} {
		store, err := cache.Open(ctx, filepath.Join(t.TempDir(), f.name+".db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		inputs, err := sources.Discover([]string{f.path}, sources.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := store.Ingest(ctx, inputs, cache.IngestOptions{})
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		for _, in := range res.Inputs {
			if r := in.Report.Rejected(); r != 0 {
				t.Fatalf("%s: %d rejected lines:\n%s", f.name, r, in.Report.Summary())
			}
		}
		all = append(all, loaded{f.name, store})
	}

	counts := func(s *cache.Store, scope engine.Scope) []engine.Count {
		var out []engine.Count
		if err := s.Counts(ctx, cache.CountQuery{Scope: scope, BucketSpan: 15 * time.Minute}, func(c engine.Count) error {
			out = append(out, c)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	ref := counts(all[0].store, engine.ScopeHost)
	if len(ref) == 0 {
		t.Fatal("no host counts")
	}
	for _, l := range all[1:] {
		if got := counts(l.store, engine.ScopeHost); !reflect.DeepEqual(got, ref) {
			t.Errorf("%s host bucket counts differ from ecs (%d vs %d rows)", l.name, len(got), len(ref))
		}
	}
	if got, want := counts(all[1].store, engine.ScopeContainer), counts(all[0].store, engine.ScopeContainer); !reflect.DeepEqual(got, want) || len(want) == 0 {
		t.Errorf("6x container counts differ from ecs (%d vs %d rows)", len(got), len(want))
	}

	for _, id := range []string{"host_rare_process", "host_high_process_rate"} {
		job, _ := engine.JobByID(id)
		var first engine.Results
		for i, l := range all {
			out, err := New(l.store).Detect(ctx, Scan{Job: job, Options: engine.DefaultOptions()})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = out.Results
				continue
			}
			if !reflect.DeepEqual(out.Results.Records, first.Records) || !reflect.DeepEqual(out.Results.Buckets, first.Buckets) {
				t.Errorf("%s: %s results differ from ecs (%d vs %d records)", id, l.name, len(out.Results.Records), len(first.Records))
			}
		}
	}
}
