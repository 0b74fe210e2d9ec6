package when

import (
	"testing"
	"time"
)

func TestParseSpan(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"15m", 15 * time.Minute, false},
		{"1h", time.Hour, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"1.5d", 36 * time.Hour, false},
		{"90s", 90 * time.Second, false},
		{"", 0, true},
		{"xd", 0, true},
		{"7y", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSpan(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseSpan(%q) = %v, %v; want %v, bad=%v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestParse(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zoneinfo")
	}
	tests := []struct {
		in   string
		loc  *time.Location
		want time.Time
		bad  bool
	}{
		{"now", nil, now, false},
		{"-7d", nil, now.Add(-7 * 24 * time.Hour), false},
		{"-24h", nil, now.Add(-24 * time.Hour), false},
		{"+1h", nil, now.Add(time.Hour), false},
		{"2026-11-01T03:00:00Z", nil, time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC), false},
		{"2026-11-01", nil, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), false},
		{"2026-11-01 10:30", berlin, time.Date(2026, 11, 1, 10, 30, 0, 0, berlin), false},
		{"yesterday", nil, time.Time{}, true},
		{"-", nil, time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, now, tt.loc)
		if (err != nil) != tt.bad || !got.Equal(tt.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v, bad=%v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}
