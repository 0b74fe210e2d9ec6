package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/internal/when"
	"github.com/auditlens/auditlens/internal/workspace"
)

// jobFlags choose the jobs and their settings; scan and the console share them.
type jobFlags struct {
	jobs      string
	bucket    string
	partition string
	noFleet   bool
}

func (j *jobFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&j.jobs, "jobs", "all", "jobs to run, comma list or all: host_rare_process, host_high_process_rate, docker_rare_process, docker_high_process_rate (Elastic's job ids work too)")
	fs.StringVar(&j.bucket, "bucket", "15m", "bucket span: 5m, 15m, 1h, ... (whole minutes)")
	fs.StringVar(&j.partition, "partition", "host", "host: model each host or container on its own; none: rare across the whole fleet, the host an influencer only")
	fs.BoolVar(&j.noFleet, "no-fleet-context", false, "score rare processes per host only, as Elastic does, without lowering those that other hosts ran")
}

// resolve returns the chosen jobs with the bucket span and partition applied.
func (j *jobFlags) resolve() ([]engine.Job, error) {
	span, err := when.ParseSpan(j.bucket)
	if err != nil {
		return nil, usageError{"--bucket: " + err.Error()}
	}
	part, err := engine.ParsePartitionMode(j.partition)
	if err != nil {
		return nil, usageError{"--partition: " + err.Error()}
	}
	var jobs []engine.Job
	if j.jobs == "" || j.jobs == "all" {
		jobs = engine.Jobs()
	} else {
		for _, id := range strings.Split(j.jobs, ",") {
			job, err := engine.JobByID(id)
			if err != nil {
				return nil, usageError{"--jobs: " + err.Error()}
			}
			jobs = append(jobs, job)
		}
	}
	for i := range jobs {
		jobs[i] = jobs[i].WithBucketSpan(span).WithPartition(part)
		if err := jobs[i].Validate(); err != nil {
			return nil, usageError{err.Error()}
		}
	}
	return jobs, nil
}

// options are the engine's settings. The seasonal model runs in UTC, not in
// --tz, so results do not depend on the viewer's zone.
func (j *jobFlags) options() engine.Options {
	o := engine.DefaultOptions()
	o.FleetContext = !j.noFleet
	return o
}

func scanCommand() command {
	return command{
		name:    "scan",
		summary: "run the detectors headless and print anomaly records",
		usage:   "auditlens scan [flags] [--input PATH...]",
		examples: `  auditlens scan --input /var/log/audit/                       # table, most anomalous first
  auditlens scan --jobs host_rare_process --min-score 50
  auditlens scan --format ndjson --min-score 25 > records.ndjson  # Elastic ML record shape
  auditlens scan --from -24h --fail-on 75                        # exit 3 if anything critical (cron, CI)`,
		bind: func(fs *flag.FlagSet) runFunc {
			var sf sourceFlags
			var jf jobFlags
			sf.bind(fs)
			jf.bind(fs)
			format := fs.String("format", "table", "output: table, ndjson or csv")
			minScore := fs.Float64("min-score", 25, "print records scoring at least this (0-100; 25 = minor and up)")
			failOn := fs.Float64("fail-on", 0, "exit with code 3 when any record scores at least this (0: never)")
			limit := fs.Int("limit", 0, "table: print at most this many records (0: all)")
			showSuppressed := fs.Bool("show-suppressed", false, "print the records suppression rules hide too, marked with the rule's id")
			return func(ctx context.Context, env *environment, args []string) error {
				sf.inputs = append(sf.inputs, args...)
				switch *format {
				case "table", "ndjson", "csv":
				default:
					return usageError{fmt.Sprintf("--format %q: want table, ndjson or csv", *format)}
				}
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
				store, err := openStore(ctx, sf.cache)
				if err != nil {
					return err
				}
				defer store.Close()
				got, err := sf.load(ctx, env, store, env.stderr, env.stderr)
				if err != nil {
					return err
				}
				loads := got.Loads
				if from.IsZero() && to.IsZero() {
					from, to = got.From, got.To
				}
				ws := workspace.New(store)
				var records []engine.Record
				suppressedBy := map[string]string{} // anomaly id -> rule id
				for _, job := range jobs {
					out, err := ws.Detect(ctx, workspace.Scan{Job: job, Options: jf.options(), From: from, To: to, Selection: sel, Loads: loads})
					if err != nil {
						return err
					}
					how := "ran"
					if out.Cached {
						how = "cached"
					}
					hidden := ""
					if n := len(out.Suppressed); n > 0 {
						hidden = fmt.Sprintf(" (%d suppressed)", n)
					}
					fmt.Fprintf(env.stderr, "scan: %-24s %s to %s, %d records%s, %s in %s\n", job.ID,
						out.From.In(loc).Format(time.RFC3339), out.To.In(loc).Format(time.RFC3339),
						len(out.Results.Records), hidden, how, out.Took.Round(time.Millisecond))
					records = append(records, out.Results.Records...)
					for _, sr := range out.Suppressed {
						suppressedBy[workspace.AnomalyID(sr.Record)] = sr.Rule
						if *showSuppressed {
							records = append(records, sr.Record)
						}
					}
				}
				if n := len(suppressedBy); n > 0 && !*showSuppressed {
					fmt.Fprintf(env.stderr, "scan: %d suppressed by rules (auditlens rules list; --show-suppressed prints them)\n", n)
				}
				var top float64
				kept := records[:0]
				for _, r := range records {
					if suppressedBy[workspace.AnomalyID(r)] == "" { // a suppressed record never trips --fail-on
						top = max(top, r.RecordScore)
					}
					if r.RecordScore >= *minScore {
						kept = append(kept, r)
					}
				}
				switch *format {
				case "ndjson":
					sort.SliceStable(kept, func(i, j int) bool { return kept[i].Timestamp < kept[j].Timestamp })
					for _, r := range kept {
						id := workspace.AnomalyID(r)
						if err := writeJSON(env.stdout, ndjsonRecord{Record: r, AnomalyID: id, SuppressedBy: suppressedBy[id]}); err != nil {
							return err
						}
					}
				case "csv":
					sort.SliceStable(kept, func(i, j int) bool { return kept[i].Timestamp < kept[j].Timestamp })
					if err := writeRecordsCSV(env.stdout, kept, loc, suppressedBy); err != nil {
						return err
					}
				default:
					sort.SliceStable(kept, func(i, j int) bool {
						if kept[i].RecordScore != kept[j].RecordScore {
							return kept[i].RecordScore > kept[j].RecordScore
						}
						return kept[i].Timestamp < kept[j].Timestamp
					})
					if *limit > 0 && len(kept) > *limit {
						kept = kept[:*limit]
					}
					writeRecordsTable(env.stdout, kept, loc, suppressedBy)
				}
				if *failOn > 0 && top >= *failOn {
					return exitCodeError{exitAnomaly, fmt.Errorf("a record scored %.0f, at or above --fail-on %.0f", top, *failOn)}
				}
				return nil
			}
		},
	}
}

