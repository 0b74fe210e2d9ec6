package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCaseFileEndToEnd saves the demo's two incidents as a case, moves the
// file to an empty folder (no cache, no inputs; XDG_CACHE_HOME points at
// nothing) and walks it in the real binary in tmux: swimlane, the rare
// chart, the process explorer, the rate drill-down, a refused triage. The
// file is the same afterwards and nothing appears beside it.
func TestCaseFileEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it in tmux")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux); skipping the end-to-end test")
	}
	bin := buildBinary(t)
	db := demoCache(t)
	rare, spree := incidentIDs(t, db)
	for _, add := range [][]string{
		{"case", "add", "INC-7", "--cache", db, "--anomaly", rare, "--note", "unknown binary run once"},
		{"case", "add", "INC-7", "--cache", db, "--anomaly", spree, "--note", "copy spree"},
		{"case", "save", "INC-7", "--cache", db, "--out", filepath.Join(filepath.Dir(db), "INC-7.alcase")},
	} {
		if code, _, stderr := run(t, add...); code != 0 {
			t.Fatalf("%v: exit %d: %s", add, code, stderr)
		}
	}
	empty := t.TempDir()
	file := filepath.Join(empty, "INC-7.alcase")
	data, err := os.ReadFile(filepath.Join(filepath.Dir(db), "INC-7.alcase"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	before := hashFile(t, file)

	env := []string{"TERM=xterm-256color", "NO_COLOR=1", "XDG_CACHE_HOME=" + filepath.Join(empty, "nothing")}
	s := startTmux(t, 120, 40, env, bin, "open", file)
	s.waitFor(20*time.Second, "swimlane", "case INC-7 (read-only)", "3a30127937b1", "nyc2-db01", "host_rare_process")

	// The rare anomaly: its host, the table, the rare chart, its processes.
	s.command("host 3a30127937b1")
	s.waitFor(10*time.Second, "/xxprimef")
	s.keys("Tab")
	s.keys("Enter")
	s.waitFor(10*time.Second, "rare", "/xxprimef", "first time")
	s.keys("p")
	s.waitFor(10*time.Second, "process explorer", "/xxprimef")
	s.keys("Escape")
	s.keys("Escape")
	s.waitFor(10*time.Second, "swimlane")

	// The copy spree: the rate job, its host, the rate drill-down.
	s.command("job host_high_process_rate")
	s.waitFor(10*time.Second, "host_high_process_rate")
	s.command("host nyc2-db01")
	s.waitFor(10*time.Second, "nyc2-db01", "/usr/bin/scp")
	s.keys("Tab")
	s.keys("Enter")
	s.waitFor(10*time.Second, "expected", "/usr/bin/scp", "/usr/bin/ssh")
	s.keys("Escape")
	s.waitFor(10*time.Second, "swimlane")

	// Triage is refused in a read-only case, with the way to edit.
	s.keys("Tab", "e")
	s.waitFor(10*time.Second, "read-only")
	s.keys("q")
	time.Sleep(500 * time.Millisecond)

	if hashFile(t, file) != before {
		t.Error("walking the case changed the file")
	}
	ents, err := os.ReadDir(empty)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "INC-7.alcase" {
		t.Errorf("the folder holds %v, want the case file alone", names)
	}
}
