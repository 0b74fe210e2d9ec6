package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/internal/workspace"
	"github.com/auditlens/auditlens/tui"
	"github.com/auditlens/auditlens/views/model"
)

func caseCommand() command {
	return command{
		name:    "case",
		summary: "collect anomalies in named cases, save a case as one file, write its report",
		usage: `auditlens case add NAME --anomaly ID [--anomaly ID...] [--note TEXT] [--summary TEXT] [scan flags]
  auditlens case list
  auditlens case show NAME|FILE
  auditlens case remove NAME --anomaly ID
  auditlens case delete NAME
  auditlens case save NAME --out FILE [--force]
  auditlens case report NAME|FILE [--format md|json] [--out FILE]

An anomaly ID is the anomaly_id of scan --format ndjson; give add the --bucket,
--partition, --from and --to of the scan that printed it. NAME|FILE: an existing
file is read as a case file, anything else names a case in the cache.`,
		examples: `  auditlens scan --format ndjson | jq -r 'select(.record_score >= 75) | .anomaly_id'
  auditlens case add INC-42 --anomaly 'host_rare_process|3a30127937b1|/xxprimef|1709918100' --note 'unknown binary'
  auditlens case save INC-42 --out INC-42.alcase       # one file, mode 0600, to hand over
  auditlens open INC-42.alcase                          # on any machine, no sources needed
  auditlens case report INC-42.alcase --format md > INC-42.md`,
		bind: func(fs *flag.FlagSet) runFunc {
			var sf sourceFlags
			var jf jobFlags
			sf.bind(fs)
			fs.StringVar(&jf.bucket, "bucket", "15m", "add: the bucket span of the scan that found the anomalies")
			fs.StringVar(&jf.partition, "partition", "host", "add: the partition of the scan that found them (host or none)")
			fs.BoolVar(&jf.noFleet, "no-fleet-context", false, "add: the scan ran without fleet context")
			var anomalies listFlag
			fs.Var(&anomalies, "anomaly", "add, remove: an anomaly id (repeatable)")
			note := fs.String("note", "", "add: the anomalies' note (it becomes their triage note)")
			summary := fs.String("summary", "", "add: the case's summary, the first lines of its report")
			out := fs.String("out", "", "save: the case file to write; report: write here instead of to standard output")
			force := fs.Bool("force", false, "save: overwrite an existing file")
			format := fs.String("format", "", "list: table or json; report: md or json (default md)")
			return func(ctx context.Context, env *environment, args []string) error {
				if len(args) == 0 {
					return usageError{"which: add, list, show, remove, delete, save or report?"}
				}
				verb, rest := args[0], args[1:]
				want := func(n int, what string) error {
					if len(rest) != n {
						return usageError{fmt.Sprintf("case %s takes %s", verb, what)}
					}
					return nil
				}
				switch verb {
				case "add":
					if err := want(1, "a case name (inputs go with --input)"); err != nil {
						return err
					}
					if len(anomalies) == 0 && *summary == "" {
						return usageError{"case add needs --anomaly ID (or --summary)"}
					}
					return caseAdd(ctx, env, &sf, &jf, rest[0], anomalies, *note, *summary)
				case "list":
					if err := want(0, "no arguments"); err != nil {
						return err
					}
					return caseList(ctx, env, &sf, *format)
				case "show":
					if err := want(1, "a case name or a case file"); err != nil {
						return err
					}
					return caseShow(ctx, env, &sf, rest[0])
				case "remove":
					if err := want(1, "a case name"); err != nil {
						return err
					}
					if len(anomalies) == 0 {
						return usageError{"case remove needs --anomaly ID"}
					}
					return withStore(ctx, &sf, func(store *cache.Store) error {
						for _, id := range anomalies {
							if err := store.RemoveFromCase(ctx, rest[0], id); err != nil {
								return err
							}
						}
						fmt.Fprintf(env.stdout, "case %s: %d anomaly(ies) removed\n", safe.Text(rest[0]), len(anomalies))
						return nil
					})
				case "delete":
					if err := want(1, "a case name"); err != nil {
						return err
					}
					return withStore(ctx, &sf, func(store *cache.Store) error {
						if err := store.DeleteCase(ctx, rest[0]); err != nil {
							return err
						}
						fmt.Fprintf(env.stdout, "case %s deleted (its anomalies' triage is kept)\n", safe.Text(rest[0]))
						return nil
					})
				case "save":
					if err := want(1, "a case name"); err != nil {
						return err
					}
					if *out == "" {
						return usageError{"case save needs --out FILE"}
					}
					return caseSave(ctx, env, &sf, rest[0], *out, *force)
				case "report":
					if err := want(1, "a case name or a case file"); err != nil {
						return err
					}
					return caseReport(ctx, env, &sf, rest[0], *format, *out)
				}
				return usageError{fmt.Sprintf("unknown case command %q: want add, list, show, remove, delete, save or report", verb)}
			}
		},
	}
}

