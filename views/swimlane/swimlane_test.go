package swimlane

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	tea "github.com/charmbracelet/bubbletea"
)

func testCtx() *view.Context {
	return &view.Context{
		Theme: view.PlainTheme(), Location: time.UTC, Jobs: model.DefaultJobs(),
		Query: model.Query{Job: "host_rare_process", Scope: model.ScopeHost, BucketSpan: time.Hour},
		Now:   func() time.Time { return nov1 },
	}
}

// lanes builds a swimlane of hour buckets from a map of entity -> bucket ->
// score; the overall lane is the bucket's highest score.
func lanes(buckets int, scores map[string]map[int]float64) model.Swimlane {
	s := model.Swimlane{Job: "host_rare_process", Scope: model.ScopeHost,
		Axis: model.TimeAxis{Start: nov1, BucketSpan: time.Hour, Buckets: buckets}, Overall: make([]float64, buckets)}
	for name, byBucket := range scores {
		l := model.Lane{Entity: name, Scope: model.ScopeHost, Scores: make([]float64, buckets)}
		for b, v := range byBucket {
			l.Scores[b] = v
			s.Overall[b] = max(s.Overall[b], v)
		}
		s.Lanes = append(s.Lanes, l)
	}
	return s
}

func loaded(t testing.TB, w, h int, s model.Swimlane) *Model {
	t.Helper()
	m := New(testCtx())
	m.SetSize(w, h)
	if m.Init() == nil {
		t.Fatal("Init asked for nothing")
	}
	m.Update(loadedMsg{query: m.ctx.Query, data: s})
	if m.data == nil {
		t.Fatalf("swimlane not taken: %v", m.loadErr)
	}
	return m
}

