package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxStmts bounds the prepared statements kept: the hot paths' queries are
// a handful of constant strings; beyond the bound, queries are prepared
// for each use as before.
const maxStmts = 64

// stmts keeps prepared statements of hot queries: SQLite spends more time
// parsing a query such as KeyByFingerprint's join than running it (17% of
// serve's CPU under load, three lookups per upload).
type stmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// queryRow runs a one-row query through a prepared statement kept for it.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	db.stmts.mu.Lock()
	st, ok := db.stmts.m[query]
	db.stmts.mu.Unlock()
	if !ok {
		var err error
		st, err = db.db.PrepareContext(ctx, query)
		if err != nil {
			return db.db.QueryRowContext(ctx, query, args...) // reports the error
		}
		db.stmts.mu.Lock()
		if have, ok := db.stmts.m[query]; ok {
			st.Close()
			st = have
		} else if len(db.stmts.m) < maxStmts {
			if db.stmts.m == nil {
				db.stmts.m = map[string]*sql.Stmt{}
			}
			db.stmts.m[query] = st
		} else {
			db.stmts.mu.Unlock()
			defer st.Close()
			return st.QueryRowContext(ctx, args...)
		}
		db.stmts.mu.Unlock()
	}
	return st.QueryRowContext(ctx, args...)
}
