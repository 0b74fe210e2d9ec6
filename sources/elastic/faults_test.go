package elastic

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// These tests put the source in front of fakeCluster, an httptest server
// standing in for Elasticsearch so that faults can be injected at will.

var fakeRange = struct{ from, to time.Time }{fakeDay, fakeDay.Add(48 * time.Hour)}

// fakeTotals are the fake's counts per scope and entity.
func fakeTotals() map[string]int64 {
	out := map[string]int64{}
	for _, b := range fakeBuckets {
		if b.container != "" {
			out["container "+b.container] += b.n
		} else {
			out["host "+b.host] += b.n
		}
	}
	return out
}

func totalsOf(t testing.TB, store *cache.Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := store.Counts(context.Background(), cache.CountQuery{BucketSpan: time.Hour}, func(c engine.Count) error {
		out[string(c.Scope)+" "+c.Entity] += c.Count
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func equalTotals(t testing.TB, got, want map[string]int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("counts %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("counts %v, want %v", got, want)
		}
	}
}

func openFake(t testing.TB, f *fakeCluster, cfg Config) *Source {
	t.Helper()
	s, _, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadCountsFromFake(t *testing.T) {
	f := newFakeCluster(t)
	s := openFake(t, f, f.config())
	s.pageSize = 2 // several pages per span
	store := openStore(t)
	var progress []Progress
	res, err := s.LoadCounts(context.Background(), store, fakeRange.from, fakeRange.to, sources.Executions, func(p Progress) { progress = append(progress, p) })
	if err != nil {
		t.Fatal(err)
	}
	equalTotals(t, totalsOf(t, store), fakeTotals())
	if len(res.Stored) != 2 || len(res.Partial) != 0 || res.Buckets != int64(len(fakeBuckets)) {
		t.Errorf("result %+v", res)
	}
	if f.count("probe") != 1 || f.count("composite") != res.Pages || res.Requests != res.Pages+1 {
		t.Errorf("%d probes, %d composite requests, result %+v", f.count("probe"), f.count("composite"), res)
	}
	last := progress[len(progress)-1]
	if last.SpansDone != 2 || last.Done != 48*time.Hour || last.Events != 25 || last.Buckets != int64(len(fakeBuckets)) {
		t.Errorf("last progress %+v", last)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i].Pages < progress[i-1].Pages || progress[i].Done < progress[i-1].Done {
			t.Fatalf("progress went back: %+v then %+v", progress[i-1], progress[i])
		}
	}
	ents, _ := store.Entities(context.Background(), engine.ScopeContainer)
	if len(ents) != 1 || ents[0].Name != "api-1" || len(ents[0].Hosts) != 1 || ents[0].Hosts[0] != "web-1" {
		t.Errorf("containers %+v", ents)
	}
}

func TestRetriesThenSucceeds(t *testing.T) {
	cases := []struct {
		name  string
		fault func(w http.ResponseWriter, r *http.Request)
	}{
		{"429 too many requests", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "0")
			writeJSON(w, 429, map[string]any{"error": map[string]any{"type": "es_rejected_execution_exception",
				"reason": "rejected execution of coordinating operation"}, "status": 429})
		}},
		{"502 bad gateway", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "<html>bad gateway</html>", 502) }},
		{"connection reset mid-page", func(w http.ResponseWriter, r *http.Request) {
			hijackMidPage(w)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeCluster(t)
			s := openFake(t, f, f.config())
			f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
				if route == "composite" && n <= 2 {
					c.fault(w, r)
					return true
				}
				return false
			})
			store := openStore(t)
			res, err := s.LoadCounts(context.Background(), store, fakeRange.from, fakeRange.to, sources.Executions, nil)
			if err != nil {
				t.Fatal(err)
			}
			equalTotals(t, totalsOf(t, store), fakeTotals())
			if len(res.Partial) != 0 {
				t.Errorf("partial %v", res.Partial)
			}
			if got := f.count("composite"); got != res.Pages+2 {
				t.Errorf("%d composite requests for %d pages: each fault was not retried once", got, res.Pages)
			}
		})
	}
}

// hijackMidPage sends the start of an answer and drops the connection.
func hijackMidPage(w http.ResponseWriter) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Elastic-Product: Elasticsearch\r\nContent-Length: 5000\r\n\r\n")
	buf.WriteString(`{"timed_out":false,"_shards":{"total":2,"successful":2,"failed":0},"aggregations":{"b":{"buckets":[{"key":{"t":17`)
	buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // a reset, not a clean close
	}
	conn.Close()
}

