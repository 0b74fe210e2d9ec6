package fleetgen

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditlens/auditlens/sources"
)

// recKind says what an event is.
type recKind uint8

const (
	recExec    recKind = iota // execve
	recOpen                   // openat: noise
	recConnect                // connect: noise
)

// record is one generated audit event with everything every writer needs.
// Writers see it only during a call; it is reused.
type record struct {
	t       int64 // unix ms
	e       *entity
	kind    recKind
	exe     string
	comm    string
	args    []string // execve arguments (nil for failed executions and noise)
	title   []string // the process's command line (PROCTITLE)
	cwd     string
	pid     int64
	ppid    int64
	uid     uint32
	euid    uint32
	gid     uint32
	auid    uint32
	ses     uint32
	tty     string
	success bool
	exit    int64
	seq     uint32
	// PATH records of an execution: what was executed, its interpreter.
	path    string
	interp  string
	setuid  bool
	file    string // noise: the file opened
	addr    [4]byte
	port    uint16
	regs    [4]uint64 // a0..a3
	syscall int
}

func (r *record) syscallName() string {
	switch r.kind {
	case recOpen:
		return "openat"
	case recConnect:
		return "connect"
	}
	return "execve"
}

func (r *record) action() string {
	switch r.kind {
	case recOpen:
		return "opened-file"
	case recConnect:
		return "connected-to"
	}
	return "executed"
}

// titleString is the process title as Auditbeat shows it: the command line
// joined by spaces, cut to the kernel's 128 bytes.
func (r *record) titleString() string {
	s := strings.Join(r.title, " ")
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}

// item is one step of a planned job, placed in time.
type item struct {
	t    int64
	job  int32
	step int32
}

// jobDetail holds a job's details once its first step is due.
type jobDetail struct {
	det      []stepDetail
	steps    []step
	pids     []int64
	ppids    []int64
	rootPid  int64
	rootProg progID
	ses      uint32
	left     int
}

// noiseEvent is a non-execution event of a process a job started.
type noiseEvent struct {
	t    int64
	n    uint64 // insertion order, to break ties
	jd   *jobDetail
	step int32
	kind recKind
	pick uint32
}

// entityStream makes one entity's events in time order, a day at a time.
type entityStream struct {
	f      *Fleet
	e      *entity
	plan   shaper
	detail shaper
	day    int
	jobs   []plannedJob
	first  []int32
	steps  []step
	items  []item
	pos    int
	jds    []*jobDetail
	noise  []noiseEvent
	nseq   uint64
	pid    int64
	seq    uint32
	ses    uint32
	dr     rng // per-day draws of the event stream only (pid gaps, noise)
	rec    record
	noiseM float64
}

func (f *Fleet) newEntityStream(e *entity) *entityStream {
	s := &entityStream{f: f, e: e, day: -1, pid: e.pidStart}
	s.plan.f, s.plan.e = f, e
	s.detail.f, s.detail.e = f, e
	r := newRNG(e.key, 3)
	s.seq = uint32(r.between(1000, 5_000_000))
	s.ses = uint32(r.between(1, 400))
	if fr := f.cfg.NoiseFraction; fr > 0 {
		s.noiseM = fr / (1 - fr)
	}
	return s
}

