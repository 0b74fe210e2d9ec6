package fleetgen

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/elastic/go-libaudit/v2/auparse"
)

func FuzzParseScenario(f *testing.F) {
	for _, s := range []string{"", "default", "full,-night-rise", "none", " Reverse-Shell ,ssh-scp-spree", "-", ",,", "full,bogus"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kinds, err := ParseScenario(s)
		if err != nil {
			return
		}
		var parts []string
		for _, k := range kinds {
			if !slices.Contains(Kinds(), k) {
				t.Fatalf("ParseScenario(%q) gave unknown kind %q", s, k)
			}
			parts = append(parts, string(k))
		}
		again, err := ParseScenario(strings.Join(parts, ","))
		if len(parts) == 0 {
			again, err = ParseScenario("none")
		}
		if err != nil || !slices.Equal(again, kinds) {
			t.Fatalf("ParseScenario(%q) = %v, but its own listing parses to %v, %v", s, kinds, again, err)
		}
	})
}

// FuzzAuditLogArgs writes arbitrary arguments and working folders the way
// the kernel would and checks that go-libaudit reads them back.
func FuzzAuditLogArgs(f *testing.F) {
	f.Add("ls\x00-la\x00/var/log", "/root")
	f.Add("sh\x00-c\x00echo \"hi\" > /tmp/x", "/home/alice dir")
	f.Add("x\x00caf\xc3\xa9\x00\x1b[31m", "/t\x1dmp")
	f.Add("a\x00'quoted'\x00\"", "/")
	fl, err := New(Config{Seed: 1, Start: DefaultStart, Days: 1, Hosts: 1, RatePerHostPerDay: 10, Scenario: ScenarioNone})
	if err != nil {
		f.Fatal(err)
	}
	e := fl.hosts[0]
	f.Fuzz(func(t *testing.T, joined, cwd string) {
		args := strings.Split(joined, "\x00")
		if len(args) > 64 || len(joined) > 4000 {
			return
		}
		// go-libaudit v2.6.2 drops values it deems empty ("", "?", "(null)")
		// and trims quotes and spaces off the ends of quoted values: the
		// kernel's output is fine, the reader is lossy there.
		lossy := func(s string) bool {
			return s == "" || s == "?" || s == "?," || s == "(null)" || (!needsHex(s) && strings.Trim(s, `'" `) != s)
		}
		// A path is a C string: it cannot hold a NUL byte.
		if lossy(cwd) || strings.ContainsRune(cwd, 0) || slices.ContainsFunc(args, lossy) {
			return
		}
		r := record{t: 1709546400123, e: e, kind: recExec, exe: "/usr/bin/x", comm: "x", args: args, title: args,
			cwd: cwd, pid: 100, ppid: 1, ses: unsetID, auid: unsetID, tty: "(none)", success: true, seq: 42, path: "/usr/bin/x", syscall: 59}
		x := newEncoder(fl)
		out := string(x.appendRaw(nil, &r, true, false))
		var got []string
		var gotCwd string
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			line = strings.TrimPrefix(line, "node="+e.name+" ")
			msg, err := auparse.ParseLogLine(line)
			if err != nil {
				t.Fatalf("go-libaudit rejects %q: %v", line, err)
			}
			d, err := msg.Data()
			if err != nil {
				t.Fatalf("go-libaudit cannot interpret %q: %v", line, err)
			}
			switch msg.RecordType {
			case auparse.AUDIT_EXECVE:
				n, _ := strconv.Atoi(d["argc"])
				for i := 0; i < n; i++ {
					got = append(got, d["a"+strconv.Itoa(i)])
				}
			case auparse.AUDIT_CWD:
				gotCwd = d["cwd"]
			}
		}
		if !slices.Equal(got, args) || gotCwd != cwd {
			t.Fatalf("wrote %q in %q, go-libaudit read %q in %q\n%s", args, cwd, got, gotCwd, out)
		}
		// The JSON writers escape what the terminal must not see raw.
		doc := string(x.appendECS(nil, &r))
		if strings.ContainsAny(doc[:len(doc)-1], "\x1b\x00\n\x1d") {
			t.Fatalf("ECS document carries raw control bytes: %q", doc)
		}
	})
}
