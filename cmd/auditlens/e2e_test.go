package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession drives the real auditlens binary in a real terminal: tmux runs
// it, send-keys types and capture-pane reads the screen, as an analyst would.
type tmuxSession struct {
	t      *testing.T
	name   string
	socket string
}

// buildBinary compiles auditlens once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "auditlens")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func startTmux(t *testing.T, width, height int, env []string, argv ...string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux); skipping the end-to-end test")
	}
	s := &tmuxSession{t: t, name: "auditlens-e2e", socket: filepath.Join(t.TempDir(), "tmux.sock")}
	shell := strings.Join(append(env, argv...), " ")
	args := []string{"-S", s.socket, "-f", "/dev/null", "new-session", "-d", "-s", s.name,
		"-x", fmt.Sprint(width), "-y", fmt.Sprint(height), shell}
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	// Keep the pane after the program exits, so its last screen can be read.
	s.tmux("set-option", "-t", s.name, "remain-on-exit", "on")
	t.Cleanup(func() { exec.Command("tmux", "-S", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

// keys sends keys (tmux key names such as Enter, Escape, Tab, or literal text).
func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		s.tmux("send-keys", "-t", s.name, k)
		time.Sleep(120 * time.Millisecond)
	}
}

// typeText sends text literally, character by character.
func (s *tmuxSession) typeText(text string) {
	s.t.Helper()
	s.tmux("send-keys", "-t", s.name, "-l", text)
	time.Sleep(150 * time.Millisecond)
}

// command types a console command line (":" TEXT Enter).
func (s *tmuxSession) command(text string) {
	s.t.Helper()
	s.keys(":")
	s.typeText(text)
	s.keys("Enter")
}

func (s *tmuxSession) screen() string {
	s.t.Helper()
	return s.tmux("capture-pane", "-p", "-t", s.name)
}

// waitFor waits until the screen holds every one of want, or fails showing it.
func (s *tmuxSession) waitFor(timeout time.Duration, want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var screen string
	for time.Now().Before(deadline) {
		screen = s.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(screen, w)
		}
		if ok {
			return screen
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.t.Fatalf("screen never showed %q; last screen:\n%s", want, screen)
	return ""
}

// TestConsoleEndToEnd walks the demo as an analyst would: to the /xxprimef
// anomaly and its drill-downs, to the ssh/scp burst, escalating it with a
// note, then quits, restarts and finds the triage kept.
func TestConsoleEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it in tmux")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "demo.db")
	env := []string{"TERM=xterm-256color", "NO_COLOR=1"}
	if out, err := exec.Command(bin, "demo", "--cache", db, "--no-console").CombinedOutput(); err != nil {
		t.Fatalf("demo: %v: %s", err, out)
	}

	s := startTmux(t, 120, 40, env, bin, "demo", "--cache", db)
	s.waitFor(20*time.Second, "swimlane", "3a30127937b1", "host_rare_process")

	// The /xxprimef anomaly: narrow the range to its afternoon (the host's
	// rollout day holds other first-in-fleet binaries), jump to its host,
	// focus the table, open it.
	s.command("range 2024-03-08T12:00:00Z 2024-03-09T00:00:00Z")
	s.waitFor(10*time.Second, "Mar 08 12:00")
	s.command("host 3a30127937b1")
	s.waitFor(10*time.Second, "/xxprimef")
	s.keys("Tab")
	s.keys("Enter")
	s.waitFor(20*time.Second, "rare processes", "/xxprimef", "first time", "share", "fleet")
	// The process explorer from the rare chart, then back twice.
	s.keys("p")
	s.waitFor(20*time.Second, "process explorer", "/xxprimef", "1 execution")
	s.keys("Escape")
	s.keys("Escape")
	s.waitFor(10*time.Second, "swimlane")

	// The ssh/scp burst: the rate job on its host, over all the data.
	s.command("range all")
	s.command("job host_high_process_rate")
	s.waitFor(10*time.Second, "host_high_process_rate")
	s.command("host nyc2-db01")
	s.waitFor(10*time.Second, "nyc2-db01", "/usr/bin/scp")
	s.keys("Tab")
	s.keys("Enter")
	s.waitFor(10*time.Second, "expected", "/usr/bin/scp", "/usr/bin/ssh")
	s.keys("Escape")
	s.waitFor(10*time.Second, "swimlane")

	// Escalate it with a note.
	s.keys("Tab", "e", "i")
	s.typeText("copy spree to an unknown host")
	s.keys("Enter")
	s.waitFor(10*time.Second, "esc")
	s.keys("q")
	time.Sleep(500 * time.Millisecond)

	// Restart: the triage is kept.
	s2 := startTmux(t, 120, 40, env, bin, "demo", "--cache", db, "--jobs", "host_high_process_rate,host_rare_process")
	s2.waitFor(20*time.Second, "swimlane", "host_high_process_rate")
	s2.command("host nyc2-db01")
	s2.waitFor(10*time.Second, "esc*") // escalated, with a note
	// The note itself, on the anomaly's record (rate drill-down, then d).
	s2.keys("Tab", "Enter")
	s2.waitFor(20*time.Second, "expected", "/usr/bin/scp")
	s2.keys("d")
	s2.waitFor(10*time.Second, "escalated", "copy spree to an unknown host")
	if _, err := os.Stat(db); err != nil {
		t.Fatal(err)
	}
}
