package tui

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/swimlane"
	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

func TestCommands(t *testing.T) {
	tests := []struct {
		line      string
		check     func(t *testing.T, h *harness)
		wantError string
	}{
		{line: "range -24h", check: func(t *testing.T, h *harness) {
			q := h.m.ctx.Query
			if !q.From.Equal(testNow.Add(-24*time.Hour)) || !q.To.Equal(testNow) {
				t.Errorf("range %v – %v", q.From, q.To)
			}
		}},
		{line: "range 2026-11-01 2026-11-02", check: func(t *testing.T, h *harness) {
			q := h.m.ctx.Query
			if !q.From.Equal(fakeStart) || !q.To.Equal(fakeStart.Add(24*time.Hour)) {
				t.Errorf("range %v – %v", q.From, q.To)
			}
			if !strings.Contains(h.view(), "Nov 01 00:00 – Nov 02 00:00") {
				t.Errorf("status bar does not show the range:\n%s", h.view())
			}
		}},
		{line: "range all", check: func(t *testing.T, h *harness) {
			if q := h.m.ctx.Query; !q.From.IsZero() || !q.To.IsZero() {
				t.Errorf("range %v – %v", q.From, q.To)
			}
		}},
		{line: "bucket 15m", check: func(t *testing.T, h *harness) {
			if h.m.ctx.Query.BucketSpan != 15*time.Minute {
				t.Errorf("bucket %v", h.m.ctx.Query.BucketSpan)
			}
			if last := h.b.swimlanes[len(h.b.swimlanes)-1]; last.BucketSpan != 15*time.Minute {
				t.Errorf("backend asked with bucket %v", last.BucketSpan)
			}
		}},
		{line: "job host_high_process_rate", check: func(t *testing.T, h *harness) {
			if h.m.ctx.Query.Job != "host_high_process_rate" {
				t.Errorf("job %s", h.m.ctx.Query.Job)
			}
		}},
		{line: "job docker_rare_process", check: func(t *testing.T, h *harness) {
			if q := h.m.ctx.Query; q.Job != "docker_rare_process" || q.Scope != model.ScopeContainer {
				t.Errorf("query %+v", q)
			}
			if !strings.Contains(h.view(), "api-7f9c") {
				t.Errorf("container lanes not shown:\n%s", h.view())
			}
		}},
		{line: "partition none", check: func(t *testing.T, h *harness) {
			if h.m.ctx.Query.Partition != model.PartitionNone || !strings.Contains(h.view(), "(partition none)") {
				t.Errorf("partition %q", h.m.ctx.Query.Partition)
			}
			if last := h.b.anomalyQs[len(h.b.anomalyQs)-1]; last.Partition != model.PartitionNone {
				t.Errorf("anomalies asked with partition %q", last.Partition)
			}
		}},
		{line: "state acknowledged", check: func(t *testing.T, h *harness) {
			if v := h.view(); !strings.Contains(v, "web-04") || strings.Contains(v, "web-03") || !strings.Contains(v, "state acknowledged") {
				t.Errorf("state filter not applied:\n%s", v)
			}
		}},
		{line: "host db-01", check: func(t *testing.T, h *harness) {
			if !strings.Contains(h.view(), ">db-01") || !strings.Contains(h.view(), "/usr/bin/curl") {
				t.Errorf("cursor not on db-01:\n%s", h.view())
			}
		}},
		{line: "container worker-1", check: func(t *testing.T, h *harness) {
			if h.m.ctx.Query.Job != "docker_rare_process" || !strings.Contains(h.view(), ">worker-1") {
				t.Errorf("query %+v:\n%s", h.m.ctx.Query, h.view())
			}
		}},
		{line: "range", wantError: ":range: want FROM [TO]"},
		{line: "range -24h -48h", wantError: "end after it starts"},
		{line: "bucket 90s", wantError: "whole minutes"},
		{line: "job nope", wantError: `unknown job "nope"`},
		{line: "partition host", wantError: "want none or default"},
		{line: "state closed", wantError: `triage state "closed"`},
		{line: "host nowhere-01", wantError: "no host named nowhere-01"},
		{line: "frobnicate", wantError: ":frobnicate is not a command"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			h := newHarness(t, 100, 30)
			h.press(":")
			h.typeText(tt.line)
			h.press("enter")
			if h.m.mode != modeNone {
				t.Errorf("command line still open")
			}
			if tt.wantError != "" {
				if !h.m.noticeErr || !strings.Contains(h.m.notice, tt.wantError) {
					t.Errorf("notice %q (error %v), want an error with %q", h.m.notice, h.m.noticeErr, tt.wantError)
				}
				if !strings.Contains(lastLine(h.view()), tt.wantError[:10]) {
					t.Errorf("error not shown: %q", lastLine(h.view()))
				}
				return
			}
			if h.m.noticeErr {
				t.Errorf("unexpected error: %s", h.m.notice)
			}
			tt.check(t, h)
		})
	}
}

