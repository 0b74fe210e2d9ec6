package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/internal/workspace"
	"github.com/auditlens/auditlens/sources"
	"github.com/auditlens/auditlens/sources/fleetgen"
	"github.com/auditlens/auditlens/tui"
	"github.com/auditlens/auditlens/views/model"
)

// consoleFlags are the console's own flags, beside the source and job ones.
type consoleFlags struct {
	color string
}

func (c *consoleFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.color, "color", "auto", "colour: auto, never, 16, 256 or truecolor (NO_COLOR is honoured)")
}

func tuiCommand() command {
	return command{
		name:    "tui",
		summary: "open the console (the default when no command is given)",
		usage:   "auditlens [tui] [flags] [--input PATH...]",
		examples: `  auditlens                                   # the console on everything cached
  auditlens tui --input /var/log/audit/       # load raw logs (progress shown), then triage
  auditlens tui --jobs host_high_process_rate --bucket 1h --from -7d
  NO_COLOR=1 auditlens tui --tz Europe/Berlin`,
		bind: func(fs *flag.FlagSet) runFunc {
			var sf sourceFlags
			var jf jobFlags
			var cf consoleFlags
			sf.bind(fs)
			jf.bind(fs)
			cf.bind(fs)
			return func(ctx context.Context, env *environment, args []string) error {
				sf.inputs = append(sf.inputs, args...)
				store, err := openStore(ctx, sf.cache)
				if err != nil {
					return err
				}
				defer store.Close()
				settings := workspace.ConsoleSettings{}
				label := "cache " + filepath.Base(store.Path())
				if cfg, ok := sf.es.config(env.getenv, len(sf.inputs) > 0); ok {
					sel, err := sf.selection()
					if err != nil {
						return err
					}
					src, err := openElastic(ctx, cfg, env.stderr)
					if err != nil {
						return err
					}
					from, to, err := sf.timeRange(time.Now())
					if err != nil {
						return err
					}
					if from.IsZero() && to.IsZero() {
						from, to = esRange(from, to, time.Now())
						sf.from, sf.to = from.Format(time.RFC3339), to.Format(time.RFC3339)
					}
					label = describeElastic(src)
					settings.LoadFirst = true
					settings.Reload = func(ctx context.Context, qFrom, qTo time.Time, progress func(model.Progress)) ([]int64, error) {
						f, t := from, to
						if !qFrom.IsZero() || !qTo.IsZero() {
							f, t = esRange(qFrom, qTo, time.Now())
						}
						// Warnings (partial shard failures) go nowhere visible while the
						// console owns the screen; LoadCounts stores such spans as
						// partial, so the next r fetches them again.
						return loadElastic(ctx, store, src, f, t, sel, progress, io.Discard)
					}
					settings.DrillDown = func(ctx context.Context, w cache.DrillDownWindow, limit int) ([]sources.Event, bool, error) {
						evs, truncated, _, err := src.LoadDrillDown(ctx, store, w, limit)
						return evs, truncated, err
					}
				} else if len(sf.inputs) > 0 {
					sel, err := sf.selection()
					if err != nil {
						return err
					}
					inputs, err := sources.Discover(sf.inputs, sources.Options{Selection: sel, Host: sf.host})
					if err != nil {
						return err
					}
					label = describeInputs(inputs)
					settings.LoadFirst = true
					settings.Reload = fileReload(store, inputs, sel, &sf)
				}
				return runConsole(ctx, env, store, &sf, &jf, &cf, label, settings)
			}
		},
	}
}

// fileReload loads the inputs into the cache (skipping what is there) with
// progress for the console, and restricts the console to their loads.
func fileReload(store *cache.Store, inputs []sources.Input, sel sources.Selection, sf *sourceFlags) func(context.Context, time.Time, time.Time, func(model.Progress)) ([]int64, error) {
	return func(ctx context.Context, _, _ time.Time, progress func(model.Progress)) ([]int64, error) {
		res, err := store.Ingest(ctx, inputs, cache.IngestOptions{Selection: sel, Host: sf.host, Strict: sf.strict,
			Progress: func(p cache.Progress) {
				if progress != nil {
					progress(model.Progress{Stage: "reading " + filepath.Base(p.Path), Done: p.BytesDone, Total: p.Bytes})
				}
			}})
		if err != nil {
			return nil, err
		}
		loads := res.Loads()
		if len(loads) == 0 {
			return nil, fmt.Errorf("the inputs held no events")
		}
		return loads, nil
	}
}

func describeInputs(inputs []sources.Input) string {
	files := 0
	formats := map[sources.Format]bool{}
	for _, in := range inputs {
		files += len(in.Files)
		formats[in.Format] = true
	}
	var kinds []string
	if formats[sources.FormatNDJSON] {
		kinds = append(kinds, "auditbeat ndjson")
	}
	if formats[sources.FormatAuditLog] {
		kinds = append(kinds, "audit.log")
	}
	return fmt.Sprintf("%s, %d file(s)", strings.Join(kinds, " + "), files)
}

