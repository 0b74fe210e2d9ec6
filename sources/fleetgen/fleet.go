package fleetgen

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/auditlens/auditlens/sources"
)

// Role is what a host is for; it decides the host's programs and rhythm.
type Role string

const (
	RoleWeb     Role = "web"
	RoleDB      Role = "db"
	RoleBuild   Role = "build"
	RoleBastion Role = "bastion"
	RoleDocker  Role = "docker-worker"
	RoleMail    Role = "mail"
	RoleMonitor Role = "monitor"
)

// Host is one machine of the fleet.
type Host struct {
	Name       string
	Role       Role
	IP         string
	Containers []string // names of the containers it runs
}

// Container is one Docker container, running on a docker-worker host.
type Container struct {
	ID      string // 12 hex characters, as docker ps shows it
	Name    string
	Runtime string // "docker"
	Image   string
	Host    string
}

// image is the kind of software a container runs.
type image uint8

const (
	imgAPI image = iota
	imgWorker
	imgNginx
	imgRedis
	imgPostgres
	imgNode
	numImages
)

var imageInfo = [numImages]struct {
	name    string // docker image reference
	service string // compose service name
}{
	imgAPI:      {"registry.internal/shop/api:2024.02", "api"},
	imgWorker:   {"registry.internal/shop/worker:2024.02", "worker"},
	imgNginx:    {"nginx:1.25", "proxy"},
	imgRedis:    {"redis:7-alpine", "redis"},
	imgPostgres: {"postgres:16", "db"},
	imgNode:     {"registry.internal/shop/frontend:2024.02", "frontend"},
}

// daemon names a long-lived process whose pid parents the jobs it spawns.
type daemon uint8

const (
	dFresh daemon = iota // a short-lived intermediate process (cron's child), fresh pid
	dSystemd
	dCron
	dSshd
	dNrpe
	dNginx
	dApp
	dPostgres
	dRunner
	dDockerd
	dContainerd
	dMaster
	dDovecot
	dNagios
	dShim     // a container's shim, on its host
	dInit     // a container's main process
	dOrphaned // an earlier process that left no record
	numDaemons
)

// entity is a host or a container: one partition of the detectors.
type entity struct {
	idx   int
	scope sources.Scope
	name  string
	host  *entity // the container's host; the host itself for hosts
	role  Role
	img   image
	cid   string
	ip    string
	key   uint64 // stream key
	acts  []*activity
	mods  []modulator
	scale float64 // multiplier of variable activities, from calibration
	// target is the calibrated mean number of executions per day.
	target float64

	containers []*entity
	daemons    [numDaemons]int64
	pidStart   int64
	hostID     string
	agentID    string
	device     string // the device of its root file system, for PATH records
	shell      progID // the container's /bin/sh
	releaseAt  int64  // when the new application version arrives (web hosts)
}

// Fleet is a generated fleet. It holds the model only; events are produced on
// demand, in time order, without holding them.
type Fleet struct {
	cfg        Config
	kinds      []Kind
	start      int64 // unix ms
	end        int64
	hosts      []*entity
	conts      []*entity
	all        []*entity // hosts, then containers
	byName     map[string]*entity
	users      []user
	userByID   map[uint32]int
	admins     []int // indices into users
	exes       []string
	progExe    [numPrograms]uint16
	comms      [numPrograms]string
	prof       [numProfiles][]float32
	profMean   [numProfiles]float64
	tzOffset   int // office time zone, hours east of UTC
	labels     []Label
	ips        map[string]bool
	releaseDay int
}

// New builds the fleet a config describes.
func New(cfg Config) (*Fleet, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("fleet config: %w", err)
	}
	kinds, err := cfg.kinds()
	if err != nil {
		return nil, fmt.Errorf("fleet config: %w", err)
	}
	for _, k := range kinds {
		if k.NeedsContainers() && cfg.Containers == 0 {
			return nil, fmt.Errorf("fleet config: scenario element %q needs containers, and the fleet has none", k)
		}
	}
	cfg.Start = cfg.Start.UTC()
	f := &Fleet{
		cfg:    cfg,
		kinds:  kinds,
		start:  cfg.Start.UnixMilli(),
		byName: map[string]*entity{},
		ips:    map[string]bool{},
	}
	f.end = f.start + int64(cfg.Days)*dayMS
	r := newRNG(uint64(cfg.Seed), 0xf1ee7)
	f.tzOffset = pick(&r, []int{0, 1, 1, 2, -5, -8, 8})
	f.buildProfiles()
	f.buildExeTable()
	f.buildUsers(&r)
	f.buildHosts(&r)
	f.buildContainers(&r)
	f.finishEntities()
	for _, e := range f.all {
		f.buildActivities(e)
	}
	if err := f.placeIncidents(&r); err != nil {
		return nil, err
	}
	f.calibrate()
	f.measureLabels()
	return f, nil
}

