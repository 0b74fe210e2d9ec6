package cache

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
)

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
	for _, q := range []string{
		`SELECT DISTINCT c.entity_id, h.name FROM minute_count c JOIN entity e ON e.id = c.entity_id JOIN entity h ON h.id = c.host_id WHERE e.scope = 'container' ORDER BY c.entity_id, h.name`,
		`SELECT DISTINCT c.entity_id, c.host_id FROM minute_count c WHERE c.entity_id IN (SELECT id FROM entity WHERE scope = 'container')`,
		`SELECT c.entity_id, group_concat(DISTINCT c.host_id) FROM minute_count c WHERE c.entity_id IN (SELECT id FROM entity WHERE scope = 'container') GROUP BY c.entity_id`,
		`SELECT c.entity_id, coalesce(SUM(c.count) FILTER (WHERE c.kind = 0), 0), SUM(c.count) FROM minute_count c WHERE c.entity_id IN (SELECT id FROM entity WHERE scope = 'container') GROUP BY c.entity_id`,
		`SELECT c.entity_id, coalesce(SUM(c.count) FILTER (WHERE c.kind = 0), 0), SUM(c.count), group_concat(DISTINCT c.host_id) FROM minute_count c WHERE c.entity_id IN (SELECT id FROM entity WHERE scope = 'container') GROUP BY c.entity_id`,
	} {
		rows, _ := s.db.Query(`EXPLAIN QUERY PLAN ` + q)
		for rows.Next() {
			var a, b, c int
			var d string
			rows.Scan(&a, &b, &c, &d)
			t.Log("   ", d)
		}
		rows.Close()
		t0 := time.Now()
		rows, err := s.db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		t.Logf("%d rows %v  %.80s", n, time.Since(t0), q[20:])
	}
	for _, sc := range []string{"container", ""} {
		t0 := time.Now()
		ents, err := s.Entities(ctx, engine.Scope(sc))
		t.Logf("%q: %d %v in %v %v", sc, len(ents), err, time.Since(t0), ents[0])
	}
}
