package cache

import (
	"context"
	"database/sql"
	"fmt"
)

// A migration brings the schema from one version to the next. The schema
// version is SQLite's user_version: migration i (counting from 0) turns
// version i into version i+1. Migrations run in order, each in its own
// transaction together with the version bump, when a cache is opened.
//
// To change the schema, append a migration to the list in migrations() and
// never edit or reorder one that has shipped: caches in the field are at
// every version. Put plain DDL/DML in SQL; use Apply for a change that needs
// Go (rewriting values). A new table that holds data derived from a load
// should carry "load_id INTEGER NOT NULL REFERENCES load (id) ON DELETE
// CASCADE" plus an index on load_id, so replacing a file also drops it.
type migration struct {
	Name  string
	SQL   string
	Apply func(ctx context.Context, tx *sql.Tx) error // optional, runs after SQL
}

// migrations is the ordered list of schema changes; its length is the schema
// version this build writes.
func migrations() []migration {
	return []migration{
		{Name: "counts, events and coverage", SQL: schemaV1},
		{Name: "detection results and triage", SQL: schemaResults},
		{Name: "cases", SQL: schemaCases},
		{Name: "suppression rules", SQL: schemaRules},
		{Name: "counts in blocks", SQL: schemaCountBlocks, Apply: countRowsToBlocks},
	}
}

// SchemaVersion is the schema version this build reads and writes.
func SchemaVersion() int { return len(migrations()) }

// NewerSchemaError says the cache was written by a newer auditlens, whose
// schema this build cannot know how to read.
type NewerSchemaError struct {
	Path  string
	Found int    // the file's schema version
	Known int    // the newest this build knows
	What  string // what the file is to the reader: "cache" when empty
}

func (e *NewerSchemaError) Error() string {
	what := e.What
	if what == "" {
		what = "cache"
	}
	return fmt.Sprintf("%s %s was written by a newer auditlens (schema %d, this build knows %d)", what, e.Path, e.Found, e.Known)
}

// migrate applies the pending migrations. The version is re-read inside a
// write transaction, so two processes opening a new cache at once do not both
// migrate it.
func migrate(ctx context.Context, db *sql.DB, path string) error {
	steps := migrations()
	for {
		done, err := migrateOne(ctx, db, path, steps)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next pending migration, or reports there is none.
func migrateOne(ctx context.Context, db *sql.DB, path string, steps []migration) (done bool, err error) {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return false, describeOpenError(err)
	}
	if version > len(steps) {
		return false, &NewerSchemaError{Path: path, Found: version, Known: len(steps)}
	}
	if version == len(steps) {
		return true, nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, describeOpenError(err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return false, err
	}
	if version >= len(steps) {
		return false, tx.Commit() // another process migrated meanwhile; loop re-checks
	}
	m := steps[version]
	if m.SQL != "" {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return false, fmt.Errorf("migrate schema %d -> %d (%s): %w", version, version+1, m.Name, err)
		}
	}
	if m.Apply != nil {
		if err := m.Apply(ctx, tx); err != nil {
			return false, fmt.Errorf("migrate schema %d -> %d (%s): %w", version, version+1, m.Name, err)
		}
	}
	// PRAGMA takes no bound parameters; both values are integers from this code.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d; PRAGMA application_id = %d", version+1, applicationID)); err != nil {
		return false, fmt.Errorf("migrate schema %d -> %d: %w", version, version+1, err)
	}
	return false, tx.Commit()
}

