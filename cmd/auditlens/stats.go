package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/internal/safe"
)

func statsCommand() command {
	return command{
		name:    "stats",
		summary: "summarise audit data: events, executions, hosts, containers, executables",
		usage:   "auditlens stats [flags] [--input PATH...]",
		examples: `  auditlens stats --input audit.log                    # loads it into the cache first
  auditlens stats --input audit.log --format json      # one JSON object for scripts
  auditlens stats --from -7d                           # everything cached, last 7 days`,
		bind: func(fs *flag.FlagSet) runFunc {
			var sf sourceFlags
			sf.bind(fs)
			format := fs.String("format", "table", "output: table or json")
			top := fs.Int("top", 15, "executables and hosts to list in the table")
			return func(ctx context.Context, env *environment, args []string) error {
				sf.inputs = append(sf.inputs, args...)
				if *format != "table" && *format != "json" {
					return usageError{fmt.Sprintf("--format %q: want table or json", *format)}
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
				// Statistics of the sources named, not of the whole cache; the
				// ingest's own summary goes to stderr so JSON stays clean.
				got, err := sf.load(ctx, env, store, env.stderr, env.stderr)
				if err != nil {
					return err
				}
				if from.IsZero() && to.IsZero() {
					from, to = got.From, got.To
				}
				q := cache.StatsQuery{From: from, To: to, Loads: got.Loads}
				st, err := store.Stats(ctx, q)
				if err != nil {
					return err
				}
				if *format == "json" {
					return writeJSON(env.stdout, st)
				}
				printStats(env.stdout, st, *top, loc)
				return nil
			}
		},
	}
}

// writeJSON writes v as one line of JSON, made harmless for a terminal.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(safe.JSON(b), '\n'))
	return err
}

func printStats(w io.Writer, st cache.Stats, top int, loc *time.Location) {
	fmt.Fprintf(w, "events       %d\n", st.Events)
	fmt.Fprintf(w, "executions   %d\n", st.Executions)
	fmt.Fprintf(w, "hosts        %d\n", st.Hosts)
	fmt.Fprintf(w, "containers   %d\n", st.Containers)
	fmt.Fprintf(w, "executables  %d\n", st.Executables)
	fmt.Fprintf(w, "rejected     %d\n", st.Rejected)
	if !st.From.IsZero() {
		fmt.Fprintf(w, "time range   %s to %s\n", st.From.In(loc).Format(time.RFC3339), st.To.In(loc).Format(time.RFC3339))
	}
	printTop(w, "executions by executable", st.ByExecutable, top)
	printTop(w, "executions by host", st.ByHost, top)
	if len(st.Sources) > 0 {
		fmt.Fprintf(w, "\nsources (%d)\n", len(st.Sources))
		for _, s := range st.Sources {
			name := s.Path
			if name == "" {
				name = s.Source
			}
			fmt.Fprintf(w, "  %-48s %8d events %8d executions %6d rejected\n", safe.Text(name), s.Seen, s.Executions, s.Rejected)
			for _, r := range s.Samples {
				fmt.Fprintf(w, "      line %d: %s\n", r.Line, safe.Text(r.Reason))
			}
		}
	}
}

// printTop lists the largest entries of m, largest first, ties by name.
func printTop(w io.Writer, title string, m map[string]int64, top int) {
	if len(m) == 0 {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	fmt.Fprintf(w, "\n%s (%d)\n", title, len(keys))
	for i, k := range keys {
		if i == top {
			fmt.Fprintf(w, "  ... %d more\n", len(keys)-top)
			break
		}
		fmt.Fprintf(w, "  %8d  %s\n", m[k], safe.Text(k))
	}
}
