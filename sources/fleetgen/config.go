package fleetgen

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind names one thing the generator can inject into a fleet's normal life:
// an incident a detector should find, or a benign event it should not flag.
type Kind string

const (
	// KindRareHostProcess is Elastic's first example: /xxprimef run once on
	// host 3a30127937b1.
	KindRareHostProcess Kind = "rare-host-process"
	// KindCopySpree is Elastic's second example: a burst of ssh and scp on one
	// host, far above its normal rate.
	KindCopySpree Kind = "ssh-scp-spree"
	// KindContainerRare is an odd binary (/tmp/.x/kworker) run in a container.
	KindContainerRare Kind = "container-rare-process"
	// KindReverseShell is a night-time reverse shell (bash -i piped through nc)
	// on a web host at 03:14.
	KindReverseShell Kind = "reverse-shell"
	// KindReconBurst is a few minutes of whoami, id, uname, cat /etc/passwd,
	// ps, netstat, ip a and friends.
	KindReconBurst Kind = "recon-burst"
	// KindDailyImplant is the same odd binary at the same minute every day from
	// the middle of the range on.
	KindDailyImplant Kind = "daily-implant"
	// KindForkStorm is hundreds of shells in a container within minutes.
	KindForkStorm Kind = "container-fork-storm"
	// KindNightRise is a gentle threefold rise of one host's normal executions
	// over several night hours.
	KindNightRise Kind = "night-rise"
	// KindReleaseRollout is benign: a new application version appearing on
	// every host of a role over a few hours of one day.
	KindReleaseRollout Kind = "release-rollout"
)

// Kinds lists every kind in the order the generator places them.
func Kinds() []Kind {
	return []Kind{KindRareHostProcess, KindCopySpree, KindContainerRare, KindReverseShell,
		KindReconBurst, KindDailyImplant, KindForkStorm, KindNightRise, KindReleaseRollout}
}

// Anomalous reports whether a detector is expected to flag the kind.
func (k Kind) Anomalous() bool { return k != KindReleaseRollout }

// NeedsContainers reports whether the kind happens inside a container.
func (k Kind) NeedsContainers() bool { return k == KindContainerRare || k == KindForkStorm }

// Named scenarios, usable alone or in a comma list with kinds.
const (
	ScenarioDefault = "default" // Elastic's two incidents and a release rollout
	ScenarioFull    = "full"    // every kind
	ScenarioNone    = "none"    // the fleet's normal life only
)

// ParseScenario turns "default", "full", "none", a kind, or a comma list of
// them into kinds. "-kind" removes a kind, so "full,-night-rise" works.
func ParseScenario(s string) ([]Kind, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = ScenarioDefault
	}
	var out []Kind
	add := func(k Kind) {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(strings.ToLower(part))
		remove := strings.HasPrefix(part, "-")
		part = strings.TrimPrefix(part, "-")
		var kinds []Kind
		switch part {
		case "":
			continue
		case ScenarioDefault:
			kinds = []Kind{KindRareHostProcess, KindCopySpree, KindReleaseRollout}
		case ScenarioFull, "all":
			kinds = Kinds()
		case ScenarioNone, "baseline":
		default:
			k := Kind(part)
			if !slices.Contains(Kinds(), k) {
				return nil, fmt.Errorf("unknown scenario element %q (want %s, %s, %s or one of %s)",
					part, ScenarioDefault, ScenarioFull, ScenarioNone, kindList())
			}
			kinds = []Kind{k}
		}
		for _, k := range kinds {
			if remove {
				out = slices.DeleteFunc(out, func(x Kind) bool { return x == k })
			} else {
				add(k)
			}
		}
	}
	// Keep the canonical order so that "a,b" and "b,a" make the same fleet.
	slices.SortFunc(out, func(a, b Kind) int { return slices.Index(Kinds(), a) - slices.Index(Kinds(), b) })
	return out, nil
}

func kindList() string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// DefaultStart is the fixed start of the default fleet (a Monday), so that
// default output is the same on every machine and every day.
var DefaultStart = time.Date(2024, time.March, 4, 0, 0, 0, 0, time.UTC)

