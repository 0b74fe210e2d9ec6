package cache

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/auditlens/auditlens/sources"
)

// DrillDownWindow is what the process explorer asks a range-queried source
// for: the executions of one host or container in [From, To), maybe only
// those of one executable.
type DrillDownWindow struct {
	Scope      sources.Scope
	Entity     string
	From, To   time.Time
	Executable string // empty: every executable
}

func (w DrillDownWindow) check() error {
	if w.Scope != sources.ScopeHost && w.Scope != sources.ScopeContainer {
		return fmt.Errorf("drill-down window: unknown scope %q (want host or container)", w.Scope)
	}
	if !w.From.Before(w.To) {
		return fmt.Errorf("drill-down window: %s to %s is empty", w.From.UTC(), w.To.UTC())
	}
	return nil
}

// holds says whether ev belongs in the window.
func (w DrillDownWindow) holds(ev *sources.Event) bool {
	return ev.Scope() == w.Scope && ev.Entity() == w.Entity && !ev.Time.Before(w.From) && ev.Time.Before(w.To) &&
		(w.Executable == "" || ev.Executable == w.Executable)
}

// Drill-down events live in the event table under loads of their own, which
// carry no minute counts: the source's counts came from its aggregation, and
// counting these events again would double them. Such loads stay incomplete
// so that DataVersion, and the detection results keyed on it, do not change
// when an analyst merely looks at events. Which windows are held is kept in
// the span table under a key per (scope, entity, executable), so windows that
// overlap or touch merge, and a window of every executable also answers for
// one executable.

// drillDownSource is the load source of a source's drill-down events.
func drillDownSource(source string) string { return source + "#drilldown" }

// drillDownCoverage is the span key of one window's selector; the names are
// hashed because they are attacker-controlled and may hold any byte.
func drillDownCoverage(source string, scope sources.Scope, entity, exe string) string {
	h := sha256.Sum256([]byte(string(scope) + "\x00" + entity + "\x00" + exe))
	return drillDownSource(source) + "/" + hex.EncodeToString(h[:16])
}

