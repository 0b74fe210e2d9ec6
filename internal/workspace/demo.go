package workspace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/sources"
	"github.com/auditlens/auditlens/sources/fleetgen"
)

// demoBatch is how many generated events go to the cache per call.
const demoBatch = 2048

// DemoSource is the source key of a generated fleet in the cache: the same
// configuration is loaded once.
func DemoSource(cfg fleetgen.Config) (string, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "demo:" + hex.EncodeToString(sum[:8]), nil
}

// LoadDemo generates a fleet straight into the cache, without files, unless
// the cache holds it already. It reports progress in events.
func (w *Workspace) LoadDemo(ctx context.Context, cfg fleetgen.Config, progress func(done int64)) (loaded bool, err error) {
	fleet, err := fleetgen.New(cfg)
	if err != nil {
		return false, err
	}
	key, err := DemoSource(cfg)
	if err != nil {
		return false, err
	}
	from := fleet.Start().Truncate(time.Minute)
	to := fleet.End().Truncate(time.Minute).Add(time.Minute)
	missing, err := w.Store.MissingSpans(ctx, key, from, to)
	if err != nil {
		return false, err
	}
	if len(missing) == 0 {
		return false, nil
	}
	var done int64
	_, err = w.Store.IngestSpan(ctx, cache.SpanLoad{Source: key, From: from, To: to, Selection: sources.AllSyscalls},
		func(sw *cache.SpanWriter) error {
			batch := make([]sources.Event, 0, demoBatch)
			ptrs := make([]*sources.Event, 0, demoBatch)
			flush := func() error {
				ptrs = ptrs[:0]
				for i := range batch {
					ptrs = append(ptrs, &batch[i])
				}
				err := sw.IngestEvents(ptrs...)
				done += int64(len(batch))
				batch = batch[:0]
				if progress != nil {
					progress(done)
				}
				return err
			}
			err := fleet.Events(ctx, func(ev *sources.Event) error {
				e := *ev // the generator reuses its event
				e.Args = slices.Clone(ev.Args)
				batch = append(batch, e)
				if len(batch) == demoBatch {
					return flush()
				}
				return nil
			})
			if err != nil {
				return err
			}
			return flush()
		})
	if err != nil {
		return false, fmt.Errorf("load the demo fleet: %w", err)
	}
	return true, nil
}
