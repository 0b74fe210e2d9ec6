package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mattn/go-sqlite3"
)

// ErrReadOnly says a write was asked of a store opened read-only.
var ErrReadOnly = errors.New("opened read-only: nothing is written to it")

// OlderSchemaError says a file opened read-only was written by an older
// auditlens: bringing its schema up to date is a write, which read-only
// opening never does.
type OlderSchemaError struct {
	Path  string
	Found int // the file's schema version
	Known int // the version this build reads
}

func (e *OlderSchemaError) Error() string {
	return fmt.Sprintf("file %s was written by an older auditlens (schema %d, this build knows %d): it must be upgraded first, which changes the file",
		e.Path, e.Found, e.Known)
}

// OpenReadOnly opens an auditlens file (a cache or a saved case) without ever
// changing it: no migration, no journal-mode change, no WAL or shared-memory
// file beside it (unless it is a live cache whose WAL still holds pages), and
// every write refused with ErrReadOnly. A missing, empty, foreign or damaged
// file is refused with an error that says which; so is a file of another
// schema version (*NewerSchemaError, *OlderSchemaError), because the queries
// of this build are written for its own schema.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	s, err := openReadOnly(ctx, path)
	if err != nil && s != nil {
		s.Close()
		s = nil
	}
	return s, err
}

// openReadOnly is OpenReadOnly that hands back the store along with an
// *OlderSchemaError, so a caller about to upgrade the file can look at it
// first. On any other error the store is nil.
func openReadOnly(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such file", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s: is a folder, not an auditlens file", path)
	}
	h, err := inspectFile(abs)
	var p *fileProblem
	switch {
	case errors.As(err, &p) && p.damaged:
		return nil, fmt.Errorf("%s: %w (it was probably copied or downloaded incompletely: copy it again)", path, err)
	case errors.As(err, &p):
		return nil, fmt.Errorf("%s: not an auditlens file: not an SQLite database", path)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	case h.empty:
		return nil, fmt.Errorf("%s: not an auditlens file: the file is empty", path)
	}
	db := sql.OpenDB(connector{dsn: readOnlyDSN(abs, h), readOnly: true})
	s := &Store{db: db, path: abs, readOnly: true, names: newDictionary()}
	if err := s.checkVersion(ctx, path); err != nil {
		var older *OlderSchemaError
		if errors.As(err, &older) {
			return s, err
		}
		db.Close()
		return nil, err
	}
	return s, nil
}

// readOnlyDSN opens a file without writing: immutable, unless it is in WAL
// mode and its WAL holds pages (a live cache), which SQLite must read
// through its shared-memory file.
func readOnlyDSN(abs string, h fileHeader) string {
	immutable := true
	if wal, err := os.Stat(abs + "-wal"); h.wal && err == nil && wal.Size() > 0 {
		immutable = false
	}
	return dsnReadOnly(abs, immutable)
}

// isCaseFile says whether the file at abs is a saved case file, looking
// without changing it; any doubt is "no" (opening it says what is wrong).
func isCaseFile(ctx context.Context, abs string) bool {
	h, err := inspectFile(abs)
	if err != nil || !h.exists || h.empty {
		return false
	}
	db := sql.OpenDB(connector{dsn: readOnlyDSN(abs, h), readOnly: true})
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'case_file'`).Scan(&n)
	if err != nil || n == 0 {
		return false
	}
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM case_file`).Scan(&n)
	return err == nil && n > 0
}

// checkVersion refuses a file that is not ours or whose schema is not this
// build's, without migrating anything.
func (s *Store) checkVersion(ctx context.Context, path string) error {
	var appID, version, tables int64
	for _, q := range []struct {
		sql string
		dst *int64
	}{{"PRAGMA application_id", &appID}, {"PRAGMA user_version", &version}, {"SELECT count(*) FROM sqlite_schema", &tables}} {
		if err := s.db.QueryRowContext(ctx, q.sql).Scan(q.dst); err != nil {
			return fmt.Errorf("%s: %w", path, describeReadError(err))
		}
	}
	switch {
	case appID != applicationID && appID != 0:
		return fmt.Errorf("%s: not an auditlens file: an SQLite database of another program (application id %#x)", path, appID)
	case appID != applicationID:
		return fmt.Errorf("%s: not an auditlens file: an SQLite database of another program (%d schema objects, user_version %d)", path, tables, version)
	case int(version) > SchemaVersion():
		return &NewerSchemaError{Path: path, Found: int(version), Known: SchemaVersion(), What: "file"}
	case int(version) < SchemaVersion():
		return &OlderSchemaError{Path: path, Found: int(version), Known: SchemaVersion()}
	}
	return nil
}

// describeReadError turns SQLite's errors on a file opened read-only into
// advice that fits a file nobody rebuilds.
func describeReadError(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrNotADB:
			return fmt.Errorf("not an auditlens file: not an SQLite database: %w", err)
		case sqlite3.ErrCorrupt:
			return fmt.Errorf("damaged (it was probably copied incompletely: copy it again): %w", err)
		}
	}
	return describeOpenError(err)
}

// ReadOnly says the store was opened with OpenReadOnly.
func (s *Store) ReadOnly() bool { return s.readOnly }

// writable refuses a write on a read-only store before SQLite does, with an
// error that says why.
func (s *Store) writable() error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", s.path, ErrReadOnly)
	}
	return nil
}
