package elastic

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/sources"
	"github.com/auditlens/auditlens/sources/fleetgen"
	"github.com/elastic/go-elasticsearch/v8"
)

// The integration tests run against a real Elasticsearch node named by
// AUDITLENS_ES_URL (scripts/es-test-node starts one); without it they skip.
func nodeURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("AUDITLENS_ES_URL")
	if u == "" {
		t.Skip("AUDITLENS_ES_URL is not set: start a node with scripts/es-test-node start and export its URL to run the tests against a real Elasticsearch")
	}
	return u
}

// testFleet is the demo fleet cut to two days and fewer machines, with both
// of Elastic's incidents, so that indexing it takes seconds.
func testFleet(t testing.TB) *fleetgen.Fleet {
	t.Helper()
	cfg := fleetgen.Default()
	cfg.Days = 2
	cfg.Hosts = 8
	cfg.Containers = 4
	f, err := fleetgen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[fleetgen.Kind]bool{}
	for _, l := range f.Labels().Labels {
		kinds[l.Kind] = true
	}
	if !kinds[fleetgen.KindRareHostProcess] || !kinds[fleetgen.KindCopySpree] {
		t.Fatalf("the test fleet lost an incident: %v", kinds)
	}
	return f
}

// fleetFiles writes the fleet's ECS and 6.x NDJSON once per test binary run.
type fleetFiles struct {
	once     sync.Once
	fleet    *fleetgen.Fleet
	ecs, v6x string
	err      error
}

var generated fleetFiles

func testFleetFiles(t testing.TB) (*fleetgen.Fleet, string, string) {
	t.Helper()
	generated.once.Do(func() {
		generated.fleet = testFleet(t)
		dir, err := os.MkdirTemp("", "auditlens-elastic-test-")
		if err != nil {
			generated.err = err
			return
		}
		generated.ecs = filepath.Join(dir, "fleet-ecs.ndjson")
		generated.v6x = filepath.Join(dir, "fleet-6x.ndjson")
		for _, w := range []struct {
			path  string
			write func(context.Context, io.Writer) (fleetgen.Totals, error)
		}{{generated.ecs, generated.fleet.WriteECS}, {generated.v6x, generated.fleet.Write6x}} {
			f, err := os.Create(w.path)
			if err != nil {
				generated.err = err
				return
			}
			bw := bufio.NewWriterSize(f, 1<<20)
			if _, err := w.write(context.Background(), bw); err != nil {
				generated.err = err
			}
			if err := bw.Flush(); err != nil && generated.err == nil {
				generated.err = err
			}
			if err := f.Close(); err != nil && generated.err == nil {
				generated.err = err
			}
		}
	})
	if generated.err != nil {
		t.Fatal(generated.err)
	}
	return generated.fleet, generated.ecs, generated.v6x
}

func TestMain(m *testing.M) {
	code := m.Run()
	if generated.ecs != "" {
		os.RemoveAll(filepath.Dir(generated.ecs))
	}
	for _, idx := range shared.indices {
		deleteIndex(shared.url, idx)
	}
	os.Exit(code)
}

// sharedFleet is the fleet indexed once per test binary run, for the tests
// that only read it; TestMain deletes its indices.
type sharedFleet struct {
	once     sync.Once
	url      string
	ecs, v6x string // index names
	indices  []string
	failed   bool
}

var shared sharedFleet

func indexedFleet(t testing.TB) (url, ecsIndex, v6Index string) {
	t.Helper()
	url = nodeURL(t)
	_, ecsFile, v6File := testFleetFiles(t)
	shared.once.Do(func() {
		base := uniqueName("auditlens-test")
		shared.url = url
		shared.ecs, shared.v6x = "auditbeat-8-"+base, "auditbeat-6-"+base
		shared.indices = []string{shared.ecs, shared.v6x}
		shared.failed = true
		indexFileKeep(t, url, shared.ecs, ecsMapping, ecsFile)
		indexFileKeep(t, url, shared.v6x, mapping6x(), v6File)
		shared.failed = false
	})
	if shared.failed {
		t.Fatal("indexing the shared test fleet failed")
	}
	return url, shared.ecs, shared.v6x
}

func deleteIndex(url, index string) {
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{url}})
	if err != nil {
		return
	}
	if res, err := es.Indices.Delete([]string{index}); err == nil {
		res.Body.Close()
	}
}

// uniqueName makes index names no other test run uses.
func uniqueName(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", prefix, time.Now().UnixNano()%1e6, hex.EncodeToString(b[:]))
}

