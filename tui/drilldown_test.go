package tui

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/auditlens/auditlens/views/anomaly"
	"github.com/auditlens/auditlens/views/explorer"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/rarechart"
	"github.com/auditlens/auditlens/views/ratechart"
	"github.com/auditlens/auditlens/views/swimlane"
	"github.com/auditlens/auditlens/views/view"
)

func crumbs(h *harness) string { return strings.SplitN(h.view(), "\n", 2)[0] }

func TestEnterRoutesByJobFunction(t *testing.T) {
	tests := []struct {
		name   string
		setup  []string // keys before the table is focused
		typed  string   // a : command, if any
		crumbs string
		check  func(view.View) bool
	}{
		{"rare job opens the rare-process chart", nil, "host db-01", " swimlane > db-01 > rare processes",
			func(v view.View) bool { _, ok := v.(*rarechart.Model); return ok }},
		{"rate job opens the rate drill-down", []string{"]"}, "host web-02", " swimlane > web-02 > process rate",
			func(v view.View) bool { _, ok := v.(*ratechart.Model); return ok }},
		// The second :container finds the lane's anomaly once its scope is shown.
		{"docker rare job opens the rare-process chart", []string{":", "c", "o", "n", "t", "a", "i", "n", "e", "r", " ", "a", "p", "i", "-", "7", "f", "9", "c", "enter"},
			"container api-7f9c", " swimlane > api-7f9c > rare processes",
			func(v view.View) bool { _, ok := v.(*rarechart.Model); return ok }},
		{"docker rate job opens the rate drill-down", []string{"c", "]"}, "container worker-1", " swimlane > worker-1 > process rate",
			func(v view.View) bool { _, ok := v.(*ratechart.Model); return ok }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 120, 40)
			h.press(tt.setup...)
			h.press(":")
			h.typeText(tt.typed)
			h.press("enter", "tab", "enter")
			if h.m.Depth() != 2 || !tt.check(h.m.Top()) {
				t.Fatalf("opened %T:\n%s", h.m.Top(), h.view())
			}
			if got := crumbs(h); got != tt.crumbs {
				t.Errorf("breadcrumbs %q, want %q", got, tt.crumbs)
			}
			if strings.Contains(h.view(), "loading") || h.m.State() != StateReady {
				t.Errorf("the drill-down did not load:\n%s", h.view())
			}
		})
	}
}

// noDrillBackend is the fake without its drill-down side.
type noDrillBackend struct{ b *fakeBackend }

func (n noDrillBackend) Swimlane(ctx context.Context, q model.Query, p func(model.Progress)) (model.Swimlane, error) {
	return n.b.Swimlane(ctx, q, p)
}
func (n noDrillBackend) Anomalies(ctx context.Context, q model.AnomalyQuery) ([]model.Anomaly, error) {
	return n.b.Anomalies(ctx, q)
}
func (n noDrillBackend) SetTriage(ctx context.Context, id string, t model.Triage) (model.Triage, error) {
	return n.b.SetTriage(ctx, id, t)
}
func (n noDrillBackend) Run(ctx context.Context, q model.Query, p func(model.Progress)) error {
	return n.b.Run(ctx, q, p)
}

func TestEnterWithoutDrillDownOpensTheRecord(t *testing.T) {
	m, err := New(context.Background(), noDrillBackend{newFakeBackend()}, testOptions(&lockedBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(time.Second) })
	if _, ok := m.openAnomaly(newFakeBackend().records[0]).(*anomaly.Model); !ok {
		t.Error("without drill-down, enter should open the anomaly's record")
	}
}

func TestTheSelectedTimeSurvivesDrillDownAndWayBack(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.press("tab", "enter") // nc on web-03, Nov 02 03:00
	chart := h.m.Top().(*rarechart.Model)
	if ft, _ := chart.FocusTime(); !ft.Equal(at(1, 3)) {
		t.Fatalf("chart opened at %v", ft)
	}
	// Into the explorer and down its rows: its selected time moves.
	h.press("enter")
	ex, ok := h.m.Top().(*explorer.Model)
	if !ok {
		t.Fatalf("enter on the chart opened %T", h.m.Top())
	}
	if got := crumbs(h); got != " swimlane > web-03 > rare processes > process explorer" {
		t.Errorf("breadcrumbs %q", got)
	}
	h.press("e", "G") // every executable, the last row of the window
	last, _ := ex.FocusTime()
	if !last.After(at(1, 4)) {
		t.Fatalf("explorer's last row at %v", last)
	}
	h.press("esc")
	if h.m.Depth() != 2 {
		t.Fatal("esc did not come back to the chart")
	}
	if ft, _ := chart.FocusTime(); !ft.Equal(last.Truncate(time.Hour)) {
		t.Errorf("chart back at %v, want the explorer's %v", ft, last)
	}
	h.press("l", "l")
	moved, _ := chart.FocusTime()
	h.press("q")
	sl := h.m.Top().(*swimlane.Model)
	if ft, _ := sl.FocusTime(); !ft.Equal(moved) {
		t.Errorf("swimlane back at %v, want the chart's %v", ft, moved)
	}
	if !h.m.ctx.Focus.Equal(moved) {
		t.Errorf("shared focus %v", h.m.ctx.Focus)
	}
}

