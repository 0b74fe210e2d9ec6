package cache

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

func TestCountBlockRoundTrip(t *testing.T) {
	day := dayOf(testStart.Unix())
	cases := []struct {
		name string
		rows []countRow
	}{
		{"empty", nil},
		{"one", []countRow{{minute: day + 600, exe: 3, count: 1}}},
		{"a day's both ends", []countRow{{minute: day, exe: 9, count: 2}, {minute: day + countBlockSeconds - 60, exe: 1, count: 5}}},
		{"one minute, executables up and down", []countRow{
			{minute: day + 60, exe: 1 << 40, count: 1}, {minute: day + 60, exe: 2, kind: 1, host: 7, count: 3},
			{minute: day + 60, exe: 2, host: 8, count: 1 << 40},
		}},
		{"largest values", []countRow{{minute: day, exe: math.MaxInt64, host: 1 << 61, kind: 1, count: 1 << 62}}},
		{"before 1970", []countRow{{minute: dayOf(-86400 * 3), exe: 1, count: 1}, {minute: dayOf(-86400*3) + 120, exe: 1, count: 1}}},
	}
	for _, c := range cases {
		data := appendCountBlock(nil, c.rows)
		first := int64(0)
		if len(c.rows) > 0 {
			first = c.rows[0].minute
		}
		var got []countRow
		err := eachCountBlockRow(data, first, func(r *countRow) error {
			got = append(got, *r)
			return nil
		})
		if err != nil || !slices.Equal(got, c.rows) {
			t.Errorf("%s: got %+v %v, want %+v", c.name, got, err, c.rows)
		}
	}
}

func TestCountBlockCorrupt(t *testing.T) {
	good := appendCountBlock(nil, []countRow{{minute: 600, exe: 3, count: 1}, {minute: 1200, exe: 4, count: 300}})
	cases := map[string][]byte{
		"empty":             nil,
		"unknown format":    append([]byte{9}, good[1:]...),
		"cut short":         good[:len(good)-1],
		"minute past a day": {countBlockFormat, 0xa1, 0x0b, 2, 0, 1}, // 1441 minutes on
	}
	for name, data := range cases {
		err := eachCountBlockRow(data, 0, func(*countRow) error { return nil })
		if !errors.Is(err, errCountBlock) {
			t.Errorf("%s: %v, want a corrupt block", name, err)
		}
	}
}

