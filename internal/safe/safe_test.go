package safe

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "/usr/bin/ssh", "/usr/bin/ssh"},
		{"unicode letters kept", "/opt/café/进程", "/opt/café/进程"},
		{"osc title", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"csi cursor move", "a\x1b[2J\x1b[Hb", `a\x1b[2J\x1b[Hb`},
		{"c1 csi", "a\u009b2Jb", `a\u009b2Jb`},
		{"newline and tab", "a\nb\tc\rd", `a\nb\tc\rd`},
		{"nul and del", "a\x00b\x7f", `a\x00b\x7f`},
		{"invalid utf8", "a\xffb", `a\xffb`},
		{"bidi override", "evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"zero width", "ss\u200bh", `ss\u200bh`},
		{"literal backslash escape", `\x1b`, `\\x1b`},
		{"lone backslash kept", `C:\dir`, `C:\dir`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTexts(t *testing.T) {
	if got := Texts([]string{"ls", "-la\x1b[31m"}, " "); got != `ls -la\x1b[31m` {
		t.Errorf("Texts = %q", got)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "/bin/sh", "\x1b]0;x\x07", "\xff\xfe", "\u202e", `\x41`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if !utf8.ValidString(out) {
			t.Fatalf("output not valid UTF-8: %q", out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || isInvisibleFormat(r) {
				t.Fatalf("output keeps control or format rune %U: %q", r, out)
			}
		}
		if strings.Contains(out, "\x1b") {
			t.Fatalf("escape survived: %q", out)
		}
		if Text(out) == out && out != s && !strings.Contains(s, "\\") && isClean(s) {
			t.Fatalf("clean input changed: %q -> %q", s, out)
		}
	})
}

func TestJSON(t *testing.T) {
	in := []byte("{\"exe\":\"a\u009b2J\x7f\u202eb\",\"ok\":\"café\"}")
	got := string(JSON(in))
	want := `{"exe":"a\u009b2J\u007f\u202eb","ok":"café"}`
	if got != want {
		t.Fatalf("JSON = %s, want %s", got, want)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(got), &v); err != nil || v["exe"] != "a\u009b2J\x7f\u202eb" {
		t.Fatalf("round trip: %v %q", err, v["exe"])
	}
}
