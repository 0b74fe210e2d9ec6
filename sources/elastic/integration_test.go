package elastic

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

type countKey struct {
	scope    engine.Scope
	entity   string
	bucket   int64
	exe      string
	selected sources.Selection
}

// countsOf reads a cache's 15-minute counts of hosts and containers.
func countsOf(t testing.TB, store *cache.Store, sel sources.Selection) map[countKey]int64 {
	t.Helper()
	out := map[countKey]int64{}
	for _, scope := range []engine.Scope{engine.ScopeHost, engine.ScopeContainer} {
		err := store.Counts(context.Background(), cache.CountQuery{Scope: scope, BucketSpan: 15 * time.Minute, Selection: sel}, func(c engine.Count) error {
			out[countKey{c.Scope, c.Entity, c.Bucket, c.Executable, sel}] += c.Count
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func diffCounts(t testing.TB, got, want map[countKey]int64) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("the file cache holds no counts: the comparison would prove nothing")
	}
	bad := 0
	for k, w := range want {
		if g := got[k]; g != w {
			if bad < 10 {
				t.Errorf("%s %q %s %s: pushdown %d, file %d", k.scope, k.entity, time.Unix(k.bucket, 0).UTC().Format(time.DateTime), k.exe, g, w)
			}
			bad++
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			if bad < 10 {
				t.Errorf("%s %q %s %s: pushdown %d, not in the file", k.scope, k.entity, time.Unix(k.bucket, 0).UTC().Format(time.DateTime), k.exe, g)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d buckets differ", bad, len(want))
	}
}

func containerHosts(t testing.TB, store *cache.Store) map[string][]string {
	t.Helper()
	ents, err := store.Entities(context.Background(), engine.ScopeContainer)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, e := range ents {
		out[e.Name] = e.Hosts
	}
	return out
}

// TestPushdownCountsEqualFileCounts indexes the demo fleet into a real node,
// once with ECS and once with Auditbeat 6.x field names, loads the bucket
// counts through the aggregation, and compares them with the counts the file
// readers make of the same fleet's ECS NDJSON file.
func TestPushdownCountsEqualFileCounts(t *testing.T) {
	url, ecsIndex, v6Index := indexedFleet(t)
	fleet, ecsFile, _ := testFleetFiles(t)

	from, to := fleet.Start(), fleet.End()
	cases := []struct {
		name    string
		index   string
		mapping Mapping
		sel     sources.Selection
	}{
		{"ecs executions", ecsIndex[:len(ecsIndex)-3] + "*", MappingECS, sources.Executions},
		{"ecs all syscalls", ecsIndex, MappingECS, sources.AllSyscalls},
		{"6x executions", v6Index, Mapping6x, sources.Executions},
		{"6x all syscalls", v6Index, Mapping6x, sources.AllSyscalls},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			want := countsOf(t, fileCache(t, ecsFile, c.sel), c.sel)
			wantHosts := containerHosts(t, fileCache(t, ecsFile, c.sel))

			m := &meter{}
			src, warnings, err := Open(ctx, Config{URLs: []string{url}, Index: c.index, wrap: m.wrap})
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) > 0 {
				t.Errorf("warnings: %q", warnings)
			}
			if src.Mapping() != c.mapping {
				t.Errorf("mapping %s, want %s", src.Mapping(), c.mapping)
			}
			store := openStore(t)
			var last Progress
			res, err := src.LoadCounts(ctx, store, from, to, c.sel, func(p Progress) { last = p })
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d requests, %d pages, %d buckets, %d events, %d spans", res.Requests, res.Pages, res.Buckets, res.Events, len(res.Stored))
			if len(res.Partial) > 0 || len(res.Warnings) > 0 {
				t.Errorf("partial %v, warnings %q", res.Partial, res.Warnings)
			}
			if len(res.Stored) != 2 || last.SpansDone != 2 || last.Done != to.Sub(from) || last.Pages != res.Pages {
				t.Errorf("stored %v, last progress %+v", res.Stored, last)
			}
			diffCounts(t, countsOf(t, store, c.sel), want)
			if got := containerHosts(t, store); !reflect.DeepEqual(got, wantHosts) {
				t.Errorf("container hosts %v, want %v", got, wantHosts)
			}

			// A second load finds everything in the cache and asks nothing.
			if missing, _ := store.MissingSpans(ctx, src.Key(c.sel), from, to); len(missing) != 0 {
				t.Errorf("missing after the load: %v", missing)
			}
			before := m.requests.Load()
			again, err := src.LoadCounts(ctx, store, from, to, c.sel, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n := m.requests.Load() - before; n != 0 || again.Requests != 0 || len(again.Missing) != 0 {
				t.Errorf("second load sent %d requests (result %+v)", n, again)
			}
		})
	}
}

// normalized drops what differs by origin (a file line, or an index and
// document id) and orders events for comparison.
func normalized(evs []sources.Event) []sources.Event {
	out := make([]sources.Event, len(evs))
	for i, ev := range evs {
		ev.Origin = sources.Origin{}
		if len(ev.Args) == 0 {
			ev.Args = nil
		}
		out[i] = ev
	}
	slices.SortStableFunc(out, func(a, b sources.Event) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.PID, b.PID), strings.Compare(a.Executable, b.Executable))
	})
	return out
}

