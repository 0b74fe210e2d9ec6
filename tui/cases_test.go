package tui

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/model"
	tea "github.com/charmbracelet/bubbletea"
)

// tableRows are the anomalies table's rows on screen: the lines from its
// header down that start with a state.
func tableRows(frame string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(frame, "\n") {
		if strings.HasPrefix(l, " state time") {
			in = true
			continue
		}
		f := strings.Fields(strings.TrimPrefix(l, ">"))
		if in && len(f) > 0 && slices.Contains([]string{"new", "ack", "fp", "esc", "supp"}, strings.TrimSuffix(f[0], "*")) {
			out = append(out, l)
		}
	}
	return out
}

func runLine(h *harness, line string) {
	h.press(":")
	h.typeText(line)
	h.press("enter")
}

func TestAddToCase(t *testing.T) {
	tests := []struct {
		name     string
		keys     func(h *harness)
		wantCase string
		wantID   string
		wantNote string
	}{
		{"a new case with a note", func(h *harness) {
			h.press("tab", "A")
			h.typeText("INC-7")
			h.press("down")
			h.typeText("reverse shell listener")
			h.press("enter")
		}, "INC-7", "r1", "reverse shell listener"},
		{"an existing case by completion", func(h *harness) {
			h.press("tab", "j", "A")
			h.typeText("pa")
			h.press("tab", "enter")
		}, "patch-review", "r2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 80, 24)
			tt.keys(h)
			ids, ok := h.b.caseIDs(tt.wantCase)
			if !ok || !slices.Contains(ids, tt.wantID) {
				t.Fatalf("case %s holds %v (%v), want %s", tt.wantCase, ids, ok, tt.wantID)
			}
			if got := h.b.triage(tt.wantID); got.Note != tt.wantNote {
				t.Errorf("note %q, want %q", got.Note, tt.wantNote)
			}
			if h.m.Depth() != 1 {
				t.Errorf("the form stayed open (depth %d)", h.m.Depth())
			}
			if last := lastLine(h.view()); !strings.Contains(last, "to case "+tt.wantCase) {
				t.Errorf("no notice: %q", last)
			}
			if tt.wantNote != "" && !strings.Contains(h.view(), "new*") {
				t.Errorf("the table does not show the note mark after the change:\n%s", h.view())
			}
		})
	}
}

func TestAddToCaseNeedsAName(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.press("tab", "A", "enter")
	if h.m.Depth() != 2 || !strings.Contains(h.view(), "name the case") {
		t.Fatalf("an empty name was not refused:\n%s", h.view())
	}
	h.press("esc")
	if h.m.Depth() != 1 {
		t.Errorf("esc did not close the form")
	}
}

func TestSuppress(t *testing.T) {
	tests := []struct {
		name       string
		keys       func(h *harness)
		wantEntity string
		wantUntil  time.Time
		wantAction string
		wantNote   string
		hidden     int
	}{
		{"on its host, for good", func(h *harness) {
			h.press("tab", "S", "enter", "y")
		}, "web-03", time.Time{}, model.RuleSkipResult, "from anomaly r1", 1},
		{"everywhere, for a week, with a note", func(h *harness) {
			h.press("tab", "S", "ctrl+u")
			h.typeText("*")
			h.press("down")
			h.typeText("+7d")
			h.press("down")
			h.typeText("pentest tooling")
			h.press("enter", "y")
		}, "", testNow.Add(7 * 24 * time.Hour), model.RuleSkipResult, "pentest tooling", 1},
		{"from the models only", func(h *harness) {
			h.press("tab", "S", "up", "right", "enter", "enter")
		}, "web-03", time.Time{}, model.RuleSkipModelUpdate, "from anomaly r1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 80, 24)
			before := tableRows(h.view())
			tt.keys(h)
			r, ok := h.b.rule("rfake0001")
			if !ok {
				t.Fatalf("no rule made; screen:\n%s", h.view())
			}
			if r.Executable != "/usr/bin/nc" || r.Scope != "host" || r.Entity != tt.wantEntity || !r.Until.Equal(tt.wantUntil) ||
				r.Action != tt.wantAction || r.Note != tt.wantNote {
				t.Errorf("rule %+v", r)
			}
			if h.m.Depth() != 1 {
				t.Fatalf("the form stayed open (depth %d)", h.m.Depth())
			}
			v := h.view()
			rows := tableRows(v)
			if len(rows) != len(before)-tt.hidden || (tt.hidden > 0 && strings.Contains(strings.Join(rows, "\n"), "/usr/bin/nc")) {
				t.Errorf("table before %q, after %q", before, rows)
			}
			if tt.hidden > 0 {
				if !strings.Contains(v, "1 suppressed") {
					t.Errorf("status bar does not count the suppressed record:\n%s", v)
				}
				// The row that took the suppressed one's place is selected.
				if len(rows) == 0 || !strings.HasPrefix(rows[0], ">") || !strings.Contains(rows[0], "kworker") {
					t.Errorf("selection after the change: %q", rows)
				}
			}
		})
	}
}

