package cache

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// doc is one line of the test input format: a small JSON object per event,
// which the line reader below turns into a sources.Event. It lets these
// tests drive Ingest with real files (fingerprints, gzip, growth) without
// depending on the real parsers.
type doc struct {
	T         time.Time `json:"t"`
	Host      string    `json:"host"`
	Container string    `json:"container,omitempty"`
	Exe       string    `json:"exe"`
	Syscall   string    `json:"syscall"`
	PID       int64     `json:"pid"`
	PPID      int64     `json:"ppid"`
	Args      []string  `json:"args,omitempty"`
	User      string    `json:"user,omitempty"`
}

func (d doc) event(path string, line int64) sources.Event {
	ev := sources.Event{
		Time: d.T, Host: d.Host, Executable: d.Exe, Name: filepath.Base(d.Exe), Args: d.Args,
		Title: fmt.Sprint(d.Args), User: sources.User{Name: d.User, ID: "1000", AuditName: d.User, AuditID: "1000"},
		PID: d.PID, PPID: d.PPID, WorkingDir: "/tmp", Result: "success", Syscall: d.Syscall,
		Origin: sources.Origin{File: path, Line: line},
	}
	if d.Container != "" {
		ev.Container = sources.Container{ID: "id-" + d.Container, Name: d.Container, Runtime: "docker"}
	}
	if ev.IsExecution() {
		ev.Action = "executed"
	}
	return ev
}

var testStart = time.Date(2024, 3, 10, 10, 0, 0, 0, time.UTC)

// genDocs makes n events over three hours on three hosts, some in
// containers, about one in five not an execution.
func genDocs(n int, seed uint64) []doc {
	r := rand.New(rand.NewPCG(seed, 7))
	exes := []string{"/usr/bin/ls", "/usr/bin/bash", "/usr/sbin/sshd", "/usr/bin/curl", "/tmp/x\x1b[31m", "/usr/bin/python3"}
	docs := make([]doc, n)
	for i := range docs {
		d := doc{
			T:    testStart.Add(time.Duration(r.Int64N(int64(3 * time.Hour)))),
			Host: fmt.Sprintf("host-%d", r.IntN(3)),
			Exe:  exes[r.IntN(len(exes))],
			PID:  int64(1000 + i), PPID: int64(1 + r.IntN(50)),
			Args: []string{"arg", fmt.Sprint(i)},
			User: "alice",
		}
		if r.IntN(4) == 0 {
			d.Container = fmt.Sprintf("web-%d", r.IntN(2))
		}
		d.Syscall = "execve"
		if r.IntN(5) == 0 {
			d.Syscall = "openat"
		}
		docs[i] = d
	}
	return docs
}

