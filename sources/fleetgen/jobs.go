package fleetgen

import (
	"fmt"
	"math"
	"path"

	"github.com/auditlens/auditlens/sources"
)

func cronAct(key string, minutes uint64, hours uint32, dows uint8, shape func(*shaper)) *activity {
	return &activity{key: key, sched: schedCron, minutes: minutes, hours: hours, dows: dows, jitter: 900, shape: shape, label: -1}
}

func intervalAct(key string, every, phase, jitter int64, shape func(*shaper)) *activity {
	return &activity{key: key, sched: schedInterval, every: every, phase: phase, jitter: jitter, shape: shape, label: -1}
}

func poissonAct(key string, perHour float64, prof profile, shape func(*shaper)) *activity {
	return &activity{key: key, sched: schedPoisson, perHour: perHour, prof: prof, variable: true, shape: shape, label: -1}
}

func randomAct(key string, perDay int, shape func(*shaper)) *activity {
	return &activity{key: key, sched: schedRandom, perDay: perDay, shape: shape, label: -1}
}

// roleWeight scales the configured rate per role: build and monitoring hosts
// are busier than a database.
var roleWeight = map[Role]float64{RoleWeb: 1.2, RoleDB: 0.8, RoleBuild: 3.0, RoleBastion: 1.2,
	RoleDocker: 1.5, RoleMail: 1.4, RoleMonitor: 2.5}

// buildActivities gives an entity its normal life.
func (f *Fleet) buildActivities(e *entity) {
	r := newRNG(e.key, 2)
	if e.scope == sources.ScopeContainer {
		f.containerActivities(e, &r)
		e.target = f.cfg.RatePerContainerPerDay * math.Exp(0.3*r.normal())
		return
	}
	e.target = f.cfg.RatePerHostPerDay * roleWeight[e.role] * math.Exp(0.3*r.normal())
	root := f.user("root")
	phase := func(every int64) int64 { return int64(r.intn(int(every/1000))) * 1000 }

	// cron: the hourly and daily run-parts of /etc/crontab.
	e.acts = append(e.acts,
		cronAct("cron-hourly", cronMinutes(17), allHours, allDays, func(s *shaper) {
			s.cron(root)
			sh := s.exec(-1, pDash, s.ms(1, 5))
			s.argv(sh, "/bin/sh", "-c", "   cd / && run-parts --report /etc/cron.hourly")
			rp := s.exec(sh, pRunParts, s.ms(2, 6))
			s.argv(rp, "run-parts", "--report", "/etc/cron.hourly")
		}),
		cronAct("cron-daily", cronMinutes(25), hoursMask(3), allDays, func(s *shaper) {
			s.cron(root)
			sh := s.exec(-1, pDash, s.ms(1, 5))
			s.argv(sh, "/bin/sh", "-c", "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }")
			rp := s.exec(sh, pRunParts, s.ms(2, 6))
			s.argv(rp, "run-parts", "--report", "/etc/cron.daily")
			t := s.steps[rp].off
			for _, p := range []progID{pCronDailyApt, pCronDailyDpkg, pCronDailyLogrotate, pCronDailyManDB} {
				t += s.ms(2, 9)
				i := s.exec(rp, p, t)
				s.argv(i, "/bin/sh", programs[p].path)
			}
		}))

	// systemd timers.
	lrMinute := r.intn(50)
	e.acts = append(e.acts,
		cronAct("logrotate", cronMinutes(lrMinute), hoursMask(0), allDays, func(s *shaper) { f.logrotate(s) }),
		randomAct("man-db", 1, func(s *shaper) {
			s.service(s.user("man"))
			i := s.exec(-1, pMandb, 0)
			s.argv(i, "/usr/bin/mandb", "--quiet")
		}),
		randomAct("updatedb", 1, func(s *shaper) {
			s.service(root)
			i := s.exec(-1, pUpdatedb, 0)
			s.argv(i, "/usr/sbin/updatedb")
		}),
		randomAct("apt-daily", 2, func(s *shaper) { f.aptDaily(s, false) }),
		&activity{key: "apt-daily-upgrade", sched: schedCron, minutes: cronMinutes(0), hours: hoursMask(6), dows: allDays,
			jitter: hourMS, label: -1, shape: func(s *shaper) { f.aptDaily(s, true) }},
		randomAct("motd-news", 2, func(s *shaper) {
			s.service(root)
			m := s.exec(-1, pMotdNews, 0)
			s.argv(m, "/bin/sh", "/etc/update-motd.d/50-motd-news", "--force")
			c := s.exec(m, pCat, s.ms(2, 8))
			s.argv(c, "cat", "/var/lib/ubuntu-advantage/machine-id")
			u := s.exec(m, pUname, s.ms(10, 20))
			s.argv(u, "uname", "-r")
			cu := s.exec(m, pCurl, s.ms(20, 40))
			s.argv(cu, "curl", "--connect-timeout", "3", "--max-time", "30", "-A", "curl/7.81.0 Ubuntu/22.04.4/LTS GNU/Linux/5.15.0-97-generic/x86_64", "-o-", "https://motd.ubuntu.com")
		}),
		intervalAct("tmpfiles", dayMS, phase(dayMS), 0, func(s *shaper) {
			s.service(root)
			i := s.exec(-1, pTmpfiles, 0)
			s.argv(i, "systemd-tmpfiles", "--clean")
		}),
		&activity{key: "fstrim", sched: schedCron, minutes: cronMinutes(0), hours: hoursMask(0), dows: 1 << 1,
			jitter: 100 * minuteMS, label: -1, shape: func(s *shaper) {
				s.service(root)
				i := s.exec(-1, pFstrim, 0)
				s.argv(i, "/sbin/fstrim", "--listed-in", "/etc/fstab:/proc/self/mountinfo", "--verbose", "--quiet-unsupported")
			}})

	// NRPE answers the monitoring hosts through /bin/sh -c.
	nrpe := func(key string, every int64, p progID, args ...string) *activity {
		return intervalAct(key, every, phase(every), 1500, func(s *shaper) {
			s.from(dNrpe, s.user("nagios"))
			sh := s.exec(-1, pDash, 0)
			if s.detail {
				cmd := programs[p].exe
				for _, a := range args {
					cmd += " " + a
				}
				s.argv(sh, "/bin/sh", "-c", cmd)
			}
			c := s.exec(sh, p, s.ms(1, 4))
			if s.detail {
				s.argv(c, append([]string{programs[p].exe}, args...)...)
			}
		})
	}
	e.acts = append(e.acts,
		nrpe("nrpe-load", 30*minuteMS, pCheckLoad, "-r", "-w", ".15,.10,.05", "-c", ".30,.25,.20"),
		nrpe("nrpe-disk", 30*minuteMS, pCheckDisk, "-w", "20%", "-c", "10%", "-p", "/"),
		nrpe("nrpe-procs", hourMS, pCheckProcs, "-w", "250", "-c", "400"))

	// Administrators log in at working times.
	sessions := map[Role]float64{RoleBastion: 3, RoleWeb: 0.35, RoleDB: 0.35, RoleBuild: 0.3,
		RoleDocker: 0.3, RoleMail: 0.25, RoleMonitor: 0.2}[e.role]
	// Sessions are people, not load: they do not scale with the rate.
	admin := poissonAct("admin-session/"+string(e.role), sessions, profOffice, func(s *shaper) { f.adminSession(s) })
	admin.variable = false
	e.acts = append(e.acts, admin)

	switch e.role {
	case RoleWeb:
		f.webActivities(e, &r)
	case RoleDB:
		f.dbActivities(e, &r)
	case RoleBuild:
		e.acts = append(e.acts, poissonAct("ci-build", 6, profOffice, func(s *shaper) { f.ciBuild(s) }),
			cronAct("docker-prune", cronMinutes(r.intn(60)), hoursMask(2), allDays, func(s *shaper) {
				s.cron(root)
				sh := s.exec(-1, pDash, 2)
				s.argv(sh, "/bin/sh", "-c", "docker system prune -af --filter until=72h >/dev/null")
				d := s.exec(sh, pDocker, s.ms(1, 4))
				s.argv(d, "docker", "system", "prune", "-af", "--filter", "until=72h")
			}))
	case RoleDocker:
		for _, c := range e.containers {
			f.hostHealthchecks(e, c)
		}
		e.acts = append(e.acts, poissonAct("container-restart", 0.01, profFlat, func(s *shaper) { f.containerStart(s) }))
	case RoleMail:
		e.acts = append(e.acts,
			poissonAct("smtp-in", 14, profTraffic, func(s *shaper) { f.mailEpisode(s) }),
			poissonAct("imap-login", 6, profOffice, func(s *shaper) {
				s.from(dDovecot, root)
				l := s.exec(-1, pImapLogin, 0)
				s.as(l, s.user("dovecot"))
				s.argv(l, "dovecot/imap-login")
				im := s.exec(-1, pImap, s.ms(80, 900))
				if s.detail {
					u := s.f.users[s.f.admins[s.d.intn(len(s.f.admins))]]
					s.as(im, u)
					s.cwd(im, u.home)
				}
				s.argv(im, "dovecot/imap")
			}))
	case RoleMonitor:
		f.monitorActivities(e, &r)
	}
}

