package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/sources"
)

const (
	// DefaultDrillDownCap is how many events a drill-down returns unless the
	// analyst raises it.
	DefaultDrillDownCap = 5000
	// hitsPageSize is how many documents one page of a drill-down brings.
	hitsPageSize = 1000
	// pitKeepAlive is how long the cluster keeps the point in time between
	// two pages.
	pitKeepAlive = "1m"
	// closeTimeout bounds closing a point in time after the drill-down ended,
	// even when it ended because the caller gave up.
	closeTimeout = 10 * time.Second
)

// DrillDown returns the executions of one host or container in a window,
// oldest first, at most limit of them (DefaultDrillDownCap when limit <= 0);
// truncated says more were there. It reads a point in time of the index
// pattern, so pages see one consistent state of the data, and maps the
// documents with the same field table as the file readers.
func (s *Source) DrillDown(ctx context.Context, w cache.DrillDownWindow, limit int) (events []sources.Event, truncated bool, err error) {
	if w.Scope != sources.ScopeHost && w.Scope != sources.ScopeContainer {
		return nil, false, fmt.Errorf("drill-down: unknown scope %q (want host or container)", w.Scope)
	}
	if !w.From.Before(w.To) {
		return nil, false, fmt.Errorf("drill-down: the window %s to %s is empty", w.From.UTC(), w.To.UTC())
	}
	if limit <= 0 {
		limit = DefaultDrillDownCap
	}
	pit, err := s.openPIT(ctx)
	if err != nil {
		return nil, false, err
	}
	defer func() {
		// The cluster frees a point in time when it expires anyway; closing it
		// now frees it early, also after the caller gave up.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		if cerr := s.closePIT(cctx, pit); cerr != nil && err == nil {
			err = cerr
		}
	}()

	// Windows are [From, To) in nanoseconds, the cluster's range in
	// milliseconds: ask for whole milliseconds around it and keep the exact
	// window below.
	fromMS := w.From.UnixMilli()
	toMS := w.To.UnixMilli()
	if time.UnixMilli(toMS).Before(w.To) {
		toMS++
	}
	body := obj{
		"size":             min(s.pageSizeHits, limit+1),
		"track_total_hits": false,
		"query":            s.plan.window(w.Scope, w.Entity, w.Executable, fromMS, toMS),
		"sort":             []obj{{s.plan.time: obj{"order": "asc"}}, {"_shard_doc": obj{"order": "asc"}}},
		"_source":          sources.AllDocumentFields(),
		"pit":              obj{"id": pit.id, "keep_alive": pitKeepAlive},
	}
	var buf bytes.Buffer
	for {
		var page hitsPage
		host, err := s.searchJSON(ctx, "search events of the window", "/_search", body, nil, &page)
		if err != nil {
			return events, false, err
		}
		if why := page.incomplete(); why != "" {
			// A window missing some shards' events would mislead the analyst.
			return events, false, &Error{Op: "search events of the window", Host: host, Index: s.c.index, kind: ErrUnavailable, Reason: why,
				Advice: "Some shards could not be read: check the cluster's health and try again"}
		}
		if page.PitID != "" {
			pit.id = page.PitID
			body["pit"] = obj{"id": pit.id, "keep_alive": pitKeepAlive}
		}
		hits := page.Hits.Hits
		if len(hits) == 0 {
			return events, false, nil
		}
		// Each hit is one line of the NDJSON reader's input: a search hit
		// wrapping its document.
		buf.Reset()
		for _, h := range hits {
			if err := json.Compact(&buf, h); err != nil {
				return events, false, &Error{Op: "search events of the window", Host: host, Index: s.c.index, kind: ErrBadResponse, err: err,
					Reason: "a hit is not JSON"}
			}
			buf.WriteByte('\n')
		}
		_, err = sources.ReadDocuments(ctx, &buf, "", sources.Options{Selection: sources.Executions}, func(ev *sources.Event) error {
			if !ev.IsExecution() || ev.Scope() != w.Scope || ev.Entity() != w.Entity || ev.Time.Before(w.From) || !ev.Time.Before(w.To) ||
				(w.Executable != "" && ev.Executable != w.Executable) {
				return nil
			}
			if len(events) == limit {
				truncated = true
				return errCapReached
			}
			e := *ev // the reader reuses its event; its strings and argument list stay valid
			e.Origin.File, e.Origin.Line = "", 0
			events = append(events, e)
			return nil
		})
		if errors.Is(err, errCapReached) {
			return events, true, nil
		}
		if err != nil {
			return events, false, err
		}
		var last struct {
			Sort []json.RawMessage `json:"sort"`
		}
		if err := json.Unmarshal(hits[len(hits)-1], &last); err != nil || len(last.Sort) == 0 {
			return events, false, &Error{Op: "search events of the window", Host: host, Index: s.c.index, kind: ErrBadResponse,
				Reason: "the last hit has no sort values"}
		}
		body["search_after"] = last.Sort
	}
}

var errCapReached = errors.New("row cap reached")

// hitsPage is one page of a point-in-time search.
type hitsPage struct {
	searchStatus
	PitID string `json:"pit_id"`
	Hits  struct {
		Hits []json.RawMessage `json:"hits"`
	} `json:"hits"`
}

type pointInTime struct{ id string }

func (s *Source) openPIT(ctx context.Context) (*pointInTime, error) {
	q := url.Values{"keep_alive": {pitKeepAlive}, "ignore_unavailable": {"true"}}
	res, err := s.c.do(ctx, request{op: "open a point in time", method: http.MethodPost, path: "/" + s.c.index + "/_pit", query: q,
		privilege: `index privilege "read"`})
	if err != nil {
		return nil, err
	}
	var ans struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(res.body, &ans); err != nil || ans.ID == "" {
		return nil, &Error{Op: "open a point in time", Host: res.host, Index: s.c.index, Status: res.status, kind: ErrBadResponse, err: err,
			Reason: "the answer holds no point-in-time id"}
	}
	return &pointInTime{id: ans.ID}, nil
}

func (s *Source) closePIT(ctx context.Context, pit *pointInTime) error {
	body, err := json.Marshal(obj{"id": pit.id})
	if err != nil {
		return err
	}
	// A point in time already gone (expired) is closed enough.
	_, err = s.c.do(ctx, request{op: "close the point in time", method: http.MethodDelete, path: "/_pit", body: body, notFoundOK: true})
	return err
}

// LoadDrillDown answers a window from the cache when it holds it, and else
// from the cluster, keeping the answer in the cache for offline review. The
// events never add to the bucket counts. fromCache says which it was.
func (s *Source) LoadDrillDown(ctx context.Context, store *cache.Store, w cache.DrillDownWindow, limit int) (events []sources.Event, truncated, fromCache bool, err error) {
	if limit <= 0 {
		limit = DefaultDrillDownCap
	}
	key := s.Key(sources.Executions)
	cached, held, err := store.DrillDownEvents(ctx, key, w)
	if err != nil {
		return nil, false, false, err
	}
	if held {
		if len(cached) > limit {
			return cached[:limit], true, true, nil
		}
		return cached, false, true, nil
	}
	events, truncated, err = s.DrillDown(ctx, w, limit)
	if err != nil {
		return nil, false, false, err
	}
	if err := store.StoreDrillDown(ctx, key, w, events, truncated); err != nil {
		return events, truncated, false, err
	}
	return events, truncated, false, nil
}
