package cases

import (
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
)

func TestFileName(t *testing.T) {
	tests := []struct{ name, want string }{
		{"INC-42", "INC-42.alcase"},
		{"demo incidents", "demo-incidents.alcase"},
		{"../../etc/passwd", "etc-passwd.alcase"},
		{"Fall 2026/équipe", "Fall-2026-équipe.alcase"},
		{"...", "case.alcase"},
		{"\x1b]0;x\x07", "0-x.alcase"},
	}
	for _, tt := range tests {
		if got := FileName(tt.name); got != tt.want {
			t.Errorf("FileName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestAddCmd(t *testing.T) {
	a := model.Anomaly{ID: "a1", Entity: "web-03", Executable: "/usr/bin/nc"}
	ctx := &view.Context{Theme: view.PlainTheme(), Location: time.UTC, Cases: true, CaseFile: model.CaseFile{Name: "INC-7"}}
	push, ok := AddCmd(ctx, a)().(view.PushViewMsg)
	if !ok {
		t.Fatal("A did not open the form")
	}
	f := push.View.(*AddForm)
	if f.Form.Fields[0].Value() != "INC-7" {
		t.Errorf("the case field does not start on the case file's case: %q", f.Form.Fields[0].Value())
	}
	ctx.ReadOnly = &model.ReadOnlyError{Advice: "reopen it with --edit"}
	if n, ok := AddCmd(ctx, a)().(view.NoticeMsg); !ok || n.Err == nil || !strings.Contains(n.Err.Error(), "--edit") {
		t.Errorf("read-only: %#v", n)
	}
	ctx.Cases = false
	if n, ok := AddCmd(ctx, a)().(view.NoticeMsg); !ok || n.Err == nil {
		t.Errorf("no case side: %#v", n)
	}
}

func TestSavedText(t *testing.T) {
	got := SavedText("INC\x1b[2J", model.SavedCase{Path: "/tmp/x\x07.alcase", Anomalies: 1, Events: 1234, Size: 2049})
	want := `saved case INC\x1b[2J to /tmp/x\x07.alcase: 1 anomaly, 1,234 events, 3 KiB (mode 0600: it holds audit data)`
	if got != want {
		t.Errorf("SavedText = %q, want %q", got, want)
	}
}