func (f *Fleet) logrotate(s *shaper) {
	s.service(f.user("root"))
	lr := s.exec(-1, pLogrotate, 0)
	s.argv(lr, "/usr/sbin/logrotate", "/etc/logrotate.conf")
	t := s.ms(40, 300)
	n := s.r.between(3, 12)
	for i := 0; i < n; i++ {
		g := s.exec(lr, pGzip, t)
		s.argv(g, "/bin/gzip")
		t += s.ms(5, 400)
	}
	sh := s.exec(lr, pDash, t)
	s.argv(sh, "sh", "-c", "\n\t\t/usr/lib/rsyslog/rsyslog-rotate\n\t", "logrotate_script", "/var/log/syslog")
	rr := s.exec(sh, pRsyslogRotate, t+s.ms(1, 4))
	s.argv(rr, "/bin/sh", "/usr/lib/rsyslog/rsyslog-rotate")
	sc := s.exec(rr, pSystemctl, t+s.ms(5, 15))
	s.argv(sc, "systemctl", "kill", "-s", "HUP", "rsyslog.service")
	switch s.e.role {
	case RoleWeb:
		t += s.ms(20, 200)
		sh := s.exec(lr, pDash, t)
		s.argv(sh, "sh", "-c", "\n\t\tinvoke-rc.d nginx rotate >/dev/null 2>&1\n\t", "logrotate_script", "/var/log/nginx/*.log")
		ir := s.exec(sh, pInvokeRcd, t+s.ms(1, 4))
		s.argv(ir, "/bin/sh", "/usr/sbin/invoke-rc.d", "nginx", "rotate")
		a := s.exec(ir, pSystemctl, t+s.ms(5, 12))
		s.argv(a, "systemctl", "--quiet", "is-enabled", "nginx.service")
		b := s.exec(ir, pSystemctl, t+s.ms(14, 30))
		s.argv(b, "systemctl", "--quiet", "is-active", "nginx.service")
		d := s.exec(ir, pStartStopDaemon, t+s.ms(32, 60))
		s.argv(d, "start-stop-daemon", "--stop", "--signal", "USR1", "--quiet", "--pidfile", "/run/nginx.pid", "--name", "nginx")
	case RoleMail:
		t += s.ms(20, 200)
		sh := s.exec(lr, pDash, t)
		s.argv(sh, "sh", "-c", "\n\t\tsystemctl reload postfix >/dev/null 2>&1 || true\n\t", "logrotate_script", "/var/log/mail.log")
		sc := s.exec(sh, pSystemctl, t+s.ms(2, 6))
		s.argv(sc, "systemctl", "reload", "postfix")
	}
}

func (f *Fleet) aptDaily(s *shaper, upgrade bool) {
	s.service(f.user("root"))
	mode := "update"
	if upgrade {
		mode = "install"
	}
	sh := s.exec(-1, pAptDaily, 0)
	s.argv(sh, "/bin/sh", "/usr/lib/apt/apt.systemd.daily", mode)
	t := s.ms(5, 20)
	for i, n := 0, s.r.between(4, 7); i < n; i++ {
		c := s.exec(sh, pAptConfig, t)
		s.argv(c, "apt-config", "shell", "StateDir", "Dir::State/d")
		t += s.ms(8, 40)
	}
	if !upgrade {
		g := s.exec(sh, pAptGet, t)
		s.argv(g, "apt-get", "-qq", "-y", "update")
		t += s.ms(50, 300)
		for i, n := 0, s.r.between(2, 4); i < n; i++ {
			m := s.exec(g, pAptHTTP, t)
			s.argv(m, "/usr/lib/apt/methods/http")
			t += s.ms(2, 20)
		}
		gv := s.exec(g, pAptMethodGpgv, t)
		s.argv(gv, "/usr/lib/apt/methods/gpgv")
		t += s.ms(400, 3000)
		for i, n := 0, s.r.between(2, 4); i < n; i++ {
			v := s.exec(gv, pGpgv, t)
			s.argv(v, "/usr/bin/gpgv", "--homedir", "/tmp/apt-key-gpghome.Ux2lO7Qf1z", "--keyring", "/etc/apt/trusted.gpg.d/ubuntu-keyring-2018-archive.gpg", "--status-fd", "3", "/tmp/apt.sig.bzCTsd", "/tmp/apt.data.Ys2vEk")
			t += s.ms(30, 200)
		}
		return
	}
	u := s.exec(sh, pUnattended, t)
	s.argv(u, "/usr/bin/python3", "/usr/bin/unattended-upgrade")
	t += s.ms(800, 3000)
	d := s.execvp(u, pDpkg, t)
	s.argv(d, "dpkg", "--print-architecture")
	t += s.ms(20, 100)
	d2 := s.execvp(u, pDpkg, t)
	s.argv(d2, "dpkg", "--print-foreign-architectures")
}