func writeDocs(t testing.TB, path string, docs []doc) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, d := range docs {
		b, _ := json.Marshal(d)
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func appendDocs(t testing.TB, path string, docs []doc) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		b, _ := json.Marshal(d)
		f.Write(append(b, '\n'))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func gzipFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// lineReader reads the test format. It counts its calls, can sleep per
// event, and follows the contract of sources.Read: bad lines are rejected
// with their position, events are yielded per the selection.
type lineReader struct {
	calls   atomic.Int64
	delay   time.Duration
	onEvent func(n int64) // called after each event yielded
}

func (lr *lineReader) Read(ctx context.Context, in sources.Input, opts sources.Options, fn sources.EventFunc) (sources.Report, error) {
	lr.calls.Add(1)
	var rep sources.Report
	var n int64
	for _, info := range in.Files {
		fr := sources.FileReport{Path: info.Path}
		err := func() error {
			f, err := os.Open(info.Path)
			if err != nil {
				return err
			}
			defer f.Close()
			var r io.Reader = f
			if info.Gzip {
				zr, err := gzip.NewReader(f)
				if err != nil {
					return err
				}
				r = zr
			}
			sc := bufio.NewScanner(r)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				if err := ctx.Err(); err != nil {
					return err
				}
				fr.Lines++
				var d doc
				if err := json.Unmarshal(sc.Bytes(), &d); err != nil || d.T.IsZero() {
					fr.Rejected++
					if len(fr.Samples) < 5 {
						fr.Samples = append(fr.Samples, sources.Reject{Line: fr.Lines, Reason: "not a test event"})
					}
					continue
				}
				fr.Seen++
				ev := d.event(info.Path, fr.Lines)
				if opts.Selection == sources.Executions && !ev.IsExecution() {
					continue
				}
				fr.Events++
				if err := fn(&ev); err != nil {
					return err
				}
				n++
				if lr.onEvent != nil {
					lr.onEvent(n)
				}
				if lr.delay > 0 {
					time.Sleep(lr.delay)
				}
			}
			return sc.Err()
		}()
		rep.Files = append(rep.Files, fr)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// discover makes the inputs for paths, one NDJSON input per file.
func discover(t testing.TB, paths ...string) []sources.Input {
	t.Helper()
	ins, err := sources.Discover(paths, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

func ingest(t testing.TB, s *Store, lr *lineReader, sel sources.Selection, ins []sources.Input) IngestResult {
	t.Helper()
	res, err := s.Ingest(context.Background(), ins, IngestOptions{Selection: sel, Read: lr.Read})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return res
}

type bucketKey struct {
	scope  engine.Scope
	entity string
	bucket int64
	exe    string
}

// expectCounts sums docs into buckets the plain way, for comparison.
func expectCounts(docs []doc, span time.Duration, sel sources.Selection) map[bucketKey]int64 {
	out := map[bucketKey]int64{}
	secs := int64(span / time.Second)
	for i, d := range docs {
		ev := d.event("", int64(i))
		if sel == sources.Executions && !ev.IsExecution() {
			continue
		}
		b := ev.Time.Unix() / secs * secs
		out[bucketKey{engine.Scope(ev.Scope()), ev.Entity(), b, ev.Executable}]++
	}
	return out
}

func readCounts(t testing.TB, s *Store, q CountQuery) ([]engine.Count, map[bucketKey]int64) {
	t.Helper()
	var list []engine.Count
	m := map[bucketKey]int64{}
	err := s.Counts(context.Background(), q, func(c engine.Count) error {
		list = append(list, c)
		m[bucketKey{c.Scope, c.Entity, c.Bucket, c.Executable}] += c.Count
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return list, m
}

func totalCount(t testing.TB, s *Store, sel sources.Selection) int64 {
	t.Helper()
	var n int64
	err := s.Counts(context.Background(), CountQuery{Selection: sel, BucketSpan: time.Hour}, func(c engine.Count) error {
		n += c.Count
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func countOf(docs []doc, sel sources.Selection) int64 {
	var n int64
	for _, d := range docs {
		if sel == sources.AllSyscalls || d.Syscall == "execve" {
			n++
		}
	}
	return n
}

func mapsEqual(t testing.TB, got, want map[bucketKey]int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d buckets, want %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%+v: count %d, want %d", k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%+v: unexpected count %d", k, g)
		}
	}
}

func queryInt(t testing.TB, s *Store, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// flattenCounts writes every minute count of the cache into a table of one
// row per count, minute_count, shaped as schema 4 kept them: reference
// queries in plain SQL read it, while the code under test reads the blocks.
func flattenCounts(t testing.TB, s *Store) {
	t.Helper()
	ctx := context.Background()
	for _, stmt := range []string{"DROP TABLE IF EXISTS minute_count", flatCountsSQL} {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var rows []any
	err = eachCount(ctx, tx, newCountScan("", time.Time{}, time.Time{}, sources.AllSyscalls, nil, nil), func(b countBlock, r *countRow) error {
		rows = append(rows, b.entity, r.minute, r.exe, r.kind, r.host, b.load, r.count)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for len(rows) > 0 {
		n := min(len(rows), 7*100)
		q := "INSERT INTO minute_count VALUES " + strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?),", n/7), ",") +
			" ON CONFLICT DO UPDATE SET count = count + excluded.count"
		if _, err := tx.ExecContext(ctx, q, rows[:n]...); err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// flatCountsSQL is schema 4's minute_count, without its reference to load.
const flatCountsSQL = `CREATE TABLE minute_count (
	entity_id     INTEGER NOT NULL,
	minute        INTEGER NOT NULL,
	executable_id INTEGER NOT NULL,
	kind          INTEGER NOT NULL,
	host_id       INTEGER NOT NULL,
	load_id       INTEGER NOT NULL,
	count         INTEGER NOT NULL,
	PRIMARY KEY (entity_id, minute, executable_id, kind, host_id, load_id)
) WITHOUT ROWID`

// countFilter builds the WHERE clause of reference queries over
// minute_count c (see flattenCounts), as the cache's own queries did.
func countFilter(scope engine.Scope, from, to time.Time, sel sources.Selection, entities []string, loads []int64) (string, []any, error) {
	var conds []string
	var args []any
	param := func(v any) string {
		args = append(args, v)
		return "?"
	}
	ents, err := entityFilter(scope, entities, param)
	if err != nil {
		return "", nil, err
	}
	sub := "SELECT id FROM entity"
	if ents != "" {
		sub += " WHERE " + ents
	}
	conds = append(conds, "c.entity_id IN ("+sub+")")
	if !from.IsZero() {
		conds = append(conds, "c.minute >= "+param(minuteOf(from)))
	}
	if !to.IsZero() {
		conds = append(conds, "c.minute < "+param(endSecond(to)))
	}
	if sel == sources.Executions {
		conds = append(conds, fmt.Sprintf("c.kind = %d", kindExecution))
	}
	if len(loads) > 0 {
		list, err := json.Marshal(loads)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, "c.load_id IN (SELECT value FROM json_each("+param(string(list))+"))")
	}
	return strings.Join(conds, " AND "), args, nil
}

// countRows is how many minute counts a scan picks.
func countRows(t testing.TB, s *Store, cs countScan) int64 {
	t.Helper()
	var n int64
	if err := eachCount(context.Background(), s.db, cs, func(countBlock, *countRow) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// loadCountSum is the sum of the counts of one load, of any kind.
func loadCountSum(t testing.TB, s *Store, load int64) int64 {
	t.Helper()
	var n int64
	err := eachCount(context.Background(), s.db, newCountScan("", time.Time{}, time.Time{}, sources.AllSyscalls, nil, []int64{load}),
		func(_ countBlock, r *countRow) error { n += r.count; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}
