package cache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// referenceCounts answers a count query the straightforward way Counts once
// did: one GROUP BY over the whole range, names joined and the order made by
// SQLite. The windowed reader must give exactly its rows, in its order.
func referenceCounts(ctx context.Context, s *Store, q CountQuery) ([]engine.Count, error) {
	span, err := bucketSeconds(q.BucketSpan)
	if err != nil {
		return nil, err
	}
	where, args, err := countFilter(q.Scope, q.From, q.To, q.Selection, q.Entities, q.Loads)
	if err != nil {
		return nil, err
	}
	query := fmt.Sprintf(`WITH b AS (
		SELECT c.minute - ((c.minute %% %[1]d) + %[1]d) %% %[1]d AS bucket, c.entity_id, c.executable_id, SUM(c.count) AS n
		FROM minute_count c WHERE %[2]s
		GROUP BY bucket, c.entity_id, c.executable_id)
		SELECT b.bucket, e.scope, e.name, x.path, b.n
		FROM b JOIN entity e ON e.id = b.entity_id JOIN executable x ON x.id = b.executable_id
		ORDER BY b.bucket, e.scope, e.name, x.path`, span, where)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.Count
	for rows.Next() {
		var c engine.Count
		var scope string
		if err := rows.Scan(&c.Bucket, &scope, &c.Entity, &c.Executable, &c.Count); err != nil {
			return nil, err
		}
		c.Scope = engine.Scope(scope)
		out = append(out, c)
	}
	return out, rows.Err()
}

// countNames are the hosts, containers and executables of the random
// caches: byte order differs from case and accent order, names are prefixes
// of others, one is not UTF-8, and a host and a container share a name.
var countNames = struct {
	hosts, containers, exes []string
}{
	hosts:      []string{"host-1", "host-10", "host-2", "Host-3", "hôte-4", "h", "zz\xffa"},
	containers: []string{"svc-a", "svc-B", "host-1", "db", "db-1"},
	exes: []string{"/bin/sh", "/bin/sh2", "/bin/Sh", "/usr/bin/é", "/usr/bin/e", "/a", "/a/b", "",
		"/usr/bin/python3.11", "/\xff", "/usr/lib/x"},
}

// countCache is a random cache for count queries.
type countCache struct {
	s        *Store
	from, to time.Time // the span its counts lie in
	loads    []int64
}

// randomCountCache fills a cache with rows minutes of random counts, spread
// over loads sources, from start for days.
func randomCountCache(t testing.TB, seed uint64, start time.Time, days, loads, rows int) countCache {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s := openStore(t)
	cc := countCache{s: s, from: start, to: start.Add(time.Duration(days) * 24 * time.Hour)}
	minutes := int64(days) * 24 * 60
	for l := range loads {
		var counts []MinuteCount
		for range rows {
			c := MinuteCount{Minute: start.Unix() + r.Int64N(minutes)*60, Execution: r.IntN(4) > 0,
				Executable: countNames.exes[r.IntN(len(countNames.exes))]}
			// Busy minutes: many counts in a few minutes, so buckets sum
			// several rows.
			if r.IntN(3) == 0 {
				c.Minute = start.Unix() + r.Int64N(8)*60*60
			}
			if r.IntN(3) == 0 {
				c.Scope, c.Entity = sources.ScopeContainer, countNames.containers[r.IntN(len(countNames.containers))]
				c.Host = countNames.hosts[r.IntN(2)]
			} else {
				c.Scope, c.Entity = sources.ScopeHost, countNames.hosts[r.IntN(len(countNames.hosts))]
			}
			switch r.IntN(20) {
			case 0:
				c.Count = 1 << 40
			case 1, 2:
				c.Count = 255 + r.Int64N(1000)
			default:
				c.Count = 1 + r.Int64N(5)
			}
			counts = append(counts, c)
		}
		res, err := s.IngestSpan(context.Background(), SpanLoad{Source: fmt.Sprintf("src-%d", l), From: cc.from, To: cc.to,
			Selection: sources.AllSyscalls}, func(w *SpanWriter) error { return w.IngestCounts(counts...) })
		if err != nil {
			t.Fatal(err)
		}
		cc.loads = append(cc.loads, res.Load)
	}
	flattenCounts(t, s)
	return cc
}

