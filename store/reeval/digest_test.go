package reeval_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/reeval"
)

// TestResultsFromBeforeTheDigestGetOne: results stored before migration 8
// have no file errors digest; a re-evaluation compares their rows, changes
// nothing it need not, and records the digest.
func TestResultsFromBeforeTheDigestGetOne(t *testing.T) {
	ctx := context.Background()
	path := dsnForTest(t)
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The digest is cleared behind the store's back, as before migration 8.
	driverName, rawDSN, byID := "sqlite", "file:"+path, "id = ?"
	if store.IsPostgresDSN(path) {
		driverName, rawDSN, byID = "pgx", path, "id = $1"
	}
	raw, err := sql.Open(driverName, rawDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	db.AddCustomer(ctx, "t", store.Customer{Slug: "acme"})
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
	res.Apply(store.Patterns(exs))
	at := time.Now().Add(-time.Hour)
	id, err := db.SaveUpload(ctx, store.Upload{ServerID: srv.ID, ReceivedAt: at, Night: store.NightOf(at, time.UTC), Source: store.SourceUpload, Result: res,
		Exceptions: exs, Log: store.CompressLog([]byte(log))})
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	raw.QueryRow(`SELECT file_errors_digest FROM results WHERE `+byID, id).Scan(&want)
	if _, err := raw.Exec(`UPDATE results SET file_errors_digest = NULL WHERE `+byID, id); err != nil {
		t.Fatal(err)
	}
	st, err := reeval.Run(ctx, db, reeval.Options{Reason: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Results != 1 || st.Updated != 0 || st.Changed != 0 {
		t.Errorf("stats %+v, want 1 result judged and nothing changed", st)
	}
	var got sql.NullInt64
	raw.QueryRow(`SELECT file_errors_digest FROM results WHERE `+byID, id).Scan(&got)
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
	if st, err = reeval.Run(ctx, db, reeval.Options{Reason: "t"}); err != nil || st.Changed != 0 {
		// Already failed (book.qbw is not excepted): only the rows change.
		t.Errorf("after deleting the exception: %+v, %v", st, err)
	}
	_, fes, _ = db.Result(ctx, id)
	if fes[0].Excepted || fes[0].ExceptionID != nil {
		t.Errorf("the deleted exception still excepts %s", fes[0].Path)
	}
}
