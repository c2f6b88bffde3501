// Package store keeps backupreport's data in an embedded SQLite database
// (modernc.org/sqlite, no cgo), or in PostgreSQL (pgx) when Open is given
// a postgres:// URL: customers, servers, keys, exceptions, results with
// their file errors and raw logs, staff and the audit log.
//
// Every exported method owns its transaction. The SQL is written once, in
// what both engines accept; the few statements that differ have a variant
// per dialect (dialect.go), and each engine has its migrations.
// Times are stored in UTC as fixed-width text, so they sort as strings.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"github.com/backupreport/backupreport/parser"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is returned when the thing asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a change would break a uniqueness or
// reference rule (a duplicate name, a key already registered).
var ErrConflict = errors.New("conflict")

// migrationFS holds the migrations, SQLite's in migrations/ and
// PostgreSQL's in migrations/postgres/: one file per number in each, of
// the same name, making the same schema in each engine's types (see
// README, "PostgreSQL").
//
//go:embed migrations/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migrationDir is where d's migrations are in migrationFS.
func (d dialect) migrationDir() string {
	if d == postgresDialect {
		return "migrations/postgres"
	}
	return "migrations"
}

// DB is the backupreport database. It is safe for concurrent use.
type DB struct {
	db *sql.DB
	// dialect is the engine under db (see dialect.go).
	dialect dialect
	// wlock serializes this process's write transactions (a channel of
	// one, so that waiting for it can be given up with a context). Every
	// transaction takes SQLite's write lock at BEGIN (_txlock=immediate):
	// waiting here rather than in SQLite's busy handler means no upload
	// fails with SQLITE_BUSY because others of this process are writing,
	// however many there are and however long they take. Other processes
	// (the command line) still meet busy_timeout, and beginTx retries.
	wlock chan struct{}
	// group queues uploads' writes for a shared commit (groupTx).
	group group
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// PasswordCost is the bcrypt cost of new password hashes; 0 means
	// bcrypt.DefaultCost. Tests lower it to save time: a hash is checked
	// at the cost it was made with.
	PasswordCost int
	// Thresholds are those this process judges statistical warnings with,
	// at upload and at re-evaluation alike; nil means
	// parser.DefaultThresholds. Set once, before use (serve's and
	// reevaluate's --warn-* flags).
	Thresholds *parser.Thresholds
}

// FileName is the database's file name inside the data folder.
const FileName = "backupreport.db"

// Open opens (creating if needed) the database at path and brings its
// schema up to date. WAL lets readers (the web pages, admin commands) run
// while an upload is written; synchronous=FULL makes a commit durable
// before an upload is acknowledged. journal_size_limit gives the disk back
// after a burst of big uploads: without it the WAL file keeps its largest
// size until the last connection closes.
//
// A PostgreSQL URL (postgres:// or postgresql://, see IsPostgresDSN) opens
// that database instead, through pgx, and applies the PostgreSQL variant
// of the same migrations; the database must exist.
func Open(ctx context.Context, path string) (*DB, error) {
	if IsPostgresDSN(path) {
		sqldb, err := openPostgres(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", redactDSN(path), err)
		}
		return start(ctx, sqldb, postgresDialect, redactDSN(path))
	}
	return open(ctx, path, busyTimeout)
}

// redactDSN is a database URL fit for errors and logs: without its password.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable database URL)"
	}
	return u.Redacted()
}

// maxIdleConns is how many idle connections the pool keeps, and
// connIdleTime how long one stays idle before it is closed. At 256 uploads
// at once, 16 idle connections were too few: readers beyond them opened a
// connection (pragmas, schema) and prepared their statements again for
// each query, 5% of serve's CPU; 64 kept none of that in the profile. The
// bound stays: each connection holds its page cache (at most SQLite's
// default 2 MiB) and statements, given back after a quiet minute.
const (
	maxIdleConns = 64
	connIdleTime = time.Minute
)

// busyTimeout is how long SQLite waits for another process's write lock.
const busyTimeout = 15 * time.Second

