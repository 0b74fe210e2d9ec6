package swimlane

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	"github.com/muesli/termenv"
)

var nov1 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func TestZoomLadder(t *testing.T) {
	tests := []struct {
		span time.Duration
		want []int
	}{
		{15 * time.Minute, []int{1, 2, 4, 8, 12, 16, 24, 48, 96, 192, 288, 672, 1344, 2688}},
		{time.Hour, []int{1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336, 672}},
		{7 * time.Minute, []int{1, 1440, 2880, 5760}}, // only weeks are multiples of 7 minutes
		{0, []int{1}},
	}
	for _, tt := range tests {
		if got := zoomLadder(tt.span); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("zoomLadder(%s) = %v, want %v", tt.span, got, tt.want)
		}
	}
}

func TestFitZoom(t *testing.T) {
	ladder := zoomLadder(15 * time.Minute)
	tests := []struct {
		name           string
		buckets, width int
		wantZ          int
	}{
		{"fits unzoomed", 48, 60, 1},
		{"thirty days at 80 columns", 2880, 68, 48},
		{"thirty days wide", 2880, 228, 16},
		{"exact fit", 96, 48, 2},
		{"never fits: widest rung", 100000, 10, 2688},
	}
	for _, tt := range tests {
		if got := ladder[fitZoom(ladder, tt.buckets, tt.width)]; got != tt.wantZ {
			t.Errorf("%s: z = %d, want %d", tt.name, got, tt.wantZ)
		}
	}
}