// ndjsonRecord is a record as scan's NDJSON prints it: Elastic's record
// shape, the id that case add and triage take, and the rule that hides it
// (with --show-suppressed).
type ndjsonRecord struct {
	engine.Record
	AnomalyID    string `json:"anomaly_id"`
	SuppressedBy string `json:"suppressed_by,omitempty"`
}

// recordColumns renders a record's columns as text made safe for a terminal;
// a record a rule hides says so in front of its explanation.
func recordColumns(r engine.Record, loc *time.Location, suppressedBy map[string]string) []string {
	process := r.ByFieldValue
	var influencers []string
	for _, inf := range r.Influencers {
		if inf.FieldName == engine.FieldExecutable || inf.FieldName == "user.name" {
			influencers = append(influencers, inf.FieldValues...)
		}
	}
	if process == "" {
		process = strings.Join(influencers, ",")
	}
	entity := r.Entity
	if entity == "" {
		entity = r.PartitionFieldValue
	}
	why := safe.Text(r.Why)
	if rule := suppressedBy[workspace.AnomalyID(r)]; rule != "" {
		why = "[suppressed by " + safe.Text(rule) + "] " + why
	}
	return []string{
		time.UnixMilli(r.Timestamp).In(loc).Format("2006-01-02 15:04"),
		engine.SeverityOf(r.RecordScore).Name,
		strconv.FormatFloat(r.RecordScore, 'f', 0, 64),
		r.JobID,
		safe.Text(entity),
		safe.Text(process),
		formatValues(r.Actual),
		formatValues(r.Typical),
		why,
	}
}

var recordHeader = []string{"time", "severity", "score", "job", "entity", "process", "actual", "typical", "why"}

func writeRecordsTable(w io.Writer, records []engine.Record, loc *time.Location, suppressedBy map[string]string) {
	if len(records) == 0 {
		fmt.Fprintln(w, "no anomaly records at this score or above")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(recordHeader, "\t")))
	for _, r := range records {
		cols := recordColumns(r, loc, suppressedBy)
		if len(cols[5]) > 48 {
			cols[5] = cols[5][:45] + "..."
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	tw.Flush()
}

func writeRecordsCSV(w io.Writer, records []engine.Record, loc *time.Location, suppressedBy map[string]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(recordHeader); err != nil {
		return err
	}
	for _, r := range records {
		if err := cw.Write(recordColumns(r, loc, suppressedBy)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func formatValues(vs []float64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		switch {
		case v == float64(int64(v)):
			parts[i] = strconv.FormatInt(int64(v), 10)
		case v < 0.01:
			parts[i] = strconv.FormatFloat(v, 'g', 3, 64)
		default:
			parts[i] = strconv.FormatFloat(v, 'f', 2, 64)
		}
	}
	return strings.Join(parts, ",")
}
