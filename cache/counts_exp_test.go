package cache

import (
	"context"
	"database/sql/driver"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

func parseInts(s string, f func(int64)) {
	var v int64
	neg := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ',':
			if neg {
				v = -v
			}
			f(v)
			v, neg = 0, false
		case ch == '-':
			neg = true
		default:
			v = v*10 + int64(ch-'0')
		}
	}
	if len(s) > 0 {
		if neg {
			v = -v
		}
		f(v)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestExpScan(t *testing.T) {
	path := os.Getenv("BIGCACHE")
	if path == "" {
		t.Skip()
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const from, to = 1709510400, 1712102400
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		"SELECT c.entity_id, group_concat(c.minute - ?1), group_concat(c.executable_id), group_concat(c.count) FROM minute_count c WHERE c.entity_id IN (SELECT id FROM entity WHERE scope = 'host') AND c.minute >= ?1 AND c.minute < ?2 AND c.kind = 0 GROUP BY c.entity_id",
		"SELECT c.entity_id, group_concat((c.minute - ?1) * 4294967296 + c.executable_id), group_concat(c.count) FROM minute_count c WHERE c.entity_id IN (SELECT id FROM entity WHERE scope = 'host') AND c.minute >= ?1 AND c.minute < ?2 AND c.kind = 0 GROUP BY c.entity_id",
		"SELECT c.entity_id, (c.minute - ?1) * 4294967296 + c.executable_id, c.count FROM minute_count c WHERE c.entity_id IN (SELECT id FROM entity WHERE scope = 'host') AND c.minute >= ?1 AND c.minute < ?2 AND c.kind = 0",
	} {
		for _, window := range []int64{86400, 7 * 86400} {
			t0 := time.Now(); c0 := cpuTime()
			var n, sum, res, queries int64
			err = conn.Raw(func(dc any) error {
				qc := dc.(driver.QueryerContext)
				for lo := int64(from); lo < to; lo += window {
					hi := min(lo+window, to)
					queries++
					r, err := qc.QueryContext(ctx, q, []driver.NamedValue{{Ordinal: 1, Value: lo}, {Ordinal: 2, Value: hi}})
					if err != nil {
						return err
					}
					dest := make([]driver.Value, len(r.Columns()))
					for {
						if err := r.Next(dest); err == io.EOF {
							break
						} else if err != nil {
							return err
						}
						res++
						switch c := dest[len(dest)-1].(type) {
						case int64:
							n++
							sum += c
						case string:
							parseInts(c, func(v int64) { n++; sum += v })
							if len(dest) == 4 {
								parseInts(dest[1].(string), func(v int64) { sum += 0 })
								parseInts(dest[2].(string), func(v int64) { sum += 0 })
							} else {
								parseInts(dest[1].(string), func(v int64) { sum += 0 })
							}
						}
					}
					r.Close()
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("window %d queries %d results %d: %d rows sum %d in %v cpu %v  %.60s", window, queries, res, n, sum, time.Since(t0), cpuTime()-c0, q)
		}
	}
}
