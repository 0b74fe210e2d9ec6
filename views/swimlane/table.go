package swimlane

import (
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
)

// The anomalies table as pure functions: which columns fit a width, and the
// text of each cell. Elastic's anomalies table has these columns; narrow
// terminals keep the most telling ones.

type columnID int

const (
	colState columnID = iota
	colTime
	colSeverity
	colDetector
	colFoundFor
	colInfluencers
	colActual
	colTypical
	colDescription
)

type column struct {
	id       columnID
	header   string
	min, max int  // width bounds; equal for fixed columns
	keep     int  // lower is kept longer when the table narrows
	right    bool // numbers align right
}

// tableColumns lists the columns in display order; rare jobs have no
// description column (actual and typical are not comparable counts).
func tableColumns(rare bool) []column {
	cols := []column{
		{id: colState, header: "state", min: 5, max: 5, keep: 3},
		{id: colTime, header: "time", min: 12, max: 12, keep: 0},
		{id: colSeverity, header: "sev", min: 5, max: 5, keep: 1},
		{id: colDetector, header: "detector", min: 14, max: 28, keep: 8},
		{id: colFoundFor, header: "found for", min: 12, max: 40, keep: 2},
		{id: colInfluencers, header: "influenced by", min: 13, max: 60, keep: 5},
		{id: colActual, header: "actual", min: 7, max: 7, keep: 4, right: true},
		{id: colTypical, header: "typical", min: 8, max: 8, keep: 6, right: true},
	}
	if !rare {
		cols = append(cols, column{id: colDescription, header: "description", min: 12, max: 22, keep: 7})
	}
	return cols
}

// layoutColumns gives each column a width within width cells (one space
// between columns), dropping the least telling columns first; spare room
// is shared among the flexible columns.
func layoutColumns(cols []column, width int) []column {
	order := make([]int, len(cols))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return cols[order[a]].keep < cols[order[b]].keep })
	kept := make([]bool, len(cols))
	used := 0
	for _, i := range order {
		need := cols[i].min
		if used > 0 {
			need++
		}
		if used+need > width {
			continue
		}
		kept[i] = true
		used += need
	}
	var out []column
	for i, c := range cols {
		if kept[i] {
			c.max = max(c.max, c.min)
			out = append(out, c)
		}
	}
	// Share the spare room a cell at a time among the flexible columns, so
	// no one column takes it all.
	for spare := width - used; spare > 0; {
		grew := false
		for j := range out {
			if spare > 0 && out[j].min < out[j].max {
				out[j].min++
				spare--
				grew = true
			}
		}
		if !grew {
			break
		}
	}
	for j := range out {
		out[j].max = out[j].min
	}
	return out
}

// cellText is the text of one cell, sanitized; severity and state get their
// paint in drawRow.
func cellText(a *model.Anomaly, id columnID, loc *time.Location) string {
	switch id {
	case colState:
		s := a.Triage.State.Short()
		if a.SuppressedBy != "" {
			s = "supp" // hidden by a rule: listed only on request
		}
		if a.Triage.Note != "" {
			s += "*"
		}
		return s
	case colTime:
		return a.Time.In(loc).Format("Jan 02 15:04")
	case colSeverity:
		sev := a.Severity()
		return string(sev.Glyph()) + " " + model.FormatScore(a.Score)
	case colDetector:
		if a.Detector != "" {
			return safe.Text(a.Detector)
		}
		return safe.Text(a.Function)
	case colFoundFor:
		return safe.Text(a.FoundFor())
	case colInfluencers:
		return influencerText(a)
	case colActual:
		return model.FormatValues(a.Actual)
	case colTypical:
		return model.FormatValues(a.Typical)
	case colDescription:
		return model.Describe(*a)
	}
	return ""
}

// influencerText lists the influencer values, leaving out the one the row
// was already found for.
func influencerText(a *model.Anomaly) string {
	found := a.FoundFor()
	var parts []string
	for _, in := range a.Influencers {
		for _, v := range in.Values {
			if v == found {
				continue
			}
			parts = append(parts, safe.Text(v))
		}
	}
	return strings.Join(parts, ", ")
}

// headerLine draws the table's column headers after a one-cell caret column.
func headerLine(cols []column, th *view.Theme) string {
	var b strings.Builder
	b.WriteByte(' ')
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		if c.right {
			b.WriteString(view.FitRight(c.header, c.min))
		} else {
			b.WriteString(view.Fit(c.header, c.min))
		}
	}
	return th.Header.Apply(b.String())
}

// drawRow draws one anomaly as a table row: a caret when selected, then the
// columns. A selected row is reverse video (dimmer when the table is not the
// focused pane); otherwise severity and escalation get their colours.
func drawRow(a *model.Anomaly, cols []column, th *view.Theme, loc *time.Location, selected, focused bool) string {
	var b strings.Builder
	if selected {
		b.WriteByte('>')
	} else {
		b.WriteByte(' ')
	}
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		text := cellText(a, c.id, loc)
		if c.right {
			text = view.FitRight(text, c.min)
		} else {
			text = view.Fit(text, c.min)
		}
		if !selected {
			switch {
			case a.SuppressedBy != "":
				text = th.Dim.Apply(text)
			case c.id == colSeverity:
				text = th.SeverityText[a.Severity()].Apply(text)
			case c.id == colState && a.Triage.State == model.StateEscalated:
				text = th.Escalated.Apply(text)
			case c.id == colState && a.Triage.State.Dismissed():
				text = th.Dim.Apply(text)
			}
		}
		b.WriteString(text)
	}
	switch {
	case selected && focused:
		return th.Selected.Apply(b.String())
	case selected:
		return th.SelectedBlur.Apply(b.String())
	}
	return b.String()
}

// sortAnomalies orders rows as the table shows them: highest score first,
// then earliest, then by entity and executable so the order is stable.
func sortAnomalies(rows []model.Anomaly) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := &rows[i], &rows[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		if a.Entity != b.Entity {
			return a.Entity < b.Entity
		}
		if a.Executable != b.Executable {
			return a.Executable < b.Executable
		}
		return a.ID < b.ID
	})
}

// rowMatches reports whether a row matches the / filter: against what the
// row shows in words (entity, executable, influencers, detector, why, note,
// state), raw, so a pattern can find a name that the screen escapes.
func rowMatches(a *model.Anomaly, re *regexp.Regexp) bool {
	if re == nil {
		return true
	}
	if re.MatchString(a.Entity) || re.MatchString(a.Executable) || re.MatchString(a.Detector) ||
		re.MatchString(a.Why) || re.MatchString(a.Triage.Note) || re.MatchString(a.Triage.State.String()) ||
		re.MatchString(a.Function) || re.MatchString(model.Describe(*a)) || (a.SuppressedBy != "" && re.MatchString("suppressed "+a.SuppressedBy)) {
		return true
	}
	for _, in := range a.Influencers {
		for _, v := range in.Values {
			if re.MatchString(v) {
				return true
			}
		}
	}
	return false
}
