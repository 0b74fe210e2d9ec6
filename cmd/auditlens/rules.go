package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/internal/when"
	"github.com/auditlens/auditlens/internal/workspace"
)

func rulesCommand() command {
	return command{
		name:    "rules",
		summary: "suppression rules: silence known-benign executables without rerunning anything",
		usage: `auditlens rules list [--format table|json]
  auditlens rules add --executable PATH|PATTERN [--entity PATTERN] [--scope any|host|container]
                      [--action skip_result|skip_model_update] [--until TIME] [--note TEXT]
  auditlens rules edit ID [the same flags: those given change]
  auditlens rules remove ID [ID...]
  auditlens rules export [--out FILE]
  auditlens rules import FILE

skip_result hides matching anomaly records everywhere at once (scan counts them as
suppressed); skip_model_update keeps the executions out of the models, and the
jobs score again. Patterns: * any run of characters (slashes too), ? one
character, \ quotes the next; a path without them matches exactly. A rule with
--until does nothing after that time. The rule file is JSON.`,
		examples: `  auditlens rules add --executable /opt/app/bin/app-v2.4.1 --note 'release 2.4.1 rollout'
  auditlens rules add --executable '/usr/lib/apt/methods/*' --entity 'nyc2-*' --scope host --until +30d
  auditlens rules add --executable /usr/bin/backup --action skip_model_update
  auditlens rules export --out rules.json && auditlens rules import rules.json --cache other.db`,
		bind: func(fs *flag.FlagSet) runFunc {
			cachePath := fs.String("cache", "", "cache file (default: auditlens/cache.db under the user's cache folder, $XDG_CACHE_HOME)")
			tz := fs.String("tz", "UTC", "time zone for --until without a zone and for display: UTC, local, or Area/City")
			exe := fs.String("executable", "", "add, edit: the executable path or pattern")
			entity := fs.String("entity", "", "add, edit: only hosts or containers whose name matches this pattern (default: all)")
			scope := fs.String("scope", cache.RuleScopeAny, "add, edit: any, host or container")
			action := fs.String("action", cache.RuleSkipResult, "add, edit: skip_result or skip_model_update")
			until := fs.String("until", "", "add, edit: when the rule ends: RFC 3339, a date, or relative like +30d (edit: none removes the end)")
			note := fs.String("note", "", "add, edit: why the rule exists")
			format := fs.String("format", "table", "list: table or json")
			out := fs.String("out", "", "export: write the rule file here instead of to standard output")
			return func(ctx context.Context, env *environment, args []string) error {
				if len(args) == 0 {
					return usageError{"which: list, add, edit, remove, export or import?"}
				}
				sf := sourceFlags{tz: *tz}
				loc, err := sf.location()
				if err != nil {
					return err
				}
				given := map[string]bool{}
				fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
				verb, rest := args[0], args[1:]
				store, err := openStore(ctx, *cachePath)
				if err != nil {
					return err
				}
				defer store.Close()
				ws := workspace.New(store)
				readUntil := func() (time.Time, error) {
					if *until == "" || *until == "none" {
						return time.Time{}, nil
					}
					t, err := when.Parse(*until, time.Now(), loc)
					if err != nil {
						return t, usageError{"--until: " + err.Error()}
					}
					return t, nil
				}
				switch verb {
				case "list":
					if len(rest) > 0 {
						return usageError{"rules list takes no arguments"}
					}
					rules, err := store.Rules(ctx)
					if err != nil {
						return err
					}
					switch *format {
					case "json":
						if rules == nil {
							rules = []cache.Rule{}
						}
						return writeJSON(env.stdout, rules)
					case "table":
						printRules(env, rules, loc)
						return nil
					}
					return usageError{fmt.Sprintf("--format %q: want table or json", *format)}
				case "add":
					if len(rest) > 0 {
						return usageError{fmt.Sprintf("rules add takes flags only; unexpected %q", rest[0])}
					}
					if *exe == "" {
						return usageError{"rules add needs --executable PATH or PATTERN"}
					}
					u, err := readUntil()
					if err != nil {
						return err
					}
					r, err := ws.SaveRule(ctx, cache.Rule{Executable: *exe, Entity: *entity, Scope: *scope, Action: normalAction(*action), Until: u, Note: *note})
					if err != nil {
						return usageError{err.Error()}
					}
					fmt.Fprintf(env.stdout, "rule %s added: %s\n", r.ID, describeRule(r, loc))
					return nil
				case "edit":
					if len(rest) != 1 {
						return usageError{"rules edit takes one rule id"}
					}
					r, err := store.Rule(ctx, rest[0])
					if err != nil {
						return err
					}
					if given["executable"] {
						r.Executable = *exe
					}
					if given["entity"] {
						r.Entity = *entity
					}
					if given["scope"] {
						r.Scope = *scope
					}
					if given["action"] {
						r.Action = normalAction(*action)
					}
					if given["note"] {
						r.Note = *note
					}
					if given["until"] {
						if r.Until, err = readUntil(); err != nil {
							return err
						}
					}
					if r, err = ws.SaveRule(ctx, r); err != nil {
						return usageError{err.Error()}
					}
					fmt.Fprintf(env.stdout, "rule %s now: %s\n", r.ID, describeRule(r, loc))
					return nil
				case "remove":
					if len(rest) == 0 {
						return usageError{"rules remove takes rule ids (auditlens rules list)"}
					}
					for _, id := range rest {
						if err := store.RemoveRule(ctx, id); err != nil {
							return err
						}
						fmt.Fprintf(env.stdout, "rule %s removed\n", safe.Text(id))
					}
					return nil
				case "export":
					if len(rest) > 0 {
						return usageError{"rules export takes no arguments (--out FILE)"}
					}
					if *out == "" {
						return ws.ExportRules(ctx, env.stdout)
					}
					f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
					if err != nil {
						return err
					}
					if err := ws.ExportRules(ctx, f); err != nil {
						f.Close()
						return err
					}
					return f.Close()
				case "import":
					if len(rest) != 1 {
						return usageError{"rules import takes one rule file"}
					}
					f, err := os.Open(rest[0])
					if err != nil {
						return err
					}
					defer f.Close()
					rules, err := workspace.ParseRules(f)
					if err != nil {
						return fmt.Errorf("%s: %w", rest[0], err)
					}
					stored, err := ws.ImportRules(ctx, rules)
					if err != nil {
						return err
					}
					fmt.Fprintf(env.stdout, "%d rule(s) imported from %s\n", len(stored), safe.Text(rest[0]))
					return nil
				}
				return usageError{fmt.Sprintf("unknown rules command %q: want list, add, edit, remove, export or import", verb)}
			}
		},
	}
}