func TestGivesUpOnUnavailableCluster(t *testing.T) {
	f := newFakeCluster(t)
	cfg := f.config()
	cfg.MaxRetries = 3
	cfg.APIKey = "c2VjcmV0LWlkOnNlY3JldC1rZXk="
	s := openFake(t, f, cfg)
	f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
		if route == "composite" {
			writeJSON(w, 503, map[string]any{"error": map[string]any{"type": "cluster_block_exception",
				"reason": "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];"}, "status": 503})
			return true
		}
		return false
	})
	store := openStore(t)
	_, err := s.LoadCounts(context.Background(), store, fakeRange.from, fakeRange.to, sources.Executions, nil)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("error %v, want ErrUnavailable", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Attempts != 4 || e.Status != 503 {
		t.Fatalf("error %#v", err)
	}
	if f.count("composite") != 4 {
		t.Errorf("%d attempts, want 4", f.count("composite"))
	}
	msg := err.Error()
	for _, want := range []string{f.URL(), "auditbeat-*", "HTTP 503", "after 4 attempts", "state not recovered", "check the cluster's health"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	assertNoSecret(t, msg, cfg)
	// Nothing of the failed span is kept.
	if missing, _ := store.MissingSpans(context.Background(), s.Key(sources.Executions), fakeRange.from, fakeRange.to); len(missing) != 1 || !missing[0].From.Equal(fakeRange.from) {
		t.Errorf("missing %v", missing)
	}
}

func TestShardFailuresAreReported(t *testing.T) {
	f := newFakeCluster(t)
	s := openFake(t, f, f.config())
	s.pageSize = 2
	f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
		if route != "composite" || n != 2 {
			return false
		}
		// The first day's second page misses a shard.
		writeJSON(w, 200, map[string]any{"timed_out": false, "_shards": map[string]any{"total": 2, "successful": 1, "failed": 1,
			"failures": []any{map[string]any{"shard": 1, "index": "auditbeat-8.19.0-2024.03.04", "node": "n1",
				"reason": map[string]any{"type": "circuit_breaking_exception", "reason": "[parent] Data too large, data for [<agg [b]>] would be larger than limit\x1b[31m"}}}},
			"aggregations": map[string]any{"b": map[string]any{"buckets": []any{map[string]any{
				"key": map[string]any{"t": fakeDay.Add(10 * time.Minute).UnixMilli(), "h": "web-1", "x": "/usr/bin/ls"}, "doc_count": 3}}}}})
		return true
	})
	store := openStore(t)
	res, err := s.LoadCounts(context.Background(), store, fakeRange.from, fakeRange.to, sources.Executions, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "1 of 2 shards failed") ||
		!strings.Contains(res.Warnings[0], "circuit_breaking_exception: [parent] Data too large") || strings.Contains(res.Warnings[0], "\x1b") {
		t.Errorf("warnings %q", res.Warnings)
	}
	// The day with the failure is stored but not marked loaded.
	day1 := cache.Span{From: fakeDay, To: fakeDay.Add(24 * time.Hour)}
	if len(res.Partial) != 1 || res.Partial[0] != day1 {
		t.Errorf("partial %v", res.Partial)
	}
	missing, _ := store.MissingSpans(context.Background(), s.Key(sources.Executions), fakeRange.from, fakeRange.to)
	if len(missing) != 1 || missing[0] != day1 {
		t.Errorf("missing %v, want the first day", missing)
	}
	equalTotals(t, totalsOf(t, store), fakeTotals())
	if res.Events != 25 || res.Buckets != int64(len(fakeBuckets)) {
		t.Errorf("the refetched span was counted twice: %d events, %d buckets", res.Events, res.Buckets)
	}
}

