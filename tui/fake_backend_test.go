package tui

// TEST DOUBLE. fakeBackend is a hand-written stand-in for the real backend
// (engine + cache), used only by this package's tests: a fixed, small set of
// anomaly records over two days, from which it builds swimlanes and answers
// anomaly and triage calls the way the real one is specified to. It can be
// told to block until cancelled, to test loading and cancel.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/auditlens/auditlens/views/model"
)

var fakeStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

const fakeSpan = 48 * time.Hour

// Hostile names from the data: an OSC title change and a screen clear.
const (
	evilProcess = "\x1b]0;pwned\x07"
	evilHost    = "evil\x1b[2Jhost"
)

type fakeBackend struct {
	mu      sync.Mutex
	records []model.Anomaly
	hosts   []string
	ctrs    []string

	block     chan struct{} // when set, Swimlane and Run wait for it or for cancel
	fail      error         // when set, Swimlane fails with it
	cancelled []string      // calls that saw their context cancelled
	swimlanes []model.Query // queries asked for
	anomalyQs []model.AnomalyQuery
	processQs []model.ProcessQuery
	runs      int

	// The case side (fake_cases_test.go).
	cases    map[string]*fakeCase
	rules    []model.Rule
	nextRule int
	caseFile model.CaseFile
	readOnly error // when set, every change fails with it
	saved    []string
}

func at(day, hour int) time.Time { return fakeStart.Add(time.Duration(day*24+hour) * time.Hour) }

func newFakeBackend() *fakeBackend {
	rare := func(id, host, exe string, t time.Time, score float64, why string) model.Anomaly {
		return model.Anomaly{
			ID: id, Time: t, BucketSpan: time.Hour, JobID: "host_rare_process", Function: "rare",
			Detector: `rare by "process.executable" partitionfield="host.name"`, Score: score, InitialScore: score,
			Probability: 0.0001, Scope: model.ScopeHost, PartitionField: "host.name", Entity: host,
			ByField: "process.executable", Executable: exe,
			Influencers: []model.Influencer{{Field: "host.name", Values: []string{host}}, {Field: "process.executable", Values: []string{exe}}, {Field: "user.name", Values: []string{"www-data"}}},
			Actual:      []float64{1}, Typical: []float64{0.00012}, Why: why,
		}
	}
	rate := func(id, job string, scope model.Scope, entity string, t time.Time, score, actual, typical float64, exes ...string) model.Anomaly {
		field := "host.name"
		if scope == model.ScopeContainer {
			field = "container.name"
		}
		return model.Anomaly{
			ID: id, Time: t, BucketSpan: time.Hour, JobID: job, Function: "high_count",
			Detector: "high_count partitionfield=\"" + field + "\"", Score: score, Probability: 0.00001,
			Scope: scope, PartitionField: field, Entity: entity,
			Influencers: []model.Influencer{{Field: field, Values: []string{entity}}, {Field: "process.executable", Values: exes}},
			Actual:      []float64{actual}, Typical: []float64{typical}, Why: "executions per hour far above the daily pattern",
		}
	}
	b := &fakeBackend{
		hosts: []string{"web-01", "web-02", "web-03", "web-04", "web-05", "db-01", evilHost, "backup-01"},
		ctrs:  []string{"api-7f9c", "worker-1", "cache-0"},
		records: []model.Anomaly{
			rare("r1", "web-03", "/usr/bin/nc", at(1, 3), 92, "first time on web-03; seen on 0 of 8 hosts before"),
			rare("r2", "web-03", "/tmp/.x/kworker", at(1, 3), 81, "first time on web-03; never seen in the fleet"),
			rare("r3", "db-01", "/usr/bin/curl", at(0, 14), 55, "seen in 1 of every 40 buckets on db-01"),
			rare("r4", "web-01", "/usr/sbin/tcpdump", at(0, 9), 30, "first time on web-01; seen on 2 of 8 hosts"),
			rare("r5", "web-02", evilProcess, at(1, 3), 40, "first time on web-02"),
			rare("r6", evilHost, "/bin/sh", at(0, 20), 12, "seen in 1 of every 12 buckets"),
			rare("r7", "web-05", "/usr/bin/python3", at(1, 18), 2, "common on web-05"),
			rare("r8", "web-04", "/usr/bin/apt", at(0, 2), 8, "monthly update; seen on 8 of 8 hosts"),
			rate("h1", "host_high_process_rate", model.ScopeHost, "web-02", at(0, 22), 77, 412, 80, "/usr/bin/ssh", "/usr/bin/scp"),
			rate("h2", "host_high_process_rate", model.ScopeHost, "backup-01", at(1, 1), 35, 90, 40, "/usr/bin/rsync"),
			rate("d1", "docker_high_process_rate", model.ScopeContainer, "worker-1", at(1, 6), 64, 300, 60, "/usr/bin/python3"),
			{
				ID: "c1", Time: at(1, 10), BucketSpan: time.Hour, JobID: "docker_rare_process", Function: "rare",
				Score: 70, Scope: model.ScopeContainer, PartitionField: "container.name", Entity: "api-7f9c",
				ByField: "process.executable", Executable: "/bin/bash", Actual: []float64{1}, Typical: []float64{0.001},
			},
		},
	}
	b.records[7].Triage = model.Triage{State: model.StateAcknowledged, Note: "patch day"}
	b.seedCases()
	return b
}

