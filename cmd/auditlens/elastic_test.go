package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/sources/fleetgen"
)

// esURL is the real Elasticsearch test node started by scripts/test
// (scripts/es-test-node); the test skips without one.
func esURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("AUDITLENS_ES_URL")
	if u == "" {
		t.Skip("AUDITLENS_ES_URL is not set: start a node with scripts/es-test-node start (scripts/test does)")
	}
	return strings.TrimRight(u, "/")
}

func esDo(t *testing.T, method, url, contentType string, body io.Reader) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %s: %s", method, url, resp.Status, out)
	}
	return out
}

// TestScanElasticMatchesFiles indexes one fleet into the real node and scans
// it from there and from its NDJSON file: the records must be the same (the
// user.name influencer aside, which comes from cached events that the
// pushdown, by design, does not pull).
func TestScanElasticMatchesFiles(t *testing.T) {
	base := esURL(t)
	ctx := context.Background()
	cfg := fleetgen.Default()
	cfg.Days, cfg.Hosts, cfg.Containers = 3, 8, 3
	fleet, err := fleetgen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ndjson := filepath.Join(dir, "auditbeat.ndjson")
	f, err := os.Create(ndjson)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fleet.WriteECS(ctx, f); err != nil {
		t.Fatal(err)
	}
	f.Close()

	index := fmt.Sprintf("auditbeat-cli-test-%d", time.Now().UnixNano())
	mapping := `{"settings":{"number_of_replicas":0},"mappings":{"dynamic_templates":[{"strings":{"match_mapping_type":"string","mapping":{"type":"keyword","ignore_above":1024}}}],"properties":{"@timestamp":{"type":"date"}}}}`
	esDo(t, http.MethodPut, base+"/"+index, "application/json", strings.NewReader(mapping))
	t.Cleanup(func() {
		req, _ := http.NewRequest(http.MethodDelete, base+"/"+index, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	})
	data, err := os.ReadFile(ndjson)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	for start := 0; start < len(lines); start += 5000 {
		var body bytes.Buffer
		for _, l := range lines[start:min(start+5000, len(lines))] {
			body.WriteString(`{"index":{}}` + "\n")
			body.Write(l)
			body.WriteByte('\n')
		}
		out := esDo(t, http.MethodPost, base+"/"+index+"/_bulk", "application/x-ndjson", &body)
		if bytes.Contains(out, []byte(`"errors":true`)) {
			t.Fatalf("bulk errors: %.500s", out)
		}
	}
	esDo(t, http.MethodPost, base+"/"+index+"/_refresh", "", nil)

	from := fleet.Start().Format(time.RFC3339)
	to := fleet.End().Format(time.RFC3339)
	scan := func(source ...string) []map[string]any {
		args := append([]string{"scan", "--format", "ndjson", "--min-score", "0", "--from", from, "--to", to,
			"--cache", filepath.Join(t.TempDir(), "c.db")}, source...)
		code, out, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("scan %v: exit %d: %s", source, code, stderr)
		}
		var recs []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r map[string]any
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%v: %q", err, line)
			}
			var kept []any
			for _, inf := range r["influencers"].([]any) {
				if inf.(map[string]any)["influencer_field_name"] != "user.name" {
					kept = append(kept, inf)
				}
			}
			r["influencers"] = kept
			recs = append(recs, r)
		}
		return recs
	}
	fromFiles := scan("--input", ndjson)
	fromES := scan("--es-url", base, "--index", index)
	if len(fromFiles) == 0 {
		t.Fatal("no records from files")
	}
	if !reflect.DeepEqual(fromES, fromFiles) {
		t.Errorf("Elasticsearch scan gave %d records, files %d; they differ", len(fromES), len(fromFiles))
		for i := range min(len(fromES), len(fromFiles)) {
			if !reflect.DeepEqual(fromES[i], fromFiles[i]) {
				t.Errorf("first difference at %d:\n es:    %v\n files: %v", i, fromES[i], fromFiles[i])
				break
			}
		}
	}

	// The console over the cluster: the swimlane from pushed-down counts, and
	// the process explorer's window fetched from the cluster on demand.
	if testing.Short() {
		return
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "console.db")
	s := startTmux(t, 120, 40, []string{"NO_COLOR=1"}, bin, "tui", "--cache", db, "--es-url", base, "--index", index, "--from", from, "--to", to)
	s.waitFor(60*time.Second, "swimlane", "3a30127937b1", "host_rare_process")
	// Narrow the range around /xxprimef (its host is also the rollout's first
	// host, whose new binaries score as high), then jump to the host.
	var at time.Time
	for _, r := range fromES {
		if r["by_field_value"] == "/xxprimef" {
			at = time.UnixMilli(int64(r["timestamp"].(float64))).UTC()
		}
	}
	if at.IsZero() {
		t.Fatal("no /xxprimef record from Elasticsearch")
	}
	s.command(fmt.Sprintf("range %s %s", at.Add(-time.Hour).Format(time.RFC3339), at.Add(2*time.Hour).Format(time.RFC3339)))
	s.command("host 3a30127937b1")
	s.waitFor(10*time.Second, "/xxprimef")
	s.keys("Tab", "Enter")
	s.waitFor(20*time.Second, "rare processes", "/xxprimef", "share", "fleet")
	s.keys("p")
	s.waitFor(30*time.Second, "process explorer", "/xxprimef", "1 execution")
}