// withStore runs fn on the cache of --cache.
func withStore(ctx context.Context, sf *sourceFlags, fn func(*cache.Store) error) error {
	store, err := openStore(ctx, sf.cache)
	if err != nil {
		return err
	}
	defer store.Close()
	return fn(store)
}

func caseAdd(ctx context.Context, env *environment, sf *sourceFlags, jf *jobFlags, name string, ids []string, note, summary string) error {
	jf.jobs = "all"
	jobs, err := jf.resolve()
	if err != nil {
		return err
	}
	sel, err := sf.selection()
	if err != nil {
		return err
	}
	from, to, err := sf.timeRange(time.Now())
	if err != nil {
		return err
	}
	loc, _ := sf.location()
	return withStore(ctx, sf, func(store *cache.Store) error {
		var loads []int64
		if len(sf.inputs) > 0 {
			res, err := ingest(ctx, store, sf, env.stderr, env.stderr)
			if err != nil {
				return err
			}
			if loads = res.Loads(); len(loads) == 0 {
				return fmt.Errorf("the inputs held no events")
			}
		}
		ws := workspace.New(store)
		for _, id := range ids {
			jobID, err := workspace.JobOfAnomaly(id)
			if err != nil {
				return usageError{err.Error()}
			}
			var job engine.Job
			for _, j := range jobs {
				if j.ID == jobID {
					job = j
				}
			}
			if job.ID == "" {
				return usageError{fmt.Sprintf("anomaly id %q: unknown job %q", id, jobID)}
			}
			s := workspace.Scan{Job: job, Options: jf.options(), From: from, To: to, Selection: sel, Loads: loads}
			r, out, err := ws.FindAnomaly(ctx, s, id)
			if err != nil {
				return err
			}
			if err := ws.AddToCase(ctx, name, s, out, r, note); err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "case %s: added %s %.0f %s on %s at %s\n", safe.Text(name), engine.SeverityOf(r.RecordScore).Name,
				r.RecordScore, r.JobID, safe.Text(recordEntity(r)), time.UnixMilli(r.Timestamp).In(loc).Format("2006-01-02 15:04"))
		}
		if summary != "" {
			return store.SetCaseSummary(ctx, name, summary)
		}
		return nil
	})
}

