package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/when"
	"github.com/auditlens/auditlens/sources/fleetgen"
)

func genCommand() command {
	return command{
		name:    "gen",
		summary: "generate a labelled fleet of audit data (the demo, test and benchmark workload)",
		usage:   "auditlens gen [flags] --out DIR",
		examples: `  auditlens gen --out /tmp/fleet                        # the demo fleet: ECS, 6.x and raw logs + labels.json
  auditlens gen --out /tmp/fleet --formats auditlog --days 14 --hosts 60
  auditlens gen --out /tmp/q --seed 7 --scenario full     # every incident kind, labelled
  auditlens ingest --input /tmp/fleet/ecs && auditlens stats`,
		bind: func(fs *flag.FlagSet) runFunc {
			def := fleetgen.Default()
			out := fs.String("out", "", "folder to write into (created)")
			seed := fs.Int64("seed", def.Seed, "random seed: the same flags give byte-identical files")
			start := fs.String("start", def.Start.Format("2006-01-02"), "first day of the data (RFC 3339 or a date, UTC)")
			days := fs.Int("days", def.Days, "length in days")
			hosts := fs.Int("hosts", def.Hosts, "number of hosts")
			containers := fs.Int("containers", def.Containers, "number of Docker containers (on the docker-worker hosts)")
			scenario := fs.String("scenario", def.Scenario, "incidents to inject: default, full, none, or a comma list of kinds")
			rate := fs.Float64("rate", def.RatePerHostPerDay, "mean executions per host per day")
			crate := fs.Float64("container-rate", def.RatePerContainerPerDay, "mean executions per container per day")
			noise := fs.Float64("noise", def.NoiseFraction, "share of events that are not executions (other syscalls)")
			formats := fs.String("formats", "ecs,6x,auditlog", "formats to write: ecs, 6x, auditlog (comma list)")
			gz := fs.Bool("gzip", false, "gzip the data files")
			noNode := fs.Bool("no-node", false, "leave node= prefixes out of raw logs (the folder name is the host)")
			enriched := fs.Bool("enriched", false, "write raw logs in auditd's ENRICHED format")
			return func(ctx context.Context, env *environment, args []string) error {
				if *out == "" {
					return usageError{"--out DIR is required"}
				}
				if len(args) > 0 {
					return usageError{fmt.Sprintf("unexpected argument %q", args[0])}
				}
				st, err := when.Parse(*start, time.Now(), time.UTC)
				if err != nil {
					return usageError{"--start: " + err.Error()}
				}
				cfg := def
				cfg.Seed, cfg.Start, cfg.Days = *seed, st, *days
				cfg.Hosts, cfg.Containers = *hosts, *containers
				cfg.Scenario, cfg.RatePerHostPerDay, cfg.RatePerContainerPerDay = *scenario, *rate, *crate
				cfg.NoiseFraction, cfg.AuditLogNoNode, cfg.AuditLogEnriched = *noise, *noNode, *enriched
				fleet, err := fleetgen.New(cfg)
				if err != nil {
					return usageError{err.Error()}
				}
				var fmts []fleetgen.Format
				for _, f := range strings.Split(*formats, ",") {
					if f = strings.TrimSpace(f); f != "" {
						fmts = append(fmts, fleetgen.Format(f))
					}
				}
				began := time.Now()
				sum, err := fleet.WriteAll(ctx, *out, fleetgen.WriteOptions{Formats: fmts, Gzip: *gz})
				if err != nil {
					return err
				}
				var bytes int64
				for _, f := range sum.Files {
					bytes += f.Bytes
				}
				fmt.Fprintf(env.stdout, "gen: %d hosts, %d containers, %s to %s: %d events (%d executions) in %d files, %.1f MB, in %s\n",
					len(fleet.Hosts()), len(fleet.Containers()), fleet.Start().Format(time.RFC3339), fleet.End().Format(time.RFC3339),
					sum.Totals.Events, sum.Totals.Executions, len(sum.Files), float64(bytes)/1e6, time.Since(began).Round(time.Millisecond))
				for _, l := range fleet.Labels().Anomalies() {
					fmt.Fprintf(env.stdout, "  injected %-18s %-9s %-14s %s\n", l.Kind, l.Scope, l.Entity, strings.Join(l.Executables, ","))
				}
				fmt.Fprintf(env.stdout, "labels: %s/labels.json\n", strings.TrimRight(*out, "/"))
				return nil
			}
		},
	}
}