// ecsMapping is how Beats' templates map ECS documents: strings as keywords.
const ecsMapping = `{
  "settings": {"number_of_shards": 2, "number_of_replicas": 0},
  "mappings": {
    "dynamic_templates": [{"strings": {"match_mapping_type": "string", "mapping": {"type": "keyword", "ignore_above": 1024}}}],
    "properties": {"@timestamp": {"type": "date"}}
  }
}`

// mapping6x maps the Auditbeat 6.x fields explicitly and keeps the rest in
// _source only, as a hand-written legacy template would.
func mapping6x() string {
	props := map[string]any{"@timestamp": map[string]any{"type": "date"}}
	for _, f := range []string{"beat.name", "beat.hostname", "docker.container.id", "docker.container.name", "docker.container.image",
		"process.exe", "process.name", "process.args", "process.title", "process.pid", "process.ppid", "process.cwd",
		"user.auid", "user.uid", "user.name_map.uid", "user.name_map.auid", "auditd.result", "auditd.session",
		"auditd.data.syscall", "event.action", "event.category", "event.type", "event.module"} {
		props[f] = map[string]any{"type": "keyword"}
	}
	b, _ := json.Marshal(map[string]any{
		"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0},
		"mappings": map[string]any{"dynamic": false, "properties": props},
	})
	return string(b)
}

// indexFile creates index with mapping and bulk-loads the NDJSON file into
// it with the go client; the index is deleted when the test ends.
func indexFile(t testing.TB, url, index, mapping, path string) int {
	t.Helper()
	t.Cleanup(func() { deleteIndex(url, index) })
	return indexFileKeep(t, url, index, mapping, path)
}

// indexFileKeep is indexFile for an index someone else deletes.
func indexFileKeep(t testing.TB, url, index, mapping, path string) int {
	t.Helper()
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := es.Indices.Create(index, es.Indices.Create.WithBody(strings.NewReader(mapping)), es.Indices.Create.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.IsError() {
		t.Fatalf("create index %s: %s", index, body)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	var batch bytes.Buffer
	docs := 0
	flush := func() {
		if batch.Len() == 0 {
			return
		}
		res, err := es.Bulk(bytes.NewReader(batch.Bytes()), es.Bulk.WithIndex(index), es.Bulk.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		var ans struct {
			Errors bool `json:"errors"`
			Items  []map[string]struct {
				Error json.RawMessage `json:"error"`
			} `json:"items"`
		}
		err = json.NewDecoder(res.Body).Decode(&ans)
		res.Body.Close()
		if err != nil || res.IsError() {
			t.Fatalf("bulk into %s: %s %v", index, res.Status(), err)
		}
		if ans.Errors {
			for _, it := range ans.Items {
				for _, r := range it {
					if len(r.Error) > 0 {
						t.Fatalf("bulk into %s: %s", index, r.Error)
					}
				}
			}
		}
		batch.Reset()
	}
	for sc.Scan() {
		batch.WriteString(`{"index":{}}` + "\n")
		batch.Write(sc.Bytes())
		batch.WriteByte('\n')
		docs++
		if batch.Len() > 4<<20 {
			flush()
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	res, err = es.Indices.Refresh(es.Indices.Refresh.WithIndex(index))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return docs
}

// meter is an http.RoundTripper wrapper that counts requests and response
// body bytes. With wire set it asks for gzip itself and counts the
// compressed bytes, which is what crosses the network.
type meter struct {
	base     http.RoundTripper
	wire     bool
	requests atomic.Int64
	bytes    atomic.Int64
}

func (m *meter) wrap(rt http.RoundTripper) http.RoundTripper {
	m.base = rt
	return m
}

func (m *meter) RoundTrip(r *http.Request) (*http.Response, error) {
	m.requests.Add(1)
	if m.wire {
		r.Header.Set("Accept-Encoding", "gzip")
	}
	res, err := m.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body := io.ReadCloser(&countingBody{ReadCloser: res.Body, n: &m.bytes})
	if m.wire && res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			body.Close()
			return nil, err
		}
		body = struct {
			io.Reader
			io.Closer
		}{zr, body}
		res.Header.Del("Content-Encoding")
		res.ContentLength = -1
	}
	res.Body = body
	return res, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// openStore opens a fresh cache in the test's temporary folder.
func openStore(t testing.TB) *cache.Store {
	t.Helper()
	s, err := cache.Open(context.Background(), filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fileCache ingests an NDJSON file through the file readers.
func fileCache(t testing.TB, path string, sel sources.Selection) *cache.Store {
	t.Helper()
	store := openStore(t)
	ins, err := sources.Discover([]string{path}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.Ingest(context.Background(), ins, cache.IngestOptions{Selection: sel})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range res.Inputs {
		if in.Err != nil {
			t.Fatal(in.Err)
		}
	}
	return store
}
