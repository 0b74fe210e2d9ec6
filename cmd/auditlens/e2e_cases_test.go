package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCasesAndRulesEndToEnd walks the demo in the real binary in tmux: it
// suppresses the fleet-wide release binary from the console and sees the
// swimlane count what it hides, removes the rule from :rules and sees the
// record back, adds the /xxprimef anomaly to a case with a note, saves the
// case with :case save, and opens the file in a second console.
func TestCasesAndRulesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it in tmux")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux); skipping the end-to-end test")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	env := []string{"TERM=xterm-256color", "NO_COLOR=1", "XDG_CACHE_HOME=" + filepath.Join(dir, "xdg")}
	if out, err := exec.Command(bin, "demo", "--cache", db, "--no-console").CombinedOutput(); err != nil {
		t.Fatalf("demo: %v: %s", err, out)
	}

	s := startTmux(t, 120, 40, env, bin, "demo", "--cache", db)
	s.waitFor(20*time.Second, "swimlane", "host_rare_process")

	// The release binary's first host in the rollout: its record tops the
	// host's column.
	s.command("host nyc2-front02")
	s.waitFor(10*time.Second, ">new ", "/opt/app/bin/app-v2.4.1")
	s.keys("Tab", "S")
	s.waitFor(10*time.Second, "suppress /opt/app/bin/app-v2.4.1", "nyc2-front02")
	// Every host: the rollout reached many.
	s.keys("C-u")
	s.typeText("*")
	s.keys("Enter")
	s.waitFor(10*time.Second, "Suppress /opt/app/bin/app-v2.4.1 on every host for good")
	s.keys("y")
	screen := s.waitFor(20*time.Second, " suppressed │", "swimlane")
	if strings.Contains(screen, "Mar 06 12:15 ") {
		t.Errorf("the suppressed record is still listed:\n%s", screen)
	}
	m := regexp.MustCompile(`│ (\d+) suppressed │`).FindStringSubmatch(screen)
	if m == nil || m[1] == "0" || m[1] == "1" {
		t.Fatalf("the rollout's records are not counted:\n%s", screen)
	}
	hidden := m[1]

	// The rule, removed from :rules: the records are back.
	s.command("rules")
	s.waitFor(10*time.Second, "/opt/app/bin/app-v2.4.1", "every host", "result", "active")
	s.keys("d")
	s.waitFor(10*time.Second, "The "+hidden+" records it hides come back")
	s.keys("y")
	s.waitFor(20*time.Second, "no rules", hidden+" records back")
	s.keys("Escape")
	s.waitFor(20*time.Second, "swimlane", "Mar 06 12:15 + 39  /opt/app/bin/app-")
	if screen := s.screen(); strings.Contains(screen, "suppressed") {
		t.Errorf("the status bar still counts suppressed records:\n%s", screen)
	}

	// /xxprimef into a case, with a note, saved to a file.
	s.command("host 3a30127937b1")
	s.waitFor(10*time.Second, "anomalies · 3a30127937b1")
	// Its column, two days and some hours after the host's hottest one.
	s.keys("L", "L")
	for i := 0; i < 12 && !strings.Contains(s.screen(), "/xxprimef"); i++ {
		s.keys("l")
	}
	s.waitFor(10*time.Second, "/xxprimef")
	s.keys("Tab", "A")
	s.waitFor(10*time.Second, "add an anomaly to a case", "/xxprimef")
	s.typeText("INC-9")
	s.keys("Down")
	s.typeText("unknown binary run once")
	s.keys("Enter")
	s.waitFor(10*time.Second, "to case INC-9", "new*")
	file := filepath.Join(dir, "INC-9.alcase")
	s.command("case save INC-9 " + file)
	s.waitFor(30*time.Second, "saved case INC-9")
	s.keys("q")
	time.Sleep(500 * time.Millisecond)
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("case file: %v %v", fi, err)
	}

	// The file in a console of its own.
	s2 := startTmux(t, 120, 40, env, bin, "open", file)
	s2.waitFor(20*time.Second, "case INC-9 (read-only)", "/xxprimef", "3a30127937b1")
	s2.command("cases")
	s2.waitFor(10*time.Second, ">INC-9 (this file)")
	s2.keys("Enter")
	s2.waitFor(10*time.Second, "case INC-9", "/xxprimef", "unknown binary run once")
}