// adminSession is an administrator's SSH login: sshd, the message of the
// day, the login shell and its start-up, then a few commands.
func (f *Fleet) adminSession(s *shaper) {
	root := f.user("root")
	admin := f.users[f.admins[s.r.intn(len(f.admins))]]
	s.from(dSshd, root)
	sshd := s.exec(-1, pSshd, 0)
	s.argv(sshd, "/usr/sbin/sshd", "-D", "-R")
	t := s.ms(150, 900)
	env := s.exec(sshd, pEnv, t)
	s.argv(env, "/usr/bin/env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "run-parts", "--lsbsysinit", "/etc/update-motd.d")
	rp := s.execSame(env, pRunParts, t+1)
	s.argv(rp, "run-parts", "--lsbsysinit", "/etc/update-motd.d")
	t += 4
	hdr := s.exec(rp, pMotdHeader, t)
	s.argv(hdr, "/bin/sh", "/etc/update-motd.d/00-header")
	for _, a := range []string{"-o", "-r", "-m"} {
		t += s.ms(1, 4)
		u := s.exec(hdr, pUname, t)
		s.argv(u, "uname", a)
	}
	t += s.ms(2, 6)
	lsb := s.exec(hdr, pLsbRelease, t)
	s.argv(lsb, "/usr/bin/python3", "-Es", "/usr/bin/lsb_release", "-s", "-d")
	t += s.ms(30, 80)
	help := s.exec(rp, pMotdHelp, t)
	s.argv(help, "/bin/sh", "/etc/update-motd.d/10-help-text")
	t += s.ms(2, 6)
	ls := s.exec(rp, pMotdLandscape, t)
	s.argv(ls, "/bin/sh", "/etc/update-motd.d/50-landscape-sysinfo")
	t += s.ms(1, 4)
	lsi := s.exec(ls, pLandscape, t)
	s.argv(lsi, "/usr/bin/python3", "/usr/bin/landscape-sysinfo")
	t += s.ms(300, 900)
	mn := s.exec(rp, pMotdNews, t)
	s.argv(mn, "/bin/sh", "/etc/update-motd.d/50-motd-news")
	t += s.ms(1, 4)
	c := s.exec(mn, pCat, t)
	s.argv(c, "cat", "/var/cache/motd-news")
	t += s.ms(2, 6)
	up := s.exec(rp, pMotdUpdates, t)
	s.argv(up, "/bin/sh", "/etc/update-motd.d/90-updates-available")
	t += s.ms(1, 4)
	c2 := s.exec(up, pCat, t)
	s.argv(c2, "cat", "/var/lib/update-notifier/updates-available")

	// The login shell and its profile.
	t += s.ms(20, 80)
	tty := "pts0"
	if s.detail {
		tty = fmt.Sprintf("pts%d", s.d.intn(4))
	}
	sh := s.exec(sshd, pBash, t)
	s.login(sh, admin, tty)
	s.argv(sh, "-bash")
	t += s.ms(2, 8)
	lc := s.exec(sh, pLocaleCheck, t)
	s.argv(lc, "/usr/bin/locale-check", "C.UTF-8")
	t += s.ms(2, 8)
	lp := s.exec(sh, pLesspipe, t)
	s.argv(lp, "/bin/sh", "/usr/bin/lesspipe")
	b := s.exec(lp, pBasename, t+s.ms(1, 3))
	s.argv(b, "basename", "/usr/bin/lesspipe")
	d := s.exec(lp, pDirname, t+s.ms(4, 6))
	s.argv(d, "dirname", "/usr/bin/lesspipe")
	t += s.ms(8, 14)
	dc := s.exec(sh, pDircolors, t)
	s.argv(dc, "dircolors", "-b")

	n := s.r.between(2, 22)
	if s.e.role == RoleBastion {
		n = s.r.between(1, 6)
	}
	for i := 0; i < n; i++ {
		t += s.sec(2, 90)
		t = f.adminCommand(s, sh, t, admin)
	}
}

// adminCommand runs one command typed at shell sh and returns when it ends.
func (f *Fleet) adminCommand(s *shaper, sh int, t int64, admin user) int64 {
	role := s.e.role
	x := s.r.float()
	if role == RoleBastion && x < 0.6 {
		return f.hop(s, sh, t, admin)
	}
	x = s.r.float()
	switch {
	case x < 0.10:
		i := s.exec(sh, pLs, t)
		if s.detail {
			s.argv(i, "ls", "--color=auto", pick(&s.d, []string{"-la", "-lh", "-ltr", "-l"}), pick(&s.d, []string{"/var/log", "/etc", ".", "/tmp", "/srv"}))
		}
		return t + s.ms(5, 40)
	case x < 0.17:
		i := s.exec(sh, pCat, t)
		if s.detail {
			s.argv(i, "cat", pick(&s.d, []string{"/etc/hosts", "/etc/resolv.conf", "/etc/os-release", "/proc/meminfo", "/etc/fstab"}))
		}
		return t + s.ms(2, 20)
	case x < 0.25:
		i := s.exec(sh, pTail, t)
		follow := s.r.chance(0.3)
		if s.detail {
			if follow {
				s.argv(i, "tail", "-f", f.roleLog(role, &s.d))
			} else {
				s.argv(i, "tail", "-n", "200", f.roleLog(role, &s.d))
			}
		}
		if follow {
			return t + s.sec(10, 300)
		}
		return t + s.ms(5, 50)
	case x < 0.31:
		i := s.exec(sh, pLess, t)
		if s.detail {
			s.argv(i, "less", f.roleLog(role, &s.d))
		}
		return t + s.sec(5, 120)
	case x < 0.36:
		p := s.exec(sh, pPs, t)
		g := s.exec(sh, pGrep, t+1)
		s.argv(p, "ps", "aux")
		if s.detail {
			s.argv(g, "grep", "--color=auto", pick(&s.d, []string{"nginx", "postgres", "python", "java", "sshd", "cron"}))
		}
		return t + s.ms(20, 80)
	case x < 0.40:
		i := s.exec(sh, pDf, t)
		s.argv(i, "df", "-h")
		return t + s.ms(5, 20)
	case x < 0.43:
		i := s.exec(sh, pFree, t)
		s.argv(i, "free", "-m")
		return t + s.ms(3, 10)
	case x < 0.46:
		i := s.exec(sh, pTop, t)
		s.argv(i, "top")
		return t + s.sec(5, 90)
	case x < 0.49:
		i := s.exec(sh, pGrep, t)
		if s.detail {
			s.argv(i, "grep", "-i", pick(&s.d, []string{"error", "fail", "denied", "timeout"}), f.roleLog(role, &s.d))
		}
		return t + s.ms(10, 400)
	case x < 0.57:
		return f.sudo(s, sh, t, func(p int, at int64) int64 {
			i := s.exec(p, pSystemctl, at)
			if s.detail {
				s.argv(i, "systemctl", pick(&s.d, []string{"status", "restart", "status", "is-active"}), f.roleService(role, &s.d))
			}
			return at + s.ms(30, 2500)
		})
	case x < 0.63:
		return f.sudo(s, sh, t, func(p int, at int64) int64 {
			i := s.exec(p, pJournalctl, at)
			if s.detail {
				s.argv(i, "journalctl", "-u", f.roleService(role, &s.d), "-n", "200", "--no-pager")
			}
			return at + s.ms(100, 1500)
		})
	case x < 0.69:
		return f.sudo(s, sh, t, func(p int, at int64) int64 {
			i := s.exec(p, pVim, at)
			if s.detail {
				s.argv(i, "vim", pick(&s.d, []string{"/etc/hosts", "/etc/ssh/sshd_config", "/etc/logrotate.conf", "/etc/crontab"}))
			}
			return at + s.sec(20, 400)
		})
	case x < 0.72:
		i := s.exec(sh, pVim, t)
		s.argv(i, "vim", "notes.md")
		return t + s.sec(20, 300)
	case x < 0.75:
		i := s.exec(sh, pSs, t)
		s.argv(i, "ss", "-tlnp")
		return t + s.ms(5, 20)
	case x < 0.77:
		i := s.exec(sh, pIP, t)
		s.argv(i, "ip", "a")
		return t + s.ms(3, 10)
	case x < 0.79:
		return f.sudo(s, sh, t, func(p int, at int64) int64 {
			i := s.exec(p, pDu, at)
			s.argv(i, "du", "-sh", "/var/log")
			return at + s.ms(50, 2000)
		})
	case x < 0.81:
		i := s.exec(sh, pCmdNotFound, t)
		if s.detail {
			s.argv(i, "/usr/bin/python3", "/usr/lib/command-not-found", "--", pick(&s.d, []string{"sl", "gerp", "sytemctl", "claer", "htop"}))
		}
		return t + s.ms(100, 400)
	case x < 0.84:
		i := s.exec(sh, pID, t)
		s.argv(i, "id")
		return t + s.ms(2, 6)
	case x < 0.86:
		i := s.exec(sh, pDate, t)
		s.argv(i, "date")
		return t + s.ms(2, 6)
	}
	return f.roleCommand(s, sh, t, admin)
}

// sudo runs cmd through sudo as root (or as flags say) and returns when it
// ends. The children inherit root, the sudo process keeps the caller's uid.
func (f *Fleet) sudo(s *shaper, sh int, t int64, cmd func(parent int, at int64) int64, flags ...string) int64 {
	su := s.exec(sh, pSudo, t)
	var caller uint32
	if s.detail {
		caller = s.det[su].uid
		s.det[su].uid = 0
	}
	end := cmd(su, t+s.ms(30, 400))
	if s.detail {
		s.det[su].uid = caller
		if su+1 < len(s.det) {
			s.det[su].args = append(append([]string{"sudo"}, flags...), typed(s.steps[su+1].prog, s.det[su+1].args)...)
		}
	}
	return end
}

// typed is the command line a user typed for an execution the kernel shows
// with argv: a script loses the interpreter the kernel put first.
func typed(p progID, argv []string) []string {
	if programs[p].shebang == "" || len(argv) < 2 {
		return argv
	}
	return append([]string{path.Base(argv[1])}, argv[2:]...)
}

func (f *Fleet) roleLog(role Role, d *rng) string {
	switch role {
	case RoleWeb:
		return pick(d, []string{"/var/log/nginx/error.log", "/var/log/nginx/access.log", "/var/log/app/app.log"})
	case RoleDB:
		return "/var/log/postgresql/postgresql-14-main.log"
	case RoleMail:
		return "/var/log/mail.log"
	case RoleBuild:
		return "/var/log/syslog"
	}
	return pick(d, []string{"/var/log/syslog", "/var/log/auth.log"})
}

func (f *Fleet) roleService(role Role, d *rng) string {
	switch role {
	case RoleWeb:
		return pick(d, []string{"nginx", "app", "nginx"})
	case RoleDB:
		return "postgresql@14-main"
	case RoleBuild:
		return "gitlab-runner"
	case RoleDocker:
		return pick(d, []string{"docker", "containerd"})
	case RoleMail:
		return pick(d, []string{"postfix", "dovecot"})
	case RoleMonitor:
		return "nagios4"
	}
	return pick(d, []string{"ssh", "cron", "rsyslog"})
}

// roleCommand is something only a host of its role is used for.
func (f *Fleet) roleCommand(s *shaper, sh int, t int64, admin user) int64 {
	switch s.e.role {
	case RoleWeb:
		if s.r.chance(0.5) {
			return f.sudo(s, sh, t, func(p int, at int64) int64 {
				i := s.exec(p, pNginx, at)
				s.argv(i, "nginx", "-t")
				return at + s.ms(20, 80)
			})
		}
		i := s.exec(sh, pCurl, t)
		s.argv(i, "curl", "-sI", "http://localhost/")
		return t + s.ms(10, 80)
	case RoleDB:
		if s.r.chance(0.3) {
			i := s.exec(sh, pPgLsclusters, t)
			s.argv(i, "/usr/bin/perl", "/usr/bin/pg_lsclusters")
			return t + s.ms(20, 60)
		}
		return f.sudo(s, sh, t, func(p int, at int64) int64 {
			w := s.exec(p, pPsqlWrap, at)
			s.as(w, s.f.user("postgres"))
			s.argv(w, "/usr/bin/perl", "/usr/bin/psql")
			q := s.execSame(w, pPsql, at+s.ms(20, 60))
			s.argv(q, "/usr/lib/postgresql/14/bin/psql")
			return at + s.sec(10, 600)
		}, "-u", "postgres")
	case RoleBuild:
		if s.r.chance(0.5) {
			i := s.exec(sh, pDocker, t)
			s.argv(i, "docker", "ps")
			return t + s.ms(40, 200)
		}
		return f.sudo(s, sh, t, func(p int, at int64) int64 {
			i := s.exec(p, pGitlabRunner, at)
			s.argv(i, "gitlab-runner", "status")
			return at + s.ms(40, 200)
		})
	case RoleDocker:
		return f.sudo(s, sh, t, func(p int, at int64) int64 {
			i := s.exec(p, pDocker, at)
			if s.detail {
				args := [][]string{{"docker", "ps"}, {"docker", "stats", "--no-stream"}, {"docker", "logs", "--tail", "100"}}
				a := pick(&s.d, args)
				if a[1] == "logs" && len(s.e.containers) > 0 {
					a = append(a, pick(&s.d, s.e.containers).name)
				}
				s.argv(i, a...)
			}
			return at + s.ms(40, 3000)
		})
	case RoleMail:
		i := s.exec(sh, pPostqueue, t)
		s.argv(i, "mailq")
		return t + s.ms(10, 60)
	case RoleMonitor:
		i := s.exec(sh, pCheckNrpe, t)
		if s.detail {
			s.argv(i, "/usr/lib/nagios/plugins/check_nrpe", "-H", pick(&s.d, s.f.hosts).ip, "-c", "check_load")
		}
		return t + s.ms(20, 300)
	case RoleBastion:
		if s.r.chance(0.5) {
			i := s.exec(sh, pTmux, t)
			s.argv(i, "tmux", "attach")
			return t + s.sec(5, 600)
		}
		i := s.exec(sh, pSshAgent, t)
		s.argv(i, "ssh-agent", "-s")
		return t + s.ms(5, 20)
	}
	i := s.exec(sh, pUname, t)
	s.argv(i, "uname", "-a")
	return t + s.ms(2, 5)
}

// hop is an ssh or scp from a bastion to another host of the fleet.
func (f *Fleet) hop(s *shaper, sh int, t int64, admin user) int64 {
	if s.r.chance(0.8) {
		i := s.exec(sh, pSsh, t)
		if s.detail {
			s.argv(i, "ssh", pick(&s.d, s.f.hosts).name)
		}
		return t + s.sec(20, 1800)
	}
	return f.scp(s, sh, t, admin.name, "")
}

// scp copies a file to another host; scp runs ssh for the transport.
func (f *Fleet) scp(s *shaper, sh int, t int64, login, target string) int64 {
	c := s.exec(sh, pScp, t)
	x := s.exec(c, pSsh, t+s.ms(2, 8))
	if s.detail {
		if target == "" {
			target = pick(&s.d, s.f.hosts).name
		}
		file := pick(&s.d, []string{"notes.md", "backup.tar.gz", "config.yml", "dump.sql.gz", "id_ed25519.pub"})
		s.argv(c, "scp", file, target+":/tmp/")
		s.argv(x, "/usr/bin/ssh", "-x", "-oPermitLocalCommand=no", "-oClearAllForwarding=yes", "-oRemoteCommand=none",
			"-oRequestTTY=no", "-oForwardAgent=no", "-l", login, "-s", "--", target, "sftp")
	}
	return t + s.ms(300, 4000)
}

func (f *Fleet) webActivities(e *entity, r *rng) {
	www := f.user("www-data")
	app := func(s *shaper) progID {
		if s.e.releaseAt > 0 && s.at >= s.e.releaseAt {
			return pAppNew
		}
		return pAppOld
	}
	e.acts = append(e.acts,
		cronAct("app-scheduler", everyMinutes(10, r.intn(10)), allHours, allDays, func(s *shaper) {
			s.cron(www)
			sh := s.exec(-1, pDash, s.ms(1, 5))
			s.argv(sh, "/bin/sh", "-c", "/opt/app/bin/app run-scheduled >> /var/log/app/scheduler.log 2>&1")
			a := s.exec(sh, app(s), s.ms(3, 9))
			s.argv(a, "/opt/app/bin/app", "run-scheduled")
		}),
		poissonAct("web-convert", 10, profTraffic, func(s *shaper) {
			s.from(dApp, www)
			i := s.exec(-1, pConvert, 0)
			if s.detail {
				id := hexID(&s.d, 16)
				s.argv(i, "convert", "/var/lib/app/uploads/tmp/"+id+".jpg", "-resize", "1024x1024>", "-strip", "/var/lib/app/uploads/"+id+"_1024.jpg")
				s.cwd(i, "/opt/app")
			}
		}),
		poissonAct("web-sendmail", 4, profTraffic, func(s *shaper) {
			s.from(dApp, www)
			i := s.exec(-1, pSendmail, 0)
			s.argv(i, "/usr/sbin/sendmail", "-t", "-i")
			s.cwd(i, "/opt/app")
			d := s.exec(i, pPostdrop, s.ms(5, 30))
			s.argv(d, "/usr/sbin/postdrop", "-r")
		}),
		randomAct("certbot", 2, func(s *shaper) {
			s.service(s.user("root"))
			i := s.exec(-1, pCertbot, 0)
			s.argv(i, "/usr/bin/python3", "/usr/bin/certbot", "-q", "renew")
		}))
}

func (f *Fleet) dbActivities(e *entity, r *rng) {
	pg := f.user("postgres")
	e.acts = append(e.acts,
		poissonAct("wal-archive", 8, profTraffic, func(s *shaper) {
			s.from(dPostgres, pg)
			sh := s.exec(-1, pDash, 0)
			s.cwd(sh, "/var/lib/postgresql/14/main")
			if s.detail {
				seg := fmt.Sprintf("00000001%08X%08X", 0xA3+s.d.intn(4), s.d.intn(256))
				s.argv(sh, "sh", "-c", "test ! -f /var/lib/postgresql/wal_archive/"+seg+" && cp pg_wal/"+seg+" /var/lib/postgresql/wal_archive/"+seg)
				c := s.exec(sh, pCp, s.ms(1, 4))
				s.argv(c, "cp", "pg_wal/"+seg, "/var/lib/postgresql/wal_archive/"+seg)
			} else {
				s.exec(sh, pCp, s.ms(1, 4))
			}
		}),
		cronAct("pg-backup", cronMinutes(30), hoursMask(1), allDays, func(s *shaper) {
			s.cron(pg)
			sh := s.exec(-1, pDash, 2)
			s.argv(sh, "/bin/sh", "-c", "/usr/local/bin/pg-backup.sh >> /var/log/postgresql/backup.log 2>&1")
			b := s.exec(sh, pPgBackup, s.ms(3, 8))
			s.argv(b, "/bin/bash", "/usr/local/bin/pg-backup.sh")
			t := s.steps[b].off + s.ms(5, 20)
			d := s.exec(b, pDate, t)
			s.argv(d, "date", "+%F")
			t += s.ms(5, 20)
			w := s.exec(b, pPgDumpWrap, t)
			g := s.exec(b, pGzip, t+1)
			s.argv(w, "/usr/bin/perl", "/usr/bin/pg_dump", "-Fc", "shop")
			pd := s.execSame(w, pPgDump, t+s.ms(20, 60))
			s.argv(pd, "/usr/lib/postgresql/14/bin/pg_dump", "-Fc", "shop")
			s.argv(g, "gzip", "-c")
			t += s.sec(40, 400)
			h := s.exec(b, pSha256, t)
			s.argv(h, "sha256sum", "/var/backups/pg/shop.dump.gz")
			t += s.ms(300, 3000)
			rs := s.exec(b, pRsync, t)
			s.argv(rs, "rsync", "-a", "-e", "ssh -i /var/lib/postgresql/.ssh/backup_ed25519", "/var/backups/pg/", "backup@backup.internal:/srv/backup/"+s.e.name+"/")
			x := s.exec(rs, pSsh, t+s.ms(5, 20))
			s.argv(x, "ssh", "-i", "/var/lib/postgresql/.ssh/backup_ed25519", "-l", "backup", "backup.internal", "rsync", "--server", "-logDtpre.iLsfxCIvu", ".", "/srv/backup/"+s.e.name+"/")
			t += s.sec(5, 120)
			fd := s.exec(b, pFind, t)
			s.argv(fd, "find", "/var/backups/pg", "-name", "*.dump.gz", "-mtime", "+7", "-delete")
		}),
		intervalAct("nrpe-pgsql", 30*minuteMS, int64(r.intn(1800))*1000, 1500, func(s *shaper) {
			s.from(dNrpe, s.user("nagios"))
			sh := s.exec(-1, pDash, 0)
			s.argv(sh, "/bin/sh", "-c", "/usr/lib/nagios/plugins/check_pgsql -H localhost -d shop")
			c := s.exec(sh, pCheckPgsql, s.ms(1, 4))
			s.argv(c, "/usr/lib/nagios/plugins/check_pgsql", "-H", "localhost", "-d", "shop")
		}))
}

// ciBuild is one CI job on a shell executor: fetch, build, package.
func (f *Fleet) ciBuild(s *shaper) {
	gr := f.user("gitlab-runner")
	s.from(dRunner, gr)
	project := pick(&s.r, []string{"shop-api", "billing", "libfoo", "frontend", "infra-tools"})
	dir := "/home/gitlab-runner/builds/x7Kp2sQm/0/shop/" + project
	sh := s.exec(-1, pBash, 0)
	s.argv(sh, "bash", "--login")
	s.cwd(sh, "/home/gitlab-runner")
	t := s.ms(50, 300)
	for _, g := range [][]string{{"git", "--version"}, {"git", "init", dir}, {"git", "remote", "set-url", "origin", "https://gitlab.internal/shop/" + project + ".git"}, {"git", "fetch", "origin", "--prune"}, {"git", "checkout", "-f", "-q"}, {"git", "clean", "-ffdx"}} {
		i := s.exec(sh, pGit, t)
		s.argv(i, g...)
		s.cwd(i, dir)
		if g[1] == "fetch" {
			rh := s.exec(i, pGitRemoteHTTPS, t+s.ms(5, 20))
			s.argv(rh, "git-remote-https", "origin", "https://gitlab.internal/shop/"+project+".git")
			t += s.sec(1, 8)
		}
		t += s.ms(10, 120)
	}
	switch project {
	case "shop-api", "billing", "infra-tools":
		mk := s.exec(sh, pMake, t)
		s.argv(mk, "make", "build")
		s.cwd(mk, dir)
		msh := s.exec(mk, pDash, t+s.ms(3, 10))
		s.argv(msh, "/bin/sh", "-c", "go build -trimpath -o bin/ ./...")
		g := s.exec(msh, pGo, t+s.ms(5, 15))
		s.argv(g, "go", "build", "-trimpath", "-o", "bin/", "./...")
		t += s.ms(200, 800)
		for i, n := 0, s.r.between(8, 60); i < n; i++ {
			c := s.exec(g, pGoCompile, t)
			if s.detail {
				s.argv(c, "/usr/local/go/pkg/tool/linux_amd64/compile", "-o", fmt.Sprintf("$WORK/b%03d/_pkg_.a", i+1), "-trimpath", "$WORK/b001=>", "-p", fmt.Sprintf("gitlab.internal/shop/%s/internal/pkg%d", project, i), "-lang=go1.21", "-complete", "-pack")
			}
			if s.r.chance(0.05) {
				a := s.exec(g, pGoAsm, t+s.ms(5, 50))
				s.argv(a, "/usr/local/go/pkg/tool/linux_amd64/asm", "-p", "runtime", "-trimpath", "$WORK/b002=>")
			}
			t += s.ms(40, 900)
		}
		for i, n := 0, s.r.between(1, 3); i < n; i++ {
			l := s.exec(g, pGoLink, t)
			s.argv(l, "/usr/local/go/pkg/tool/linux_amd64/link", "-o", "$WORK/b001/exe/a.out", "-buildmode=exe")
			t += s.sec(1, 6)
		}
	case "libfoo":
		mk := s.exec(sh, pMake, t)
		s.argv(mk, "make", "-j2")
		s.cwd(mk, dir)
		t += s.ms(20, 80)
		for i, n := 0, s.r.between(5, 40); i < n; i++ {
			g := s.exec(mk, pGcc, t)
			if s.detail {
				src := fmt.Sprintf("src/mod%02d.c", i)
				s.argv(g, "gcc", "-O2", "-Wall", "-fPIC", "-c", src, "-o", src[:len(src)-2]+".o")
			}
			c1 := s.exec(g, pCc1, t+s.ms(2, 6))
			s.argv(c1, "/usr/lib/gcc/x86_64-linux-gnu/11/cc1", "-quiet", "-imultiarch", "x86_64-linux-gnu", "-O2", "-Wall", "-fPIC")
			as := s.exec(g, pAs, s.steps[c1].off+s.ms(100, 1500))
			s.argv(as, "as", "--64", "-o", "/tmp/ccQ1x2aB.o", "/tmp/ccZ9y8cD.s")
			t = s.steps[as].off + s.ms(20, 200)
		}
		g := s.exec(mk, pGcc, t)
		s.argv(g, "gcc", "-shared", "-o", "libfoo.so", "src/*.o")
		c2 := s.exec(g, pCollect2, t+s.ms(2, 8))
		s.argv(c2, "/usr/lib/gcc/x86_64-linux-gnu/11/collect2", "-plugin", "/usr/lib/gcc/x86_64-linux-gnu/11/liblto_plugin.so", "--build-id", "-shared", "-o", "libfoo.so")
		ld := s.exec(c2, pLd, t+s.ms(10, 20))
		s.argv(ld, "/usr/bin/ld", "-plugin", "/usr/lib/gcc/x86_64-linux-gnu/11/liblto_plugin.so", "--build-id", "-shared", "-o", "libfoo.so")
		t += s.ms(300, 2000)
	default:
		np := s.exec(sh, pNpm, t)
		s.argv(np, "/usr/bin/node", "/usr/bin/npm", "ci")
		s.cwd(np, dir)
		t += s.sec(5, 60)
		for i, n := 0, s.r.between(1, 4); i < n; i++ {
			x := s.execvp(np, pDash, t)
			s.argv(x, "sh", "-c", "node install.js")
			nd := s.exec(x, pNode, t+s.ms(2, 8))
			s.argv(nd, "node", "install.js")
			t += s.sec(1, 10)
		}
		nb := s.exec(sh, pNpm, t)
		s.argv(nb, "/usr/bin/node", "/usr/bin/npm", "run", "build")
		x := s.exec(nb, pDash, t+s.ms(100, 400))
		s.argv(x, "sh", "-c", "vite build")
		nd := s.exec(x, pNode, t+s.ms(105, 420))
		s.argv(nd, "node", "/home/gitlab-runner/builds/x7Kp2sQm/0/shop/frontend/node_modules/.bin/vite", "build")
		t += s.sec(10, 90)
	}
	if s.r.chance(0.4) {
		d := s.exec(sh, pDocker, t)
		s.argv(d, "docker", "build", "-t", "registry.internal/shop/"+project+":ci", ".")
		t += s.sec(20, 200)
		p := s.exec(sh, pDocker, t)
		s.argv(p, "docker", "push", "registry.internal/shop/"+project+":ci")
		t += s.sec(5, 60)
	}
	tr := s.exec(sh, pTar, t)
	s.argv(tr, "tar", "czf", "artifacts.tar.gz", "bin/")
	t += s.ms(200, 3000)
	hs := s.exec(sh, pSha256, t)
	s.argv(hs, "sha256sum", "artifacts.tar.gz")
	t += s.ms(20, 200)
	up := s.exec(sh, pCurl, t)
	s.argv(up, "curl", "--fail", "-sS", "--upload-file", "artifacts.tar.gz", "https://artifacts.internal/shop/"+project+"/")
	s.exec(sh, pRm, t+s.ms(300, 3000))
	s.argv(len(s.steps)-1, "rm", "-rf", "/tmp/build-cache")
}

// hostHealthchecks is the host side of a container's health check: dockerd
// has containerd run runc exec for each probe.
func (f *Fleet) hostHealthchecks(e, c *entity) {
	every, phase := healthcheckTiming(c)
	e.acts = append(e.acts, intervalAct("runc-exec", every, phase, 300, func(s *shaper) {
		s.from(dContainerd, s.user("root"))
		i := s.exec(-1, pRunc, 0)
		if s.detail {
			s.argv(i, "runc", "--root", "/var/run/docker/runtime-runc/moby", "--log", "/run/containerd/io.containerd.runtime.v2.task/moby/"+c.cid+"/log.json",
				"--log-format", "json", "exec", "--process", "/tmp/runc-process"+fmt.Sprint(s.d.between(100000000, 999999999)), "--detach", "--pid-file",
				"/run/containerd/io.containerd.runtime.v2.task/moby/"+c.cid+"/"+hexID(&s.d, 8)+".pid", c.cid)
		}
	}))
}

// healthcheckTiming is a container's probe interval and phase.
func healthcheckTiming(c *entity) (every, phase int64) {
	r := newRNG(c.key, 7)
	every = int64(pick(&r, []int{180, 300, 300, 600, 600})) * 1000
	return every, int64(r.intn(int(every/1000))) * 1000
}

// containerStart is dockerd (re)starting a container on its host.
func (f *Fleet) containerStart(s *shaper) {
	s.from(dContainerd, s.user("root"))
	cid := hexID(&s.r, 12)
	sh := s.exec(-1, pShim, 0)
	s.argv(sh, "/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", cid, "-address", "/run/containerd/containerd.sock")
	t := s.ms(5, 30)
	rc := s.exec(sh, pRunc, t)
	s.argv(rc, "runc", "--root", "/var/run/docker/runtime-runc/moby", "create", "--bundle", "/run/containerd/io.containerd.runtime.v2.task/moby/"+cid, cid)
	t += s.ms(100, 400)
	rs := s.exec(sh, pRunc, t)
	s.argv(rs, "runc", "--root", "/var/run/docker/runtime-runc/moby", "start", cid)
	s.from(dDockerd, s.user("root"))
	for i, n := 0, s.r.between(2, 5); i < n; i++ {
		t += s.ms(2, 30)
		ip := s.exec(-1, pIptables, t)
		s.argv(ip, "/usr/sbin/iptables", "--wait", "-t", "nat", "-C", "DOCKER", "-p", "tcp", "-d", "0/0", "--dport", "8080", "-j", "DNAT")
	}
	dp := s.exec(-1, pDockerProxy, t+s.ms(5, 40))
	s.argv(dp, "/usr/sbin/docker-proxy", "-proto", "tcp", "-host-ip", "0.0.0.0", "-host-port", "8080", "-container-ip", "172.17.0.2", "-container-port", "8080")
}

func (f *Fleet) mailEpisode(s *shaper) {
	s.from(dMaster, f.user("root"))
	pf := f.user("postfix")
	t := int64(0)
	sm := s.exec(-1, pSmtpd, t)
	s.as(sm, pf)
	s.argv(sm, "smtpd", "-n", "smtp", "-t", "inet", "-u", "-c", "-o", "stress=", "-s", "2")
	s.cwd(sm, "/var/spool/postfix")
	for _, p := range []progID{pCleanup, pTrivialRewrite, pAnvil} {
		if s.r.chance(0.35) {
			t += s.ms(5, 400)
			i := s.exec(-1, p, t)
			s.as(i, pf)
			s.cwd(i, "/var/spool/postfix")
			s.argv(i, programs[p].comm(), "-z", "-t", "unix", "-u", "-c")
		}
	}
	t += s.ms(200, 4000)
	if s.r.chance(0.7) {
		pp := s.exec(-1, pPipe, t)
		s.argv(pp, "pipe", "-n", "spamassassin", "-t", "unix", "flags=Rq", "user=debian-spamd", "argv=/usr/bin/spamc")
		s.cwd(pp, "/var/spool/postfix")
		sc := s.exec(pp, pSpamc, t+s.ms(2, 10))
		s.argv(sc, "/usr/bin/spamc", "-f", "-e", "/usr/sbin/sendmail", "-oi", "-f", "bounce@example.org")
		s.cwd(sc, "/var/spool/postfix")
		t += s.ms(300, 3000)
	}
	p := pLocal
	if s.r.chance(0.6) {
		p = pSmtp
	}
	i := s.exec(-1, p, t)
	s.as(i, pf)
	s.cwd(i, "/var/spool/postfix")
	s.argv(i, programs[p].comm(), "-t", "unix")
	if s.r.chance(0.04) {
		b := s.exec(-1, pBounce, t+s.ms(100, 2000))
		s.as(b, pf)
		s.argv(b, "bounce", "-z", "-n", "defer", "-t", "unix", "-u", "-c")
	}
}

func (f *Fleet) monitorActivities(e *entity, r *rng) {
	n := min(4, len(f.hosts))
	start := r.intn(len(f.hosts))
	nag := f.user("nagios")
	for k := 0; k < n; k++ {
		target := f.hosts[(start+k)%len(f.hosts)]
		ip, name, web := target.ip, target.name, target.role == RoleWeb
		ph := func(every int64) int64 { return int64(r.intn(int(every/1000))) * 1000 }
		e.acts = append(e.acts,
			intervalAct("check-ping", 15*minuteMS, ph(15*minuteMS), 3000, func(s *shaper) {
				s.from(dNagios, nag)
				c := s.exec(-1, pCheckPing, 0)
				s.argv(c, "/usr/lib/nagios/plugins/check_ping", "-H", ip, "-w", "100.0,20%", "-c", "500.0,60%", "-p", "5")
				p := s.exec(c, pPing, s.ms(1, 5))
				s.argv(p, "/usr/bin/ping", "-n", "-U", "-W", "30", "-c", "5", ip)
			}),
			intervalAct("check-nrpe", 10*minuteMS, ph(10*minuteMS), 3000, func(s *shaper) {
				s.from(dNagios, nag)
				c := s.exec(-1, pCheckNrpe, 0)
				s.argv(c, "/usr/lib/nagios/plugins/check_nrpe", "-H", ip, "-c", "check_load")
			}),
			intervalAct("check-ssh", 15*minuteMS, ph(15*minuteMS), 3000, func(s *shaper) {
				s.from(dNagios, nag)
				c := s.exec(-1, pCheckSSH, 0)
				s.argv(c, "/usr/lib/nagios/plugins/check_ssh", "-H", ip)
			}))
		if web {
			e.acts = append(e.acts, intervalAct("check-http", 10*minuteMS, ph(10*minuteMS), 3000, func(s *shaper) {
				s.from(dNagios, nag)
				c := s.exec(-1, pCheckHTTP, 0)
				s.argv(c, "/usr/lib/nagios/plugins/check_http", "-H", name, "-I", ip, "-u", "/healthz")
			}))
		}
	}
}

// containerActivities is the life of a container: health probes, the work
// its application hands to other programs, an occasional docker exec.
func (f *Fleet) containerActivities(e *entity, r *rng) {
	every, phase := healthcheckTiming(e)
	root := f.user("root")
	probe := func(s *shaper) {
		s.from(dShim, root)
		switch e.img {
		case imgAPI:
			i := s.exec(-1, pCurl, 0)
			s.argv(i, "curl", "-fsS", "http://localhost:8000/healthz")
		case imgWorker:
			i := s.exec(-1, pCelery, 0)
			s.argv(i, "/usr/local/bin/python", "/usr/local/bin/celery", "-A", "app", "inspect", "ping", "-d", "celery@"+e.cid)
			s.cwd(i, "/app")
		case imgNginx:
			i := s.exec(-1, pCurl, 0)
			s.argv(i, "curl", "-f", "http://localhost/")
		case imgRedis:
			i := s.exec(-1, pRedisCli, 0)
			s.argv(i, "redis-cli", "ping")
			s.cwd(i, "/data")
		case imgPostgres:
			i := s.exec(-1, pPgIsready, 0)
			s.argv(i, "pg_isready", "-U", "app")
		case imgNode:
			i := s.exec(-1, pCNode, 0)
			s.argv(i, "node", "/app/healthcheck.js")
			s.cwd(i, "/app")
		}
	}
	e.acts = append(e.acts, intervalAct("healthcheck", every, phase, 300, probe))
	switch e.img {
	case imgWorker:
		e.acts = append(e.acts, poissonAct("worker-task", 12, profTraffic, func(s *shaper) {
			s.from(dInit, f.user("nobody"))
			s.rootProg = pCelery
			if s.detail {
				s.root.args = []string{"/usr/local/bin/python", "/usr/local/bin/celery", "-A", "app", "worker", "-l", "info"}
				s.root.cwd = "/app"
			}
			p := pFfmpeg
			if s.r.chance(0.4) {
				p = pPdftotext
			}
			i := s.execvp(-1, p, 0)
			if s.detail {
				id := hexID(&s.d, 12)
				if p == pFfmpeg {
					s.argv(i, "ffmpeg", "-y", "-i", "/tmp/in-"+id+".mov", "-vf", "scale=1280:-2", "/tmp/out-"+id+".mp4")
				} else {
					s.argv(i, "pdftotext", "-layout", "/tmp/doc-"+id+".pdf", "-")
				}
				s.cwd(i, "/app")
			}
		}))
	case imgAPI:
		e.acts = append(e.acts, poissonAct("api-report", 1.5, profOffice, func(s *shaper) {
			s.from(dInit, f.user("nobody"))
			i := s.execvp(-1, pCPython, 0)
			s.argv(i, "python", "-m", "app.reports", "--daily")
			s.cwd(i, "/app")
		}))
	case imgNode:
		e.acts = append(e.acts, poissonAct("node-fetch", 2, profTraffic, func(s *shaper) {
			s.from(dInit, f.user("nobody"))
			sh := s.exec(-1, pBusyboxSh, 0)
			s.argv(sh, "/bin/sh", "-c", "wget -q -O /tmp/rates.json https://api.exchange.example/latest")
			w := s.exec(sh, pBusyboxWget, s.ms(1, 4))
			s.argv(w, "wget", "-q", "-O", "/tmp/rates.json", "https://api.exchange.example/latest")
			s.cwd(w, "/app")
		}))
	}
	e.acts = append(e.acts, poissonAct("docker-exec", 0.15, profOffice, func(s *shaper) {
		s.from(dShim, root)
		sh := s.exec(-1, e.shell, 0)
		s.argv(sh, "sh")
		t := s.sec(2, 20)
		for i, n := 0, s.r.between(1, 6); i < n; i++ {
			var p progID
			switch {
			case e.shell == pBusyboxSh:
				p = pBusyboxSh
			case s.r.chance(0.5):
				p = pLs
			default:
				p = pCat
			}
			c := s.exec(sh, p, t)
			if s.detail {
				if p == pBusyboxSh {
					s.argv(c, "sh", "-c", "ls -la /data")
				} else if p == pLs {
					s.argv(c, "ls", "-la")
				} else {
					s.argv(c, "cat", pick(&s.d, []string{"/etc/os-release", "/proc/1/status", "/etc/hosts"}))
				}
			}
			t += s.sec(2, 40)
		}
	}))
	e.acts = append(e.acts, poissonAct("container-restart", 0.004, profFlat, func(s *shaper) {
		s.from(dShim, root)
		switch e.img {
		case imgRedis:
			i := s.exec(-1, pEntrypointAlpine, 0)
			s.argv(i, "/bin/sh", "/usr/local/bin/docker-entrypoint.sh", "redis-server")
			j := s.execSame(i, pRedisServer, s.ms(5, 30))
			s.argv(j, "redis-server")
		case imgNginx:
			i := s.exec(-1, pNginxEntrypoint, 0)
			s.argv(i, "/bin/sh", "/docker-entrypoint.sh", "nginx", "-g", "daemon off;")
			j := s.execSame(i, pNginx, s.ms(20, 90))
			s.argv(j, "nginx", "-g", "daemon off;")
		case imgNode:
			i := s.exec(-1, pEntrypointAlpine, 0)
			s.argv(i, "/bin/sh", "/usr/local/bin/docker-entrypoint.sh", "node", "server.js")
			j := s.execSame(i, pCNode, s.ms(5, 30))
			s.argv(j, "node", "server.js")
		default:
			i := s.exec(-1, pEntrypointDeb, 0)
			s.argv(i, "/bin/sh", "/usr/local/bin/docker-entrypoint.sh")
			j := s.execSame(i, pGunicorn, s.ms(5, 30))
			s.argv(j, "/usr/local/bin/python", "/usr/local/bin/gunicorn", "app:app", "-b", "0.0.0.0:8000", "-w", "4")
		}
	}))
	_ = r
}