func (b *fakeBackend) wait(ctx context.Context, call string) error {
	b.mu.Lock()
	block := b.block
	b.mu.Unlock()
	if block == nil {
		return ctx.Err()
	}
	select {
	case <-block:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		b.cancelled = append(b.cancelled, call)
		b.mu.Unlock()
		return ctx.Err()
	}
}

func (b *fakeBackend) Swimlane(ctx context.Context, q model.Query, progress func(model.Progress)) (model.Swimlane, error) {
	b.mu.Lock()
	b.swimlanes = append(b.swimlanes, q)
	b.mu.Unlock()
	progress(model.Progress{Stage: "scoring", Done: 1, Total: 4})
	if err := b.wait(ctx, "swimlane"); err != nil {
		return model.Swimlane{}, fmt.Errorf("fake swimlane: %w", err)
	}
	b.mu.Lock()
	fail := b.fail
	b.mu.Unlock()
	if fail != nil {
		return model.Swimlane{}, fail
	}
	start, end := fakeStart, fakeStart.Add(fakeSpan)
	if !q.From.IsZero() {
		start = q.From.Truncate(q.BucketSpan)
	}
	if !q.To.IsZero() {
		end = q.To
	}
	n := int((end.Sub(start) + q.BucketSpan - 1) / q.BucketSpan)
	s := model.Swimlane{Job: q.Job, Scope: q.Scope, Axis: model.TimeAxis{Start: start, BucketSpan: q.BucketSpan, Buckets: n}}
	s.Overall = make([]float64, n)
	entities := b.hosts
	if q.Scope == model.ScopeContainer {
		entities = b.ctrs
	}
	lane := map[string]int{}
	for _, e := range entities {
		lane[e] = len(s.Lanes)
		s.Lanes = append(s.Lanes, model.Lane{Entity: e, Scope: q.Scope, Scores: make([]float64, n)})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.records {
		if r.JobID != q.Job {
			continue
		}
		if _, hidden := b.hiddenBy(r); hidden {
			continue
		}
		i, ok := s.Axis.BucketAt(r.Time)
		if !ok {
			continue
		}
		l := &s.Lanes[lane[r.Entity]]
		l.Scores[i] = max(l.Scores[i], r.Score)
		if l.States == nil {
			l.States = make([]model.StateSet, n)
		}
		l.States[i] = l.States[i].With(r.Triage.State)
		s.Overall[i] = max(s.Overall[i], r.Score)
	}
	return s, nil
}

func (b *fakeBackend) Anomalies(ctx context.Context, q model.AnomalyQuery) ([]model.Anomaly, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.anomalyQs = append(b.anomalyQs, q)
	var out []model.Anomaly
	for _, r := range b.records {
		if r.JobID != q.Job || (q.Entity != "" && r.Entity != q.Entity) {
			continue
		}
		if r.Time.Before(q.From) || !r.Time.Before(q.To) {
			continue
		}
		if _, hidden := b.hiddenBy(r); hidden {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

func (b *fakeBackend) SetTriage(ctx context.Context, id string, t model.Triage) (model.Triage, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.readOnly != nil {
		return model.Triage{}, b.readOnly
	}
	for i := range b.records {
		if b.records[i].ID == id {
			t.Updated = time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)
			b.records[i].Triage = t
			return t, nil
		}
	}
	return model.Triage{}, fmt.Errorf("no anomaly %s", id)
}

func (b *fakeBackend) Run(ctx context.Context, q model.Query, progress func(model.Progress)) error {
	b.mu.Lock()
	b.runs++
	b.mu.Unlock()
	progress(model.Progress{Stage: "reading", Done: 2, Total: 8})
	return b.wait(ctx, "run")
}

func (b *fakeBackend) triage(id string) model.Triage {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.records {
		if r.ID == id {
			return r.Triage
		}
	}
	return model.Triage{}
}

func (b *fakeBackend) cancelledCalls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.cancelled...)
}
