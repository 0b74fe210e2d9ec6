package cache

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// caseCache is a cache of generated events with one case of two anomalies
// on host-0, one of them triaged.
func caseCache(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	s := openStore(t)
	docs := filepath.Join(t.TempDir(), "a.ndjson")
	writeDocs(t, docs, genDocs(4000, 3))
	ingest(t, s, &lineReader{}, sources.AllSyscalls, discover(t, docs))
	for i, id := range []string{"host_rare_process|host-0|/usr/bin/curl|1710066600", "host_high_process_rate|host-0||1710068400"} {
		err := s.AddToCase(ctx, "incident 7", CaseAnomaly{AnomalyID: id, JobID: strings.Split(id, "|")[0],
			From: testStart, To: testStart.Add(3 * time.Hour), Settings: json.RawMessage(`{"bucket_span":900}`),
			Record: json.RawMessage(fmt.Sprintf(`{"record_score":%d}`, 90-i))})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetTriage(ctx, Triage{AnomalyID: "host_rare_process|host-0|/usr/bin/curl|1710066600", JobID: "host_rare_process",
		Entity: "host-0", Executable: "/usr/bin/curl", Bucket: 1710066600, State: StateEscalated, Note: "curl to a paste site"}); err != nil {
		t.Fatal(err)
	}
	// Triage of an anomaly outside the case stays out of the case file.
	if err := s.SetTriage(ctx, Triage{AnomalyID: "other", JobID: "host_rare_process", Entity: "host-1", Bucket: 1, State: StateAcknowledged}); err != nil {
		t.Fatal(err)
	}
	return s
}

// caseExport names host-0's counts and one hour of its events.
func caseExport() CaseExport {
	return CaseExport{
		Case: "incident 7", From: testStart, To: testStart.Add(3 * time.Hour),
		Counts:  []CountCopy{{Scope: engine.ScopeHost, Entities: []string{"host-0"}}},
		Windows: []EventWindow{{Scope: sources.ScopeHost, Entity: "host-0", From: testStart.Add(time.Hour), To: testStart.Add(2 * time.Hour)}},
	}
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// dirNames lists a folder's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestSaveCaseWritesOneSelfContainedFile(t *testing.T) {
	ctx := context.Background()
	s := caseCache(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "incident-7.alcase")
	saved, err := s.SaveCase(ctx, path, caseExport())
	if err != nil {
		t.Fatal(err)
	}
	if !saved.FleetCounts || saved.Anomalies != 2 || saved.Counts == 0 || saved.Events == 0 || saved.Size == 0 {
		t.Fatalf("saved %+v: want fleet counts, 2 anomalies, counts and events", saved)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("case file mode %v, want 0600", fi.Mode().Perm())
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"incident-7.alcase"}) {
		t.Errorf("folder holds %v, want the case file alone (no journal, WAL or temporary file)", names)
	}
	if head, err := os.ReadFile(path); err != nil || head[18] != 1 || head[19] != 1 {
		t.Errorf("case file is not in rollback-journal mode (header bytes %v, %v)", head[18:20], err)
	}
	before := fileHash(t, path)

	c, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.CaseFile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.Case != "incident 7" || !f.From.Equal(testStart) || !f.To.Equal(testStart.Add(3*time.Hour)) || !f.FleetCounts {
		t.Errorf("case file %+v", f)
	}
	// Every host's counts over the range, no container's, match the cache's.
	q := CountQuery{Scope: engine.ScopeHost, From: testStart, To: testStart.Add(3 * time.Hour), BucketSpan: 15 * time.Minute, Selection: sources.AllSyscalls}
	_, want := readCounts(t, s, q)
	_, got := readCounts(t, c, q)
	mapsEqual(t, got, want)
	if n := countRows(t, c, newCountScan(engine.ScopeContainer, time.Time{}, time.Time{}, sources.AllSyscalls, nil, nil)); n != 0 {
		t.Errorf("%d container count rows copied, want none", n)
	}
	// The window's events, every field, and nothing else.
	w := caseExport().Windows[0]
	eq := EventQuery{Scope: w.Scope, Entity: w.Entity, From: w.From, To: w.To}
	wantEvents, err := s.Events(ctx, eq)
	if err != nil {
		t.Fatal(err)
	}
	gotEvents, err := c.Events(ctx, eq)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotEvents) == 0 || len(gotEvents) != len(wantEvents) {
		t.Fatalf("%d events in the window, want %d", len(gotEvents), len(wantEvents))
	}
	for i := range wantEvents {
		a, b := fmt.Sprintf("%+v", wantEvents[i]), fmt.Sprintf("%+v", gotEvents[i])
		if a != b {
			t.Fatalf("event %d differs:\n%s\n%s", i, a, b)
		}
	}
	if all, err := c.Events(ctx, EventQuery{}); err != nil || len(all) != len(wantEvents) {
		t.Errorf("the file holds %d events (%v), want only the window's %d", len(all), err, len(wantEvents))
	}
	// The case, its anomalies as given, and their triage only.
	cs, anomalies, err := c.Case(ctx, "incident 7")
	if err != nil || cs.Anomalies != 2 || len(anomalies) != 2 {
		t.Fatalf("case %+v anomalies %d err %v", cs, len(anomalies), err)
	}
	if string(anomalies[0].Record) != `{"record_score":90}` || !anomalies[0].To.Equal(testStart.Add(3*time.Hour)) {
		t.Errorf("first anomaly %+v", anomalies[0])
	}
	tr, err := c.TriageFor(ctx, "host_rare_process")
	if err != nil || len(tr) != 1 || tr["host_rare_process|host-0|/usr/bin/curl|1710066600"].Note != "curl to a paste site" {
		t.Errorf("triage in the case file: %+v %v", tr, err)
	}
	if n := queryInt(t, c, `SELECT count(*) FROM load`); n != 1 {
		t.Errorf("%d loads, want the one the rows came from", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if fileHash(t, path) != before {
		t.Error("reading the case file changed it")
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("reading left files beside the case: %v", names)
	}

	// Used as a cache it would change: refused.
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "a saved case file") {
		t.Errorf("opening the case file as a cache: %v", err)
	}
	if fileHash(t, path) != before {
		t.Error("refusing to open the case file as a cache changed it")
	}

	// Saving over it needs Overwrite.
	if _, err := s.SaveCase(ctx, path, caseExport()); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("saving over an existing file: %v", err)
	}
	x := caseExport()
	x.Overwrite, x.FleetRowLimit = true, -1
	saved, err = s.SaveCase(ctx, path, x)
	if err != nil {
		t.Fatal(err)
	}
	if saved.FleetCounts {
		t.Error("a negative fleet row limit still copied the fleet")
	}
	c, err = OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hosts, err := c.Entities(ctx, engine.ScopeHost)
	if err != nil || len(hosts) != 1 || hosts[0].Name != "host-0" {
		t.Errorf("entities with counts %+v (%v), want host-0 alone", hosts, err)
	}
}

