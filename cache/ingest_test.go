package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

func TestCountsSumMinutesIntoBuckets(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	docs := genDocs(5000, 42)
	path := filepath.Join(dir, "events.ndjson")
	writeDocs(t, path, docs)
	ingest(t, s, &lineReader{}, sources.AllSyscalls, discover(t, path))

	cases := []struct {
		span time.Duration
		sel  sources.Selection
	}{
		{time.Minute, sources.Executions},
		{5 * time.Minute, sources.Executions},
		{15 * time.Minute, sources.Executions},
		{time.Hour, sources.Executions},
		{15 * time.Minute, sources.AllSyscalls},
		{7 * time.Minute, sources.AllSyscalls}, // not a divisor of an hour
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s", c.span, SelectionName(c.sel)), func(t *testing.T) {
			list, got := readCounts(t, s, CountQuery{BucketSpan: c.span, Selection: c.sel})
			mapsEqual(t, got, expectCounts(docs, c.span, c.sel))
			if len(list) != len(got) {
				t.Errorf("%d rows for %d distinct buckets: rows repeat a key", len(list), len(got))
			}
			sorted := slices.IsSortedFunc(list, func(a, b engine.Count) int {
				return strings.Compare(fmt.Sprintf("%020d %s %s %s", a.Bucket, a.Scope, a.Entity, a.Executable),
					fmt.Sprintf("%020d %s %s %s", b.Bucket, b.Scope, b.Entity, b.Executable))
			})
			if !sorted {
				t.Error("rows not ordered by bucket, scope, entity, executable")
			}
		})
	}
}

func TestCountsFilters(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	docs := genDocs(3000, 3)
	path := filepath.Join(dir, "events.ndjson")
	writeDocs(t, path, docs)
	res := ingest(t, s, &lineReader{}, sources.AllSyscalls, discover(t, path))

	from, to := testStart.Add(30*time.Minute), testStart.Add(90*time.Minute)
	var want int64
	for _, d := range docs {
		if d.Container == "web-1" && d.Syscall == "execve" && !d.T.Before(from) && d.T.Before(to) {
			want++
		}
	}
	q := CountQuery{Scope: engine.ScopeContainer, Entities: []string{"web-1"}, From: from, To: to, BucketSpan: 15 * time.Minute}
	list, _ := readCounts(t, s, q)
	var got int64
	for _, c := range list {
		if c.Scope != engine.ScopeContainer || c.Entity != "web-1" || c.Bucket < from.Unix() || c.Bucket >= to.Unix() {
			t.Errorf("count outside the query: %+v", c)
		}
		got += c.Count
	}
	if got != want || want == 0 {
		t.Errorf("filtered total %d, want %d (non-zero)", got, want)
	}
	q.Loads = res.Loads()
	if l2, _ := readCounts(t, s, q); len(l2) != len(list) {
		t.Errorf("restricting to the load that holds everything changed the rows: %d vs %d", len(l2), len(list))
	}
	q.Loads = []int64{999}
	if l3, _ := readCounts(t, s, q); len(l3) != 0 {
		t.Errorf("unknown load gave %d rows", len(l3))
	}
	for _, bad := range []CountQuery{{BucketSpan: 90 * time.Second}, {BucketSpan: time.Second}, {Scope: "pod"}} {
		if err := s.Counts(context.Background(), bad, func(engine.Count) error { return nil }); err == nil {
			t.Errorf("query %+v accepted", bad)
		}
	}
	stop := errors.New("stop")
	if err := s.Counts(context.Background(), CountQuery{}, func(engine.Count) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("callback error not returned: %v", err)
	}
}

func TestIngestSameInputTwiceAddsNothingAndIsNotRead(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	docs := genDocs(2000, 5)
	path := filepath.Join(dir, "a.ndjson")
	writeDocs(t, path, docs)
	lr := &lineReader{}
	first := ingest(t, s, lr, sources.Executions, discover(t, path))
	if got := first.Inputs[0].Files[0].Status; got != FileNew {
		t.Fatalf("first ingest status %s", got)
	}
	second := ingest(t, s, lr, sources.Executions, discover(t, path))
	if lr.calls.Load() != 1 {
		t.Errorf("reader called %d times, want 1", lr.calls.Load())
	}
	fr := second.Inputs[0].Files[0]
	if fr.Status != FileKnown || second.Inputs[0].Read || fr.Load != first.Inputs[0].Files[0].Load {
		t.Errorf("second ingest: %+v", second.Inputs[0])
	}
	if got, want := totalCount(t, s, sources.Executions), countOf(docs, sources.Executions); got != want {
		t.Errorf("total %d, want %d", got, want)
	}
	if n := queryInt(t, s, storedEventsSQL); n != countOf(docs, sources.Executions) {
		t.Errorf("%d events stored, want %d", n, countOf(docs, sources.Executions))
	}
}

