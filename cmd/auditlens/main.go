// Command auditlens is a terminal console for finding and triaging anomalous
// process activity in Linux audit data.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes, so scripts and cron can tell outcomes apart.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitAnomaly  = 3 // scan --fail-on: a record reached the threshold
	exitRejected = 4 // --strict: input had rejected lines
)

// command is one subcommand: its help text, its flags and what it runs.
type command struct {
	name     string
	summary  string
	usage    string
	examples string
	// bind registers the command's flags on fs and returns the function that
	// runs the command once they are parsed; args are the positional ones.
	bind func(fs *flag.FlagSet) func(ctx context.Context, env *environment, args []string) error
}

// runFunc is what bind returns.
type runFunc = func(ctx context.Context, env *environment, args []string) error

// environment is what a command may touch of the outside world, so tests can
// run commands in-process with their own output streams.
type environment struct {
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// usageError marks a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitCodeError carries a specific exit code with its message.
type exitCodeError struct {
	code int
	err  error
}

func (e exitCodeError) Error() string { return e.err.Error() }
func (e exitCodeError) Unwrap() error { return e.err }

func commands() []command {
	return []command{
		genCommand(),
		ingestCommand(),
		statsCommand(),
		scanCommand(),
		tuiCommand(),
		demoCommand(),
		caseCommand(),
		openCommand(),
		rulesCommand(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &environment{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(runMain(ctx, env, os.Args[1:]))
}

// runMain dispatches to a subcommand and turns its error into an exit code.
func runMain(ctx context.Context, env *environment, args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" && args[0] != "--version" {
		args = append([]string{"tui"}, args...) // the console is the default
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "--help":
		if len(rest) > 0 {
			if c, ok := findCommand(rest[0]); ok {
				printCommandHelp(env.stdout, c)
				return exitOK
			}
		}
		printOverview(env.stdout)
		return exitOK
	case "version", "--version":
		fmt.Fprintln(env.stdout, "auditlens", version)
		return exitOK
	}
	c, ok := findCommand(name)
	if !ok {
		fmt.Fprintf(env.stderr, "auditlens: unknown command %q\n\n", name)
		printOverview(env.stderr)
		return exitUsage
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	run := c.bind(fs)
	positional, err := parseInterleaved(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		printCommandHelp(env.stdout, c)
		return exitOK
	}
	if err == nil {
		err = run(ctx, env, positional)
	}
	if err == nil {
		return exitOK
	}
	var ue usageError
	var ce exitCodeError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(env.stderr, "auditlens %s: %v\nRun 'auditlens help %s' for usage.\n", c.name, err, c.name)
		return exitUsage
	case errors.As(err, &ce):
		fmt.Fprintf(env.stderr, "auditlens %s: %v\n", c.name, err)
		return ce.code
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(env.stderr, "auditlens %s: cancelled\n", c.name)
		return exitError
	default:
		fmt.Fprintf(env.stderr, "auditlens %s: %v\n", c.name, err)
		return exitError
	}
}

var version = "dev"

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func printOverview(w io.Writer) {
	fmt.Fprint(w, `auditlens: find and triage anomalous process activity in Linux audit data.

Usage:
  auditlens <command> [flags]

Commands:
`)
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'auditlens help <command>' or 'auditlens <command> --help' for a command's flags and examples.
`)
}

func printCommandHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "auditlens %s: %s\n\nUsage:\n  %s\n", c.name, c.summary, c.usage)
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.bind(fs)
	fmt.Fprint(w, "\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	if c.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.examples, "\n"))
	}
}

// parseInterleaved parses flags that may stand before, between or after
// positional arguments ("--input a.log b.log --from -7d"); "--" ends flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