func TestSuppressRefusals(t *testing.T) {
	t.Run("a rate anomaly of two executables", func(t *testing.T) {
		h := newHarness(t, 100, 30)
		runLine(h, "job host_high_process_rate")
		runLine(h, "host web-02")
		h.press("tab", "S")
		if h.m.Depth() != 1 || !strings.Contains(lastLine(h.view()), "2 executables") {
			t.Errorf("suppressing ssh and scp at once was not refused: %q", lastLine(h.view()))
		}
	})
	t.Run("an end in the past", func(t *testing.T) {
		h := newHarness(t, 100, 30)
		h.press("tab", "S", "down")
		h.typeText("-1d")
		h.press("enter")
		if h.m.Depth() != 2 || !strings.Contains(h.view(), "has passed") {
			t.Errorf("a past end was not refused:\n%s", h.view())
		}
		if _, ok := h.b.rule("rfake0001"); ok {
			t.Error("a rule was made")
		}
	})
	t.Run("no to the question", func(t *testing.T) {
		h := newHarness(t, 100, 30)
		h.press("tab", "S", "enter", "n")
		if h.m.Depth() != 2 {
			t.Errorf("n left the form")
		}
		if _, ok := h.b.rule("rfake0001"); ok {
			t.Error("a rule was made")
		}
	})
}

func TestRemoveRuleBringsTheRecordBack(t *testing.T) {
	h := newHarness(t, 120, 30)
	h.press("tab", "S", "enter", "y")
	if rows := tableRows(h.view()); len(rows) != 2 {
		t.Fatalf("nc not suppressed: %q", rows)
	}
	runLine(h, "rules")
	if !strings.Contains(h.view(), "active  rfake0001") {
		t.Fatalf("the new rule is not listed:\n%s", h.view())
	}
	h.press("G", "d")
	if !strings.Contains(h.view(), "Remove rule rfake0001") || !strings.Contains(h.view(), "The 1 record it hides come back") {
		t.Fatalf("no question:\n%s", h.view())
	}
	h.press("y")
	if _, ok := h.b.rule("rfake0001"); ok {
		t.Fatal("the rule is still there")
	}
	if strings.Contains(h.view(), "active  rfake0001") || !strings.Contains(lastLine(h.view()), "1 record back") {
		t.Errorf("the list still shows the rule:\n%s", h.view())
	}
	h.press("esc")
	v := h.view()
	if rows := tableRows(v); len(rows) != 3 || !strings.Contains(rows[0], "/usr/bin/nc") || strings.Contains(v, "suppressed") {
		t.Errorf("nc is not back on the swimlane:\n%s", v)
	}
}

func TestEditRule(t *testing.T) {
	h := newHarness(t, 100, 30, withPythonRule)
	runLine(h, "rules")
	h.press("G", "enter")
	if crumbs := strings.SplitN(h.view(), "\n", 2)[0]; crumbs != " swimlane > rules > rule r9c8d7e6f" {
		t.Fatalf("edit form not open: %q", crumbs)
	}
	h.press("ctrl+u")
	h.typeText("notebooks of the data team")
	h.press("up", "ctrl+u", "enter") // the end cleared: for good
	r, _ := h.b.rule("r9c8d7e6f")
	if r.Note != "notebooks of the data team" || !r.Until.IsZero() || r.Executable != "/usr/bin/python3" || r.Entity != "web-*" {
		t.Errorf("rule after the edit %+v", r)
	}
	if h.m.Depth() != 2 || !strings.Contains(h.view(), "notebooks of") {
		t.Errorf("the list does not show the edit:\n%s", h.view())
	}
}

