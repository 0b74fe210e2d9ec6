package cache

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/auditlens/auditlens/sources"
)

// storedEventsSQL counts the executions the cache keeps, a row each or in
// blocks.
const storedEventsSQL = "SELECT (SELECT count(*) FROM event) + (SELECT coalesce(sum(events), 0) FROM event_block)"

// blockEvents decodes every event of one block, as Events would.
func decodeBlock(t testing.TB, data []byte, loadPath string) []sources.Event {
	t.Helper()
	var r blockReader
	if err := r.read(data); err != nil {
		t.Fatalf("read block: %v", err)
	}
	var out []sources.Event
	err := r.each(func(int) bool { return true }, func(i int, ev *sources.Event, originFile string) error {
		e := &r.events[i]
		ev.Time, ev.PID, ev.PPID = timeOf(e.ns), e.pid, e.ppid
		if originFile == "" {
			originFile = loadPath
		}
		ev.Origin.File = originFile
		out = append(out, *ev)
		return nil
	})
	if err != nil {
		t.Fatalf("read block: %v", err)
	}
	return out
}

// encodeBlock packs events as the writer does, with keys standing for the
// dictionary ids.
func encodeBlock(evs []sources.Event, loadPath string) []byte {
	b := newBlockBuilder()
	b.reset(1, 1)
	keys := map[string]int64{}
	key := func(s string) int64 {
		if keys[s] == 0 {
			keys[s] = int64(len(keys) + 1)
		}
		return keys[s]
	}
	for i := range evs {
		ev := &evs[i]
		host := int64(0)
		if ev.Host != "" {
			host = key("host " + ev.Host)
		}
		file := ev.Origin.File
		if file == loadPath {
			file = ""
		}
		b.add(ev, unixNano(ev.Time), int64(i+1), key("exe "+ev.Executable), host, file)
	}
	return b.encode(nil)
}

func TestEventBlockRoundTrip(t *testing.T) {
	base := sources.Event{
		Time: testStart, Host: "web-1", Executable: "/usr/bin/curl", Name: "curl",
		Args: []string{"curl", "-s", "http://x"}, Title: "curl -s http://x",
		User: sources.User{Name: "root", ID: "0", AuditName: "alice", AuditID: "1000"},
		PID:  100, PPID: 1, WorkingDir: "/", Result: "success", Syscall: "execve", Action: "executed",
		Origin: sources.Origin{File: "/var/log/audit/audit.log", Line: 10},
	}
	with := func(f func(ev *sources.Event)) sources.Event {
		ev := base
		ev.Args = slices.Clone(base.Args)
		f(&ev)
		return ev
	}
	cases := map[string][]sources.Event{
		"one event": {base},
		"repeats":   {base, base, base},
		"nil, empty and repeated arguments": {
			with(func(ev *sources.Event) { ev.Args, ev.Title = nil, "" }),
			with(func(ev *sources.Event) { ev.Args, ev.Title = []string{}, "" }),
			with(func(ev *sources.Event) { ev.Args, ev.Title = []string{}, "" }),
			with(func(ev *sources.Event) { ev.Args, ev.Title = nil, "" }),
			with(func(ev *sources.Event) { ev.Args = []string{""} }),
			with(func(ev *sources.Event) { ev.Args = []string{"", ""} }),
		},
		"titles": {
			base, // the arguments joined
			with(func(ev *sources.Event) { ev.Title = "curl -s" }),           // cut short, as the kernel does
			with(func(ev *sources.Event) { ev.Title = "curl  -s http://x" }), // not joined by single spaces
			with(func(ev *sources.Event) { ev.Title = "curl -s http://x " }), // one space too many
			with(func(ev *sources.Event) { ev.Args = []string{"a b", "c"} }), // the same title, other arguments
			with(func(ev *sources.Event) { ev.Args, ev.Title = []string{"a b", "c"}, "a b c" }),
			with(func(ev *sources.Event) { ev.Args, ev.Title = []string{"a", "b c"}, "a b c" }),
		},
		"every field changes": {
			base,
			{Time: testStart.Add(time.Minute), Host: "db\x1b[2J", Executable: "", Name: "ü", Args: []string{"\x00", "\xff"},
				Title: "x", Container: sources.Container{ID: "c1", Name: "api", Runtime: "docker"},
				User: sources.User{Name: "n", ID: "i", AuditName: "an", AuditID: "ai"}, PID: -5, PPID: 0,
				WorkingDir: "/tmp", Result: "fail", Syscall: "execveat", Action: "", Origin: sources.Origin{File: "/elsewhere", Line: -3, Index: "idx", ID: "doc"}},
			base,
		},
		"extreme numbers": {
			with(func(ev *sources.Event) { ev.PID, ev.PPID, ev.Origin.Line = math.MaxInt64, math.MinInt64, math.MaxInt64 }),
			with(func(ev *sources.Event) { ev.PID, ev.PPID, ev.Origin.Line = math.MinInt64, math.MaxInt64, math.MinInt64 }),
			with(func(ev *sources.Event) { ev.Time = testStart.Add(-time.Minute) }), // out of order
		},
		"no host": {with(func(ev *sources.Event) { ev.Host = "" }), base, with(func(ev *sources.Event) { ev.Host = "" })},
	}
	for name, evs := range cases {
		t.Run(name, func(t *testing.T) {
			const loadPath = "/var/log/audit/audit.log"
			got := decodeBlock(t, encodeBlock(evs, loadPath), loadPath)
			if len(got) != len(evs) {
				t.Fatalf("%d events, want %d", len(got), len(evs))
			}
			for i := range evs {
				want := evs[i]
				want.Time = want.Time.UTC()
				if !reflect.DeepEqual(got[i], want) {
					t.Errorf("event %d:\n got %#v\nwant %#v", i, got[i], want)
				}
			}
		})
	}
}

