package workspace

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/sources"
)

// A case report: what a ticket needs, readable without auditlens. Markdown
// for people, JSON for tools; both from the case's records as saved and the
// counts and events the store holds for their windows.

// Sizes of a report.
const (
	reportTopProcesses = 5
	reportEvents       = 5
)

// Report is a case's summary.
type Report struct {
	Case      string          `json:"case"`
	Summary   string          `json:"summary,omitempty"`
	From      time.Time       `json:"from"`
	To        time.Time       `json:"to"`
	Jobs      []ReportJob     `json:"jobs"`
	SavedAt   time.Time       `json:"saved_at,omitzero"`
	States    map[string]int  `json:"states"`
	Anomalies []ReportAnomaly `json:"anomalies"`
}

// ReportJob is a job of the case with the settings it ran with.
type ReportJob struct {
	ID         string `json:"job_id"`
	BucketSpan int64  `json:"bucket_span"` // seconds
	Partition  string `json:"partition"`
	Events     string `json:"events"`
}

// ReportAnomaly is one anomaly of a report, in time order.
type ReportAnomaly struct {
	ID         string    `json:"anomaly_id"`
	Time       time.Time `json:"time"`
	BucketSpan int64     `json:"bucket_span"`
	Severity   string    `json:"severity"`
	Score      float64   `json:"record_score"`
	Job        string    `json:"job_id"`
	Scope      string    `json:"scope"`
	Entity     string    `json:"entity"`
	// Processes are the executables the anomaly is about: a rare record's
	// value, a rate record's executable influencers.
	Processes  []string        `json:"processes,omitempty"`
	Actual     []float64       `json:"actual"`
	Typical    []float64       `json:"typical"`
	Why        string          `json:"why"`
	State      string          `json:"triage_state"`
	Note       string          `json:"triage_note,omitempty"`
	WindowFrom time.Time       `json:"window_from"`
	WindowTo   time.Time       `json:"window_to"`
	Top        []ReportProcess `json:"top_processes"`
	Events     []ReportEvent   `json:"events"`
	Record     engine.Record   `json:"record"`
}

// ReportProcess is an executable's executions in an anomaly's window.
type ReportProcess struct {
	Executable string `json:"executable"`
	Executions int64  `json:"executions"`
}

// ReportEvent is one raw execution.
type ReportEvent struct {
	Time       time.Time `json:"time"`
	User       string    `json:"user,omitempty"`
	PID        int64     `json:"pid"`
	PPID       int64     `json:"ppid"`
	Executable string    `json:"executable"`
	Args       []string  `json:"args,omitempty"`
}

// CaseReport builds the report of a case (in a case file, "" is its case).
func (w *Workspace) CaseReport(ctx context.Context, name string) (Report, error) {
	c, err := w.Case(ctx, name)
	if err != nil {
		return Report{}, err
	}
	from, to := c.Range()
	rep := Report{Case: c.Name, Summary: c.Summary, From: from, To: to, States: map[string]int{}, Anomalies: []ReportAnomaly{}}
	if c.File != nil {
		rep.SavedAt = c.File.SavedAt
	}
	for _, s := range c.Jobs() {
		rep.Jobs = append(rep.Jobs, ReportJob{ID: s.Job.ID, BucketSpan: int64(s.Job.BucketSpan / time.Second),
			Partition: s.Job.Partition.String(), Events: cache.SelectionName(s.Selection)})
	}
	triage := map[string]map[string]cache.Triage{}
	for _, e := range c.Entries {
		tr, ok := triage[e.Record.JobID]
		if !ok {
			if tr, err = w.Store.TriageFor(ctx, e.Record.JobID); err != nil {
				return rep, err
			}
			triage[e.Record.JobID] = tr
		}
		a, err := w.reportAnomaly(ctx, e, tr[e.ID])
		if err != nil {
			return rep, err
		}
		rep.States[a.State]++
		rep.Anomalies = append(rep.Anomalies, a)
	}
	slices.SortStableFunc(rep.Anomalies, func(a, b ReportAnomaly) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(b.Score, a.Score))
	})
	return rep, nil
}

