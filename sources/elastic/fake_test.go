package elastic

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeCluster is a test double standing in for an Elasticsearch node, for
// fault injection: it answers the requests the source makes (GET /,
// _field_caps, the probe, the composite aggregation, point-in-time searches)
// from a small fixed data set, and lets a test replace any answer. The real
// behaviour is checked against a real node in the integration tests.
type fakeCluster struct {
	t      testing.TB
	server *httptest.Server
	index  string

	mu     sync.Mutex
	seen   map[string]int // requests per route
	log    []string       // routes in order, with their number
	auth   []string       // Authorization headers received
	pits   map[string]bool
	closed []string // PIT ids closed
	// fault, when set, may answer a request itself: route is e.g.
	// "composite", n counts the route's requests from 1.
	fault func(w http.ResponseWriter, r *http.Request, route string, n int) bool
}

// fakeDay is the day the fake's documents fall on.
var fakeDay = time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)

// fakeBucket is a minute of the fake's data.
type fakeBucket struct {
	minute    int // minutes after fakeDay
	host      string
	container string // "" for host events
	exe       string
	n         int64
}

// fakeBuckets spread over two days, hosts and containers.
var fakeBuckets = []fakeBucket{
	{10, "web-1", "", "/usr/bin/ls", 3},
	{10, "web-1", "", "/usr/bin/curl", 1},
	{11, "web-2", "", "/usr/bin/ls", 2},
	{12, "web-1", "api-1", "/bin/sh", 4},
	{600, "web-2", "", "/usr/bin/ssh", 7},
	{1440 + 5, "web-1", "", "/usr/bin/ls", 5},
	{1440 + 6, "web-1", "api-1", "/bin/sh", 1},
	{1440 + 700, "web-2", "", "/usr/bin/scp", 2},
}

func newFakeCluster(t testing.TB) *fakeCluster {
	f := &fakeCluster{t: t, index: "auditbeat-*", seen: map[string]int{}, pits: map[string]bool{}}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeCluster) URL() string { return f.server.URL }

func (f *fakeCluster) count(route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[route]
}

func (f *fakeCluster) setFault(fn func(w http.ResponseWriter, r *http.Request, route string, n int) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault = fn
}

// config is a source configuration for the fake, retrying without delay.
func (f *fakeCluster) config() Config {
	return Config{URLs: []string{f.URL()}, Index: f.index, backoff: func(int) time.Duration { return time.Millisecond }}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeCluster) route(r *http.Request, body map[string]any) string {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
		return "root"
	case strings.HasSuffix(r.URL.Path, "/_field_caps"):
		return "field_caps"
	case strings.HasSuffix(r.URL.Path, "/_pit") && r.Method == http.MethodPost:
		return "open_pit"
	case r.URL.Path == "/_pit" && r.Method == http.MethodDelete:
		return "close_pit"
	case r.URL.Path == "/_search":
		return "pit_search"
	case strings.HasSuffix(r.URL.Path, "/_search"):
		aggs, _ := body["aggs"].(map[string]any)
		if _, ok := aggs["f"]; ok {
			return "probe"
		}
		return "composite"
	}
	return "unknown"
}

func (f *fakeCluster) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			writeJSON(w, 400, map[string]any{"error": map[string]any{"type": "parsing_exception", "reason": "bad body"}})
			return
		}
	}
	route := f.route(r, body)
	f.mu.Lock()
	f.seen[route]++
	n := f.seen[route]
	f.log = append(f.log, fmt.Sprintf("%s#%d", route, n))
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	fault := f.fault
	f.mu.Unlock()
	if fault != nil && fault(w, r, route, n) {
		return
	}
	switch route {
	case "root":
		writeJSON(w, 200, map[string]any{"name": "fake", "cluster_name": "fake-cluster", "cluster_uuid": "fAkEcLuStEr",
			"version": map[string]any{"number": "8.19.0"}})
	case "field_caps":
		kw := map[string]any{"keyword": map[string]any{"type": "keyword", "aggregatable": true}}
		fields := map[string]any{"@timestamp": map[string]any{"date": map[string]any{"type": "date", "aggregatable": true}}}
		for _, name := range []string{"host.name", "container.name", "container.id", "process.executable", "process.name",
			"event.action", "auditd.data.syscall"} {
			fields[name] = kw
		}
		writeJSON(w, 200, map[string]any{"indices": []string{"auditbeat-8.19.0-2024.03.04"}, "fields": fields})
	case "probe":
		writeJSON(w, 200, map[string]any{"_shards": map[string]any{"total": 2, "successful": 2, "failed": 0},
			"aggregations": map[string]any{"f": map[string]any{"buckets": map[string]any{
				"c1": map[string]any{"doc_count": 0}, "eh": map[string]any{"doc_count": 20}, "ec": map[string]any{"doc_count": 5}}}}})
	case "composite":
		writeJSON(w, 200, f.composite(body))
	case "open_pit":
		id := fmt.Sprintf("pit-%d", n)
		f.mu.Lock()
		f.pits[id] = true
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"id": id})
	case "pit_search":
		writeJSON(w, 200, f.hits(body))
	case "close_pit":
		var req struct {
			ID string `json:"id"`
		}
		json.Unmarshal(raw, &req)
		f.mu.Lock()
		f.closed = append(f.closed, req.ID)
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"succeeded": true, "num_freed": 1})
	default:
		writeJSON(w, 404, map[string]any{"error": map[string]any{"type": "unknown", "reason": "no route " + r.URL.Path}})
	}
}