func TestCompletion(t *testing.T) {
	tests := []struct {
		typed string
		tabs  int
		want  string
		cands []string
	}{
		{typed: "ra", tabs: 1, want: "range "},
		{typed: "", tabs: 0, cands: []string{"range", "bucket", "job", "partition", "cases", "case", "rules", "help", "quit", "host", "container", "state", "sort", "suppressed"}},
		{typed: "job host_", tabs: 1, want: "job host_rare_process", cands: []string{"host_rare_process", "host_high_process_rate"}},
		{typed: "job host_", tabs: 2, want: "job host_high_process_rate"},
		{typed: "job host_", tabs: 3, want: "job host_rare_process"},
		{typed: "state e", tabs: 1, want: "state escalated "},
		{typed: "host web-0", tabs: 1, want: "host web-01", cands: []string{"web-01", "web-02", "web-03", "web-04", "web-05"}},
		{typed: "host db", tabs: 1, want: "host db-01 "},
		{typed: "bucket 1", tabs: 1, want: "bucket 1m", cands: []string{"1m", "10m", "15m", "1h", "12h", "1d"}},
		{typed: "partition n", tabs: 1, want: "partition none "},
		{typed: "zzz", tabs: 1, want: "zzz"},
		{typed: "case ", tabs: 0, cands: []string{"save", "INC-42", "patch-review"}},
		{typed: "case I", tabs: 1, want: "case INC-42 "},
		{typed: "case save p", tabs: 1, want: "case save patch-review "},
		{typed: "case save INC-42 out.alcase f", tabs: 1, want: "case save INC-42 out.alcase force "},
		{typed: "rules e", tabs: 1, want: "rules export "},
		{typed: "suppressed o", tabs: 2, want: "suppressed off"},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			h := newHarness(t, 100, 30)
			h.press(":")
			h.typeText(tt.typed)
			if tt.cands != nil {
				if _, got := h.m.candidates(h.m.input.Value()); !reflect.DeepEqual(got, tt.cands) {
					t.Errorf("candidates %q, want %q", got, tt.cands)
				}
			}
			for i := 0; i < tt.tabs; i++ {
				h.press("tab")
			}
			if tt.want != "" && h.m.input.Value() != tt.want {
				t.Errorf("line %q, want %q", h.m.input.Value(), tt.want)
			}
		})
	}
}

func TestYankWritesOSC52(t *testing.T) {
	for _, tmux := range []bool{false, true} {
		h := newHarness(t, 100, 30, func(o *Options, _ *fakeBackend) {
			o.Getenv = func(k string) string {
				if k == "TMUX" && tmux {
					return "/tmp/tmux-0/default,1,0"
				}
				return ""
			}
		})
		h.press("tab", "j", "j", "y") // the anomaly with the hostile process name
		out := h.clip.String()
		if !strings.HasPrefix(out, "\x1b]52;c;") {
			t.Fatalf("no OSC 52 sequence written: %q", out)
		}
		end := strings.IndexByte(out, '\x07')
		raw, err := base64.StdEncoding.DecodeString(out[len("\x1b]52;c;"):end])
		if err != nil {
			t.Fatal(err)
		}
		var rec map[string]any
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatalf("yanked text is not JSON: %v\n%s", err, raw)
		}
		if rec["by_field_value"] != evilProcess || rec["job_id"] != "host_rare_process" || rec["result_type"] != "record" {
			t.Errorf("yanked record %v", rec)
		}
		if strings.ContainsRune(string(raw), 0x1b) {
			t.Error("the yanked JSON holds a raw escape")
		}
		if got := strings.Contains(out, "\x1bPtmux;"); got != tmux {
			t.Errorf("tmux passthrough written = %v inside tmux = %v", got, tmux)
		}
		if !strings.Contains(lastLine(h.view()), "copied the anomaly") {
			t.Errorf("no confirmation: %q", lastLine(h.view()))
		}
	}
}