func TestToggleSuppressed(t *testing.T) {
	h := newHarness(t, 80, 24, withPythonRule)
	runLine(h, "host web-05")
	h.press(strings.Split(strings.Repeat("l", 15), "")...)
	if len(tableRows(h.view())) != 0 || !strings.Contains(h.view(), "1 suppressed") {
		t.Fatalf("the suppressed record is shown or not counted:\n%s", h.view())
	}
	h.press(".")
	rows := tableRows(h.view())
	if len(rows) != 1 || !strings.HasPrefix(rows[0], ">supp") || !strings.Contains(rows[0], "/usr/bin/python3") {
		t.Fatalf("the suppressed record is not listed, marked: %q", rows)
	}
	if !strings.Contains(h.view(), "1 suppressed (listed)") {
		t.Errorf("status bar:\n%s", h.view())
	}
	h.press("tab", "S")
	if h.m.Depth() != 1 || !strings.Contains(lastLine(h.view()), "already suppressed by rule r9c8d7e6f") {
		t.Errorf("suppressing a suppressed record: %q", lastLine(h.view()))
	}
	runLine(h, "suppressed off")
	if len(tableRows(h.view())) != 0 || strings.Contains(h.view(), "(listed)") {
		t.Errorf(":suppressed off did not hide it:\n%s", h.view())
	}
}

func TestCasesListAndCase(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, 100, 30)
	runLine(h, "cases")
	if !strings.Contains(h.view(), ">INC-42") || !strings.Contains(h.view(), "patch-review") {
		t.Fatalf("cases list:\n%s", h.view())
	}
	h.press("enter")
	if crumbs := strings.SplitN(h.view(), "\n", 2)[0]; crumbs != " swimlane > cases > case INC-42" {
		t.Fatalf("case not open: %q", crumbs)
	}
	// Save it through the form.
	h.press("w", "ctrl+u")
	path := filepath.Join(dir, "inc42.alcase")
	h.typeText(path)
	h.press("enter")
	if _, err := os.Stat(path); err != nil || !strings.Contains(lastLine(h.view()), "saved case INC-42") {
		t.Fatalf("not saved (%v): %q", err, lastLine(h.view()))
	}
	// Take the rate anomaly out.
	h.press("d", "y")
	if ids, _ := h.b.caseIDs("INC-42"); !reflect.DeepEqual(ids, []string{"r1"}) {
		t.Errorf("case holds %v", ids)
	}
	if v := h.view(); strings.Contains(v, "@ 77") || !strings.Contains(v, "@ 92") {
		t.Errorf("removed anomaly still listed:\n%s", v)
	}
	// Delete the other case from the list.
	h.press("esc", "j", "d", "y")
	if _, ok := h.b.caseIDs("patch-review"); ok {
		t.Error("patch-review not deleted")
	}
	if v := h.view(); strings.Contains(v, "\n patch-review") || !strings.Contains(v, "1 case ") {
		t.Errorf("deleted case still listed:\n%s", v)
	}
}

func TestCaseDrillsDownInItsJob(t *testing.T) {
	h := newHarness(t, 100, 30)
	runLine(h, "case INC-42")
	h.press("enter") // h1, a host_high_process_rate anomaly, from the rare job
	if got := h.m.ctx.Query.Job; got != "host_high_process_rate" {
		t.Errorf("the console did not switch to the anomaly's job: %s", got)
	}
	if crumbs := strings.SplitN(h.view(), "\n", 2)[0]; crumbs != " swimlane > case INC-42 > web-02 > process rate" {
		t.Errorf("drill-down: %q", crumbs)
	}
	h.press("esc", "j", "enter") // r1: back to the rare job
	if got := h.m.ctx.Query.Job; got != "host_rare_process" {
		t.Errorf("job %s", got)
	}
	if crumbs := strings.SplitN(h.view(), "\n", 2)[0]; crumbs != " swimlane > case INC-42 > web-03 > rare processes" {
		t.Errorf("drill-down: %q", crumbs)
	}
}