// Config describes a fleet and what happens to it. The same Config always
// produces the same events, byte for byte.
type Config struct {
	Seed  int64
	Start time.Time // first instant, taken in UTC
	Days  int       // length of the range in days of 24 hours
	// Hosts and Containers size the fleet. Containers run on the hosts with
	// the docker-worker role; there is always one when Containers > 0.
	Hosts      int
	Containers int
	// Scenario is a ParseScenario string; Incidents, when not nil, is used
	// instead.
	Scenario  string
	Incidents []Kind
	// RatePerHostPerDay is the mean number of process executions a host makes
	// in a day; roles and hosts vary around it. Fixed schedules (cron,
	// monitoring) are kept even when they alone exceed it.
	RatePerHostPerDay float64
	// RatePerContainerPerDay is the same for containers.
	RatePerContainerPerDay float64
	// NoiseFraction is the share of events that are not executions (file
	// opens, network connects): readers must skip them. 0 gives none.
	NoiseFraction float64
	// AuditLogNoNode leaves out the node=HOST prefix of raw audit records, so
	// that a reader must take the host from the folder name.
	AuditLogNoNode bool
	// AuditLogEnriched writes raw records in auditd's ENRICHED format: the
	// resolved names after a 0x1d byte.
	AuditLogEnriched bool
}

// Default is the demo fleet: 24 hosts and 12 containers over the week from
// DefaultStart, with Elastic's two incidents and a release rollout. Writing
// and loading it takes seconds.
func Default() Config {
	return Config{
		Seed:                   1,
		Start:                  DefaultStart,
		Days:                   7,
		Hosts:                  24,
		Containers:             12,
		Scenario:               ScenarioDefault,
		RatePerHostPerDay:      600,
		RatePerContainerPerDay: 250,
		NoiseFraction:          0.04,
	}
}

// Demo is the default fleet with every incident kind, each labelled.
func Demo() Config {
	c := Default()
	c.Scenario = ScenarioFull
	return c
}

// kinds resolves the scenario of a config.
func (c Config) kinds() ([]Kind, error) {
	if c.Incidents != nil {
		seen := map[Kind]bool{}
		var out []Kind
		for _, k := range c.Incidents {
			if !slices.Contains(Kinds(), k) {
				return nil, fmt.Errorf("unknown incident kind %q (want one of %s)", k, kindList())
			}
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
		slices.SortFunc(out, func(a, b Kind) int { return slices.Index(Kinds(), a) - slices.Index(Kinds(), b) })
		return out, nil
	}
	return ParseScenario(c.Scenario)
}

// validate reports the first thing wrong with a config.
func (c Config) validate() error {
	var errs []error
	if c.Start.IsZero() {
		errs = append(errs, errors.New("start time is required"))
	}
	if c.Days < 1 || c.Days > 366 {
		errs = append(errs, fmt.Errorf("days must be 1..366, got %d", c.Days))
	}
	if c.Hosts < 1 || c.Hosts > 100000 {
		errs = append(errs, fmt.Errorf("hosts must be 1..100000, got %d", c.Hosts))
	}
	if c.Containers < 0 || c.Containers > 100000 {
		errs = append(errs, fmt.Errorf("containers must be 0..100000, got %d", c.Containers))
	}
	if !(c.RatePerHostPerDay > 0 && c.RatePerHostPerDay <= 1e6) {
		errs = append(errs, fmt.Errorf("rate per host per day must be in (0, 1e6], got %v", c.RatePerHostPerDay))
	}
	if c.Containers > 0 && !(c.RatePerContainerPerDay > 0 && c.RatePerContainerPerDay <= 1e6) {
		errs = append(errs, fmt.Errorf("rate per container per day must be in (0, 1e6], got %v", c.RatePerContainerPerDay))
	}
	if !(c.NoiseFraction >= 0 && c.NoiseFraction <= 0.5) {
		errs = append(errs, fmt.Errorf("noise fraction must be in [0, 0.5], got %v", c.NoiseFraction))
	}
	return errors.Join(errs...)
}
