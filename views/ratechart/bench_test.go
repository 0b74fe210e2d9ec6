package ratechart

import (
	"math"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/internal/viewtest"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

// weekChart is the widest window: a week each side of 15-minute buckets.
func weekChart() model.RateChart {
	n := 14 * 96
	c := model.RateChart{Entity: "db-02", Scope: model.ScopeHost, Focus: n / 2,
		Axis:   model.TimeAxis{Start: start, BucketSpan: 15 * time.Minute, Buckets: n},
		Points: make([]model.RatePoint, n), Other: make([]int64, n)}
	top := make([]model.ExecutableSeries, 8)
	for j := range top {
		top[j] = model.ExecutableSeries{Executable: "/usr/bin/tool" + string(rune('a'+j)), Counts: make([]int64, n)}
	}
	for i := 0; i < n; i++ {
		typ := 20 + 10*math.Sin(float64(i)/96*2*math.Pi)
		for j := range top {
			top[j].Counts[i] = int64(i+j) % 5
		}
		c.Other[i] = int64(typ)
		c.Points[i] = model.RatePoint{Actual: typ + float64(i%9), Typical: typ, Lower: typ - 8, Upper: typ + 12, Modelled: true}
	}
	c.Points[n/2].Actual, c.Points[n/2].Score = 400, 90
	c.Top = top
	return c
}

// BenchmarkRateChartFrame measures a key press to a new frame at 120x40 on
// a two-week window: moving the selected bucket redraws only the marks and
// the strips; a new chart (after a zoom or a resize) draws the lines with
// ntcharts again.
//
//	go test ./views/ratechart -run '^$' -bench RateChart -benchmem
func BenchmarkRateChartFrame(b *testing.B) {
	bk := &viewtest.Backend{Rate: weekChart()}
	ctx := &view.Context{Theme: view.NewTheme(termenv.TrueColor, true), Location: time.UTC,
		Query: model.Query{BucketSpan: 15 * time.Minute}}
	m := New(ctx, burstAnomaly())
	m.SetSize(120, 37)
	viewtest.Drive(b, m, bk, m.Init())
	b.Run("move", func(b *testing.B) {
		keys := [2]tea.KeyMsg{{Type: tea.KeyRunes, Runes: []rune("l")}, {Type: tea.KeyRunes, Runes: []rune("h")}}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			m.Update(keys[i%2])
			_ = m.View()
		}
	})
	b.Run("redraw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.plotFor = plotKey{} // as after a zoom or a resize
			_ = m.View()
		}
	})
}