// rangeOf digs the time range out of a query built by fieldPlan.
func rangeOf(body map[string]any) (from, to int64) {
	q := body["query"].(map[string]any)["bool"].(map[string]any)["filter"].([]any)[0].(map[string]any)
	r := q["range"].(map[string]any)["@timestamp"].(map[string]any)
	return int64(r["gte"].(float64)), int64(r["lt"].(float64))
}

// composite answers a page of the counting aggregation from fakeBuckets.
func (f *fakeCluster) composite(body map[string]any) map[string]any {
	comp := body["aggs"].(map[string]any)["b"].(map[string]any)["composite"].(map[string]any)
	size := int(comp["size"].(float64))
	containers := false
	for _, s := range comp["sources"].([]any) {
		if _, ok := s.(map[string]any)["c"]; ok {
			containers = true
		}
	}
	from, to := rangeOf(body)
	var keys []map[string]any
	var counts []int64
	for _, b := range fakeBuckets {
		ms := fakeDay.Add(time.Duration(b.minute) * time.Minute).UnixMilli()
		if ms < from || ms >= to || (b.container != "") != containers {
			continue
		}
		k := map[string]any{"t": ms, "h": b.host, "x": b.exe}
		if containers {
			k["c"] = b.container
		}
		keys = append(keys, k)
		counts = append(counts, b.n)
	}
	start := 0
	if after, ok := comp["after"].(map[string]any); ok {
		for i, k := range keys {
			if fmt.Sprint(k) == fmt.Sprint(normalizeKey(after)) {
				start = i + 1
			}
		}
	}
	end := min(start+size, len(keys))
	var buckets []map[string]any
	for i := start; i < end; i++ {
		buckets = append(buckets, map[string]any{"key": keys[i], "doc_count": counts[i]})
	}
	agg := map[string]any{"buckets": buckets}
	if end > start {
		agg["after_key"] = keys[end-1]
	}
	return map[string]any{"timed_out": false, "_shards": map[string]any{"total": 2, "successful": 2, "failed": 0},
		"aggregations": map[string]any{"b": agg}}
}

// normalizeKey turns a decoded after_key back into the fake's key types.
func normalizeKey(k map[string]any) map[string]any {
	out := map[string]any{}
	for name, v := range k {
		if x, ok := v.(float64); ok {
			out[name] = int64(x)
		} else {
			out[name] = v
		}
	}
	return out
}

// fakeDoc is one execution document of the fake's drill-down data.
func fakeDoc(i int) map[string]any {
	t := fakeDay.Add(10*time.Minute + time.Duration(i)*time.Second)
	return map[string]any{
		"_index": "auditbeat-8.19.0-2024.03.04", "_id": "doc-" + strconv.Itoa(i),
		"_source": map[string]any{
			"@timestamp": t.Format(time.RFC3339Nano), "host": map[string]any{"name": "web-1"},
			"event":   map[string]any{"action": "executed", "category": []string{"process"}, "type": []string{"start"}},
			"process": map[string]any{"executable": "/usr/bin/ls", "name": "ls", "pid": 1000 + i, "args": []string{"ls", "-l"}},
			"auditd":  map[string]any{"data": map[string]any{"syscall": "execve"}},
		},
		"sort": []any{t.UnixMilli(), i},
	}
}

const fakeDocs = 25

// hits answers a point-in-time search page from fakeDoc.
func (f *fakeCluster) hits(body map[string]any) map[string]any {
	size := int(body["size"].(float64))
	start := 0
	if after, ok := body["search_after"].([]any); ok {
		start = int(after[1].(float64)) + 1
	}
	var hits []map[string]any
	for i := start; i < min(start+size, fakeDocs); i++ {
		hits = append(hits, fakeDoc(i))
	}
	pit := body["pit"].(map[string]any)["id"].(string)
	return map[string]any{"pit_id": pit, "timed_out": false, "_shards": map[string]any{"total": 1, "successful": 1, "failed": 0},
		"hits": map[string]any{"hits": hits}}
}

func (f *fakeCluster) routes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}
