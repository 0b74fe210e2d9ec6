package tui

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	"github.com/muesli/termenv"
)

// Options configure the console. The zero value works: automatic colour,
// UTC, the default jobs, the first job, 15-minute buckets, all the data.
type Options struct {
	// Color is auto (the default), never, 16, 256 or truecolor. auto reads
	// NO_COLOR, TERM and COLORTERM once at start; never the terminal itself.
	Color string
	// TZ is the display zone: UTC (the default), local, or an Area/City name.
	TZ string
	// Source says where the data comes from, for the status bar, e.g.
	// "auditbeat ndjson, 3 files". It may hold file names; it is sanitized.
	Source string
	// Job is the job shown first; the first of Jobs when empty.
	Job string
	// Partition is "" (per host or container) or model.PartitionNone.
	Partition string
	// From and To bound the range; zero means the data's first or last event.
	From, To time.Time
	// Bucket is the bucket span; 15 minutes when zero.
	Bucket time.Duration
	// Jobs the analyst can switch between; model.DefaultJobs when nil.
	Jobs []model.Job
	// OpenAnomaly, when set and returning a screen, replaces the screen
	// enter opens for an anomaly: by default the rare-process chart for rare
	// jobs and the rate drill-down for rate jobs (the anomaly's record when
	// the backend offers no drill-down).
	OpenAnomaly func(ctx *view.Context, a model.Anomaly) view.View
	// Theme, when set, replaces the theme Color would resolve (for tests and
	// for embedding).
	Theme *view.Theme
	// Getenv reads the environment (NO_COLOR, TERM, COLORTERM, TMUX);
	// os.Getenv when nil.
	Getenv func(string) string
	// Now is the clock for relative ranges such as -24h; time.Now when nil.
	Now func() time.Time
	// Input and Output are the terminal; os.Stdin and os.Stdout when nil.
	// Output also carries the OSC 52 clipboard sequences of y.
	Input  io.Reader
	Output io.Writer
}

// DefaultBucket is the bucket span when none is given.
const DefaultBucket = 15 * time.Minute

// ColorMode is how much colour the console draws.
type ColorMode string

const (
	ColorAuto      ColorMode = "auto"
	ColorNever     ColorMode = "never"
	Color16        ColorMode = "16"
	Color256       ColorMode = "256"
	ColorTrueColor ColorMode = "truecolor"
)

// ParseColorMode reads --color.
func ParseColorMode(s string) (ColorMode, error) {
	switch ColorMode(strings.ToLower(strings.TrimSpace(s))) {
	case "", ColorAuto:
		return ColorAuto, nil
	case ColorNever, "none", "off":
		return ColorNever, nil
	case Color16, "ansi":
		return Color16, nil
	case Color256, "ansi256":
		return Color256, nil
	case ColorTrueColor, "24bit":
		return ColorTrueColor, nil
	}
	return "", fmt.Errorf("--color %q: want auto, never, 16, 256 or truecolor", s)
}

// ResolveTheme turns the colour mode and the environment into the theme,
// once, at start. An explicit depth wins over NO_COLOR (the flag is the more
// specific wish); never and NO_COLOR keep reverse video and bold but drop
// colours; TERM=dumb draws no escape sequences at all. It never asks the
// terminal anything: a background-colour query stalls inside tmux.
func ResolveTheme(mode ColorMode, getenv func(string) string) *view.Theme {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	switch mode {
	case ColorNever:
		return view.NewTheme(termenv.ANSI, false)
	case Color16:
		return view.NewTheme(termenv.ANSI, true)
	case Color256:
		return view.NewTheme(termenv.ANSI256, true)
	case ColorTrueColor:
		return view.NewTheme(termenv.TrueColor, true)
	}
	term := getenv("TERM")
	if term == "dumb" {
		return view.PlainTheme()
	}
	profile := termenv.ANSI
	switch ct := strings.ToLower(getenv("COLORTERM")); {
	case ct == "truecolor" || ct == "24bit" || strings.HasSuffix(term, "-direct"):
		profile = termenv.TrueColor
	case strings.Contains(term, "256color"):
		profile = termenv.ANSI256
	}
	if getenv("NO_COLOR") != "" {
		return view.NewTheme(profile, false)
	}
	return view.NewTheme(profile, true)
}

// ParseTZ reads --tz: UTC (or empty), local, or an IANA Area/City name.
func ParseTZ(s string) (*time.Location, error) {
	switch strings.TrimSpace(s) {
	case "", "UTC", "utc", "Z":
		return time.UTC, nil
	case "local", "Local":
		return time.Local, nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("--tz %q: want UTC, local or an Area/City name such as Europe/Berlin: %w", s, err)
	}
	return loc, nil
}