// A block from a damaged file is an error that names it, never a panic or a
// wrong count.
func TestCountsDamagedBlock(t *testing.T) {
	s := openStore(t)
	_, err := s.IngestSpan(context.Background(), SpanLoad{Source: "x", From: testStart, To: testStart.Add(time.Hour)}, func(w *SpanWriter) error {
		return w.IngestCounts(
			MinuteCount{Scope: sources.ScopeHost, Entity: "h", Minute: testStart.Unix(), Executable: "/bin/true", Execution: true, Count: 1},
			MinuteCount{Scope: sources.ScopeHost, Entity: "h", Minute: testStart.Unix() + 60, Executable: "/bin/ls", Execution: true, Count: 300})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("UPDATE count_block SET data = substr(data, 1, length(data) - 1)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Counts(context.Background(), CountQuery{}, func(engine.Count) error { return nil }); !errors.Is(err, errCountBlock) {
		t.Errorf("Counts: %v, want a corrupt block", err)
	}
	if _, err := s.Stats(context.Background(), StatsQuery{}); !errors.Is(err, errCountBlock) {
		t.Errorf("Stats: %v, want a corrupt block", err)
	}
}

// A cache of schema 4 keeps its counts: migration 5 moves minute_count's
// rows into blocks and the same counts come out.
func TestMigrateCountRowsToBlocks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db := sql.OpenDB(writable(path, "WAL"))
	for {
		done, err := migrateOne(ctx, db, path, migrations()[:4])
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
	}
	day := dayOf(testStart.Unix())
	for _, stmt := range []string{
		`INSERT INTO entity (id, scope, name) VALUES (1, 'host', 'h1'), (2, 'container', 'c1'), (3, 'host', 'h2')`,
		`INSERT INTO executable (id, path) VALUES (1, '/bin/sh'), (2, '/usr/bin/ssh')`,
		`INSERT INTO load (id, source, selection, loaded_at, complete) VALUES (1, 'file', 0, 0, 1), (2, 'file', 1, 0, 1)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	// Two days of one host, a container on h1, two loads, other events.
	type row struct{ entity, minute, exe, kind, host, load, count int64 }
	rows := []row{
		{1, day, 1, 0, 0, 1, 3}, {1, day + 60, 2, 0, 0, 1, 1}, {1, day + countBlockSeconds - 60, 1, 1, 0, 1, 2},
		{1, day + countBlockSeconds, 1, 0, 0, 1, 7}, {1, day, 1, 0, 0, 2, 5},
		{2, day + 300, 2, 0, 1, 1, 4}, {3, day - 60, 1, 0, 0, 2, 9},
	}
	for _, r := range rows {
		if _, err := db.Exec(`INSERT INTO minute_count (entity_id, minute, executable_id, kind, host_id, load_id, count)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.entity, r.minute, r.exe, r.kind, r.host, r.load, r.count); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := queryInt(t, s, "SELECT count(*) FROM sqlite_schema WHERE name = 'minute_count'"); n != 0 {
		t.Error("minute_count is still there")
	}
	// Blocks: h1 has two days in load 1 and one in load 2; c1 one; h2 one.
	if n := queryInt(t, s, "SELECT count(*) FROM count_block"); n != 5 {
		t.Errorf("%d blocks, want 5", n)
	}
	var got []row
	err = eachCount(ctx, s.db, newCountScan("", time.Time{}, time.Time{}, sources.AllSyscalls, nil, nil), func(b countBlock, r *countRow) error {
		got = append(got, row{b.entity, r.minute, r.exe, int64(r.kind), r.host, b.load, r.count})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	order := func(a, b row) int {
		for _, d := range [][2]int64{{a.load, b.load}, {a.entity, b.entity}, {a.minute, b.minute}, {a.exe, b.exe}} {
			if d[0] != d[1] {
				return int(d[0] - d[1])
			}
		}
		return 0
	}
	slices.SortFunc(got, order)
	slices.SortFunc(rows, order)
	if !slices.Equal(got, rows) {
		t.Errorf("counts after the migration:\n got %v\nwant %v", got, rows)
	}
	st, err := s.Stats(ctx, StatsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Executions != 29 || st.ByHost["h1"] != 20 || st.ByHost["h2"] != 9 || st.Hosts != 2 || st.Containers != 1 {
		t.Errorf("stats after the migration: %+v", st)
	}
}

// The block decoder takes any bytes: an error or rows, never a panic, and
// whatever it reads encodes back to the bytes it read.
func FuzzCountBlock(f *testing.F) {
	f.Add(appendCountBlock(nil, []countRow{{minute: 600, exe: 3, count: 1}, {minute: 1200, exe: 4, kind: 1, host: 2, count: 300}}))
	f.Add([]byte{countBlockFormat})
	f.Add([]byte{countBlockFormat, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		var rows []countRow
		err := eachCountBlockRow(data, 0, func(r *countRow) error {
			rows = append(rows, *r)
			return nil
		})
		if err != nil {
			if !errors.Is(err, errCountBlock) {
				t.Fatalf("error %v is not a corrupt block", err)
			}
			return
		}
		if len(rows) == 0 {
			return
		}
		again := appendCountBlock(nil, rows)
		var back []countRow
		if err := eachCountBlockRow(again, rows[0].minute, func(r *countRow) error { back = append(back, *r); return nil }); err != nil || !slices.Equal(back, rows) {
			t.Fatalf("re-encoded rows read back as %+v %v, want %+v", back, err, rows)
		}
	})
}
