package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/internal/corpora"
)

// run runs the command line in-process and returns exit code, stdout, stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &environment{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := runMain(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown command", []string{"frobnicate"}, exitUsage, "unknown command"},
		{"ingest without input", []string{"ingest", "--cache", "X"}, exitUsage, "no input"},
		{"bad events", []string{"stats", "--events", "some", "--input", "x"}, exitUsage, "--events"},
		{"bad time", []string{"scan", "--from", "yesterday"}, exitUsage, "--from"},
		{"bad bucket", []string{"scan", "--bucket", "7y"}, exitUsage, "--bucket"},
		{"bad job", []string{"scan", "--jobs", "nope"}, exitUsage, "--jobs"},
		{"bad format", []string{"scan", "--format", "xml"}, exitUsage, "--format"},
		{"gen without out", []string{"gen"}, exitUsage, "--out"},
		{"missing input", []string{"ingest", "--cache", "CACHE", "--input", "/nonexistent/audit.log"}, exitError, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string(nil), tt.args...)
			for i, a := range args {
				if a == "CACHE" {
					args[i] = filepath.Join(t.TempDir(), "c.db")
				}
			}
			code, _, stderr := run(t, args...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) {
				t.Fatalf("exit %d (want %d), stderr %q (want it to mention %q)", code, tt.code, stderr, tt.msg)
			}
		})
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	code, out, _ := run(t, "help")
	if code != 0 {
		t.Fatalf("help exit %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out, c.name) {
			t.Errorf("overview does not list %s", c.name)
		}
		code, out, _ := run(t, c.name, "--help")
		if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "Flags:") {
			t.Errorf("%s --help: exit %d, output %q", c.name, code, out)
		}
	}
}

// TestGenIngestStatsScan drives the main path over a small generated fleet:
// generate, ingest twice (the second adds nothing), stats as JSON, scan.
func TestGenIngestStatsScan(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a fleet")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "cache.db")
	if code, _, stderr := run(t, "gen", "--out", dir, "--days", "3", "--hosts", "6", "--containers", "3", "--formats", "ecs"); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, stderr)
	}
	ecs := filepath.Join(dir, "ecs", "auditbeat.ndjson")
	code, out, stderr := run(t, "ingest", "--cache", db, ecs)
	if code != 0 || !strings.Contains(out, "1 new") {
		t.Fatalf("ingest: exit %d: %s %s", code, out, stderr)
	}
	statsOf := func() map[string]any {
		code, out, stderr := run(t, "stats", "--cache", db, "--format", "json")
		if code != 0 {
			t.Fatalf("stats: exit %d: %s", code, stderr)
		}
		var st map[string]any
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("stats JSON: %v: %s", err, out)
		}
		return st
	}
	first := statsOf()
	code, out, _ = run(t, "ingest", "--cache", db, "--input", ecs)
	if code != 0 || !strings.Contains(out, "1 already cached") {
		t.Fatalf("second ingest: exit %d: %s", code, out)
	}
	second := statsOf()
	for _, k := range []string{"events", "executions", "hosts", "containers", "executables", "rejected", "from", "to"} {
		if _, ok := first[k]; !ok {
			t.Errorf("stats JSON lacks %q", k)
		}
		if first[k] != second[k] {
			t.Errorf("%s changed after ingesting the same file again: %v -> %v", k, first[k], second[k])
		}
	}
	if first["hosts"].(float64) != 6 || first["containers"].(float64) != 3 {
		t.Errorf("hosts %v containers %v, want 6 and 3", first["hosts"], first["containers"])
	}
	byExe, _ := first["by_executable"].(map[string]any)
	var sum float64
	for _, v := range byExe {
		sum += v.(float64)
	}
	if sum != first["executions"].(float64) {
		t.Errorf("by_executable sums to %v, executions is %v", sum, first["executions"])
	}

	code, out, stderr = run(t, "scan", "--cache", db, "--format", "ndjson", "--min-score", "0")
	if code != 0 {
		t.Fatalf("scan: exit %d: %s", code, stderr)
	}
	var xxprimef bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("scan line is not JSON: %v: %q", err, line)
		}
		for _, k := range []string{"result_type", "job_id", "function", "timestamp", "bucket_span", "record_score", "probability", "actual", "typical"} {
			if _, ok := rec[k]; !ok {
				t.Fatalf("record lacks %q: %s", k, line)
			}
		}
		if rec["by_field_value"] == "/xxprimef" && rec["partition_field_value"] == "3a30127937b1" && rec["record_score"].(float64) >= 75 {
			xxprimef = true
		}
	}
	if !xxprimef {
		t.Errorf("scan found no critical /xxprimef record on 3a30127937b1")
	}
	// A warm second scan answers from cached results; --fail-on trips.
	code, _, stderr = run(t, "scan", "--cache", db, "--fail-on", "75")
	if code != exitAnomaly || !strings.Contains(stderr, "cached") {
		t.Fatalf("warm scan with --fail-on: exit %d (want %d), stderr %q", code, exitAnomaly, stderr)
	}
}

// TestStatsRHEL7 checks the counts ausearch gives for a real RHEL 7 log.
func TestStatsRHEL7(t *testing.T) {
	log := corpora.Path(t, "beats-7.17.29", "filebeat", "module", "auditd", "log", "test", "audit-rhel7.log")
	db := filepath.Join(t.TempDir(), "c.db")
	code, out, stderr := run(t, "stats", "--cache", db, "--format", "json", "--input", log)
	if code != 0 {
		t.Fatalf("stats: exit %d: %s", code, stderr)
	}
	var st struct {
		Executions   int64            `json:"executions"`
		Executables  int              `json:"executables"`
		ByExecutable map[string]int64 `json:"by_executable"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.Executions != 243 || st.Executables != 30 {
		t.Errorf("executions %d executables %d, want 243 and 30", st.Executions, st.Executables)
	}
	for exe, want := range map[string]int64{"/usr/sbin/setfiles": 68, "/usr/bin/python2.7": 50, "/usr/sbin/ip": 25,
		"/usr/bin/systemctl": 16, "/usr/sbin/auditctl": 9, "/usr/bin/sudo": 9, "/usr/bin/bash": 8} {
		if st.ByExecutable[exe] != want {
			t.Errorf("%s: %d executions, want %d", exe, st.ByExecutable[exe], want)
		}
	}
}

func TestStrictRejects(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.ndjson")
	doc := `{"@timestamp":"2024-03-04T10:00:00Z","host":{"name":"h1"},"event":{"action":"executed"},"process":{"executable":"/bin/ls","pid":1}}`
	if err := os.WriteFile(p, []byte(doc+"\n{not json\n"+doc+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "c.db")
	code, _, stderr := run(t, "ingest", "--cache", db, "--input", p)
	if code != 0 || !strings.Contains(stderr, "line 2") {
		t.Fatalf("lenient ingest: exit %d, stderr %q (want a warning naming line 2)", code, stderr)
	}
	code, _, stderr = run(t, "ingest", "--strict", "--cache", filepath.Join(dir, "c2.db"), "--input", p)
	if code != exitRejected || !strings.Contains(stderr, "line 2") {
		t.Fatalf("strict ingest: exit %d (want %d), stderr %q", code, exitRejected, stderr)
	}
}