func TestCaseAndRuleCommands(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, 100, 30)
	path := filepath.Join(dir, "a b.alcase")
	runLine(h, `case save INC-42 "`+path+`"`)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf(":case save with a quoted path: %v; %q", err, lastLine(h.view()))
	}
	runLine(h, `case save INC-42 "`+path+`"`)
	if !strings.Contains(h.view(), "exists") {
		t.Errorf("overwrote without force:\n%s", h.view())
	}
	h.press("esc")
	runLine(h, `case save INC-42 "`+path+`" force`)
	if !strings.Contains(lastLine(h.view()), "saved case INC-42") {
		t.Errorf("force: %q", lastLine(h.view()))
	}
	runLine(h, "case save INC-42")
	if !strings.Contains(lastLine(h.view()), "want a case name, or save NAME FILE") {
		t.Errorf("missing file: %q", lastLine(h.view()))
	}

	rules := filepath.Join(dir, "rules.json")
	runLine(h, "rules export "+rules)
	if !strings.Contains(lastLine(h.view()), "2 rules written") {
		t.Fatalf("export: %q", lastLine(h.view()))
	}
	if err := h.b.RemoveRule(t.Context(), "r4e5f6a7b"); err != nil {
		t.Fatal(err)
	}
	runLine(h, "rules import "+rules)
	if _, ok := h.b.rule("r4e5f6a7b"); !ok || !strings.Contains(lastLine(h.view()), "2 rules imported") {
		t.Errorf("import: %q", lastLine(h.view()))
	}
}

func TestCaseFile(t *testing.T) {
	advice := "read-only case file: to change it, reopen it with --edit (auditlens open FILE --edit)"
	readOnly := func(o *Options, b *fakeBackend) {
		o.Source = "case patch-review (read-only)"
		b.caseFile = model.CaseFile{Name: "patch-review", ReadOnly: true}
		b.readOnly = &model.ReadOnlyError{Advice: advice}
	}
	h := newHarness(t, 80, 24, readOnly)
	status := func() string {
		lines := strings.Split(h.view(), "\n")
		return lines[len(lines)-2]
	}
	for _, k := range []string{"", "]", "[", "c", "c"} {
		if k != "" {
			h.press(k)
		}
		if !strings.HasPrefix(status(), " case patch-review") {
			t.Errorf("after %q on %s the status bar lost the case: %q", k, h.m.ctx.Query.Job, status())
		}
	}
	h.press("tab", "a")
	if got := lastLine(h.view()); !strings.HasPrefix(got, " read-only case file") || !strings.Contains(got, "--edit") {
		t.Errorf("triage on a read-only case: %q", got)
	}
	for _, k := range []string{"A", "S"} {
		h.press(k)
		if h.m.Depth() != 1 || !strings.Contains(lastLine(h.view()), "--edit") {
			t.Errorf("%s on a read-only case: depth %d, %q", k, h.m.Depth(), lastLine(h.view()))
		}
	}
	runLine(h, "cases")
	if !strings.Contains(h.view(), ">patch-review (this file)") {
		t.Errorf("the cases list does not open on the file's case:\n%s", h.view())
	}
	h.press("d")
	if !strings.Contains(lastLine(h.view()), "--edit") {
		t.Errorf("delete on a read-only case: %q", lastLine(h.view()))
	}
}

func TestWithoutCaseBackend(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.m.ctx.Cases = false // as for a backend without a case side
	h.press("tab", "?")
	if strings.Contains(h.view(), "add to a case") {
		t.Errorf("case keys offered without a case side:\n%s", h.view())
	}
	h.press("esc", "A")
	if h.m.Depth() != 1 {
		t.Error("A opened a form without a case side")
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"case save INC-42 out.alcase", []string{"case", "save", "INC-42", "out.alcase"}},
		{`case save "INC 42" "my file"`, []string{"case", "save", "INC 42", "my file"}},
		{`case "a\"b" c\ d`, []string{"case", `a"b`, "c d"}},
		{`  spaced   out  `, []string{"spaced", "out"}},
		{`open "unclosed quote`, []string{"open", "unclosed quote"}},
		{`empty ""`, []string{"empty", ""}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := splitArgs(tt.line); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitArgs(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
	if quoteOpen(`case "INC `) != true || quoteOpen(`case "INC 42" `) != false {
		t.Error("quoteOpen")
	}
}

// FuzzSplitArgs: whatever a word holds, quoted it reads back as itself.
func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{"INC 42", `a"b`, `back\slash`, "", " ", `\`, `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, word string) {
		got := splitArgs("case " + quoteArg(word))
		if len(got) != 2 || got[1] != word {
			t.Fatalf("%q quoted as %q reads back as %q", word, quoteArg(word), got)
		}
	})
}