func (w *Workspace) reportAnomaly(ctx context.Context, e CaseEntry, t cache.Triage) (ReportAnomaly, error) {
	r := e.Record
	wf, wt := DrillDownWindow(r)
	a := ReportAnomaly{
		ID: e.ID, Time: time.UnixMilli(r.Timestamp).UTC(), BucketSpan: r.BucketSpan,
		Severity: engine.SeverityOf(r.RecordScore).Name, Score: r.RecordScore, Job: r.JobID,
		Scope: string(e.Scan.Job.Scope), Entity: firstOr(recordEntities(r), r.Entity), Processes: recordExecutables(r),
		Actual: r.Actual, Typical: r.Typical, Why: r.Why, State: cmp.Or(t.State, cache.StateNew), Note: t.Note,
		WindowFrom: wf, WindowTo: wt, Top: []ReportProcess{}, Events: []ReportEvent{}, Record: r,
	}
	if a.Entity == "" {
		return a, nil
	}
	totals := map[string]int64{}
	q := cache.CountQuery{Scope: e.Scan.Job.Scope, From: wf, To: wt, BucketSpan: time.Duration(max(r.BucketSpan, 60)) * time.Second,
		Selection: sources.Executions, Entities: []string{a.Entity}, Loads: e.Scan.Loads}
	if err := w.Store.Counts(ctx, q, func(c engine.Count) error {
		totals[c.Executable] += c.Count
		return nil
	}); err != nil {
		return a, fmt.Errorf("report of %s: %w", e.ID, err)
	}
	for exe, n := range totals {
		a.Top = append(a.Top, ReportProcess{Executable: exe, Executions: n})
	}
	slices.SortFunc(a.Top, func(x, y ReportProcess) int {
		return cmp.Or(cmp.Compare(y.Executions, x.Executions), strings.Compare(x.Executable, y.Executable))
	})
	a.Top = a.Top[:min(len(a.Top), reportTopProcesses)]

	// The raw events: a rare record's runs of its executable in the window,
	// a rate record's executions in its bucket.
	eq := cache.EventQuery{Scope: sources.Scope(e.Scan.Job.Scope), Entity: a.Entity, From: wf, To: wt,
		Executable: r.ByFieldValue, Loads: e.Scan.Loads, Limit: reportEvents}
	if r.ByFieldValue == "" {
		eq.From, eq.To = a.Time, a.Time.Add(time.Duration(r.BucketSpan)*time.Second)
	}
	evs, err := w.Store.Events(ctx, eq)
	if err != nil {
		return a, fmt.Errorf("report of %s: %w", e.ID, err)
	}
	for _, ev := range evs {
		a.Events = append(a.Events, ReportEvent{Time: ev.Time.UTC(), User: cmp.Or(ev.User.Name, ev.User.ID), PID: ev.PID,
			PPID: ev.PPID, Executable: ev.Executable, Args: ev.Args})
	}
	return a, nil
}

// WriteReportJSON writes the report as one JSON document, made harmless on a
// terminal (safe.JSON) without changing what it decodes to.
func WriteReportJSON(out io.Writer, rep Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	_, err = out.Write(append(safe.JSON(b), '\n'))
	return err
}

