package store

import (
	"context"
	"database/sql/driver"
	"errors"
)

// SQLite spends more time parsing and planning a statement than running
// it: before this cache, preparing statements was a quarter of serve's
// CPU, about 1.5 ms of every upload, since database/sql prepares every
// ExecContext and QueryContext again on the driver connection. The
// connector below keeps each connection's prepared statements by query
// text, so that the store's inline SQL is parsed once per connection, in
// transactions too, whatever the call site.

// maxConnStmts bounds the statements a connection keeps. The store's
// queries are constant strings, apart from a few built for a number of
// arguments; beyond the bound a statement is prepared for each use, as
// before.
const maxConnStmts = 256

// maxCachedQuery is the longest query text kept: longer ones are the
// migrations' scripts, run once.
const maxCachedQuery = 4 << 10

// stmtConnector opens SQLite connections that keep their prepared
// statements (see stmtConn).
type stmtConnector struct {
	driver.Connector
}

func (c stmtConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return newStmtConn(dc)
}

// sqliteConn is what stmtConn needs of the driver's connection
// (modernc.org/sqlite's has it all).
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// stmtConn is a driver connection that keeps its prepared statements.
// database/sql uses a connection from one goroutine at a time, so it needs
// no lock; a statement whose rows are still open is busy, and the same
// query then gets a statement of its own for that use.
type stmtConn struct {
	sqliteConn
	stmts map[string]*cachedStmt
}

func newStmtConn(dc driver.Conn) (driver.Conn, error) {
	sc, ok := dc.(sqliteConn)
	if !ok {
		dc.Close()
		return nil, errors.New("sqlite connection lacks context methods")
	}
	return &stmtConn{sqliteConn: sc, stmts: map[string]*cachedStmt{}}, nil
}

// cachedStmt is a statement kept by its connection: Close leaves it open
// for the next use.
type cachedStmt struct {
	stmt
	busy bool // its rows are open
}

// stmt is what the driver's statements offer.
type stmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// prepared returns a statement for query: the kept one when it is free,
// otherwise a new one, kept when there is room. done must be called once
// the statement's use is over (for a query: once its rows are closed).
func (c *stmtConn) prepared(ctx context.Context, query string) (st stmt, done func(), err error) {
	if cs, ok := c.stmts[query]; ok && !cs.busy {
		cs.busy = true
		return cs.stmt, func() { cs.busy = false }, nil
	}
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	s, ok := ds.(stmt)
	if !ok {
		ds.Close()
		return nil, nil, errors.New("sqlite statement lacks context methods")
	}
	if _, taken := c.stmts[query]; taken || len(c.stmts) >= maxConnStmts || len(query) > maxCachedQuery {
		return s, func() { s.Close() }, nil
	}
	cs := &cachedStmt{stmt: s, busy: true}
	c.stmts[query] = cs
	return s, func() { cs.busy = false }, nil
}

// PrepareContext returns a statement whose Close gives it back to the
// connection.
func (c *stmtConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, done, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return &lentStmt{stmt: st, done: done}, nil
}

func (c *stmtConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *stmtConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, done, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	defer done()
	return st.ExecContext(ctx, args)
}

func (c *stmtConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, done, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args)
	if err != nil {
		done()
		return nil, err
	}
	return &lentRows{Rows: rows, done: done}, nil
}

// Close finalizes the kept statements, then closes the connection.
func (c *stmtConn) Close() error {
	for q, cs := range c.stmts {
		cs.stmt.Close()
		delete(c.stmts, q)
	}
	return c.sqliteConn.Close()
}

// lentStmt is a statement handed to database/sql by PrepareContext.
type lentStmt struct {
	stmt
	done   func()
	closed bool
	rows   int // its open rows: the statement is given back after them
}

func (s *lentStmt) Close() error {
	if !s.closed {
		s.closed = true
		if s.rows == 0 {
			s.done()
		}
	}
	return nil
}

func (s *lentStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.rows++
	return &lentRows{Rows: rows, done: func() {
		s.rows--
		if s.closed && s.rows == 0 {
			s.done()
		}
	}}, nil
}

// lentRows gives its statement back once closed.
type lentRows struct {
	driver.Rows
	done   func()
	closed bool
}

func (r *lentRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.Rows.Close()
	r.done()
	return err
}

// The rows' optional interfaces, passed through: database/sql asks for
// them when scanning.

func (r *lentRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}
