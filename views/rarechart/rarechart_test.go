package rarechart

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/anomaly"
	"github.com/auditlens/auditlens/views/explorer"
	"github.com/auditlens/auditlens/views/internal/viewtest"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	"github.com/muesli/termenv"
)

var start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// chart is a host over two days of hour buckets: cron every hour, a backup
// every sixth, and nc once in bucket 27 (Nov 02 03:00).
func chart() model.RareChart {
	c := model.RareChart{Entity: "web-03", Scope: model.ScopeHost, FleetSize: 40,
		Axis: model.TimeAxis{Start: start, BucketSpan: time.Hour, Buckets: 48}, ActiveBuckets: 48}
	cron := model.RareRow{Executable: "/usr/sbin/cron", Fleet: 40}
	backup := model.RareRow{Executable: "/usr/local/bin/backup", Fleet: 3}
	for i := 0; i < 48; i++ {
		cron.Buckets = append(cron.Buckets, i)
		cron.Executions += 2
		if i%6 == 0 {
			backup.Buckets = append(backup.Buckets, i)
			backup.Executions++
		}
	}
	nc := model.RareRow{Executable: "/usr/bin/nc", Buckets: []int{27}, Executions: 1, Fleet: 1}
	c.Rows = []model.RareRow{cron, backup, nc}
	c.Marks = []model.RareMark{{Executable: "/usr/bin/nc", Bucket: 27, Score: 92}, {Executable: "/usr/local/bin/backup", Bucket: 6, Score: 30}}
	return c
}

func ncAnomaly() model.Anomaly {
	return model.Anomaly{ID: "r1", Time: start.Add(27 * time.Hour), BucketSpan: time.Hour, JobID: "host_rare_process",
		Function: "rare", Score: 92, Scope: model.ScopeHost, PartitionField: "host.name", Entity: "web-03",
		ByField: "process.executable", Executable: "/usr/bin/nc", Why: "first time on web-03; seen on 0 of 40 hosts before"}
}

func newChart(t *testing.T, b *viewtest.Backend, th *view.Theme, w, h int) *Model {
	t.Helper()
	ctx := &view.Context{Theme: th, Location: time.UTC, Query: model.Query{Job: "host_rare_process", Scope: model.ScopeHost, BucketSpan: time.Hour}}
	m := New(ctx, ncAnomaly())
	m.SetSize(w, h)
	viewtest.Drive(t, m, b, m.Init())
	return m
}

func TestLoadAsksForTheAnomalysEntityAndSelectsIt(t *testing.T) {
	b := &viewtest.Backend{Rare: chart()}
	m := newChart(t, b, view.PlainTheme(), 100, 30)
	q := b.RareQs[0]
	if q.Entity != "web-03" || q.Job != "host_rare_process" || q.Scope != model.ScopeHost || q.BucketSpan != time.Hour {
		t.Errorf("asked %+v", q)
	}
	if r := m.selected(); r == nil || r.row.Executable != "/usr/bin/nc" || m.cursorBucket != 27 {
		t.Errorf("selected %v at bucket %d", r, m.cursorBucket)
	}
	out := m.View()
	for _, want := range []string{"@ critical 92", "first time on web-03; seen on 0 of 40 hosts before",
		"/usr/bin/nc ran in 1 of 48 active buckets", "share fleet", "100% 40/40", "2.1%  1/40"} {
		if !strings.Contains(out, want) {
			t.Errorf("chart lacks %q:\n%s", want, out)
		}
	}
	if m.Title() != "web-03 > rare processes" {
		t.Errorf("title %q", m.Title())
	}
}