const (
	minuteMS = int64(60_000)
	hourMS   = 60 * minuteMS
	dayMS    = 24 * hourMS
)

// Config returns the config the fleet was built from.
func (f *Fleet) Config() Config { return f.cfg }

// Start and End bound the generated range: [Start, End).
func (f *Fleet) Start() time.Time { return time.UnixMilli(f.start).UTC() }
func (f *Fleet) End() time.Time   { return time.UnixMilli(f.end).UTC() }

// Scenario returns the kinds injected into the fleet.
func (f *Fleet) Scenario() []Kind { return slices.Clone(f.kinds) }

// Hosts returns the fleet's hosts, sorted by name.
func (f *Fleet) Hosts() []Host {
	out := make([]Host, 0, len(f.hosts))
	for _, e := range f.hosts {
		h := Host{Name: e.name, Role: e.role, IP: e.ip}
		for _, c := range e.containers {
			h.Containers = append(h.Containers, c.name)
		}
		out = append(out, h)
	}
	return out
}

// Containers returns the fleet's containers, sorted by name.
func (f *Fleet) Containers() []Container {
	out := make([]Container, 0, len(f.conts))
	for _, e := range f.conts {
		out = append(out, Container{ID: e.cid, Name: e.name, Runtime: "docker", Image: imageInfo[e.img].name, Host: e.host.name})
	}
	return out
}

// Executables returns the distinct executables an entity (host or container
// name) can run in normal life, sorted.
func (f *Fleet) Executables(entity string) []string {
	e := f.byName[entity]
	if e == nil {
		return nil
	}
	seen := map[uint16]bool{}
	var sc shaper
	sc.f, sc.e = f, e
	for _, a := range e.acts {
		if a.label >= 0 {
			continue
		}
		for i := 0; i < 64; i++ {
			sc.reset(a, f.start+int64(i)*3*hourMS+int64(i)*7*minuteMS, key(e.key, uint64(i), 0xe8e), false)
			a.shape(&sc)
			for _, st := range sc.steps {
				seen[st.exe] = true
			}
		}
	}
	var out []string
	for id := range seen {
		out = append(out, f.exes[id])
	}
	sort.Strings(out)
	return out
}

func (f *Fleet) buildExeTable() {
	set := map[string]bool{}
	for p := progID(1); p < numPrograms; p++ {
		set[programs[p].exe] = true
	}
	for x := range set {
		f.exes = append(f.exes, x)
	}
	sort.Strings(f.exes)
	for p := progID(1); p < numPrograms; p++ {
		f.progExe[p] = uint16(slices.Index(f.exes, programs[p].exe))
		f.comms[p] = programs[p].comm()
	}
}

func (f *Fleet) buildUsers(r *rng) {
	f.users = slices.Clone(baseUsers)
	n := r.between(3, 5)
	names := slices.Clone(adminNames)
	for i := range names {
		j := i + r.intn(len(names)-i)
		names[i], names[j] = names[j], names[i]
	}
	for i, name := range names[:n] {
		f.users = append(f.users, user{name, uint32(1001 + i), uint32(1001 + i), "/home/" + name})
		f.admins = append(f.admins, len(f.users)-1)
	}
	f.userByID = map[uint32]int{}
	for i, u := range f.users {
		f.userByID[u.uid] = i
	}
}

func (f *Fleet) user(name string) user {
	for _, u := range f.users {
		if u.name == name {
			return u
		}
	}
	panic("fleetgen: unknown user " + name)
}

