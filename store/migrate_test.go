package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigratesAnOldDatabase builds a database as the first release left it
// (migration 1 only, with data), then opens it: the later migrations apply
// and the data stays.
func TestMigratesAnOldDatabase(t *testing.T) {
	ctx := context.Background()
	path, d := DSNForTest(t), sqliteDialect
	driverName, rawDSN := "sqlite", "file:"+path+"?_pragma=foreign_keys(1)"
	if IsPostgresDSN(path) {
		d, driverName, rawDSN = postgresDialect, "pgx", path
	}
	raw, err := sql.Open(driverName, rawDSN)
	if err != nil {
		t.Fatal(err)
	}
	first, err := migrationFS.ReadFile(d.migrationDir() + "/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`,
		string(first),
		`INSERT INTO migrations (version, applied_at) VALUES (1, '2026-01-01T00:00:00.000000Z')`,
		`INSERT INTO customers (slug, name, created_at) VALUES ('acme', 'Acme', '2026-01-01T00:00:00.000000Z')`,
		`INSERT INTO servers (customer_id, name, created_at) VALUES (1, 'exch01', '2026-01-01T00:00:00.000000Z')`,
		`INSERT INTO results (server_id, received_at, night, source, status, code) VALUES (1, '2026-01-02T01:00:00.000000Z', '2026-01-01', 'upload', 'ok', 0)`,
		// How these uploads ended was only in the reason's text or the flag.
		`INSERT INTO results (server_id, received_at, night, source, status, code, reason) VALUES (1, '2026-01-03T01:00:00.000000Z', '2026-01-02', 'upload', 'failed', 23, 'upload larger than the 10-byte limit; parsing stopped there')`,
		`INSERT INTO results (server_id, received_at, night, source, status, code, reason) VALUES (1, '2026-01-04T01:00:00.000000Z', '2026-01-03', 'upload', 'failed', 0, 'upload took longer than the 4h0m0s limit; parsing stopped there')`,
		`INSERT INTO results (server_id, received_at, night, source, status, code, interrupted, reason) VALUES (1, '2026-01-05T01:00:00.000000Z', '2026-01-04', 'upload', 'failed', -2, 1, 'the connection ended before the upload was complete')`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open the old database: %v", err)
	}
	defer db.Close()
	var applied, all int
	db.db.QueryRow(`SELECT COUNT(*) FROM migrations`).Scan(&applied)
	names, _ := fs.Glob(migrationFS, d.migrationDir()+"/*.sql")
	all = len(names)
	if applied != all {
		t.Errorf("%d migrations recorded, want %d", applied, all)
	}
	if _, err := db.CustomerBySlug(ctx, "acme"); err != nil {
		t.Errorf("customer lost: %v", err)
	}
	rows, err := db.History(ctx, 1, 10, 0)
	if err != nil || len(rows) != 4 {
		t.Errorf("history after migration: %v, %d rows", err, len(rows))
	}
	var ended []string
	if rs, err := db.db.QueryContext(ctx, `SELECT ended FROM results ORDER BY id`); err == nil {
		for rs.Next() {
			var e string
			rs.Scan(&e)
			ended = append(ended, e)
		}
		rs.Close()
	}
	if got := strings.Join(ended, " "); got != "complete too_large time_limit interrupted" {
		t.Errorf("migration 15 read the ends as %q, want complete too_large time_limit interrupted", got)
	}
	var idx int
	indexes := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'results_received_cover'`
	if d == postgresDialect {
		indexes = `SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'results_received_cover'`
	}
	db.db.QueryRow(indexes).Scan(&idx)
	if idx != 1 {
		t.Errorf("migration 6's index is missing")
	}
}

// TestDeletingAnExceptionUsesAnIndex checks the plan of what deleting an
// exception runs on file_errors (ON DELETE SET NULL): a scan of every file
// error would hold the write lock for seconds on a large database.
func TestDeletingAnExceptionUsesAnIndex(t *testing.T) {
	SkipOnPostgres(t, "its query plans")
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.db.QueryContext(ctx, `EXPLAIN QUERY PLAN UPDATE file_errors SET exception_id = NULL WHERE exception_id = ?`, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan += detail + "\n"
	}
	if !strings.Contains(plan, "INDEX file_errors_exception") {
		t.Errorf("plan:\n%s\nwant the file_errors_exception index", plan)
	}
}

// Both dialects have the same migrations: one file of each name in
// migrations/ and migrations/postgres/.
func TestMigrationsMatchAcrossDialects(t *testing.T) {
	var sets [2][]string
	for i, d := range []dialect{sqliteDialect, postgresDialect} {
		names, err := fs.Glob(migrationFS, d.migrationDir()+"/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			sets[i] = append(sets[i], filepath.Base(n))
		}
	}
	if got, want := strings.Join(sets[1], " "), strings.Join(sets[0], " "); got != want || len(sets[0]) == 0 {
		t.Errorf("PostgreSQL's migrations:\n%s\nwant SQLite's:\n%s", got, want)
	}
}