func TestMarksCarrySeverityGlyphs(t *testing.T) {
	b := &viewtest.Backend{Rare: chart()}
	m := newChart(t, b, view.PlainTheme(), 100, 30)
	var ncLine, backupLine string
	for _, l := range strings.Split(m.View(), "\n") {
		switch {
		case strings.Contains(l, "/usr/bin/nc "):
			ncLine = l
		case strings.Contains(l, "/usr/local/bin/backup"):
			backupLine = l
		}
	}
	if strings.Count(ncLine, "@") != 1 || strings.Count(ncLine, "|") != 0 {
		t.Errorf("nc row: %q", ncLine)
	}
	if strings.Count(backupLine, "+") != 1 || strings.Count(backupLine, "|") != 7 {
		t.Errorf("backup row (one minor anomaly, seven more runs): %q", backupLine)
	}
	// The anomaly's column lines up with the cursor's caret.
	lines := strings.Split(m.View(), "\n")
	caret := lines[len(lines)-1]
	if strings.Index(caret, "^") != strings.Index(ncLine, "@") {
		t.Errorf("caret at %d, mark at %d", strings.Index(caret, "^"), strings.Index(ncLine, "@"))
	}
}

func TestTheOpenedAnomalyIsMarkedEvenIfNotListed(t *testing.T) {
	c := chart()
	c.Marks = nil
	b := &viewtest.Backend{Rare: c}
	m := newChart(t, b, view.PlainTheme(), 100, 30)
	if _, score := cellOf(m.selected(), 27, 1); score != 92 {
		t.Errorf("score in the anomaly's bucket %v", score)
	}
}

func TestKeys(t *testing.T) {
	b := &viewtest.Backend{Rare: chart()}
	m := newChart(t, b, view.PlainTheme(), 100, 30)
	viewtest.Keys(t, m, b, "l", "l")
	if m.cursorBucket != 29 {
		t.Errorf("l l went to bucket %d", m.cursorBucket)
	}
	viewtest.Keys(t, m, b, "H")
	if m.cursorBucket != 5 {
		t.Errorf("H went to bucket %d", m.cursorBucket)
	}
	viewtest.Keys(t, m, b, "$")
	if m.cursorBucket != 47 {
		t.Errorf("$ went to bucket %d", m.cursorBucket)
	}
	viewtest.Keys(t, m, b, "g")
	if m.selected().row.Executable != "/usr/sbin/cron" {
		t.Errorf("g went to %s", m.selected().row.Executable)
	}
	viewtest.Keys(t, m, b, "j")
	if m.selected().row.Executable != "/usr/local/bin/backup" {
		t.Errorf("j went to %s", m.selected().row.Executable)
	}
	// enter opens the explorer for the selected executable around the
	// selected time.
	viewtest.Keys(t, m, b, "0", "l", "l", "l", "l", "l", "l")
	_, msgs := viewtest.Keys(t, m, b, "enter")
	pushed := viewtest.Pushed(msgs)
	if len(pushed) != 1 {
		t.Fatalf("enter pushed %d screens", len(pushed))
	}
	ex := pushed[0].(*explorer.Model)
	ex.SetSize(100, 20)
	viewtest.Drive(t, ex, b, ex.Init())
	q := b.ProcessQs[len(b.ProcessQs)-1]
	if q.Executable != "/usr/local/bin/backup" || q.Entity != "web-03" || !q.From.Equal(start.Add(5*time.Hour)) || !q.To.Equal(start.Add(8*time.Hour)) {
		t.Errorf("explorer asked %+v", q)
	}
	if _, msgs := viewtest.Keys(t, m, b, "p"); len(viewtest.Pushed(msgs)) != 1 {
		t.Error("p opened nothing")
	}
	if _, msgs := viewtest.Keys(t, m, b, "d"); len(viewtest.Pushed(msgs)) != 1 {
		t.Error("d opened nothing")
	} else if _, ok := viewtest.Pushed(msgs)[0].(*anomaly.Model); !ok {
		t.Error("d did not open the anomaly record")
	}
}

