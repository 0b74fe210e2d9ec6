package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/model"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
)

// Golden screens of cases and rules, as TestGolden's: regenerate with
//
//	go test ./tui -run TestGoldenCases -update

func startProgramWith(t *testing.T, w, h int, edit func(*Options, *fakeBackend)) *teatest.TestModel {
	t.Helper()
	b := newFakeBackend()
	opts := testOptions(&lockedBuffer{})
	if edit != nil {
		edit(&opts, b)
	}
	m, err := New(context.Background(), b, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Shutdown(5 * time.Second); err != nil {
			t.Error(err)
		}
	})
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
}

// withPythonRule adds a rule that hides web-05's python3 record.
func withPythonRule(_ *Options, b *fakeBackend) {
	b.rules = append(b.rules, model.Rule{ID: "r9c8d7e6f", Executable: "/usr/bin/python3", Scope: "host", Entity: "web-*",
		Action: model.RuleSkipResult, Until: testNow.Add(30 * 24 * time.Hour), Note: "data science notebooks", Created: at(1, 0), Updated: at(1, 0)})
}

func command(tm *teatest.TestModel, line string) {
	tm.Type(":" + line)
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
}

func TestGoldenCases(t *testing.T) {
	tests := []struct {
		name  string
		w, h  int
		edit  func(*Options, *fakeBackend)
		drive func(t *testing.T, tm *teatest.TestModel)
	}{
		{"cases_80x24", 80, 24, nil, openCases},
		{"cases_120x40", 120, 40, nil, openCases},
		{"case_80x24", 80, 24, nil, openCase},
		{"case_120x40", 120, 40, nil, openCase},
		{"rules_80x24", 80, 24, withPythonRule, openRules},
		{"rules_120x40", 120, 40, withPythonRule, openRules},
		{"suppress_80x24", 80, 24, nil, openSuppress},
		{"suppress_120x40", 120, 40, nil, openSuppress},
		{"suppress_confirm_80x24", 80, 24, nil, func(t *testing.T, tm *teatest.TestModel) {
			openSuppress(t, tm)
			tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
			waitOutput(t, tm, "n/esc no, back")
		}},
		{"add_to_case_80x24", 80, 24, nil, func(t *testing.T, tm *teatest.TestModel) {
			waitOutput(t, tm, "/tmp/.x/kworker")
			tm.Send(tea.KeyMsg{Type: tea.KeyTab})
			tm.Type("A")
			waitOutput(t, tm, "add an anomaly to a case")
			tm.Type("I")
			waitOutput(t, tm, "INC-42")
		}},
		{"suppressed_shown_80x24", 80, 24, withPythonRule, func(t *testing.T, tm *teatest.TestModel) {
			waitOutput(t, tm, "/tmp/.x/kworker")
			command(tm, "host web-05")
			waitOutput(t, tm, "anomalies · web-05")
			tm.Type(".")
			waitOutput(t, tm, "(listed)")
			tm.Type(strings.Repeat("l", 15)) // to Nov 02 18:00, where the hidden record is
			waitOutput(t, tm, "supp ")
		}},
		{"case_file_80x24", 80, 24, func(o *Options, b *fakeBackend) {
			o.Source = "case INC-42 (read-only)"
			b.caseFile = model.CaseFile{Name: "INC-42", ReadOnly: true}
			b.readOnly = &model.ReadOnlyError{Advice: "read-only case file: to change it, reopen it with --edit (auditlens open FILE --edit)"}
		}, func(t *testing.T, tm *teatest.TestModel) {
			waitOutput(t, tm, "/tmp/.x/kworker")
			tm.Type("]")
			waitOutput(t, tm, "host_high_process_rate")
			command(tm, "host web-02")
			waitOutput(t, tm, "412")
			tm.Send(tea.KeyMsg{Type: tea.KeyTab})
			tm.Type("a")
			waitOutput(t, tm, "--edit")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := startProgramWith(t, tt.w, tt.h, tt.edit)
			tt.drive(t, tm)
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
			teatest.RequireEqualOutput(t, finalView(t, tm, tt.w, tt.h))
		})
	}
}

func openCases(t *testing.T, tm *teatest.TestModel) {
	t.Helper()
	waitOutput(t, tm, "/tmp/.x/kworker")
	command(tm, "cases")
	waitOutput(t, tm, "patch-review")
}

func openCase(t *testing.T, tm *teatest.TestModel) {
	t.Helper()
	openCases(t, tm)
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitOutput(t, tm, "d remove from case")
}

func openRules(t *testing.T, tm *teatest.TestModel) {
	t.Helper()
	waitOutput(t, tm, "/tmp/.x/kworker")
	command(tm, "rules")
	waitOutput(t, tm, "r4e5f6a7b")
}

// openSuppress opens the suppress form of the swimlane's top anomaly (nc
// on web-03).
func openSuppress(t *testing.T, tm *teatest.TestModel) {
	t.Helper()
	waitOutput(t, tm, "/tmp/.x/kworker")
	tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	tm.Type("S")
	waitOutput(t, tm, "why it is benign")
}
