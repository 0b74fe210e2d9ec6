package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/sources"
)

const (
	// compositePageSize is how many buckets one page of the aggregation
	// brings: large pages mean few round trips, and a page of minute buckets
	// is well under a megabyte.
	compositePageSize = 10000
	// chunkSpan is the longest span stored in one transaction: an interrupted
	// load keeps the whole days it finished.
	chunkSpan = 24 * time.Hour
	// settleDelay is how long documents may take to reach the cluster after
	// they happen (shipping batches, ingest pipelines): a span ending later
	// than this before now may still grow, so it is stored but not marked
	// loaded.
	settleDelay = 5 * time.Minute
)

// Progress says how far LoadCounts has come.
type Progress struct {
	From, To  time.Time // the range asked, on whole minutes
	Spans     int       // spans to fetch (a day at most each)
	SpansDone int       // spans stored
	Pages     int       // aggregation pages read
	Buckets   int64     // minute buckets received
	Events    int64     // documents those buckets count
	// Reached is the newest minute the current span's pages have come to.
	Reached time.Time
	// Done and Missing are how much of the range is stored and how much was
	// missing from the cache at the start.
	Done, Missing time.Duration
}

// LoadResult says what LoadCounts fetched and stored.
type LoadResult struct {
	Key string
	// Missing lists what the cache did not hold at the start: what was fetched.
	Missing []cache.Span
	// Stored lists the spans stored, and Partial those of them that were not
	// marked loaded (reaching into the present, or with shards failing), so
	// that a later load fetches them again.
	Stored, Partial []cache.Span
	Loads           []int64
	Requests        int
	Pages           int
	Buckets, Events int64
	Warnings        []string
}

// LoadCounts fetches the per-minute counts of [from, to) that the cache
// lacks, pushed down to the cluster as a composite aggregation, and stores
// them span by span (a day at most, each in one transaction). from and to
// are widened to whole minutes. On an error or a cancelled context, the
// spans already stored stay, whole; the one in progress leaves nothing.
func (s *Source) LoadCounts(ctx context.Context, store *cache.Store, from, to time.Time, sel sources.Selection, progress func(Progress)) (LoadResult, error) {
	from, to = floorMinute(from), ceilMinute(to)
	res := LoadResult{Key: s.Key(sel)}
	if !from.Before(to) {
		return res, fmt.Errorf("load counts: the range %s to %s is empty", from, to)
	}
	missing, err := store.MissingSpans(ctx, res.Key, from, to)
	if err != nil {
		return res, err
	}
	res.Missing = missing
	if len(missing) == 0 {
		return res, nil
	}
	var chunks []cache.Span
	pr := Progress{From: from, To: to}
	for _, m := range missing {
		pr.Missing += m.To.Sub(m.From)
		chunks = append(chunks, splitDays(m)...)
	}
	pr.Spans = len(chunks)
	report := func() {
		if progress != nil {
			progress(pr)
		}
	}
	report()

	l := &countLoad{s: s, sel: sel, res: &res, pr: &pr, report: report}
	if err := l.probe(ctx, missing[0].From, missing[len(missing)-1].To); err != nil {
		return res, err
	}
	now := s.now()
	for _, ch := range chunks {
		partial := ch.To.After(now.Add(-settleDelay))
		prBefore, pages, buckets, events := pr, res.Pages, res.Buckets, res.Events
		load, err := l.storeSpan(ctx, store, ch, partial)
		if errors.Is(err, errShardsFailed) {
			// Store what the shards that answered hold, but not as loaded;
			// the figures count the span once.
			pr, res.Pages, res.Buckets, res.Events = prBefore, pages, buckets, events
			partial = true
			load, err = l.storeSpan(ctx, store, ch, true)
		}
		if err != nil {
			return res, err
		}
		res.Loads = append(res.Loads, load)
		res.Stored = append(res.Stored, ch)
		if partial {
			res.Partial = append(res.Partial, ch)
		}
		pr.SpansDone++
		pr.Done += ch.To.Sub(ch.From)
		report()
	}
	return res, nil
}

// errShardsFailed stops a span whose answer missed some shards' results.
var errShardsFailed = errors.New("shards failed")