// readAll runs the windowed reader with a window target of windowRows.
func readAll(ctx context.Context, s *Store, q CountQuery, windowRows int) ([]engine.Count, error) {
	span, err := bucketSeconds(q.BucketSpan)
	if err != nil {
		return nil, err
	}
	var out []engine.Count
	err = s.streamCounts(ctx, q, span, windowRows, func(c engine.Count) error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// randomCountQuery picks a query over cc: spans that divide a day or not,
// shorter or longer than the data, open, unaligned, empty and reversed
// ranges, entity and load filters.
func randomCountQuery(r *rand.Rand, cc countCache) CountQuery {
	spans := []time.Duration{0, time.Minute, 5 * time.Minute, 7 * time.Minute, 15 * time.Minute, time.Hour,
		13 * time.Hour, 24 * time.Hour, 1441 * time.Minute, 7 * 24 * time.Hour, 400 * 24 * time.Hour,
		cc.to.Sub(cc.from) + time.Minute}
	q := CountQuery{BucketSpan: spans[r.IntN(len(spans))]}
	q.Scope = []engine.Scope{"", engine.ScopeHost, engine.ScopeContainer}[r.IntN(3)]
	q.Selection = []sources.Selection{sources.Executions, sources.AllSyscalls}[r.IntN(2)]
	inside := func() time.Time {
		return cc.from.Add(time.Duration(r.Int64N(int64(cc.to.Sub(cc.from)))) - time.Hour)
	}
	switch r.IntN(7) {
	case 0: // open
	case 1:
		q.From = inside()
	case 2:
		q.To = inside()
	case 3, 4:
		q.From, q.To = inside(), inside()
		if q.To.Before(q.From) {
			q.From, q.To = q.To, q.From
		}
	case 5:
		q.From = inside()
		q.To = q.From.Add(time.Duration(r.IntN(3)) * time.Minute) // empty or one minute
	case 6:
		q.From, q.To = cc.to, cc.from // reversed
	}
	switch r.IntN(4) {
	case 0:
		q.Entities = []string{countNames.hosts[r.IntN(len(countNames.hosts))]}
	case 1:
		q.Entities = []string{"host-1", "svc-B", "nope"}
	}
	switch r.IntN(5) {
	case 0:
		q.Loads = cc.loads[:1]
	case 1:
		q.Loads = []int64{cc.loads[len(cc.loads)-1], 999}
	case 2:
		q.Loads = []int64{999}
	}
	return q
}

func TestCountsMatchReference(t *testing.T) {
	epoch := time.Unix(-2*24*3600-37*60, 0).UTC() // minutes before 1970 are negative
	cases := []struct {
		name    string
		start   time.Time
		days    int
		rows    int
		queries int
	}{
		{"2024", testStart, 9, 2500, 150},
		{"around the epoch", epoch, 4, 1500, 100},
	}
	windows := []int{countWindowRows, 1, 7, 100}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			cc := randomCountCache(t, uint64(i+1), c.start, c.days, 3, c.rows)
			r := rand.New(rand.NewPCG(uint64(i+100), 7))
			fixed := []CountQuery{
				{BucketSpan: 15 * time.Minute, Selection: sources.AllSyscalls}, // everything
				{BucketSpan: 7 * time.Minute, From: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), To: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
				{BucketSpan: time.Hour, From: cc.from, To: cc.to, Scope: engine.ScopeContainer},
				{BucketSpan: time.Minute, From: cc.from.Add(90 * time.Second), To: cc.from.Add(90 * time.Second)},
			}
			for n := range c.queries {
				q := randomCountQuery(r, cc)
				if n < len(fixed) {
					q = fixed[n]
				}
				want, err := referenceCounts(ctx, cc.s, q)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 && len(want) < 500 {
					t.Fatalf("the random cache holds only %d counts", len(want))
				}
				rows := windows[n%len(windows)]
				got, err := readAll(ctx, cc.s, q, rows)
				if err != nil {
					t.Fatalf("query %+v (window of %d rows): %v", q, rows, err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("query %+v (window of %d rows): %d counts, reference %d; first difference %s",
						q, rows, len(got), len(want), firstDifference(got, want))
				}
			}
		})
	}
}

func firstDifference(got, want []engine.Count) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if len(got) > len(want) {
		return fmt.Sprintf("extra %+v", got[len(want)])
	}
	if len(want) > len(got) {
		return fmt.Sprintf("missing %+v", want[len(got)])
	}
	return "none"
}