func TestRefusalsSayWhatToDo(t *testing.T) {
	securityBody := map[string]any{
		"error": map[string]any{
			"root_cause": []any{map[string]any{"type": "security_exception",
				"reason": "action [indices:data/read/search] is unauthorized for user [analyst] with effective roles [viewer] on indices [auditbeat-8.19.0-2024.03.04], this action is granted by the index privileges [read,all]"}},
			"type":   "security_exception",
			"reason": "action [indices:data/read/search] is unauthorized for user [analyst] with effective roles [viewer] on indices [auditbeat-8.19.0-2024.03.04], this action is granted by the index privileges [read,all]",
		},
		"status": 403,
	}
	unauthorized := map[string]any{"error": map[string]any{"type": "security_exception",
		"reason": "unable to authenticate with provided credentials and anonymous access is not allowed for this request",
		"header": map[string]any{"WWW-Authenticate": []string{`Basic realm="security" charset="UTF-8"`, "ApiKey"}}}, "status": 401}
	notFound := map[string]any{"error": map[string]any{"type": "index_not_found_exception", "reason": "no such index [auditbeat-*]",
		"index": "auditbeat-*", "resource.type": "index_or_alias"}, "status": 404}

	cases := []struct {
		name   string
		route  string
		status int
		body   map[string]any
		auth   func(*Config)
		kind   error
		says   []string
	}{
		{"403 on search", "composite", 403, securityBody, func(c *Config) { c.APIKey = "aWQ6c2VjcmV0LWFwaS1rZXk=" }, ErrForbidden,
			[]string{"HTTP 403", "aggregate bucket counts", `index privilege "read" is missing`, "indices:data/read/search", "Authenticated with API key", "view_index_metadata"}},
		{"403 on field caps", "field_caps", 403, map[string]any{"error": map[string]any{"type": "security_exception",
			"reason": "action [indices:data/read/field_caps] is unauthorized for user [analyst]"}, "status": 403},
			func(c *Config) { c.Username, c.Password = "analyst", "pa55-w0rd" }, ErrForbidden,
			[]string{"HTTP 403", "read the field mapping", `index privilege "view_index_metadata" is missing`, `basic auth as user "analyst"`}},
		{"401 with an API key", "root", 401, unauthorized, func(c *Config) { c.APIKey = "aWQ6c2VjcmV0LWFwaS1rZXk=" }, ErrUnauthorized,
			[]string{"HTTP 401", "refused the API key", "unable to authenticate"}},
		{"401 with a password", "root", 401, unauthorized, func(c *Config) { c.Username, c.Password = "analyst", "pa55-w0rd" }, ErrUnauthorized,
			[]string{"HTTP 401", `refused the basic auth as user "analyst"`}},
		{"401 with a bearer token", "field_caps", 401, unauthorized, func(c *Config) { c.BearerToken = "AAEAAWVsYXN0aWMtdG9rZW4tc2VjcmV0" }, ErrUnauthorized,
			[]string{"HTTP 401", "refused the bearer token"}},
		{"401 without credentials", "root", 401, unauthorized, func(*Config) {}, ErrUnauthorized,
			[]string{"HTTP 401", "requires authentication", "ELASTICSEARCH_API_KEY"}},
		{"404 index not found", "field_caps", 404, notFound, func(*Config) {}, ErrIndexNotFound,
			[]string{"HTTP 404", "no such index [auditbeat-*]", "--index", AgentIndex}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeCluster(t)
			f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
				if route == c.route {
					writeJSON(w, c.status, c.body)
					return true
				}
				return false
			})
			cfg := f.config()
			c.auth(&cfg)
			s, _, err := Open(context.Background(), cfg)
			if err == nil {
				_, err = s.LoadCounts(context.Background(), openStore(t), fakeRange.from, fakeRange.to, sources.Executions, nil)
			}
			if !errors.Is(err, c.kind) {
				t.Fatalf("error %v, want %v", err, c.kind)
			}
			msg := err.Error()
			for _, want := range append([]string{f.URL(), "index auditbeat-*"}, c.says...) {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			assertNoSecret(t, msg, cfg)
			if n := f.count(c.route); n != 1 {
				t.Errorf("%d requests to %s: refusals are not retried", n, c.route)
			}
		})
	}
}

func TestIdentityWithoutMonitorPrivilege(t *testing.T) {
	f := newFakeCluster(t)
	f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
		if route == "root" {
			writeJSON(w, 403, map[string]any{"error": map[string]any{"type": "security_exception",
				"reason": "action [cluster:monitor/main] is unauthorized for user [analyst], this action is granted by the cluster privileges [monitor,manage,all]"}, "status": 403})
			return true
		}
		return false
	})
	s, warnings, err := Open(context.Background(), f.config())
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `cluster privilege "monitor" is missing`) {
		t.Errorf("warnings %q", warnings)
	}
	if key := s.Key(sources.Executions); !strings.Contains(key, "urls:"+f.URL()) {
		t.Errorf("key %q", key)
	}
}