// open is Open with SQLite's busy timeout given (tests make it short).
func open(ctx context.Context, path string, busy time.Duration) (*DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()), "synchronous(FULL)",
		"journal_size_limit(67108864)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + filepath.ToSlash(path) + "?" + q.Encode()
	conn, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	sqldb := sql.OpenDB(stmtConnector{conn})
	// Keep connections (and their prepared statements, see stmtConn)
	// rather than database/sql's default of two idle ones: under load,
	// readers beyond two opened a connection, ran the pragmas and prepared
	// their statements for every query.
	sqldb.SetMaxIdleConns(maxIdleConns)
	sqldb.SetConnMaxIdleTime(connIdleTime)
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return start(ctx, sqldb, sqliteDialect, path)
}

// start migrates an opened database; name names it in errors.
func start(ctx context.Context, sqldb *sql.DB, d dialect, name string) (*DB, error) {
	db := &DB{db: sqldb, dialect: d, Now: time.Now, wlock: make(chan struct{}, 1)}
	if err := db.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("migrate database %s: %w", name, err)
	}
	return db, nil
}

// OpenDir opens the database inside a data folder.
func OpenDir(ctx context.Context, dir string) (*DB, error) {
	return Open(ctx, filepath.Join(dir, FileName))
}

// Close closes the database.
func (db *DB) Close() error {
	return db.db.Close()
}

// migrate applies the embedded migrations not yet applied, each in its own
// transaction, in the order of their numbers.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, db.dialect.migrationDir()+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", base)
		}
		if err := db.applyMigration(ctx, n, name); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, version int, name string) error {
	tx, release, err := db.beginTx(ctx, db.db)
	if err != nil {
		return err
	}
	defer release()
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := migrationFS.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (version, applied_at) VALUES (?, ?)`, version, formatTime(time.Now())); err != nil {
		return err
	}
	return tx.Commit()
}

// mapErr turns driver errors into the package's errors, in one place.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if m := mapPostgresErr(err); m != nil {
		return m
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: still in use: %v", ErrConflict, err)
		}
	}
	return err
}

// timeLayout is fixed-width, so stored times sort correctly as text.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		t, _ = time.Parse(time.RFC3339Nano, s)
	}
	return t
}

// nullTime turns a nullable text column into a *time.Time.
func nullTime(s sql.NullString) *time.Time {
	if !s.Valid || s.String == "" {
		return nil
	}
	t := parseTime(s.String)
	return &t
}

func nullInt(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// withTx runs fn in a transaction and commits it when fn returns nil.
func (db *DB) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.inTx(ctx, db.db, fn)
}

// txBeginner is the pool or one of its connections.
type txBeginner interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}

// inTx runs fn in a transaction begun by b (the pool, or one connection)
// and commits it when fn returns nil.
func (db *DB) inTx(ctx context.Context, b txBeginner, fn func(tx *sql.Tx) error) error {
	tx, release, err := db.beginTx(ctx, b)
	if err != nil {
		return mapErr(err)
	}
	defer release()
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return mapErr(err)
	}
	return mapErr(tx.Commit())
}

// busyRetries is how many times beginTx begins again when SQLite stays
// busy for all of busy_timeout: only another process holding the write
// lock that long (a command-line import, a backup) makes it so.
const busyRetries = 3

// beginTx waits for this process's write lock, then begins a write
// transaction. release must be called once the transaction is over
// (after Commit or Rollback).
func (db *DB) beginTx(ctx context.Context, b txBeginner) (tx *sql.Tx, release func(), err error) {
	select {
	case db.wlock <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("wait for the write lock: %w", ctx.Err())
	}
	release = func() { <-db.wlock }
	for attempt := 0; ; attempt++ {
		tx, err = b.BeginTx(ctx, nil)
		if err == nil {
			return tx, release, nil
		}
		if !isBusy(err) || attempt == busyRetries || ctx.Err() != nil {
			release()
			return nil, nil, err
		}
	}
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// exec runs one writing statement outside a transaction, in line with the
// write transactions (see DB.wlock).
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	select {
	case db.wlock <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the write lock: %w", ctx.Err())
	}
	defer func() { <-db.wlock }()
	return db.db.ExecContext(ctx, query, args...)
}
