package engine_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources/fleetgen"
)

func TestExploreFleetgen(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	cfg := fleetgen.Default()
	if s := os.Getenv("SCENARIO"); s != "" {
		cfg.Scenario = s
	}
	fl, err := fleetgen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range fl.Labels().Labels {
		fmt.Printf("LABEL %s %s %s %v %s..%s %s\n", l.Kind, l.Detector, l.Entity, l.Executables, l.Start.Format(time.RFC3339), l.End.Format(time.RFC3339), l.Description)
	}
	var counts []engine.Count
	if err := fl.Counts(context.Background(), 15*time.Minute, func(c engine.Count) error { counts = append(counts, c); return nil }); err != nil {
		t.Fatal(err)
	}
	fmt.Println("counts", len(counts))
	for _, j := range engine.Jobs() {
		res, err := engine.Run(j, engine.DefaultOptions(), fl.Start().Unix(), fl.End().Unix(), func(yield func(engine.Count) error) error {
			for _, c := range counts {
				if err := yield(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		hist := map[string]int{}
		for _, r := range res.Records {
			hist[engine.SeverityOf(r.RecordScore).Name]++
		}
		fmt.Printf("== %s %d records %v\n", j.ID, len(res.Records), hist)
		for _, r := range res.Records {
			if r.RecordScore >= 50 {
				fmt.Printf("  %s %s %s score=%.1f p=%.2g %v | %s\n", time.UnixMilli(r.Timestamp).UTC().Format("01-02T15:04"), r.PartitionFieldValue, r.ByFieldValue, r.RecordScore, r.Probability, r.Influencers, r.Why)
			}
		}
	}
}