func TestEventBlockRejectsDamage(t *testing.T) {
	evs := []sources.Event{
		{Time: testStart, Host: "h", Executable: "/bin/sh", Args: []string{"sh"}, Title: "sh", PID: 1},
		{Time: testStart.Add(time.Second), Host: "h", Executable: "/bin/ls", Args: []string{"ls"}, PID: 2},
	}
	good := encodeBlock(evs, "")
	decodeBlock(t, good, "") // sound as made
	cases := map[string][]byte{
		"empty":              nil,
		"wrong version":      append([]byte{9}, good[1:]...),
		"cut short":          good[:len(good)-1],
		"trailing":           append(slices.Clone(good), 0),
		"no events":          {blockVersion, 0, 0, 0, 0},
		"huge count":         {blockVersion, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"names past the end": append([]byte{blockVersion, 1, 0xff, 0x7f}, make([]byte, 40)...),
	}
	// An executable index past the names: the names are "/bin/sh" and
	// "/bin/ls" and "h", so 3 is out of range.
	bad := slices.Clone(good)
	var r blockReader
	if err := r.read(bad); err != nil {
		t.Fatal(err)
	}
	exeAt := len(bad) - len(r.recs) - 2*2 // two events, one byte each for executable and host
	bad[exeAt] = 3
	cases["executable index out of range"] = bad
	for name, b := range cases {
		var r blockReader
		err := r.read(b)
		if err == nil {
			err = r.each(func(int) bool { return true }, func(int, *sources.Event, string) error { return nil })
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzEventBlock(f *testing.F) {
	f.Add("curl", "curl -s", "/usr/bin/curl", "web", "c1", "api", "root", "/", "execve", "/log", int64(5), int64(1), int64(7), int64(1e9), uint8(3), []byte{blockVersion, 1, 0}, uint16(9), byte(0x80))
	f.Add("", "", "", "", "", "", "", "", "", "", int64(0), int64(0), int64(0), int64(0), uint8(0), []byte{}, uint16(0), byte(1))
	f.Fuzz(func(t *testing.T, arg, title, exe, host, cid, cname, user, cwd, syscall, file string, pid, ppid, line, step int64, n uint8, raw []byte, flipAt uint16, flip byte) {
		// Damaged bytes are an error, never a panic.
		var r blockReader
		if r.read(raw) == nil {
			_ = r.each(func(int) bool { return true }, func(int, *sources.Event, string) error { return nil })
		}
		// A run of events built from the input reads back as it was.
		var evs []sources.Event
		for i := range int(n%8) + 1 {
			ev := sources.Event{
				Time: time.Unix(0, (step%int64(time.Minute))*int64(i)).UTC(), Host: host, Executable: exe, Name: arg,
				Title: title, User: sources.User{Name: user}, PID: pid + int64(i), PPID: ppid, WorkingDir: cwd,
				Syscall: syscall, Origin: sources.Origin{File: file, Line: line * int64(i)},
			}
			switch i % 3 {
			case 1:
				ev.Args = []string{arg, title}
				ev.Container = sources.Container{ID: cid, Name: cname}
			case 2:
				ev.Args = []string{}
			}
			evs = append(evs, ev)
		}
		enc := encodeBlock(evs, "/load")
		got := decodeBlock(t, enc, "/load")
		for i := range evs {
			if evs[i].Origin.File == "" {
				evs[i].Origin.File = "/load" // "" is stored as the load's path
			}
			if !reflect.DeepEqual(got[i], evs[i]) {
				t.Fatalf("event %d:\n got %#v\nwant %#v", i, got[i], evs[i])
			}
		}
		// A sound block with one byte changed or cut off reads or fails, never
		// panics.
		for _, b := range [][]byte{enc[:int(flipAt)%len(enc)], slices.Clone(enc)} {
			if len(b) == len(enc) {
				b[int(flipAt)%len(b)] ^= flip
			}
			var r blockReader
			if r.read(b) == nil {
				_ = r.each(func(int) bool { return true }, func(int, *sources.Event, string) error { return nil })
			}
		}
	})
}

// randomEvents makes n events of three hosts and two containers, in read
// order: times mostly rising with jumps of up to two hours and some going
// back, many at the same instant, pids from a small range so look-ups find
// several.
func randomEvents(n int, seed uint64) []sources.Event {
	r := rand.New(rand.NewPCG(seed, 3))
	exes := []string{"/bin/sh", "/usr/bin/curl", "/usr/bin/python3", "/tmp/x\x1b[31m"}
	at := testStart
	evs := make([]sources.Event, n)
	for i := range evs {
		switch r.IntN(10) {
		case 0:
			at = at.Add(time.Duration(r.Int64N(int64(2 * time.Hour))))
		case 1:
			at = at.Add(-time.Duration(r.Int64N(int64(10 * time.Minute))))
		case 2, 3:
			// the same instant as the previous event
		default:
			at = at.Add(time.Duration(r.Int64N(int64(30 * time.Second))))
		}
		ev := &evs[i]
		ev.Time = at
		ev.Host = fmt.Sprintf("host-%d", r.IntN(3))
		if r.IntN(4) == 0 {
			ev.Container = sources.Container{ID: fmt.Sprintf("id-%d", r.IntN(2)), Name: fmt.Sprintf("svc-%d", r.IntN(2)), Runtime: "docker"}
		}
		ev.Executable = exes[r.IntN(len(exes))]
		ev.Name = filepath.Base(ev.Executable)
		ev.Args = []string{ev.Name, fmt.Sprint(r.IntN(5))}
		if r.IntN(3) > 0 {
			ev.Title = ev.Args[0] + " " + ev.Args[1]
		}
		ev.PID, ev.PPID = int64(100+r.IntN(50)), int64(1+r.IntN(10))
		ev.User = sources.User{ID: fmt.Sprint(r.IntN(3))}
		ev.Syscall, ev.Action = "execve", "executed"
		ev.Origin = sources.Origin{File: "mem", Line: int64(i + 1)}
	}
	return evs
}

func ingestEvents(t testing.TB, s *Store, path string, evs []sources.Event) {
	t.Helper()
	read := func(ctx context.Context, in sources.Input, opts sources.Options, fn sources.EventFunc) (sources.Report, error) {
		for i := range evs {
			ev := evs[i]
			if err := fn(&ev); err != nil {
				return sources.Report{}, err
			}
		}
		return sources.Report{Files: []sources.FileReport{{Path: path, Seen: int64(len(evs)), Events: int64(len(evs))}}}, nil
	}
	in := sources.Input{Format: sources.FormatAuditLog, Files: []sources.FileInfo{{Path: path, Fingerprint: path, ContentSize: int64(len(evs))}}}
	if _, err := s.Ingest(context.Background(), []sources.Input{in}, IngestOptions{Read: read}); err != nil {
		t.Fatal(err)
	}
}

// Every query answers what filtering the events read gives, in time order
// (ties in the order read), across block boundaries, limits and both
// directions.
func TestEventsFromBlocksMatchTheEventsRead(t *testing.T) {
	s := openStore(t)
	evs := randomEvents(6000, 11)
	ingestEvents(t, s, "mem", evs)
	for i := range evs {
		evs[i].Time = evs[i].Time.UTC()
		evs[i].Origin.File = absPath("mem")
	}
	if n := queryInt(t, s, "SELECT count(*) FROM event_block"); n < 20 {
		t.Fatalf("only %d blocks: the test wants many", n)
	}
	if n := queryInt(t, s, "SELECT count(*) FROM event_block WHERE last_time - time >= ? OR events > ?", blockSpan, blockEvents); n != 0 {
		t.Errorf("%d blocks break the block bounds", n)
	}
	ordered := slices.Clone(evs)
	slices.SortStableFunc(ordered, func(a, b sources.Event) int { return a.Time.Compare(b.Time) })

	r := rand.New(rand.NewPCG(5, 5))
	end := ordered[len(ordered)-1].Time
	span := end.Sub(testStart)
	for q := range 300 {
		eq := EventQuery{}
		if r.IntN(4) > 0 {
			eq.Scope, eq.Entity = sources.ScopeHost, fmt.Sprintf("host-%d", r.IntN(3))
			if r.IntN(4) == 0 {
				eq.Scope, eq.Entity = sources.ScopeContainer, fmt.Sprintf("svc-%d", r.IntN(2))
			}
		}
		if r.IntN(3) > 0 {
			eq.From = testStart.Add(time.Duration(r.Int64N(int64(span))))
			eq.To = eq.From.Add(time.Duration(r.Int64N(int64(3 * time.Hour))))
		}
		switch r.IntN(6) {
		case 0:
			eq.PID = int64(100 + r.IntN(50))
		case 1:
			eq.PPID = int64(1 + r.IntN(10))
		case 2:
			eq.Executable = "/usr/bin/curl"
		}
		if r.IntN(2) == 0 {
			eq.Limit = 1 + r.IntN(300)
		}
		eq.Newest = r.IntN(2) == 0
		var want []sources.Event
		for _, ev := range ordered {
			if (eq.Scope == "" || ev.Scope() == eq.Scope) && (eq.Entity == "" || ev.Entity() == eq.Entity) &&
				(eq.From.IsZero() || !ev.Time.Before(eq.From)) && (eq.To.IsZero() || ev.Time.Before(eq.To)) &&
				(eq.PID == 0 || ev.PID == eq.PID) && (eq.PPID == 0 || ev.PPID == eq.PPID) &&
				(eq.Executable == "" || ev.Executable == eq.Executable) {
				want = append(want, ev)
			}
		}
		if eq.Newest {
			slices.Reverse(want) // newest first, later read first among ties
		}
		if eq.Limit > 0 && len(want) > eq.Limit {
			want = want[:eq.Limit]
		}
		got, err := s.Events(context.Background(), eq)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("query %d %+v: %d events, want %d", q, eq, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("query %d %+v: event %d:\n got %+v\nwant %+v", q, eq, i, got[i], want[i])
			}
		}
	}
}

// A log that interleaves more entities than the open blocks may hold stores
// them early, smaller, and loses nothing.
func TestEventBlocksBoundedWhileOpen(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	evs := randomEvents(3000, 17)
	for i := range evs {
		evs[i].Container = sources.Container{}
		evs[i].Host = fmt.Sprintf("host-%d", i%40)
		evs[i].Origin.File = "mem"
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	r, err := tx.ExecContext(ctx, "INSERT INTO load (source, path, selection, loaded_at, complete) VALUES ('file', ?, 0, 0, 1)", absPath("mem"))
	if err != nil {
		t.Fatal(err)
	}
	load, _ := r.LastInsertId()
	w, err := newWriter(ctx, s, tx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.storeBlocks(ctx); err != nil {
		t.Fatal(err)
	}
	w.maxOpen = 2 << 10
	ls := &loadState{id: load, path: "mem"}
	var b batch
	for i := range evs {
		b.add(&evs[i], ls)
		if err := w.writeBatch(ctx, &b); err != nil {
			t.Fatal(err)
		}
		b.reset()
		if w.openBytes > w.maxOpen {
			t.Fatalf("%d bytes open, bound %d", w.openBytes, w.maxOpen)
		}
	}
	if err := w.flush(ctx); err != nil {
		t.Fatal(err)
	}
	w.close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	w.names.committed()
	if n, max := queryInt(t, s, "SELECT count(*) FROM event_block"), queryInt(t, s, "SELECT max(events) FROM event_block"); n < 100 || max > 20 {
		t.Errorf("%d blocks of at most %d events: want many small ones", n, max)
	}
	got, err := s.Events(ctx, EventQuery{})
	if err != nil || len(got) != len(evs) {
		t.Fatalf("%d events back (%v), want %d", len(got), err, len(evs))
	}
}

// A damaged block is an error that says where, not a panic or a silent gap.
func TestEventsReportDamagedBlock(t *testing.T) {
	s := openStore(t)
	ingestEvents(t, s, "mem", randomEvents(100, 2))
	if _, err := s.db.Exec("UPDATE event_block SET data = substr(data, 1, length(data) - 3) WHERE id = (SELECT min(id) FROM event_block)"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Events(context.Background(), EventQuery{}); err == nil {
		t.Error("a damaged block read without error")
	}
}

// Counts of any size, and minutes decades apart, are stored exactly.
func TestCountsStoreExactly(t *testing.T) {
	s := openStore(t)
	from := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	type row struct {
		entity string
		minute int64
		count  int64
	}
	var want []row
	_, err := s.IngestSpan(context.Background(), SpanLoad{Source: "pack", From: from, To: to}, func(w *SpanWriter) error {
		for i := range 200 {
			c := MinuteCount{Scope: sources.ScopeHost, Entity: fmt.Sprintf("h%d", i%3), Minute: from.Unix() + int64(i)*60,
				Executable: "/bin/sh", Execution: true, Count: int64(i + 1)}
			switch i % 50 {
			case 7:
				c.Count = 1 << 40
			case 9:
				c.Minute = to.Unix() - 60 - int64(i)*60 // decades after the others
			}
			want = append(want, row{c.Entity, c.Minute, c.Count})
			if err := w.IngestCounts(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []row
	ents, err := entitiesByID(context.Background(), s.db)
	if err != nil {
		t.Fatal(err)
	}
	err = eachCount(context.Background(), s.db, newCountScan("", time.Time{}, time.Time{}, sources.AllSyscalls, nil, nil),
		func(b countBlock, r *countRow) error {
			got = append(got, row{ents[b.entity].name, r.minute, r.count})
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	order := func(a, b row) int { return cmp.Or(cmp.Compare(a.entity, b.entity), cmp.Compare(a.minute, b.minute)) }
	slices.SortFunc(got, order)
	slices.SortFunc(want, order)
	if !slices.Equal(got, want) {
		t.Errorf("stored counts differ:\n got %v\nwant %v", got, want)
	}
}
