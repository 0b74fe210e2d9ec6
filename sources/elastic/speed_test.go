package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/auditlens/auditlens/sources"
)

// pullRaw is what a source without pushdown would do: page through every
// selected document of the range with search_after on a point in time, and
// read each into an event. It returns the pages and events read.
func pullRaw(ctx context.Context, s *Source, from, to time.Time, sel sources.Selection) (pages int, events int64, err error) {
	pit, err := s.openPIT(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer s.closePIT(context.WithoutCancel(ctx), pit)
	p := s.plan
	body := obj{
		"size":             5000,
		"track_total_hits": false,
		"query":            allOf(p.timeRange(from.UnixMilli(), to.UnixMilli()), p.selection(sel), p.hasExecutable()),
		"sort":             []obj{{p.time: obj{"order": "asc"}}, {"_shard_doc": obj{"order": "asc"}}},
		"pit":              obj{"id": pit.id, "keep_alive": pitKeepAlive},
	}
	var buf bytes.Buffer
	for {
		var page hitsPage
		if _, err := s.searchJSON(ctx, "pull raw documents", "/_search", body, nil, &page); err != nil {
			return pages, events, err
		}
		pages++
		if len(page.Hits.Hits) == 0 {
			return pages, events, nil
		}
		buf.Reset()
		for _, h := range page.Hits.Hits {
			json.Compact(&buf, h)
			buf.WriteByte('\n')
		}
		rep, err := sources.ReadDocuments(ctx, &buf, "", sources.Options{Selection: sel}, func(*sources.Event) error { return nil })
		if err != nil {
			return pages, events, err
		}
		events += rep.Events
		var last struct {
			Sort []json.RawMessage `json:"sort"`
		}
		if err := json.Unmarshal(page.Hits.Hits[len(page.Hits.Hits)-1], &last); err != nil {
			return pages, events, err
		}
		body["search_after"] = last.Sort
		if page.PitID != "" {
			body["pit"] = obj{"id": page.PitID, "keep_alive": pitKeepAlive}
		}
	}
}

type transfer struct {
	requests, pages int64
	body, wire      int64 // response bytes as read, and as sent (gzip)
	wall            time.Duration
	events          int64
}

// measure runs fn twice against a fresh source: once counting the response
// bodies as the client reads them, once counting them gzipped on the wire.
func measure(t testing.TB, url, index string, fn func(ctx context.Context, s *Source) (pages int, events int64)) transfer {
	t.Helper()
	var tr transfer
	for _, wire := range []bool{false, true} {
		m := &meter{wire: wire}
		s, _, err := Open(context.Background(), Config{URLs: []string{url}, Index: index, wrap: m.wrap})
		if err != nil {
			t.Fatal(err)
		}
		open := m.requests.Load()
		start := time.Now()
		pages, events := fn(context.Background(), s)
		wall := time.Since(start)
		if wire {
			tr.wire = m.bytes.Load()
		} else {
			tr.body, tr.wall, tr.requests = m.bytes.Load(), wall, m.requests.Load()-open
			tr.pages, tr.events = int64(pages), events
		}
	}
	return tr
}

// TestPushdownMovesFarFewerBytes compares loading the fleet's counts through
// the aggregation with pulling its raw documents, on a real node.
func TestPushdownMovesFarFewerBytes(t *testing.T) {
	url, index, _ := indexedFleet(t)
	fleet, _, _ := testFleetFiles(t)
	from, to := fleet.Start(), fleet.End()
	days := to.Sub(from).Hours() / 24

	push := measure(t, url, index, func(ctx context.Context, s *Source) (int, int64) {
		res, err := s.LoadCounts(ctx, openStore(t), from, to, sources.Executions, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Pages, res.Events
	})
	raw := measure(t, url, index, func(ctx context.Context, s *Source) (int, int64) {
		pages, events, err := pullRaw(ctx, s, from, to, sources.Executions)
		if err != nil {
			t.Fatal(err)
		}
		return pages, events
	})
	for _, x := range []struct {
		name string
		tr   transfer
	}{{"pushdown", push}, {"raw documents", raw}} {
		t.Logf("%-13s %6d events, %3d requests, %3d pages (%.1f per day of data), %9d body bytes, %8d gzip bytes on the wire, %v wall, %.0f pages/minute",
			x.name, x.tr.events, x.tr.requests, x.tr.pages, float64(x.tr.pages)/days, x.tr.body, x.tr.wire, x.tr.wall.Round(time.Millisecond),
			float64(x.tr.pages)/x.tr.wall.Minutes())
	}
	ratio := float64(raw.body) / float64(push.body)
	t.Logf("the pushdown moves %.1fx fewer body bytes (%.1fx fewer on the wire) and takes %.1fx less time",
		ratio, float64(raw.wire)/float64(push.wire), raw.wall.Seconds()/push.wall.Seconds())
	if push.events != raw.events {
		t.Errorf("the pushdown counted %d events, the raw pull read %d", push.events, raw.events)
	}
	if ratio < 20 {
		t.Errorf("the pushdown moves only %.1fx fewer bytes than pulling the documents, want at least 20x", ratio)
	}
}

// BenchmarkLoadCounts loads the fleet's counts into a fresh cache through
// the aggregation; run with AUDITLENS_ES_URL set.
func BenchmarkLoadCounts(b *testing.B) {
	url, index, _ := indexedFleet(b)
	fleet, _, _ := testFleetFiles(b)
	m := &meter{}
	s, _, err := Open(context.Background(), Config{URLs: []string{url}, Index: index, wrap: m.wrap})
	if err != nil {
		b.Fatal(err)
	}
	m.bytes.Store(0)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		store := openStore(b)
		b.StartTimer()
		if _, err := s.LoadCounts(context.Background(), store, fleet.Start(), fleet.End(), sources.Executions, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(m.bytes.Load())/float64(b.N), "bytes/op")
}

// BenchmarkPullRawDocuments reads the same range's documents one by one.
func BenchmarkPullRawDocuments(b *testing.B) {
	url, index, _ := indexedFleet(b)
	fleet, _, _ := testFleetFiles(b)
	m := &meter{}
	s, _, err := Open(context.Background(), Config{URLs: []string{url}, Index: index, wrap: m.wrap})
	if err != nil {
		b.Fatal(err)
	}
	m.bytes.Store(0)
	b.ResetTimer()
	for range b.N {
		if _, _, err := pullRaw(context.Background(), s, fleet.Start(), fleet.End(), sources.Executions); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(m.bytes.Load())/float64(b.N), "bytes/op")
}
