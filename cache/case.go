package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// schemaCases keeps cases: named sets of anomalies an analyst hands over or
// reviews later.
//
// case_anomaly keeps each anomaly's record as it was found (JSON) and the
// settings of the scan that found it (job, options, events, range), so a
// case shows the scores the analyst saw even where the data to recompute
// them is gone. Triage states and notes stay in triage, keyed by anomaly id
// as everywhere else. case_file marks a saved case file: it holds one row,
// naming the case the file was saved for.
const schemaCases = `
CREATE TABLE cases (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	summary    TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL, -- Unix nanoseconds
	updated_at INTEGER NOT NULL
);

CREATE TABLE case_anomaly (
	case_id    INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
	anomaly_id TEXT NOT NULL,
	job_id     TEXT NOT NULL,
	range_from INTEGER NOT NULL, -- the range scanned, Unix seconds
	range_to   INTEGER NOT NULL,
	settings   TEXT NOT NULL,    -- JSON: the job's settings, options and events
	record     TEXT NOT NULL,    -- JSON: the anomaly record as it was found
	added_at   INTEGER NOT NULL, -- Unix nanoseconds
	PRIMARY KEY (case_id, anomaly_id)
);

CREATE TABLE case_file (
	case_id      INTEGER NOT NULL REFERENCES cases (id),
	saved_at     INTEGER NOT NULL, -- Unix nanoseconds
	range_from   INTEGER NOT NULL, -- Unix seconds
	range_to     INTEGER NOT NULL,
	fleet_counts INTEGER NOT NULL  -- 1: counts of every entity of the case's scopes; 0: of its own entities
);
`

// Errors of cases; test them with errors.Is.
var (
	ErrNoCase      = errors.New("no such case")
	ErrNotCaseFile = errors.New("not a case file: it holds no saved case (a cache? open it with auditlens --cache FILE)")
)

// Case is a named set of anomalies.
type Case struct {
	Name      string    `json:"name"`
	Summary   string    `json:"summary,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	Anomalies int       `json:"anomalies"`
}

// CaseAnomaly is one anomaly of a case. Settings and Record are opaque JSON
// to the cache: the workspace writes and reads them.
type CaseAnomaly struct {
	AnomalyID string
	JobID     string
	// From and To are the range scanned when the anomaly was found.
	From, To time.Time
	Settings json.RawMessage
	Record   json.RawMessage
	Added    time.Time
}

// maxCaseName bounds a case name, which the console shows in its status bar.
const maxCaseName = 100

// checkCaseName refuses names that are empty, too long, or hold characters a
// terminal would act on: a case name is typed once and shown everywhere.
func checkCaseName(name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("a case needs a name")
	}
	if len(name) > maxCaseName {
		return fmt.Errorf("case name is %d bytes long; at most %d", len(name), maxCaseName)
	}
	if !utf8.ValidString(name) {
		return errors.New("case name is not valid UTF-8")
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("case name holds the control or format character %U", r)
		}
	}
	return nil
}

// AddToCase adds an anomaly to a case, creating the case when it is new; an
// anomaly already in it is replaced (its record and settings as given now).
func (s *Store) AddToCase(ctx context.Context, name string, a CaseAnomaly) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := checkCaseName(name); err != nil {
		return err
	}
	if a.AnomalyID == "" || a.JobID == "" {
		return errors.New("add to case: the anomaly has no id or job")
	}
	if !json.Valid(a.Settings) || !json.Valid(a.Record) {
		return fmt.Errorf("add to case: anomaly %q: settings and record must be JSON", a.AnomalyID)
	}
	if a.Added.IsZero() {
		a.Added = time.Now()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cache %s: add to case: %w", s.path, err)
	}
	defer tx.Rollback()
	id, err := ensureCase(ctx, tx, name, a.Added)
	if err != nil {
		return fmt.Errorf("cache %s: add to case: %w", s.path, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_anomaly (case_id, anomaly_id, job_id, range_from, range_to, settings, record, added_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (case_id, anomaly_id) DO UPDATE SET job_id = excluded.job_id, range_from = excluded.range_from,
			range_to = excluded.range_to, settings = excluded.settings, record = excluded.record`,
		id, a.AnomalyID, a.JobID, a.From.Unix(), a.To.Unix(), string(a.Settings), string(a.Record), a.Added.UnixNano()); err != nil {
		return fmt.Errorf("cache %s: add to case: %w", s.path, err)
	}
	return tx.Commit()
}

