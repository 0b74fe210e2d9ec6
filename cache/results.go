package cache

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// schemaResults keeps detection results and the analyst's triage.
//
// result_set holds one job's results over one range, keyed by everything that
// made them (job settings, range, selection, the loads they read and the
// engine's version): a key that matches is a result that would come out the
// same, so it is served without running the job. Old sets are pruned.
// triage is the analyst's verdict on an anomaly, keyed by the anomaly's
// stable id, so it survives re-runs that produce the same anomaly again.
const schemaResults = `
CREATE TABLE result_set (
	key        TEXT PRIMARY KEY,
	job_id     TEXT NOT NULL,
	created_at INTEGER NOT NULL, -- Unix nanoseconds
	data       BLOB NOT NULL     -- gzip of the results' JSON
);
CREATE INDEX result_set_by_age ON result_set (created_at);

CREATE TABLE triage (
	anomaly_id TEXT PRIMARY KEY,
	job_id     TEXT NOT NULL,
	entity     TEXT NOT NULL,
	executable TEXT NOT NULL DEFAULT '',
	bucket     INTEGER NOT NULL, -- bucket start, Unix seconds
	state      TEXT NOT NULL,
	note       TEXT NOT NULL DEFAULT '',
	updated_at INTEGER NOT NULL  -- Unix nanoseconds
);
`

// keepResultSets bounds how many result sets the cache keeps.
const keepResultSets = 64

// DataVersion names the cache's current data: it changes whenever a load is
// added, replaced or completed, so results keyed on it go stale with it.
func (s *Store) DataVersion(ctx context.Context) (string, error) {
	var n, maxID, events int64
	err := s.db.QueryRowContext(ctx,
		`SELECT count(*), coalesce(max(id), 0), coalesce(sum(seen + events + executions), 0) FROM load WHERE complete = 1`).
		Scan(&n, &maxID, &events)
	if err != nil {
		return "", fmt.Errorf("cache %s: data version: %w", s.path, err)
	}
	return fmt.Sprintf("%d.%d.%d", n, maxID, events), nil
}

// SaveResults stores a result set's encoded data under key, pruning the
// oldest sets beyond a bound.
func (s *Store) SaveResults(ctx context.Context, key, jobID string, data []byte) error {
	if err := s.writable(); err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cache %s: save results: %w", s.path, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO result_set (key, job_id, created_at, data) VALUES (?, ?, ?, ?)
		 ON CONFLICT (key) DO UPDATE SET data = excluded.data, created_at = excluded.created_at`,
		key, jobID, time.Now().UnixNano(), buf.Bytes()); err != nil {
		return fmt.Errorf("cache %s: save results: %w", s.path, err)
	}
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM result_set WHERE key NOT IN (SELECT key FROM result_set ORDER BY created_at DESC LIMIT ?)`,
		keepResultSets); err != nil {
		return fmt.Errorf("cache %s: prune results: %w", s.path, err)
	}
	return tx.Commit()
}

// LoadResults returns the data stored under key; ok is false when there is none.
func (s *Store) LoadResults(ctx context.Context, key string) (data []byte, ok bool, err error) {
	var blob []byte
	err = s.db.QueryRowContext(ctx, `SELECT data FROM result_set WHERE key = ?`, key).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cache %s: load results: %w", s.path, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		return nil, false, fmt.Errorf("cache %s: stored results are damaged: %w", s.path, err)
	}
	data, err = io.ReadAll(zr)
	if err != nil {
		return nil, false, fmt.Errorf("cache %s: stored results are damaged: %w", s.path, err)
	}
	return data, true, nil
}

// Triage states an analyst gives an anomaly.
const (
	StateNew           = "new"
	StateAcknowledged  = "acknowledged"
	StateFalsePositive = "false-positive"
	StateEscalated     = "escalated"
)

// TriageStates lists the states in the order the console cycles them.
func TriageStates() []string {
	return []string{StateNew, StateAcknowledged, StateFalsePositive, StateEscalated}
}

// Triage is an analyst's verdict on one anomaly.
type Triage struct {
	AnomalyID  string    `json:"anomaly_id"`
	JobID      string    `json:"job_id"`
	Entity     string    `json:"entity"`
	Executable string    `json:"executable,omitempty"`
	Bucket     int64     `json:"bucket"` // bucket start, Unix seconds
	State      string    `json:"state"`
	Note       string    `json:"note,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// SetTriage records a verdict, replacing an earlier one for the same anomaly.
func (s *Store) SetTriage(ctx context.Context, t Triage) error {
	if err := s.writable(); err != nil {
		return err
	}
	valid := false
	for _, st := range TriageStates() {
		valid = valid || st == t.State
	}
	if !valid {
		return fmt.Errorf("triage state %q: want one of new, acknowledged, false-positive, escalated", t.State)
	}
	if t.AnomalyID == "" {
		return errors.New("triage: no anomaly id")
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = time.Now()
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO triage (anomaly_id, job_id, entity, executable, bucket, state, note, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (anomaly_id) DO UPDATE SET state = excluded.state, note = excluded.note, updated_at = excluded.updated_at`,
		t.AnomalyID, t.JobID, t.Entity, t.Executable, t.Bucket, t.State, t.Note, t.UpdatedAt.UnixNano())
	if err != nil {
		return fmt.Errorf("cache %s: save triage: %w", s.path, err)
	}
	return nil
}

// TriageFor returns the verdicts on a job's anomalies, by anomaly id.
func (s *Store) TriageFor(ctx context.Context, jobID string) (map[string]Triage, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT anomaly_id, job_id, entity, executable, bucket, state, note, updated_at FROM triage WHERE job_id = ?`, jobID)
	if err != nil {
		return nil, fmt.Errorf("cache %s: read triage: %w", s.path, err)
	}
	defer rows.Close()
	out := map[string]Triage{}
	for rows.Next() {
		var t Triage
		var ns int64
		if err := rows.Scan(&t.AnomalyID, &t.JobID, &t.Entity, &t.Executable, &t.Bucket, &t.State, &t.Note, &ns); err != nil {
			return nil, err
		}
		t.UpdatedAt = time.Unix(0, ns).UTC()
		out[t.AnomalyID] = t
	}
	return out, rows.Err()
}

// Remove deletes the cache file at path with its WAL and shared-memory
// files. It refuses a file that is not an SQLite database, so a mistyped
// path never deletes someone's data. A missing file is not an error.
func Remove(path string) error {
	if err := checkFile(path); err != nil {
		return fmt.Errorf("cache %s: not removed: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cache %s: remove: %w", path, err)
		}
	}
	return nil
}

// LoadsOf lists the loads of a range-queried source, partial spans (those
// reaching the present) included, so a scan can be kept to that source's
// data when the cache holds others too.
func (s *Store) LoadsOf(ctx context.Context, source string) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM load WHERE source = ? ORDER BY id`, source)
	if err != nil {
		return nil, fmt.Errorf("cache %s: loads of %s: %w", s.path, source, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
