package swimlane

import (
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/view"
	"github.com/muesli/termenv"
)

// BenchmarkSwimlaneFrame measures one key press to a new frame (Update, then
// View) on a fleet of 1,000 hosts over 30 days of 15-minute buckets (2,880
// buckets per lane), in truecolor. A frame must stay far below 16 ms of CPU;
// cpu-ns/frame is the process's CPU time per frame (garbage collection
// included), which a busy machine does not inflate the way it does ns/op.
//
//	go test ./views/swimlane -run '^$' -bench SwimlaneFrame -benchmem
func BenchmarkSwimlaneFrame(b *testing.B) {
	s := fleet(1000, 30*96, 15*time.Minute, 7)
	cases := []struct {
		name  string
		w, h  int
		keys  [2]string // pressed in turn, so the cursor never sticks at an edge
		zoom1 bool      // one bucket per column, scrolling sideways
	}{
		{"80x24/next-bucket", 80, 21, [2]string{"l", "h"}, false},
		{"80x24/next-lane", 80, 21, [2]string{"j", "k"}, false},
		{"200x60/next-bucket", 200, 57, [2]string{"l", "h"}, false},
		{"200x60/next-lane", 200, 57, [2]string{"j", "k"}, false},
		{"200x60/unzoomed-next-bucket", 200, 57, [2]string{"l", "h"}, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			m := loaded(b, c.w, c.h, s)
			m.ctx.Theme = view.NewTheme(termenv.TrueColor, true)
			press(m, "j", "j", "j", "tab", "tab")
			if c.zoom1 {
				for i := 0; i < 20; i++ {
					press(m, "+")
				}
			}
			msgs := [2]any{keyMsg(c.keys[0]), keyMsg(c.keys[1])}
			frame := 0
			b.ReportAllocs()
			cpu := processCPU()
			for i := 0; b.Loop(); i++ {
				m.Update(msgs[i%2])
				frame += len(m.View())
			}
			if cpu > 0 {
				b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/frame")
			}
			b.ReportMetric(float64(frame)/float64(b.N), "bytes/frame")
		})
	}
}