// WriteReportMarkdown writes the report as Markdown to paste into a ticket.
// Every string from the data goes through safe.Text and into a code span
// (or a fenced block) whose fence is longer than any run of backticks
// inside it, so no process name or argument can break out into Markdown or
// HTML. Times are shown in loc (UTC when nil).
func WriteReportMarkdown(out io.Writer, rep Report, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
	}
	zone := loc.String()
	at := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04") }
	var b strings.Builder
	fmt.Fprintf(&b, "# Case %s\n\n", mdCode(rep.Case))
	if rep.Summary != "" {
		fmt.Fprintf(&b, "%s\n\n", mdText(rep.Summary))
	}
	fmt.Fprintf(&b, "- **Range:** %s to %s (%s)\n", at(rep.From), at(rep.To), zone)
	var jobs []string
	for _, j := range rep.Jobs {
		jobs = append(jobs, fmt.Sprintf("%s (%s buckets, partition %s, %s)", j.ID, SpanText(time.Duration(j.BucketSpan)*time.Second), j.Partition, j.Events))
	}
	fmt.Fprintf(&b, "- **Jobs:** %s\n", strings.Join(jobs, "; "))
	var states []string
	for _, st := range cache.TriageStates() {
		if n := rep.States[st]; n > 0 {
			states = append(states, fmt.Sprintf("%d %s", n, st))
		}
	}
	fmt.Fprintf(&b, "- **Anomalies:** %d (%s)\n", len(rep.Anomalies), strings.Join(states, ", "))
	if !rep.SavedAt.IsZero() {
		fmt.Fprintf(&b, "- **Case file saved:** %s (%s)\n", at(rep.SavedAt), zone)
	}

	// Lists rather than tables: a table splits on any pipe, even one inside
	// a code span, and data may hold pipes.
	fmt.Fprintf(&b, "\n## Timeline (%s)\n\n", zone)
	for i, a := range rep.Anomalies {
		line := fmt.Sprintf("%d. %s **%s %.0f** %s on %s", i+1, at(a.Time), a.Severity, a.Score, a.Job, mdCode(a.Entity))
		if len(a.Processes) > 0 {
			line += ": " + mdCodes(a.Processes)
		}
		line += "; triage: " + a.State
		if a.Note != "" {
			line += "; note: " + mdText(a.Note)
		}
		b.WriteString(line + "\n")
	}

	for i, a := range rep.Anomalies {
		fmt.Fprintf(&b, "\n## %d. %s %.0f: %s on %s\n\n", i+1, a.Severity, a.Score, a.Job, mdCode(a.Entity))
		fmt.Fprintf(&b, "- **Time:** %s (%s), %s bucket\n", at(a.Time), zone, SpanText(time.Duration(a.BucketSpan)*time.Second))
		if len(a.Processes) > 0 {
			fmt.Fprintf(&b, "- **Process:** %s\n", mdCodes(a.Processes))
		}
		fmt.Fprintf(&b, "- **Why:** %s\n", mdCode(a.Why))
		fmt.Fprintf(&b, "- **Actual / typical:** %s / %s\n", formatNumbers(a.Actual), formatNumbers(a.Typical))
		fmt.Fprintf(&b, "- **Triage:** %s\n", a.State)
		if a.Note != "" {
			fmt.Fprintf(&b, "- **Note:** %s\n", mdText(a.Note))
		}
		fmt.Fprintf(&b, "- **Anomaly id:** %s\n", mdCode(a.ID))
		fmt.Fprintf(&b, "\nTop processes on %s, %s to %s:\n\n", mdCode(a.Entity), at(a.WindowFrom), at(a.WindowTo))
		if len(a.Top) == 0 {
			b.WriteString("(no executions held for this window)\n")
		} else {
			for _, p := range a.Top {
				fmt.Fprintf(&b, "- %d x %s\n", p.Executions, mdCode(p.Executable))
			}
		}
		if len(a.Events) == 0 {
			b.WriteString("\nNo raw events held for this anomaly.\n")
			continue
		}
		b.WriteString("\nRaw events:\n\n")
		var lines []string
		for _, ev := range a.Events {
			line := fmt.Sprintf("%s user=%s pid=%d ppid=%d %s", ev.Time.Format(time.RFC3339Nano), safe.Text(ev.User), ev.PID, ev.PPID, safe.Text(ev.Executable))
			if len(ev.Args) > 0 {
				line += " " + safe.Texts(ev.Args, " ")
			}
			lines = append(lines, line)
		}
		text := strings.Join(lines, "\n")
		fence := strings.Repeat("`", max(3, longestRun(text, '`')+1))
		fmt.Fprintf(&b, "%stext\n%s\n%s\n", fence, text, fence)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// mdCode puts data in a code span: made safe for a terminal, fenced with
// more backticks than it holds, padded when it starts or ends with one.
func mdCode(s string) string {
	s = safe.Text(s)
	if s == "" {
		return "(none)"
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || (strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ")) {
		s = " " + s + " "
	}
	return fence + s + fence
}

func mdCodes(ss []string) string {
	if len(ss) == 0 {
		return "(none)"
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = mdCode(s)
	}
	return strings.Join(out, ", ")
}

// mdText writes an analyst's text (a note, a summary) as plain Markdown
// text: safe for a terminal, with Markdown's punctuation escaped.
func mdText(s string) string {
	s = safe.Text(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_{}[]()<>#+-.!|~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func longestRun(s string, c byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

func formatNumbers(vs []float64) string {
	if len(vs) == 0 {
		return "-"
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		switch {
		case v == float64(int64(v)):
			parts[i] = strconv.FormatInt(int64(v), 10)
		case v < 0.01:
			parts[i] = strconv.FormatFloat(v, 'g', 3, 64)
		default:
			parts[i] = strconv.FormatFloat(v, 'f', 2, 64)
		}
	}
	return strings.Join(parts, ", ")
}