func TestEmptyPatternIsIndexNotFound(t *testing.T) {
	f := newFakeCluster(t)
	f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
		if route == "field_caps" {
			writeJSON(w, 200, map[string]any{"indices": []string{}, "fields": map[string]any{}})
			return true
		}
		return false
	})
	cfg := f.config()
	cfg.Index = "logs-auditd_manager.auditd-*"
	_, _, err := Open(context.Background(), cfg)
	if !errors.Is(err, ErrIndexNotFound) || !strings.Contains(err.Error(), "index logs-auditd_manager.auditd-*") ||
		!strings.Contains(err.Error(), "no index matches the pattern") || !strings.Contains(err.Error(), "--index") {
		t.Fatalf("error %v", err)
	}
}

func TestSlowAnswerTimesOut(t *testing.T) {
	f := newFakeCluster(t)
	cfg := f.config()
	cfg.Timeout = 150 * time.Millisecond
	s := openFake(t, f, cfg)
	f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
		if route != "composite" {
			return false
		}
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
		return true
	})
	store := openStore(t)
	start := time.Now()
	_, err := s.LoadCounts(context.Background(), store, fakeRange.from, fakeRange.to, sources.Executions, nil)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "no answer within 150ms") || !strings.Contains(err.Error(), f.URL()) {
		t.Fatalf("error %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v: the timeout did not cut the request", took)
	}
	if n := f.count("composite"); n != 1 {
		t.Errorf("%d attempts: a timed-out aggregation is not sent again", n)
	}

	// An answer within the timeout is fine.
	f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
		if route == "composite" {
			time.Sleep(20 * time.Millisecond)
		}
		return false
	})
	if _, err := s.LoadCounts(context.Background(), store, fakeRange.from, fakeRange.to, sources.Executions, nil); err != nil {
		t.Fatal(err)
	}
}

func TestConnectionDropsEveryTime(t *testing.T) {
	f := newFakeCluster(t)
	cfg := f.config()
	cfg.MaxRetries = 2
	s := openFake(t, f, cfg)
	f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
		if route == "composite" {
			hijackMidPage(w)
			return true
		}
		return false
	})
	_, err := s.LoadCounts(context.Background(), openStore(t), fakeRange.from, fakeRange.to, sources.Executions, nil)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "after 3 attempts") || !strings.Contains(err.Error(), f.URL()) {
		t.Fatalf("error %v", err)
	}
}

func TestUnreachableClusterNamesURLWithoutCredentials(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg := Config{URLs: []string{"http://analyst:pa55-w0rd@" + addr}, MaxRetries: 1, backoff: func(int) time.Duration { return time.Millisecond }}
	_, _, err = Open(context.Background(), cfg)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("error %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"http://" + addr, "connection refused", "after 2 attempts", "ELASTICSEARCH_URL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "pa55-w0rd") || strings.Contains(msg, "analyst:") {
		t.Errorf("error %q shows the URL's credentials", msg)
	}
}

func TestCancelKeepsWholeSpans(t *testing.T) {
	f := newFakeCluster(t)
	s := openFake(t, f, f.config())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	day2 := cache.Span{From: fakeDay.Add(24 * time.Hour), To: fakeRange.to}
	f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
		if route == "composite" && n == 4 { // day 2's container pass, after its host pass was written
			cancel()
			<-r.Context().Done()
			return true
		}
		return false
	})
	store := openStore(t)
	res, err := s.LoadCounts(ctx, store, fakeRange.from, fakeRange.to, sources.Executions, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if len(res.Stored) != 1 {
		t.Errorf("stored %v", res.Stored)
	}
	missing, _ := store.MissingSpans(context.Background(), s.Key(sources.Executions), fakeRange.from, fakeRange.to)
	if len(missing) != 1 || missing[0] != day2 {
		t.Fatalf("missing %v, want day 2", missing)
	}
	// Day 1 whole, nothing of day 2 (whose host pass had been written).
	want := map[string]int64{}
	for _, b := range fakeBuckets {
		if b.minute < 1440 {
			if b.container != "" {
				want["container "+b.container] += b.n
			} else {
				want["host "+b.host] += b.n
			}
		}
	}
	equalTotals(t, totalsOf(t, store), want)

	// A later run fetches day 2 only.
	f.setFault(nil)
	before := f.count("composite")
	res, err = s.LoadCounts(context.Background(), store, fakeRange.from, fakeRange.to, sources.Executions, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Missing) != 1 || res.Missing[0] != day2 || f.count("composite")-before != 2 {
		t.Errorf("second run: %+v, %d requests", res, f.count("composite")-before)
	}
	equalTotals(t, totalsOf(t, store), fakeTotals())
}

