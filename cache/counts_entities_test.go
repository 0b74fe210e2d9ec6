package cache

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/sources"
)

// referenceEntities lists entities the straightforward way Entities once did:
// the sums grouped over a join, then the container hosts by a second query.
func referenceEntities(ctx context.Context, s *Store, scope engine.Scope) ([]Entity, error) {
	where, args, err := countFilter(scope, time.Time{}, time.Time{}, sources.AllSyscalls, nil, nil)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT e.id, e.scope, e.name, MIN(c.minute), MAX(c.minute),
		SUM(CASE WHEN c.kind = %d THEN c.count ELSE 0 END), SUM(c.count)
		FROM minute_count c JOIN entity e ON e.id = c.entity_id WHERE %s
		GROUP BY e.id ORDER BY e.scope, e.name`, kindExecution, where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entity
	index := map[int64]int{}
	for rows.Next() {
		var e Entity
		var id, first, last int64
		var sc string
		if err := rows.Scan(&id, &sc, &e.Name, &first, &last, &e.Executions, &e.Events); err != nil {
			return nil, err
		}
		e.Scope = engine.Scope(sc)
		e.First, e.Last = time.Unix(first, 0).UTC(), time.Unix(last+60, 0).UTC()
		index[id] = len(out)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if scope == engine.ScopeHost {
		return out, nil
	}
	hosts, err := s.db.QueryContext(ctx, `SELECT DISTINCT c.entity_id, h.name FROM minute_count c
		JOIN entity e ON e.id = c.entity_id JOIN entity h ON h.id = c.host_id
		WHERE e.scope = 'container' ORDER BY c.entity_id, h.name`)
	if err != nil {
		return nil, err
	}
	defer hosts.Close()
	for hosts.Next() {
		var id int64
		var name string
		if err := hosts.Scan(&id, &name); err != nil {
			return nil, err
		}
		if i, ok := index[id]; ok {
			out[i].Hosts = append(out[i].Hosts, name)
		}
	}
	return out, hosts.Err()
}

func TestEntitiesMatchReference(t *testing.T) {
	ctx := context.Background()
	for i, start := range []time.Time{testStart, time.Unix(-3*24*3600, 0).UTC()} {
		cc := randomCountCache(t, uint64(20+i), start, 5, 3, 2000)
		// A container whose only host is unknown, and one that moved hosts.
		_, err := cc.s.IngestSpan(ctx, SpanLoad{Source: "extra", From: cc.from, To: cc.to, Selection: sources.Executions},
			func(w *SpanWriter) error {
				return w.IngestCounts(
					MinuteCount{Scope: sources.ScopeContainer, Entity: "lonely", Minute: cc.from.Unix() + 600, Executable: "/x", Execution: true, Count: 2},
					MinuteCount{Scope: sources.ScopeContainer, Entity: "mover", Host: "zz\xffa", Minute: cc.from.Unix(), Executable: "/x", Execution: true, Count: 1},
					MinuteCount{Scope: sources.ScopeContainer, Entity: "mover", Host: "Host-3", Minute: cc.to.Unix() - 60, Executable: "/y", Count: 4},
				)
			})
		if err != nil {
			t.Fatal(err)
		}
		flattenCounts(t, cc.s)
		for _, scope := range []engine.Scope{"", engine.ScopeHost, engine.ScopeContainer} {
			want, err := referenceEntities(ctx, cc.s, scope)
			if err != nil {
				t.Fatal(err)
			}
			got, err := cc.s.Entities(ctx, scope)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) < 3 {
				t.Fatalf("scope %q: only %d entities to compare", scope, len(want))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("scope %q:\n got %+v\nwant %+v", scope, got, want)
			}
		}
	}
}