func TestIngestSkipsRenamedAndGzippedCopies(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	docs := genDocs(1500, 6) // over 64 KiB
	path := filepath.Join(dir, "auditbeat.ndjson")
	writeDocs(t, path, docs)
	lr := &lineReader{}
	ingest(t, s, lr, sources.Executions, discover(t, path))

	renamed := filepath.Join(dir, "auditbeat.ndjson.1")
	if err := os.Rename(path, renamed); err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(t.TempDir(), "auditbeat.ndjson.2.gz")
	gzipFile(t, renamed, gz)
	res := ingest(t, s, lr, sources.Executions, discover(t, renamed, gz))
	if lr.calls.Load() != 1 {
		t.Errorf("reader called %d times, want 1", lr.calls.Load())
	}
	for _, in := range res.Inputs {
		if in.Files[0].Status != FileKnown {
			t.Errorf("%s: %s, want known", in.Files[0].Path, in.Files[0].Status)
		}
	}
	if got, want := totalCount(t, s, sources.Executions), countOf(docs, sources.Executions); got != want {
		t.Errorf("total %d, want %d", got, want)
	}
}

func TestIngestReplacesGrownFile(t *testing.T) {
	cases := []struct {
		name    string
		before  int // events in the first version: ~200 bytes each, so 100 is small, 1000 over 64 KiB
		added   int
		rotate  bool // the grown file is then renamed and gzipped by logrotate
		newPath bool
		legacy  bool // the first version was loaded by a version that stored SHA-256 digests
	}{
		{"small file grows in place", 100, 50, false, false, false},
		{"large file grows in place", 1000, 300, false, false, false},
		{"small file grows then is rotated", 100, 50, true, true, false},
		{"large file grows then is rotated", 1000, 300, true, true, false},
		{"file loaded by an older version grows", 1000, 300, false, false, true},
		{"file loaded by an older version grows then is rotated", 100, 50, true, true, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openStore(t)
			dir := t.TempDir()
			all := genDocs(c.before+c.added, uint64(100+i))
			path := filepath.Join(dir, "audit.ndjson")
			writeDocs(t, path, all[:c.before])
			lr := &lineReader{}
			first := ingest(t, s, lr, sources.Executions, discover(t, path))
			if c.legacy {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(data)
				if _, err := s.db.Exec("UPDATE load SET content_hash = ?", hex.EncodeToString(sum[:])); err != nil {
					t.Fatal(err)
				}
			}
			appendDocs(t, path, all[c.before:])
			target := path
			if c.rotate {
				target = filepath.Join(dir, "audit.ndjson.1.gz")
				gzipFile(t, path, target)
				os.Remove(path)
			}
			res := ingest(t, s, lr, sources.Executions, discover(t, target))
			fr := res.Inputs[0].Files[0]
			if fr.Status != FileGrown || !slices.Equal(fr.Replaced, []int64{first.Inputs[0].Files[0].Load}) {
				t.Errorf("grown file: status %s, replaced %v", fr.Status, fr.Replaced)
			}
			if got, want := totalCount(t, s, sources.Executions), countOf(all, sources.Executions); got != want {
				t.Errorf("total %d, want %d (the earlier load must be replaced, not added to)", got, want)
			}
			if n := queryInt(t, s, "SELECT count(*) FROM load"); n != 1 {
				t.Errorf("%d loads, want 1", n)
			}
			if n := queryInt(t, s, storedEventsSQL); n != countOf(all, sources.Executions) {
				t.Errorf("%d events, want %d", n, countOf(all, sources.Executions))
			}
			// And a third run over the same file reads nothing.
			ingest(t, s, lr, sources.Executions, discover(t, target))
			if lr.calls.Load() != 2 {
				t.Errorf("reader called %d times, want 2", lr.calls.Load())
			}
		})
	}
}

