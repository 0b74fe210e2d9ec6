package timeaxis

import (
	"reflect"
	"testing"
	"time"

	"github.com/auditlens/auditlens/views/model"
)

var nov1 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func TestFormatSpan(t *testing.T) {
	tests := map[time.Duration]string{
		15 * time.Minute: "15m", time.Hour: "1h", 6 * time.Hour: "6h", 24 * time.Hour: "1d",
		7 * 24 * time.Hour: "7d", 90 * time.Second: "1m30s", 0: "0s",
	}
	for d, want := range tests {
		if got := FormatSpan(d); got != want {
			t.Errorf("FormatSpan(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestColumnsAndFit(t *testing.T) {
	tests := []struct{ buckets, z, want int }{{48, 1, 48}, {48, 5, 10}, {0, 3, 0}, {7, 0, 0}}
	for _, tt := range tests {
		if got := Columns(tt.buckets, tt.z); got != tt.want {
			t.Errorf("Columns(%d, %d) = %d", tt.buckets, tt.z, got)
		}
	}
	ladder := ZoomLadder(15 * time.Minute)
	if got := ladder[FitZoom(ladder, 7*96, 80)]; got != 12 {
		t.Errorf("a week of 15m buckets in 80 columns: %d buckets per column, want 12 (3h)", got)
	}
}

// A stretched axis (several cells per bucket) labels cells of a fraction
// of a bucket, as the rate drill-down draws short windows.
func TestLinesOfStretchedCells(t *testing.T) {
	got := Lines(nov1.Add(20*time.Hour), 10*time.Minute, 0, 48, time.UTC, true)
	want := []string{"Nov 01                  Nov 02", "20:00 21:00 22:00 23:00 00:00 01:00 02:00 03:00"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if !SpansDays(model.TimeAxis{Start: nov1.Add(20 * time.Hour), BucketSpan: time.Hour, Buckets: 8}, time.UTC) {
		t.Error("20:00 + 8h spans two days")
	}
	if got := SpanText(nov1.Add(14*time.Hour), nov1.Add(14*time.Hour+15*time.Minute), time.UTC); got != "Nov 01 14:00–14:15" {
		t.Errorf("SpanText %q", got)
	}
}
