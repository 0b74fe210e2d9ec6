package fleetgen

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no start", func(c *Config) { c.Start = time.Time{} }, "start time"},
		{"zero days", func(c *Config) { c.Days = 0 }, "days"},
		{"too many days", func(c *Config) { c.Days = 400 }, "days"},
		{"no hosts", func(c *Config) { c.Hosts = 0 }, "hosts"},
		{"negative containers", func(c *Config) { c.Containers = -1 }, "containers"},
		{"zero rate", func(c *Config) { c.RatePerHostPerDay = 0 }, "rate per host"},
		{"noise too high", func(c *Config) { c.NoiseFraction = 0.9 }, "noise"},
		{"unknown scenario", func(c *Config) { c.Scenario = "default,meteor-strike" }, "meteor-strike"},
		{"unknown incident", func(c *Config) { c.Incidents = []Kind{"nope"} }, "nope"},
		{"container incident without containers", func(c *Config) { c.Containers = 0; c.Scenario = "container-fork-storm" }, "needs containers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.edit(&c)
			_, err := New(c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestParseScenario(t *testing.T) {
	tests := []struct {
		in   string
		want []Kind
	}{
		{"", []Kind{KindRareHostProcess, KindCopySpree, KindReleaseRollout}},
		{"default", []Kind{KindRareHostProcess, KindCopySpree, KindReleaseRollout}},
		{"none", nil},
		{"full", Kinds()},
		{"full,-night-rise,-release-rollout", Kinds()[:7]},
		{" Reverse-Shell , ssh-scp-spree ", []Kind{KindCopySpree, KindReverseShell}},
		{"ssh-scp-spree,ssh-scp-spree", []Kind{KindCopySpree}},
	}
	for _, tt := range tests {
		got, err := ParseScenario(tt.in)
		if err != nil {
			t.Fatalf("ParseScenario(%q): %v", tt.in, err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ParseScenario(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if _, err := ParseScenario("full,bogus"); err == nil {
		t.Error("ParseScenario accepted an unknown element")
	}
}

// hashTree hashes every file under dir by relative path.
func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		defer fh.Close()
		h := sha256.New()
		if _, err := io.Copy(h, fh); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSameConfigWritesIdenticalFiles(t *testing.T) {
	for _, gz := range []bool{false, true} {
		c := smallConfig(7, ScenarioFull)
		c.Hosts, c.Containers = 5, 2
		var trees []map[string]string
		for run := 0; run < 2; run++ {
			dir := t.TempDir()
			if _, err := mustNew(t, c).WriteAll(context.Background(), dir, WriteOptions{Gzip: gz}); err != nil {
				t.Fatal(err)
			}
			trees = append(trees, hashTree(t, dir))
		}
		if len(trees[0]) < 3+c.Hosts {
			t.Fatalf("gzip=%v: only %d files written", gz, len(trees[0]))
		}
		for p, h := range trees[0] {
			if trees[1][p] != h {
				t.Errorf("gzip=%v: %s differs between two runs of the same config", gz, p)
			}
		}
	}
}

func TestDifferentSeedsMakeDifferentFleets(t *testing.T) {
	a, b := mustNew(t, smallConfig(1, ScenarioFull)), mustNew(t, smallConfig(2, ScenarioFull))
	names := func(f *Fleet) []string {
		var out []string
		for _, h := range f.Hosts() {
			out = append(out, h.Name+"/"+string(h.Role))
		}
		for _, c := range f.Containers() {
			out = append(out, c.Name+"/"+c.ID)
		}
		return out
	}
	same := 0
	na, nb := names(a), names(b)
	for _, n := range na {
		if slices.Contains(nb, n) {
			same++
		}
	}
	if same > 2 { // 3a30127937b1 is in both
		t.Errorf("seeds 1 and 2 share %d of %d hosts and containers: %v", same, len(na), na)
	}
	la, lb := a.Labels().Labels, b.Labels().Labels
	differ := 0
	for i := range la {
		if i < len(lb) && (!la[i].Start.Equal(lb[i].Start) || la[i].Entity != lb[i].Entity) {
			differ++
		}
	}
	if differ < len(la)/2 {
		t.Errorf("only %d of %d labels moved between seeds", differ, len(la))
	}
}

// collect streams a fleet's events into executions and checks order.
func collect(t *testing.T, f *Fleet) (execs []exec, noise int) {
	t.Helper()
	var last time.Time
	err := f.Events(context.Background(), func(ev *sources.Event) error {
		if ev.Time.Before(last) {
			t.Fatalf("events out of order: %v after %v", ev.Time, last)
		}
		last = ev.Time
		if (ev.Container.ID != "") != (ev.Scope() == sources.ScopeContainer) || (ev.Container.ID != "" && ev.Container.Runtime != "docker") {
			t.Fatalf("bad container fields: %+v", ev.Container)
		}
		if !ev.IsExecution() {
			noise++
			return nil
		}
		execs = append(execs, exec{Host: ev.Host, Container: ev.Container.Name, Time: ev.Time, Exe: ev.Executable,
			Args: strings.Join(ev.Args, "\x00"), Result: ev.Result})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return execs, noise
}

func TestLabelsMatchEvents(t *testing.T) {
	c := smallConfig(3, ScenarioFull)
	c.Hosts, c.Containers, c.Days = 14, 6, 6
	f := mustNew(t, c)
	execs, _ := collect(t, f)
	labels := f.Labels()
	if len(labels.Anomalies()) != 8 {
		t.Fatalf("full scenario has %d anomalies, want 8", len(labels.Anomalies()))
	}
	entityOf := func(e exec) string {
		if e.Container != "" {
			return e.Container
		}
		return e.Host
	}
	inWindow := func(e exec, l Label) bool { return !e.Time.Before(l.Start) && !e.Time.After(l.End) }
	for _, l := range labels.Labels {
		t.Run(l.ID, func(t *testing.T) {
			if l.Events == 0 && l.Kind != KindNightRise {
				t.Fatalf("label adds no events")
			}
			var onEntity, exesInWindow, exesBefore, allInWindow int
			for _, e := range execs {
				if entityOf(e) != l.Entity {
					continue
				}
				onEntity++
				if inWindow(e, l) {
					allInWindow++
				}
				if slices.Contains(l.Executables, e.Exe) {
					if inWindow(e, l) {
						exesInWindow++
					} else if e.Time.Before(l.Start) {
						exesBefore++
					}
				}
			}
			if onEntity == 0 {
				t.Fatalf("no events on %s", l.Entity)
			}
			switch l.Kind {
			case KindRareHostProcess:
				n := 0
				for _, e := range execs {
					if e.Exe == "/xxprimef" {
						n++
						if e.Host != elasticHost || e.Container != "" {
							t.Errorf("/xxprimef ran on %s/%s", e.Host, e.Container)
						}
					}
				}
				if n != 1 || l.Entity != elasticHost {
					t.Errorf("/xxprimef ran %d times on %s, want once on %s", n, l.Entity, elasticHost)
				}
			case KindContainerRare, KindDailyImplant:
				if exesBefore != 0 || exesInWindow == 0 {
					t.Errorf("%v seen %d times before the label and %d in it", l.Executables, exesBefore, exesInWindow)
				}
			case KindReverseShell:
				if exesInWindow < 3 {
					t.Errorf("only %d of %v in the window", exesInWindow, l.Executables)
				}
				if h := l.Start.Hour(); h != 3 || l.Start.Minute() != 14 {
					t.Errorf("reverse shell starts at %v, want 03:14", l.Start)
				}
				for _, e := range execs {
					if entityOf(e) == l.Entity && e.Exe == "/usr/bin/nc.openbsd" && e.Time.Before(l.Start) {
						t.Errorf("nc ran on %s before the incident", l.Entity)
					}
				}
			case KindCopySpree, KindReconBurst, KindForkStorm, KindNightRise:
				// The window must hold far more than the same hours of the
				// entity's other days.
				base, days := 0, 0
				for d := 1; d < c.Days; d++ {
					for _, sign := range []int{-1, 1} {
						s, e := l.Start.AddDate(0, 0, sign*d), l.End.AddDate(0, 0, sign*d)
						if s.Before(f.Start()) || e.After(f.End()) {
							continue
						}
						days++
						for _, x := range execs {
							if entityOf(x) == l.Entity && !x.Time.Before(s) && !x.Time.After(e) {
								base++
							}
						}
					}
				}
				if days == 0 {
					t.Fatal("no other day to compare with")
				}
				normal := float64(base) / float64(days)
				ratio := float64(allInWindow) / max(normal, 1)
				lo := 4.0
				if l.Kind == KindNightRise {
					lo = 1.6
					if ratio > 3.5 {
						t.Errorf("night rise is %.1fx, want gentle (<= 3.5x)", ratio)
					}
				}
				if ratio < lo {
					t.Errorf("window holds %d executions, other days %.1f: %.1fx, want >= %.1fx", allInWindow, normal, ratio, lo)
				}
				if l.Kind == KindCopySpree && exesInWindow < l.Events*9/10 {
					t.Errorf("only %d ssh/scp in the window, label says %d events", exesInWindow, l.Events)
				}
			case KindReleaseRollout:
				var first, lastOld time.Time
				for _, e := range execs {
					if e.Host != l.Entity || e.Container != "" {
						continue
					}
					if e.Exe == "/opt/app/bin/app-v2.4.1" && first.IsZero() {
						first = e.Time
					}
					if e.Exe == "/opt/app/bin/app-v2.3.7" {
						lastOld = e.Time
					}
				}
				if first.IsZero() || first.Before(l.Start) || first.Sub(l.End) > 15*time.Minute {
					t.Errorf("new version first runs at %v, rollout %v..%v", first, l.Start, l.End)
				}
				if lastOld.After(l.End.Add(2 * time.Minute)) {
					t.Errorf("old version still runs at %v after the rollout ended %v", lastOld, l.End)
				}
			}
		})
	}
	// Every web host gets the release.
	web := 0
	for _, h := range f.Hosts() {
		if h.Role == RoleWeb {
			web++
			if !slices.ContainsFunc(labels.Labels, func(l Label) bool { return l.Kind == KindReleaseRollout && l.Entity == h.Name }) {
				t.Errorf("web host %s has no rollout label", h.Name)
			}
		}
	}
	if web < 2 {
		t.Errorf("fleet has %d web hosts", web)
	}
}

func TestDefaultScenarioHasElasticIncidents(t *testing.T) {
	f := mustNew(t, Default())
	kinds := map[Kind]int{}
	for _, l := range f.Labels().Labels {
		kinds[l.Kind]++
	}
	if kinds[KindRareHostProcess] != 1 || kinds[KindCopySpree] != 1 || kinds[KindReleaseRollout] < 2 {
		t.Fatalf("default labels: %v", kinds)
	}
	if !slices.ContainsFunc(f.Hosts(), func(h Host) bool { return h.Name == elasticHost }) {
		t.Fatalf("no host %s in the default fleet", elasticHost)
	}
	// The copy spree is far above its host's normal rate, and the hosts run
	// about 40 distinct executables.
	var spree Label
	for _, l := range f.Labels().Labels {
		if l.Kind == KindCopySpree {
			spree = l
		}
	}
	perExe := map[string]map[string]bool{}
	var inSpree, sshOther int64
	err := f.Counts(context.Background(), 15*time.Minute, func(c engine.Count) error {
		if perExe[c.Entity] == nil {
			perExe[c.Entity] = map[string]bool{}
		}
		perExe[c.Entity][c.Executable] = true
		if c.Entity == spree.Entity && (c.Executable == "/usr/bin/ssh" || c.Executable == "/usr/bin/scp") {
			b := time.Unix(c.Bucket, 0)
			if !b.Add(15*time.Minute).Before(spree.Start) && !b.After(spree.End) {
				inSpree += c.Count
			} else {
				sshOther += c.Count
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if inSpree < int64(spree.Events)*9/10 || sshOther*10 > inSpree {
		t.Errorf("spree on %s: %d ssh/scp in its buckets (label %d), %d in the other %d days", spree.Entity, inSpree, spree.Events, sshOther, f.cfg.Days)
	}
	for _, h := range f.Hosts() {
		if exes := f.Executables(h.Name); !slices.Contains(exes, "/usr/bin/dash") || len(exes) < 20 {
			t.Errorf("Executables(%s) = %v", h.Name, exes)
		}
		if n := len(perExe[h.Name]); n < 25 || n > 80 {
			t.Errorf("host %s (%s) runs %d distinct executables, want about 40", h.Name, h.Role, n)
		}
	}
}

func TestCountsMatchEvents(t *testing.T) {
	c := smallConfig(11, ScenarioFull)
	c.Start = time.Date(2024, 5, 6, 10, 37, 13, 0, time.UTC) // not aligned to any bucket
	f := mustNew(t, c)
	execs, _ := collect(t, f)
	for _, span := range []time.Duration{15 * time.Minute, 7 * time.Minute, time.Hour} {
		want := map[engine.Count]int64{}
		s := int64(span / time.Second)
		for _, e := range execs {
			scope, ent := engine.ScopeHost, e.Host
			if e.Container != "" {
				scope, ent = engine.ScopeContainer, e.Container
			}
			k := engine.Count{Scope: scope, Entity: ent, Bucket: floorDiv(e.Time.Unix(), s) * s, Executable: e.Exe}
			want[k]++
		}
		got := map[engine.Count]int64{}
		var prev engine.Count
		err := f.Counts(context.Background(), span, func(c engine.Count) error {
			if c.Bucket < prev.Bucket {
				t.Fatalf("span %v: bucket %d after %d", span, c.Bucket, prev.Bucket)
			}
			prev = c
			k := c
			k.Count = 0
			if got[k] != 0 {
				t.Fatalf("span %v: %+v emitted twice", span, k)
			}
			got[k] = c.Count
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("span %v: %d cells from Counts, %d from events", span, len(got), len(want))
		}
		for k, n := range want {
			if got[k] != n {
				t.Errorf("span %v: %+v: Counts %d, events %d", span, k, got[k], n)
				break
			}
		}
	}
	if err := f.Counts(context.Background(), 1500*time.Millisecond, func(engine.Count) error { return nil }); err == nil {
		t.Error("Counts accepted a span of 1.5 s")
	}
}

func TestFormatsDescribeTheSameExecutions(t *testing.T) {
	for _, enriched := range []bool{false, true} {
		c := smallConfig(5, ScenarioFull)
		c.AuditLogEnriched = enriched
		if enriched {
			c.Days = 1
		}
		f := mustNew(t, c)
		dir := t.TempDir()
		sum, err := f.WriteAll(context.Background(), dir, WriteOptions{Gzip: enriched})
		if err != nil {
			t.Fatal(err)
		}
		ext := ""
		if enriched {
			ext = ".gz"
		}
		ecs := decodeECS(t, filepath.Join(dir, "ecs", "auditbeat.ndjson"+ext))
		v6 := decode6x(t, filepath.Join(dir, "6x", "auditbeat.ndjson"+ext))
		raw := parseRawDir(t, filepath.Join(dir, "raw"))
		if int64(len(ecs)) != sum.Totals.Events || int64(len(v6)) != sum.Totals.Events || int64(len(raw)) != sum.Totals.HostEvents {
			t.Fatalf("documents: ecs %d, 6x %d, raw %d; totals %+v", len(ecs), len(v6), len(raw), sum.Totals)
		}
		if sum.Totals.Noise == 0 || sum.Totals.Executions == 0 {
			t.Fatalf("totals %+v", sum.Totals)
		}
		frac := float64(sum.Totals.Noise) / float64(sum.Totals.Events)
		if frac < c.NoiseFraction*0.7 || frac > c.NoiseFraction*1.3 {
			t.Errorf("noise is %.3f of events, configured %.3f", frac, c.NoiseFraction)
		}
		// Host executions per minute and executable, the detectors' view.
		counts := func(xs []exec) map[string]int {
			m := map[string]int{}
			for _, x := range xs {
				if x.Syscall == "execve" && x.Container == "" {
					m[x.minuteKey()]++
				}
			}
			return m
		}
		ce, c6, cr := counts(ecs), counts(v6), counts(raw)
		if len(ce) == 0 {
			t.Fatal("no host executions")
		}
		for k, n := range ce {
			if c6[k] != n || cr[k] != n {
				t.Fatalf("enriched=%v %s: ecs %d, 6x %d, raw %d", enriched, k, n, c6[k], cr[k])
			}
		}
		if len(c6) != len(ce) || len(cr) != len(ce) {
			t.Errorf("cells: ecs %d, 6x %d, raw %d", len(ce), len(c6), len(cr))
		}
		// Event by event, host events agree on every field they share.
		var hostECS []exec
		for _, x := range ecs {
			if x.Container == "" {
				x.Container = ""
				hostECS = append(hostECS, x)
			}
		}
		byKey := func(xs []exec) []string {
			var out []string
			for _, x := range xs {
				out = append(out, strings.Join([]string{x.Host, x.Time.UTC().Format(time.RFC3339Nano), x.PID, x.PPID, x.Exe, x.Args, x.CWD, x.Result, x.Syscall}, "|"))
			}
			slices.Sort(out)
			return out
		}
		a, r := byKey(hostECS), byKey(raw)
		for i := range a {
			if a[i] != r[i] {
				t.Fatalf("enriched=%v: ECS and raw differ:\n ecs %q\n raw %q", enriched, a[i], r[i])
			}
		}
		// Container events carry their container in both NDJSON formats.
		for i := range ecs {
			if ecs[i].Container != v6[i].Container || ecs[i].Exe != v6[i].Exe || ecs[i].Args != v6[i].Args {
				t.Fatalf("ECS and 6.x differ at line %d: %+v vs %+v", i+1, ecs[i], v6[i])
			}
		}
	}
}

func TestRawLogWithoutNodePrefix(t *testing.T) {
	c := smallConfig(9, ScenarioNone)
	c.AuditLogNoNode = true
	c.Hosts, c.Containers, c.Days = 2, 0, 1
	f := mustNew(t, c)
	dir := t.TempDir()
	files, err := f.WriteAuditLog(context.Background(), dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range files {
		b, err := os.ReadFile(fl.Path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "\nnode=") || !strings.HasPrefix(string(b), "type=SYSCALL ") {
			t.Fatalf("%s has node prefixes or starts oddly: %.80q", fl.Path, b)
		}
		if got := parseAuditLog(t, fl.Path, filepath.Base(filepath.Dir(fl.Path))); int64(len(got)) != fl.Events {
			t.Errorf("%s: parsed %d events, wrote %d", fl.Path, len(got), fl.Events)
		}
	}
}

func TestProcessTreesArePlausible(t *testing.T) {
	f := mustNew(t, smallConfig(4, ScenarioDefault))
	type proc struct{ exe string }
	seen := map[string]map[int64]bool{}
	var children, known, failed, total int
	err := f.Events(context.Background(), func(ev *sources.Event) error {
		if !ev.IsExecution() {
			return nil
		}
		total++
		ent := ev.Entity()
		if seen[ent] == nil {
			seen[ent] = map[int64]bool{}
		}
		if ev.PID <= 1 || ev.PPID < 1 || ev.PID == ev.PPID {
			t.Fatalf("implausible pids %d/%d: %+v", ev.PID, ev.PPID, ev)
		}
		if seen[ent][ev.PPID] {
			known++
		}
		children++
		seen[ent][ev.PID] = true
		if ev.Result == "fail" {
			failed++
			if ev.Args != nil {
				t.Errorf("failed execution with arguments: %+v", ev)
			}
		}
		if ev.Result == "success" && (len(ev.Args) == 0 || ev.Title == "") {
			t.Errorf("execution without command line: %+v", ev)
		}
		if ev.Name == "" || len(ev.Name) > 15 || !strings.HasPrefix(ev.Executable, "/") || ev.WorkingDir == "" {
			t.Errorf("bad name, executable or cwd: %+v", ev)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Many processes are children of processes seen starting; some run
	// from daemons started before the range.
	if share := float64(known) / float64(children); share < 0.3 || share > 0.95 {
		t.Errorf("%.2f of executions have a parent seen starting", share)
	}
	if failed == 0 || failed*20 > total {
		t.Errorf("%d failed executions of %d", failed, total)
	}
}

func TestEventsStopOnError(t *testing.T) {
	f := mustNew(t, smallConfig(2, ScenarioNone))
	n := 0
	stop := io.ErrShortWrite
	err := f.Events(context.Background(), func(*sources.Event) error {
		n++
		if n == 100 {
			return stop
		}
		return nil
	})
	if err != stop || n != 100 {
		t.Fatalf("Events returned %v after %d events", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Events(ctx, func(*sources.Event) error { return nil }); err == nil {
		t.Error("Events ignored a cancelled context")
	}
	if err := f.EntityEvents(ctx, "no-such-host", nil); err == nil {
		t.Error("EntityEvents accepted an unknown entity")
	}
}

func TestLabelsRoundTrip(t *testing.T) {
	f := mustNew(t, smallConfig(6, ScenarioFull))
	var sb strings.Builder
	if err := WriteLabels(&sb, f.Labels()); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLabels(strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Labels) != len(f.Labels().Labels) || back.Seed != 6 || back.Noise.Fraction != 0.05 {
		t.Fatalf("round trip lost data: %+v", back)
	}
	for _, l := range back.Labels {
		if l.ID == "" || l.Entity == "" || l.Start.IsZero() || l.End.Before(l.Start) || (l.Anomaly && l.Detector == "") {
			t.Errorf("incomplete label %+v", l)
		}
	}
}
