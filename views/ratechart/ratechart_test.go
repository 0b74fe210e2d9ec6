package ratechart

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/explorer"
	"github.com/auditlens/auditlens/views/internal/viewtest"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	"github.com/muesli/termenv"
)

var start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

const burstAt = 40 // the burst's bucket in the window

// burstChart is 96 half-hour buckets of a host whose usual rate follows the
// day, with an ssh and scp burst in bucket 40.
func burstChart() model.RateChart {
	n := 96
	c := model.RateChart{Entity: "db-02", Scope: model.ScopeHost, Focus: burstAt,
		Axis:   model.TimeAxis{Start: start, BucketSpan: 30 * time.Minute, Buckets: n},
		Points: make([]model.RatePoint, n), Other: make([]int64, n)}
	ssh := model.ExecutableSeries{Executable: "/usr/bin/ssh", Counts: make([]int64, n)}
	scp := model.ExecutableSeries{Executable: "/usr/bin/scp", Counts: make([]int64, n)}
	cron := model.ExecutableSeries{Executable: "/usr/sbin/cron", Counts: make([]int64, n)}
	for i := 0; i < n; i++ {
		typical := 20 + 10*math.Sin(float64(i)/48*2*math.Pi)
		cron.Counts[i] = 4
		c.Other[i] = int64(typical) - 4 + int64(i%3)
		if i == burstAt {
			ssh.Counts[i], scp.Counts[i] = 205, 103
		}
		actual := float64(ssh.Counts[i] + scp.Counts[i] + cron.Counts[i] + c.Other[i])
		c.Points[i] = model.RatePoint{Actual: actual, Typical: typical, Lower: typical - 8, Upper: typical + 12, Modelled: i > 2}
	}
	c.Points[burstAt].Score = 97
	c.Points[burstAt+1].Score = 12
	for _, s := range []*model.ExecutableSeries{&ssh, &scp, &cron} {
		for _, v := range s.Counts {
			s.Total += v
		}
	}
	c.Top = []model.ExecutableSeries{ssh, scp, cron}
	c.Drivers = []model.RateDriver{{Executable: "/usr/bin/ssh", Count: 205, Usual: 0.01, Influencer: true},
		{Executable: "/usr/bin/scp", Count: 103, Influencer: true}, {Executable: "/usr/bin/dash", Count: 9, Usual: 11}}
	return c
}

func burstAnomaly() model.Anomaly {
	return model.Anomaly{ID: "h1", Time: start.Add(burstAt * 30 * time.Minute), BucketSpan: 30 * time.Minute,
		JobID: "host_high_process_rate", Function: "high_non_zero_count", Score: 97, Scope: model.ScopeHost,
		PartitionField: "host.name", Entity: "db-02", Actual: []float64{320}, Typical: []float64{21},
		Influencers: []model.Influencer{{Field: "host.name", Values: []string{"db-02"}}, {Field: "process.executable", Values: []string{"/usr/bin/ssh", "/usr/bin/scp"}}},
		Why:         "320 executions in 30m, 15x the expected 21"}
}

func newRate(t *testing.T, b *viewtest.Backend, th *view.Theme, w, h int) *Model {
	t.Helper()
	ctx := &view.Context{Theme: th, Location: time.UTC, Query: model.Query{Job: "host_high_process_rate", Scope: model.ScopeHost, BucketSpan: 30 * time.Minute}}
	m := New(ctx, burstAnomaly())
	m.SetSize(w, h)
	viewtest.Drive(t, m, b, m.Init())
	return m
}

func TestLoadAsksForTheWindowAroundTheAnomaly(t *testing.T) {
	b := &viewtest.Backend{Rate: burstChart()}
	m := newRate(t, b, view.PlainTheme(), 80, 21)
	q := b.RateQs[0]
	a := burstAnomaly()
	if q.Entity != "db-02" || !q.Focus.Equal(a.Time) || !q.WindowFrom.Equal(a.Time.Add(-24*time.Hour)) ||
		!q.WindowTo.Equal(a.Time.Add(25*time.Hour)) || fmt.Sprint(q.Influencers) != "[/usr/bin/ssh /usr/bin/scp]" || q.Top != 5 {
		t.Errorf("asked %+v", q)
	}
	if m.cursorBucket != burstAt {
		t.Errorf("cursor at %d", m.cursorBucket)
	}
	if m.Title() != "db-02 > process rate" {
		t.Errorf("title %q", m.Title())
	}
}

