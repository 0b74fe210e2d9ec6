package fleetgen

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// Counts streams per-bucket execution counts straight from the model,
// without making events: the same numbers counting Events' executions would
// give (failed executions included, noise excluded). Buckets are span wide
// and aligned on the Unix epoch, like the engine's. Counts come bucket by
// bucket in time order; within a bucket hosts come before containers, each by
// name, then executables by name. It uses every core, and memory holds one
// day of counts.
func (f *Fleet) Counts(ctx context.Context, span time.Duration, fn func(engine.Count) error) error {
	if span < time.Second || span%time.Second != 0 {
		return fmt.Errorf("count stream: bucket span must be a whole number of seconds, got %v", span)
	}
	spanS := int64(span / time.Second)
	workers := runtime.GOMAXPROCS(0)
	cells := make([][]cell, len(f.all))
	carry := make([][]cell, len(f.all))
	scopes := [2]engine.Scope{engine.ScopeHost, engine.ScopeContainer}
	for day := 0; day < f.cfg.Days; day++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		ds := (f.start + int64(day)*dayMS) / 1000
		de := ds + dayMS/1000
		base := floorDiv(ds, spanS) * spanS
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var sc shaper
				sc.f = f
				var keys []uint64
				for {
					i := int(next.Add(1) - 1)
					if i >= len(f.all) {
						return
					}
					e := f.all[i]
					sc.e = e
					keys = keys[:0]
					f.planDay(e, day, &sc, func(j *plannedJob, steps []step) {
						for k := range steps {
							st := &steps[k]
							if !j.keep(st) {
								continue
							}
							b := (floorDiv(floorDiv(j.start+st.off, 1000), spanS)*spanS - base) / spanS
							keys = append(keys, uint64(b)<<16|uint64(st.exe))
						}
					})
					slices.Sort(keys)
					out := cells[i][:0]
					for k := 0; k < len(keys); {
						n := k + 1
						for n < len(keys) && keys[n] == keys[k] {
							n++
						}
						out = append(out, cell{bucket: base + int64(keys[k]>>16)*spanS, exe: uint16(keys[k]), n: int64(n - k)})
						k = n
					}
					if len(carry[i]) > 0 {
						out = mergeCells(carry[i], out)
						carry[i] = nil
					}
					cells[i] = out
				}
			}()
		}
		wg.Wait()
		// Emit the buckets that end within the day; keep the last one when
		// it runs on into the next day.
		last := day == f.cfg.Days-1
		pos := make([]int, len(f.all))
		for b := base; b < de; b += spanS {
			if b+spanS > de && !last {
				break
			}
			for i, e := range f.all {
				cs := cells[i]
				for pos[i] < len(cs) && cs[pos[i]].bucket == b {
					c := cs[pos[i]]
					pos[i]++
					sc := scopes[0]
					if e.scope == sources.ScopeContainer {
						sc = scopes[1]
					}
					if err := fn(engine.Count{Scope: sc, Entity: e.name, Bucket: b, Executable: f.exes[c.exe], Count: c.n}); err != nil {
						return err
					}
				}
			}
		}
		for i := range f.all {
			if rest := cells[i][pos[i]:]; len(rest) > 0 {
				carry[i] = slices.Clone(rest)
			}
		}
	}
	return nil
}

// mergeCells merges two lists sorted by bucket and executable.
func mergeCells(a, b []cell) []cell {
	out := make([]cell, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		switch {
		case len(b) == 0 || (len(a) > 0 && (a[0].bucket < b[0].bucket || a[0].bucket == b[0].bucket && a[0].exe < b[0].exe)):
			out, a = append(out, a[0]), a[1:]
		case len(a) == 0 || (b[0].bucket < a[0].bucket || b[0].bucket == a[0].bucket && b[0].exe < a[0].exe):
			out, b = append(out, b[0]), b[1:]
		default:
			c := a[0]
			c.n += b[0].n
			out, a, b = append(out, c), a[1:], b[1:]
		}
	}
	return out
}

type cell struct {
	bucket int64
	exe    uint16
	n      int64
}
