// Package when reads the times and spans an analyst types: RFC 3339 stamps,
// dates, "now", and relative offsets such as -7d or -90m.
package when

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseSpan reads a span such as 90s, 15m, 1h, 7d or 2w. Days and weeks are
// fixed lengths of 24 and 168 hours: audit time is UTC and has no DST.
func ParseSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty span")
	}
	unit := s[len(s)-1]
	mult := time.Duration(0)
	switch unit {
	case 'd':
		mult = 24 * time.Hour
	case 'w':
		mult = 7 * 24 * time.Hour
	}
	if mult != 0 {
		n, err := strconv.ParseFloat(s[:len(s)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("span %q: want a number before %q, e.g. 7d", s, string(unit))
		}
		return time.Duration(n * float64(mult)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("span %q: want e.g. 90s, 15m, 1h, 7d or 2w", s)
	}
	return d, nil
}

// Parse reads a point in time: "now", a relative offset from now ("-7d",
// "-24h", "+1h"), an RFC 3339 stamp, or a date or date-and-time without a zone,
// which is taken in loc.
func Parse(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, errors.New("empty time")
	case s == "now":
		return now, nil
	case s[0] == '-' || s[0] == '+':
		d, err := ParseSpan(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", s, err)
		}
		if s[0] == '-' {
			d = -d
		}
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want now, a relative offset like -7d or -24h, RFC 3339 like 2026-11-01T00:00:00Z, or a date like 2026-11-01", s)
}