func TestScreenShowsTheBurst(t *testing.T) {
	b := &viewtest.Backend{Rate: burstChart()}
	m := newRate(t, b, view.PlainTheme(), 120, 37)
	out := m.View()
	for _, want := range []string{"@ critical 97 db-02", "15x the expected 21", "/usr/bin/ssh", "/usr/bin/scp",
		"processes that drove", "influencer", "new", "expected"} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(out, "\n")
	var marks, caret, ssh, cron string
	for i, l := range lines {
		switch {
		case strings.HasPrefix(strings.TrimSpace(l), "anomaly"):
			marks, caret = l, lines[i+1+m.layout().axisLines]
		case strings.HasPrefix(l, " /usr/bin/ssh") && strings.ContainsRune(l, '█'):
			ssh = l
		case strings.HasPrefix(l, " /usr/sbin/cron") && strings.ContainsRune(l, '▁'):
			cron = l
		}
	}
	if !strings.Contains(marks, "@") || !strings.Contains(marks, ":") {
		t.Errorf("anomalous buckets not marked: %q", marks)
	}
	if strings.Index(marks, "@") != strings.Index(caret, "^") || strings.Index(ssh, "█") != strings.Index(marks, "@") {
		t.Errorf("burst mark at %d, caret at %d, ssh peak at %d:\n%s\n%s\n%s", strings.Index(marks, "@"),
			strings.Index(caret, "^"), strings.Index(ssh, "█"), marks, caret, ssh)
	}
	if strings.ContainsAny(cron, "▂▃▄▅▆▇█") {
		t.Errorf("cron's steady 4 per bucket should stay low on the shared scale: %q", cron)
	}
	if !strings.HasSuffix(strings.TrimRight(ssh, " "), "205") {
		t.Errorf("ssh count at the selected bucket: %q", ssh)
	}
	// The burst is drawn at its height: its column's top is the highest
	// line of the executions.
	p, cells := m.plotOf(m.layout())
	k := m.layout().k
	top := -1
	for y := range p.cells {
		if p.layers[y][burstAt*k] == layerActual {
			top = y
			break
		}
	}
	want := len(p.cells) - 1 - int(math.Round(cells[burstAt*k].actual*float64(len(p.cells)-1)/chartTop(cells, len(p.cells))))
	if top != want {
		t.Errorf("burst drawn from row %d, want %d", top, want)
	}
}

// chartTop recomputes the plot's top as drawPlot chooses it.
func chartTop(cols []column, height int) float64 {
	peak := 1.0
	for _, c := range cols {
		peak = max(peak, c.actual, c.upper)
	}
	_, top := scale(peak, height-1)
	return top
}

// riseChart is a host running about twice its usual rate for a few hours,
// on a scale where the lines fall on different rows.
func riseChart() model.RateChart {
	c := burstChart()
	for i := range c.Points {
		p := &c.Points[i]
		p.Actual = p.Typical
		if i >= 30 && i < 40 {
			p.Actual = 2 * p.Typical
			p.Score = 40
		}
		c.Other[i] = int64(p.Actual) - 4
		c.Top[0].Counts[i], c.Top[1].Counts[i] = 0, 0
	}
	return c
}

func TestLinesStayApartWithoutColour(t *testing.T) {
	b := &viewtest.Backend{Rate: riseChart()}
	th := view.NewTheme(termenv.ANSI256, false) // NO_COLOR: attributes, no colours
	m := newRate(t, b, th, 120, 37)
	out := m.View()
	if regexp.MustCompile(`\x1b\[[0-9;]*(38|48);`).MatchString(out) {
		t.Error("NO_COLOR screen draws colours")
	}
	for _, r := range []string{"─", "╌", "░", "+"} {
		if !strings.Contains(out, r) {
			t.Errorf("NO_COLOR screen lacks %q (executions ─, expected ╌, band ░, anomaly +):\n%s", r, out)
		}
	}
}