// normalAction accepts skip-result for skip_result, as people type it.
func normalAction(a string) string { return strings.ReplaceAll(a, "-", "_") }

func describeRule(r cache.Rule, loc *time.Location) string {
	where := "every " + r.Scope
	if r.Scope == cache.RuleScopeAny {
		where = "every host and container"
	}
	if r.Entity != "" {
		where = fmt.Sprintf("%s matching %s", strings.TrimPrefix(where, "every "), safe.Text(r.Entity))
	}
	s := fmt.Sprintf("%s %s on %s", r.Action, safe.Text(r.Executable), where)
	if !r.Until.IsZero() {
		s += " until " + r.Until.In(loc).Format(time.RFC3339)
	}
	return s
}

func printRules(env *environment, rules []cache.Rule, loc *time.Location) {
	if len(rules) == 0 {
		fmt.Fprintln(env.stdout, "no rules (auditlens rules add --executable PATH)")
		return
	}
	now := time.Now()
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACTION\tEXECUTABLE\tSCOPE\tENTITY\tUNTIL\tSTATE\tNOTE")
	for _, r := range rules {
		until, state := "-", "active"
		if !r.Until.IsZero() {
			until = r.Until.In(loc).Format("2006-01-02 15:04")
		}
		if !r.Active(now) {
			state = "expired"
		}
		entity := r.Entity
		if entity == "" {
			entity = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", safe.Text(r.ID), r.Action, safe.Text(r.Executable), r.Scope,
			safe.Text(entity), until, state, safe.Text(firstLine(r.Note)))
	}
	tw.Flush()
}