func TestIngestDifferentFileSamePathIsNotGrowth(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.ndjson")
	a, b := genDocs(300, 1), genDocs(400, 2)
	writeDocs(t, path, a)
	lr := &lineReader{}
	ingest(t, s, lr, sources.Executions, discover(t, path))
	writeDocs(t, path, b) // logrotate's new live file: same name, other content
	res := ingest(t, s, lr, sources.Executions, discover(t, path))
	if fr := res.Inputs[0].Files[0]; fr.Status != FileNew || len(fr.Replaced) != 0 {
		t.Errorf("status %s replaced %v, want a new file replacing nothing", fr.Status, fr.Replaced)
	}
	if got, want := totalCount(t, s, sources.Executions), countOf(a, sources.Executions)+countOf(b, sources.Executions); got != want {
		t.Errorf("total %d, want %d", got, want)
	}
}

func TestIngestSelectionUpgrade(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	docs := genDocs(2000, 9)
	path := filepath.Join(dir, "a.ndjson")
	writeDocs(t, path, docs)
	lr := &lineReader{}
	first := ingest(t, s, lr, sources.Executions, discover(t, path))
	if got := totalCount(t, s, sources.AllSyscalls); got != countOf(docs, sources.Executions) {
		t.Errorf("after an executions load, all-syscalls total %d, want the executions %d", got, countOf(docs, sources.Executions))
	}
	up := ingest(t, s, lr, sources.AllSyscalls, discover(t, path))
	fr := up.Inputs[0].Files[0]
	if lr.calls.Load() != 2 || fr.Status != FileReloaded || !slices.Equal(fr.Replaced, []int64{first.Inputs[0].Files[0].Load}) {
		t.Errorf("upgrade: calls %d, %+v", lr.calls.Load(), fr)
	}
	if got, want := totalCount(t, s, sources.AllSyscalls), countOf(docs, sources.AllSyscalls); got != want {
		t.Errorf("all-syscalls total %d, want %d", got, want)
	}
	if got, want := totalCount(t, s, sources.Executions), countOf(docs, sources.Executions); got != want {
		t.Errorf("executions total %d, want %d", got, want)
	}
	if n := queryInt(t, s, storedEventsSQL); n != countOf(docs, sources.Executions) {
		t.Errorf("%d events stored, want only the %d executions", n, countOf(docs, sources.Executions))
	}
	// All syscalls serve a later executions request, and a repeat.
	for _, sel := range []sources.Selection{sources.Executions, sources.AllSyscalls} {
		res := ingest(t, s, lr, sel, discover(t, path))
		if res.Inputs[0].Files[0].Status != FileKnown {
			t.Errorf("%s after all-syscalls: %s", SelectionName(sel), res.Inputs[0].Files[0].Status)
		}
	}
	if lr.calls.Load() != 2 {
		t.Errorf("reader called %d times, want 2", lr.calls.Load())
	}
}

