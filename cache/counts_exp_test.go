package cache

import (
	"context"
	"database/sql/driver"
	"io"
	"fmt"
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
		"SELECT c.entity_id, group_concat(%[2]s), group_concat(c.count) FROM minute_count c WHERE %[1]s",
		"SELECT c.entity_id, group_concat(CASE WHEN c.count BETWEEN 0 AND 254 THEN %[2]s * 256 + c.count ELSE (%[2]s * 256 + 255) || ',' || c.count END) FROM minute_count c WHERE %[1]s",
		"SELECT c.entity_id, group_concat(CASE WHEN c.count BETWEEN 0 AND 254 THEN ((c.minute - ?1) / 900 * 128 + c.executable_id) * 256 + c.count ELSE (((c.minute - ?1) / 900 * 128 + c.executable_id) * 256 + 255) || ',' || c.count END) FROM minute_count c WHERE %[1]s",
		"SELECT c.entity_id, group_concat(CASE WHEN c.count < 255 THEN ((c.minute - ?1) / 900 * 128 + c.executable_id) * 256 + c.count ELSE (((c.minute - ?1) / 900 * 128 + c.executable_id) * 256 + 255) || ',' || c.count END) FROM minute_count c WHERE %[1]s",
		"SELECT c.entity_id, group_concat(iif(c.count < 255, ((c.minute - ?1) / 900 * 128 + c.executable_id) * 256 + c.count, (((c.minute - ?1) / 900 * 128 + c.executable_id) * 256 + 255) || ',' || c.count)) FROM minute_count c WHERE %[1]s",
	} {
		for _, window := range []int64{86400} {
			t0 := time.Now(); c0 := cpuTime()
			var n, sum, res, queries int64
			err = conn.Raw(func(dc any) error {
				qc := dc.(driver.QueryerContext)
				for lo := int64(from); lo < to; lo += window {
					hi := min(lo+window, to)
					queries++
					r, err := qc.QueryContext(ctx, fmt.Sprintf(q, "c.entity_id IN (SELECT id FROM entity WHERE scope = 'host') AND c.minute >= ?1 AND c.minute < ?2 AND c.kind = 0 AND c.executable_id BETWEEN 1 AND 97 GROUP BY c.entity_id", "((c.minute - ?1) / 900 * 128 + c.executable_id - 1)"), []driver.NamedValue{{Ordinal: 1, Value: lo}, {Ordinal: 2, Value: hi}})
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
							if len(dest) == 2 || true {
							} else if len(dest) == 4 {
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

func TestExpEntities(t *testing.T) {
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
	t0 := time.Now()
	c0 := cpuTime()
	ents, err := s.Entities(ctx, "host")
	t.Logf("entities %d %v in %v cpu %v", len(ents), err, time.Since(t0), cpuTime()-c0)
	t0 = time.Now()
	c0 = cpuTime()
	ents, err = s.Entities(ctx, "")
	t.Logf("entities all %d %v in %v cpu %v", len(ents), err, time.Since(t0), cpuTime()-c0)
	t0 = time.Now()
	c0 = cpuTime()
	exes, err := s.Executables(ctx, "host", "")
	t.Logf("exes %d %v in %v cpu %v", len(exes), err, time.Since(t0), cpuTime()-c0)
}

func TestExpPlans(t *testing.T) {
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
	var v string
	s.db.QueryRow("select sqlite_version()").Scan(&v)
	t.Log("version", v)
	for _, q := range []string{
		"SELECT c.entity_id, group_concat((c.minute - ?1) / ?2 * ?3 + (c.executable_id - ?4)), group_concat(c.count) FROM minute_count c WHERE c.entity_id IN (SELECT id FROM entity WHERE scope = 'host') AND c.minute >= ?5 AND c.minute < ?6 AND c.executable_id BETWEEN ?4 AND ?7 AND c.kind = 0 GROUP BY c.entity_id",
		"SELECT c.entity_id, group_concat((c.minute - ?1) / ?2 * ?3 + (c.executable_id - ?4)), group_concat(c.count) FROM minute_count c WHERE c.entity_id IN (SELECT id FROM entity WHERE scope = 'host') AND c.minute >= ?5 AND c.minute < ?6 AND c.executable_id BETWEEN ?4 AND ?7 AND c.load_id IN (SELECT value FROM json_each(?8)) GROUP BY c.entity_id",
		"SELECT c.entity_id, group_concat((c.minute - ?1) / ?2 * ?3 + (c.executable_id - ?4)), group_concat(c.count) FROM minute_count c WHERE c.entity_id IN (SELECT id FROM entity WHERE scope = 'host' AND name IN (SELECT value FROM json_each(?9))) AND c.minute >= ?5 AND c.minute < ?6 AND c.executable_id BETWEEN ?4 AND ?7 AND +c.load_id IN (SELECT value FROM json_each(?8)) GROUP BY c.entity_id",
		"SELECT c.entity_id, group_concat((c.minute - ?1) / ?2 * ?3 + (c.executable_id - ?4)), group_concat(c.count) FROM minute_count c WHERE c.entity_id IN (SELECT id FROM entity) AND c.minute >= ?5 AND c.minute < ?6 AND c.executable_id BETWEEN ?4 AND ?7 GROUP BY c.entity_id",
		"SELECT min(m0), max(m1) FROM (SELECT (SELECT min(minute) FROM minute_count WHERE entity_id = e.id) AS m0, (SELECT max(minute) FROM minute_count WHERE entity_id = e.id) AS m1 FROM entity e WHERE scope = 'host')",
		"SELECT id, scope, name FROM entity WHERE scope = ?1 ORDER BY scope, name",
		"SELECT id, scope, name FROM entity ORDER BY scope, name",
	} {
		rows, err := s.db.Query("EXPLAIN QUERY PLAN "+q, 1, 2, 3, 4, 5, 6, 7, "[1]", `["a"]`)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(q)
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			t.Logf("  %d %d %s", id, parent, detail)
		}
		rows.Close()
	}
}