// roleAliases are the words fleets use for each role in host names.
var roleAliases = map[Role][]string{
	RoleWeb:     {"web", "www", "app", "front"},
	RoleDB:      {"db", "pg", "sql", "data"},
	RoleBuild:   {"build", "ci", "runner"},
	RoleBastion: {"bastion", "jump", "gw"},
	RoleDocker:  {"docker", "dkr", "node", "worker"},
	RoleMail:    {"mail", "mx", "smtp"},
	RoleMonitor: {"mon", "monitor", "nagios"},
}

var roleOrder = []Role{RoleWeb, RoleDB, RoleBuild, RoleBastion, RoleDocker, RoleMail, RoleMonitor}

func (f *Fleet) assignRoles(r *rng) []Role {
	n := f.cfg.Hosts
	var first []Role
	first = append(first, RoleWeb)
	if f.cfg.Containers > 0 {
		first = append(first, RoleDocker)
	}
	first = append(first, RoleDB, RoleWeb, RoleBuild, RoleBastion, RoleMail, RoleMonitor)
	weights := map[Role]float64{RoleWeb: 0.30, RoleDB: 0.15, RoleBuild: 0.10, RoleBastion: 0.06,
		RoleDocker: 0.16, RoleMail: 0.08, RoleMonitor: 0.05}
	if f.cfg.Containers == 0 {
		weights[RoleDocker] = 0
	}
	sum := 0.0
	for _, ro := range roleOrder {
		weights[ro] *= 0.7 + 0.6*r.float()
		sum += weights[ro]
	}
	roles := make([]Role, 0, n)
	count := map[Role]int{}
	for i := 0; i < n && i < len(first); i++ {
		roles = append(roles, first[i])
		count[first[i]]++
	}
	// Fill the rest by quota, so every fleet gets its roles' shares.
	for len(roles) < n {
		k := float64(len(roles) + 1)
		best, bestDeficit := RoleWeb, -1e9
		for _, ro := range roleOrder {
			if d := weights[ro]/sum*k - float64(count[ro]); d > bestDeficit {
				best, bestDeficit = ro, d
			}
		}
		roles = append(roles, best)
		count[best]++
	}
	return roles
}

func (f *Fleet) buildHosts(r *rng) {
	roles := f.assignRoles(r)
	scheme := r.intn(5)
	alias := map[Role]string{}
	for _, ro := range roleOrder {
		alias[ro] = pick(r, roleAliases[ro])
	}
	site := pick(r, []string{"fra1", "ams3", "nyc2", "sfo3", "lon1", "sgp1", "tor1", "blr1"})
	env := pick(r, []string{"prod", "prd", "live", "p"})
	dc := pick(r, []string{"dc1", "dc2", "eu1", "us2"})
	subnet := r.between(0, 63)
	seq := map[Role]int{}
	used := map[string]bool{}
	renamed := slices.Contains(f.kinds, KindRareHostProcess)
	for i, ro := range roles {
		seq[ro]++
		nn := seq[ro]
		ip := f.newIP(r, subnet)
		var name string
		switch scheme {
		case 0:
			name = fmt.Sprintf("%s-%02d", alias[ro], nn)
		case 1:
			name = fmt.Sprintf("%s-%s%02d", site, alias[ro], nn)
		case 2:
			name = "ip-" + dashIP(ip)
		case 3:
			name = fmt.Sprintf("%s-%s-%d", env, alias[ro], nn)
		default:
			name = fmt.Sprintf("%s%02d.%s", alias[ro], nn, dc)
		}
		if renamed && i == 0 {
			// Elastic's write-up shows its rare process on this host.
			name = elasticHost
		}
		for used[name] {
			name += "x"
		}
		used[name] = true
		e := &entity{scope: sources.ScopeHost, name: name, role: ro, ip: ip}
		e.host = e
		f.hosts = append(f.hosts, e)
	}
	slices.SortFunc(f.hosts, func(a, b *entity) int { return compareStrings(a.name, b.name) })
	for _, e := range f.hosts {
		e.key = key(uint64(f.cfg.Seed), strKey(e.name), 0x4057)
		hr := newRNG(e.key, 1)
		f.hostIdentity(e, &hr)
	}
}

// elasticHost is the host of Elastic's rare-process example.
const elasticHost = "3a30127937b1"