// runConsole opens the console over the store with the flags' settings.
func runConsole(ctx context.Context, env *environment, store *cache.Store, sf *sourceFlags, jf *jobFlags, cf *consoleFlags, label string, settings workspace.ConsoleSettings) error {
	jobs, err := jf.resolve()
	if err != nil {
		return err
	}
	if _, err := tui.ParseColorMode(cf.color); err != nil {
		return usageError{"--color: " + err.Error()}
	}
	// timeRange also checks --tz; the console resolves the zone itself.
	from, to, err := sf.timeRange(time.Now())
	if err != nil {
		return err
	}
	sel, err := sf.selection()
	if err != nil {
		return err
	}
	settings.Options = jf.options()
	settings.Selection = sel
	partition := ""
	if jobs[0].Partition == engine.PartitionNone {
		partition = model.PartitionNone
	}
	var modelJobs []model.Job
	for _, j := range jobs {
		modelJobs = append(modelJobs, model.Job{ID: j.ID, Scope: model.Scope(j.Scope), Function: string(j.Function), Description: j.Description})
	}
	backend := workspace.NewConsole(workspace.New(store), settings)
	return tui.Run(ctx, backend, tui.Options{
		Color:     cf.color,
		TZ:        sf.tz,
		Source:    label,
		Job:       jobs[0].ID,
		Partition: partition,
		From:      from,
		To:        to,
		Bucket:    jobs[0].BucketSpan,
		Jobs:      modelJobs,
		Getenv:    env.getenv,
	})
}

func demoCommand() command {
	return command{
		name:    "demo",
		summary: "generate the demo fleet into its own cache and open the console on it",
		usage:   "auditlens demo [flags]",
		examples: `  auditlens demo                      # 24 hosts, 12 containers, a week, Elastic's two incidents
  auditlens demo --scenario full      # every incident kind the generator knows
  auditlens demo --fresh              # rebuild the demo cache (forgets triage)`,
		bind: func(fs *flag.FlagSet) runFunc {
			var sf sourceFlags
			var jf jobFlags
			var cf consoleFlags
			fs.StringVar(&sf.cache, "cache", "", "demo cache file (default: auditlens/demo.db under the user's cache folder)")
			fs.StringVar(&sf.tz, "tz", "UTC", "time zone for display: UTC, local, or Area/City")
			fs.StringVar(&sf.from, "from", "", "start of the time range (default: the fleet's first day)")
			fs.StringVar(&sf.to, "to", "", "end of the time range (default: the fleet's last event)")
			jf.bind(fs)
			cf.bind(fs)
			def := fleetgen.Default()
			seed := fs.Int64("seed", def.Seed, "random seed of the fleet")
			scenario := fs.String("scenario", def.Scenario, "incidents: default, full, none, or a comma list of kinds")
			fresh := fs.Bool("fresh", false, "delete the demo cache first")
			noConsole := fs.Bool("no-console", false, "only build the demo cache and print its path (for scripts)")
			return func(ctx context.Context, env *environment, args []string) error {
				if len(args) > 0 {
					return usageError{fmt.Sprintf("unexpected argument %q", args[0])}
				}
				path := sf.cache
				if path == "" {
					p, err := cache.DefaultPath()
					if err != nil {
						return fmt.Errorf("%w (give --cache FILE)", err)
					}
					path = filepath.Join(filepath.Dir(p), "demo.db")
				}
				if *fresh {
					if err := cache.Remove(path); err != nil {
						return err
					}
				}
				store, err := cache.Open(ctx, path)
				if err != nil {
					return err
				}
				defer store.Close()
				cfg := def
				cfg.Seed, cfg.Scenario = *seed, *scenario
				began := time.Now()
				var shown time.Time
				loaded, err := workspace.New(store).LoadDemo(ctx, cfg, func(done int64) {
					if time.Since(shown) > 250*time.Millisecond {
						shown = time.Now()
						fmt.Fprintf(env.stderr, "\rgenerating the demo fleet: %d events", done)
					}
				})
				if loaded {
					fmt.Fprintf(env.stderr, "\rgenerated the demo fleet into %s in %s\n", store.Path(), time.Since(began).Round(time.Millisecond))
				}
				if err != nil {
					return err
				}
				if *noConsole {
					fmt.Fprintln(env.stdout, store.Path())
					return nil
				}
				return runConsole(ctx, env, store, &sf, &jf, &cf, fmt.Sprintf("demo fleet (seed %d)", cfg.Seed), workspace.ConsoleSettings{})
			}
		},
	}
}
