package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
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
	names, _ := migrationFS.ReadDir("migrations")
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
	db.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'results_received_cover'`).Scan(&idx)
	if idx != 1 {
		t.Errorf("migration 6's index is missing")
	}
}

// TestDeletingAnExceptionUsesAnIndex checks the plan of what deleting an
// exception runs on file_errors (ON DELETE SET NULL): a scan of every file
// error would hold the write lock for seconds on a large database.
func TestDeletingAnExceptionUsesAnIndex(t *testing.T) {
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

// TestResultsFromBeforeTheDigestGetOne: results stored before migration 8
// have no file errors digest; a re-evaluation compares their rows, changes
// nothing it need not, and records the digest.
func TestResultsFromBeforeTheDigestGetOne(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.AddCustomer(ctx, "t", Customer{Slug: "acme"})
	srv, _ := db.AddServer(ctx, "t", "acme", "fs01", false)
	ex, err := db.AddException(ctx, "t", "acme", "*.pst", "")
	if err != nil {
		t.Fatal(err)
	}
	log := "rsync: send_files failed to open \"/x/mail.pst\": Permission denied (13)\n" +
		"rsync: send_files failed to open \"/x/book.qbw\": Permission denied (13)\n" +
		"sent 10 bytes  received 20 bytes  60.00 bytes/sec\ntotal size is 100  speedup is 3.33\n" +
		"rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]\n"
	res, err := parser.Parse(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	exs, _ := db.ExceptionsFor(ctx, srv.ID)
	res.Apply(Patterns(exs))
	at := time.Now().Add(-time.Hour)
	id, err := db.SaveUpload(ctx, Upload{ServerID: srv.ID, ReceivedAt: at, Night: Night(at, time.UTC), Source: SourceUpload, Result: res,
		Exceptions: exs, Log: CompressLog([]byte(log))})
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	db.db.QueryRow(`SELECT file_errors_digest FROM results WHERE id = ?`, id).Scan(&want)
	if _, err := db.db.Exec(`UPDATE results SET file_errors_digest = NULL WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	st, err := db.Reevaluate(ctx, ReevalOptions{Reason: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Results != 1 || st.Updated != 0 || st.Changed != 0 {
		t.Errorf("stats %+v, want 1 result judged and nothing changed", st)
	}
	var got sql.NullInt64
	db.db.QueryRow(`SELECT file_errors_digest FROM results WHERE id = ?`, id).Scan(&got)
	if !got.Valid || got.Int64 != want {
		t.Errorf("digest after re-evaluation %v, want %d as at upload", got, want)
	}
	_, fes, _ := db.Result(ctx, id)
	if len(fes) != 2 || !fes[0].Excepted || fes[0].ExceptionID == nil || *fes[0].ExceptionID != ex.ID || fes[1].Excepted {
		t.Errorf("file errors changed: %+v", fes)
	}
	// Deleting the exception clears the rows' link behind the digest; the
	// next run sees the difference and fails the night again.
	if err := db.RemoveException(ctx, "t", ex.ID); err != nil {
		t.Fatal(err)
	}
	if st, err = db.Reevaluate(ctx, ReevalOptions{Reason: "t"}); err != nil || st.Changed != 0 {
		// Already failed (book.qbw is not excepted): only the rows change.
		t.Errorf("after deleting the exception: %+v, %v", st, err)
	}
	_, fes, _ = db.Result(ctx, id)
	if fes[0].Excepted || fes[0].ExceptionID != nil {
		t.Errorf("the deleted exception still excepts %s", fes[0].Path)
	}
}