// TestDrillDownMatchesFileEvents compares drill-down windows read through a
// point in time with the events the file readers stored for them.
func TestDrillDownMatchesFileEvents(t *testing.T) {
	url, ecsIndex, v6Index := indexedFleet(t)
	fleet, ecsFile, _ := testFleetFiles(t)
	files := fileCache(t, ecsFile, sources.Executions)
	ctx := context.Background()

	var rare, spree cache.DrillDownWindow
	for _, l := range fleet.Labels().Labels {
		w := cache.DrillDownWindow{Scope: sources.Scope(l.Scope), Entity: l.Entity,
			From: l.Start.Truncate(time.Hour).Add(-time.Hour), To: l.End.Truncate(time.Hour).Add(2 * time.Hour)}
		switch l.Kind {
		case "rare-host-process":
			rare = w
		case "ssh-scp-spree":
			spree = w
		}
	}
	containers := fleet.Containers()
	if len(containers) == 0 {
		t.Fatal("the test fleet has no container")
	}
	box := cache.DrillDownWindow{Scope: sources.ScopeContainer, Entity: containers[0].Name, From: fleet.Start().Add(6 * time.Hour), To: fleet.Start().Add(12 * time.Hour)}
	scp := spree
	scp.Executable = "/usr/bin/scp"

	for _, index := range []string{ecsIndex, v6Index} {
		src, _, err := Open(ctx, Config{URLs: []string{url}, Index: index})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []struct {
			name string
			w    cache.DrillDownWindow
		}{{"rare process host", rare}, {"copy spree host", spree}, {"scp on the spree host", scp}, {"container", box}} {
			t.Run(fmt.Sprintf("%s/%s", index[:11], w.name), func(t *testing.T) {
				want, err := files.Events(ctx, cache.EventQuery{Scope: w.w.Scope, Entity: w.w.Entity, From: w.w.From, To: w.w.To, Executable: w.w.Executable})
				if err != nil {
					t.Fatal(err)
				}
				if len(want) < 3 {
					t.Fatalf("the window holds %d events: too few to compare", len(want))
				}
				got, truncated, err := src.DrillDown(ctx, w.w, 0)
				if err != nil {
					t.Fatal(err)
				}
				if truncated {
					t.Errorf("truncated at the default cap with %d events", len(got))
				}
				for _, ev := range got {
					if ev.Origin.Index != index || ev.Origin.ID == "" {
						t.Fatalf("origin %+v", ev.Origin)
					}
				}
				g, wn := normalized(got), normalized(want)
				if strings.HasPrefix(index, "auditbeat-6-") {
					for i := range wn {
						wn[i].Container.Runtime = "" // Auditbeat 6.x documents do not record it
					}
				}
				if !reflect.DeepEqual(g, wn) {
					t.Errorf("%d events from the cluster, %d from the file", len(g), len(wn))
					for i := range min(len(g), len(wn)) {
						if !reflect.DeepEqual(g[i], wn[i]) {
							t.Fatalf("first difference at %d:\ncluster %+v\nfile    %+v", i, g[i], wn[i])
						}
					}
				}

				// A cap below the window's size truncates and says so.
				capped, truncated, err := src.DrillDown(ctx, w.w, len(want)-1)
				if err != nil {
					t.Fatal(err)
				}
				if !truncated || len(capped) != len(want)-1 {
					t.Errorf("cap %d: %d events, truncated %v", len(want)-1, len(capped), truncated)
				}
				for i := range capped {
					if !capped[i].Time.Equal(got[i].Time) {
						t.Fatalf("capped answer differs at %d", i)
					}
				}
			})
		}
	}

	// Through the cache: fetched once, then read offline, counts untouched.
	src, _, err := Open(ctx, Config{URLs: []string{url}, Index: ecsIndex})
	if err != nil {
		t.Fatal(err)
	}
	store := openStore(t)
	if _, err := src.LoadCounts(ctx, store, fleet.Start(), fleet.End(), sources.Executions, nil); err != nil {
		t.Fatal(err)
	}
	countsBefore := countsOf(t, store, sources.AllSyscalls)
	first, _, fromCache, err := src.LoadDrillDown(ctx, store, rare, 0)
	if err != nil || fromCache {
		t.Fatalf("first drill-down: from cache %v, err %v", fromCache, err)
	}
	second, _, fromCache, err := src.LoadDrillDown(ctx, store, rare, 0)
	if err != nil || !fromCache {
		t.Fatalf("second drill-down: from cache %v, err %v", fromCache, err)
	}
	if !reflect.DeepEqual(normalized(first), normalized(second)) {
		t.Errorf("cached drill-down differs: %d events, then %d", len(first), len(second))
	}
	if second[0].Origin.Index == "" || second[0].Origin.ID == "" {
		t.Errorf("cached events lost their origin: %+v", second[0].Origin)
	}
	diffCounts(t, countsOf(t, store, sources.AllSyscalls), countsBefore)
}
