package tui

import (
	"bytes"
	"context"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
)

// Golden screens: the final frame (FinalModel().View()) at fixed sizes with
// the plain theme pinned, so the files hold text only. Regenerate with
//
//	go test ./tui -run TestGolden -update

func startProgram(t *testing.T, w, h int) *teatest.TestModel {
	t.Helper()
	b := newFakeBackend()
	m, err := New(context.Background(), b, testOptions(&lockedBuffer{}))
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

func waitOutput(t *testing.T, tm *teatest.TestModel, want string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(want)) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func finalView(t *testing.T, tm *teatest.TestModel, w, h int) []byte {
	t.Helper()
	m, ok := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if !ok {
		t.Fatal("final model is not the console")
	}
	frame := m.View()
	assertFits(t, frame, w, h)
	return []byte(frame)
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name  string
		w, h  int
		drive func(t *testing.T, tm *teatest.TestModel)
	}{
		{"swimlane_80x24", 80, 24, func(t *testing.T, tm *teatest.TestModel) {
			waitOutput(t, tm, "/tmp/.x/kworker")
			tm.Type("q")
		}},
		{"swimlane_120x40", 120, 40, func(t *testing.T, tm *teatest.TestModel) {
			waitOutput(t, tm, "partitionfield")
			tm.Type("q")
		}},
		{"table_focused_80x24", 80, 24, func(t *testing.T, tm *teatest.TestModel) {
			waitOutput(t, tm, "/tmp/.x/kworker")
			tm.Send(tea.KeyMsg{Type: tea.KeyTab})
			tm.Type("jj")
			waitOutput(t, tm, `>new   Nov 02 03:00 + 40`)
			tm.Type("q")
		}},
		{"help_80x24", 80, 24, func(t *testing.T, tm *teatest.TestModel) {
			waitOutput(t, tm, "/tmp/.x/kworker")
			tm.Type("?")
			waitOutput(t, tm, "keys: swimlane")
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
		}},
		{"help_120x40", 120, 40, func(t *testing.T, tm *teatest.TestModel) {
			waitOutput(t, tm, "partitionfield")
			tm.Type("?")
			waitOutput(t, tm, "keys: swimlane")
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
		}},
		{"command_80x24", 80, 24, func(t *testing.T, tm *teatest.TestModel) {
			waitOutput(t, tm, "/tmp/.x/kworker")
			tm.Type(":job host_")
			tm.Send(tea.KeyMsg{Type: tea.KeyTab})
			waitOutput(t, tm, "host_high_process_rate")
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
		}},
		{"too_small_40x10", 40, 10, func(t *testing.T, tm *teatest.TestModel) {
			waitOutput(t, tm, "too small")
			tm.Type("q")
		}},
		{"resize_120x40_to_80x24", 120, 40, func(t *testing.T, tm *teatest.TestModel) {
			waitOutput(t, tm, "partitionfield")
			tm.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
			tm.Type("q")
		}},
		{"rarechart_80x24", 80, 24, openRareChart},
		{"rarechart_120x40", 120, 40, openRareChart},
		{"explorer_80x24", 80, 24, func(t *testing.T, tm *teatest.TestModel) {
			openExplorer(t, tm)
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
		}},
		{"explorer_120x40", 120, 40, func(t *testing.T, tm *teatest.TestModel) {
			openExplorer(t, tm)
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
		}},
		{"explorer_detail_80x24", 80, 24, func(t *testing.T, tm *teatest.TestModel) {
			openExplorer(t, tm)
			tm.Type("/nc$")
			tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
			tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
			waitOutput(t, tm, "argv[4]")
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
		}},
		{"explorer_parent_80x24", 80, 24, func(t *testing.T, tm *teatest.TestModel) {
			openExplorer(t, tm)
			tm.Type("P")
			waitOutput(t, tm, "pid 4002")
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
		}},
		{"ratechart_80x24", 80, 24, openRateChart},
		{"ratechart_120x40", 120, 40, openRateChart},
		{"resize_to_too_small_and_back", 80, 24, func(t *testing.T, tm *teatest.TestModel) {
			waitOutput(t, tm, "/tmp/.x/kworker")
			tm.Send(tea.WindowSizeMsg{Width: 30, Height: 8})
			tm.Send(tea.WindowSizeMsg{Width: 100, Height: 30})
			tm.Type("q")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := startProgram(t, tt.w, tt.h)
			tt.drive(t, tm)
			w, h := tt.w, tt.h
			switch tt.name {
			case "resize_120x40_to_80x24":
				w, h = 80, 24
			case "resize_to_too_small_and_back":
				w, h = 100, 30
			}
			teatest.RequireEqualOutput(t, finalView(t, tm, w, h))
		})
	}
}

// openRareChart opens the rare-process chart of the swimlane's top anomaly
// (nc on web-03).
func openRareChart(t *testing.T, tm *teatest.TestModel) {
	t.Helper()
	waitOutput(t, tm, "/tmp/.x/kworker")
	tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitOutput(t, tm, "share fleet")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
}

// openExplorer opens the process explorer of nc from its rare chart.
func openExplorer(t *testing.T, tm *teatest.TestModel) {
	t.Helper()
	waitOutput(t, tm, "/tmp/.x/kworker")
	tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitOutput(t, tm, "share fleet")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter}) // nc's executions
	waitOutput(t, tm, "(±1h)")
	tm.Type("e") // every executable in the window
	waitOutput(t, tm, "every executable")
}

// openRateChart opens the rate drill-down of web-02's ssh and scp burst.
func openRateChart(t *testing.T, tm *teatest.TestModel) {
	t.Helper()
	waitOutput(t, tm, "/tmp/.x/kworker")
	tm.Type("]")
	waitOutput(t, tm, "backup-01")
	tm.Type(":host web-02")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitOutput(t, tm, "412")
	tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitOutput(t, tm, "influencer")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
}