func TestMergeCell(t *testing.T) {
	scores := []float64{0, 2, 10, 30, 60, 90, 5}
	esc := model.Of(model.StateEscalated)
	ack := model.Of(model.StateAcknowledged)
	states := []model.StateSet{0, ack, 0, esc, 0, ack, 0}
	tests := []struct {
		name string
		c, z int
		f    stateFilter
		want cell
	}{
		{"one bucket", 3, 1, stateFilter{}, cell{30, esc}},
		{"merged max and union", 1, 2, stateFilter{}, cell{30, esc}},
		{"partial last column", 2, 3, stateFilter{}, cell{5, 0}},
		{"state filter keeps matching buckets", 0, 7, stateFilter{on: true, state: model.StateAcknowledged}, cell{90, ack}},
		{"state filter with no match", 0, 1, stateFilter{on: true, state: model.StateEscalated}, cell{}},
	}
	for _, tt := range tests {
		if got := mergeCell(scores, states, tt.c, tt.z, tt.f); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if got := mergeCell(scores, nil, 0, 7, stateFilter{}); got.score != 90 || got.states != 0 {
		t.Errorf("lane without states: %+v", got)
	}
}

func TestLookOf(t *testing.T) {
	tests := []struct {
		name string
		c    cell
		want byte
	}{
		{"nothing", cell{}, ' '},
		{"low", cell{score: 1}, '.'},
		{"warning", cell{score: 3}, ':'},
		{"minor", cell{score: 25}, '+'},
		{"major", cell{score: 50}, '#'},
		{"critical", cell{score: 99}, '@'},
		{"untriaged keeps severity", cell{score: 99, states: model.Of(model.StateNew)}, '@'},
		{"escalated", cell{score: 40, states: model.Of(model.StateNew, model.StateEscalated)}, '!'},
		{"all put aside", cell{score: 40, states: model.Of(model.StateAcknowledged, model.StateFalsePositive)}, '-'},
		{"some still new", cell{score: 40, states: model.Of(model.StateAcknowledged, model.StateNew)}, '+'},
	}
	for _, tt := range tests {
		if got := lookOf(tt.c).glyph; got != tt.want {
			t.Errorf("%s: glyph %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDrawLane(t *testing.T) {
	scores := []float64{0, 2, 10, 30, 60, 90}
	plain := view.PlainTheme()
	tests := []struct {
		name                string
		z, first, n, cursor int
		want                string
	}{
		{"every severity", 1, 0, 6, -1, " .:+#@"},
		{"merged by two", 2, 0, 3, -1, ".+@"},
		{"scrolled", 1, 4, 2, 5, "#@"},
		{"cut at the end", 1, 3, 10, -1, "+#@"},
	}
	for _, tt := range tests {
		var b strings.Builder
		drawLane(&b, plain, scores, nil, tt.z, tt.first, tt.n, tt.cursor, stateFilter{})
		if b.String() != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, b.String(), tt.want)
		}
	}

	// In colour, a run of equal cells shares one pair of sequences, and the
	// cursor cell is its own run in reverse video.
	th := view.NewTheme(termenv.TrueColor, true)
	var b strings.Builder
	drawLane(&b, th, []float64{90, 90, 90, 0, 0, 90}, nil, 1, 0, 6, 5, stateFilter{})
	crit := th.Cell(view.CellPlain, model.SeverityCritical, false)
	cur := th.Cell(view.CellPlain, model.SeverityCritical, true)
	want := crit.Apply("@@@") + "  " + cur.Apply("@")
	if b.String() != want {
		t.Errorf("colour lane = %q, want %q", b.String(), want)
	}
}

func TestAxisLines(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	tests := []struct {
		name      string
		start     time.Time
		colSpan   time.Duration
		first, n  int
		loc       *time.Location
		spansDays bool
		want      []string
	}{
		{"hours over two days", nov1, time.Hour, 0, 48, time.UTC, true, []string{
			"Nov 01                  Nov 02",
			"00:00 06:00 12:00 18:00 00:00 06:00 12:00 18:00",
		}},
		{"quarter hours within a day", nov1.Add(14 * time.Hour), 15 * time.Minute, 0, 20, time.UTC, false, []string{
			"14:00   16:00",
		}},
		{"scrolled: the left edge is dated", nov1, time.Hour, 30, 20, time.UTC, true, []string{
			"Nov 02",
			"06:00 12:00 18:00",
		}},
		{"day columns", nov1, 24 * time.Hour, 0, 10, time.UTC, true, []string{
			"Nov 01",
		}},
		{"zone off the hour labels the column holding the tick", nov1, time.Hour, 0, 14, kolkata, false, []string{
			"06:00 12:00",
		}},
		{"a label that would pass the edge is left out", nov1, time.Hour, 0, 10, time.UTC, true, []string{
			"Nov 01",
			"00:00",
		}},
	}
	for _, tt := range tests {
		got := axisLines(tt.start, tt.colSpan, tt.first, tt.n, tt.loc, tt.spansDays)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
		for _, l := range got {
			if len(l) > tt.n {
				t.Errorf("%s: line %q longer than %d columns", tt.name, l, tt.n)
			}
		}
	}
}

func TestSpansDays(t *testing.T) {
	tests := []struct {
		ax   model.TimeAxis
		want bool
	}{
		{model.TimeAxis{Start: nov1, BucketSpan: time.Hour, Buckets: 24}, false},
		{model.TimeAxis{Start: nov1, BucketSpan: time.Hour, Buckets: 25}, true},
		{model.TimeAxis{Start: nov1.Add(20 * time.Hour), BucketSpan: time.Hour, Buckets: 6}, true},
		{model.TimeAxis{Start: nov1, BucketSpan: time.Hour}, false},
	}
	for _, tt := range tests {
		if got := spansDays(tt.ax, time.UTC); got != tt.want {
			t.Errorf("spansDays(%v +%d) = %v", tt.ax.Start, tt.ax.Buckets, got)
		}
	}
}

func TestSpanText(t *testing.T) {
	tests := []struct {
		from, to time.Time
		want     string
	}{
		{nov1.Add(14 * time.Hour), nov1.Add(14*time.Hour + 15*time.Minute), "Nov 01 14:00–14:15"},
		{nov1.Add(23 * time.Hour), nov1.Add(24 * time.Hour), "Nov 01 23:00–00:00"},
		{nov1, nov1.Add(24 * time.Hour), "Nov 01"},
		{nov1, nov1.Add(72 * time.Hour), "Nov 01–Nov 03"},
		{nov1.Add(12 * time.Hour), nov1.Add(36 * time.Hour), "Nov 01 12:00–Nov 02 12:00"},
	}
	for _, tt := range tests {
		if got := spanText(tt.from, tt.to, time.UTC); got != tt.want {
			t.Errorf("spanText = %q, want %q", got, tt.want)
		}
	}
}

func TestLayoutColumns(t *testing.T) {
	ids := func(cols []column) []columnID {
		var out []columnID
		for _, c := range cols {
			out = append(out, c.id)
		}
		return out
	}
	tests := []struct {
		name  string
		rare  bool
		width int
		want  []columnID
	}{
		{"80 columns, rare", true, 79, []columnID{colState, colTime, colSeverity, colFoundFor, colInfluencers, colActual, colTypical}},
		{"narrow keeps time and severity", true, 30, []columnID{colState, colTime, colSeverity}},
		{"wide rare has no description", true, 200, []columnID{colState, colTime, colSeverity, colDetector, colFoundFor, colInfluencers, colActual, colTypical}},
		{"wide rate has a description", false, 200, []columnID{colState, colTime, colSeverity, colDetector, colFoundFor, colInfluencers, colActual, colTypical, colDescription}},
	}
	for _, tt := range tests {
		if got := ids(layoutColumns(tableColumns(tt.rare), tt.width)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	for w := 0; w <= 250; w++ {
		for _, rare := range []bool{true, false} {
			cols := layoutColumns(tableColumns(rare), w)
			used := 0
			for i, c := range cols {
				if i > 0 {
					used++
				}
				used += c.min
			}
			if used > w {
				t.Fatalf("width %d: columns take %d", w, used)
			}
		}
	}
}

func TestDrawRow(t *testing.T) {
	a := model.Anomaly{
		ID: "a", Time: nov1.Add(14 * time.Hour), Function: "high_count", Score: 60, Entity: "web-02",
		Influencers: []model.Influencer{{Field: "host.name", Values: []string{"web-02"}}, {Field: "process.executable", Values: []string{"/usr/bin/ssh", "/usr/bin/scp"}}},
		Actual:      []float64{412}, Typical: []float64{80.4},
		Triage: model.Triage{State: model.StateEscalated, Note: "copy burst"},
	}
	cols := layoutColumns(tableColumns(false), 159)
	plain := view.PlainTheme()
	got := drawRow(&a, cols, plain, time.UTC, true, true)
	for _, want := range []string{">esc* ", "Nov 01 14:00", "# 60", "web-02", "/usr/bin/ssh, /usr/bin/scp", "412", "80.4", "5x higher"} {
		if !strings.Contains(got, want) {
			t.Errorf("row %q lacks %q", got, want)
		}
	}
	if strings.Count(got, "web-02") != 1 {
		t.Errorf("the entity it was found for is repeated among its influencers: %q", got)
	}
	if view.Width(got) > 160 {
		t.Errorf("row is %d wide", view.Width(got))
	}
	evil := model.Anomaly{Function: "rare", Executable: "\x1b]0;pwned\x07", Influencers: []model.Influencer{{Field: "user.name", Values: []string{"\x1b[2J"}}}}
	if row := drawRow(&evil, cols, plain, time.UTC, false, false); strings.Contains(row, "\x1b") {
		t.Errorf("row carries an escape from the data: %q", row)
	}
}

func TestSortAnomalies(t *testing.T) {
	rows := []model.Anomaly{
		{ID: "c", Score: 10, Time: nov1},
		{ID: "b", Score: 90, Time: nov1.Add(time.Hour)},
		{ID: "a", Score: 90, Time: nov1},
		{ID: "d", Score: 10, Time: nov1, Entity: "a"},
	}
	sortAnomalies(rows)
	var got []string
	for _, r := range rows {
		got = append(got, r.ID)
	}
	if want := []string{"a", "b", "c", "d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