// A rotation set is one input: its known files are read over (an event may
// straddle files) but not stored twice, a duplicate inside the set is stored
// once, and the new live file is loaded.
func TestIngestRotationSet(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	old, dup, live := genDocs(400, 1), genDocs(300, 2), genDocs(200, 3)
	p2, p1, p0 := filepath.Join(dir, "audit.log.2"), filepath.Join(dir, "audit.log.1"), filepath.Join(dir, "audit.log")
	writeDocs(t, p2, old)
	lr := &lineReader{}
	ingest(t, s, lr, sources.Executions, discover(t, p2))
	writeDocs(t, p1, dup)
	writeDocs(t, p0, live)
	gz := filepath.Join(dir, "audit.log.1.gz")
	gzipFile(t, p1, gz)

	files := []sources.FileInfo{}
	for _, p := range []string{p2, p1, gz, p0} {
		files = append(files, discover(t, p)[0].Files[0])
	}
	in := sources.Input{Format: sources.FormatAuditLog, Files: files}
	res := ingest(t, s, lr, sources.Executions, []sources.Input{in})
	var statuses []FileStatus
	for _, f := range res.Inputs[0].Files {
		statuses = append(statuses, f.Status)
	}
	if want := []FileStatus{FileKnown, FileNew, FileDuplicate, FileNew}; !slices.Equal(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	want := countOf(old, sources.Executions) + countOf(dup, sources.Executions) + countOf(live, sources.Executions)
	if got := totalCount(t, s, sources.Executions); got != want {
		t.Errorf("total %d, want %d", got, want)
	}
	if n := len(res.Loads()); n != 3 {
		t.Errorf("%d loads reported, want 3", n)
	}
	// Counts stay attributed to their own files.
	for _, f := range res.Inputs[0].Files {
		if f.Load == 0 {
			continue
		}
		events := queryInt(t, s, "SELECT executions FROM load WHERE id = ?", f.Load)
		counted := loadCountSum(t, s, f.Load)
		if events != counted || events == 0 {
			t.Errorf("%s: load says %d executions, counts sum to %d", f.Path, events, counted)
		}
	}
}

func TestIngestStrictRollsBack(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.ndjson"), filepath.Join(dir, "bad.ndjson")
	docs := genDocs(500, 11)
	writeDocs(t, good, docs)
	writeDocs(t, bad, docs[:100])
	f, _ := os.OpenFile(bad, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{\"t\": broken\n")
	f.Close()
	appendDocs(t, bad, genDocs(50, 12))

	lr := &lineReader{}
	res, err := s.Ingest(context.Background(), discover(t, bad, good), IngestOptions{Strict: true, Read: lr.Read})
	if err == nil || !strings.Contains(err.Error(), bad+" line 101") {
		t.Fatalf("error %v, want it to name %s line 101", err, bad)
	}
	if res.Inputs[0].Err == nil || res.Inputs[1].Err != nil {
		t.Errorf("input errors: %v / %v", res.Inputs[0].Err, res.Inputs[1].Err)
	}
	if n := queryInt(t, s, "SELECT count(*) FROM load WHERE path LIKE '%bad.ndjson'"); n != 0 {
		t.Errorf("the strict failure left %d loads behind", n)
	}
	if got, want := totalCount(t, s, sources.Executions), countOf(docs, sources.Executions); got != want {
		t.Errorf("total %d, want only the good file's %d", got, want)
	}
	// Without strict it loads, keeping the position; strict then still fails.
	res = ingest(t, s, lr, sources.Executions, discover(t, bad))
	if fr := res.Inputs[0].Files[0].Report; fr.Rejected != 1 || fr.Samples[0].Line != 101 {
		t.Errorf("report %+v", fr)
	}
	srcs, err := s.Sources(context.Background(), res.Loads())
	if err != nil || len(srcs) != 1 || srcs[0].Rejected != 1 || len(srcs[0].Samples) != 1 || srcs[0].Samples[0].Line != 101 {
		t.Errorf("stored source %+v %v", srcs, err)
	}
	_, err = s.Ingest(context.Background(), discover(t, bad), IngestOptions{Strict: true, Read: lr.Read})
	if err == nil || !strings.Contains(err.Error(), "line 101") {
		t.Errorf("strict over a known file with rejects: %v", err)
	}
}

func TestIngestUnreadableInputIsReportedAndOthersLoad(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.ndjson"), filepath.Join(dir, "b.ndjson")
	writeDocs(t, a, genDocs(100, 1))
	writeDocs(t, b, genDocs(100, 2))
	ins := discover(t, a, b)
	os.Remove(a)
	res, err := s.Ingest(context.Background(), ins, IngestOptions{Read: (&lineReader{}).Read})
	if err == nil || !strings.Contains(err.Error(), "1 of 2 inputs") || res.Inputs[0].Err == nil {
		t.Fatalf("error %v", err)
	}
	if res.Inputs[1].Err != nil || res.Inputs[1].Files[0].Status != FileNew {
		t.Errorf("second input: %+v", res.Inputs[1])
	}
	if n := queryInt(t, s, "SELECT count(*) FROM load"); n != 1 {
		t.Errorf("%d loads, want 1", n)
	}
}

func TestIngestCancelRollsBackAndRerunCompletes(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	var paths []string
	var all []doc
	for i := range 3 {
		docs := genDocs(3000, uint64(20+i))
		all = append(all, docs...)
		p := filepath.Join(dir, fmt.Sprintf("f%d.ndjson", i))
		writeDocs(t, p, docs)
		paths = append(paths, p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	lr := &lineReader{}
	var seen int64
	lr.onEvent = func(int64) {
		seen++
		if seen == 4000 { // inside the second input
			cancel()
		}
	}
	_, err := s.Ingest(ctx, discover(t, paths...), IngestOptions{Read: lr.Read, Selection: sources.AllSyscalls})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if n := queryInt(t, s, "SELECT count(*) FROM load"); n != 1 {
		t.Errorf("%d loads after cancelling in the second input, want 1", n)
	}
	if got, want := totalCount(t, s, sources.AllSyscalls), countOf(all[:3000], sources.AllSyscalls); got != want {
		t.Errorf("total %d, want the first file's %d", got, want)
	}
	if ok := queryString(t, s, "PRAGMA integrity_check"); ok != "ok" {
		t.Errorf("integrity_check: %s", ok)
	}
	lr.onEvent = nil
	res := ingest(t, s, lr, sources.AllSyscalls, discover(t, paths...))
	if got := res.Count(FileKnown); got != 1 {
		t.Errorf("rerun: %d known files, want 1", got)
	}
	if got, want := totalCount(t, s, sources.AllSyscalls), countOf(all, sources.AllSyscalls); got != want {
		t.Errorf("total after rerun %d, want %d", got, want)
	}
}

func TestIngestFlushesBoundedMemory(t *testing.T) {
	// More distinct minute counts than the in-memory map holds, so a later
	// flush writes counts of minutes an earlier flush wrote too.
	s := openStore(t)
	var evs []sources.Event
	for i := range flushCounts * 3 {
		evs = append(evs, sources.Event{
			Time: testStart.Add(time.Duration(i%(flushCounts+7)) * time.Minute), Host: "h",
			Executable: "/bin/true", Syscall: "execve",
		})
	}
	read := func(ctx context.Context, in sources.Input, opts sources.Options, fn sources.EventFunc) (sources.Report, error) {
		for i := range evs {
			if err := fn(&evs[i]); err != nil {
				return sources.Report{}, err
			}
		}
		return sources.Report{Files: []sources.FileReport{{Path: in.Files[0].Path, Events: int64(len(evs))}}}, nil
	}
	in := sources.Input{Format: sources.FormatNDJSON, Files: []sources.FileInfo{{Path: "mem", Fingerprint: "f", ContentSize: 1}}}
	if _, err := s.Ingest(context.Background(), []sources.Input{in}, IngestOptions{Read: read}); err != nil {
		t.Fatal(err)
	}
	if got := totalCount(t, s, sources.Executions); got != int64(len(evs)) {
		t.Errorf("total %d, want %d", got, len(evs))
	}
	flattenCounts(t, s)
	if n := queryInt(t, s, "SELECT count(*) FROM minute_count"); n != flushCounts+7 {
		t.Errorf("%d minute rows, want %d", n, flushCounts+7)
	}
	if n := queryInt(t, s, "SELECT max(count) FROM minute_count"); n != 3 {
		t.Errorf("max per minute %d, want 3", n)
	}
}

func TestIngestProgress(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	var paths []string
	var events int64
	for i := range 3 {
		p := filepath.Join(dir, fmt.Sprintf("f%d.ndjson", i))
		docs := genDocs(200, uint64(i))
		writeDocs(t, p, docs)
		paths = append(paths, p)
		events += countOf(docs, sources.Executions)
	}
	var last Progress
	calls := 0
	ins := discover(t, paths...)
	_, err := s.Ingest(context.Background(), ins, IngestOptions{Read: (&lineReader{}).Read, Progress: func(p Progress) {
		calls++
		if p.BytesDone < last.BytesDone || p.InputsDone < last.InputsDone {
			t.Errorf("progress went back: %+v after %+v", p, last)
		}
		last = p
	}})
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, in := range ins {
		size += in.Files[0].Size
	}
	if last.InputsDone != 3 || last.Inputs != 3 || last.FilesDone != 3 || last.BytesDone != size || last.Bytes != size || last.Events != events {
		t.Errorf("final progress %+v (size %d)", last, size)
	}
	if calls < 4 {
		t.Errorf("%d progress calls", calls)
	}
}

func queryString(t testing.TB, s *Store, q string) string {
	t.Helper()
	var v string
	if err := s.db.QueryRow(q).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