func TestSaveCaseRefusals(t *testing.T) {
	ctx := context.Background()
	s := caseCache(t)
	dir := t.TempDir()
	x := caseExport()
	unknown := x
	unknown.Case = "nope"
	empty := x
	empty.To = empty.From
	tests := []struct {
		name string
		path string
		x    CaseExport
		want string
	}{
		{"unknown case", filepath.Join(dir, "a"), unknown, "no such case"},
		{"empty range", filepath.Join(dir, "b"), empty, "empty"},
		{"the cache itself", s.Path(), x, "the cache itself"},
		{"a folder", dir, x, "is a folder"},
		{"no such folder", filepath.Join(dir, "missing", "c"), x, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.SaveCase(ctx, tt.path, tt.x)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("failed saves left %v behind", names)
	}
}

func TestOpenReadOnlyRefusesBadFiles(t *testing.T) {
	ctx := context.Background()
	s := caseCache(t)
	good := filepath.Join(t.TempDir(), "good.alcase")
	if _, err := s.SaveCase(ctx, good, caseExport()); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	sqliteFile := func(stmts ...string) func(string) {
		return func(p string) {
			db, err := sql.Open("sqlite3", p)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, st := range stmts {
				if _, err := db.Exec(st); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	tests := []struct {
		name    string
		prepare func(path string)
		want    string
		is      any
	}{
		{"missing", func(string) {}, "no such file", nil},
		{"folder", func(p string) { os.Mkdir(p, 0o700) }, "is a folder", nil},
		{"empty", func(p string) { os.WriteFile(p, nil, 0o600) }, "the file is empty", nil},
		{"text", func(p string) { os.WriteFile(p, []byte("a case, honest\n"), 0o600) }, "not an SQLite database", nil},
		{"cut inside the header", func(p string) { os.WriteFile(p, whole[:60], 0o600) }, "cut short inside its header", nil},
		{"cut in the middle", func(p string) { os.WriteFile(p, whole[:len(whole)/2], 0o600) }, "copy it again", nil},
		{"another program", sqliteFile("CREATE TABLE songs (title TEXT)"), "another program", nil},
		{"newer schema", func(p string) {
			os.WriteFile(p, whole, 0o600)
			sqliteFile(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()+3))(p)
		}, "written by a newer auditlens", new(*NewerSchemaError)},
		{"older schema", func(p string) {
			os.WriteFile(p, whole, 0o600)
			sqliteFile(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()-1))(p)
		}, "older auditlens", new(*OlderSchemaError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.alcase")
			tt.prepare(path)
			var before [32]byte
			fi, statErr := os.Stat(path)
			if statErr == nil && !fi.IsDir() {
				before = fileHash(t, path)
			}
			c, err := OpenReadOnly(ctx, path)
			if err == nil {
				c.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q, want it to name the file and say %q", err, tt.want)
			}
			if tt.is != nil && !errors.As(err, tt.is) {
				t.Errorf("error %T, want %T", err, tt.is)
			}
			if statErr == nil && !fi.IsDir() && fileHash(t, path) != before {
				t.Error("a refused file was changed")
			}
			if _, _, err := OpenCaseFile(ctx, path, false); err == nil {
				t.Error("OpenCaseFile opened it")
			}
		})
	}
	// A cache is no case file.
	if _, _, err := OpenCaseFile(ctx, s.Path(), false); !errors.Is(err, ErrNotCaseFile) {
		t.Errorf("opening a cache as a case: %v, want ErrNotCaseFile", err)
	}
	if _, _, err := OpenCaseFile(ctx, s.Path(), true); !errors.Is(err, ErrNotCaseFile) {
		t.Errorf("editing a cache as a case: %v, want ErrNotCaseFile", err)
	}
}

func TestReadOnlyStoreRefusesWrites(t *testing.T) {
	ctx := context.Background()
	s := caseCache(t)
	path := filepath.Join(t.TempDir(), "c.alcase")
	if _, err := s.SaveCase(ctx, path, caseExport()); err != nil {
		t.Fatal(err)
	}
	before := fileHash(t, path)
	c, _, err := OpenCaseFile(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.ReadOnly() {
		t.Error("ReadOnly() is false")
	}
	writes := map[string]error{
		"triage":  c.SetTriage(ctx, Triage{AnomalyID: "a", JobID: "j", State: StateNew}),
		"results": c.SaveResults(ctx, "k", "j", []byte("{}")),
		"case":    c.AddToCase(ctx, "x", CaseAnomaly{AnomalyID: "a", JobID: "j", Settings: []byte("{}"), Record: []byte("{}")}),
		"summary": c.SetCaseSummary(ctx, "x", "y"),
		"rule": func() error {
			_, err := c.SaveRule(ctx, Rule{Executable: "/x", Scope: RuleScopeAny, Action: RuleSkipResult})
			return err
		}(),
		"remove rule": c.RemoveRule(ctx, "r1"),
		"delete case": c.DeleteCase(ctx, "incident 7"),
		"save case": func() error {
			_, err := c.SaveCase(ctx, filepath.Join(t.TempDir(), "d"), caseExport())
			return err
		}(),
	}
	for what, err := range writes {
		if err == nil || !(errors.Is(err, ErrReadOnly) || strings.Contains(err.Error(), "read-only")) {
			t.Errorf("%s on a read-only store: %v, want a read-only refusal", what, err)
		}
	}
	if fileHash(t, path) != before {
		t.Error("refused writes changed the file")
	}
}

// A case file opened for editing takes triage, stays one file, and an older
// one is brought up to date; read-only, the older one is refused.
func TestOpenCaseFileForEditing(t *testing.T) {
	ctx := context.Background()
	s := caseCache(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "c.alcase")
	if _, err := s.SaveCase(ctx, path, caseExport()); err != nil {
		t.Fatal(err)
	}
	e, f, err := OpenCaseFile(ctx, path, true)
	if err != nil {
		t.Fatal(err)
	}
	if f.Case != "incident 7" || e.ReadOnly() {
		t.Fatalf("case %q read-only %v", f.Case, e.ReadOnly())
	}
	if err := e.SetTriage(ctx, Triage{AnomalyID: "host_high_process_rate|host-0||1710068400", JobID: "host_high_process_rate",
		Entity: "host-0", Bucket: 1710068400, State: StateFalsePositive, Note: "backup window"}); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteCase(ctx, "incident 7"); err == nil || !strings.Contains(err.Error(), "saved for") {
		t.Errorf("deleting the file's own case: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("editing left %v", names)
	}
	c, _, err := OpenCaseFile(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.TriageFor(ctx, "host_high_process_rate")
	c.Close()
	if err != nil || tr["host_high_process_rate|host-0||1710068400"].Note != "backup window" {
		t.Errorf("edited triage not kept: %+v %v", tr, err)
	}

	// An older case file: the schema of one migration back, with a case.
	old := filepath.Join(dir, "old.alcase")
	db := sql.OpenDB(writable(old, "DELETE"))
	steps := migrations()[:SchemaVersion()-1]
	for {
		done, err := migrateOne(ctx, db, old, steps)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
	}
	for _, st := range []string{
		`INSERT INTO cases (id, name, created_at, updated_at) VALUES (1, 'old one', 0, 0)`,
		`INSERT INTO case_file VALUES (1, 0, 0, 900, 1)`,
	} {
		if _, err := db.Exec(st); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	var older *OlderSchemaError
	if _, _, err := OpenCaseFile(ctx, old, false); !errors.As(err, &older) || !strings.Contains(err.Error(), "older auditlens") {
		t.Fatalf("read-only open of an older case: %v", err)
	}
	e, f, err = OpenCaseFile(ctx, old, true)
	if err != nil {
		t.Fatalf("editing an older case: %v", err)
	}
	e.Close()
	if f.Case != "old one" {
		t.Errorf("upgraded case %+v", f)
	}
	if c, _, err := OpenCaseFile(ctx, old, false); err != nil {
		t.Errorf("read-only after the upgrade: %v", err)
	} else {
		c.Close()
	}
}

func TestCaseNamesAndMembership(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	add := func(name, id string) error {
		return s.AddToCase(ctx, name, CaseAnomaly{AnomalyID: id, JobID: "host_rare_process", From: testStart, To: testStart.Add(time.Hour),
			Settings: json.RawMessage(`{}`), Record: json.RawMessage(`{}`)})
	}
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"incident 7", true},
		{"INC-2024-0042 ssh spree", true},
		{"Überprüfung", true},
		{"", false},
		{"   ", false},
		{"bad\x1b[31mname", false},
		{"new\nline", false},
		{"bidi\u202ename", false},
		{strings.Repeat("x", 101), false},
		{"\xff\xfe", false},
	} {
		err := add(tt.name, "a|b|c|1")
		if (err == nil) != tt.ok {
			t.Errorf("case name %q: err %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	if err := add("incident 7", "a|b|c|2"); err != nil {
		t.Fatal(err)
	}
	if err := add("incident 7", "a|b|c|2"); err != nil { // again: replaced, not doubled
		t.Fatal(err)
	}
	if err := s.SetCaseSummary(ctx, "incident 7", "ssh spree on db01"); err != nil {
		t.Fatal(err)
	}
	cases, err := s.Cases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cases {
		names = append(names, fmt.Sprintf("%s:%d", c.Name, c.Anomalies))
	}
	if want := []string{"INC-2024-0042 ssh spree:1", "incident 7:2", "Überprüfung:1"}; !slices.Equal(names, want) {
		t.Errorf("cases %v, want %v", names, want)
	}
	c, _, err := s.Case(ctx, "incident 7")
	if err != nil || c.Summary != "ssh spree on db01" {
		t.Errorf("case %+v %v", c, err)
	}
	if err := s.RemoveFromCase(ctx, "incident 7", "a|b|c|2"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveFromCase(ctx, "incident 7", "a|b|c|2"); err == nil {
		t.Error("removing it twice worked")
	}
	if err := s.DeleteCase(ctx, "Überprüfung"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Case(ctx, "Überprüfung"); !errors.Is(err, ErrNoCase) {
		t.Errorf("deleted case: %v", err)
	}
	if err := s.DeleteCase(ctx, "Überprüfung"); !errors.Is(err, ErrNoCase) {
		t.Errorf("deleting it twice: %v", err)
	}
	if err := s.AddToCase(ctx, "x", CaseAnomaly{AnomalyID: "a", JobID: "j", Settings: []byte("{"), Record: []byte("{}")}); err == nil {
		t.Error("settings that are not JSON were stored")
	}
}

func TestRulesStore(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	r, err := s.SaveRule(ctx, Rule{Executable: "/opt/app/bin/app-v2.4.1", Scope: RuleScopeAny, Action: RuleSkipResult, Until: until, Note: "release 2.4.1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.ID) != 9 || r.ID[0] != 'r' || r.Created.IsZero() || !r.Until.Equal(until) || r.Note != "release 2.4.1" {
		t.Fatalf("saved rule %+v", r)
	}
	// Edit keeps the id and the creation time.
	r.Entity, r.Action = "web-*", RuleSkipModelUpdate
	edited, err := s.SaveRule(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if edited.ID != r.ID || !edited.Created.Equal(r.Created) || edited.Entity != "web-*" || edited.Action != RuleSkipModelUpdate {
		t.Errorf("edited %+v", edited)
	}
	// An imported rule keeps its id.
	if _, err := s.SaveRule(ctx, Rule{ID: "rfeedbeef", Executable: "/usr/bin/*", Scope: "host", Action: RuleSkipResult}); err != nil {
		t.Fatal(err)
	}
	rules, err := s.Rules(ctx)
	if err != nil || len(rules) != 2 {
		t.Fatalf("rules %+v %v", rules, err)
	}
	for _, bad := range []Rule{
		{Scope: RuleScopeAny, Action: RuleSkipResult},
		{Executable: "/x", Scope: "pod", Action: RuleSkipResult},
		{Executable: "/x", Scope: RuleScopeAny, Action: "drop"},
	} {
		if _, err := s.SaveRule(ctx, bad); err == nil {
			t.Errorf("bad rule %+v saved", bad)
		}
	}
	if err := s.RemoveRule(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRule(ctx, r.ID); !errors.Is(err, ErrNoRule) {
		t.Errorf("removing twice: %v", err)
	}
	if _, err := s.Rule(ctx, r.ID); !errors.Is(err, ErrNoRule) {
		t.Errorf("removed rule: %v", err)
	}
	now := time.Now()
	for _, tt := range []struct {
		until time.Time
		want  bool
	}{{time.Time{}, true}, {now.Add(time.Hour), true}, {now.Add(-time.Hour), false}, {now, false}} {
		if got := (Rule{Until: tt.until}).Active(now); got != tt.want {
			t.Errorf("until %v: active %v, want %v", tt.until, got, tt.want)
		}
	}
}