func (f *Fleet) newIP(r *rng, subnet int) string {
	for {
		ip := fmt.Sprintf("10.%d.%d.%d", 10+subnet/8, r.between(0, 31)+32*(subnet%8), r.between(2, 254))
		if !f.ips[ip] {
			f.ips[ip] = true
			return ip
		}
	}
}

func dashIP(ip string) string {
	b := []byte(ip)
	for i, c := range b {
		if c == '.' {
			b[i] = '-'
		}
	}
	return string(b)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

const hexDigits = "0123456789abcdef"

func hexID(r *rng, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[r.intn(16)]
	}
	return string(b)
}

func uuid(r *rng) string {
	s := hexID(r, 32)
	return s[:8] + "-" + s[8:12] + "-4" + s[13:16] + "-" + s[16:20] + "-" + s[20:]
}

// hostIdentity fixes the per-machine constants: pids of its daemons, ids.
func (f *Fleet) hostIdentity(e *entity, r *rng) {
	e.hostID = hexID(r, 32)
	e.agentID = uuid(r)
	e.device = pick(r, []string{"fd:01", "08:01", "103:01", "fc:01"})
	e.pidStart = int64(r.between(4000, 90000))
	base := int64(r.between(380, 700))
	for d := dSystemd; d < numDaemons; d++ {
		e.daemons[d] = base
		base += int64(r.between(3, 60))
	}
	e.daemons[dSystemd] = 1
	e.daemons[dOrphaned] = e.pidStart - int64(r.between(50, 2000))
}

func (f *Fleet) buildContainers(r *rng) {
	if f.cfg.Containers == 0 {
		return
	}
	var workers []*entity
	for _, h := range f.hosts {
		if h.role == RoleDocker {
			workers = append(workers, h)
		}
	}
	project := pick(r, []string{"shop", "billing", "auth", "search", "crm", "ledger"})
	dash := r.chance(0.5) // compose v2 names with dashes, v1 with underscores
	seq := map[image]int{}
	used := map[string]bool{}
	for i := 0; i < f.cfg.Containers; i++ {
		img := image(i % int(numImages))
		if i >= int(numImages) {
			img = image(r.weighted([]float64{3, 3, 2, 1.5, 1, 2}))
		}
		seq[img]++
		sep := "_"
		if dash {
			sep = "-"
		}
		name := fmt.Sprintf("%s%s%s%s%d", project, sep, imageInfo[img].service, sep, seq[img])
		var cid string
		for {
			cid = hexID(r, 12)
			if !used[cid] {
				used[cid] = true
				break
			}
		}
		h := workers[i%len(workers)]
		if i >= len(workers) {
			h = workers[r.intn(len(workers))]
		}
		e := &entity{scope: sources.ScopeContainer, name: name, host: h, role: h.role, img: img, cid: cid, ip: h.ip}
		h.containers = append(h.containers, e)
		f.conts = append(f.conts, e)
	}
	slices.SortFunc(f.conts, func(a, b *entity) int { return compareStrings(a.name, b.name) })
	for _, h := range workers {
		slices.SortFunc(h.containers, func(a, b *entity) int { return compareStrings(a.name, b.name) })
	}
	for _, e := range f.conts {
		e.key = key(uint64(f.cfg.Seed), strKey(e.name), 0xc047)
		cr := newRNG(e.key, 1)
		e.hostID = e.host.hostID
		e.agentID = e.host.agentID
		e.device = fmt.Sprintf("00:%02x", 0x30+cr.intn(0x50))
		// Containers share their host's pid space; give each its own stretch.
		e.pidStart = int64(cr.between(200000, 3000000))
		e.daemons[dShim] = e.pidStart - int64(cr.between(20, 400))
		e.daemons[dInit] = e.daemons[dShim] + int64(cr.between(1, 20))
		e.daemons[dOrphaned] = e.daemons[dInit] + int64(cr.between(1, 10))
		e.daemons[dSystemd] = e.daemons[dShim]
		switch e.img {
		case imgRedis, imgNode:
			e.shell = pBusyboxSh
		default:
			e.shell = pDash
		}
	}
}

func (f *Fleet) finishEntities() {
	f.all = append(append([]*entity{}, f.hosts...), f.conts...)
	for i, e := range f.all {
		e.idx = i
		for f.byName[e.name] != nil {
			e.name += "x"
		}
		f.byName[e.name] = e
	}
}