func TestRateDrillDownToExplorerAndBack(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.press("]", ":")
	h.typeText("host web-02")
	h.press("enter", "tab", "enter")
	rc := h.m.Top().(*ratechart.Model)
	h.press("j", "enter") // ssh, in the burst's bucket
	ex, ok := h.m.Top().(*explorer.Model)
	if !ok {
		t.Fatalf("enter opened %T", h.m.Top())
	}
	q := h.b.processQs[len(h.b.processQs)-1]
	if q.Executable != "/usr/bin/ssh" || q.Entity != "web-02" || !q.From.Equal(at(0, 21)) || !q.To.Equal(at(1, 0)) {
		t.Errorf("explorer asked %+v", q)
	}
	if !strings.Contains(h.view(), "backup@198.51.100.9") {
		t.Errorf("the burst's ssh runs are not listed:\n%s", h.view())
	}
	h.press("G")
	ft, _ := ex.FocusTime()
	h.press("esc")
	if got, _ := rc.FocusTime(); !got.Equal(ft.Truncate(time.Hour)) {
		t.Errorf("rate chart back at %v, want %v", got, ft)
	}
}

func TestParentAndChildrenThroughTheShell(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.press("tab", "enter", "enter") // nc's explorer
	h.press("P")                     // its parent, the login shell, started before the window
	if got := crumbs(h); got != " swimlane > web-03 > rare processes > process explorer > pid 4002" {
		t.Fatalf("breadcrumbs %q:\n%s", got, h.view())
	}
	parent := h.m.Top().(*explorer.Model)
	if ft, _ := parent.FocusTime(); !ft.Equal(fakeStart) {
		t.Errorf("parent selected at %v", ft)
	}
	h.press("C") // the shell's children
	if got := crumbs(h); !strings.HasSuffix(got, "> pid 4002 > children of 4002") {
		t.Fatalf("breadcrumbs %q", got)
	}
	q := h.b.processQs[len(h.b.processQs)-1]
	if q.PPID != 4002 || !q.From.Equal(fakeStart) {
		t.Errorf("children asked %+v", q)
	}
	v := h.view()
	if !strings.Contains(v, "/usr/bin/grep") || strings.Contains(v, "/usr/sbin/cron ") {
		t.Errorf("children list:\n%s", v)
	}
	h.press("esc", "esc", "esc")
	if _, ok := h.m.Top().(*rarechart.Model); !ok {
		t.Errorf("three esc from the children came to %T", h.m.Top())
	}
}

func TestProcessesFromTheSwimlane(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.press("p") // the overall lane has no host
	if h.m.Depth() != 1 || !strings.Contains(lastLine(h.view()), "select a host's lane or an anomaly") {
		t.Errorf("p on the overall lane: depth %d, %q", h.m.Depth(), lastLine(h.view()))
	}
	h.press(":")
	h.typeText("host db-01")
	h.press("enter", "p")
	if got := crumbs(h); got != " swimlane > db-01 > process explorer" {
		t.Fatalf("breadcrumbs %q", got)
	}
	q := h.b.processQs[len(h.b.processQs)-1]
	if q.Entity != "db-01" || !q.From.Equal(at(0, 13)) || !q.To.Equal(at(0, 16)) || q.Executable != "" {
		t.Errorf("explorer asked %+v", q)
	}
	h.press("q", "tab", "p") // from the table: the selected anomaly's bucket
	if got := crumbs(h); got != " swimlane > db-01 > process explorer" {
		t.Errorf("breadcrumbs from the table %q", got)
	}
}

func TestDrillDownsNeverDrawDataEscapes(t *testing.T) {
	h := newHarness(t, 120, 40)
	// The hostile host's name cannot be typed: filter its lane, select it
	// and go to its anomaly's bucket (Nov 01 20:00).
	h.press("/")
	h.typeText("evil")
	h.press("enter", "j", "0")
	for i := 0; i < 20; i++ {
		h.press("l")
	}
	h.press("tab", "enter")
	if got := crumbs(h); got != ` swimlane > evil\x1b[2Jhost > rare processes` {
		t.Fatalf("breadcrumbs %q", got)
	}
	frames := []string{h.view()}
	h.press("enter", "e") // the hostile host's executions
	h.press("/")
	h.typeText("owned")
	h.press("enter")
	frames = append(frames, h.view())
	h.press("enter") // its detail
	frames = append(frames, h.view())
	for i, f := range frames {
		if strings.ContainsAny(f, "\x1b\x07\u009b\u202e\u2066") || !utf8.ValidString(f) {
			t.Errorf("frame %d draws a control character:\n%q", i, f)
		}
	}
	if !strings.Contains(frames[1], `\x1b]0;owned\x07x`) || !strings.Contains(frames[2], `\x1b[31mred\u202eevil\x9b2J`) ||
		!strings.Contains(frames[2], `r\x1b[8moot`) || !strings.Contains(frames[2], `/tmp/\x07bell\u2066`) {
		t.Errorf("hostile fields are not shown escaped:\n%s\n%s", frames[1], frames[2])
	}
}
