// Package cache is auditlens's SQLite store: per-minute execution counts that
// the detectors and charts read, the execution events behind them for
// drill-down, and what was loaded from where (files by fingerprint, time spans
// of range-queried sources), so that nothing is read twice. It is the only
// package that writes SQL.
package cache

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"github.com/mattn/go-sqlite3"
)

// applicationID marks a SQLite file as an auditlens cache ("ALNS"), so a
// database of another program is refused rather than migrated.
const applicationID = 0x414c4e53

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// Store is an open cache. It is safe for concurrent use; writes are
// serialized by SQLite, reads run beside them (WAL mode).
type Store struct {
	db       *sql.DB
	path     string
	readOnly bool      // opened with OpenReadOnly: every write is refused
	conn     connector // how it was opened, for a private connection of its own

	mu    sync.Mutex
	names dictionary // committed dictionary rows, which are never deleted
}

// DefaultPath is where the cache lives unless told otherwise:
// $XDG_CACHE_HOME/auditlens/cache.db (~/.cache/auditlens/cache.db on Linux).
func DefaultPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate the cache folder: %w", err)
	}
	return filepath.Join(dir, "auditlens", "cache.db"), nil
}

// Open opens the cache at path, creating it (and its folder) when absent and
// bringing its schema up to date. A file that is not an auditlens cache, a
// damaged one, one written by a newer auditlens, or a saved case file
// (OpenCaseFile opens those) is refused with an error that says which.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("cache %s: create folder: %w", path, err)
	}
	if err := checkFile(abs); err != nil {
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	// Opening a case file as a cache would change it (WAL, migrations,
	// result sets): it is opened with OpenCaseFile, by auditlens open.
	if isCaseFile(ctx, abs) {
		return nil, fmt.Errorf("cache %s: a saved case file, not a cache (open it with auditlens open FILE)", path)
	}
	return open(ctx, path, abs, writable(abs, "WAL"))
}

// open opens the database c connects to and brings its schema up to date.
func open(ctx context.Context, path, abs string, c connector) (*Store, error) {
	db := sql.OpenDB(c)
	s := &Store{db: db, path: abs, conn: c, names: newDictionary()}
	if err := s.setUp(ctx, path); err != nil {
		db.Close()
		var newer *NewerSchemaError
		if errors.As(err, &newer) {
			return nil, err // it names the file itself
		}
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	return s, nil
}

// Path is the cache file's absolute path.
func (s *Store) Path() string { return s.path }

// Close releases the database; the store is unusable afterwards.
func (s *Store) Close() error { return s.db.Close() }

// setUp checks the file is ours (or empty) and applies pending migrations.
func (s *Store) setUp(ctx context.Context, path string) error {
	var appID, version int64
	if err := s.db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return describeOpenError(err)
	}
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return describeOpenError(err)
	}
	switch {
	case appID == applicationID:
	case appID != 0:
		return fmt.Errorf("not an auditlens cache: an SQLite database of another program (application id %#x)", appID)
	default:
		var tables int64
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
			return describeOpenError(err)
		}
		if tables > 0 || version != 0 {
			return fmt.Errorf("not an auditlens cache: an SQLite database of another program (%d schema objects, user_version %d)", tables, version)
		}
	}
	return migrate(ctx, s.db, path)
}

// checkFile refuses, before SQLite sees it, a file that is not an SQLite
// database or that was cut short, so the error says so instead of "file is
// not a database".
func checkFile(path string) error {
	_, err := inspectFile(path)
	var p *fileProblem
	if errors.As(err, &p) && p.damaged {
		return fmt.Errorf("%w (move it away and the cache is rebuilt from the sources)", err)
	}
	if errors.As(err, &p) && !p.damaged {
		return fmt.Errorf("%w (move it away or choose another cache file)", err)
	}
	return err
}

// fileProblem says what is wrong with a file's bytes, without advice: the
// caller knows whether it is a cache (rebuilt from the sources) or a case
// file (copied again).
type fileProblem struct {
	msg     string
	damaged bool // cut short, rather than not a database at all
}

func (p *fileProblem) Error() string { return p.msg }

// fileHeader is what inspectFile learns from a database's first page.
type fileHeader struct {
	exists bool
	empty  bool
	wal    bool // the file is in WAL mode (header read/write versions 2)
}

