package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/auditlens/auditlens/sources"
)

// Span is a time range [From, To).
type Span struct {
	From, To time.Time
}

// MarkSpan records that [from, to) of a range-queried source is loaded,
// merging it with the spans it overlaps or touches. The source key names the
// store and what was asked of it (for instance the cluster, the index pattern
// and the selection), so different questions are not mistaken for each other.
func (s *Store) MarkSpan(ctx context.Context, source string, from, to time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("mark span: %w", err)
	}
	defer tx.Rollback()
	if err := markSpan(ctx, tx, source, unixNano(from), unixNano(to)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("mark span: %w", err)
	}
	return nil
}

func markSpan(ctx context.Context, tx *sql.Tx, source string, from, to int64) error {
	if from >= to {
		return fmt.Errorf("mark span of %s: empty span %s to %s", source, timeOf(from), timeOf(to))
	}
	rows, err := tx.QueryContext(ctx, `SELECT span_start, span_end FROM span
		WHERE source = ? AND span_start <= ? AND span_end >= ?`, source, to, from)
	if err != nil {
		return fmt.Errorf("mark span of %s: %w", source, err)
	}
	var starts []int64
	for rows.Next() {
		var a, b int64
		if err := rows.Scan(&a, &b); err != nil {
			rows.Close()
			return fmt.Errorf("mark span of %s: %w", source, err)
		}
		from, to = min(from, a), max(to, b)
		starts = append(starts, a)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("mark span of %s: %w", source, err)
	}
	for _, a := range starts {
		if _, err := tx.ExecContext(ctx, "DELETE FROM span WHERE source = ? AND span_start = ?", source, a); err != nil {
			return fmt.Errorf("mark span of %s: %w", source, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO span (source, span_start, span_end) VALUES (?, ?, ?)", source, from, to); err != nil {
		return fmt.Errorf("mark span of %s: %w", source, err)
	}
	return nil
}

// Spans lists the loaded spans of a source, oldest first.
func (s *Store) Spans(ctx context.Context, source string) ([]Span, error) {
	return s.spans(ctx, source, math.MinInt64, math.MaxInt64)
}

func (s *Store) spans(ctx context.Context, source string, from, to int64) ([]Span, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT span_start, span_end FROM span
		WHERE source = ? AND span_start < ? AND span_end > ? ORDER BY span_start`, source, to, from)
	if err != nil {
		return nil, fmt.Errorf("spans of %s: %w", source, err)
	}
	defer rows.Close()
	var out []Span
	for rows.Next() {
		var a, b int64
		if err := rows.Scan(&a, &b); err != nil {
			return nil, fmt.Errorf("spans of %s: %w", source, err)
		}
		out = append(out, Span{timeOf(a), timeOf(b)})
	}
	return out, rows.Err()
}

// MissingSpans lists the parts of [from, to) of a source not loaded yet,
// oldest first: what a run still has to fetch.
func (s *Store) MissingSpans(ctx context.Context, source string, from, to time.Time) ([]Span, error) {
	a, b := unixNano(from), unixNano(to)
	if a >= b {
		return nil, nil
	}
	have, err := s.spans(ctx, source, a, b)
	if err != nil {
		return nil, err
	}
	var out []Span
	cursor := a
	for _, sp := range have {
		start, end := unixNano(sp.From), unixNano(sp.To)
		if start > cursor {
			out = append(out, Span{timeOf(cursor), timeOf(start)})
		}
		cursor = max(cursor, end)
	}
	if cursor < b {
		out = append(out, Span{timeOf(cursor), timeOf(b)})
	}
	return out, nil
}

// SpanLoad describes data a range-queried source writes for one span.
type SpanLoad struct {
	// Source is the source's key, as for MarkSpan.
	Source string
	// From and To bound the span [From, To), on whole minutes.
	From, To  time.Time
	Selection sources.Selection
	// Partial says the span may still receive data (it reaches the present):
	// it is stored but not marked loaded, so the next run fetches it again.
	Partial bool
}

// MinuteCount is a count a source aggregated itself, at the minute grain.
type MinuteCount struct {
	Scope      sources.Scope
	Entity     string
	Host       string // for containers, the host they ran on
	Minute     int64  // minute start, Unix seconds
	Executable string
	Execution  bool // false for other syscall events
	Count      int64
}

// SpanWriter takes the counts and events of one span; it is valid only
// inside the fill function of IngestSpan.
type SpanWriter struct {
	ctx      context.Context
	w        *writer
	load     *loadState
	from, to int64 // nanoseconds
	counts   int64
	batch    batch
}

// IngestEvents counts events and keeps the executions among them. An event
// outside the span is an error.
func (sw *SpanWriter) IngestEvents(evs ...*sources.Event) error {
	defer sw.batch.reset()
	for _, ev := range evs {
		ns := unixNano(ev.Time)
		if ns < sw.from || ns >= sw.to {
			return fmt.Errorf("event at %s is outside the span %s to %s", ev.Time.UTC(), timeOf(sw.from), timeOf(sw.to))
		}
		if err := sw.batch.add(ev, sw.load); err != nil {
			return err
		}
	}
	return sw.w.writeBatch(sw.ctx, &sw.batch)
}

// IngestCounts adds counts the source aggregated. A count outside the span,
// or not on a minute, is an error.
func (sw *SpanWriter) IngestCounts(counts ...MinuteCount) error {
	for _, c := range counts {
		ns := c.Minute * int64(time.Second)
		if c.Minute%60 != 0 || ns < sw.from || ns >= sw.to {
			return fmt.Errorf("count at %s is not a minute inside the span %s to %s", time.Unix(c.Minute, 0).UTC(), timeOf(sw.from), timeOf(sw.to))
		}
		if c.Count <= 0 {
			continue
		}
		scope := c.Scope
		if scope != sources.ScopeHost && scope != sources.ScopeContainer {
			return fmt.Errorf("count with unknown scope %q", scope)
		}
		host := c.Host
		if scope == sources.ScopeHost {
			host = ""
		}
		entityID, hostID, exeID, err := sw.w.ids(sw.ctx, scope, c.Entity, host, c.Executable)
		if err != nil {
			return err
		}
		kind := int8(kindOther)
		if c.Execution {
			kind = kindExecution
			sw.load.executions += c.Count
		}
		if err := sw.w.count(sw.ctx, countKey{entity: entityID, minute: c.Minute, exe: exeID, host: hostID, load: sw.load.id, kind: kind}, c.Count); err != nil {
			return err
		}
		sw.counts += c.Count
		last := ns + int64(time.Minute) - 1
		if !sw.load.hasTime || ns < sw.load.first {
			sw.load.first = ns
		}
		if !sw.load.hasTime || last > sw.load.last {
			sw.load.last = last
		}
		sw.load.hasTime = true
	}
	return nil
}

// SpanResult says what a span load stored.
type SpanResult struct {
	Load   int64
	Events int64 // events given one by one
	Counts int64 // events given as counts
}

// IngestSpan stores what fill writes for one span of a range-queried source,
// in one transaction together with marking the span loaded. Whatever the
// cache held for that source inside the span is replaced. An error from fill,
// or a cancelled context, leaves the cache as it was.
func (s *Store) IngestSpan(ctx context.Context, span SpanLoad, fill func(w *SpanWriter) error) (SpanResult, error) {
	var res SpanResult
	if span.Source == "" || span.Source == "file" {
		return res, fmt.Errorf("span load: invalid source key %q", span.Source)
	}
	if !onMinute(span.From) || !onMinute(span.To) || !span.From.Before(span.To) {
		return res, fmt.Errorf("span load of %s: span %s to %s must start before it ends, on whole minutes", span.Source, span.From.UTC(), span.To.UTC())
	}
	from, to := unixNano(span.From), unixNano(span.To)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("span load of %s: %w", span.Source, err)
	}
	defer tx.Rollback()
	if err := clearSpan(ctx, tx, span.Source, from, to); err != nil {
		return res, err
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO load (source, selection, span_from, span_to, loaded_at, complete)
		VALUES (?, ?, ?, ?, ?, 0)`, span.Source, int(span.Selection), from, to, time.Now().UnixNano())
	if err != nil {
		return res, fmt.Errorf("span load of %s: %w", span.Source, err)
	}
	if res.Load, err = r.LastInsertId(); err != nil {
		return res, err
	}
	w, err := newWriter(ctx, s, tx)
	if err != nil {
		return res, err
	}
	defer w.close()
	sw := &SpanWriter{ctx: ctx, w: w, load: &loadState{id: res.Load}, from: from, to: to}
	if err := fill(sw); err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if err := w.flush(ctx); err != nil {
		return res, err
	}
	l := sw.load
	res.Events, res.Counts = l.events, sw.counts
	var first, last any
	if l.hasTime {
		first, last = l.first, l.last
	}
	total := l.events + sw.counts
	if _, err := tx.ExecContext(ctx, `UPDATE load SET seen = ?, events = ?, executions = ?, first_time = ?, last_time = ?,
		complete = ? WHERE id = ?`, total, total, l.executions, first, last, !span.Partial, res.Load); err != nil {
		return res, fmt.Errorf("span load of %s: %w", span.Source, err)
	}
	if !span.Partial {
		if err := markSpan(ctx, tx, span.Source, from, to); err != nil {
			return res, err
		}
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("span load of %s: %w", span.Source, err)
	}
	w.names.committed()
	return res, nil
}

// clearSpan removes what earlier loads of source hold inside [from, to): the
// loads wholly inside go, the others lose their rows in the span.
func clearSpan(ctx context.Context, tx *sql.Tx, source string, from, to int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, span_from, span_to FROM load
		WHERE source = ? AND span_from < ? AND span_to > ?`, source, to, from)
	if err != nil {
		return fmt.Errorf("replace span of %s: %w", source, err)
	}
	type old struct{ id, from, to int64 }
	var olds []old
	for rows.Next() {
		var o old
		if err := rows.Scan(&o.id, &o.from, &o.to); err != nil {
			rows.Close()
			return fmt.Errorf("replace span of %s: %w", source, err)
		}
		olds = append(olds, o)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("replace span of %s: %w", source, err)
	}
	for _, o := range olds {
		var stmts []string
		var args [][]any
		if o.from >= from && o.to <= to {
			stmts = []string{"DELETE FROM load WHERE id = ?"}
			args = [][]any{{o.id}}
		} else {
			if err := clearCounts(ctx, tx, o.id, from/int64(time.Second), to/int64(time.Second)); err != nil {
				return fmt.Errorf("replace span of %s: %w", source, err)
			}
			stmts = []string{"DELETE FROM event WHERE load_id = ? AND time >= ? AND time < ?"}
			args = [][]any{{o.id, from, to}}
		}
		for i, st := range stmts {
			if _, err := tx.ExecContext(ctx, st, args[i]...); err != nil {
				return fmt.Errorf("replace span of %s: %w", source, err)
			}
		}
	}
	return nil
}

// clearCounts removes the minutes [from, to) (Unix seconds) from the count
// blocks of a load: blocks wholly inside go, blocks across an end are
// written again with the minutes outside.
func clearCounts(ctx context.Context, tx *sql.Tx, load, from, to int64) error {
	type block struct {
		id, first, last int64
		data            []byte
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, first_minute, last_minute, data FROM count_block
		WHERE load_id = ? AND first_minute < ? AND last_minute >= ?`, load, to, from)
	if err != nil {
		return err
	}
	var across []block
	var inside []int64
	for rows.Next() {
		var b block
		if err := rows.Scan(&b.id, &b.first, &b.last, &b.data); err != nil {
			rows.Close()
			return err
		}
		if b.first >= from && b.last < to {
			inside = append(inside, b.id)
		} else {
			across = append(across, b)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return err
	}
	for _, id := range inside {
		if _, err := tx.ExecContext(ctx, "DELETE FROM count_block WHERE id = ?", id); err != nil {
			return err
		}
	}
	var kept []countRow
	for _, b := range across {
		kept = kept[:0]
		err := eachCountBlockRow(b.data, b.first, func(r *countRow) error {
			if r.minute < from || r.minute >= to {
				kept = append(kept, *r)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("count block %d: %w", b.id, err)
		}
		if len(kept) == 0 {
			_, err = tx.ExecContext(ctx, "DELETE FROM count_block WHERE id = ?", b.id)
		} else {
			_, err = tx.ExecContext(ctx, "UPDATE count_block SET first_minute = ?, last_minute = ?, rows = ?, data = ? WHERE id = ?",
				kept[0].minute, kept[len(kept)-1].minute, len(kept), appendCountBlock(nil, kept), b.id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func onMinute(t time.Time) bool { return t.Nanosecond() == 0 && t.Unix()%60 == 0 }

// Source is one load: a file read, or a span of a range-queried source.
type Source struct {
	Load        int64          `json:"load"`
	Source      string         `json:"source"` // "file", or the range-queried source's key
	Path        string         `json:"path,omitempty"`
	Format      string         `json:"format,omitempty"`
	Host        string         `json:"host,omitempty"`
	Size        int64          `json:"size,omitempty"`
	ContentSize int64          `json:"content_size,omitempty"`
	Gzip        bool           `json:"gzip,omitempty"`
	Fingerprint string         `json:"fingerprint,omitempty"`
	Selection   string         `json:"selection"`
	Lines       int64          `json:"lines"`
	Seen        int64          `json:"seen"`
	Events      int64          `json:"events"`
	Executions  int64          `json:"executions"`
	Rejected    int64          `json:"rejected"`
	Repaired    int64          `json:"repaired"`
	Samples     []RejectedLine `json:"rejected_lines,omitempty"`
	First       time.Time      `json:"first,omitzero"`
	Last        time.Time      `json:"last,omitzero"`
	SpanFrom    time.Time      `json:"span_from,omitzero"`
	SpanTo      time.Time      `json:"span_to,omitzero"`
	LoadedAt    time.Time      `json:"loaded_at"`
	Complete    bool           `json:"complete"`
}

// RejectedLine is a position that could not be read, kept with its load.
type RejectedLine struct {
	Line   int64  `json:"line"`
	Reason string `json:"reason"`
}

// SelectionName is how a selection is spelled in statistics.
func SelectionName(sel sources.Selection) string {
	if sel == sources.AllSyscalls {
		return "all-syscalls"
	}
	return "executions"
}

// Sources lists the loads (all, or those given), oldest first.
func (s *Store) Sources(ctx context.Context, loads []int64) ([]Source, error) {
	where, args := "1", []any(nil)
	if len(loads) > 0 {
		list, err := json.Marshal(loads)
		if err != nil {
			return nil, err
		}
		where, args = "id IN (SELECT value FROM json_each(?))", []any{string(list)}
	}
	return s.sources(ctx, where, args)
}

func (s *Store) sources(ctx context.Context, where string, args []any) ([]Source, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, source, path, format, host, size, content_size, gzip, fingerprint,
		selection, lines, seen, events, executions, rejected, repaired, samples, first_time, last_time,
		span_from, span_to, loaded_at, complete FROM load WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	defer rows.Close()
	var out []Source
	for rows.Next() {
		var src Source
		var sel int
		var samples string
		var first, last, spanFrom, spanTo sql.NullInt64
		var loadedAt int64
		if err := rows.Scan(&src.Load, &src.Source, &src.Path, &src.Format, &src.Host, &src.Size, &src.ContentSize,
			&src.Gzip, &src.Fingerprint, &sel, &src.Lines, &src.Seen, &src.Events, &src.Executions, &src.Rejected,
			&src.Repaired, &samples, &first, &last, &spanFrom, &spanTo, &loadedAt, &src.Complete); err != nil {
			return nil, fmt.Errorf("list sources: %w", err)
		}
		src.Selection = SelectionName(sources.Selection(sel))
		var rejects []sources.Reject
		if err := json.Unmarshal([]byte(samples), &rejects); err != nil {
			return nil, fmt.Errorf("list sources: rejected lines of load %d: %w", src.Load, err)
		}
		for _, r := range rejects {
			src.Samples = append(src.Samples, RejectedLine{Line: r.Line, Reason: r.Reason})
		}
		for _, t := range []struct {
			v   sql.NullInt64
			dst *time.Time
		}{{first, &src.First}, {last, &src.Last}, {spanFrom, &src.SpanFrom}, {spanTo, &src.SpanTo}} {
			if t.v.Valid {
				*t.dst = timeOf(t.v.Int64)
			}
		}
		src.LoadedAt = timeOf(loadedAt)
		out = append(out, src)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return out, nil
}
