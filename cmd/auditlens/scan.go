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
	jobs        string
	bucket      string
	partition   string
	noFleet     bool
	learning    int
	rateLearned int
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

func (j *jobFlags) options(loc *time.Location) engine.Options {
	o := engine.DefaultOptions()
	o.FleetContext = !j.noFleet
	_ = loc // the seasonal model runs in UTC, so results do not depend on the viewer's zone
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
				var loads []int64
				if len(sf.inputs) > 0 {
					res, err := ingest(ctx, store, &sf, env.stderr, env.stderr)
					if err != nil {
						return err
					}
					if loads = res.Loads(); len(loads) == 0 {
						return fmt.Errorf("the inputs held no events")
					}
				}
				ws := workspace.New(store)
				var records []engine.Record
				for _, job := range jobs {
					out, err := ws.Detect(ctx, workspace.Scan{Job: job, Options: jf.options(loc), From: from, To: to, Selection: sel, Loads: loads})
					if err != nil {
						return err
					}
					how := "ran"
					if out.Cached {
						how = "cached"
					}
					fmt.Fprintf(env.stderr, "scan: %-24s %s to %s, %d records, %s in %s\n", job.ID,
						out.From.In(loc).Format(time.RFC3339), out.To.In(loc).Format(time.RFC3339),
						len(out.Results.Records), how, out.Took.Round(time.Millisecond))
					records = append(records, out.Results.Records...)
				}
				var top float64
				kept := records[:0]
				for _, r := range records {
					top = max(top, r.RecordScore)
					if r.RecordScore >= *minScore {
						kept = append(kept, r)
					}
				}
				switch *format {
				case "ndjson":
					sort.SliceStable(kept, func(i, j int) bool { return kept[i].Timestamp < kept[j].Timestamp })
					for _, r := range kept {
						if err := writeJSON(env.stdout, r); err != nil {
							return err
						}
					}
				case "csv":
					sort.SliceStable(kept, func(i, j int) bool { return kept[i].Timestamp < kept[j].Timestamp })
					if err := writeRecordsCSV(env.stdout, kept, loc); err != nil {
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
					writeRecordsTable(env.stdout, kept, loc)
				}
				if *failOn > 0 && top >= *failOn {
					return exitCodeError{exitAnomaly, fmt.Errorf("a record scored %.0f, at or above --fail-on %.0f", top, *failOn)}
				}
				return nil
			}
		},
	}
}

// recordColumns renders a record's columns as text made safe for a terminal.
func recordColumns(r engine.Record, loc *time.Location) []string {
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
	return []string{
		time.UnixMilli(r.Timestamp).In(loc).Format("2006-01-02 15:04"),
		engine.SeverityOf(r.RecordScore).Name,
		strconv.FormatFloat(r.RecordScore, 'f', 0, 64),
		r.JobID,
		safe.Text(entity),
		safe.Text(process),
		formatValues(r.Actual),
		formatValues(r.Typical),
		safe.Text(r.Why),
	}
}

var recordHeader = []string{"time", "severity", "score", "job", "entity", "process", "actual", "typical", "why"}

func writeRecordsTable(w io.Writer, records []engine.Record, loc *time.Location) {
	if len(records) == 0 {
		fmt.Fprintln(w, "no anomaly records at this score or above")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(recordHeader, "\t")))
	for _, r := range records {
		cols := recordColumns(r, loc)
		if len(cols[5]) > 48 {
			cols[5] = cols[5][:45] + "..."
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	tw.Flush()
}

func writeRecordsCSV(w io.Writer, records []engine.Record, loc *time.Location) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(recordHeader); err != nil {
		return err
	}
	for _, r := range records {
		if err := cw.Write(recordColumns(r, loc)); err != nil {
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