func TestClipboardLimit(t *testing.T) {
	var b strings.Builder
	if err := writeClipboard(&b, strings.Repeat("x", maxClipboard+1), false); err == nil || b.Len() != 0 {
		t.Errorf("oversized yank written: err %v, %d bytes", err, b.Len())
	}
	if got := tmuxPassthrough("\x1b]52;c;eA==\x07"); got != "\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\" {
		t.Errorf("passthrough %q", got)
	}
}

// TestShellNeverDrawsDataEscapes covers what the shell itself draws from
// the data: breadcrumbs, the status bar's source, notices and errors.
func TestShellNeverDrawsDataEscapes(t *testing.T) {
	h := newHarness(t, 120, 40, func(o *Options, _ *fakeBackend) {
		o.Source = "/data/\x1b]0;owned\x07audit.log"
	})
	h.press("tab", "j", "j", "enter") // open the anomaly of the hostile process
	if h.m.Depth() != 2 {
		t.Fatalf("enter did not open the anomaly (depth %d)", h.m.Depth())
	}
	frames := []string{h.view()}
	h.press("d") // the anomaly's record, titled by the hostile name
	record := h.view()
	h.press("q", "q", ":")
	h.typeText("host " + evilHost)
	h.press("enter")
	frames = append(frames, h.view())
	h.press(":")
	h.typeText("nope\x1b[31m")
	h.press("enter")
	frames = append(frames, h.view())
	h.b.mu.Lock()
	h.b.fail = errors.New("cannot open /var/log/\x1b[2Jaudit.log")
	h.b.mu.Unlock()
	h.press("]")
	frames = append(frames, h.view())
	frames = append(frames, record)
	for i, f := range frames {
		if strings.ContainsAny(f, "\x1b\x07") {
			t.Errorf("frame %d draws a control character:\n%q", i, f)
		}
	}
	if crumbs := strings.SplitN(frames[0], "\n", 2)[0]; crumbs != " swimlane > web-02 > rare processes" ||
		!strings.Contains(frames[0], `\x1b]0;pwned\x07`) {
		t.Errorf("rare chart of the hostile process:\n%s", frames[0])
	}
	if !strings.Contains(record, `swimlane > web-02 > rare processes > web-02: \x1b]0;pwned\x07`) {
		t.Errorf("breadcrumbs: %q", strings.SplitN(record, "\n", 2)[0])
	}
	if !strings.Contains(frames[3], `\x1b[2Jaudit.log`) {
		t.Errorf("the backend's error is not shown escaped:\n%s", frames[3])
	}
}

func TestDrillDownKeepsTheSelectedTime(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.press(":")
	h.typeText("host db-01") // its only anomaly: Nov 01 14:00
	h.press("enter", "tab", "enter")
	if h.m.Depth() != 2 {
		t.Fatalf("no drill-down:\n%s", h.view())
	}
	if crumbs := strings.SplitN(h.view(), "\n", 2)[0]; crumbs != " swimlane > db-01 > rare processes" {
		t.Errorf("breadcrumbs %q", crumbs)
	}
	if !h.m.ctx.Focus.Equal(at(0, 14)) {
		t.Errorf("focus carried into the drill-down: %v", h.m.ctx.Focus)
	}
	h.press("q")
	if h.m.Depth() != 1 {
		t.Fatal("q did not come back")
	}
	sl := h.m.Top().(*swimlane.Model)
	if ft, _ := sl.FocusTime(); !ft.Equal(at(0, 14)) {
		t.Errorf("selected time after the way back: %v", ft)
	}
	if !strings.Contains(h.view(), ">db-01") {
		t.Errorf("lane lost on the way back:\n%s", h.view())
	}
}

func TestJobsAndScope(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.press("]")
	if h.m.ctx.Query.Job != "host_high_process_rate" {
		t.Errorf("] went to %s", h.m.ctx.Query.Job)
	}
	h.press(":")
	h.typeText("host web-02")
	h.press("enter")
	if !strings.Contains(h.view(), "412") || !strings.Contains(h.view(), "5x higher") {
		t.Errorf("rate job not shown:\n%s", h.view())
	}
	h.press("[")
	if h.m.ctx.Query.Job != "host_rare_process" {
		t.Errorf("[ went to %s", h.m.ctx.Query.Job)
	}
	h.press("c")
	if q := h.m.ctx.Query; q.Job != "docker_rare_process" || q.Scope != model.ScopeContainer {
		t.Errorf("c switched to %+v", q)
	}
	if !strings.Contains(h.view(), "3 containers") {
		t.Errorf("container lanes not counted:\n%s", h.view())
	}
	h.press("c")
	if h.m.ctx.Query.Job != "host_rare_process" {
		t.Errorf("c back went to %s", h.m.ctx.Query.Job)
	}
}