func caseList(ctx context.Context, env *environment, sf *sourceFlags, format string) error {
	return withStore(ctx, sf, func(store *cache.Store) error {
		cases, err := store.Cases(ctx)
		if err != nil {
			return err
		}
		switch format {
		case "json":
			if cases == nil {
				cases = []cache.Case{}
			}
			return writeJSON(env.stdout, cases)
		case "", "table":
		default:
			return usageError{fmt.Sprintf("--format %q: want table or json", format)}
		}
		if len(cases) == 0 {
			fmt.Fprintln(env.stdout, "no cases (auditlens case add NAME --anomaly ID)")
			return nil
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CASE\tANOMALIES\tUPDATED\tSUMMARY")
		for _, c := range cases {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", safe.Text(c.Name), c.Anomalies, c.Updated.Format("2006-01-02 15:04"), safe.Text(firstLine(c.Summary)))
		}
		return tw.Flush()
	})
}

// recordEntity is the host or container a record is about.
func recordEntity(r engine.Record) string {
	if r.Entity != "" {
		return r.Entity
	}
	return r.PartitionFieldValue
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// openCaseArg reads a case: an existing file is a case file, opened
// read-only; anything else names a case in the cache of --cache.
func openCaseArg(ctx context.Context, sf *sourceFlags, arg string) (*workspace.Workspace, string, func(), error) {
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		store, _, err := cache.OpenCaseFile(ctx, arg, false)
		if err != nil {
			return nil, "", nil, caseFileAdvice(err)
		}
		ws, c, err := workspace.OpenCase(ctx, store)
		if err != nil {
			store.Close()
			return nil, "", nil, err
		}
		return ws, c.Name, func() { store.Close() }, nil
	}
	store, err := openStore(ctx, sf.cache)
	if err != nil {
		return nil, "", nil, err
	}
	return workspace.New(store), arg, func() { store.Close() }, nil
}

// caseFileAdvice says what to do about a case file that cannot be opened
// as it is.
func caseFileAdvice(err error) error {
	var older *cache.OlderSchemaError
	if errors.As(err, &older) {
		return fmt.Errorf("%w: open it with auditlens open FILE --edit to upgrade it (copy it first to keep the original)", err)
	}
	return err
}

func caseShow(ctx context.Context, env *environment, sf *sourceFlags, arg string) error {
	ws, name, closeFn, err := openCaseArg(ctx, sf, arg)
	if err != nil {
		return err
	}
	defer closeFn()
	rep, err := ws.CaseReport(ctx, name)
	if err != nil {
		return err
	}
	loc, err := sf.location()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "case %s: %d anomalies, %s to %s\n", safe.Text(rep.Case), len(rep.Anomalies),
		rep.From.In(loc).Format(time.RFC3339), rep.To.In(loc).Format(time.RFC3339))
	if rep.Summary != "" {
		fmt.Fprintln(env.stdout, safe.Text(rep.Summary))
	}
	if len(rep.Anomalies) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nTIME\tSEVERITY\tSCORE\tJOB\tENTITY\tPROCESS\tTRIAGE\tNOTE\tANOMALY ID")
	for _, a := range rep.Anomalies {
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Time.In(loc).Format("2006-01-02 15:04"), a.Severity, a.Score,
			a.Job, safe.Text(a.Entity), safe.Texts(a.Processes, ","), a.State, safe.Text(firstLine(a.Note)), safe.Text(a.ID))
	}
	return tw.Flush()
}

func caseSave(ctx context.Context, env *environment, sf *sourceFlags, name, out string, force bool) error {
	return withStore(ctx, sf, func(store *cache.Store) error {
		saved, err := workspace.New(store).SaveCase(ctx, name, out, force)
		if err != nil {
			return err
		}
		counts := "their hosts' and containers' counts"
		if saved.FleetCounts {
			counts = "the fleet's counts"
		}
		fmt.Fprintf(env.stdout, "saved case %s to %s: %d anomalies, %s over %s to %s (%d rows), %d events, %d KiB (mode 0600: it holds audit data)\n",
			safe.Text(name), safe.Text(saved.Path), saved.Anomalies, counts, saved.From.Format(time.RFC3339), saved.To.Format(time.RFC3339),
			saved.Counts, saved.Events, (saved.Size+1023)/1024)
		return nil
	})
}

