package ratechart

import (
	"fmt"
	"testing"
	"time"

	"github.com/NimbleMarkets/ntcharts/canvas"
	tslc "github.com/NimbleMarkets/ntcharts/linechart/timeserieslinechart"
	"github.com/NimbleMarkets/ntcharts/linechart"
)

func TestScratch(t *testing.T) {
	start := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	span := 15 * time.Minute
	n := 20
	yf := func(i int, v float64) string { return fmt.Sprintf("%.0f", v) }
	lw := 3
	w := lw + 2 + n
	h := 8
	m := tslc.New(w, h, tslc.WithXYSteps(0, 2), tslc.WithYLabelFormatter(yf))
	m.AutoMinX, m.AutoMaxX, m.AutoMinY, m.AutoMaxY = false, false, false, false
	m.SetTimeRange(start.Add(-span), start.Add(time.Duration(n)*span))
	m.SetViewTimeRange(start.Add(-span), start.Add(time.Duration(n)*span))
	m.SetYRange(0, 100)
	m.SetViewYRange(0, 100)
	for i := 0; i < n; i++ {
		v := 10.0
		if i == 5 {
			v = 100
		}
		m.PushDataSet("a", tslc.TimePoint{Time: start.Add(time.Duration(i) * span), Value: v})
	}
	m.DrawDataSets([]string{"a"})
	fmt.Println(m.Origin(), m.GraphWidth(), m.GraphHeight())
	for y := 0; y < h; y++ {
		s := ""
		for x := 0; x < w; x++ {
			r := m.Canvas.Cell(canvas.Point{X: x, Y: y}).Rune
			if r == 0 {
				r = ' '
			}
			s += string(r)
		}
		fmt.Printf("%q\n", s)
	}
	_ = linechart.DefaultLabelFormatter
}