func TestTriageThroughTheShell(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.press("tab", "e")
	if got := h.b.triage("r1"); got.State != model.StateEscalated {
		t.Fatalf("backend triage %+v", got)
	}
	v := h.view()
	if !strings.Contains(v, ">esc ") || !strings.Contains(v, "!") {
		t.Errorf("escalation not shown:\n%s", v)
	}
	h.press("i")
	h.typeText("reverse shell")
	h.press("enter")
	if got := h.b.triage("r1"); got.Note != "reverse shell" || got.State != model.StateEscalated {
		t.Errorf("note not stored: %+v", got)
	}
	if !strings.Contains(h.view(), "esc*") {
		t.Errorf("note mark missing:\n%s", h.view())
	}
}

func TestFilterThroughTheShell(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.press("/")
	h.typeText("web-0[12]")
	h.press("enter")
	v := h.view()
	if strings.Contains(v, "db-01") || !strings.Contains(v, "web-01") || !strings.Contains(v, "lanes /web-0[12]/") {
		t.Errorf("lanes not filtered:\n%s", v)
	}
	h.press("n")
	if !strings.Contains(h.view(), ">web-02") {
		t.Errorf("n did not step to the first match:\n%s", h.view())
	}
	h.press("/")
	h.typeText("(")
	if !strings.Contains(h.view(), "filter: error parsing regexp") {
		t.Errorf("bad pattern not reported:\n%s", h.view())
	}
	h.press("enter", "esc")
	if strings.Contains(h.view(), "lanes /") || !strings.Contains(h.view(), "db-01") {
		t.Errorf("esc did not clear the filter:\n%s", h.view())
	}
	if h.m.Depth() != 1 || h.quit {
		t.Error("esc navigated")
	}
}

func TestRerunRefreshes(t *testing.T) {
	h := newHarness(t, 100, 30)
	before := len(h.b.swimlanes)
	h.press("r")
	if h.b.runs != 1 {
		t.Errorf("runs %d", h.b.runs)
	}
	if len(h.b.swimlanes) != before+1 {
		t.Errorf("swimlane not reloaded after the run")
	}
	if !strings.Contains(lastLine(h.view()), "re-run done") {
		t.Errorf("no notice: %q", lastLine(h.view()))
	}
}

func TestErrorState(t *testing.T) {
	h := newHarness(t, 100, 30, func(_ *Options, b *fakeBackend) { b.fail = errors.New("cache locked") })
	if h.m.State() != StateError {
		t.Fatalf("state %v", h.m.State())
	}
	if !strings.Contains(lastLine(h.view()), "swimlane host_rare_process: cache locked · esc dismisses · r re-runs") {
		t.Errorf("error line: %q", lastLine(h.view()))
	}
	if !strings.Contains(h.view(), "Could not load host_rare_process") {
		t.Errorf("screen does not say it failed:\n%s", h.view())
	}
	h.press("esc")
	if h.m.State() != StateReady {
		t.Errorf("state %v after esc", h.m.State())
	}
	h.b.mu.Lock()
	h.b.fail = nil
	h.b.mu.Unlock()
	h.press("r")
	if h.m.State() != StateReady || !strings.Contains(h.view(), "/usr/bin/nc") {
		t.Errorf("r did not recover: %v\n%s", h.m.State(), h.view())
	}
}

func TestFramesFitEverySize(t *testing.T) {
	h := newHarness(t, 80, 24)
	modes := []struct {
		name string
		keys []string
	}{
		{"swimlane", nil},
		{"help", []string{"?"}},
		{"command", []string{":", "j", "o", "b", " ", "h", "tab"}},
		{"filter", []string{"/", "w", "e", "b"}},
		{"anomaly", []string{"tab", "enter"}},
	}
	for _, md := range modes {
		h.press(md.keys...)
		for w := 1; w <= 150; w += 11 {
			for hh := 1; hh <= 45; hh += 4 {
				h.send(tea.WindowSizeMsg{Width: w, Height: hh})
				assertFits(t, h.view(), w, hh)
			}
		}
		h.send(tea.WindowSizeMsg{Width: 100, Height: 30})
		h.press("esc", "esc")
	}
}

