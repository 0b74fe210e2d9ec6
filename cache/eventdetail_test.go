package cache

import (
	"reflect"
	"testing"

	"github.com/auditlens/auditlens/sources"
)

func FuzzEventDetail(f *testing.F) {
	f.Add("curl", "curl -s \x1b[2J", "abc", "web", "docker", "root", "0", "alice", "1000", "/", "success", "execve", "executed", "/var/log/audit.log", "idx", "doc", int64(42), []byte{detailVersion, 0})
	f.Add("", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", int64(-1), []byte{})
	f.Fuzz(func(t *testing.T, name, title, cid, cname, crt, un, uid, an, aid, cwd, res, sc, act, file, index, id string, line int64, raw []byte) {
		ev := sources.Event{
			Name: name, Title: title, Container: sources.Container{ID: cid, Name: cname, Runtime: crt},
			User: sources.User{Name: un, ID: uid, AuditName: an, AuditID: aid}, WorkingDir: cwd, Result: res,
			Syscall: sc, Action: act, Origin: sources.Origin{Index: index, ID: id, Line: line},
		}
		b := packDetail([]byte("prefix"), &ev, file)
		var got sources.Event
		gotFile, err := unpackDetail(b[len("prefix"):], &got)
		if err != nil {
			t.Fatalf("unpack what was packed: %v", err)
		}
		if !reflect.DeepEqual(got, ev) || gotFile != file {
			t.Fatalf("round trip:\n got %+v %q\nwant %+v %q", got, gotFile, ev, file)
		}
		// Damaged bytes are an error, never a panic.
		var e sources.Event
		_, _ = unpackDetail(raw, &e)
		if len(b) > len("prefix")+1 {
			if _, err := unpackDetail(b[len("prefix"):len(b)-1], &e); err == nil {
				t.Fatal("a cut-short detail unpacked without error")
			}
		}
	})
}

func TestEventDetailRejectsDamage(t *testing.T) {
	ev := sources.Event{Name: "sh", Origin: sources.Origin{Line: 7}}
	good := packDetail(nil, &ev, "")
	cases := map[string][]byte{
		"empty":         nil,
		"wrong version": append([]byte{9}, good[1:]...),
		"cut short":     good[:len(good)-1],
		"trailing":      append(append([]byte{}, good...), 0),
		"huge length":   {detailVersion, 0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for name, b := range cases {
		var e sources.Event
		if _, err := unpackDetail(b, &e); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
