package anomaly

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
)

func sample() model.Anomaly {
	return model.Anomaly{
		ID: "r1", Time: time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC), BucketSpan: 15 * time.Minute,
		JobID: "host_high_process_rate", Function: "high_count", Detector: "high_count partitionfield=\"host.name\"",
		Score: 77, InitialScore: 60, Probability: 1e-6, Scope: model.ScopeHost, PartitionField: "host.name", Entity: "web-02",
		Influencers: []model.Influencer{{Field: "process.executable", Values: []string{"/usr/bin/ssh", "/usr/bin/scp\x1b[2J"}}},
		Actual:      []float64{412}, Typical: []float64{80},
		Why:    "executions per bucket far above the daily pattern",
		Triage: model.Triage{State: model.StateEscalated, Note: "copy burst \x1b]0;x\x07", Updated: time.Date(2026, 11, 2, 15, 10, 0, 0, time.UTC)},
	}
}

func TestLines(t *testing.T) {
	text := strings.Join(Lines(sample(), 60, view.PlainTheme(), time.UTC), "\n")
	for _, want := range []string{
		"critical 77 · high_count · host_high_process_rate",
		"time      2026-11-02 14:00–14:15 UTC",
		"host      web-02",
		"values    actual 412 · typical 80 · 5x higher",
		`process.executable: /usr/bin/ssh, /usr/bin/scp\x1b[2J`,
		"first     scored 60 when found",
		"state     escalated (Nov 02 15:10)",
		`note      copy burst \x1b]0;x\x07`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("lines lack %q:\n%s", want, text)
		}
	}
	if strings.ContainsRune(text, 0x1b) {
		t.Errorf("an escape from the data reached the lines:\n%q", text)
	}
	for _, w := range []int{1, 5, 12, 20, 38, 80} {
		for _, l := range Lines(sample(), w, view.PlainTheme(), time.UTC) {
			if view.Width(l) > w {
				t.Errorf("width %d: line %q is %d wide", w, l, view.Width(l))
			}
		}
	}
	if Lines(sample(), 0, view.PlainTheme(), time.UTC) != nil {
		t.Error("lines drawn in no room")
	}
}

func TestScreen(t *testing.T) {
	ctx := &view.Context{Theme: view.PlainTheme(), Location: time.UTC}
	m := New(ctx, sample())
	m.SetSize(40, 5)
	if m.Title() != "web-02" {
		t.Errorf("title %q", m.Title())
	}
	first := m.View()
	if n := len(strings.Split(first, "\n")); n != 5 {
		t.Errorf("%d lines in a 5-line screen", n)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("G")})
	last := m.View()
	if last == first || !strings.Contains(last, "note") {
		t.Errorf("G did not scroll to the end:\n%s", last)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("g")})
	if m.View() != first {
		t.Error("g did not come back to the top")
	}
	text, what, ok := m.Yank()
	var rec map[string]any
	if !ok || what != "anomaly" || json.Unmarshal([]byte(text), &rec) != nil || rec["record_score"] != 77.0 {
		t.Errorf("yank %v %q %s", ok, what, text)
	}
	if ft, ok := m.FocusTime(); !ok || !ft.Equal(sample().Time) {
		t.Errorf("focus %v %v", ft, ok)
	}
}
