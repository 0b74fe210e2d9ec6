package fleetgen

import (
	"path"

	"github.com/auditlens/auditlens/sources"
)

// step is one execve in a job: when, which program, which process it
// replaces or forks from. Steps are cheap (no strings) so that the count
// stream can expand millions of jobs without allocating.
type step struct {
	off    int64  // ms after the job's start
	prog   progID // what was executed (for a failed step: what was tried)
	exe    uint16 // the executable the event reports, as an index into Fleet.exes
	parent int16  // index of the parent step; -1 is the job's root process
	flags  uint8
}

const (
	stepFailed  = 1 << iota // execve failed: the event reports the caller's image
	stepSamePID             // exec in the parent step's process, no fork
)

// stepDetail is what only the event stream needs: arguments, identity.
type stepDetail struct {
	args  []string
	cwd   string
	uid   uint32
	euid  uint32
	gid   uint32
	auid  uint32
	ses   uint8 // 0: no session (unset); 1: the job's new login session
	tty   string
	tried string // the path a failed execve tried
}

// shaper expands one job into steps. Shape choices (what runs, when) come
// from r; details (arguments, users) only from d and only when detail is
// set, so the count stream and the event stream see the same steps.
type shaper struct {
	f      *Fleet
	e      *entity
	act    *activity
	at     int64 // the job's nominal start, unix ms
	r      rng
	d      rng
	detail bool
	steps  []step
	det    []stepDetail
	root   stepDetail // the process every parentless step forks from
	rootD  daemon
	// rootProg is the image of the root process, for failed executions
	// forked straight from it.
	rootProg progID
	seed     uint64
}

func (s *shaper) reset(a *activity, nominal int64, seed uint64, detail bool) {
	s.act, s.at, s.seed, s.detail = a, nominal, seed, detail
	s.r = newRNG(seed, 1)
	s.d = newRNG(seed, 2)
	s.steps = s.steps[:0]
	s.det = s.det[:0]
	s.root = stepDetail{cwd: "/", auid: unsetID, tty: "(none)"}
	s.rootD = dSystemd
	s.rootProg = pNone
}

// ms draws a shape duration in milliseconds.
func (s *shaper) ms(lo, hi int) int64 { return int64(s.r.between(lo, hi)) }

func (s *shaper) sec(lo, hi float64) int64 {
	return int64((lo + (hi-lo)*s.r.float()) * 1000)
}

func (s *shaper) add(parent int, p progID, at int64, flags uint8) int {
	if parent >= 0 && at <= s.steps[parent].off {
		at = s.steps[parent].off + 1
	}
	if at < 0 {
		at = 0
	}
	exe := s.f.progExe[p]
	if flags&stepFailed != 0 {
		if parent >= 0 {
			exe = s.steps[parent].exe
		} else {
			exe = s.f.progExe[s.rootProg]
		}
	}
	s.steps = append(s.steps, step{off: at, prog: p, exe: exe, parent: int16(parent), flags: flags})
	if s.detail {
		var d stepDetail
		if parent >= 0 {
			d = s.det[parent]
		} else {
			d = s.root
		}
		d.args = nil
		d.tried = ""
		if programs[p].setuid && flags&stepFailed == 0 {
			d.euid = 0
		}
		if flags&stepFailed != 0 {
			d.tried = programs[p].invoked()
			d.args = s.argsOf(parent)
		}
		s.det = append(s.det, d)
	}
	return len(s.steps) - 1
}

// exec forks from parent and executes p at offset at.
func (s *shaper) exec(parent int, p progID, at int64) int { return s.add(parent, p, at, 0) }

// execSame executes p in the process of step prev, as exec(3) in a shell
// script or a wrapper does.
func (s *shaper) execSame(prev int, p progID, at int64) int { return s.add(prev, p, at, stepSamePID) }

// hostPath is the search order of execvp(3) on the hosts; containerPath is
// the one official language images set.
var (
	hostPath      = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}
	containerPath = []string{"/usr/local/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}
)

// execvp forks from parent and looks p up on PATH the way glibc and Python
// do: an execve per directory, failing with ENOENT until the right one.
func (s *shaper) execvp(parent int, p progID, at int64) int {
	dir := path.Dir(programs[p].invoked())
	prev := -1
	dirs := hostPath
	if s.e.scope == sources.ScopeContainer {
		dirs = containerPath
	}
	for _, d := range dirs {
		if d == dir {
			break
		}
		if prev < 0 {
			prev = s.add(parent, p, at, stepFailed)
		} else {
			prev = s.add(prev, p, at, stepFailed|stepSamePID)
		}
		if s.detail {
			s.det[prev].tried = d + "/" + path.Base(programs[p].invoked())
		}
	}
	if prev < 0 {
		return s.exec(parent, p, at)
	}
	return s.execSame(prev, p, at)
}

// argsOf is the argv a step's process runs with (for failed steps: the
// caller's, since its image did not change).
func (s *shaper) argsOf(i int) []string {
	for i >= 0 {
		if s.steps[i].flags&stepFailed == 0 {
			return s.det[i].args
		}
		i = int(s.steps[i].parent)
	}
	return s.root.args
}

// argv sets the arguments a step was executed with, as its caller passed them.
func (s *shaper) argv(i int, args ...string) {
	if s.detail {
		s.det[i].args = append([]string(nil), args...)
	}
}

func (s *shaper) cwd(i int, dir string) {
	if s.detail {
		s.det[i].cwd = dir
	}
}

// as makes a step run as u (su, sudo, setuid daemons dropping privileges).
func (s *shaper) as(i int, u user) {
	if s.detail {
		s.det[i].uid, s.det[i].euid, s.det[i].gid = u.uid, u.uid, u.gid
	}
}

// login starts a login session for u at step i: auid and a new session id.
func (s *shaper) login(i int, u user, tty string) {
	if s.detail {
		d := &s.det[i]
		d.auid, d.ses, d.tty = u.uid, 1, tty
		d.uid, d.euid, d.gid = u.uid, u.uid, u.gid
		d.cwd = u.home
	}
}

// from sets who the job's parentless steps fork from.
func (s *shaper) from(d daemon, u user) {
	s.rootD = d
	s.root.uid, s.root.euid, s.root.gid = u.uid, u.uid, u.gid
}

// cron makes the job a crontab line of u: cron's child runs it in a new
// session with u's login uid.
func (s *shaper) cron(u user) {
	s.from(dFresh, u)
	s.root.auid, s.root.ses, s.root.cwd = u.uid, 1, u.home
}

// service makes the job a systemd unit running as u.
func (s *shaper) service(u user) { s.from(dSystemd, u) }

func (s *shaper) user(name string) user { return s.f.user(name) }
