package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/auditlens/auditlens/sources"
)

type entityKey struct {
	scope sources.Scope
	name  string
}

// maxCachedNames bounds each in-memory dictionary map: past it the map is
// emptied and refilled from SQLite as names come, so a file of millions of
// distinct executables does not grow memory.
const maxCachedNames = 1 << 18

// dictionary maps interned strings to their row ids.
type dictionary struct {
	entities    map[entityKey]int64
	executables map[string]int64
}

func newDictionary() dictionary {
	return dictionary{entities: map[entityKey]int64{}, executables: map[string]int64{}}
}

// names interns entity and executable strings inside one write transaction.
// Ids it creates are only real once the transaction commits, so they are kept
// apart and handed to the store's dictionary by commit. Both maps are caches
// of the tables: an entry dropped is found again by a SELECT.
type names struct {
	s     *Store
	added dictionary

	findEntity, addEntity, findExe, addExe *sql.Stmt
}

func newNames(ctx context.Context, s *Store, tx *sql.Tx) (*names, error) {
	n := &names{s: s, added: newDictionary()}
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = tx.PrepareContext(ctx, q)
		return st
	}
	n.findEntity = prep("SELECT id FROM entity WHERE scope = ? AND name = ?")
	n.addEntity = prep("INSERT INTO entity (scope, name) VALUES (?, ?)")
	n.findExe = prep("SELECT id FROM executable WHERE path = ?")
	n.addExe = prep("INSERT INTO executable (path) VALUES (?)")
	if err != nil {
		return nil, fmt.Errorf("prepare dictionary statements: %w", err)
	}
	return n, nil
}

// entity returns the id of (scope, name), adding it when new.
func (n *names) entity(ctx context.Context, scope sources.Scope, name string) (int64, error) {
	k := entityKey{scope, name}
	if id, ok := n.added.entities[k]; ok {
		return id, nil
	}
	n.s.mu.Lock()
	id, ok := n.s.names.entities[k]
	n.s.mu.Unlock()
	if ok {
		return id, nil
	}
	id, err := findOrAdd(ctx, n.findEntity, n.addEntity, string(scope), name)
	if err != nil {
		return 0, fmt.Errorf("intern %s %q: %w", scope, name, err)
	}
	if len(n.added.entities) >= maxCachedNames {
		clear(n.added.entities)
	}
	n.added.entities[k] = id
	return id, nil
}

// executable returns the id of an executable path, adding it when new.
func (n *names) executable(ctx context.Context, path string) (int64, error) {
	if id, ok := n.added.executables[path]; ok {
		return id, nil
	}
	n.s.mu.Lock()
	id, ok := n.s.names.executables[path]
	n.s.mu.Unlock()
	if ok {
		return id, nil
	}
	id, err := findOrAdd(ctx, n.findExe, n.addExe, path)
	if err != nil {
		return 0, fmt.Errorf("intern executable %q: %w", path, err)
	}
	if len(n.added.executables) >= maxCachedNames {
		clear(n.added.executables)
	}
	n.added.executables[path] = id
	return id, nil
}

func findOrAdd(ctx context.Context, find, add *sql.Stmt, args ...any) (int64, error) {
	var id int64
	err := find.QueryRowContext(ctx, args...).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	res, err := add.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// committed hands the ids created in a committed transaction to the store.
func (n *names) committed() {
	n.s.mu.Lock()
	defer n.s.mu.Unlock()
	d := &n.s.names
	if len(d.entities)+len(n.added.entities) > maxCachedNames {
		clear(d.entities)
	}
	if len(d.executables)+len(n.added.executables) > maxCachedNames {
		clear(d.executables)
	}
	for k, id := range n.added.entities {
		n.s.names.entities[k] = id
	}
	for k, id := range n.added.executables {
		n.s.names.executables[k] = id
	}
}

func (n *names) close() {
	for _, st := range []*sql.Stmt{n.findEntity, n.addEntity, n.findExe, n.addExe} {
		if st != nil {
			st.Close()
		}
	}
}