// countLoad is one LoadCounts in progress.
type countLoad struct {
	s      *Source
	sel    sources.Selection
	res    *LoadResult
	pr     *Progress
	report func()
	// The fields the aggregation groups by: the plan's chains less the
	// fallback fields no document in the range needs.
	host, container, exe []field
	// passes are the aggregations each span needs: executions or the other
	// selected events, of hosts or of containers; those the probe found no
	// document for are left out.
	passes []pass
	// tolerateShards is set while a span is fetched again after shards
	// failed: the failure is then already reported.
	tolerateShards bool
}

// pass is one aggregation over a span. Host and container events are
// aggregated apart, so that host buckets carry no empty container keys.
type pass struct {
	execution bool
	scope     sources.Scope
}

func (ps pass) key() string {
	k := "o"
	if ps.execution {
		k = "e"
	}
	return k + string(ps.scope[0])
}

// scopeFilter matches the documents of one scope: container events hold a
// container field, host events none.
func (l *countLoad) scopeFilter(scope sources.Scope) obj {
	var qs []obj
	for _, f := range l.s.plan.container {
		qs = append(qs, present(f.name))
	}
	if scope == sources.ScopeContainer {
		return anyOf(qs...)
	}
	if len(qs) == 0 {
		return obj{"match_all": obj{}}
	}
	return not(anyOf(qs...))
}

func (l *countLoad) kindFilter(execution bool) obj {
	if execution {
		return l.s.plan.execution()
	}
	return not(l.s.plan.execution())
}

// probe decides, with one request over the whole range, which passes have
// documents and which fallback fields the aggregation needs. A field after
// the first of its chain matters only for documents that lack every field
// before it; in the common case none do, so the aggregation groups by one
// field per chain and its pages stay small.
func (l *countLoad) probe(ctx context.Context, from, to time.Time) error {
	p := l.s.plan
	chains := []struct {
		key string
		all []field
		out *[]field
	}{{"h", p.host, &l.host}, {"c", p.container, &l.container}, {"x", p.exe, &l.exe}}
	filters := obj{}
	for _, ch := range chains {
		if len(ch.all) > 0 {
			*ch.out = ch.all[:1]
		}
		for i := 1; i < len(ch.all); i++ {
			filters[ch.key+strconv.Itoa(i)] = firstHolding(ch.all, i)
		}
	}
	var all []pass
	for _, execution := range []bool{true, false} {
		if !execution && p.onlyExecutions(l.sel) {
			continue
		}
		for _, scope := range []sources.Scope{sources.ScopeHost, sources.ScopeContainer} {
			if scope == sources.ScopeContainer && len(p.container) == 0 {
				continue
			}
			ps := pass{execution: execution, scope: scope}
			all = append(all, ps)
			filters[ps.key()] = allOf(l.kindFilter(execution), l.scopeFilter(scope))
		}
	}
	body := obj{
		"size":             0,
		"track_total_hits": false,
		"query":            allOf(p.timeRange(from.UnixMilli(), to.UnixMilli()), p.selection(l.sel), p.hasExecutable()),
		"aggs":             obj{"f": obj{"filters": obj{"filters": filters}}},
	}
	var ans struct {
		searchStatus
		Aggregations struct {
			F struct {
				Buckets map[string]struct {
					DocCount int64 `json:"doc_count"`
				} `json:"buckets"`
			} `json:"f"`
		} `json:"aggregations"`
	}
	var failed *shardsFailed
	err := l.search(ctx, "find which fields and scopes the documents use", body, nil, &ans)
	if errors.As(err, &failed) {
		// Not knowing every shard's documents, group by every field, every pass.
		l.res.Warnings = append(l.res.Warnings, failed.why+"; grouping by every host, container and executable field")
		for _, ch := range chains {
			*ch.out = ch.all
		}
		l.passes = all
		return nil
	}
	if err != nil {
		return err
	}
	found := func(key string) bool { return ans.Aggregations.F.Buckets[key].DocCount > 0 }
	for _, ch := range chains {
		for i := 1; i < len(ch.all); i++ {
			if found(ch.key + strconv.Itoa(i)) {
				*ch.out = append(*ch.out, ch.all[i])
			}
		}
	}
	for _, ps := range all {
		if found(ps.key()) {
			l.passes = append(l.passes, ps)
		}
	}
	return nil
}