func TestMinimumSizeMessage(t *testing.T) {
	tests := []struct {
		w, h int
		want string
	}{
		{45, 30, "45x30"},
		{100, 10, "100x10"},
		{20, 5, "20x5."},
	}
	for _, tt := range tests {
		h := newHarness(t, tt.w, tt.h)
		v := h.view()
		if !strings.Contains(strings.ReplaceAll(v, "\n", " "), tt.want) || !strings.Contains(v, "46x11") && tt.w >= 30 {
			t.Errorf("%dx%d:\n%s", tt.w, tt.h, v)
		}
		assertFits(t, v, tt.w, tt.h)
	}
}

func TestResolveTheme(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name    string
		mode    ColorMode
		env     func(string) string
		profile termenv.Profile
		colour  bool
	}{
		{"auto in a 256-colour terminal", ColorAuto, env("TERM", "xterm-256color"), termenv.ANSI256, true},
		{"auto with COLORTERM", ColorAuto, env("TERM", "xterm-256color", "COLORTERM", "truecolor"), termenv.TrueColor, true},
		{"auto in tmux", ColorAuto, env("TERM", "tmux-256color"), termenv.ANSI256, true},
		{"auto in a basic terminal", ColorAuto, env("TERM", "xterm"), termenv.ANSI, true},
		{"auto in a direct-colour terminal", ColorAuto, env("TERM", "xterm-direct"), termenv.TrueColor, true},
		{"NO_COLOR keeps attributes", ColorAuto, env("TERM", "xterm-256color", "NO_COLOR", "1"), termenv.ANSI256, false},
		{"empty NO_COLOR is not set", ColorAuto, env("TERM", "xterm", "NO_COLOR", ""), termenv.ANSI, true},
		{"dumb terminal is plain", ColorAuto, env("TERM", "dumb"), termenv.Ascii, false},
		{"never", ColorNever, env("TERM", "xterm-256color", "COLORTERM", "truecolor"), termenv.ANSI, false},
		{"flag beats NO_COLOR", Color256, env("NO_COLOR", "1"), termenv.ANSI256, true},
		{"16", Color16, env(), termenv.ANSI, true},
		{"truecolor", ColorTrueColor, env("TERM", "dumb"), termenv.TrueColor, true},
	}
	for _, tt := range tests {
		th := ResolveTheme(tt.mode, tt.env)
		if th.Profile != tt.profile || th.Colour != tt.colour {
			t.Errorf("%s: profile %v colour %v, want %v %v", tt.name, th.Profile, th.Colour, tt.profile, tt.colour)
		}
	}
	for _, bad := range []string{"yes", "8", "always"} {
		if _, err := ParseColorMode(bad); err == nil {
			t.Errorf("--color %q accepted", bad)
		}
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"zero options", Options{}, ""},
		{"unknown job", Options{Job: "nope"}, `unknown job "nope"`},
		{"bad zone", Options{TZ: "Mars/Olympus"}, "--tz"},
		{"bad colour", Options{Color: "rainbow"}, "--color"},
		{"bad partition", Options{Partition: "user.name"}, "partition"},
		{"range backwards", Options{From: fakeStart, To: fakeStart.Add(-time.Hour)}, "before it starts"},
	}
	for _, tt := range tests {
		_, err := New(t.Context(), newFakeBackend(), tt.opts)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	if _, err := New(t.Context(), nil, Options{}); err == nil {
		t.Error("no backend accepted")
	}
	m, err := New(t.Context(), newFakeBackend(), Options{TZ: "Europe/Berlin", Getenv: func(string) string { return "" }, Theme: view.PlainTheme()})
	if err != nil {
		t.Skip("no tz database:", err)
	}
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	if !strings.Contains(m.View(), "Europe/Berlin") {
		t.Errorf("zone not in the status bar:\n%s", m.View())
	}
}

// FuzzCommandLine runs arbitrary command lines: none may panic, leave the
// frame larger than the terminal, or put a control character on it.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{"range -24h", "range 2026-11-01 2026-11-02", "bucket 0m", "job \x1b[2J", "host evil\x1b[2Jhost",
		"state fp", "partition none", "sort name", "range +1w -1d", "bucket 99999999999d", "container \u202e", "q x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		h := newHarness(t, 90, 26)
		h.press(":")
		h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(line), Paste: true})
		h.press("tab", "enter")
		if h.quit {
			return
		}
		frame := h.view()
		assertFits(t, frame, 90, 26)
		if strings.ContainsAny(frame, "\x1b\x07") {
			t.Fatalf("control character on screen after %q:\n%q", line, frame)
		}
	})
}