// The reader holds one snapshot: what is written while counts are handed
// out does not show in them.
func TestCountsReadOneSnapshot(t *testing.T) {
	ctx := context.Background()
	cc := randomCountCache(t, 11, testStart, 3, 1, 3000)
	q := CountQuery{BucketSpan: 5 * time.Minute, Selection: sources.AllSyscalls}
	want, err := referenceCounts(ctx, cc.s, q)
	if err != nil {
		t.Fatal(err)
	}
	span, _ := bucketSeconds(q.BucketSpan)
	var got []engine.Count
	wrote := false
	err = cc.s.streamCounts(ctx, q, span, 5, func(c engine.Count) error {
		if !wrote {
			// Tiny windows: the reader has most of the range still to read.
			wrote = true
			_, err := cc.s.IngestSpan(ctx, SpanLoad{Source: "late", From: cc.from, To: cc.to, Selection: sources.AllSyscalls},
				func(w *SpanWriter) error {
					var more []MinuteCount
					for m := cc.from.Unix(); m < cc.to.Unix(); m += 600 {
						more = append(more, MinuteCount{Scope: sources.ScopeHost, Entity: "host-1", Minute: m, Executable: "/bin/sh", Execution: true, Count: 1})
					}
					return w.IngestCounts(more...)
				})
			if err != nil {
				return err
			}
		}
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("counts changed under a concurrent write: %d, want %d; %s", len(got), len(want), firstDifference(got, want))
	}
	after, err := readAll(ctx, cc.s, q, countWindowRows)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) <= len(want) {
		t.Errorf("the write does not show afterwards: %d counts, before %d", len(after), len(want))
	}
}

// A cancelled read or a failing callback stops the reader and leaves the
// connection usable, outside any transaction.
func TestCountsStopCleanly(t *testing.T) {
	cc := randomCountCache(t, 12, testStart, 3, 1, 3000)
	q := CountQuery{BucketSpan: time.Minute, Selection: sources.AllSyscalls}
	span, _ := bucketSeconds(q.BucketSpan)
	for _, rows := range []int{3, countWindowRows, 3} {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		err := cc.s.streamCounts(ctx, q, span, rows, func(engine.Count) error {
			calls++
			if calls == 10 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled read: %v", err)
		}
		if calls > 10+cancelCheck {
			t.Errorf("%d counts handed out after the cancel", calls-10)
		}
		stop := errors.New("enough")
		calls = 0
		err = cc.s.Counts(context.Background(), q, func(engine.Count) error {
			calls++
			return stop
		})
		if err != stop || calls != 1 {
			t.Fatalf("callback error: %v after %d calls", err, calls)
		}
	}
	// Every pooled connection is outside a transaction: a write commits and
	// the next read sees it.
	_, err := cc.s.IngestSpan(context.Background(), SpanLoad{Source: "after", From: cc.from, To: cc.to, Selection: sources.AllSyscalls},
		func(w *SpanWriter) error {
			return w.IngestCounts(MinuteCount{Scope: sources.ScopeHost, Entity: "new-host", Minute: cc.from.Unix(), Executable: "/bin/new", Execution: true, Count: 3})
		})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(context.Background(), cc.s, CountQuery{Entities: []string{"new-host"}}, countWindowRows)
	if err != nil || len(got) != 1 || got[0].Count != 3 || got[0].Executable != "/bin/new" {
		t.Errorf("after the stops: %+v %v", got, err)
	}
}

func TestCountsEmptyCache(t *testing.T) {
	s := openStore(t)
	for _, q := range []CountQuery{{}, {Scope: engine.ScopeHost, From: testStart, To: testStart.Add(time.Hour)}, {Entities: []string{"x"}}} {
		got, err := readAll(context.Background(), s, q, countWindowRows)
		if err != nil || len(got) != 0 {
			t.Errorf("%+v: %v %v", q, got, err)
		}
	}
}

// The window statement seeks the entity index entity by entity and a day's
// range of block starts, and neither sorts nor reads through the load index.
func TestCountsWindowQueryPlan(t *testing.T) {
	s := openStore(t)
	for _, q := range []CountQuery{
		{},
		{Scope: engine.ScopeHost, Selection: sources.Executions},
		{Scope: engine.ScopeContainer, Entities: []string{"a", "b"}, Loads: []int64{1, 2}},
		{Loads: []int64{3}, Selection: sources.AllSyscalls},
	} {
		query, args, err := windowQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]any, len(args))
		for i, a := range args {
			vals[i] = a.Value
		}
		rows, err := s.db.Query("EXPLAIN QUERY PLAN "+query, vals...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "\n")
		if !strings.Contains(all, "SEARCH c USING INDEX count_block_by_entity (entity_id=? AND first_minute>? AND first_minute<?)") ||
			strings.Contains(all, "TEMP B-TREE") || strings.Contains(all, "count_block_by_load") || strings.Contains(all, "SCAN c") {
			t.Errorf("%+v: plan\n%s", q, all)
		}
	}
}

func TestRadixSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var hist [][radixSize]uint32
	for _, width := range []uint{0, 1, 5, 11, 12, 22, 23, 40, 63, 64} {
		for _, n := range []int{0, 1, 2, 100, 5000} {
			a := make([]countEntry, n)
			for i := range a {
				k := r.Uint64()
				if width < 64 {
					k &= 1<<width - 1
				}
				if i%3 == 0 && i > 0 {
					k = a[i-1].key // duplicates keep their order
				}
				a[i] = countEntry{key: k, count: int64(i)}
			}
			want := slices.Clone(a)
			slices.SortStableFunc(want, func(x, y countEntry) int { return cmp.Compare(x.key, y.key) })
			got := radixSort(a, make([]countEntry, n), width, &hist)
			if !slices.Equal(got, want) {
				t.Errorf("width %d, %d keys: not sorted stably", width, n)
			}
		}
	}
}

func TestNextWindow(t *testing.T) {
	cases := []struct {
		name         string
		w, length    int64
		rows, target int
		want         int64
	}{
		{"empty grows", 60, 60, 0, 1000, 480},
		{"dense shrinks", 3600, 3600, 4000, 1000, 900},
		{"sparse grows at most eightfold", 3600, 3600, 10, 1000, 28800},
		{"at least a minute", 60, 60, 1 << 20, 10, 60},
		{"short window measured", 3600, 600, 100, 1000, 6000},
		{"bounded", maxWindow, maxWindow, 0, 1000, maxWindow},
	}
	for _, c := range cases {
		if got := nextWindow(c.w, c.length, c.rows, c.target); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// A file opened read-only (a copied cache, a saved case) is read the same
// way: the read transaction writes nothing.
func TestCountsReadOnly(t *testing.T) {
	ctx := context.Background()
	cc := randomCountCache(t, 13, testStart, 2, 2, 1500)
	q := CountQuery{BucketSpan: 15 * time.Minute, Selection: sources.AllSyscalls, Loads: cc.loads[1:]}
	want, err := referenceCounts(ctx, cc.s, q)
	if err != nil {
		t.Fatal(err)
	}
	path := cc.s.Path()
	if err := cc.s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for range 2 {
		got, err := readAll(ctx, ro, q, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("read-only: %d counts, want %d; %s", len(got), len(want), firstDifference(got, want))
		}
	}
}

// Executable ids far apart, and counts naming an executable without a row,
// as a file written elsewhere may hold: the sums are those of the join.
func TestCountsSparseExecutableIDs(t *testing.T) {
	ctx := context.Background()
	cc := randomCountCache(t, 14, testStart, 2, 1, 800)
	var host int64
	if err := cc.s.db.QueryRow("SELECT id FROM entity WHERE scope = 'host' AND name = 'host-2'").Scan(&host); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.s.db.Exec("INSERT INTO executable (id, path) VALUES (1099511627776, '/far/away'), (4194304, '/at/the/edge')"); err != nil {
		t.Fatal(err)
	}
	m := testStart.Unix()
	addCountBlock(t, cc.s, cc.loads[0], host, []countRow{
		{minute: m, exe: 4000, count: 11}, {minute: m, exe: 4194304, count: 2}, {minute: m, exe: 1099511627776, count: 5},
		{minute: m + 60, exe: 1099511627776, count: 7},
	})
	flattenCounts(t, cc.s)
	for _, rows := range []int{countWindowRows, 3} {
		q := CountQuery{BucketSpan: 15 * time.Minute, Selection: sources.AllSyscalls}
		want, err := referenceCounts(ctx, cc.s, q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(ctx, cc.s, q, rows)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("window of %d rows: %d counts, want %d; %s", rows, len(got), len(want), firstDifference(got, want))
		}
		far := 0
		for _, c := range got {
			if c.Executable == "/far/away" && c.Count == 12 || c.Executable == "/at/the/edge" && c.Count == 2 {
				far++
			}
		}
		if far != 2 {
			t.Errorf("window of %d rows: the far executables' counts are missing", rows)
		}
	}
	// Ids past what a key holds are refused, not misread.
	if _, err := cc.s.db.Exec("INSERT INTO executable (id, path) VALUES (4611686018427387904, '/beyond')"); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(ctx, cc.s, CountQuery{}, countWindowRows); err == nil || !strings.Contains(err.Error(), "more than a count key holds") {
		t.Errorf("ids past 2^62: %v", err)
	}
}

// addCountBlock stores rows, in block order and of one day, as a block of a
// load and an entity, as a file written elsewhere may hold them.
func addCountBlock(t testing.TB, s *Store, load, entity int64, rows []countRow) {
	t.Helper()
	_, err := s.db.Exec(insertCountBlockSQL(""), load, entity, rows[0].minute, rows[len(rows)-1].minute, len(rows), appendCountBlock(nil, rows))
	if err != nil {
		t.Fatal(err)
	}
}