func TestSpanReachingThePresentIsPartial(t *testing.T) {
	f := newFakeCluster(t)
	s := openFake(t, f, f.config())
	s.now = func() time.Time { return fakeDay.Add(30 * time.Hour) } // the second day is today
	store := openStore(t)
	res, err := s.LoadCounts(context.Background(), store, fakeRange.from, fakeDay.Add(30*time.Hour), sources.Executions, nil)
	if err != nil {
		t.Fatal(err)
	}
	today := cache.Span{From: fakeDay.Add(24 * time.Hour), To: fakeDay.Add(30 * time.Hour)}
	if len(res.Partial) != 1 || res.Partial[0] != today {
		t.Errorf("partial %v", res.Partial)
	}
	missing, _ := store.MissingSpans(context.Background(), s.Key(sources.Executions), fakeRange.from, fakeDay.Add(30*time.Hour))
	if len(missing) != 1 || missing[0] != today {
		t.Errorf("missing %v", missing)
	}
}

func TestDrillDownFromFake(t *testing.T) {
	w := cache.DrillDownWindow{Scope: sources.ScopeHost, Entity: "web-1", From: fakeDay, To: fakeDay.Add(time.Hour)}
	cases := []struct {
		name      string
		limit     int
		events    int
		truncated bool
	}{
		{"all", 0, fakeDocs, false},
		{"capped", 10, 10, true},
		{"cap equals the window", fakeDocs, fakeDocs, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeCluster(t)
			s := openFake(t, f, f.config())
			evs, truncated, err := s.DrillDown(context.Background(), w, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != c.events || truncated != c.truncated {
				t.Fatalf("%d events, truncated %v", len(evs), truncated)
			}
			for i, ev := range evs {
				if ev.PID != int64(1000+i) || ev.Origin.ID != "doc-"+strconv.Itoa(i) || ev.Origin.Index == "" || ev.Origin.File != "" || ev.Executable != "/usr/bin/ls" {
					t.Fatalf("event %d: %+v", i, ev)
				}
			}
			if len(f.closed) != 1 || f.closed[0] != "pit-1" {
				t.Errorf("closed points in time %v", f.closed)
			}
		})
	}

	// A failing page still closes the point in time.
	f := newFakeCluster(t)
	s := openFake(t, f, f.config())
	f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
		if route == "pit_search" {
			writeJSON(w, 500, map[string]any{"error": map[string]any{"type": "search_phase_execution_exception", "reason": "all shards failed"}, "status": 500})
			return true
		}
		return false
	})
	if _, _, err := s.DrillDown(context.Background(), w, 0); !errors.Is(err, ErrRequest) || !strings.Contains(err.Error(), "all shards failed") {
		t.Errorf("error %v", err)
	}
	if len(f.closed) != 1 {
		t.Errorf("point in time not closed after a failure: %v", f.routes())
	}

	// Missing shards fail the drill-down rather than show part of a window.
	f = newFakeCluster(t)
	s = openFake(t, f, f.config())
	f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
		if route == "pit_search" {
			writeJSON(w, 200, map[string]any{"_shards": map[string]any{"total": 3, "failed": 1, "failures": []any{map[string]any{"index": "auditbeat-x",
				"reason": map[string]any{"type": "node_disconnected_exception", "reason": "node left"}}}}, "hits": map[string]any{"hits": []any{}}})
			return true
		}
		return false
	})
	_, _, err := s.DrillDown(context.Background(), w, 0)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "1 of 3 shards failed") || !strings.Contains(err.Error(), f.URL()) {
		t.Errorf("error %v", err)
	}

	// Giving up half-way still closes the point in time.
	f = newFakeCluster(t)
	s = openFake(t, f, f.config())
	ctx, cancel := context.WithCancel(context.Background())
	f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
		if route == "pit_search" && n == 2 {
			cancel()
			<-r.Context().Done()
			return true
		}
		return false
	})
	s.pageSizeHits = 10
	if _, _, err := s.DrillDown(ctx, w, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v", err)
	}
	if len(f.closed) != 1 {
		t.Errorf("point in time not closed after cancelling: %v", f.routes())
	}
}

func TestSecondURLServesWhenTheFirstIsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	f := newFakeCluster(t)
	cfg := f.config()
	cfg.URLs = []string{down, f.URL()}
	s, _, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	store := openStore(t)
	if _, err := s.LoadCounts(context.Background(), store, fakeRange.from, fakeRange.to, sources.Executions, nil); err != nil {
		t.Fatal(err)
	}
	equalTotals(t, totalsOf(t, store), fakeTotals())
}
