package cache

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/internal/corpora"
	"github.com/auditlens/auditlens/sources"
)

// countingRead is sources.Read that counts its calls.
func countingRead(calls *atomic.Int64) ReadFunc {
	return func(ctx context.Context, in sources.Input, opts sources.Options, fn sources.EventFunc) (sources.Report, error) {
		calls.Add(1)
		return sources.Read(ctx, in, opts, fn)
	}
}

// readDirect reads inputs straight from the sources, for comparison.
func readDirect(t *testing.T, ins []sources.Input, sel sources.Selection) []sources.Event {
	t.Helper()
	var evs []sources.Event
	for _, in := range ins {
		_, err := sources.Read(context.Background(), in, sources.Options{Selection: sel}, func(ev *sources.Event) error {
			c := *ev
			c.Args = slices.Clone(ev.Args)
			evs = append(evs, c)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return evs
}

func hourCounts(evs []sources.Event, sel sources.Selection) map[bucketKey]int64 {
	out := map[bucketKey]int64{}
	for _, ev := range evs {
		if sel == sources.Executions && !ev.IsExecution() {
			continue
		}
		s := ev.Time.Unix()
		b := s - ((s%3600)+3600)%3600
		out[bucketKey{engine.Scope(ev.Scope()), ev.Entity(), b, ev.Executable}]++
	}
	return out
}

// The cache keeps exactly what the real readers yield from the real corpora:
// the same counts under both selections, and every field of every execution.
func TestIngestRealCorporaMatchesReaders(t *testing.T) {
	files := [][]string{
		{"beats-7.17.29", "filebeat", "module", "auditd", "log", "test", "audit-rhel7.log"},
		{"beats-7.17.29", "filebeat", "module", "auditd", "log", "test", "audit-cent7-node.log"},
		{"laurel", "testdata", "tree", "00.txt"},
		{"laurel", "testdata", "record-perl-reverse-shell.txt"},
		{"laurel", "testdata", "record-execve-long.txt"},
		{"kibana-es-archives", "host_uncommon_processes.ndjson"},
		{"kibana-es-archives", "uncommon_processes.ndjson"},
		{"kibana-es-archives", "default.sample.ndjson"},
	}
	for _, f := range files {
		t.Run(filepath.Base(f[len(f)-1]), func(t *testing.T) {
			path := corpora.Path(t, f...)
			ins := discover(t, path)
			all := readDirect(t, ins, sources.AllSyscalls)
			s := openStore(t)
			var calls atomic.Int64
			res, err := s.Ingest(context.Background(), ins, IngestOptions{Selection: sources.AllSyscalls, Read: countingRead(&calls)})
			if err != nil {
				t.Fatal(err)
			}
			for _, sel := range []sources.Selection{sources.Executions, sources.AllSyscalls} {
				_, got := readCounts(t, s, CountQuery{BucketSpan: time.Hour, Selection: sel})
				mapsEqual(t, got, hourCounts(all, sel))
			}
			var want []sources.Event
			for _, ev := range all {
				if ev.IsExecution() {
					ev.Time = ev.Time.UTC()
					ev.Origin.File = absPath(ev.Origin.File)
					want = append(want, ev)
				}
			}
			slices.SortStableFunc(want, func(a, b sources.Event) int { return a.Time.Compare(b.Time) })
			got, err := s.Events(context.Background(), EventQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d events stored, the reader yields %d executions", len(got), len(want))
			}
			for i := range want {
				if len(want[i].Args) == 0 && len(got[i].Args) == 0 {
					got[i].Args = want[i].Args // nil and empty are the same list
				}
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
					break
				}
			}
			// Known now: not read again.
			if _, err := s.Ingest(context.Background(), ins, IngestOptions{Read: countingRead(&calls)}); err != nil {
				t.Fatal(err)
			}
			if calls.Load() != 1 {
				t.Errorf("read %d times, want once", calls.Load())
			}
			srcs, err := s.Sources(context.Background(), res.Loads())
			if err != nil || len(srcs) != 1 || srcs[0].Events != int64(len(all)) || !srcs[0].Complete {
				t.Errorf("sources %+v %v", srcs, err)
			}
		})
	}
}

// The reference figures of the RHEL 7 log (ausearch -sc execve), through the
// cache's statistics.
func TestStatsRealAuditLog(t *testing.T) {
	path := corpora.Path(t, "beats-7.17.29", "filebeat", "module", "auditd", "log", "test", "audit-rhel7.log")
	s := openStore(t)
	ins, err := sources.Discover([]string{path}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(context.Background(), ins, IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(context.Background(), StatsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Executions != 243 || st.Executables != 30 {
		t.Errorf("%d executions of %d executables, want 243 of 30", st.Executions, st.Executables)
	}
	for exe, n := range map[string]int64{"/usr/sbin/setfiles": 68, "/usr/bin/python2.7": 50, "/usr/sbin/ip": 25,
		"/usr/bin/systemctl": 16, "/usr/sbin/auditctl": 9, "/usr/bin/sudo": 9, "/usr/bin/bash": 8} {
		if st.ByExecutable[exe] != n {
			t.Errorf("%s ran %d times, want %d", exe, st.ByExecutable[exe], n)
		}
	}
	var sum int64
	for _, n := range st.ByHost {
		sum += n
	}
	if sum != 243 || st.Hosts != len(st.ByHost) {
		t.Errorf("by host %v (hosts %d)", st.ByHost, st.Hosts)
	}
	lo, hi := time.Date(2016, 12, 7, 0, 0, 0, 0, time.UTC), time.Date(2017, 3, 17, 0, 0, 0, 0, time.UTC)
	if st.From.Before(lo) || !st.To.After(st.From) || st.To.After(hi) {
		t.Errorf("time range %v to %v, want inside December 2016 to March 2017", st.From, st.To)
	}
}

// A real raw log that grew, and was then rotated and gzipped, replaces its
// earlier load: the counts are those of the whole file, not more.
func TestIngestRealAuditLogGrowsAndRotates(t *testing.T) {
	src := corpora.Path(t, "beats-7.17.29", "filebeat", "module", "auditd", "log", "test", "audit-rhel7.log")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	cut := strings.Index(string(data[len(data)/2:]), "\n") + len(data)/2 + 1
	if err := os.WriteFile(live, data[:cut], 0o600); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	var calls atomic.Int64
	opts := IngestOptions{Host: "rhel7", Read: countingRead(&calls)}
	first, err := s.Ingest(context.Background(), discover(t, live), opts)
	if err != nil {
		t.Fatal(err)
	}
	half := totalCount(t, s, sources.Executions)
	if half == 0 || half >= 243 {
		t.Fatalf("first half holds %d executions", half)
	}
	f, _ := os.OpenFile(live, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(data[cut:])
	f.Close()
	rotated := filepath.Join(dir, "audit.log.1.gz")
	gzipFile(t, live, rotated)
	os.Remove(live)
	res, err := s.Ingest(context.Background(), discover(t, rotated), opts)
	if err != nil {
		t.Fatal(err)
	}
	fr := res.Inputs[0].Files[0]
	if fr.Status != FileGrown || !slices.Equal(fr.Replaced, first.Loads()) {
		t.Errorf("status %s replaced %v, want grown replacing %v", fr.Status, fr.Replaced, first.Loads())
	}
	if got := totalCount(t, s, sources.Executions); got != 243 {
		t.Errorf("%d executions after the file grew, want 243", got)
	}
	ents, err := s.Entities(context.Background(), engine.ScopeHost)
	if err != nil || len(ents) == 0 {
		t.Fatalf("entities %v %v", ents, err)
	}
	if _, err := s.Ingest(context.Background(), discover(t, rotated), opts); err != nil || calls.Load() != 2 {
		t.Errorf("third run: %v, %d reads, want 2", err, calls.Load())
	}
}

// A raw log without node= names its host from the command line: loading it
// again under another name moves its counts there instead of keeping both.
func TestIngestRawLogUnderAnotherHostName(t *testing.T) {
	path := corpora.Path(t, "beats-7.17.29", "filebeat", "module", "auditd", "log", "test", "audit-rhel7.log")
	s := openStore(t)
	ctx := context.Background()
	for _, host := range []string{"alpha", "beta", "beta"} {
		ins, err := sources.Discover([]string{path}, sources.Options{Host: host})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest(ctx, ins, IngestOptions{Host: host}); err != nil {
			t.Fatal(err)
		}
		ents, err := s.Entities(ctx, engine.ScopeHost)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) != 1 || ents[0].Name != host || ents[0].Executions != 243 {
			t.Errorf("after loading as %s: %+v", host, ents)
		}
	}
	if n := queryInt(t, s, "SELECT count(*) FROM load"); n != 1 {
		t.Errorf("%d loads, want 1", n)
	}
}
