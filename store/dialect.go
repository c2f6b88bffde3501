package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// dialect is the SQL engine under a DB. The store's SQL is written once,
// with ? placeholders, in the SQL both engines accept; the few statements
// that cannot be (SQLite's pragmas, its two-argument max) have a variant
// per dialect, here.
type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

// relaxedCommits makes a connection's commits return before they are on
// disk (still atomic); durableCommits undoes it (see JudgmentWriter).
func (d dialect) relaxedCommits() string {
	if d == postgresDialect {
		return `SET synchronous_commit = off`
	}
	return `PRAGMA synchronous = NORMAL`
}

// beginWrite begins a write transaction by hand (see runGroup): in SQLite
// it takes the write lock at once, as _txlock=immediate makes BeginTx do.
func (d dialect) beginWrite() string {
	if d == postgresDialect {
		return `BEGIN`
	}
	return `BEGIN IMMEDIATE`
}

func (d dialect) durableCommits() string {
	if d == postgresDialect {
		return `RESET synchronous_commit`
	}
	return `PRAGMA synchronous = FULL`
}

// IsPostgresDSN reports whether dsn names a PostgreSQL database (a
// postgres:// or postgresql:// URL) rather than a SQLite file.
func IsPostgresDSN(dsn string) bool {
	l := strings.ToLower(dsn)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// postgresMaxConns bounds the connections one process opens to
// PostgreSQL (its max_connections is 100 by default, shared by every node
// and tool): at the bound, a query waits for a connection. Writes are one
// at a time anyway (DB.wlock); the rest serve the pages and the key
// lookups of uploads. postgresIdleConns are kept open between bursts.
const (
	postgresMaxConns  = 32
	postgresIdleConns = 8
)

// openPostgres opens a PostgreSQL database through pgx's database/sql
// driver, with every query's ? placeholders rewritten to $1..$n (see
// rebind) on the way to the server, so that the store's SQL is the same
// text on both engines.
func openPostgres(ctx context.Context, dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	sqldb := sql.OpenDB(rebindConnector{stdlib.GetConnector(*cfg)})
	sqldb.SetMaxOpenConns(postgresMaxConns)
	sqldb.SetMaxIdleConns(postgresIdleConns)
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	return sqldb, nil
}

// rebindConnector hands out connections that rebind queries.
type rebindConnector struct{ driver.Connector }

func (c rebindConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return rebindConn{conn.(*stdlib.Conn)}, nil
}

// rebindConn is pgx's connection with the query methods rebinding their
// query; the others (transactions, ping, session reset) are pgx's.
type rebindConn struct{ *stdlib.Conn }

func (c rebindConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(context.Background(), rebind(query))
}

func (c rebindConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebind(query))
}

func (c rebindConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, rebind(query), args)
}

func (c rebindConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebind(query), args)
}

// rebind turns a query's ? placeholders into PostgreSQL's $1..$n, in
// order. A ? inside a string literal ('...'), a quoted identifier
// ("..."), a -- comment or a /* */ comment is left alone. The store uses
// neither numbered (?NNN) nor named placeholders, nor PostgreSQL's ?
// operators.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		case c == '\'' || c == '"':
			// Copy up to the closing quote; a doubled quote inside
			// is an escaped one and keeps the literal open.
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+1+end+1])
			i += end + 1
			continue
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end])
			i += end - 1
			continue
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			end := strings.Index(query[i+2:], "*/")
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+2+end+2])
			i += 2 + end + 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// PostgreSQL's SQLSTATE codes that mapErr maps.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// mapPostgresErr is mapErr's PostgreSQL half; it returns nil for an error
// it does not map.
func mapPostgresErr(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return nil
	}
	switch pe.Code {
	case pgUniqueViolation:
		return fmt.Errorf("%w: %v", ErrConflict, err)
	case pgForeignKeyViolation:
		return fmt.Errorf("%w: still in use: %v", ErrConflict, err)
	}
	return nil
}
