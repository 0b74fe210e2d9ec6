package explorer

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

// manyProcesses are n executions over a window, with realistic field
// lengths and a few kinds of executable.
func manyProcesses(n int) []model.Process {
	exes := []string{"/usr/sbin/cron", "/usr/bin/dash", "/usr/lib/postgresql/14/bin/postgres", "/usr/bin/ssh", "/usr/bin/python3.10"}
	rows := make([]model.Process, n)
	for i := range rows {
		exe := exes[i%len(exes)]
		rows[i] = model.Process{Time: t0.Add(time.Duration(i) * 700 * time.Millisecond), Host: "db-02", Executable: exe,
			Args: []string{exe, "-c", fmt.Sprintf("archive_command 'test ! -f /mnt/wal/%08d'", i)}, User: "postgres",
			AuditUser: "unset", PID: int64(10000 + i), PPID: int64(9000 + i%50), WorkingDir: "/var/lib/postgresql/14/main",
			Result: "success"}
	}
	return rows
}

// loadedExplorer is an explorer at 120x40 holding rows, as after a fetch.
func loadedExplorer(rows []model.Process) *Model {
	ctx := &view.Context{Theme: view.NewTheme(termenv.TrueColor, true), Location: time.UTC}
	m := New(ctx, Around(model.ScopeHost, "db-02", "", t0, t0.Add(2*time.Hour)))
	m.SetSize(120, 37)
	m.load()
	m.setPage(model.ProcessPage{Rows: rows, Limit: 25_000})
	return m
}

// BenchmarkExplorerFrame measures one key press to a new frame on 10,000
// rows: a frame draws only the rows in view, so it costs the same whatever
// the number of rows.
//
//	go test ./views/explorer -run '^$' -bench Explorer -benchmem
func BenchmarkExplorerFrame(b *testing.B) {
	m := loadedExplorer(manyProcesses(10_000))
	m.move(5000, false)
	keys := [2]tea.KeyMsg{{Type: tea.KeyRunes, Runes: []rune("j")}, {Type: tea.KeyRunes, Runes: []rune("k")}}
	bytes := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Update(keys[i%2])
		bytes += len(m.View())
	}
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes/frame")
}

// BenchmarkExplorerLoad measures taking a page of 10,000 rows: making every
// cell safe, measuring the columns, sorting and selecting.
func BenchmarkExplorerLoad(b *testing.B) {
	rows := manyProcesses(10_000)
	m := loadedExplorer(rows)
	b.ReportAllocs()
	for b.Loop() {
		m.setPage(model.ProcessPage{Rows: rows, Limit: 25_000})
	}
}

// BenchmarkExplorerSort measures o (the next sort column) on 10,000 rows.
func BenchmarkExplorerSort(b *testing.B) {
	m := loadedExplorer(manyProcesses(10_000))
	key := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("o")}
	b.ReportAllocs()
	for b.Loop() {
		m.Update(key)
		_ = m.View()
	}
}

// BenchmarkExplorerFilter measures a / filter over 10,000 rows, as typed.
func BenchmarkExplorerFilter(b *testing.B) {
	m := loadedExplorer(manyProcesses(10_000))
	filters := [2]view.FilterMsg{
		{Text: "wal/0000", Pattern: regexp.MustCompile("(?i)wal/0000")},
		{Text: "ssh", Pattern: regexp.MustCompile("(?i)ssh")},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Update(filters[i%2])
		_ = m.View()
	}
}
