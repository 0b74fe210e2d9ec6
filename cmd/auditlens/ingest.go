package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/sources"
)

func ingestCommand() command {
	return command{
		name:    "ingest",
		summary: "load audit files into the cache (skips what is already there)",
		usage:   "auditlens ingest [flags] --input PATH... [PATH...]",
		examples: `  auditlens ingest --input /var/log/audit/            # audit.log and its rotations
  auditlens ingest --input 'beats/auditbeat-*.ndjson.gz'
  auditlens ingest --host web-07 --input web-07-audit.log
  auditlens ingest --strict --input audit.log          # exit 4 on any bad line`,
		bind: func(fs *flag.FlagSet) runFunc {
			var sf sourceFlags
			sf.bind(fs)
			quiet := fs.Bool("quiet", false, "print nothing but errors")
			return func(ctx context.Context, env *environment, args []string) error {
				sf.inputs = append(sf.inputs, args...)
				if _, ok := sf.es.config(env.getenv, len(sf.inputs) > 0); !ok && len(sf.inputs) == 0 {
					return usageError{"no input: give --input PATH (a file, folder or glob) or --es-url URL"}
				}
				store, err := openStore(ctx, sf.cache)
				if err != nil {
					return err
				}
				defer store.Close()
				out := env.stdout
				if *quiet {
					out = io.Discard
				}
				_, err = sf.load(ctx, env, store, out, env.stderr)
				return err
			}
		},
	}
}

// openStore opens the cache named by --cache, or the default one.
func openStore(ctx context.Context, path string) (*cache.Store, error) {
	if path == "" {
		p, err := cache.DefaultPath()
		if err != nil {
			return nil, fmt.Errorf("%w (give --cache FILE)", err)
		}
		path = p
	}
	return cache.Open(ctx, path)
}

// loaded says what a command's sources put in the cache.
type loaded struct {
	// Loads are the loads holding the sources' data; nil when no source was
	// named, meaning the whole cache.
	Loads []int64
	// From and To are the range read from a range-queried source; zero for
	// files, which are read whole.
	From, To time.Time
}

// load reads the sources the flags name into the cache: Elasticsearch when a
// URL is given (or set in the environment and no files are named), else the
// --input files; nothing when neither is given.
func (sf *sourceFlags) load(ctx context.Context, env *environment, store *cache.Store, out, errw io.Writer) (loaded, error) {
	sel, err := sf.selection()
	if err != nil {
		return loaded{}, err
	}
	if cfg, ok := sf.es.config(env.getenv, len(sf.inputs) > 0); ok {
		from, to, err := sf.timeRange(time.Now())
		if err != nil {
			return loaded{}, err
		}
		from, to = esRange(from, to, time.Now())
		src, err := openElastic(ctx, cfg, errw)
		if err != nil {
			return loaded{}, err
		}
		began := time.Now()
		loads, err := loadElastic(ctx, store, src, from, to, sel, nil, errw)
		if err != nil {
			return loaded{}, err
		}
		fmt.Fprintf(out, "ingest: %s, %s to %s cached in %s\n", safe.Text(describeElastic(src)),
			from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), time.Since(began).Round(time.Millisecond))
		return loaded{Loads: loads, From: from, To: to}, nil
	}
	if len(sf.inputs) == 0 {
		return loaded{}, nil
	}
	res, err := ingest(ctx, store, sf, out, errw)
	if err != nil {
		return loaded{}, err
	}
	if len(res.Loads()) == 0 {
		return loaded{}, fmt.Errorf("the inputs held no events")
	}
	return loaded{Loads: res.Loads()}, nil
}

// ingest discovers the inputs, loads them into the cache and reports what was
// loaded, skipped and rejected. Rejected lines are reported with file and line
// on errw; under --strict they fail the command with exit code 4.
func ingest(ctx context.Context, store *cache.Store, sf *sourceFlags, out, errw io.Writer) (cache.IngestResult, error) {
	sel, err := sf.selection()
	if err != nil {
		return cache.IngestResult{}, err
	}
	opts := sources.Options{Selection: sel, Host: sf.host}
	inputs, err := sources.Discover(sf.inputs, opts)
	if err != nil {
		return cache.IngestResult{}, err
	}
	start := time.Now()
	res, err := store.Ingest(ctx, inputs, cache.IngestOptions{Selection: sel, Host: sf.host, Strict: sf.strict})
	printIngest(out, errw, res, time.Since(start))
	if err != nil {
		var failed int
		for _, in := range res.Inputs {
			if in.Err != nil {
				failed++
			}
		}
		if sf.strict && failed > 0 && !errors.Is(err, context.Canceled) {
			return res, exitCodeError{exitRejected, fmt.Errorf("%d input(s) not loaded under --strict: %w", failed, err)}
		}
		return res, err
	}
	return res, nil
}

func printIngest(out, errw io.Writer, res cache.IngestResult, took time.Duration) {
	var events, rejected int64
	for _, in := range res.Inputs {
		for _, f := range in.Files {
			events += f.Report.Events
			rejected += f.Report.Rejected
		}
		for _, line := range strings.Split(strings.TrimRight(in.Report.Summary(), "\n"), "\n") {
			if line != "" {
				fmt.Fprintln(errw, "warning:", safe.Text(line))
			}
		}
	}
	fmt.Fprintf(out, "ingest: %d new, %d grown, %d reloaded, %d already cached, %d duplicate file(s); %d events read, %d rejected lines, in %s\n",
		res.Count(cache.FileNew), res.Count(cache.FileGrown), res.Count(cache.FileReloaded),
		res.Count(cache.FileKnown), res.Count(cache.FileDuplicate), events, rejected, took.Round(time.Millisecond))
}