func caseReport(ctx context.Context, env *environment, sf *sourceFlags, arg, format, out string) error {
	switch format {
	case "", "md", "markdown", "json":
	default:
		return usageError{fmt.Sprintf("--format %q: want md or json", format)}
	}
	loc, err := sf.location()
	if err != nil {
		return err
	}
	ws, name, closeFn, err := openCaseArg(ctx, sf, arg)
	if err != nil {
		return err
	}
	defer closeFn()
	rep, err := ws.CaseReport(ctx, name)
	if err != nil {
		return err
	}
	w := env.stdout
	var f *os.File
	if out != "" {
		// A report holds audit data: it is the analyst's alone until shared.
		if f, err = os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err != nil {
			return err
		}
		w = f
	}
	if format == "json" {
		err = workspace.WriteReportJSON(w, rep)
	} else {
		err = workspace.WriteReportMarkdown(w, rep, loc)
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func openCommand() command {
	return command{
		name:    "open",
		summary: "open a saved case file in the console, with no sources and no cache",
		usage:   "auditlens open FILE [--edit] [flags]",
		examples: `  auditlens open INC-42.alcase               # read-only: the file is never changed
  auditlens open INC-42.alcase --edit        # triage and notes are saved into the file
  auditlens open INC-42.alcase --no-console  # check the file and print what it holds`,
		bind: func(fs *flag.FlagSet) runFunc {
			var cf consoleFlags
			cf.bind(fs)
			tz := fs.String("tz", "UTC", "time zone for display: UTC, local, or Area/City")
			edit := fs.Bool("edit", false, "open for editing: triage and notes are written into the file (an older file is upgraded)")
			noConsole := fs.Bool("no-console", false, "print what the case holds instead of opening the console")
			return func(ctx context.Context, env *environment, args []string) error {
				if len(args) != 1 {
					return usageError{"open takes one case file"}
				}
				sf := sourceFlags{tz: *tz}
				loc, err := sf.location()
				if err != nil {
					return err
				}
				if _, err := tui.ParseColorMode(cf.color); err != nil {
					return usageError{"--color: " + err.Error()}
				}
				store, _, err := cache.OpenCaseFile(ctx, args[0], *edit)
				if err != nil {
					return caseFileAdvice(err)
				}
				defer store.Close()
				ws, c, err := workspace.OpenCase(ctx, store)
				if err != nil {
					return err
				}
				if *noConsole {
					return printCaseFile(env.stdout, c, loc, *edit)
				}
				return runCaseConsole(ctx, env, ws, c, &cf, *tz, *edit)
			}
		},
	}
}

// printCaseFile says what a case file holds.
func printCaseFile(w io.Writer, c workspace.Case, loc *time.Location, edit bool) error {
	from, to := c.Range()
	mode := "read-only"
	if edit {
		mode = "open for editing"
	}
	fmt.Fprintf(w, "case %s (%s), saved %s: %d anomalies, %s to %s\n", safe.Text(c.Name), mode,
		c.File.SavedAt.In(loc).Format(time.RFC3339), len(c.Entries), from.In(loc).Format(time.RFC3339), to.In(loc).Format(time.RFC3339))
	for _, s := range c.Jobs() {
		fmt.Fprintf(w, "  job %s, %s buckets, partition %s\n", s.Job.ID, workspace.SpanText(s.Job.BucketSpan), s.Job.Partition)
	}
	if !c.File.FleetCounts {
		fmt.Fprintln(w, "  counts of the case's own hosts and containers only: fleet prevalence covers those")
	}
	for _, e := range c.Entries {
		r := e.Record
		fmt.Fprintf(w, "  %s %s %.0f %s %s %s\n", time.UnixMilli(r.Timestamp).In(loc).Format("2006-01-02 15:04"),
			engine.SeverityOf(r.RecordScore).Name, r.RecordScore, r.JobID, safe.Text(recordEntity(r)), safe.Texts(workspace.RecordExecutables(r), ","))
	}
	return nil
}

// runCaseConsole opens the console on a case file: its jobs, with the
// settings its anomalies were found with, over its range.
func runCaseConsole(ctx context.Context, env *environment, ws *workspace.Workspace, c workspace.Case, cf *consoleFlags, tz string, edit bool) error {
	jobs := c.Jobs()
	if len(jobs) == 0 {
		return fmt.Errorf("case %s holds no anomaly", safe.Text(c.Name))
	}
	first := jobs[0]
	backend := workspace.NewConsole(ws, workspace.ConsoleSettings{Options: first.Options, Selection: first.Selection})
	var modelJobs []model.Job
	for _, s := range jobs {
		j := s.Job
		modelJobs = append(modelJobs, model.Job{ID: j.ID, Scope: model.Scope(j.Scope), Function: string(j.Function), Description: j.Description})
	}
	partition := ""
	if first.Job.Partition == engine.PartitionNone {
		partition = model.PartitionNone
	}
	label := "case " + c.Name
	if !edit {
		label += " (read-only)"
	}
	from, to := c.Range()
	return tui.Run(ctx, backend, tui.Options{
		Color:     cf.color,
		TZ:        tz,
		Source:    label,
		Job:       first.Job.ID,
		Partition: partition,
		From:      from,
		To:        to,
		Bucket:    first.Job.BucketSpan,
		Jobs:      modelJobs,
		Getenv:    env.getenv,
	})
}
