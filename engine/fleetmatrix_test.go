package engine_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/sources/fleetgen"
)

// matrixSize is one fleet shape of the quality matrix.
type matrixSize struct {
	name              string
	hosts, containers int
	days              int
	short             bool // also run under -short
}

// kindScore tallies one incident kind over the matrix.
type kindScore struct {
	labels, major, critical int
	missed                  []string
}

// matrixTally is what the matrix found, per detector family.
type matrixTally struct {
	kinds      map[fleetgen.Kind]*kindScore
	fp50, fp75 map[string]int
	entityDays float64
	fpTop      map[string][]string
	rollout    []string // runs where the rollout was major on every web host
}

// TestFleetgenMatrix measures the detectors over fleets of several sizes,
// seeds and lengths with every incident kind: each anomaly's best record
// score, per kind, and the records at major or above that no anomaly
// explains, per 100 entity-days. The floors sit just under what the engine
// reaches, so a change that loses an incident or floods the analyst fails.
func TestFleetgenMatrix(t *testing.T) {
	sizes := []matrixSize{
		{"small", 8, 3, 4, true},
		{"medium", 24, 12, 7, false},
		{"large", 40, 16, 10, false},
	}
	tally := matrixTally{
		kinds: map[fleetgen.Kind]*kindScore{},
		fp50:  map[string]int{}, fp75: map[string]int{},
		fpTop: map[string][]string{},
	}
	for _, size := range sizes {
		if testing.Short() && !size.short {
			continue
		}
		for seed := int64(1); seed <= 6; seed++ {
			cfg := fleetgen.Default()
			cfg.Scenario, cfg.Seed = fleetgen.ScenarioFull, seed
			cfg.Hosts, cfg.Containers, cfg.Days = size.hosts, size.containers, size.days
			run := runFleet(t, cfg)
			tally.add(fmt.Sprintf("%s/%d", size.name, seed), run, cfg)
		}
	}
	tally.report(t)
}

func (m *matrixTally) add(name string, run fleetRun, cfg fleetgen.Config) {
	m.entityDays += float64(len(run.fleet.Hosts())+len(run.fleet.Containers())) * float64(cfg.Days)
	rolloutHosts, rolloutMajor := 0, 0
	for _, l := range run.labels.Labels {
		if !l.Anomaly {
			if l.Kind == fleetgen.KindReleaseRollout {
				rolloutHosts++
				top := 0.0
				for _, r := range run.results["host_rare_process"].Records {
					if r.Entity == l.Entity && slices.Contains(l.Executables, r.ByFieldValue) {
						top = max(top, r.RecordScore)
					}
				}
				rolloutMajor += b2i(top >= 50)
			}
			continue
		}
		k := m.kinds[l.Kind]
		if k == nil {
			k = &kindScore{}
			m.kinds[l.Kind] = k
		}
		k.labels++
		top := 0.0
		for _, r := range run.results[jobFor(l)].Records {
			if matches(r, l, l.Detector == "rate") {
				top = max(top, r.RecordScore)
			}
		}
		k.major += b2i(top >= 50)
		k.critical += b2i(top >= 75)
		if top < 50 {
			k.missed = append(k.missed, fmt.Sprintf("%s on %s: %.1f", name, l.Entity, top))
		}
	}
	if rolloutHosts > 1 && rolloutMajor == rolloutHosts {
		m.rollout = append(m.rollout, name)
	}
	for id, res := range run.results {
		fam := "rare"
		if strings.Contains(id, "rate") {
			fam = "rate"
		}
		for _, r := range res.Records {
			if r.RecordScore < 50 {
				continue
			}
			explained := false
			for _, l := range run.labels.Labels {
				if l.Anomaly && matches(r, l, fam == "rate") {
					explained = true
					break
				}
			}
			if explained {
				continue
			}
			m.fp50[fam]++
			if strings.HasPrefix(r.Why, "sustained") {
				m.fp50[fam+" sustained"]++
			}
			if r.RecordScore >= 75 {
				m.fp75[fam]++
			}
			if len(m.fpTop[fam]) < 8 {
				m.fpTop[fam] = append(m.fpTop[fam], fmt.Sprintf("%s %s %s %s %s %.0f: %s", name,
					time.UnixMilli(r.Timestamp).UTC().Format("Mon 15:04"), id, r.Entity, r.ByFieldValue, r.RecordScore, r.Why))
			}
		}
	}
}

func (m *matrixTally) report(t *testing.T) {
	t.Helper()
	kinds := slices.Sorted(func(yield func(fleetgen.Kind) bool) {
		for k := range m.kinds {
			if !yield(k) {
				return
			}
		}
	})
	t.Logf("%-24s %7s %7s %7s", "kind", "labels", ">=50", ">=75")
	for _, k := range kinds {
		s := m.kinds[k]
		t.Logf("%-24s %7d %7d %7d", k, s.labels, s.major, s.critical)
		for _, miss := range s.missed {
			t.Logf("    missed %s", miss)
		}
		// Every incident should reach major: the analyst reads majors first.
		// The misses allowed are those the engine still has: a night rise on
		// a bastion, whose bursty interactive sessions drown the rise of its
		// few scheduled jobs, and one on a database's first Saturday night,
		// before the weekend has a shape of its own.
		allowed := knownMisses[k]
		if testing.Short() {
			allowed = knownMissesShort[k]
		}
		if s.labels-s.major > allowed {
			t.Errorf("%s: %d of %d at major or above, %d misses allowed", k, s.major, s.labels, allowed)
		}
	}
	// A one-off executable no host ever ran is the strongest signal there is.
	if s := m.kinds[fleetgen.KindRareHostProcess]; s != nil && s.critical < s.labels {
		t.Errorf("rare-host-process critical on %d of %d fleets", s.critical, s.labels)
	}
	// Ceilings on false majors and criticals per 100 entity-days, just above
	// what the engine reaches.
	ceilings := map[string][2]float64{"rare": {1.5, 1.3}, "rate": {3.8, 1.2}}
	if testing.Short() {
		ceilings = map[string][2]float64{"rare": {10.5, 7}, "rate": {5, 2}}
	}
	for _, fam := range []string{"rare", "rate"} {
		f50 := 100 * float64(m.fp50[fam]) / m.entityDays
		f75 := 100 * float64(m.fp75[fam]) / m.entityDays
		t.Logf("%s: false positives per 100 entity-days @50 %.2f (%d, %d of them sustained rises), @75 %.2f (%d)",
			fam, f50, m.fp50[fam], m.fp50[fam+" sustained"], f75, m.fp75[fam])
		for _, s := range m.fpTop[fam] {
			t.Logf("    %s", s)
		}
		if c := ceilings[fam]; f50 > c[0] || f75 > c[1] {
			t.Errorf("%s false positives per 100 entity-days @50 %.2f, @75 %.2f above %.2f, %.2f", fam, f50, f75, c[0], c[1])
		}
	}
	if len(m.rollout) > 0 {
		t.Errorf("the release rollout is major on every web host in %v", m.rollout)
	}
}

// knownMisses are the incidents per kind the matrix may leave under major,
// over all sizes and over the small fleets only (-short).
var (
	knownMisses      = map[fleetgen.Kind]int{fleetgen.KindNightRise: 3}
	knownMissesShort = map[fleetgen.Kind]int{fleetgen.KindNightRise: 2}
)

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
