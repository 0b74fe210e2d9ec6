package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/sources"
)

func TestOpenCreatesAndReopens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "dir", "cache.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		pragma string
		want   string
	}{
		{"PRAGMA user_version", fmt.Sprint(SchemaVersion())},
		{"PRAGMA application_id", "1095519827"},
		{"PRAGMA journal_mode", "wal"},
		{"PRAGMA foreign_keys", "1"},
		{"PRAGMA synchronous", "1"}, // NORMAL
		{"PRAGMA busy_timeout", "10000"},
	}
	for _, c := range checks {
		var got string
		if err := s.db.QueryRow(c.pragma).Scan(&got); err != nil {
			t.Fatalf("%s: %v", c.pragma, err)
		}
		if got != c.want {
			t.Errorf("%s = %s, want %s", c.pragma, got, c.want)
		}
	}
	for _, table := range []string{"entity", "executable", "load", "count_block", "event", "event_block", "span"} {
		if n := queryInt(t, s, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table); n != 1 {
			t.Errorf("table %s missing", table)
		}
	}
	// Something in it, to see it survive the reopen.
	if err := s.MarkSpan(ctx, "es test", testStart, testStart.Add(60e9)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	spans, err := s.Spans(ctx, "es test")
	if err != nil || len(spans) != 1 {
		t.Fatalf("spans after reopen: %v %v", spans, err)
	}
}

// A migration list longer than the file's version is applied in order, each
// step once; a file already at the latest version is left alone.
func TestMigrateAppliesPendingStepsInOrder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cache.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var applied []string
	base := SchemaVersion()
	steps := append(migrations(),
		migration{Name: "two", SQL: "CREATE TABLE two (x INTEGER)"},
		migration{Name: "three", SQL: "INSERT INTO two VALUES (3)", Apply: func(ctx context.Context, tx *sql.Tx) error {
			applied = append(applied, "three")
			_, err := tx.ExecContext(ctx, "INSERT INTO two VALUES (33)")
			return err
		}},
	)
	for {
		done, err := migrateOne(ctx, s.db, path, steps)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
	}
	if v := queryInt(t, s, "PRAGMA user_version"); v != int64(base+2) {
		t.Errorf("user_version %d, want %d", v, base+2)
	}
	if n := queryInt(t, s, "SELECT sum(x) FROM two"); n != 36 {
		t.Errorf("migration rows sum %d, want 36", n)
	}
	if done, err := migrateOne(ctx, s.db, path, steps); err != nil || !done || len(applied) != 1 {
		t.Errorf("second pass: done=%v err=%v applied=%v", done, err, applied)
	}
	// A failing migration leaves the version where it was.
	bad := append(steps, migration{Name: "bad", SQL: "CREATE TABLE two (x INTEGER)"})
	if _, err := migrateOne(ctx, s.db, path, bad); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema %d -> %d (bad)", base+2, base+3)) {
		t.Errorf("bad migration error = %v", err)
	}
	if v := queryInt(t, s, "PRAGMA user_version"); v != int64(base+2) {
		t.Errorf("user_version after failed migration %d, want %d", v, base+2)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cache.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	future := SchemaVersion() + 5
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", future)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, path)
	var newer *NewerSchemaError
	if !errors.As(err, &newer) || newer.Found != future || newer.Known != SchemaVersion() {
		t.Fatalf("error %v, want a NewerSchemaError for schema %d", err, future)
	}
	want := fmt.Sprintf("cache %s was written by a newer auditlens (schema %d, this build knows %d)", path, future, SchemaVersion())
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
}

func TestOpenRefusesForeignAndDamagedFiles(t *testing.T) {
	ctx := context.Background()
	// A real cache with data, to cut short.
	full := filepath.Join(t.TempDir(), "full.db")
	s, err := Open(ctx, full)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	docsPath := filepath.Join(dir, "a.ndjson")
	writeDocs(t, docsPath, genDocs(3000, 1))
	ingest(t, s, &lineReader{}, sources.Executions, discover(t, docsPath))
	s.Close()
	whole, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(full + "-wal"); err == nil {
		t.Fatal("closing the cache should have checkpointed and removed its WAL")
	}

	cases := []struct {
		name    string
		prepare func(path string)
		want    string
	}{
		{"text file", func(p string) { os.WriteFile(p, []byte("host,exe\nweb,/bin/ls\n"), 0o600) }, "not an SQLite database"},
		{"short text", func(p string) { os.WriteFile(p, []byte("x"), 0o600) }, "not an SQLite database"},
		{"cut inside header", func(p string) { os.WriteFile(p, whole[:50], 0o600) }, "cut short inside its header"},
		{"cut short", func(p string) { os.WriteFile(p, whole[:len(whole)/2], 0o600) }, "cut short"},
		{"another program's database", func(p string) {
			db, err := sql.Open("sqlite3", p)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("CREATE TABLE songs (title TEXT)"); err != nil {
				t.Fatal(err)
			}
		}, "another program"},
		{"another program's id", func(p string) {
			db, err := sql.Open("sqlite3", p)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("PRAGMA application_id = 42"); err != nil {
				t.Fatal(err)
			}
		}, "application id 0x2a"},
		{"folder", func(p string) { os.Mkdir(p, 0o700) }, "is a folder"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cache.db")
			c.prepare(path)
			s, err := Open(ctx, path)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q, want it to name the file and say %q", err, c.want)
			}
		})
	}
}

func TestOpenEmptyFileIsNewCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestOpenPathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd ?#%name", "cache.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("cache not created at the exact path: %v", err)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/var/tmp/xdg")
	got, err := DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join("/var/tmp/xdg", "auditlens", "cache.db"); got != want {
		t.Errorf("DefaultPath() = %s, want %s", got, want)
	}
}
