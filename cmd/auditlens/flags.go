package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/when"
	"github.com/auditlens/auditlens/sources"
)

// listFlag collects a repeatable flag: --input a --input b.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// sourceFlags are the flags every command that reads audit data shares.
type sourceFlags struct {
	inputs listFlag
	host   string
	events string
	strict bool
	cache  string
	from   string
	to     string
	tz     string
	es     esFlags
}

func (s *sourceFlags) bind(fs *flag.FlagSet) {
	fs.Var(&s.inputs, "input", "audit data to read: a file, folder or glob of Auditbeat NDJSON (.gz too) or raw audit.log (repeatable; extra arguments are inputs too)")
	fs.StringVar(&s.host, "host", "", "host name for raw audit logs without node= prefixes (default: the log's folder name)")
	fs.StringVar(&s.events, "events", "executions", "which events count: executions (execve/execveat) or all-syscalls (Elastic's jobs' behaviour)")
	fs.BoolVar(&s.strict, "strict", false, "fail (exit 4) when any input line is rejected instead of counting and reporting it")
	fs.StringVar(&s.cache, "cache", "", "cache file (default: auditlens/cache.db under the user's cache folder, $XDG_CACHE_HOME)")
	fs.StringVar(&s.from, "from", "", "start of the time range: RFC 3339, a date, or relative like -7d (default: the data's first event)")
	fs.StringVar(&s.to, "to", "", "end of the time range, same forms as --from (default: the data's last event)")
	fs.StringVar(&s.tz, "tz", "UTC", "time zone for dates without a zone and for display: UTC, local, or Area/City")
	s.es.bind(fs)
}

// selection maps --events to what sources yield.
func (s *sourceFlags) selection() (sources.Selection, error) {
	switch s.events {
	case "", "executions", "exec":
		return sources.Executions, nil
	case "all-syscalls", "all":
		return sources.AllSyscalls, nil
	}
	return 0, usageError{fmt.Sprintf("--events %q: want executions or all-syscalls", s.events)}
}

func (s *sourceFlags) location() (*time.Location, error) {
	switch s.tz {
	case "", "UTC", "utc":
		return time.UTC, nil
	case "local", "Local":
		return time.Local, nil
	}
	loc, err := time.LoadLocation(s.tz)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--tz %q: want UTC, local or an Area/City name such as Europe/Berlin", s.tz)}
	}
	return loc, nil
}

// timeRange reads --from and --to; a zero time means "open on that side".
func (s *sourceFlags) timeRange(now time.Time) (from, to time.Time, err error) {
	loc, err := s.location()
	if err != nil {
		return from, to, err
	}
	if s.from != "" {
		if from, err = when.Parse(s.from, now, loc); err != nil {
			return from, to, usageError{"--from: " + err.Error()}
		}
	}
	if s.to != "" {
		if to, err = when.Parse(s.to, now, loc); err != nil {
			return from, to, usageError{"--to: " + err.Error()}
		}
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return from, to, usageError{fmt.Sprintf("--to (%s) must be after --from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))}
	}
	return from, to, nil
}