// ensureCase returns a case's id, creating it when absent, and marks it
// updated.
func ensureCase(ctx context.Context, tx *sql.Tx, name string, now time.Time) (int64, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO cases (name, created_at, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at`, name, now.UnixNano(), now.UnixNano()); err != nil {
		return 0, err
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM cases WHERE name = ?`, name).Scan(&id)
	return id, err
}

// SetCaseSummary sets a case's summary, the few lines a report starts with,
// creating the case when it is new.
func (s *Store) SetCaseSummary(ctx context.Context, name, summary string) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := checkCaseName(name); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cache %s: case summary: %w", s.path, err)
	}
	defer tx.Rollback()
	id, err := ensureCase(ctx, tx, name, time.Now())
	if err != nil {
		return fmt.Errorf("cache %s: case summary: %w", s.path, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET summary = ? WHERE id = ?`, summary, id); err != nil {
		return fmt.Errorf("cache %s: case summary: %w", s.path, err)
	}
	return tx.Commit()
}

// Cases lists the cases, by name.
func (s *Store) Cases(ctx context.Context) ([]Case, error) {
	var out []Case
	err := s.each(ctx, `SELECT c.name, c.summary, c.created_at, c.updated_at,
		(SELECT count(*) FROM case_anomaly a WHERE a.case_id = c.id) FROM cases c ORDER BY c.name`, nil, func(r *sql.Rows) error {
		var c Case
		var created, updated int64
		if err := r.Scan(&c.Name, &c.Summary, &created, &updated, &c.Anomalies); err != nil {
			return err
		}
		c.Created, c.Updated = timeOf(created), timeOf(updated)
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache %s: list cases: %w", s.path, err)
	}
	return out, nil
}

// Case returns a case and its anomalies, oldest added first; an unknown name
// is ErrNoCase.
func (s *Store) Case(ctx context.Context, name string) (Case, []CaseAnomaly, error) {
	c := Case{Name: name}
	var id, created, updated int64
	err := s.db.QueryRowContext(ctx, `SELECT id, summary, created_at, updated_at FROM cases WHERE name = ?`, name).
		Scan(&id, &c.Summary, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil, fmt.Errorf("%w %q", ErrNoCase, name)
	}
	if err != nil {
		return c, nil, fmt.Errorf("cache %s: read case: %w", s.path, err)
	}
	c.Created, c.Updated = timeOf(created), timeOf(updated)
	var out []CaseAnomaly
	err = s.each(ctx, `SELECT anomaly_id, job_id, range_from, range_to, settings, record, added_at FROM case_anomaly
		WHERE case_id = ? ORDER BY added_at, anomaly_id`, []any{id}, func(r *sql.Rows) error {
		var a CaseAnomaly
		var from, to, added int64
		var settings, record string
		if err := r.Scan(&a.AnomalyID, &a.JobID, &from, &to, &settings, &record, &added); err != nil {
			return err
		}
		a.From, a.To, a.Added = time.Unix(from, 0).UTC(), time.Unix(to, 0).UTC(), timeOf(added)
		a.Settings, a.Record = json.RawMessage(settings), json.RawMessage(record)
		out = append(out, a)
		return nil
	})
	if err != nil {
		return c, nil, fmt.Errorf("cache %s: read case %q: %w", s.path, name, err)
	}
	c.Anomalies = len(out)
	return c, out, nil
}

// RemoveFromCase takes an anomaly out of a case; the case stays, even empty.
func (s *Store) RemoveFromCase(ctx context.Context, name, anomalyID string) error {
	if err := s.writable(); err != nil {
		return err
	}
	r, err := s.db.ExecContext(ctx, `DELETE FROM case_anomaly WHERE anomaly_id = ?
		AND case_id = (SELECT id FROM cases WHERE name = ?)`, anomalyID, name)
	if err != nil {
		return fmt.Errorf("cache %s: remove from case: %w", s.path, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("case %q holds no anomaly %q", name, anomalyID)
	}
	return nil
}

// DeleteCase deletes a case and its anomaly list (their triage stays). The
// case a case file was saved for cannot be deleted from it.
func (s *Store) DeleteCase(ctx context.Context, name string) error {
	if err := s.writable(); err != nil {
		return err
	}
	r, err := s.db.ExecContext(ctx, `DELETE FROM cases WHERE name = ? AND id NOT IN (SELECT case_id FROM case_file)`, name)
	if err != nil {
		return fmt.Errorf("cache %s: delete case: %w", s.path, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		if _, _, err := s.Case(ctx, name); err != nil {
			return err
		}
		return fmt.Errorf("case %q is the case this file was saved for: it cannot be deleted from it", name)
	}
	return nil
}

// CaseFile describes a saved case file.
type CaseFile struct {
	Case    string
	SavedAt time.Time
	// From and To are the case's range: the union of its anomalies' ranges.
	From, To time.Time
	// FleetCounts says the file holds the counts of every host or container
	// of the case's scopes over the range (the rare chart's fleet
	// prevalence is then the fleet's), not only of the case's own.
	FleetCounts bool
}

// CaseFile returns what the file was saved as; a cache that is no case file
// is ErrNotCaseFile.
func (s *Store) CaseFile(ctx context.Context) (CaseFile, error) {
	var f CaseFile
	var saved, from, to int64
	err := s.db.QueryRowContext(ctx, `SELECT c.name, f.saved_at, f.range_from, f.range_to, f.fleet_counts
		FROM case_file f JOIN cases c ON c.id = f.case_id`).Scan(&f.Case, &saved, &from, &to, &f.FleetCounts)
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("%s: %w", s.path, ErrNotCaseFile)
	}
	if err != nil {
		return f, fmt.Errorf("%s: read the case file: %w", s.path, describeReadError(err))
	}
	f.SavedAt, f.From, f.To = timeOf(saved), time.Unix(from, 0).UTC(), time.Unix(to, 0).UTC()
	return f, nil
}

// OpenCaseFile opens a saved case file. Read-only (edit false) it is never
// changed (see OpenReadOnly), and a file of an older schema is refused with
// an *OlderSchemaError. With edit it is opened for writing in SQLite's
// rollback-journal mode, so it stays one file, and an older schema is
// brought up to date. A file that is no case file is ErrNotCaseFile.
func OpenCaseFile(ctx context.Context, path string, edit bool) (*Store, CaseFile, error) {
	s, err := openReadOnly(ctx, path)
	var older *OlderSchemaError
	if err != nil && (!edit || !errors.As(err, &older)) {
		if s != nil {
			s.Close()
		}
		return nil, CaseFile{}, err
	}
	if !edit {
		f, err := s.CaseFile(ctx)
		if err != nil {
			s.Close()
			return nil, f, err
		}
		return s, f, nil
	}
	// Look before upgrading: only a case file is opened for editing.
	var marked int
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'case_file'`).Scan(&marked)
	if err == nil && marked > 0 {
		err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM case_file`).Scan(&marked)
	}
	s.Close()
	if err != nil {
		return nil, CaseFile{}, fmt.Errorf("%s: %w", path, describeReadError(err))
	}
	if marked == 0 {
		return nil, CaseFile{}, fmt.Errorf("%s: %w", path, ErrNotCaseFile)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, CaseFile{}, err
	}
	s, err = open(ctx, path, abs, writable(abs, "DELETE"))
	if err != nil {
		return nil, CaseFile{}, err
	}
	f, err := s.CaseFile(ctx)
	if err != nil {
		s.Close()
		return nil, f, err
	}
	return s, f, nil
}

// CaseExport says what a case file holds besides the case: the counts its
// charts and rate models read and the events its process explorer shows.
type CaseExport struct {
	// Case names the case to save.
	Case string
	// From and To are the case's range: counts are copied for its minutes.
	From, To time.Time
	// Counts lists, per scope, the case's own hosts or containers.
	Counts []CountCopy
	// FleetRowLimit is how many minute-count rows of a whole scope over the
	// range are copied at most: at or below it every entity of the scope
	// goes into the file (the fleet context of the rare chart stays whole),
	// above it only the case's own. Zero means DefaultFleetRowLimit;
	// negative means never the whole scope.
	FleetRowLimit int64
	// Windows are the drill-down windows whose events are copied.
	Windows []EventWindow
	// Loads, when set, restricts counts and events to these loads (those the
	// case's scans read).
	Loads []int64
	// Overwrite replaces an existing file at the path; otherwise one is an
	// error.
	Overwrite bool
}

// DefaultFleetRowLimit keeps a case file of a fleet's week (about 200,000
// rows for 36 entities) whole, and one of months of a large fleet small.
const DefaultFleetRowLimit = 2_000_000

// CountCopy is the minute counts of one scope's entities to copy.
type CountCopy struct {
	Scope    engine.Scope
	Entities []string
}

// EventWindow is one host's or container's events over [From, To).
type EventWindow struct {
	Scope    sources.Scope
	Entity   string
	From, To time.Time
}

// SavedCase says what SaveCase wrote.
type SavedCase struct {
	CaseFile
	Path      string
	Anomalies int
	Counts    int64 // minute-count rows
	Events    int64
	Size      int64 // bytes
}

// SaveCase writes the case as one self-contained file at path: a cache of
// this schema holding the case, its anomalies and their triage, the counts
// and events x names, and the loads, hosts, containers and executables they
// refer to. Loads carry file paths and source keys, never credentials (no
// source key holds one). The file is created with mode 0600 under a
// temporary name, written in one transaction in rollback-journal mode and
// renamed into place, so it is one file, never half-written; an error
// leaves nothing behind.
func (s *Store) SaveCase(ctx context.Context, path string, x CaseExport) (SavedCase, error) {
	out := SavedCase{CaseFile: CaseFile{Case: x.Case, From: x.From.UTC(), To: x.To.UTC()}}
	if s.readOnly {
		return out, fmt.Errorf("save case %q: %s is open read-only (a case is saved from the cache it was made in, or from a case file opened for editing)", x.Case, s.path)
	}
	c, anomalies, err := s.Case(ctx, x.Case)
	if err != nil {
		return out, err
	}
	if len(anomalies) == 0 {
		return out, fmt.Errorf("save case %q: the case holds no anomaly", x.Case)
	}
	if !x.From.Before(x.To) {
		return out, fmt.Errorf("save case %q: the range %s to %s is empty", x.Case, x.From.UTC(), x.To.UTC())
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return out, fmt.Errorf("save case %q: %w", x.Case, err)
	}
	out.Path, out.Anomalies = abs, len(anomalies)
	if abs == s.path {
		return out, fmt.Errorf("save case %q: %s is the cache itself", x.Case, path)
	}
	if fi, err := os.Stat(abs); err == nil {
		if fi.IsDir() {
			return out, fmt.Errorf("save case %q: %s is a folder", x.Case, path)
		}
		if !x.Overwrite {
			return out, fmt.Errorf("save case %q: %s exists (choose another name, or overwrite it)", x.Case, path)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".*.tmp")
	if err != nil {
		return out, fmt.Errorf("save case %q: %w", x.Case, err)
	}
	tmpPath := tmp.Name()
	done := false
	defer func() {
		if !done {
			for _, p := range []string{tmpPath, tmpPath + "-journal", tmpPath + "-wal", tmpPath + "-shm"} {
				os.Remove(p)
			}
		}
	}()
	// CreateTemp makes the file 0600; say so explicitly, whatever the umask.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return out, fmt.Errorf("save case %q: %w", x.Case, err)
	}
	if err := tmp.Close(); err != nil {
		return out, fmt.Errorf("save case %q: %w", x.Case, err)
	}
	// The schema comes from the migrations, as for any cache.
	fresh, err := open(ctx, tmpPath, tmpPath, writable(tmpPath, "DELETE"))
	if err != nil {
		return out, fmt.Errorf("save case %q: %w", x.Case, err)
	}
	if err := fresh.Close(); err != nil {
		return out, fmt.Errorf("save case %q: %w", x.Case, err)
	}
	out.SavedAt = time.Now().UTC()
	if err := s.copyCase(ctx, tmpPath, x, &out); err != nil {
		return out, fmt.Errorf("save case %q: %w", c.Name, err)
	}
	for _, p := range []string{tmpPath + "-journal", tmpPath + "-wal", tmpPath + "-shm"} {
		if _, err := os.Stat(p); err == nil {
			return out, fmt.Errorf("save case %q: SQLite left %s behind", x.Case, filepath.Base(p))
		}
	}
	if err := syncFile(tmpPath); err != nil {
		return out, fmt.Errorf("save case %q: %w", x.Case, err)
	}
	if err := os.Rename(tmpPath, abs); err != nil {
		return out, fmt.Errorf("save case %q: %w", x.Case, err)
	}
	done = true
	syncFile(filepath.Dir(abs)) // the rename is durable once the folder is; not all systems can sync one
	if fi, err := os.Stat(abs); err == nil {
		out.Size = fi.Size()
	}
	return out, nil
}

// copyCase copies the case and its data into the empty case file at dst,
// through one private connection to the cache with dst attached, in one
// transaction (one snapshot of the cache).
func (s *Store) copyCase(ctx context.Context, dst string, x CaseExport, out *SavedCase) error {
	db := sql.OpenDB(s.conn)
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS casefile`, dst); err != nil {
		return fmt.Errorf("attach the case file: %w", err)
	}
	// An attached database takes the connection's journal mode (WAL):
	// the case file keeps a rollback journal, so it is one file when done.
	// Foreign keys are checked once at the end: rows go in before the loads
	// they name.
	for _, pragma := range []string{"PRAGMA casefile.journal_mode = DELETE", "PRAGMA foreign_keys = OFF"} {
		if _, err := conn.ExecContext(ctx, pragma); err != nil {
			return fmt.Errorf("%s: %w", pragma, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
		conn.ExecContext(context.WithoutCancel(ctx), "DETACH DATABASE casefile")
	}()
	exec := func(what, query string, args ...any) (int64, error) {
		r, err := conn.ExecContext(ctx, query, args...)
		if err != nil {
			return 0, fmt.Errorf("copy %s: %w", what, err)
		}
		n, _ := r.RowsAffected()
		return n, nil
	}

	limit := x.FleetRowLimit
	if limit == 0 {
		limit = DefaultFleetRowLimit
	}
	out.FleetCounts = len(x.Counts) > 0
	copied := &countCopy{blocks: map[int64]bool{}, hosts: map[int64]bool{}, exes: map[int64]bool{}}
	for _, cc := range x.Counts {
		scan := newCountScan(cc.Scope, x.From, x.To, sources.AllSyscalls, nil, x.Loads)
		var rows int64
		if limit > 0 {
			err := eachCount(ctx, conn, scan, func(countBlock, *countRow) error { rows++; return nil })
			if err != nil {
				return fmt.Errorf("count the fleet's rows: %w", err)
			}
		}
		if limit < 0 || rows > limit {
			out.FleetCounts = false
			scan = newCountScan(cc.Scope, x.From, x.To, sources.AllSyscalls, cc.Entities, x.Loads)
		}
		n, err := copied.copy(ctx, conn, scan)
		if err != nil {
			return fmt.Errorf("copy counts: %w", err)
		}
		out.Counts += n
	}
	hostList, err := json.Marshal(slices.Sorted(maps.Keys(copied.hosts)))
	if err != nil {
		return err
	}
	exeList, err := json.Marshal(slices.Sorted(maps.Keys(copied.exes)))
	if err != nil {
		return err
	}
	var loads any
	if len(x.Loads) > 0 {
		b, err := json.Marshal(x.Loads)
		if err != nil {
			return err
		}
		loads = string(b)
	}
	for _, w := range x.Windows {
		n, err := exec("events", `INSERT OR IGNORE INTO casefile.event SELECT ev.* FROM main.event ev
			WHERE ev.entity_id IN (SELECT id FROM main.entity WHERE scope = ? AND name = ?) AND ev.time >= ? AND ev.time < ?
			AND (?5 IS NULL OR ev.load_id IN (SELECT value FROM json_each(?5)))`,
			string(w.Scope), w.Entity, unixNano(w.From), unixNano(w.To), loads)
		if err != nil {
			return err
		}
		out.Events += n
	}
	n, err := copyEventBlocks(ctx, conn, "casefile", x.Windows, loads)
	if err != nil {
		return err
	}
	out.Events += n
	steps := []struct {
		what, query string
		args        []any
	}{
		{"loads", `INSERT INTO casefile.load SELECT * FROM main.load WHERE id IN
			(SELECT load_id FROM casefile.count_block UNION SELECT load_id FROM casefile.event
			 UNION SELECT load_id FROM casefile.event_block)`, nil},
		{"hosts and containers", `INSERT INTO casefile.entity SELECT * FROM main.entity WHERE id IN
			(SELECT entity_id FROM casefile.count_block UNION SELECT value FROM json_each(?)
			 UNION SELECT entity_id FROM casefile.event UNION SELECT host_id FROM casefile.event
			 UNION SELECT entity_id FROM casefile.event_block)`, []any{string(hostList)}},
		{"executables", `INSERT INTO casefile.executable SELECT * FROM main.executable WHERE id IN
			(SELECT value FROM json_each(?) UNION SELECT executable_id FROM casefile.event)`, []any{string(exeList)}},
		{"the case", `INSERT INTO casefile.cases SELECT * FROM main.cases WHERE name = ?`, []any{x.Case}},
		{"the case's anomalies", `INSERT INTO casefile.case_anomaly SELECT a.* FROM main.case_anomaly a
			JOIN main.cases c ON c.id = a.case_id WHERE c.name = ?`, []any{x.Case}},
		{"triage", `INSERT INTO casefile.triage SELECT * FROM main.triage WHERE anomaly_id IN
			(SELECT anomaly_id FROM casefile.case_anomaly)`, nil},
		{"the case file mark", `INSERT INTO casefile.case_file (case_id, saved_at, range_from, range_to, fleet_counts)
			SELECT id, ?, ?, ?, ? FROM casefile.cases WHERE name = ?`,
			[]any{out.SavedAt.UnixNano(), x.From.Unix(), x.To.Unix(), out.FleetCounts, x.Case}},
	}
	for _, st := range steps {
		if _, err := exec(st.what, st.query, st.args...); err != nil {
			return err
		}
	}
	var broken int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM pragma_foreign_key_check('count_block', 'casefile')`).Scan(&broken); err != nil {
		return fmt.Errorf("check the copy: %w", err)
	}
	var brokenEvents int
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM pragma_foreign_key_check('event', 'casefile'))
		+ (SELECT count(*) FROM pragma_foreign_key_check('event_block', 'casefile'))`).Scan(&brokenEvents); err != nil {
		return fmt.Errorf("check the copy: %w", err)
	}
	if broken+brokenEvents > 0 {
		return fmt.Errorf("check the copy: %d rows name a load that was not copied", broken+brokenEvents)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("write the case file: %w", err)
	}
	committed = true
	return nil
}

// syncFile flushes a file (or a folder's entries) to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// countCopy copies count blocks into an attached case file, each block once,
// keeping only the rows a scan picks, and notes the hosts and executables the
// copied rows name (inside the blocks, out of SQL's sight).
type countCopy struct {
	blocks      map[int64]bool
	hosts, exes map[int64]bool
}

// copy copies the rows scan picks and returns how many.
func (c *countCopy) copy(ctx context.Context, conn *sql.Conn, scan countScan) (int64, error) {
	st, err := conn.PrepareContext(ctx, insertCountBlockSQL("casefile."))
	if err != nil {
		return 0, err
	}
	defer st.Close()
	var n int64
	var cur countBlock
	var rows []countRow
	var buf []byte
	skip := false
	store := func() error {
		if len(rows) == 0 {
			return nil
		}
		var err error
		buf, err = storeCountBlocks(ctx, st, cur.load, cur.entity, rows, buf)
		rows = rows[:0]
		return err
	}
	err = eachCount(ctx, conn, scan, func(b countBlock, r *countRow) error {
		if b.id != cur.id {
			if err := store(); err != nil {
				return err
			}
			cur, skip = b, c.blocks[b.id]
			c.blocks[b.id] = true
		}
		if skip {
			return nil
		}
		rows = append(rows, *r)
		if r.host != 0 {
			c.hosts[r.host] = true
		}
		c.exes[r.exe] = true
		n++
		return nil
	})
	if err == nil {
		err = store()
	}
	return n, err
}
