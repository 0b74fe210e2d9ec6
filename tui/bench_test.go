package tui

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

// BenchmarkShellFrame measures one key press to a new frame through the
// whole shell (routing, swimlane, status and hint bars, framing) on 1,000
// hosts over 30 days of 15-minute buckets, in truecolor.
//
//	go test ./tui -run '^$' -bench ShellFrame -benchmem
func BenchmarkShellFrame(b *testing.B) {
	h := newHarness(b, 200, 60, func(o *Options, fb *fakeBackend) {
		o.Theme = view.NewTheme(termenv.TrueColor, true)
		o.Bucket = 15 * time.Minute
		o.From, o.To = fakeStart, fakeStart.Add(30*24*time.Hour)
		r := rand.New(rand.NewPCG(1, 2))
		fb.hosts = nil
		fb.records = nil
		for i := 0; i < 1000; i++ {
			host := fmt.Sprintf("host-%04d.prod", i)
			fb.hosts = append(fb.hosts, host)
			for k := 0; k < 20; k++ {
				fb.records = append(fb.records, model.Anomaly{
					ID: fmt.Sprintf("%d-%d", i, k), JobID: "host_rare_process", Function: "rare", Scope: model.ScopeHost,
					Entity: host, Executable: "/usr/bin/x", Score: r.Float64() * r.Float64() * 100,
					Time: fakeStart.Add(time.Duration(r.IntN(2880)) * 15 * time.Minute),
				})
			}
		}
	})
	h.press("j", "j")
	keys := [2]tea.Msg{keyMsg("l"), keyMsg("h")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.m.Update(keys[i%2]) // the anomalies lookup it schedules is not part of the frame
		_ = h.m.View()
	}
}
