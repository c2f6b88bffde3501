package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
)

// TestStorageQueriesReadIndexesOnly checks the plans of the queries that
// run on every upload and every hour: the usage of a customer must read
// raw_logs_usage, never the logs' rows (their data pages), and retention
// must walk results_log_kept.
func TestStorageQueriesReadIndexesOnly(t *testing.T) {
	SkipOnPostgres(t, "its query plans")
	ctx := context.Background()
	db := openTest(t)
	for _, tt := range []struct {
		name, query, want string
		args              []any
	}{
		{"usage", `SELECT ` + usageColumns + ` FROM ` + usageFrom + ` WHERE s.customer_id = ?`, "COVERING INDEX raw_logs_usage", []any{1}},
		{"usage by customer", `SELECT s.customer_id, ` + usageColumns + ` FROM ` + usageFrom + ` GROUP BY s.customer_id`, "COVERING INDEX raw_logs_usage", nil},
		{"retention reads sizes from the index", `SELECT l.result_id, ` + logSize + `, l.original_bytes FROM results r JOIN raw_logs l INDEXED BY raw_logs_usage ON l.result_id = r.id
			WHERE r.received_at < ? AND r.raw_log_pruned_at IS NULL AND r.source <> 'missing' ORDER BY r.received_at, r.id LIMIT ?`, "COVERING INDEX raw_logs_usage", []any{"x", 10}},
		{"retention walks the kept logs", `SELECT l.result_id, ` + logSize + `, l.original_bytes FROM results r JOIN raw_logs l INDEXED BY raw_logs_usage ON l.result_id = r.id
			WHERE r.received_at < ? AND r.raw_log_pruned_at IS NULL AND r.source <> 'missing' ORDER BY r.received_at, r.id LIMIT ?`, "INDEX results_log_kept", []any{"x", 10}},
	} {
		plan, err := db.Explain(ctx, tt.query, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, tt.want) {
			t.Errorf("%s: plan does not use %s:\n%s", tt.name, tt.want, plan)
		}
	}
}

// TestWALIsTruncatedAfterCheckpoints checks the limit that gives the
// disk back after a burst of big uploads.
func TestWALIsTruncatedAfterCheckpoints(t *testing.T) {
	SkipOnPostgres(t, "its WAL")
	db := openTest(t)
	var limit int64
	if err := db.db.QueryRow(`PRAGMA journal_size_limit`).Scan(&limit); err != nil || limit != 64<<20 {
		t.Errorf("journal_size_limit = %d, %v; want 64 MiB", limit, err)
	}
}

// TestLogsFromBeforeStoredBytesCountTheirLength opens a database whose raw
// logs were stored before stored_bytes existed: they count with their
// data's length, with no row rewritten.
func TestLogsFromBeforeStoredBytesCountTheirLength(t *testing.T) {
	SkipOnPostgres(t, "builds an old SQLite file")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := migrationFS.ReadFile("migrations/0001_init.sql")
	for _, q := range []string{
		`CREATE TABLE migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`,
		string(first),
		`INSERT INTO migrations (version, applied_at) VALUES (1, '2026-01-01T00:00:00.000000Z')`,
		`INSERT INTO customers (slug, name, created_at) VALUES ('acme', 'Acme', '2026-01-01T00:00:00.000000Z')`,
		`INSERT INTO servers (customer_id, name, created_at) VALUES (1, 'exch01', '2026-01-01T00:00:00.000000Z')`,
		`INSERT INTO results (server_id, received_at, night, source, status, code) VALUES (1, '2026-01-02T01:00:00.000000Z', '2026-01-01', 'upload', 'ok', 0)`,
		`INSERT INTO raw_logs (result_id, compression, original_bytes, data) VALUES (1, 'gzip', 5000, randomblob(1234))`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	raw.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.LogUsage(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if u.Logs != 1 || u.StoredBytes != 1234 || u.OriginalBytes != 5000 {
		t.Errorf("usage = %+v, want 1 log of 1234 stored bytes, 5000 received", u)
	}
	r, _, err := db.Result(ctx, 1)
	if err != nil || r.RawLogPrunedAt != nil || r.RawLogPrunedReason != "" {
		t.Errorf("old result: %+v, %v; want not pruned", r, err)
	}
}

// TestQuotaChecksWithinTheCapDoNotWaitForAPrune holds the quota semaphore
// as a long prune would: a customer within its cap is checked at once, one
// over it waits only as long as its context allows.
func TestQuotaChecksWithinTheCapDoNotWaitForAPrune(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.AddCustomer(ctx, "t", Customer{Slug: "acme"})
	srv, _ := db.AddServer(ctx, "t", "acme", "fs01", false)
	for i := 0; i < 3; i++ {
		at := time.Date(2026, 3, 1+i, 2, 0, 0, 0, time.UTC)
		if _, err := db.SaveUpload(ctx, Upload{ServerID: srv.ID, ReceivedAt: at, Night: NightOf(at, time.UTC), Source: SourceUpload,
			Result: &parser.Result{Status: parser.StatusOK}, Log: CompressLog(bytes.Repeat([]byte("x\n"), 5000))}); err != nil {
			t.Fatal(err)
		}
	}
	quotaSem <- struct{}{}
	defer func() { <-quotaSem }()
	if st, err := db.EnforceLogQuota(ctx, srv.CustomerID, 1<<30, PruneOptions{Pause: -1}); err != nil || st.Logs != 0 {
		t.Errorf("within the cap: %+v, %v; want an answer at once", st, err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := db.EnforceLogQuota(short, srv.CustomerID, 1, PruneOptions{Pause: -1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("over the cap while another prune runs: %v, want the context's deadline", err)
	}
}
