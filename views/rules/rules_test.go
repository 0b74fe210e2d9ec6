package rules

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
)

var now = time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)

func testCtx() *view.Context {
	return &view.Context{Theme: view.PlainTheme(), Location: time.UTC, Now: func() time.Time { return now }, Cases: true}
}

func TestEntityPatterns(t *testing.T) {
	tests := []struct {
		entity string
		want   []string
	}{
		{"web-03", []string{"web-03", "web-*", "*"}},
		{"nyc2-front02", []string{"nyc2-front02", "nyc2-*", "*"}},
		{"3a30127937b1", []string{"3a30127937b1", "*"}},
		{"db_01.prod", []string{"db_01.prod", "db_01.*", "*"}},
		{"trailing-", []string{"trailing-", "*"}},
		{"", []string{"*"}},
	}
	for _, tt := range tests {
		if got := entityPatterns(tt.entity); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("entityPatterns(%q) = %q, want %q", tt.entity, got, tt.want)
		}
	}
}

func TestParseUntil(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{"", time.Time{}, ""},
		{"none", time.Time{}, ""},
		{"+30d", now.Add(30 * 24 * time.Hour), ""},
		{"2026-12-31", time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), ""},
		{"-1d", time.Time{}, "has passed"},
		{"2020-01-01", time.Time{}, "has passed"},
		{"tomorrow", time.Time{}, "until"},
	}
	for _, tt := range tests {
		got, err := parseUntil(tt.in, testCtx())
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseUntil(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseUntil(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestWhere(t *testing.T) {
	tests := []struct {
		r    model.Rule
		want string
	}{
		{model.Rule{Scope: "host"}, "every host"},
		{model.Rule{Scope: "container", Entity: "api-*"}, "container api-*"},
		{model.Rule{Scope: model.RuleScopeAny}, "everywhere"},
		{model.Rule{Scope: "host", Entity: "evil\x1b[2J*"}, `host evil\x1b[2J*`},
	}
	for _, tt := range tests {
		if got := where(tt.r); got != tt.want {
			t.Errorf("where(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestSuppressCmd(t *testing.T) {
	rare := model.Anomaly{ID: "a1", Scope: model.ScopeHost, Entity: "web-03", Executable: "/usr/bin/nc", Function: "rare"}
	burst := model.Anomaly{ID: "a2", Scope: model.ScopeHost, Entity: "web-02", Function: "high_count",
		Influencers: []model.Influencer{{Field: "process.executable", Values: []string{"/usr/bin/ssh", "/usr/bin/scp"}}}}
	hidden := rare
	hidden.SuppressedBy = "r1"
	readOnly := testCtx()
	readOnly.ReadOnly = &model.ReadOnlyError{Advice: "reopen it with --edit"}
	noCases := testCtx()
	noCases.Cases = false
	tests := []struct {
		name   string
		ctx    *view.Context
		a      model.Anomaly
		push   bool
		notice string
	}{
		{"a rare anomaly", testCtx(), rare, true, ""},
		{"two executables", testCtx(), burst, false, "2 executables"},
		{"already suppressed", testCtx(), hidden, false, "already suppressed by rule r1"},
		{"read-only", readOnly, rare, false, "--edit"},
		{"no case side", noCases, rare, false, "no cases"},
	}
	for _, tt := range tests {
		msg := SuppressCmd(tt.ctx, tt.a)()
		switch m := msg.(type) {
		case view.PushViewMsg:
			if !tt.push {
				t.Errorf("%s: opened a form", tt.name)
			}
		case view.NoticeMsg:
			text := m.Text
			if m.Err != nil {
				text = m.Err.Error()
			}
			if tt.push || !strings.Contains(text, tt.notice) {
				t.Errorf("%s: notice %q, want %q", tt.name, text, tt.notice)
			}
		default:
			t.Errorf("%s: %T", tt.name, msg)
		}
	}
	var ro *model.ReadOnlyError
	if m := SuppressCmd(readOnly, rare)().(view.NoticeMsg); !errors.As(m.Err, &ro) {
		t.Errorf("the read-only refusal is not the backend's: %v", m.Err)
	}
}

func TestSuppressFormDefaults(t *testing.T) {
	a := model.Anomaly{ID: "a1", Scope: model.ScopeContainer, Entity: "api-7f9c", Executable: "/bin/bash"}
	m := NewSuppressForm(testCtx(), a)
	m.SetSize(80, 20)
	f := m.Form.Fields
	if f[0].Value() != model.RuleSkipResult || f[1].Value() != "api-7f9c" || f[2].Value() != "" || m.Form.Focus() != 1 {
		t.Errorf("defaults: %q %q %q focus %d", f[0].Value(), f[1].Value(), f[2].Value(), m.Form.Focus())
	}
	if !strings.Contains(m.View(), "containers") || m.Title() != "suppress /bin/bash" {
		t.Errorf("form of a container anomaly:\n%s", m.View())
	}
}