func TestKeys(t *testing.T) {
	b := &viewtest.Backend{Rate: burstChart()}
	m := newRate(t, b, view.PlainTheme(), 120, 37)
	viewtest.Keys(t, m, b, "l")
	if m.cursorBucket != burstAt+1 {
		t.Errorf("l went to %d", m.cursorBucket)
	}
	viewtest.Keys(t, m, b, "$", "h")
	if m.cursorBucket != 94 {
		t.Errorf("$ h went to %d", m.cursorBucket)
	}
	viewtest.Keys(t, m, b, "H")
	if m.cursorBucket != 94-48 {
		t.Errorf("H went to %d", m.cursorBucket)
	}
	viewtest.Keys(t, m, b, "0")
	for i := 0; i < burstAt; i++ {
		viewtest.Keys(t, m, b, "l")
	}
	// j selects an executable; enter opens the explorer of it around the
	// selected bucket.
	viewtest.Keys(t, m, b, "j", "j", "k")
	if m.sel != 0 {
		t.Errorf("selected executable %d", m.sel)
	}
	_, msgs := viewtest.Keys(t, m, b, "enter")
	pushed := viewtest.Pushed(msgs)
	if len(pushed) != 1 {
		t.Fatalf("enter pushed %d", len(pushed))
	}
	ex := pushed[0].(*explorer.Model)
	ex.SetSize(100, 20)
	viewtest.Drive(t, ex, b, ex.Init())
	q := b.ProcessQs[len(b.ProcessQs)-1]
	at := start.Add(burstAt * 30 * time.Minute)
	if q.Executable != "/usr/bin/ssh" || !q.From.Equal(at.Add(-time.Hour)) || !q.To.Equal(at.Add(90*time.Minute)) {
		t.Errorf("explorer asked %+v", q)
	}
	// With no executable selected, p lists every process.
	_, msgs = viewtest.Keys(t, m, b, "k", "p")
	if pushed := viewtest.Pushed(msgs); len(pushed) != 1 {
		t.Errorf("p pushed %d", len(pushed))
	} else {
		ex := pushed[0].(*explorer.Model)
		ex.SetSize(100, 20)
		viewtest.Drive(t, ex, b, ex.Init())
		if q := b.ProcessQs[len(b.ProcessQs)-1]; q.Executable != "" {
			t.Errorf("p asked %+v", q)
		}
	}
	// Zooming reloads the window around the selected bucket.
	_, msgs = viewtest.Keys(t, m, b, "+")
	q2 := b.RateQs[len(b.RateQs)-1]
	if !q2.WindowFrom.Equal(at.Add(-12*time.Hour)) || !strings.Contains(fmt.Sprint(viewtest.Notices(msgs)), "window ±12h") {
		t.Errorf("zoom in asked %s–%s, %q", q2.WindowFrom, q2.WindowTo, viewtest.Notices(msgs))
	}
	viewtest.Keys(t, m, b, "-", "-", "-", "-", "-")
	q3 := b.RateQs[len(b.RateQs)-1]
	if !q3.WindowFrom.Equal(at.Add(-7 * 24 * time.Hour)) {
		t.Errorf("zoom out to the widest asked from %s", q3.WindowFrom)
	}
	// The explorer's selected time on the way back selects its bucket.
	m.ctx.Focus = at.Add(-3 * time.Hour)
	viewtest.Send(t, m, b, view.ResumeMsg{})
	if ft, _ := m.FocusTime(); !ft.Equal(at.Add(-3 * time.Hour)) {
		t.Errorf("focus after the way back %v", ft)
	}
}

