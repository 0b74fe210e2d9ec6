package fleetgen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/auparse"
)

// smallConfig is a fleet small enough for race-enabled tests.
func smallConfig(seed int64, scenario string) Config {
	c := Default()
	c.Seed = seed
	c.Hosts = 8
	c.Containers = 4
	c.Days = 2
	c.Scenario = scenario
	c.NoiseFraction = 0.05
	return c
}

func mustNew(t testing.TB, c Config) *Fleet {
	t.Helper()
	f, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

// exec is one process execution as a reader of one format sees it.
type exec struct {
	Host, Container string
	Time            time.Time
	Exe             string
	Args            string
	PID, PPID       string
	CWD             string
	Result          string
	Syscall         string
}

func (e exec) minuteKey() string {
	return fmt.Sprintf("%s|%s|%d|%s", e.Host, e.Container, e.Time.Unix()/60, e.Exe)
}

func openMaybeGzip(t testing.TB, p string) io.Reader {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(p, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return zr
	}
	return bytes.NewReader(b)
}

// decodeECS reads an ECS NDJSON file with encoding/json.
func decodeECS(t testing.TB, p string) []exec {
	t.Helper()
	var out []exec
	sc := bufio.NewScanner(openMaybeGzip(t, p))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var d struct {
			Timestamp time.Time `json:"@timestamp"`
			Host      struct{ Name string }
			Agent     struct{ Hostname string }
			Container struct{ ID, Name, Runtime string }
			Event     struct{ Action, Outcome string }
			Process   struct {
				Executable       string
				Args             []string
				PID              int64
				Parent           struct{ PID int64 }
				WorkingDirectory string `json:"working_directory"`
			}
			Auditd struct {
				Result string
				Data   struct{ Syscall string }
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("ECS line does not decode: %v", err)
		}
		if d.Host.Name != d.Agent.Hostname {
			t.Fatalf("host.name %q and agent.hostname %q differ", d.Host.Name, d.Agent.Hostname)
		}
		out = append(out, exec{Host: d.Host.Name, Container: d.Container.Name, Time: d.Timestamp, Exe: d.Process.Executable,
			Args: strings.Join(d.Process.Args, "\x00"), PID: strconv.FormatInt(d.Process.PID, 10), PPID: strconv.FormatInt(d.Process.Parent.PID, 10),
			CWD: d.Process.WorkingDirectory, Result: d.Auditd.Result, Syscall: d.Auditd.Data.Syscall})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// decode6x reads an Auditbeat 6.x NDJSON file with encoding/json.
func decode6x(t testing.TB, p string) []exec {
	t.Helper()
	var out []exec
	sc := bufio.NewScanner(openMaybeGzip(t, p))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var d struct {
			Timestamp time.Time `json:"@timestamp"`
			Beat      struct{ Name, Hostname string }
			Docker    struct{ Container struct{ ID, Name string } }
			Process   struct {
				Exe, PID, PPID, CWD string
				Args                []string
			}
			Auditd struct {
				Result string
				Data   struct{ Syscall string }
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("6.x line does not decode: %v", err)
		}
		out = append(out, exec{Host: d.Beat.Name, Container: d.Docker.Container.Name, Time: d.Timestamp, Exe: d.Process.Exe,
			Args: strings.Join(d.Process.Args, "\x00"), PID: d.Process.PID, PPID: d.Process.PPID, CWD: d.Process.CWD,
			Result: d.Auditd.Result, Syscall: d.Auditd.Data.Syscall})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rawStream collects what go-libaudit reassembles and coalesces.
type rawStream struct {
	t      testing.TB
	host   string
	events []exec
	lost   int
}

// ReassemblyComplete folds one event's records, as interpreted by auparse,
// into an execution (aucoalesce would need a YAML module the project does not
// carry, and adds nothing these tests look at).
func (s *rawStream) ReassemblyComplete(msgs []*auparse.AuditMessage) {
	var ev exec
	ev.Host = s.host
	var args []string
	for _, m := range msgs {
		d, err := m.Data()
		if err != nil {
			s.t.Errorf("interpret %v record: %v", m.RecordType, err)
			return
		}
		switch m.RecordType {
		case auparse.AUDIT_SYSCALL:
			ev.Time = m.Timestamp
			ev.Exe, ev.PID, ev.PPID, ev.Result, ev.Syscall = d["exe"], d["pid"], d["ppid"], d["result"], d["syscall"]
		case auparse.AUDIT_EXECVE:
			n, _ := strconv.Atoi(d["argc"])
			for i := 0; i < n; i++ {
				args = append(args, d["a"+strconv.Itoa(i)])
			}
		case auparse.AUDIT_CWD:
			ev.CWD = d["cwd"]
		}
	}
	if ev.Time.IsZero() {
		s.t.Errorf("event %d has no SYSCALL record", msgs[0].Sequence)
	}
	ev.Args = strings.Join(args, "\x00")
	s.events = append(s.events, ev)
}

func (s *rawStream) EventsLost(n int) { s.lost += n }

// parseAuditLog parses one raw log with go-libaudit: every line through
// auparse, the records through the Reassembler and aucoalesce. The node=
// prefix is checked and taken off, and an ENRICHED tail cut, as readers do.
func parseAuditLog(t testing.TB, p, host string) []exec {
	t.Helper()
	st := &rawStream{t: t, host: host}
	ra, err := libaudit.NewReassembler(64, time.Hour, st)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(openMaybeGzip(t, p))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "node="); ok {
			node, tail, _ := strings.Cut(rest, " ")
			if node != host {
				t.Fatalf("%s:%d: node=%q, want %q", p, n, node, host)
			}
			line = tail
		}
		if i := strings.IndexByte(line, 0x1d); i >= 0 {
			line = line[:i]
		}
		msg, err := auparse.ParseLogLine(line)
		if err != nil {
			t.Fatalf("%s:%d: go-libaudit rejects the line: %v\n%s", p, n, err, line)
		}
		if _, err := msg.Data(); err != nil {
			t.Fatalf("%s:%d: go-libaudit cannot interpret the line: %v\n%s", p, n, err, line)
		}
		ra.PushMessage(msg)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := ra.Close(); err != nil {
		t.Fatal(err)
	}
	if st.lost != 0 {
		t.Errorf("%s: go-libaudit reports %d lost events (sequence gaps)", p, st.lost)
	}
	return st.events
}

// parseRawDir parses every host folder of a raw output.
func parseRawDir(t testing.TB, dir string) []exec {
	t.Helper()
	var out []exec
	hosts, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		files, _ := filepath.Glob(filepath.Join(dir, h.Name(), "audit.log*"))
		if len(files) != 1 {
			t.Fatalf("host folder %s holds %v", h.Name(), files)
		}
		out = append(out, parseAuditLog(t, files[0], h.Name())...)
	}
	return out
}