func TestCasesNeverDrawDataEscapes(t *testing.T) {
	const (
		evilCase = "INC\x1b]0;owned\x07"
		evilRule = "r\x1b[1mbold"
	)
	hostile := func(o *Options, b *fakeBackend) {
		b.cases[evilCase] = &fakeCase{summary: "\x1b[2Jwiped\u202eright-to-left", created: at(1, 0), updated: at(1, 1), ids: []string{"r5", "r6"}}
		b.records[4].Triage.Note = "\x9b31mred\x07"
		b.rules = append(b.rules, model.Rule{ID: evilRule, Executable: "/tmp/\x1b]0;x\x07*", Scope: "host", Entity: "evil\x1b[2J*",
			Action: model.RuleSkipResult, Note: "\u202eevil\x07", Created: at(1, 0), Updated: at(1, 0)})
		b.rules = append(b.rules, model.Rule{ID: "r5evil", Executable: evilProcess, Scope: "host", Entity: "web-02",
			Action: model.RuleSkipResult, Note: "hides the hostile process", Created: at(1, 0), Updated: at(1, 0)})
		b.caseFile = model.CaseFile{Name: evilCase}
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		h := newHarness(t, size[0], size[1], hostile)
		var frames []string
		snap := func() { frames = append(frames, h.view()) }
		snap() // the status bar's case label
		runLine(h, "cases")
		snap()
		h.press("G", "enter") // the hostile case, its side panel
		snap()
		h.press("d")
		snap() // the question names the case
		h.press("n", "esc", "esc")
		runLine(h, "rules")
		snap()
		h.press("G", "k", "enter") // the hostile rule's edit form
		snap()
		h.press("esc", "d")
		snap()
		h.press("y")
		snap() // the notice names the removed rule
		h.press("esc", ".", "tab", "j", "j")
		snap() // the hostile process, suppressed, listed
		runLine(h, "suppressed off")
		h.press("tab", "j", "A")
		snap()
		h.typeText("\x1b[2J")
		snap()
		h.press("esc")
		runLine(h, "case \"INC\x1b]0;owned\x07\"") // typed text never keeps a control character
		snap()
		for i, f := range frames {
			if strings.ContainsAny(f, "\x1b\x07\u202e\u009b") {
				t.Errorf("%dx%d frame %d draws a control character:\n%q", size[0], size[1], i, f)
			}
			assertFits(t, f, size[0], size[1])
		}
		if !strings.Contains(frames[0], `case INC\x1b]0;owned\x07`) || !strings.Contains(frames[1], `\x1b[2Jwiped`) {
			t.Errorf("hostile case not shown escaped:\n%s\n%s", frames[0], frames[1])
		}
		if !strings.Contains(frames[4], `/tmp/\x1b]0;`) || !strings.Contains(frames[5], `/tmp/\x1b]0;x\x07*`) {
			t.Errorf("hostile rule not shown escaped:\n%s", frames[4])
		}
	}
}

func TestCaseScreensFitEverySize(t *testing.T) {
	screens := map[string]func(h *harness){
		"cases list":     func(h *harness) { runLine(h, "cases") },
		"delete case":    func(h *harness) { runLine(h, "cases"); h.press("d") },
		"case":           func(h *harness) { runLine(h, "case INC-42") },
		"remove anomaly": func(h *harness) { runLine(h, "case INC-42"); h.press("d") },
		"save form":      func(h *harness) { runLine(h, "case INC-42"); h.press("w") },
		"rules list":     func(h *harness) { runLine(h, "rules") },
		"remove rule":    func(h *harness) { runLine(h, "rules"); h.press("d") },
		"edit form":      func(h *harness) { runLine(h, "rules"); h.press("enter") },
		"suppress form":  func(h *harness) { h.press("tab", "S") },
		"suppress asks":  func(h *harness) { h.press("tab", "S", "enter") },
		"add form":       func(h *harness) { h.press("tab", "A", "I") },
	}
	for name, open := range screens {
		for _, size := range [][2]int{{80, 24}, {120, 40}, {46, 12}, {200, 60}} {
			h := newHarness(t, size[0], size[1], withPythonRule)
			open(h)
			if h.m.Depth() < 2 {
				t.Errorf("%s at %dx%d: nothing opened", name, size[0], size[1])
			}
			assertFits(t, h.view(), size[0], size[1])
			for _, s := range [][2]int{{40, 8}, {60, 15}, {size[0], size[1]}} {
				h.send(tea.WindowSizeMsg{Width: s[0], Height: s[1]})
				assertFits(t, h.view(), s[0], s[1])
			}
		}
	}
}