func TestZoomAndWayBack(t *testing.T) {
	b := &viewtest.Backend{Rare: chart()}
	m := newChart(t, b, view.PlainTheme(), 60, 20) // 48 buckets do not fit: 2h columns
	if m.z() != 2 {
		t.Fatalf("fitted zoom %d buckets per column", m.z())
	}
	_, msgs := viewtest.Keys(t, m, b, "+")
	if m.z() != 1 || !strings.Contains(fmt.Sprint(viewtest.Notices(msgs)), "one column is 1h") {
		t.Errorf("zoom in: %d, %q", m.z(), viewtest.Notices(msgs))
	}
	assertFits(t, m.View(), 60, 20)
	if !strings.Contains(m.View(), "@") {
		t.Errorf("the anomaly scrolled out of sight:\n%s", m.View())
	}
	// The explorer's selected time on the way back selects its bucket.
	m.ctx.Focus = start.Add(40*time.Hour + 5*time.Minute)
	viewtest.Send(t, m, b, view.ResumeMsg{})
	if m.cursorBucket != 40 {
		t.Errorf("back at bucket %d", m.cursorBucket)
	}
	if ft, _ := m.FocusTime(); !ft.Equal(start.Add(40 * time.Hour)) {
		t.Errorf("focus %v", ft)
	}
}

func TestFilterNarrowsExecutables(t *testing.T) {
	b := &viewtest.Backend{Rare: chart()}
	m := newChart(t, b, view.PlainTheme(), 100, 30)
	viewtest.Send(t, m, b, viewtest.Filter("bin/(cron|nc)"))
	if len(m.shown) != 2 || m.selected().row.Executable != "/usr/bin/nc" {
		t.Errorf("filter kept %d rows, selected %v", len(m.shown), m.selected())
	}
	if st := m.Status(); st.Counts != "2/3 executables · 40 hosts" {
		t.Errorf("status %q", st.Counts)
	}
}

func TestLoadFailureAndEmptyChart(t *testing.T) {
	b := &viewtest.Backend{Err: fmt.Errorf("cache \x1b[2Jlocked")}
	m := newChart(t, b, view.PlainTheme(), 80, 21)
	if out := m.View(); !strings.Contains(out, `could not load the chart`) || !strings.Contains(out, `cache \x1b[2Jlocked`) {
		t.Errorf("failure not shown:\n%s", out)
	}
	b = &viewtest.Backend{Rare: model.RareChart{Entity: "web-03", Axis: model.TimeAxis{Start: start, BucketSpan: time.Hour, Buckets: 4}}}
	m = newChart(t, b, view.PlainTheme(), 80, 21)
	if out := m.View(); !strings.Contains(out, "no executions of web-03 in this range") {
		t.Errorf("empty chart:\n%s", out)
	}
	viewtest.Keys(t, m, b, "j", "l", "enter", "+", "-")
	assertFits(t, m.View(), 80, 21)
}

func TestViewFitsEverySize(t *testing.T) {
	c := chart()
	c.Rows = append(c.Rows, model.RareRow{Executable: "/" + strings.Repeat("very-long-directory/", 8) + "tool", Buckets: []int{1}, Fleet: 12345})
	b := &viewtest.Backend{Rare: c}
	for _, th := range []*view.Theme{view.PlainTheme(), view.NewTheme(termenv.TrueColor, true), view.NewTheme(termenv.ANSI, false)} {
		for _, sz := range [][2]int{{80, 21}, {120, 37}, {46, 8}, {20, 4}, {300, 80}, {1, 1}} {
			m := newChart(t, b, th, sz[0], sz[1])
			assertFits(t, m.View(), sz[0], sz[1])
			viewtest.Keys(t, m, b, "G", "$", "+", "+", "j")
			assertFits(t, m.View(), sz[0], sz[1])
		}
	}
}

func assertFits(t *testing.T, frame string, w, h int) {
	t.Helper()
	lines := strings.Split(frame, "\n")
	if len(lines) > h {
		t.Errorf("%d lines for %dx%d", len(lines), w, h)
	}
	for i, l := range lines {
		if n := view.Width(l); n > w {
			t.Errorf("line %d is %d wide for %dx%d: %q", i, n, w, h, l)
		}
	}
}