// loadDay plans the next day; false when the range is over.
func (s *entityStream) loadDay() bool {
	s.day++
	if s.day >= s.f.cfg.Days {
		return false
	}
	s.jobs, s.first, s.steps, s.items = s.jobs[:0], s.first[:0], s.steps[:0], s.items[:0]
	s.pos = 0
	s.dr = newRNG(s.e.key, uint64(s.day)<<8|0x22)
	s.f.planDay(s.e, s.day, &s.plan, func(j *plannedJob, steps []step) {
		ji := int32(len(s.jobs))
		s.jobs = append(s.jobs, *j)
		s.first = append(s.first, int32(len(s.steps)))
		s.steps = append(s.steps, steps...)
		for k := range steps {
			if j.keep(&steps[k]) {
				s.items = append(s.items, item{t: j.start + steps[k].off, job: ji, step: int32(k)})
			}
		}
	})
	slices.SortFunc(s.items, func(a, b item) int {
		switch {
		case a.t != b.t:
			return cmpInt64(a.t, b.t)
		case a.job != b.job:
			return int(a.job - b.job)
		}
		return int(a.step - b.step)
	})
	if cap(s.jds) < len(s.jobs) {
		s.jds = make([]*jobDetail, len(s.jobs))
	}
	s.jds = s.jds[:len(s.jobs)]
	clear(s.jds)
	return true
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// peek returns the time of the next event, false at the end.
func (s *entityStream) peek() (int64, bool) {
	for s.pos >= len(s.items) && len(s.noise) == 0 {
		if !s.loadDay() {
			return 0, false
		}
	}
	switch {
	case len(s.noise) == 0:
		return s.items[s.pos].t, true
	case s.pos >= len(s.items) || s.noise[0].t < s.items[s.pos].t:
		return s.noise[0].t, true
	}
	return s.items[s.pos].t, true
}

// next makes the next event; call peek first.
func (s *entityStream) next() *record {
	if len(s.noise) > 0 && (s.pos >= len(s.items) || s.noise[0].t < s.items[s.pos].t) {
		n := s.popNoise()
		s.noiseRecord(&n)
		return &s.rec
	}
	it := s.items[s.pos]
	s.pos++
	j := &s.jobs[it.job]
	jd := s.jds[it.job]
	if jd == nil {
		jd = s.expand(it.job)
		s.jds[it.job] = jd
	}
	s.stepRecord(j, jd, int(it.step))
	jd.left--
	if jd.left == 0 {
		s.jds[it.job] = nil
	}
	return &s.rec
}

func (s *entityStream) nextPid() int64 {
	s.pid += 1 + int64(s.dr.intn(4))
	if s.dr.chance(0.02) {
		s.pid += int64(s.dr.between(5, 120)) // threads and forks that exec nothing
	}
	if s.pid >= 4194304 {
		s.pid = 300 + s.pid%4194304
	}
	return s.pid
}

// expand draws a job's details the first time one of its steps is due.
func (s *entityStream) expand(ji int32) *jobDetail {
	j := &s.jobs[ji]
	d := &s.detail
	d.reset(j.act, j.nominal, j.seed, true)
	j.act.shape(d)
	first := int(s.first[ji])
	n := len(d.steps)
	end := len(s.steps)
	if int(ji)+1 < len(s.first) {
		end = int(s.first[ji+1])
	}
	if n != end-first {
		panic(fmt.Sprintf("fleetgen: job shape of %q changed between plan and detail (%d vs %d steps)", j.act.key, end-first, n))
	}
	jd := &jobDetail{det: slices.Clone(d.det), steps: s.steps[first:end:end], pids: make([]int64, n), ppids: make([]int64, n)}
	for k := range jd.steps {
		if j.keep(&jd.steps[k]) {
			jd.left++
		}
	}
	jd.rootProg = d.rootProg
	if d.rootD == dFresh {
		jd.rootPid = s.nextPid()
	} else {
		jd.rootPid = s.e.daemons[d.rootD]
		if jd.rootPid == 0 {
			jd.rootPid = s.e.daemons[dSystemd]
		}
	}
	for k := range jd.det {
		if jd.det[k].ses == 1 {
			s.ses++
			jd.ses = s.ses
			break
		}
	}
	if len(d.root.args) > 0 {
		// Failed executions forked from the root report its command line.
		for k := range jd.det {
			if jd.steps[k].flags&stepFailed != 0 && jd.det[k].args == nil {
				jd.det[k].args = d.root.args
			}
		}
	}
	// Noise: files the new processes open and connections they make.
	if s.noiseM > 0 {
		for k := range jd.steps {
			st := &jd.steps[k]
			if st.flags&stepFailed != 0 || !j.keep(st) {
				continue
			}
			for c := s.dr.poisson(s.noiseM); c > 0; c-- {
				t := j.start + st.off + int64(s.dr.between(1, 1500))
				if t >= j.end {
					continue
				}
				kind := recOpen
				if s.dr.chance(0.3) {
					kind = recConnect
				}
				s.pushNoise(noiseEvent{t: t, jd: jd, step: int32(k), kind: kind, pick: uint32(s.dr.u64())})
			}
		}
	}
	return jd
}

func (s *entityStream) pushNoise(n noiseEvent) {
	n.n = s.nseq
	s.nseq++
	h := append(s.noise, n)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !noiseLess(&h[i], &h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	s.noise = h
}

func (s *entityStream) popNoise() noiseEvent {
	h := s.noise
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && noiseLess(&h[l], &h[m]) {
			m = l
		}
		if r < len(h) && noiseLess(&h[r], &h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	s.noise = h
	return top
}

func noiseLess(a, b *noiseEvent) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	return a.n < b.n
}

// stepRecord fills the record of an execution.
func (s *entityStream) stepRecord(j *plannedJob, jd *jobDetail, k int) {
	st := &jd.steps[k]
	d := &jd.det[k]
	var pid, ppid int64
	parent := int(st.parent)
	switch {
	case st.flags&stepSamePID != 0:
		pid, ppid = jd.pids[parent], jd.ppids[parent]
	case parent >= 0:
		pid, ppid = s.nextPid(), jd.pids[parent]
	default:
		pid, ppid = s.nextPid(), jd.rootPid
	}
	jd.pids[k], jd.ppids[k] = pid, ppid
	r := &s.rec
	*r = record{t: j.start + st.off, e: s.e, kind: recExec, pid: pid, ppid: ppid, cwd: d.cwd,
		uid: d.uid, euid: d.euid, gid: d.gid, auid: d.auid, ses: unsetID, tty: d.tty, syscall: 59}
	if d.ses == 1 {
		r.ses = jd.ses
	}
	s.seq++
	r.seq = s.seq
	p := &programs[st.prog]
	if st.flags&stepFailed != 0 {
		img := programs[jd.rootProg].invoked()
		imgProg := s.imageOf(jd, k)
		if imgProg != pNone {
			img = programs[imgProg].invoked()
		}
		r.exe = s.f.exes[st.exe]
		r.comm = commOf(img)
		r.title = d.args
		r.exit = -2
		r.path = d.tried
	} else {
		r.exe = p.exe
		r.comm = s.f.comms[st.prog]
		r.args = d.args
		if len(r.args) == 0 {
			r.args = []string{p.invoked()}
			if p.shebang != "" {
				r.args = []string{p.shebang, p.invoked()}
			}
		}
		r.title = r.args
		r.success = true
		r.path = p.invoked()
		if p.shebang != "" {
			r.interp = p.exe
		}
		r.setuid = p.setuid
	}
	x := mix(uint64(r.seq) ^ s.e.key)
	r.regs = [4]uint64{0x55d000000000 | x&0xfffffffff0, 0x55d000000000 | (x>>20)&0xfffffffff0, 0x7ffc00000000 | (x>>8)&0xfffffff0, uint64(len(r.args))}
}

// imageOf is the program a failed step's process still runs.
func (s *entityStream) imageOf(jd *jobDetail, k int) progID {
	for k >= 0 && jd.steps[k].flags&stepFailed != 0 {
		k = int(jd.steps[k].parent)
	}
	if k < 0 {
		return pNone
	}
	return jd.steps[k].prog
}

func commOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	if len(p) > 15 {
		p = p[:15]
	}
	return p
}

var noiseFiles = []string{"/etc/ld.so.cache", "/etc/nsswitch.conf", "/etc/passwd", "/etc/localtime",
	"/usr/lib/locale/locale-archive", "/etc/hosts", "/proc/self/status", "/etc/resolv.conf"}

// noiseRecord fills the record of a noise event of a job's process.
func (s *entityStream) noiseRecord(n *noiseEvent) {
	jd := n.jd
	k := int(n.step)
	st := &jd.steps[k]
	d := &jd.det[k]
	p := &programs[st.prog]
	r := &s.rec
	*r = record{t: n.t, e: s.e, kind: n.kind, pid: jd.pids[k], ppid: jd.ppids[k], cwd: d.cwd,
		uid: d.uid, euid: d.euid, gid: d.gid, auid: d.auid, ses: unsetID, tty: d.tty,
		exe: p.exe, comm: s.f.comms[st.prog], title: d.args, success: true}
	if d.ses == 1 {
		r.ses = jd.ses
	}
	if len(r.title) == 0 {
		r.title = []string{p.invoked()}
	}
	s.seq++
	r.seq = s.seq
	x := mix(uint64(n.pick))
	if n.kind == recOpen {
		r.syscall = 257
		r.file = noiseFiles[int(n.pick)%len(noiseFiles)]
		r.exit = 3 + int64(x%5)
		r.regs = [4]uint64{0xffffff9c, 0x7f0000000000 | (x>>4)&0xfffffff0, 0x80000, 0}
	} else {
		r.syscall = 42
		r.cwd = "" // connect(2) has no path argument: no CWD record
		switch n.pick % 3 {
		case 0:
			r.addr, r.port = [4]byte{127, 0, 0, 53}, 53
		case 1:
			r.addr, r.port = [4]byte{10, byte(x >> 8 % 32), byte(x >> 16), byte(2 + x>>24%250)}, 443
		default:
			r.addr, r.port = [4]byte{10, byte(x >> 8 % 32), byte(x >> 16), byte(2 + x>>24%250)}, 5432
		}
		r.regs = [4]uint64{3 + x%4, 0x7ffc00000000 | (x>>4)&0xfffffff0, 16, 0}
	}
}

// streamAll merges the entities' streams in time order (ties by entity).
func (f *Fleet) streamAll(ctx context.Context, ents []*entity, fn func(*record) error) error {
	streams := make([]*entityStream, 0, len(ents))
	heads := make([]int64, 0, len(ents))
	for _, e := range ents {
		s := f.newEntityStream(e)
		if t, ok := s.peek(); ok {
			streams = append(streams, s)
			heads = append(heads, t)
		}
	}
	// A binary heap of stream indices keyed by (next time, entity index).
	h := make([]int, len(streams))
	for i := range h {
		h[i] = i
	}
	less := func(a, b int) bool {
		if heads[a] != heads[b] {
			return heads[a] < heads[b]
		}
		return streams[a].e.idx < streams[b].e.idx
	}
	down := func(i int) {
		for {
			l, r, m := 2*i+1, 2*i+2, i
			if l < len(h) && less(h[l], h[m]) {
				m = l
			}
			if r < len(h) && less(h[r], h[m]) {
				m = r
			}
			if m == i {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	n := 0
	for len(h) > 0 {
		if n++; n&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		si := h[0]
		s := streams[si]
		if err := fn(s.next()); err != nil {
			return err
		}
		if t, ok := s.peek(); ok {
			heads[si] = t
		} else {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		down(0)
	}
	return nil
}

// Events streams every event of the fleet (executions and noise, hosts and
// containers) in time order to fn, without holding them: memory holds one
// day's plan per entity. The event is only valid during the call.
func (f *Fleet) Events(ctx context.Context, fn sources.EventFunc) error {
	var ev sources.Event
	return f.streamAll(ctx, f.all, func(r *record) error {
		r.toEvent(f, &ev)
		return fn(&ev)
	})
}

// EntityEvents streams the events of one host's own processes or one
// container's, in time order.
func (f *Fleet) EntityEvents(ctx context.Context, name string, fn sources.EventFunc) error {
	e := f.byName[name]
	if e == nil {
		return fmt.Errorf("fleet has no host or container named %q", name)
	}
	var ev sources.Event
	return f.streamAll(ctx, []*entity{e}, func(r *record) error {
		r.toEvent(f, &ev)
		return fn(&ev)
	})
}

// toEvent fills a normalized event from a record.
func (r *record) toEvent(f *Fleet, ev *sources.Event) {
	*ev = sources.Event{
		Time:       time.UnixMilli(r.t).UTC(),
		Host:       r.e.host.name,
		Executable: r.exe,
		Name:       r.comm,
		Args:       r.args,
		Title:      r.titleString(),
		PID:        r.pid,
		PPID:       r.ppid,
		WorkingDir: r.cwd,
		Syscall:    r.syscallName(),
		Action:     r.action(),
		Result:     "fail",
	}
	if r.success {
		ev.Result = "success"
	}
	if r.e.scope == sources.ScopeContainer {
		ev.Container = sources.Container{ID: r.e.cid, Name: r.e.name, Runtime: "docker"}
	}
	ev.User.ID = strconv.FormatUint(uint64(r.uid), 10)
	ev.User.Name = f.userName(r.uid)
	if r.auid != unsetID {
		ev.User.AuditID = strconv.FormatUint(uint64(r.auid), 10)
		ev.User.AuditName = f.userName(r.auid)
	}
}

func (f *Fleet) userName(uid uint32) string {
	if i, ok := f.userByID[uid]; ok {
		return f.users[i].name
	}
	return ""
}
