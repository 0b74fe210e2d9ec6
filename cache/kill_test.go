package cache

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/auditlens/auditlens/sources"
)

// killChildEnv, when set to a folder, makes TestIngestSurvivesSIGKILL act as
// the child that ingests that folder slowly until it is killed.
const killChildEnv = "AUDITLENS_CACHE_KILL_CHILD"

const killInputs = 12

func TestIngestSurvivesSIGKILL(t *testing.T) {
	if dir := os.Getenv(killChildEnv); dir != "" {
		killChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dir := t.TempDir()
	var paths []string
	want := map[string]int64{} // absolute path -> events
	var total int64
	for i := range killInputs {
		docs := genDocs(400, uint64(500+i))
		p := filepath.Join(dir, fmt.Sprintf("input-%02d.ndjson", i))
		writeDocs(t, p, docs)
		paths = append(paths, p)
		want[p] = countOf(docs, sources.AllSyscalls)
		total += want[p]
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestIngestSurvivesSIGKILL$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once three inputs are committed, in the middle of the fourth.
	sc := bufio.NewScanner(out)
	committed := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "committed ") {
			fmt.Sscanf(sc.Text(), "committed %d", &committed)
			if committed >= 3 {
				break
			}
		}
	}
	time.Sleep(30 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	go func() {
		for sc.Scan() {
		}
	}()
	werr := cmd.Wait()
	if committed < 3 {
		t.Fatalf("child stopped after %d inputs: %v", committed, werr)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v (it finished before the kill?)", werr)
	}

	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(dir, "cache.db"))
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer s.Close()
	if ok := queryString(t, s, "PRAGMA integrity_check"); ok != "ok" {
		t.Fatalf("integrity_check: %s", ok)
	}
	if n := queryInt(t, s, "SELECT count(*) FROM pragma_foreign_key_check"); n != 0 {
		t.Errorf("foreign_key_check: %d rows point at missing loads", n)
	}
	srcs, err := s.Sources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) < 3 || len(srcs) >= killInputs {
		t.Fatalf("%d loads after the kill, want between 3 and %d", len(srcs), killInputs-1)
	}
	var sum int64
	for _, src := range srcs {
		w, ok := want[src.Path]
		if !ok || !src.Complete || src.Events != w {
			t.Errorf("load %+v: want a complete load of a known file with %d events", src, w)
		}
		got := loadCountSum(t, s, src.Load)
		if got != w {
			t.Errorf("%s: counts sum to %d, want %d", src.Path, got, w)
		}
		sum += w
	}
	if got := totalCount(t, s, sources.AllSyscalls); got != sum {
		t.Errorf("counts total %d, want exactly the %d of the complete files", got, sum)
	}
	if n := queryInt(t, s, "SELECT count(*) FROM event WHERE load_id NOT IN (SELECT id FROM load)"); n != 0 {
		t.Errorf("%d events of unfinished loads", n)
	}

	// A rerun completes the work, reading only what is missing.
	lr := &lineReader{}
	res := ingest(t, s, lr, sources.AllSyscalls, discover(t, paths...))
	if got := int(lr.calls.Load()); got != killInputs-len(srcs) {
		t.Errorf("rerun read %d inputs, want %d", got, killInputs-len(srcs))
	}
	if res.Count(FileKnown) != len(srcs) {
		t.Errorf("rerun found %d known files, want %d", res.Count(FileKnown), len(srcs))
	}
	if got := totalCount(t, s, sources.AllSyscalls); got != total {
		t.Errorf("total after rerun %d, want %d", got, total)
	}
}

// killChild ingests dir slowly, saying on stdout when each input is
// committed, and waits to be killed.
func killChild(t *testing.T, dir string) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(dir, "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	matches, err := filepath.Glob(filepath.Join(dir, "input-*.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	lr := &lineReader{delay: 200 * time.Microsecond}
	done := 0
	_, err = s.Ingest(ctx, discover(t, matches...), IngestOptions{
		Selection: sources.AllSyscalls, Read: lr.Read,
		Progress: func(p Progress) {
			if p.InputsDone > done {
				done = p.InputsDone
				fmt.Printf("committed %d\n", done)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("finished")
	time.Sleep(time.Minute) // the parent kills it long before
}
