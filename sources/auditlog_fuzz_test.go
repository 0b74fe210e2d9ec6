package sources

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// corporaSeeds returns the text of small corpus logs when the corpora are
// beside the repository, and nothing otherwise: seeds are optional, so a
// fuzz target must not skip for want of them.
func corporaSeeds(tb testing.TB) []string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		return nil
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
	root := filepath.Join(dir, "..", "shared", "corpora")
	var seeds []string
	for _, pattern := range []string{
		"laurel/testdata/*.txt", "laurel/testdata/tree/0*.txt", "audit-userspace/test*.log",
		"go-libaudit/testdata/*.log", "beats-7.17.29/auditbeat/module/auditd/testdata/*.log",
		"beats-7.17.29/filebeat/module/auditd/log/test/*.log", "go-libaudit/auparse/testdata/*.log",
	} {
		files, _ := filepath.Glob(filepath.Join(root, pattern))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil || len(data) > 32<<10 {
				continue
			}
			seeds = append(seeds, string(data))
		}
	}
	return seeds
}

func fixtureSeeds(tb testing.TB) []string {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "auditlog", "*.log"))
	var seeds []string
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			seeds = append(seeds, string(data))
		}
	}
	return seeds
}

// fuzzRead reads text as a rotation set cut at the given line boundaries.
func fuzzRead(t *testing.T, parts []string, sel Selection, cfg auditReadConfig) ([]Event, Report) {
	t.Helper()
	srcs := make([]auditSource, len(parts))
	for i, p := range parts {
		srcs[i] = auditSource{path: "part" + string(rune('0'+i)), open: func() (io.Reader, io.Closer, error) {
			return strings.NewReader(p), nopCloser{}, nil
		}}
	}
	var events []Event
	rep, err := readAuditSources(context.Background(), srcs, "fuzz-host", Options{Selection: sel}, cfg, func(e *Event) error {
		events = append(events, *e)
		return nil
	})
	if err != nil {
		t.Fatalf("read failed: %v", err)
	}
	return events, rep
}

func withoutOrigin(events []Event) []Event {
	out := make([]Event, len(events))
	for i, e := range events {
		e.Origin = Origin{}
		out[i] = e
	}
	return out
}

// FuzzAuditLog holds the reader to its promises on any input: it never fails
// or hangs on bad bytes, its counts add up, reports never quote data, and
// neither chunking nor a rotation cut changes the events.
func FuzzAuditLog(f *testing.F) {
	for _, s := range append(fixtureSeeds(f), corporaSeeds(f)...) {
		f.Add(s)
		// Single lines too, so mutations work on records rather than files.
		for i, line := range strings.Split(s, "\n") {
			if i < 8 {
				f.Add(line)
			}
		}
	}
	tiny := auditReadConfig{chunkSize: 13, maxLine: 1 << 20, workers: 3, window: 64}
	f.Fuzz(func(t *testing.T, text string) {
		wantLines := int64(strings.Count(text, "\n"))
		if text != "" && !strings.HasSuffix(text, "\n") {
			wantLines++
		}
		var execs, all []Event
		for _, sel := range []Selection{Executions, AllSyscalls} {
			events, rep := fuzzRead(t, []string{text}, sel, defaultAuditReadConfig())
			fr := rep.Files[0]
			if fr.Lines != wantLines {
				t.Fatalf("lines %d, want %d", fr.Lines, wantLines)
			}
			if fr.Rejected > fr.Lines || fr.Repaired > fr.Lines || fr.Rejected+fr.Repaired > fr.Lines {
				t.Fatalf("rejected %d + repaired %d over %d lines", fr.Rejected, fr.Repaired, fr.Lines)
			}
			if fr.Events != int64(len(events)) || fr.Events > fr.Seen {
				t.Fatalf("events %d (yielded %d), seen %d", fr.Events, len(events), fr.Seen)
			}
			if int64(len(fr.Samples)) > fr.Rejected || len(fr.Samples) > (Options{}).maxSamples() {
				t.Fatalf("%d samples for %d rejects", len(fr.Samples), fr.Rejected)
			}
			for i, s := range fr.Samples {
				if s.Line < 1 || s.Line > fr.Lines || i > 0 && s.Line <= fr.Samples[i-1].Line {
					t.Fatalf("sample lines out of order or range: %v", fr.Samples)
				}
				if strings.ContainsAny(s.Reason, "\x00\x1b") || !utf8.ValidString(s.Reason) {
					t.Fatalf("reason quotes data: %q", s.Reason)
				}
			}
			for _, e := range events {
				// A SYSCALL record without syscall= still counts for all syscalls.
				if strings.TrimSpace(e.Executable) == "" || sel == Executions && e.Syscall == "" || e.Origin.Line < 1 || e.Origin.Line > fr.Lines || e.Host == "" {
					t.Fatalf("incomplete event %+v", e)
				}
				if sel == Executions && !e.IsExecution() {
					t.Fatalf("not an execution: %+v", e)
				}
				for _, s := range append([]string{e.Executable, e.Name, e.Title, e.Host, e.WorkingDir, e.User.Name, e.User.ID, e.User.AuditName, e.User.AuditID}, e.Args...) {
					if !utf8.ValidString(s) {
						t.Fatalf("invalid UTF-8 in %+v", e)
					}
				}
			}
			small, smallRep := fuzzRead(t, []string{text}, sel, tiny)
			if !reflect.DeepEqual(small, events) || !reflect.DeepEqual(smallRep, rep) {
				t.Fatalf("tiny chunks changed the result:\n%+v\n%+v", smallRep, rep)
			}
			if sel == Executions {
				execs = events
			} else {
				all = events
			}
			// A rotation cut at a line boundary changes only where events come from.
			if cut := strings.IndexByte(text[len(text)/2:], '\n'); cut >= 0 {
				cut += len(text)/2 + 1
				split, splitRep := fuzzRead(t, []string{text[:cut], text[cut:]}, sel, defaultAuditReadConfig())
				if !reflect.DeepEqual(withoutOrigin(split), withoutOrigin(events)) {
					t.Fatalf("a rotation cut changed the events")
				}
				a, b := splitRep.Files[0], splitRep.Files[1]
				if a.Lines+b.Lines != fr.Lines || a.Seen+b.Seen != fr.Seen || a.Events+b.Events != fr.Events || a.Rejected+b.Rejected != fr.Rejected {
					t.Fatalf("a rotation cut changed the counts: %+v %+v vs %+v", a, b, fr)
				}
			}
		}
		var fromAll []Event
		for _, e := range all {
			if e.IsExecution() {
				fromAll = append(fromAll, e)
			}
		}
		if !reflect.DeepEqual(fromAll, execs) {
			t.Fatalf("executions differ between selections: %d vs %d", len(fromAll), len(execs))
		}
	})
}

// FuzzAuditFields holds the hand reader of headers and fields to auparse on
// any single record.
func FuzzAuditFields(f *testing.F) {
	for _, s := range append(fixtureSeeds(f), corporaSeeds(f)...) {
		for _, line := range strings.Split(s, "\n") {
			f.Add(line)
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		if diff := compareWithAuparse(line); diff != "" {
			t.Fatal(diff)
		}
		if got, want := scannerPairs(line), regexpPairs(line); !reflect.DeepEqual(got, want) {
			t.Fatalf("scanner %q, expression %q", got, want)
		}
	})
}