// storeSpan fetches one span's counts into the cache in one transaction.
func (l *countLoad) storeSpan(ctx context.Context, store *cache.Store, span cache.Span, partial bool) (int64, error) {
	l.tolerateShards = partial
	stored, err := store.IngestSpan(ctx, cache.SpanLoad{Source: l.res.Key, From: span.From, To: span.To, Selection: l.sel, Partial: partial},
		func(w *cache.SpanWriter) error {
			for _, ps := range l.passes {
				if err := l.fetch(ctx, w, span, ps); err != nil {
					return err
				}
			}
			return nil
		})
	return stored.Load, err
}

// searchStatus is the part of a search answer that says whether it is whole.
type searchStatus struct {
	TimedOut bool `json:"timed_out"`
	Shards   struct {
		Total    int `json:"total"`
		Failed   int `json:"failed"`
		Failures []struct {
			Index  string `json:"index"`
			Reason struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"reason"`
		} `json:"failures"`
	} `json:"_shards"`
}

// incomplete describes what an answer lacks, or "" when it is whole.
func (st *searchStatus) incomplete() string {
	switch {
	case st.Shards.Failed > 0:
		msg := fmt.Sprintf("%d of %d shards failed", st.Shards.Failed, st.Shards.Total)
		if len(st.Shards.Failures) > 0 {
			f := st.Shards.Failures[0]
			msg += fmt.Sprintf(", the first on index %s: %s", clean(f.Index, 120), clean(f.Reason.Type+": "+f.Reason.Reason, 300))
		}
		return msg
	case st.TimedOut:
		return "the search timed out on the cluster, so some shards' results are missing"
	}
	return ""
}

// compositePage is one page of the counting aggregation.
type compositePage struct {
	searchStatus
	Aggregations struct {
		B struct {
			AfterKey json.RawMessage `json:"after_key"`
			Buckets  []struct {
				Key      map[string]json.RawMessage `json:"key"`
				DocCount int64                      `json:"doc_count"`
			} `json:"buckets"`
		} `json:"b"`
	} `json:"aggregations"`
}

// sourceName names a composite source: the chain's letter, and the
// field's place in the chain after the first, to keep every bucket short.
func sourceName(prefix string, i int) string {
	if i == 0 {
		return prefix
	}
	return prefix + strconv.Itoa(i)
}

// fetch pages through one pass of the aggregation over a span, writing each
// page's counts.
func (l *countLoad) fetch(ctx context.Context, w *cache.SpanWriter, span cache.Span, ps pass) error {
	p := l.s.plan
	sourcesList := []obj{{"t": obj{"date_histogram": obj{"field": p.time, "fixed_interval": "1m"}}}}
	addChain := func(prefix string, fs []field) {
		for i, f := range fs {
			sourcesList = append(sourcesList, obj{sourceName(prefix, i): obj{"terms": obj{"field": f.name, "missing_bucket": true}}})
		}
	}
	addChain("h", l.host)
	if ps.scope == sources.ScopeContainer {
		addChain("c", l.container)
	}
	addChain("x", l.exe)
	composite := obj{"size": l.s.pageSize, "sources": sourcesList}
	body := obj{
		"size":             0,
		"track_total_hits": false,
		"query": allOf(p.timeRange(span.From.UnixMilli(), span.To.UnixMilli()), p.selection(l.sel),
			l.kindFilter(ps.execution), l.scopeFilter(ps.scope), p.hasExecutable()),
		"aggs": obj{"b": obj{"composite": composite}},
	}
	// Only the keys and counts come back: the answer is mostly buckets.
	query := url.Values{"filter_path": {"timed_out,_shards,aggregations.b.after_key,aggregations.b.buckets.key,aggregations.b.buckets.doc_count"}}
	counts := make([]cache.MinuteCount, 0, l.s.pageSize)
	for {
		var page compositePage
		var failed *shardsFailed
		if err := l.search(ctx, "aggregate bucket counts", body, query, &page); errors.As(err, &failed) {
			if !l.tolerateShards {
				l.res.Warnings = append(l.res.Warnings, failed.why+"; the span's counts are kept but fetched again next time")
				return errShardsFailed
			}
		} else if err != nil {
			return err
		}
		counts = counts[:0]
		for _, b := range page.Aggregations.B.Buckets {
			c, ok, err := l.bucket(b.Key, b.DocCount, ps)
			if err != nil {
				return err
			}
			if ok {
				counts = append(counts, c)
			}
			l.pr.Events += b.DocCount
		}
		if err := w.IngestCounts(counts...); err != nil {
			return err
		}
		l.res.Pages++
		l.pr.Pages++
		n := int64(len(page.Aggregations.B.Buckets))
		l.res.Buckets += n
		l.pr.Buckets += n
		if len(counts) > 0 {
			l.pr.Reached = time.Unix(counts[len(counts)-1].Minute, 0).UTC()
		}
		l.res.Events = l.pr.Events
		l.report()
		after := page.Aggregations.B.AfterKey
		if len(after) == 0 || string(after) == "null" || n < int64(l.s.pageSize) {
			return nil // a short page is the last: asking on would bring an empty one
		}
		composite["after"] = after
	}
}

// bucket turns a composite key into a minute count, taking for each chain
// the first field that holds a value, as the field table does for a
// document. ok is false for a bucket without an executable, which the file
// readers reject too.
func (l *countLoad) bucket(key map[string]json.RawMessage, n int64, ps pass) (c cache.MinuteCount, ok bool, err error) {
	ms, err := strconv.ParseInt(string(key["t"]), 10, 64)
	if err != nil || ms%60000 != 0 {
		return c, false, fmt.Errorf("aggregate bucket counts: bucket time %.40q is not a minute in epoch milliseconds", key["t"])
	}
	first := func(prefix string, fs []field) (string, int) {
		for i := range fs {
			raw := key[sourceName(prefix, i)]
			if len(raw) == 0 || string(raw) == "null" {
				continue
			}
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				// A keyword field holding a number or boolean comes back as one.
				v = string(raw)
			}
			if v != "" {
				return v, i
			}
		}
		return "", -1
	}
	exe, _ := first("x", l.exe)
	if exe == "" {
		return c, false, nil
	}
	host, _ := first("h", l.host)
	c = cache.MinuteCount{Scope: sources.ScopeHost, Entity: host, Minute: ms / 1000, Executable: exe, Execution: ps.execution, Count: n}
	if ps.scope == sources.ScopeContainer {
		cont, ci := first("c", l.container)
		c.Scope, c.Host, c.Entity = sources.ScopeContainer, host, cont
		if ci >= 0 && l.container[ci].part == partRuntime {
			c.Entity = "" // a runtime says the process ran in a container, not which
		}
	}
	return c, true, nil
}

// shardsFailed is an answer that lacks some shards' results.
type shardsFailed struct{ why string }

func (e *shardsFailed) Error() string { return e.why }

// search runs a search on the index pattern and decodes its answer; an
// answer missing some shards' results is decoded and reported as
// *shardsFailed.
func (l *countLoad) search(ctx context.Context, op string, body obj, query url.Values, out interface{ status() *searchStatus }) error {
	l.res.Requests++
	host, err := l.s.searchJSON(ctx, op, "/"+l.s.c.index+"/_search", body, query, out)
	if err != nil {
		return err
	}
	if why := out.status().incomplete(); why != "" {
		return &shardsFailed{why: fmt.Sprintf("elasticsearch %s, index %s: %s: %s", host, l.s.c.index, op, why)}
	}
	return nil
}

func (st *searchStatus) status() *searchStatus { return st }

// searchJSON posts a search body and decodes the answer into out; host is
// the node that answered.
func (s *Source) searchJSON(ctx context.Context, op, path string, body obj, query url.Values, out any) (host string, err error) {
	data, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("%s: encode the query: %w", op, err)
	}
	res, err := s.c.do(ctx, request{op: op, method: http.MethodPost, path: path, query: query, body: data,
		privilege: `index privilege "read"`})
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(res.body, out); err != nil {
		return res.host, &Error{Op: op, Host: res.host, Index: s.c.index, Status: res.status, kind: ErrBadResponse, err: err,
			Reason: "the answer is not a search result"}
	}
	return res.host, nil
}

func floorMinute(t time.Time) time.Time { return t.UTC().Truncate(time.Minute) }

func ceilMinute(t time.Time) time.Time {
	f := floorMinute(t)
	if f.Before(t) {
		return f.Add(time.Minute)
	}
	return f
}

// splitDays cuts a span at UTC midnights, so each piece is a day at most.
func splitDays(sp cache.Span) []cache.Span {
	var out []cache.Span
	for from := sp.From; from.Before(sp.To); {
		next := from.Truncate(chunkSpan).Add(chunkSpan)
		if next.After(sp.To) {
			next = sp.To
		}
		out = append(out, cache.Span{From: from, To: next})
		from = next
	}
	return out
}
