package main

import (
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/cache"
	_ "github.com/mattn/go-sqlite3"
)

// demoCache builds the demo fleet's cache in-process and returns its path.
func demoCache(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "demo.db")
	if code, _, stderr := run(t, "demo", "--cache", db, "--no-console"); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, stderr)
	}
	return db
}

// incidentIDs finds the demo's two incidents in scan's NDJSON.
func incidentIDs(t *testing.T, db string) (rare, spree string) {
	t.Helper()
	code, out, stderr := run(t, "scan", "--cache", db, "--jobs", "host_rare_process,host_high_process_rate", "--format", "ndjson", "--min-score", "75")
	if code != 0 {
		t.Fatalf("scan: exit %d: %s", code, stderr)
	}
	var best float64
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec struct {
			ID      string  `json:"anomaly_id"`
			Job     string  `json:"job_id"`
			Entity  string  `json:"partition_field_value"`
			By      string  `json:"by_field_value"`
			Score   float64 `json:"record_score"`
			Explain string  `json:"why"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.ID == "" {
			t.Fatalf("a record without anomaly_id: %s", line)
		}
		switch {
		case rec.By == "/xxprimef":
			rare = rec.ID
		case rec.Job == "host_high_process_rate" && rec.Entity == "nyc2-db01" && strings.Contains(rec.Explain, "/usr/bin/scp") && rec.Score > best:
			spree, best = rec.ID, rec.Score
		}
	}
	if rare == "" || spree == "" {
		t.Fatalf("incidents not in scan's output:\n%s", out)
	}
	return rare, spree
}

func hashFile(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestCaseCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the demo fleet")
	}
	db := demoCache(t)
	rare, spree := incidentIDs(t, db)
	const rareNote, spreeNote = "unknown binary `/xxprimef` run once", "ssh + scp copy spree"

	code, out, stderr := run(t, "case", "add", "INC-42", "--cache", db, "--anomaly", rare, "--note", rareNote, "--summary", "The demo's two incidents")
	if code != 0 || !strings.Contains(out, "added critical") {
		t.Fatalf("case add: exit %d: %s %s", code, out, stderr)
	}
	if code, _, stderr = run(t, "case", "add", "INC-42", "--cache", db, "--anomaly", spree, "--note", spreeNote); code != 0 {
		t.Fatalf("case add: exit %d: %s", code, stderr)
	}
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"case"}, exitUsage, "which"},
		{[]string{"case", "frob"}, exitUsage, "unknown case command"},
		{[]string{"case", "add", "INC-42"}, exitUsage, "--anomaly"},
		{[]string{"case", "add", "INC-42", "--anomaly", "nonsense"}, exitUsage, "job|entity|executable|bucket"},
		{[]string{"case", "add", "INC-42", "--anomaly", "nojob|h||1"}, exitUsage, "unknown job"},
		{[]string{"case", "add", "INC-42", "--anomaly", "host_rare_process|nowhere|/x|1"}, exitError, "no anomaly"},
		{[]string{"case", "save", "INC-42"}, exitUsage, "--out"},
		{[]string{"case", "save", "nope", "--out", filepath.Join(t.TempDir(), "x")}, exitError, "no such case"},
		{[]string{"case", "report", "INC-42", "--format", "xml"}, exitUsage, "--format"},
		{[]string{"case", "show", "nope"}, exitError, "no such case"},
	} {
		args := append(append([]string(nil), tt.args...), "--cache", db)
		code, _, stderr := run(t, args...)
		if code != tt.code || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, code, tt.code, stderr, tt.msg)
		}
	}

	code, out, _ = run(t, "case", "list", "--cache", db, "--format", "json")
	var cases []cache.Case
	if code != 0 || json.Unmarshal([]byte(out), &cases) != nil || len(cases) != 1 || cases[0].Anomalies != 2 {
		t.Fatalf("case list: exit %d: %s", code, out)
	}
	code, out, _ = run(t, "case", "show", "INC-42", "--cache", db)
	if code != 0 || !strings.Contains(out, "/xxprimef") || !strings.Contains(out, "nyc2-db01") || !strings.Contains(out, "ssh + scp copy spree") {
		t.Errorf("case show: exit %d:\n%s", code, out)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "INC-42.alcase")
	code, out, stderr = run(t, "case", "save", "INC-42", "--cache", db, "--out", file)
	if code != 0 || !strings.Contains(out, "2 anomalies") {
		t.Fatalf("case save: exit %d: %s %s", code, out, stderr)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("case file: %v, mode %v", err, fi.Mode())
	}
	if code, _, stderr = run(t, "case", "save", "INC-42", "--cache", db, "--out", file); code != exitError || !strings.Contains(stderr, "exists") {
		t.Errorf("saving over the file: exit %d: %s", code, stderr)
	}
	if code, _, stderr = run(t, "case", "save", "INC-42", "--cache", db, "--out", file, "--force"); code != 0 {
		t.Errorf("saving with --force: exit %d: %s", code, stderr)
	}

	// Elsewhere: the file alone, no cache (a --cache that does not exist
	// must not be created).
	empty := t.TempDir()
	moved := filepath.Join(empty, "INC-42.alcase")
	data, _ := os.ReadFile(file)
	if err := os.WriteFile(moved, data, 0o600); err != nil {
		t.Fatal(err)
	}
	before := hashFile(t, moved)
	noCache := filepath.Join(empty, "never", "cache.db")
	code, out, stderr = run(t, "open", moved, "--no-console")
	if code != 0 || !strings.Contains(out, "case INC-42 (read-only)") || !strings.Contains(out, "/xxprimef") || !strings.Contains(out, "/usr/bin/scp") {
		t.Fatalf("open --no-console: exit %d: %s %s", code, out, stderr)
	}
	code, md, stderr := run(t, "case", "report", moved, "--format", "md", "--cache", noCache)
	if code != 0 {
		t.Fatalf("case report md: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"# Case `INC-42`", "`/xxprimef`", "`nyc2-db01`", "ssh \\+ scp copy spree", "unknown binary \\`/xxprimef\\` run once", "Raw events"} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown report lacks %q:\n%s", want, md)
		}
	}
	code, js, _ := run(t, "case", "report", moved, "--format", "json", "--cache", noCache)
	var rep struct {
		Anomalies []struct {
			Note   string `json:"triage_note"`
			Job    string `json:"job_id"`
			Events []any  `json:"events"`
		} `json:"anomalies"`
	}
	if code != 0 || json.Unmarshal([]byte(js), &rep) != nil || len(rep.Anomalies) != 2 ||
		rep.Anomalies[0].Note != spreeNote || rep.Anomalies[1].Note != rareNote || len(rep.Anomalies[1].Events) == 0 {
		t.Errorf("case report json: exit %d: %s", code, js)
	}
	reportFile := filepath.Join(t.TempDir(), "r.md")
	if code, _, _ := run(t, "case", "report", moved, "--out", reportFile); code != 0 {
		t.Errorf("case report --out: exit %d", code)
	} else if fi, err := os.Stat(reportFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("report file: %v %v", err, fi)
	}
	if hashFile(t, moved) != before {
		t.Error("open and report changed the case file")
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 1 {
		t.Errorf("the folder holds %d entries, want the case file alone", len(ents))
	}
}

func TestOpenRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	cacheFile := filepath.Join(dir, "cache.db")
	if code, _, stderr := run(t, "rules", "list", "--cache", cacheFile); code != 0 { // makes an empty cache
		t.Fatalf("rules list: %d %s", code, stderr)
	}
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not a case\n"), 0o600)
	cacheData, _ := os.ReadFile(cacheFile)
	cut := filepath.Join(dir, "cut.alcase")
	os.WriteFile(cut, cacheData[:50], 0o600)
	newer := filepath.Join(dir, "newer.alcase")
	older := filepath.Join(dir, "older.alcase")
	for path, version := range map[string]int{newer: cache.SchemaVersion() + 1, older: cache.SchemaVersion() - 1} {
		os.WriteFile(path, cacheData, 0o600)
		db, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", version)); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"open"}, exitUsage, "one case file"},
		{[]string{"open", filepath.Join(dir, "missing.alcase")}, exitError, "no such file"},
		{[]string{"open", dir}, exitError, "is a folder"},
		{[]string{"open", text}, exitError, "not an auditlens file"},
		{[]string{"open", cut}, exitError, "cut short"},
		{[]string{"open", newer}, exitError, "written by a newer auditlens"},
		{[]string{"open", older}, exitError, "--edit to upgrade it"},
		{[]string{"open", cacheFile}, exitError, "not a case file"},
		{[]string{"open", cacheFile, "--edit"}, exitError, "not a case file"},
		{[]string{"case", "report", text}, exitError, "not an auditlens file"},
	}
	for _, tt := range tests {
		var before [32]byte
		if len(tt.args) > 1 {
			if fi, err := os.Stat(tt.args[1]); err == nil && !fi.IsDir() {
				before = hashFile(t, tt.args[1])
			}
		}
		args := tt.args
		if args[0] == "open" {
			args = append(args, "--no-console")
		}
		code, _, stderr := run(t, args...)
		if code != tt.code || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, code, tt.code, stderr, tt.msg)
		}
		if before != [32]byte{} && hashFile(t, tt.args[1]) != before {
			t.Errorf("%v changed the file", tt.args)
		}
	}
}

func TestRulesCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the demo fleet")
	}
	db := demoCache(t)
	const rollout = "/opt/app/bin/app-v2.4.1"
	scanRare := func(extra ...string) (string, string) {
		t.Helper()
		code, out, stderr := run(t, append([]string{"scan", "--cache", db, "--jobs", "host_rare_process", "--format", "ndjson", "--min-score", "0"}, extra...)...)
		if code != 0 {
			t.Fatalf("scan: exit %d: %s", code, stderr)
		}
		return out, stderr
	}
	plain, _ := scanRare()
	shown := strings.Count(plain, `"by_field_value":"`+rollout+`"`)
	if shown < 3 {
		t.Fatalf("the demo's scan shows %d rollout records", shown)
	}

	code, out, stderr := run(t, "rules", "add", "--cache", db, "--executable", rollout, "--note", "release 2.4.1")
	if code != 0 {
		t.Fatalf("rules add: exit %d: %s", code, stderr)
	}
	id := regexp.MustCompile(`rule (r[0-9a-f]{8}) added`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("rules add printed %q", out)
	}
	code, out, _ = run(t, "rules", "list", "--cache", db)
	if code != 0 || !strings.Contains(out, id[1]) || !strings.Contains(out, rollout) || !strings.Contains(out, "active") {
		t.Errorf("rules list:\n%s", out)
	}
	out, stderr = scanRare()
	if strings.Contains(out, rollout) || !strings.Contains(stderr, fmt.Sprintf("(%d suppressed)", shown)) {
		t.Errorf("with the rule: %d rollout lines shown, stderr %q", strings.Count(out, rollout), stderr)
	}
	out, _ = scanRare("--show-suppressed")
	if n := strings.Count(out, `"suppressed_by":"`+id[1]+`"`); n != shown {
		t.Errorf("--show-suppressed marks %d records, want %d", n, shown)
	}
	code, table, _ := run(t, "scan", "--cache", db, "--jobs", "host_rare_process", "--min-score", "0", "--show-suppressed")
	if code != 0 || !strings.Contains(table, "[suppressed by "+id[1]+"]") {
		t.Errorf("table with --show-suppressed lacks the mark")
	}

	rulesFile := filepath.Join(t.TempDir(), "rules.json")
	if code, _, stderr := run(t, "rules", "export", "--cache", db, "--out", rulesFile); code != 0 {
		t.Fatalf("rules export: exit %d: %s", code, stderr)
	}
	if code, out, _ := run(t, "rules", "remove", id[1], "--cache", db); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("rules remove: exit %d: %s", code, out)
	}
	out, stderr = scanRare()
	if strings.Count(out, `"by_field_value":"`+rollout+`"`) != shown || strings.Contains(stderr, "suppressed") {
		t.Errorf("after removal: %d rollout records, stderr %q", strings.Count(out, rollout), stderr)
	}
	if code, out, stderr := run(t, "rules", "import", rulesFile, "--cache", db); code != 0 || !strings.Contains(out, "1 rule(s) imported") {
		t.Fatalf("rules import: exit %d: %s %s", code, out, stderr)
	}
	if _, stderr = scanRare(); !strings.Contains(stderr, "suppressed") {
		t.Errorf("after import the rule does not apply: %q", stderr)
	}
	// An end in the past retires it.
	if code, out, stderr := run(t, "rules", "edit", id[1], "--cache", db, "--until", "-1h"); code != 0 || !strings.Contains(out, "until") {
		t.Fatalf("rules edit: exit %d: %s %s", code, out, stderr)
	}
	if _, stderr = scanRare(); strings.Contains(stderr, "suppressed") {
		t.Errorf("an expired rule still suppresses: %q", stderr)
	}
	code, out, _ = run(t, "rules", "list", "--cache", db, "--format", "json")
	var rules []cache.Rule
	if code != 0 || json.Unmarshal([]byte(out), &rules) != nil || len(rules) != 1 || rules[0].Note != "release 2.4.1" || rules[0].Until.IsZero() {
		t.Errorf("rules list json: %s", out)
	}

	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"rules"}, exitUsage, "which"},
		{[]string{"rules", "add"}, exitUsage, "--executable"},
		{[]string{"rules", "add", "--executable", "/x", "--scope", "pod"}, exitUsage, "scope"},
		{[]string{"rules", "add", "--executable", "/x", "--action", "drop"}, exitUsage, "action"},
		{[]string{"rules", "add", "--executable", `/x\`}, exitUsage, "backslash"},
		{[]string{"rules", "add", "--executable", "/x", "--until", "someday"}, exitUsage, "--until"},
		{[]string{"rules", "remove", "rnope"}, exitError, "no such rule"},
		{[]string{"rules", "edit", "rnope", "--note", "x"}, exitError, "no such rule"},
		{[]string{"rules", "import", plainFile(t, "executable: /x\n")}, exitError, "not an auditlens rule file"},
		{[]string{"rules", "frob"}, exitUsage, "unknown rules command"},
	} {
		code, _, stderr := run(t, append(tt.args, "--cache", db)...)
		if code != tt.code || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, code, tt.code, stderr, tt.msg)
		}
	}
	// skip-result is accepted for skip_result.
	if code, _, stderr := run(t, "rules", "add", "--cache", db, "--executable", "/x", "--action", "skip-model-update"); code != 0 {
		t.Errorf("--action skip-model-update: exit %d: %s", code, stderr)
	}
}

func plainFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
