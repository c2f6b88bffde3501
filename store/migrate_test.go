package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// TestMigratesAnOldDatabase builds a database as the first release left it
// (migration 1 only, with data), then opens it: the later migrations apply
// and the data stays.
func TestMigratesAnOldDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	first, err := migrationFS.ReadFile("migrations/0001_init.sql")
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
	names, _ := migrationFS.ReadDir("migrations")
	all = len(names)
	if applied != all {
		t.Errorf("%d migrations recorded, want %d", applied, all)
	}
	if _, err := db.CustomerBySlug(ctx, "acme"); err != nil {
		t.Errorf("customer lost: %v", err)
	}
	rows, err := db.History(ctx, 1, 10, 0)
	if err != nil || len(rows) != 1 {
		t.Errorf("history after migration: %v, %d rows", err, len(rows))
	}
	var idx int
	db.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'results_received_cover'`).Scan(&idx)
	if idx != 1 {
		t.Errorf("migration 6's index is missing")
	}
}