// StoreDrillDown keeps the events a range-queried source returned for a
// window, for reviewing them offline, without adding to any bucket count.
// They replace what the cache held of that window (the entity's events in
// [From, To), of the executable when one is named). truncated says the
// source stopped at a row cap: the window then counts as held only up to
// the time of its last event, whose instant may hold more events. Every event
// must lie in the window.
func (s *Store) StoreDrillDown(ctx context.Context, source string, w DrillDownWindow, events []sources.Event, truncated bool) error {
	if source == "" || source == "file" {
		return fmt.Errorf("store drill-down: invalid source key %q", source)
	}
	if err := w.check(); err != nil {
		return err
	}
	var first, last time.Time
	for i := range events {
		ev := &events[i]
		if !w.holds(ev) {
			return fmt.Errorf("store drill-down of %s: the event at %s is not in the window (%s %q, %s to %s)",
				source, ev.Time.UTC(), w.Scope, w.Entity, w.From.UTC(), w.To.UTC())
		}
		if i == 0 || ev.Time.Before(first) {
			first = ev.Time
		}
		if i == 0 || ev.Time.After(last) {
			last = ev.Time
		}
	}
	covered := w.To
	if truncated {
		covered = last
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store drill-down of %s: %w", source, err)
	}
	defer tx.Rollback()
	wr, err := newWriter(ctx, s, tx)
	if err != nil {
		return err
	}
	defer wr.close()
	entityID, err := wr.names.entity(ctx, w.Scope, w.Entity)
	if err != nil {
		return err
	}
	from, to := unixNano(w.From), unixNano(w.To)
	drill := drillDownSource(source)

	// The window's events replace what earlier drill-downs kept of it.
	del := `DELETE FROM event WHERE load_id IN (SELECT id FROM load WHERE source = ?) AND entity_id = ? AND time >= ? AND time < ?`
	args := []any{drill, entityID, from, to}
	if w.Executable != "" {
		exeID, err := wr.names.executable(ctx, w.Executable)
		if err != nil {
			return err
		}
		del += " AND executable_id = ?"
		args = append(args, exeID)
	}
	if _, err := tx.ExecContext(ctx, del, args...); err != nil {
		return fmt.Errorf("store drill-down of %s: %w", source, err)
	}

	var firstNS, lastNS any
	if len(events) > 0 {
		firstNS, lastNS = unixNano(first), unixNano(last)
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO load (source, format, selection, span_from, span_to, first_time, last_time, loaded_at, complete)
		VALUES (?, 'drilldown', ?, ?, ?, ?, ?, ?, 0)`, drill, int(sources.Executions), from, to, firstNS, lastNS, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("store drill-down of %s: %w", source, err)
	}
	load, err := r.LastInsertId()
	if err != nil {
		return fmt.Errorf("store drill-down of %s: %w", source, err)
	}
	for i := range events {
		if err := wr.keep(ctx, load, &events[i]); err != nil {
			return fmt.Errorf("store drill-down of %s: %w", source, err)
		}
	}
	if err := wr.flush(ctx); err != nil {
		return err
	}
	// Loads whose every event was replaced are of no use any more.
	if _, err := tx.ExecContext(ctx, `DELETE FROM load WHERE source = ? AND id != ?
		AND NOT EXISTS (SELECT 1 FROM event WHERE event.load_id = load.id)`, drill, load); err != nil {
		return fmt.Errorf("store drill-down of %s: %w", source, err)
	}
	if unixNano(covered) > from {
		if err := markSpan(ctx, tx, drillDownCoverage(source, w.Scope, w.Entity, w.Executable), from, unixNano(covered)); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store drill-down of %s: %w", source, err)
	}
	wr.names.committed()
	return nil
}

// keep stores one event under load without counting it.
func (w *writer) keep(ctx context.Context, load int64, ev *sources.Event) error {
	entityID, hostID, exeID, err := w.ids(ctx, ev.Scope(), ev.Entity(), ev.Host, ev.Executable)
	if err != nil {
		return err
	}
	args, err := json.Marshal(ev.Args)
	if err != nil {
		return fmt.Errorf("encode arguments: %w", err)
	}
	start := len(w.arena)
	w.arena = packDetail(w.arena, ev, ev.Origin.File)
	w.pendingEvents = append(w.pendingEvents,
		load, entityID, unixNano(ev.Time), hostID, exeID, ev.PID, ev.PPID, string(args), w.arena[start:len(w.arena):len(w.arena)])
	w.pendingRows++
	if w.pendingRows == eventRows {
		return w.flushEvents(ctx)
	}
	return nil
}

// DrillDownEvents reads back the events kept for a window, oldest first.
// held says whether the cache holds the whole window; when it does not, the
// events returned are only those of the parts it holds, and the source must
// be asked.
func (s *Store) DrillDownEvents(ctx context.Context, source string, w DrillDownWindow) (events []sources.Event, held bool, err error) {
	if err := w.check(); err != nil {
		return nil, false, err
	}
	held, err = s.drillDownHeld(ctx, source, w)
	if err != nil {
		return nil, false, err
	}
	var loads []int64
	err = s.each(ctx, "SELECT id FROM load WHERE source = ? ORDER BY id", []any{drillDownSource(source)}, func(r *sql.Rows) error {
		var id int64
		if err := r.Scan(&id); err != nil {
			return err
		}
		loads = append(loads, id)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("drill-down of %s: %w", source, err)
	}
	if len(loads) == 0 {
		return nil, held, nil
	}
	events, err = s.Events(ctx, EventQuery{Scope: w.Scope, Entity: w.Entity, From: w.From, To: w.To,
		Executable: w.Executable, Loads: loads})
	if err != nil {
		return nil, false, fmt.Errorf("drill-down of %s: %w", source, err)
	}
	return events, held, nil
}

// drillDownHeld says whether stored windows cover w: a window of every
// executable, else one of w's executable, for each part.
func (s *Store) drillDownHeld(ctx context.Context, source string, w DrillDownWindow) (bool, error) {
	missing, err := s.MissingSpans(ctx, drillDownCoverage(source, w.Scope, w.Entity, ""), w.From, w.To)
	if err != nil {
		return false, err
	}
	if w.Executable == "" || len(missing) == 0 {
		return len(missing) == 0, nil
	}
	key := drillDownCoverage(source, w.Scope, w.Entity, w.Executable)
	for _, sp := range missing {
		rest, err := s.MissingSpans(ctx, key, sp.From, sp.To)
		if err != nil {
			return false, err
		}
		if len(rest) > 0 {
			return false, nil
		}
	}
	return true, nil
}