func TestHostileNamesAreDrawnHarmless(t *testing.T) {
	c := chart()
	c.Entity = "evil\x1b[2Jhost"
	c.Rows[2].Executable = "/tmp/\x1b]0;owned\x07\u202egnp.exe"
	c.Marks[0].Executable = c.Rows[2].Executable
	a := ncAnomaly()
	a.Entity, a.Executable, a.Why = c.Entity, c.Rows[2].Executable, "first time on \x9b31mevil"
	b := &viewtest.Backend{Rare: c}
	ctx := &view.Context{Theme: view.PlainTheme(), Location: time.UTC, Query: model.Query{BucketSpan: time.Hour}}
	m := New(ctx, a)
	m.SetSize(120, 30)
	viewtest.Drive(t, m, b, m.Init())
	yank, _, _ := m.Yank()
	for i, f := range []string{m.View(), yank} {
		if viewtest.HasControl(f) {
			t.Errorf("frame %d draws a control character from the data:\n%q", i, f)
		}
	}
	if !strings.Contains(m.View(), `\x1b]0;owned\x07\u202egnp.exe`) || !strings.Contains(m.View(), `evil\x1b[2Jhost`) {
		t.Errorf("hostile names not shown escaped:\n%s", m.View())
	}
}

func TestCellOf(t *testing.T) {
	r := &chartRow{row: model.RareRow{Buckets: []int{0, 5, 6, 11}}, marks: []mark{{bucket: 6, score: 30}, {bucket: 7, score: 80}}}
	tests := []struct {
		c, z  int
		ran   bool
		score float64
	}{
		{0, 1, true, 0},
		{1, 1, false, 0},
		{6, 1, true, 30},
		{7, 1, false, 80},
		{1, 4, true, 80}, // buckets 4-7
		{2, 4, true, 0},  // buckets 8-11
		{3, 4, false, 0},
		{0, 12, true, 80},
	}
	for _, tt := range tests {
		ran, score := cellOf(r, tt.c, tt.z)
		if ran != tt.ran || score != tt.score {
			t.Errorf("cellOf(col %d, z %d) = %v %v, want %v %v", tt.c, tt.z, ran, score, tt.ran, tt.score)
		}
	}
}

func TestDrawMarks(t *testing.T) {
	r := &chartRow{row: model.RareRow{Buckets: []int{0, 2, 3}}, marks: []mark{{bucket: 3, score: 55}}}
	var b strings.Builder
	drawMarks(&b, view.PlainTheme(), r, 1, 0, 6, 6, -1)
	if b.String() != "| |#  " {
		t.Errorf("plain marks %q", b.String())
	}
	b.Reset()
	th := view.NewTheme(termenv.TrueColor, true)
	drawMarks(&b, th, r, 1, 0, 6, 6, 1)
	want := "|" + th.Cursor.Apply(" ") + "|" + th.Cell(view.CellPlain, model.SeverityMajor, false).Apply("#") + "  "
	if b.String() != want {
		t.Errorf("colour marks %q, want %q", b.String(), want)
	}
}

func TestWords(t *testing.T) {
	shares := map[float64]string{0: "0%", 0.0004: "<0.1%", 0.021: "2.1%", 0.5: "50%", 1: "100%"}
	for v, want := range shares {
		if got := shareText(v); got != want || len(got) > shareW {
			t.Errorf("shareText(%v) = %q, want %q", v, got, want)
		}
	}
	if fleetText(3, 40) != "3/40" || fleetText(3, 0) != "3" {
		t.Error("fleetText")
	}
	r := model.RareRow{Buckets: []int{1, 2}, Executions: 5, Fleet: 2}
	if got := explain(&r, 10, 8, model.ScopeHost.Noun); got != "ran in 2 of 10 active buckets (5 runs); 2 of 8 hosts ran it in this range" {
		t.Errorf("explain: %q", got)
	}
	if r.Share(10) != 0.2 || r.Share(0) != 0 || r.Share(1) != 1 {
		t.Error("share")
	}
}