// schemaV1 is the first schema.
//
// entity and executable intern the strings that every count row repeats.
// load is one unit of attribution: a file read, or one span written by a
// range-queried source; every count and event row names its load, so a file
// that grew, or a span fetched again, replaces exactly its own contribution.
// minute_count is the fine grain every bucket span is summed from (moved to
// count_block by schema 5). event (a
// row each, for range-queried sources) and event_block (blocks, for files)
// keep each execution for drill-down. span records which time ranges of which
// range-queried source are loaded.
const schemaV1 = `
CREATE TABLE entity (
	id    INTEGER PRIMARY KEY,
	scope TEXT NOT NULL CHECK (scope IN ('host', 'container')),
	name  TEXT NOT NULL,
	UNIQUE (scope, name)
);

CREATE TABLE executable (
	id   INTEGER PRIMARY KEY,
	path TEXT NOT NULL UNIQUE
);

CREATE TABLE load (
	id           INTEGER PRIMARY KEY,
	source       TEXT NOT NULL,              -- 'file', or the key of a range-queried source
	path         TEXT NOT NULL DEFAULT '',
	format       TEXT NOT NULL DEFAULT '',
	host         TEXT NOT NULL DEFAULT '',   -- host name given for raw logs without node=
	size         INTEGER NOT NULL DEFAULT 0, -- bytes on disk
	mod_time     INTEGER NOT NULL DEFAULT 0, -- Unix nanoseconds
	gzip         INTEGER NOT NULL DEFAULT 0,
	fingerprint  TEXT NOT NULL DEFAULT '',   -- SHA-256 of the first 64 KiB of content
	content_size INTEGER NOT NULL DEFAULT 0,
	content_hash TEXT NOT NULL DEFAULT '',   -- SHA-256 of the first content_size bytes
	selection    INTEGER NOT NULL,           -- 0 executions, 1 all syscalls
	lines        INTEGER NOT NULL DEFAULT 0,
	seen         INTEGER NOT NULL DEFAULT 0,
	events       INTEGER NOT NULL DEFAULT 0,
	executions   INTEGER NOT NULL DEFAULT 0,
	rejected     INTEGER NOT NULL DEFAULT 0,
	repaired     INTEGER NOT NULL DEFAULT 0,
	samples      TEXT NOT NULL DEFAULT '[]', -- first rejected positions, JSON
	first_time   INTEGER,                    -- Unix nanoseconds of the first and last event
	last_time    INTEGER,
	span_from    INTEGER,                    -- the span written, for range-queried sources
	span_to      INTEGER,
	loaded_at    INTEGER NOT NULL,
	complete     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX load_by_fingerprint ON load (fingerprint, content_size);
CREATE INDEX load_by_source ON load (source, span_from);

CREATE TABLE minute_count (
	entity_id     INTEGER NOT NULL,
	minute        INTEGER NOT NULL, -- minute start, Unix seconds
	executable_id INTEGER NOT NULL,
	kind          INTEGER NOT NULL, -- 0 execution, 1 other syscall event
	host_id       INTEGER NOT NULL, -- containers: the host entity they ran on; else 0
	load_id       INTEGER NOT NULL REFERENCES load (id) ON DELETE CASCADE,
	count         INTEGER NOT NULL,
	PRIMARY KEY (entity_id, minute, executable_id, kind, host_id, load_id)
) WITHOUT ROWID;
CREATE INDEX minute_count_by_load ON minute_count (load_id);

-- Executions of range-queried sources, a row each: their spans are replaced
-- piecewise, by time.
CREATE TABLE event (
	id            INTEGER PRIMARY KEY,
	load_id       INTEGER NOT NULL REFERENCES load (id) ON DELETE CASCADE,
	entity_id     INTEGER NOT NULL,
	time          INTEGER NOT NULL, -- Unix nanoseconds
	host_id       INTEGER NOT NULL, -- host entity, 0 when unknown
	executable_id INTEGER NOT NULL,
	pid           INTEGER NOT NULL,
	ppid          INTEGER NOT NULL,
	args          TEXT NOT NULL,    -- JSON array
	detail        BLOB NOT NULL     -- the other fields, packed: see eventdetail.go
);
-- Process look-ups (pid, ppid) scan an entity's window through event_by_time:
-- indexes on them cost a third of the ingest speed.
CREATE INDEX event_by_time ON event (entity_id, time);
CREATE INDEX event_by_load ON event (load_id);

-- Executions of files, in blocks of up to 512 events of one entity less than
-- an hour apart (see eventblock.go): a file's events go only with its load,
-- and a row per event cost more than parsing the log.
CREATE TABLE event_block (
	id        INTEGER PRIMARY KEY,
	load_id   INTEGER NOT NULL REFERENCES load (id) ON DELETE CASCADE,
	entity_id INTEGER NOT NULL,
	time      INTEGER NOT NULL, -- Unix nanoseconds of the earliest event
	last_time INTEGER NOT NULL, -- and of the latest, less than an hour later
	events    INTEGER NOT NULL,
	data      BLOB NOT NULL
);
CREATE INDEX event_block_by_time ON event_block (entity_id, time);
CREATE INDEX event_block_by_start ON event_block (time);
CREATE INDEX event_block_by_load ON event_block (load_id);

CREATE TABLE span (
	source     TEXT NOT NULL,
	span_start INTEGER NOT NULL, -- Unix nanoseconds, inclusive
	span_end   INTEGER NOT NULL, -- Unix nanoseconds, exclusive
	PRIMARY KEY (source, span_start)
) WITHOUT ROWID;
`

// schemaCountBlocks keeps the minute counts in blocks (countblock.go) rather
// than a row each.
const schemaCountBlocks = `
CREATE TABLE count_block (
	id           INTEGER PRIMARY KEY,
	load_id      INTEGER NOT NULL REFERENCES load (id) ON DELETE CASCADE,
	entity_id    INTEGER NOT NULL,
	first_minute INTEGER NOT NULL, -- Unix seconds of the first and last minute held,
	last_minute  INTEGER NOT NULL, -- both in one UTC day
	rows         INTEGER NOT NULL,
	data         BLOB NOT NULL
);
CREATE INDEX count_block_by_entity ON count_block (entity_id, first_minute);
CREATE INDEX count_block_by_load ON count_block (load_id);
`

// countRowsToBlocks moves the rows of minute_count into blocks and drops the
// table.
func countRowsToBlocks(ctx context.Context, tx *sql.Tx) error {
	st, err := tx.PrepareContext(ctx, insertCountBlockSQL(""))
	if err != nil {
		return err
	}
	defer st.Close()
	rows, err := tx.QueryContext(ctx, `SELECT load_id, entity_id, minute, executable_id, kind, host_id, count
		FROM minute_count ORDER BY load_id, entity_id, minute, executable_id, kind, host_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	// Blocks are stored while the rows are read: a transaction's statements
	// may interleave in SQLite, and a day of one entity is all that is held.
	var load, entity int64
	var group []countRow
	var buf []byte
	flush := func() error {
		var err error
		buf, err = storeCountBlocks(ctx, st, load, entity, group, buf)
		group = group[:0]
		return err
	}
	for rows.Next() {
		var l, e int64
		var r countRow
		if err := rows.Scan(&l, &e, &r.minute, &r.exe, &r.kind, &r.host, &r.count); err != nil {
			return err
		}
		if len(group) > 0 && (l != load || e != entity || dayOf(r.minute) != dayOf(group[0].minute)) {
			if err := flush(); err != nil {
				return err
			}
		}
		load, entity = l, e
		group = append(group, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "DROP TABLE minute_count")
	return err
}