func keyMsg(s string) tea.KeyMsg {
	types := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "tab": tea.KeyTab, "esc": tea.KeyEsc, "ctrl+d": tea.KeyCtrlD, "ctrl+u": tea.KeyCtrlU,
		"left": tea.KeyLeft, "right": tea.KeyRight, "up": tea.KeyUp, "down": tea.KeyDown, "shift+right": tea.KeyShiftRight,
	}
	if t, ok := types[s]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func press(m *Model, keys ...string) tea.Cmd {
	var cmds []tea.Cmd
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// messages runs a command and collects what it produces, batches opened.
func messages(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, messages(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

func shownNames(m *Model) []string {
	var out []string
	for _, i := range m.shown {
		out = append(out, m.data.Lanes[i].Entity)
	}
	return out
}

func TestCursorStartsOnHottestBucket(t *testing.T) {
	m := loaded(t, 80, 20, lanes(48, map[string]map[int]float64{"a": {3: 40}, "b": {30: 95, 31: 95}}))
	if m.cursorBucket != 30 || m.row != 0 {
		t.Errorf("cursor at bucket %d row %d, want the first hottest bucket 30 on the overall lane", m.cursorBucket, m.row)
	}
}

func TestLanesSortBySelectedTime(t *testing.T) {
	m := loaded(t, 80, 20, lanes(12, map[string]map[int]float64{
		"alpha": {2: 90},
		"bravo": {5: 50, 9: 95},
		"charl": {5: 70},
		"delta": {},
	}))
	if got := strings.Join(shownNames(m), " "); got != "bravo alpha charl delta" {
		t.Fatalf("at the hottest bucket: %s", got)
	}
	press(m, "j", "j") // onto alpha, second lane
	if m.rowEntity() != "alpha" {
		t.Fatalf("cursor on %q", m.rowEntity())
	}
	press(m, "h", "h", "h", "h") // bucket 5
	if got := strings.Join(shownNames(m), " "); got != "charl bravo alpha delta" {
		t.Errorf("at bucket 5: %s", got)
	}
	if m.rowEntity() != "alpha" || m.row != 3 {
		t.Errorf("the cursor left its lane on re-sort: on %q row %d", m.rowEntity(), m.row)
	}
	press(m, "o") // by max score
	if got := strings.Join(shownNames(m), " "); got != "bravo alpha charl delta" {
		t.Errorf("by max: %s", got)
	}
	press(m, "o") // by name
	if got := strings.Join(shownNames(m), " "); got != "alpha bravo charl delta" {
		t.Errorf("by name: %s", got)
	}
}

func TestMotionKeys(t *testing.T) {
	scores := map[string]map[int]float64{}
	for i := 0; i < 40; i++ {
		scores[fmt.Sprintf("host-%02d", i)] = map[int]float64{i % 24: float64(i + 1)}
	}
	m := loaded(t, 100, 20, lanes(72, scores))
	tests := []struct {
		keys      []string
		row, buck int
	}{
		{[]string{"j"}, 1, 63},
		{[]string{"G"}, 40, 63},
		{[]string{"g"}, 0, 63},
		{[]string{"ctrl+d"}, max(1, m.layout().laneRows/2), 63},
		{[]string{"k", "k", "k", "k", "k", "k"}, 0, 63},
		{[]string{"0"}, 0, 0},
		{[]string{"L"}, 0, 24},
		{[]string{"shift+right"}, 0, 48},
		{[]string{"$"}, 0, 71},
		{[]string{"right"}, 0, 71},
	}
	m.cursorBucket = 63
	for _, tt := range tests {
		press(m, tt.keys...)
		if m.row != tt.row || m.cursorBucket != tt.buck {
			t.Errorf("after %v: row %d bucket %d, want row %d bucket %d", tt.keys, m.row, m.cursorBucket, tt.row, tt.buck)
		}
	}
}

func TestZoomKeepsTheSelectedBucket(t *testing.T) {
	s := lanes(2880, map[string]map[int]float64{"a": {1000: 80}})
	s.Axis.BucketSpan = 15 * time.Minute
	m := loaded(t, 80, 20, s)
	if m.z() != 48 || !m.fitted {
		t.Fatalf("fitted zoom z=%d, want 48 buckets (12h) per column at 80 columns", m.z())
	}
	if m.cursorBucket != 1000 {
		t.Fatalf("cursor at %d", m.cursorBucket)
	}
	for i := 0; i < 20; i++ {
		press(m, "+")
	}
	if m.z() != 1 || m.cursorBucket != 1000 || m.fitted {
		t.Errorf("zoomed in: z=%d bucket %d", m.z(), m.cursorBucket)
	}
	if c := m.cursorCol(); c < m.leftCol || c >= m.leftCol+m.layout().gridW {
		t.Errorf("cursor column %d out of view [%d,+%d)", c, m.leftCol, m.layout().gridW)
	}
	press(m, "-", "-")
	if m.z() != 4 || m.cursorBucket != 1000 {
		t.Errorf("zoomed out twice: z=%d bucket %d", m.z(), m.cursorBucket)
	}
	// A resize no longer refits once the analyst has zoomed.
	m.SetSize(200, 20)
	if m.z() != 4 {
		t.Errorf("resize changed a chosen zoom to z=%d", m.z())
	}
}

func TestResizeRefitsZoom(t *testing.T) {
	s := lanes(2880, map[string]map[int]float64{"a": {1000: 80}})
	s.Axis.BucketSpan = 15 * time.Minute
	m := loaded(t, 80, 20, s)
	m.SetSize(240, 20)
	if m.z() != 16 {
		t.Errorf("z=%d after widening, want 16", m.z())
	}
}

func TestStateFilter(t *testing.T) {
	s := lanes(24, map[string]map[int]float64{"esc-host": {3: 40}, "new-host": {4: 60}, "quiet": {}})
	for i := range s.Lanes {
		l := &s.Lanes[i]
		switch l.Entity {
		case "esc-host":
			l.States = make([]model.StateSet, 24)
			l.States[3] = model.Of(model.StateEscalated)
		case "new-host":
			l.States = make([]model.StateSet, 24)
			l.States[4] = model.Of(model.StateNew)
		}
	}
	m := loaded(t, 80, 20, s)
	m.Update(view.CommandMsg{Name: "state", Args: []string{"escalated"}})
	if got := strings.Join(shownNames(m), " "); got != "esc-host" {
		t.Errorf("escalated lanes: %q", got)
	}
	if !strings.Contains(m.View(), "!") {
		t.Error("the escalated cell has no ! mark")
	}
	press(m, "s") // escalated -> all
	if len(m.shown) != 3 {
		t.Errorf("all states shows %d lanes", len(m.shown))
	}
	press(m, "s") // new
	if got := strings.Join(shownNames(m), " "); got != "new-host" {
		t.Errorf("new lanes: %q", got)
	}
}

func TestLaneFilter(t *testing.T) {
	m := loaded(t, 80, 20, lanes(24, map[string]map[int]float64{"web-01": {1: 5}, "web-02": {2: 50}, "db-01": {3: 90}}))
	press(m, "j") // db-01
	m.Update(view.FilterMsg{Text: "web", Pattern: regexp.MustCompile("web")})
	if got := strings.Join(shownNames(m), " "); got != "web-02 web-01" {
		t.Errorf("filtered lanes %q", got)
	}
	if m.rowEntity() != "web-02" {
		t.Errorf("cursor on %q, want the first match", m.rowEntity())
	}
	if m.Filter() != "web" {
		t.Errorf("Filter() = %q", m.Filter())
	}
	m.Update(view.StepMatchMsg{})
	m.Update(view.StepMatchMsg{})
	if m.row != 0 {
		t.Errorf("n wrapped to row %d, want 0 (overall)", m.row)
	}
	m.Update(view.StepMatchMsg{Backward: true})
	if m.rowEntity() != "web-01" {
		t.Errorf("N went to %q", m.rowEntity())
	}
	m.Update(view.FilterMsg{})
	if len(m.shown) != 3 || m.Filter() != "" {
		t.Errorf("clearing left %d lanes, filter %q", len(m.shown), m.Filter())
	}
}

func TestStaleAnswersAreIgnored(t *testing.T) {
	m := loaded(t, 80, 20, lanes(24, map[string]map[int]float64{"a": {3: 40}}))
	other := m.ctx.Query
	other.Job = "host_high_process_rate"
	m.Update(loadedMsg{query: other, data: lanes(24, map[string]map[int]float64{"zzz": {1: 1}})})
	if m.data.Lanes[0].Entity != "a" {
		t.Error("a swimlane for another query replaced the current one")
	}
	stale := m.selection()
	stale.from = stale.from.Add(-time.Hour)
	m.Update(anomaliesMsg{sel: stale, rows: []model.Anomaly{{ID: "old"}}})
	if len(m.rows) != 0 {
		t.Error("anomalies of an old selection landed in the table")
	}
	m.Update(anomaliesMsg{sel: m.selection(), rows: []model.Anomaly{{ID: "now", Score: 40}}})
	if len(m.rows) != 1 {
		t.Error("anomalies of the current selection were dropped")
	}
}

func TestTriageUpdatesTableAndMarks(t *testing.T) {
	m := loaded(t, 80, 20, lanes(24, map[string]map[int]float64{"web-07": {3: 80}}))
	press(m, "j")
	row := model.Anomaly{ID: "r1", Time: nov1.Add(3 * time.Hour), Function: "rare", Score: 80, Scope: model.ScopeHost, Entity: "web-07", Executable: "/usr/bin/nc"}
	m.Update(anomaliesMsg{sel: m.selection(), rows: []model.Anomaly{row}})
	msgs := messages(press(m, "e"))
	if len(msgs) != 1 {
		t.Fatalf("escalate produced %v", msgs)
	}
	f, ok := msgs[0].(view.FetchMsg)
	if !ok || f.Key != "triage r1" || !f.Quiet {
		t.Fatalf("escalate asked for %#v", msgs[0])
	}
	m.Update(triagedMsg{id: "r1", triage: model.Triage{State: model.StateEscalated}})
	if m.rows[0].Triage.State != model.StateEscalated {
		t.Error("table row not updated")
	}
	if !m.data.Lanes[0].States[3].Has(model.StateEscalated) || !m.laneStates[0].Has(model.StateEscalated) {
		t.Error("swimlane marks not updated")
	}
	if !strings.Contains(m.View(), "!") || !strings.Contains(m.View(), "esc") {
		t.Errorf("escalation not shown:\n%s", m.View())
	}
	m.Update(triagedMsg{id: "r1", triage: model.Triage{State: model.StateFalsePositive}})
	if got := lookOf(mergeCell(m.data.Lanes[0].Scores, m.data.Lanes[0].States, 3, 1, stateFilter{})).glyph; got != '-' {
		t.Errorf("false positive cell glyph %q, want -", got)
	}
}

func TestNote(t *testing.T) {
	m := loaded(t, 80, 20, lanes(24, map[string]map[int]float64{"web-07": {3: 80}}))
	m.Update(anomaliesMsg{sel: m.selection(), rows: []model.Anomaly{{ID: "r1", Time: nov1.Add(3 * time.Hour), Score: 80, Entity: "web-07"}}})
	press(m, "i")
	if !m.Capturing() {
		t.Fatal("note input not capturing keys")
	}
	press(m, "q", "u", "i", "e", "t")
	if !strings.Contains(m.View(), "note: quiet") {
		t.Errorf("note input not drawn:\n%s", m.View())
	}
	msgs := messages(press(m, "enter"))
	if m.Capturing() || len(msgs) != 1 {
		t.Fatalf("enter left capturing=%v, msgs %v", m.Capturing(), msgs)
	}
	if f, ok := msgs[0].(view.FetchMsg); !ok || f.Key != "triage r1" {
		t.Errorf("enter asked for %#v", msgs[0])
	}
	press(m, "i", "x", "esc")
	if m.Capturing() {
		t.Error("esc did not cancel the note")
	}
}

func TestEnterDrillsDown(t *testing.T) {
	m := loaded(t, 80, 20, lanes(24, map[string]map[int]float64{"web-07": {3: 80}}))
	a := model.Anomaly{ID: "r1", Time: nov1.Add(3 * time.Hour), Score: 80, Entity: "web-07"}
	m.Update(anomaliesMsg{sel: m.selection(), rows: []model.Anomaly{a}})
	if msgs := messages(press(m, "enter")); len(msgs) != 0 || m.focus != tablePane {
		t.Fatalf("enter on the lanes: focus %v, msgs %v", m.focus, msgs)
	}
	msgs := messages(press(m, "enter"))
	if len(msgs) != 1 {
		t.Fatalf("enter on the table: %v", msgs)
	}
	if open, ok := msgs[0].(view.OpenAnomalyMsg); !ok || open.Anomaly.ID != "r1" {
		t.Errorf("enter emitted %#v", msgs[0])
	}
	press(m, "tab")
	if m.focus != lanesPane {
		t.Error("tab did not switch panes")
	}
}

func TestGoToEntity(t *testing.T) {
	m := loaded(t, 80, 20, lanes(24, map[string]map[int]float64{"web-01": {1: 5}, "web-02": {2: 50}}))
	m.Update(view.CommandMsg{Name: "host", Args: []string{"web-01"}})
	if m.rowEntity() != "web-01" {
		t.Errorf("cursor on %q", m.rowEntity())
	}
	_, cmd := m.Update(view.CommandMsg{Name: "container", Args: []string{"api-1"}})
	msgs := messages(cmd)
	if len(msgs) != 1 {
		t.Fatalf(":container produced %v", msgs)
	}
	set, ok := msgs[0].(view.SetQueryMsg)
	if !ok || set.Query.Job != "docker_rare_process" || set.Query.Scope != model.ScopeContainer {
		t.Fatalf(":container asked for %#v", msgs[0])
	}
	if m.pending != "api-1" {
		t.Errorf("pending entity %q", m.pending)
	}
	if got := m.Commands()[0].Complete("web-0"); strings.Join(got, " ") != "web-01 web-02" {
		t.Errorf("completion %v", got)
	}
}

func TestRaggedSwimlaneIsNormalized(t *testing.T) {
	s := model.Swimlane{Scope: model.ScopeHost, Axis: model.TimeAxis{Start: nov1, BucketSpan: time.Hour, Buckets: 10},
		Overall: []float64{1, 2},
		Lanes: []model.Lane{
			{Entity: "short", Scores: []float64{50}, States: []model.StateSet{model.Of(model.StateEscalated)}},
			{Entity: "long", Scores: make([]float64, 30)},
		}}
	m := loaded(t, 80, 20, s)
	press(m, "$", "G", "0")
	if len(m.data.Lanes[0].Scores) != 10 || len(m.data.Lanes[0].States) != 10 || len(m.data.Lanes[1].Scores) != 10 {
		t.Error("lanes not cut or padded to the axis")
	}
	if m.View() == "" {
		t.Error("nothing drawn")
	}
	bad := New(testCtx())
	bad.SetSize(80, 20)
	bad.Init()
	bad.Update(loadedMsg{query: bad.ctx.Query, data: model.Swimlane{Axis: model.TimeAxis{Start: nov1, Buckets: 5}}})
	if bad.loadErr == nil || !strings.Contains(bad.View(), "Could not load") {
		t.Errorf("an axis without a span was accepted: %v", bad.loadErr)
	}
}

func TestViewFitsEverySize(t *testing.T) {
	s := fleet(60, 500, 15*time.Minute, 1)
	for w := 1; w <= 170; w += 13 {
		for h := 1; h <= 50; h += 7 {
			m := loaded(t, w, h, s)
			m.Update(anomaliesMsg{sel: m.selection(), rows: sampleRows(m, 30)})
			press(m, "j", "l", "tab", "j")
			frame := m.View()
			lines := strings.Split(frame, "\n")
			if len(lines) > h {
				t.Errorf("%dx%d: %d lines", w, h, len(lines))
			}
			for i, l := range lines {
				if view.Width(l) > w {
					t.Errorf("%dx%d: line %d is %d wide", w, h, i, view.Width(l))
				}
			}
		}
	}
}

// TestNoEscapeFromData proves that hostile names in the data reach the
// screen made visible and harmless: with the plain theme the screen draws no
// escape sequences of its own, so any ESC in the frame would come from data.
func TestNoEscapeFromData(t *testing.T) {
	hostile := []string{"\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "\u009b31m", "evil\u202egnp", "a\nb"}
	s := lanes(24, map[string]map[int]float64{})
	for i, h := range hostile {
		s.Lanes = append(s.Lanes, model.Lane{Entity: h, Scope: model.ScopeHost, Scores: make([]float64, 24)})
		s.Lanes[i].Scores[i] = 90
	}
	for _, w := range []int{80, 130} {
		m := loaded(t, w, 30, s)
		var rows []model.Anomaly
		for i, h := range hostile {
			rows = append(rows, model.Anomaly{
				ID: fmt.Sprint(i), Time: nov1, Score: 50, Function: "rare", Entity: h, Executable: h, Detector: h, Why: h,
				Influencers: []model.Influencer{{Field: h, Values: []string{h}}}, Triage: model.Triage{Note: h},
			})
		}
		m.Update(anomaliesMsg{sel: m.selection(), rows: rows})
		m.Update(view.FilterMsg{Text: "\x1b", Pattern: regexp.MustCompile("pwned|2J|31m|evil|a")})
		frame := m.View()
		if strings.ContainsAny(frame, "\x1b\x07\u009b\u202e") {
			t.Fatalf("%d wide: a control character from the data reached the screen:\n%q", w, frame)
		}
		if !strings.Contains(frame, `\x1b]0;pwned\x07`) {
			t.Errorf("%d wide: the hostile name is not shown escaped:\n%s", w, frame)
		}
		if yank, _, ok := m.Yank(); !ok || strings.ContainsAny(yank, "\x1b\x07\u009b\u202e") {
			t.Errorf("yanked JSON carries a raw control character: %q", yank)
		}
	}
}

// fleet builds n lanes of buckets, each with a few anomalies at random
// buckets, seeded so benchmarks and tests see the same data.
func fleet(n, buckets int, span time.Duration, seed uint64) model.Swimlane {
	r := rand.New(rand.NewPCG(seed, seed))
	s := model.Swimlane{Job: "host_rare_process", Scope: model.ScopeHost,
		Axis: model.TimeAxis{Start: nov1, BucketSpan: span, Buckets: buckets}, Overall: make([]float64, buckets)}
	s.Lanes = make([]model.Lane, n)
	for i := range s.Lanes {
		l := &s.Lanes[i]
		l.Entity = fmt.Sprintf("host-%04d.prod", i)
		l.Scope = model.ScopeHost
		l.Scores = make([]float64, buckets)
		for k := 0; k < 20; k++ {
			b := r.IntN(buckets)
			v := r.Float64() * r.Float64() * 100
			l.Scores[b] = max(l.Scores[b], v)
			s.Overall[b] = max(s.Overall[b], v)
			if k%5 == 0 {
				if l.States == nil {
					l.States = make([]model.StateSet, buckets)
				}
				l.States[b] = l.States[b].With(model.TriageState(k % 4))
			}
		}
	}
	return s
}

func sampleRows(m *Model, n int) []model.Anomaly {
	var rows []model.Anomaly
	for i := 0; i < n; i++ {
		rows = append(rows, model.Anomaly{ID: fmt.Sprint(i), Time: m.selection().from, Score: float64(i * 3), Function: "rare",
			Entity: fmt.Sprintf("host-%04d.prod", i), Executable: "/usr/bin/thing-" + fmt.Sprint(i), Actual: []float64{1}, Typical: []float64{0.001}})
	}
	return rows
}
