package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources/fleetgen"
)

// fleetRun is every job's results over one generated fleet.
type fleetRun struct {
	fleet   *fleetgen.Fleet
	labels  fleetgen.Labels
	results map[string]engine.Results
}

func runFleet(t *testing.T, cfg fleetgen.Config) fleetRun {
	t.Helper()
	fl, err := fleetgen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var counts []engine.Count
	if err := fl.Counts(context.Background(), 15*time.Minute, func(c engine.Count) error {
		counts = append(counts, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	out := fleetRun{fleet: fl, labels: fl.Labels(), results: map[string]engine.Results{}}
	for _, job := range engine.Jobs() {
		res, err := engine.Run(job, engine.DefaultOptions(), fl.Start().Unix(), fl.End().Unix(),
			func(yield func(engine.Count) error) error {
				for _, c := range counts {
					if err := yield(c); err != nil {
						return err
					}
				}
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		out.results[job.ID] = res
	}
	return out
}

// jobFor is the job that should find a label.
func jobFor(l fleetgen.Label) string {
	scope := "host"
	if l.Scope == "container" {
		scope = "docker"
	}
	if l.Detector == "rate" {
		return scope + "_high_process_rate"
	}
	return scope + "_rare_process"
}

// matches reports whether record r is about label l: same entity, an
// executable of the label for rare jobs, and a bucket the label touches (for
// rate jobs also the 12 buckets after, which the multi-bucket window covers).
func matches(r engine.Record, l fleetgen.Label, rate bool) bool {
	if r.Entity != l.Entity {
		return false
	}
	if !rate && !slices.Contains(l.Executables, r.ByFieldValue) {
		return false
	}
	span := r.BucketSpan * 1000
	from := l.Start.UnixMilli() - span
	to := l.End.UnixMilli() + span
	if rate {
		to += 12 * span
	}
	return r.Timestamp >= from && r.Timestamp <= to
}

func TestFleetgenDefaultScenario(t *testing.T) {
	run := runFleet(t, fleetgen.Default())
	rare := run.results["host_rare_process"]
	rate := run.results["host_high_process_rate"]

	var xx *engine.Record
	for i, r := range rare.Records {
		if r.Entity == "3a30127937b1" && r.ByFieldValue == "/xxprimef" {
			xx = &rare.Records[i]
		}
	}
	if xx == nil || xx.RecordScore < 75 || !xx.Explanation.ByFieldFirstOccurrence {
		t.Errorf("/xxprimef on 3a30127937b1: %+v, want a critical first occurrence", xx)
	}

	var spree fleetgen.Label
	var rollout []fleetgen.Label
	for _, l := range run.labels.Labels {
		switch l.Kind {
		case fleetgen.KindCopySpree:
			spree = l
		case fleetgen.KindReleaseRollout:
			rollout = append(rollout, l)
		}
	}
	best := engine.Record{}
	for _, r := range rate.Records {
		if matches(r, spree, true) && r.RecordScore > best.RecordScore {
			best = r
		}
	}
	var exes []string
	for _, in := range best.Influencers {
		if in.FieldName == engine.FieldExecutable {
			exes = slices.Sorted(slices.Values(in.FieldValues))
		}
	}
	if best.RecordScore < 75 || !slices.Equal(exes, []string{"/usr/bin/scp", "/usr/bin/ssh"}) {
		t.Errorf("copy spree on %s: score %.1f, executable influencers %v; want critical with ssh and scp",
			spree.Entity, best.RecordScore, exes)
	}

	if len(rollout) == 0 {
		t.Fatal("the default scenario has no rollout")
	}
	major := 0
	for _, l := range rollout {
		top := 0.0
		for _, r := range rare.Records {
			if r.Entity == l.Entity && slices.Contains(l.Executables, r.ByFieldValue) {
				top = max(top, r.RecordScore)
			}
		}
		if top >= 50 {
			major++
		}
	}
	if major == len(rollout) {
		t.Errorf("the release rollout is major on all %d hosts", major)
	}
	t.Logf("rollout major on %d of %d hosts; /xxprimef %.1f; spree %.1f", major, len(rollout), xx.RecordScore, best.RecordScore)
}

// quality counts, for one family of jobs, what the detectors found.
type quality struct {
	labels, found    int // anomalous labels, and those with a record at 50 or more
	fp50, fp75       int // records at 50 / 75 or more matching no anomalous label
	benign50         int // of fp50, records about a benign label (the rollout)
	hostDays         float64
	missed           []string
	falsePositiveTop []string
}

func TestFleetgenQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and analyses several fleets")
	}
	type scenario struct {
		scenario string
		seed     int64
	}
	var runs []scenario
	for _, s := range []string{fleetgen.ScenarioDefault, fleetgen.ScenarioFull} {
		for seed := int64(1); seed <= 3; seed++ {
			runs = append(runs, scenario{s, seed})
		}
	}
	total := map[string]*quality{"rare": {}, "rate": {}}
	for _, sc := range runs {
		cfg := fleetgen.Default()
		cfg.Scenario, cfg.Seed = sc.scenario, sc.seed
		run := runFleet(t, cfg)
		entities := float64(len(run.fleet.Hosts()) + len(run.fleet.Containers()))
		for _, fam := range []string{"rare", "rate"} {
			q := total[fam]
			q.hostDays += entities * float64(cfg.Days)
			for _, l := range run.labels.Labels {
				if !l.Anomaly || l.Detector != fam {
					continue
				}
				q.labels++
				ok := false
				for _, r := range run.results[jobFor(l)].Records {
					if r.RecordScore >= 50 && matches(r, l, fam == "rate") {
						ok = true
						break
					}
				}
				if ok {
					q.found++
				} else {
					q.missed = append(q.missed, fmt.Sprintf("%s/%d %s on %s", sc.scenario, sc.seed, l.Kind, l.Entity))
				}
			}
			for id, res := range run.results {
				if !strings.Contains(id, fam) {
					continue
				}
				for _, r := range res.Records {
					if r.RecordScore < 50 {
						continue
					}
					explained, benign := false, false
					for _, l := range run.labels.Labels {
						if matches(r, l, fam == "rate") {
							if l.Anomaly {
								explained = true
							} else {
								benign = true
							}
						}
					}
					if explained {
						continue
					}
					q.fp50++
					if benign {
						q.benign50++
					}
					if r.RecordScore >= 75 {
						q.fp75++
						if len(q.falsePositiveTop) < 6 {
							q.falsePositiveTop = append(q.falsePositiveTop,
								fmt.Sprintf("%s/%d %s %s %s %.0f: %s", sc.scenario, sc.seed, id, r.Entity, r.ByFieldValue, r.RecordScore, r.Why))
						}
					}
				}
			}
		}
	}
	for _, fam := range []string{"rare", "rate"} {
		q := total[fam]
		recall := float64(q.found) / float64(max(q.labels, 1))
		t.Logf("%s: recall@50 %d/%d = %.2f; false positives@50 %d (%d on the benign rollout), @75 %d; per 100 entity-days @50 %.2f, @75 %.2f",
			fam, q.found, q.labels, recall, q.fp50, q.benign50, q.fp75, 100*float64(q.fp50)/q.hostDays, 100*float64(q.fp75)/q.hostDays)
		for _, m := range q.missed {
			t.Logf("  missed %s", m)
		}
		for _, m := range q.falsePositiveTop {
			t.Logf("  false positive %s", m)
		}
		// Bars that catch a regression: most incidents found, false alarms
		// at critical rare enough that an analyst still reads them.
		if recall < 0.75 {
			t.Errorf("%s recall@50 %.2f below 0.75", fam, recall)
		}
		if perHundred := 100 * float64(q.fp75) / q.hostDays; perHundred > 5 {
			t.Errorf("%s: %.2f critical false positives per 100 entity-days", fam, perHundred)
		}
	}
}
