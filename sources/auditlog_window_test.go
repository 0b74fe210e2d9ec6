package sources

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/auparse"
)

// reassemblerLog records what go-libaudit's Reassembler hands over.
type reassemblerLog struct{ events [][]*auparse.AuditMessage }

func (l *reassemblerLog) ReassemblyComplete(msgs []*auparse.AuditMessage) {
	l.events = append(l.events, slices.Clone(msgs))
}
func (l *reassemblerLog) EventsLost(int) {}

// TestAuditWindowMatchesReassembler pushes the same messages to the window
// and to go-libaudit's Reassembler and expects the same events, in the same
// order, with the same messages: serials in order, late, far apart (rollover
// and its non-transitive order), with and without end markers.
func TestAuditWindowMatchesReassembler(t *testing.T) {
	types := []auparse.AuditMessageType{
		auparse.AUDIT_SYSCALL, auparse.AUDIT_EXECVE, auparse.AUDIT_CWD, auparse.AUDIT_PATH,
		auparse.AUDIT_PROCTITLE, auparse.AUDIT_EOE, auparse.AUDIT_USER_CMD, auparse.AUDIT_NETFILTER_CFG,
	}
	cases := []struct {
		name   string
		window int
		serial func(r *rand.Rand, i int) uint32
	}{
		{"in order", 4, func(r *rand.Rand, i int) uint32 { return uint32(i/3 + 1) }},
		{"late records", 8, func(r *rand.Rand, i int) uint32 { return uint32(max(1, i/3-r.IntN(12))) }},
		{"rollover", 6, func(r *rand.Rand, i int) uint32 { return 1<<32 - 20 + uint32(i/2) }},
		{"far apart", 5, func(r *rand.Rand, i int) uint32 { return uint32(r.IntN(4)) << 23 * uint32(1+r.IntN(3)) }},
		{"random", 16, func(r *rand.Rand, i int) uint32 { return r.Uint32() % 40 * 0x7fffff }},
		{"window of one", 1, func(r *rand.Rand, i int) uint32 { return uint32(r.IntN(5)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(20) {
				r := rand.New(rand.NewPCG(seed, 7))
				want := &reassemblerLog{}
				ra, err := libaudit.NewReassembler(tc.window, reassemblyTimeout, want)
				if err != nil {
					t.Fatal(err)
				}
				var got [][]*auparse.AuditMessage
				w := newAuditWindow(tc.window, func(msgs []*auparse.AuditMessage) {
					got = append(got, slices.Clone(msgs))
				})
				for i := range 400 {
					msg := &auparse.AuditMessage{RecordType: types[r.IntN(len(types))], Sequence: tc.serial(r, i)}
					ra.PushMessage(msg)
					w.push(msg)
				}
				ra.Close()
				w.flush()
				if a, b := describeEvents(got), describeEvents(want.events); a != b {
					t.Fatalf("seed %d: window gave\n%s\nReassembler gave\n%s", seed, a, b)
				}
			}
		})
	}
}

func describeEvents(events [][]*auparse.AuditMessage) string {
	s := ""
	for _, e := range events {
		s += fmt.Sprintf("%p:%d ", e[0], len(e))
		for _, m := range e[1:] {
			s += fmt.Sprintf("%p ", m)
		}
		s += "\n"
	}
	return s
}

// TestCommonAuditTypeMatchesAuparse holds the shortcut to auparse's names.
func TestCommonAuditTypeMatchesAuparse(t *testing.T) {
	for _, name := range []string{"SYSCALL", "EXECVE", "CWD", "PATH", "PROCTITLE", "EOE", "USER_CMD", "syscall"} {
		got, ok := commonAuditType(name)
		want, err := auparse.GetAuditMessageType(name)
		if ok && (err != nil || got != want) {
			t.Errorf("%s: %v, auparse says %v (%v)", name, got, want, err)
		}
		if !ok && (name == "SYSCALL" || name == "EOE") {
			t.Errorf("%s: not taken by the shortcut", name)
		}
	}
}

// TestAuditByteTables holds the lookup tables to the rules they stand for.
func TestAuditByteTables(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		if stop := b == '"' || b == '\'' || isRegexpSpace(b); auditValueStops[b] != stop {
			t.Errorf("byte %#x: value stop %v, want %v", b, auditValueStops[b], stop)
		}
		if hex := b >= '0' && b <= '9' || b >= 'A' && b <= 'F'; auditHexDigits[b] != hex {
			t.Errorf("byte %#x: hex digit %v, want %v", b, auditHexDigits[b], hex)
		}
	}
}