func TestLoadFailure(t *testing.T) {
	b := &viewtest.Backend{Err: fmt.Errorf("no \x1b]0;model")}
	m := newRate(t, b, view.PlainTheme(), 80, 21)
	out := m.View()
	if !strings.Contains(out, "could not load the rate chart") || !strings.Contains(out, `no \x1b]0;model`) {
		t.Errorf("failure:\n%s", out)
	}
	viewtest.Keys(t, m, b, "l", "j", "enter", "+")
}

func TestViewFitsEverySize(t *testing.T) {
	charts := []model.RateChart{burstChart(), {Entity: "quiet", Axis: model.TimeAxis{Start: start, BucketSpan: time.Hour, Buckets: 3}, Focus: -1}, {}}
	for ci, c := range charts {
		b := &viewtest.Backend{Rate: c}
		for _, th := range []*view.Theme{view.PlainTheme(), view.NewTheme(termenv.TrueColor, true)} {
			for _, sz := range [][2]int{{80, 21}, {120, 37}, {50, 12}, {30, 5}, {250, 70}, {1, 1}} {
				m := newRate(t, b, th, sz[0], sz[1])
				out := m.View()
				lines := strings.Split(out, "\n")
				if len(lines) > sz[1] {
					t.Errorf("chart %d: %d lines for %v", ci, len(lines), sz)
				}
				for i, l := range lines {
					if view.Width(l) > sz[0] {
						t.Errorf("chart %d %v: line %d is %d wide: %q", ci, sz, i, view.Width(l), l)
					}
				}
			}
		}
	}
}

func TestHostileNamesAreDrawnHarmless(t *testing.T) {
	c := burstChart()
	c.Entity = "db\x1b[2J-02"
	c.Top[0].Executable = "/usr/bin/\x1b]0;x\x07ssh\u202e"
	c.Drivers[0].Executable = c.Top[0].Executable
	b := &viewtest.Backend{Rate: c}
	ctx := &view.Context{Theme: view.PlainTheme(), Location: time.UTC, Query: model.Query{BucketSpan: 30 * time.Minute}}
	a := burstAnomaly()
	a.Entity, a.Why = c.Entity, "burst of \x9b2J"
	m := New(ctx, a)
	m.SetSize(120, 37)
	viewtest.Drive(t, m, b, m.Init())
	if out := m.View(); viewtest.HasControl(out) || !strings.Contains(out, `\x1b]0;x\x07ssh\u202e`) {
		t.Errorf("hostile names:\n%q", out)
	}
}

func TestWindow(t *testing.T) {
	at := time.Date(2024, 3, 6, 12, 15, 0, 0, time.UTC)
	tests := []struct {
		half, span time.Duration
		from, to   string
	}{
		{24 * time.Hour, 15 * time.Minute, "03-05 12:00", "03-07 13:00"},
		{3 * time.Hour, 15 * time.Minute, "03-06 09:00", "03-06 16:00"},
		{24 * time.Hour, 2 * time.Hour, "03-05 12:00", "03-07 16:00"},
	}
	for _, tt := range tests {
		from, to := window(at, tt.half, tt.span)
		if got := from.Format("01-02 15:04") + " " + to.Format("01-02 15:04"); got != tt.from+" "+tt.to {
			t.Errorf("window(±%s, %s) = %s, want %s %s", tt.half, tt.span, got, tt.from, tt.to)
		}
	}
}

func TestScale(t *testing.T) {
	tests := []struct {
		peak   float64
		graphH int
		yStep  int
		top    float64
	}{
		{396, 14, 3, 100 * 14.0 / 3}, // labels 0, 100, ..., 400 every three rows
		{412, 5, 2, 500},
		{30, 8, 2, 40},
		{3, 2, 1, 4},
	}
	for _, tt := range tests {
		ys, top := scale(tt.peak, tt.graphH)
		if ys != tt.yStep || math.Abs(top-tt.top) > 1e-9 || top < tt.peak {
			t.Errorf("scale(%v, %d) = %d, %v; want %d, %v", tt.peak, tt.graphH, ys, top, tt.yStep, tt.top)
		}
	}
}