// inspectFile reads a database file's header: a missing or empty file is no
// problem (a new database, or one whose pages all still sit in its WAL); a
// file that is not SQLite's, or is shorter than its header says, is a
// *fileProblem.
func inspectFile(path string) (fileHeader, error) {
	var h fileHeader
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return h, err
	}
	defer f.Close()
	h.exists = true
	fi, err := f.Stat()
	if err != nil {
		return h, err
	}
	if fi.IsDir() {
		return h, errors.New("is a folder, not a cache file")
	}
	if fi.Size() == 0 {
		h.empty = true
		return h, nil
	}
	var head [100]byte
	n, err := io.ReadFull(f, head[:])
	if !bytes.HasPrefix(head[:n], sqliteHeader) {
		return h, &fileProblem{msg: "not an auditlens cache: not an SQLite database"}
	}
	if err != nil {
		return h, &fileProblem{msg: "damaged: the file is cut short inside its header", damaged: true}
	}
	h.wal = head[18] == 2 || head[19] == 2
	pageSize := int64(binary.BigEndian.Uint16(head[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(head[28:32]))
	changes := binary.BigEndian.Uint32(head[24:28])
	validFor := binary.BigEndian.Uint32(head[92:96])
	// The page count is only trustworthy when written by the same change as
	// the header, and pages may legitimately still sit in the WAL.
	if _, err := os.Stat(path + "-wal"); err != nil && changes == validFor && pages*pageSize > fi.Size() {
		return h, &fileProblem{msg: fmt.Sprintf("damaged: the file is cut short (%d bytes, its header says %d)", fi.Size(), pages*pageSize), damaged: true}
	}
	return h, nil
}

// describeOpenError turns SQLite's terse open errors into advice.
func describeOpenError(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrNotADB:
			return fmt.Errorf("not an auditlens cache: not an SQLite database: %w", err)
		case sqlite3.ErrCorrupt:
			return fmt.Errorf("damaged (move it away and the cache is rebuilt from the sources): %w", err)
		case sqlite3.ErrCantOpen, sqlite3.ErrPerm, sqlite3.ErrReadonly:
			return fmt.Errorf("cannot open for writing (check the file's and its folder's permissions): %w", err)
		}
	}
	return err
}

// writable connects to a database for reading and writing. Its file: URI
// makes any character in the path safe and carries the per-connection
// settings: NORMAL sync (durable against a killed process; a power cut may
// lose the last commits, never consistency), foreign keys, a busy timeout for
// a second auditlens, and write transactions that take the write lock up front
// so they never fail half-way on a lock upgrade. The journal mode (WAL for a
// cache, DELETE to keep a case file one file) is set by Connect, after the
// page size.
func writable(path, journal string) connector {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	q := url.Values{}
	q.Set("_synchronous", "NORMAL")
	q.Set("_foreign_keys", "1")
	q.Set("_busy_timeout", "10000")
	q.Set("_txlock", "immediate")
	q.Set("_cache_size", "-65536") // KiB: a 64 MiB page cache keeps index inserts in memory
	return connector{dsn: u.String() + "?" + q.Encode(), journal: journal}
}

// dsnReadOnly opens a database without ever writing to it or beside it:
// SQLite's read-only mode, no journal-mode change, and queries only. With
// immutable, SQLite also takes no locks and creates no -shm file: right for a
// file nothing else writes, wrong for a live cache whose WAL holds pages.
func dsnReadOnly(path string, immutable bool) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	q := url.Values{}
	q.Set("mode", "ro")
	if immutable {
		q.Set("immutable", "1")
	}
	q.Set("_query_only", "1")
	q.Set("_busy_timeout", "10000")
	return u.String() + "?" + q.Encode()
}

// connector opens connections with the settings that SQLite's URI cannot
// carry, without registering a driver globally.
type connector struct {
	dsn      string
	journal  string // journal mode of a writable connection
	readOnly bool
}

// pageSize is the page size of a new database. Pages of 16 KiB rather than
// SQLite's 4 KiB hold a block of events (eventblock.go) without overflow
// pages and make the count B-tree shallower: an ingest writes about a
// tenth fewer bytes and pages. A database keeps the page size it was made with.
const pageSize = 16384

func (c connector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.Driver().Open(c.dsn)
	if err != nil {
		return nil, err
	}
	sc := conn.(*sqlite3.SQLiteConn)
	if c.readOnly {
		return conn, nil
	}
	// The page size takes only on a new, empty file, and only before the
	// journal mode, since a file in WAL mode keeps its page size.
	for _, pragma := range []string{fmt.Sprintf("PRAGMA page_size = %d", pageSize), "PRAGMA journal_mode = " + c.journal} {
		if _, err := sc.Exec(pragma, nil); err != nil {
			sc.Close()
			return nil, err
		}
	}
	// The WAL is truncated back to this size after a checkpoint, so one big
	// ingest does not leave a multi-gigabyte WAL file behind.
	if _, err := sc.Exec("PRAGMA journal_size_limit = 67108864", nil); err != nil {
		sc.Close()
		return nil, err
	}
	return conn, nil
}

func (c connector) Driver() driver.Driver { return &sqlite3.SQLiteDriver{} }