func TestMergeColumns(t *testing.T) {
	c := &model.RateChart{Points: []model.RatePoint{
		{Actual: 5, Typical: 4, Lower: 1, Upper: 8, Modelled: true},
		{Actual: 50, Typical: 6, Lower: 2, Upper: 10, Modelled: true, Score: 80},
		{Modelled: false},
		{Actual: 3, Typical: 3, Lower: 0, Upper: 6, Modelled: true},
		{Modelled: false},
	}, Other: []int64{5, 50, 7, 3, 0}}
	got := mergeColumns(c, 2)
	want := []column{
		{actual: 50, typical: 5, lower: 1, upper: 10, score: 80, modelled: true},
		{actual: 7, typical: 3, lower: 0, upper: 6, modelled: true},
		{actual: 0, lower: 0},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("mergeColumns:\n got %+v\nwant %+v", got, want)
	}
	if mergeColumns(c, 0) != nil {
		t.Error("zero buckets per column")
	}
}

func TestNumbers(t *testing.T) {
	for v, want := range map[float64]float64{0: 1, 0.5: 1, 1: 1, 3: 5, 7: 10, 12: 20, 21: 25, 260: 500, 1001: 2000} {
		if got := niceCeil(v); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", v, got, want)
		}
	}
	for v, want := range map[float64]string{0: "0", 7: "7", 2.5: "2.5", 950: "950", 1200: "1.2k", 1000: "1k", 35000: "35k", 2100000: "2.1M"} {
		if got := compact(v); got != want {
			t.Errorf("compact(%v) = %q, want %q", v, got, want)
		}
	}
	ratios := []struct {
		n     int64
		usual float64
		want  string
	}{{0, 3, "-"}, {5, 0, "new"}, {20, 2, "10x"}, {3, 2, "1.5x"}, {5000, 1, ">999x"}}
	for _, r := range ratios {
		if got := ratio(r.n, r.usual); got != r.want {
			t.Errorf("ratio(%d, %v) = %q, want %q", r.n, r.usual, got, r.want)
		}
	}
}

func TestStrip(t *testing.T) {
	tests := []struct {
		counts []int64
		z      int
		top    int64
		want   string
	}{
		{[]int64{0, 1, 4, 8}, 1, 8, " ▁▄█"},
		{[]int64{0, 1, 4, 8}, 2, 8, "▁█"},
		{[]int64{0, 0, 0}, 2, 8, "  "},
		{[]int64{1, 1}, 1, 1000, "▁▁"}, // any execution shows
		{[]int64{3}, 1, 0, " "},
	}
	for _, tt := range tests {
		if got := strip(tt.counts, tt.z, tt.top); got != tt.want {
			t.Errorf("strip(%v, %d, %d) = %q, want %q", tt.counts, tt.z, tt.top, got, tt.want)
		}
	}
}

func TestDrawPlotLayers(t *testing.T) {
	cols := make([]column, 30)
	for i := range cols {
		cols[i] = column{actual: 10, typical: 30, lower: 15, upper: 60, modelled: true}
	}
	cols[20].actual, cols[20].score = 100, 90
	p := drawPlot(cols, start, time.Hour, 10)
	if len(p.cells) != 10 || len(p.cells[0]) != 30 || p.labelW != 3 {
		t.Fatalf("plot %dx%d, labels %d", len(p.cells), len(p.cells[0]), p.labelW)
	}
	count := map[layer]int{}
	for y := range p.cells {
		for x := range p.cells[y] {
			count[p.layers[y][x]]++
		}
	}
	if count[layerActual] < 30 || count[layerTypical] < 20 || count[layerBand] < 20 {
		t.Errorf("layers drawn: %v", count)
	}
	// The expectation runs below the band's top and above its bottom.
	lines := plotLines(p, cols, view.PlainTheme())
	if !strings.Contains(strings.Join(lines, "\n"), "╌") || !strings.HasPrefix(lines[1], "100│") {
		t.Errorf("plot:\n%s", strings.Join(lines, "\n"))
	}
	if got := drawPlot(nil, start, time.Hour, 10); got.cells != nil {
		t.Error("a plot of nothing")
	}
}
