package reeval_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/reeval"
)

// TestReevaluateOnlyFileErrors: an exception change re-judges only results
// with file errors, and still turns the right night ok.
func TestReevaluateOnlyFileErrors(t *testing.T) {
	ctx := context.Background()
	db := openReevalDB(t)
	db.AddCustomer(ctx, "t", store.Customer{Slug: "acme"})
	srv, _ := db.AddServer(ctx, "t", "acme", "s", false)
	save := func(log string) {
		t.Helper()
		res, err := parser.Parse(strings.NewReader(log))
		if err != nil {
			t.Fatal(err)
		}
		at := db.Now()
		if _, err := db.SaveUpload(ctx, store.Upload{ServerID: srv.ID, ReceivedAt: at, Night: store.NightOf(at, time.UTC), Source: store.SourceUpload, Result: res,
			Log: store.CompressLog([]byte(log))}); err != nil {
			t.Fatal(err)
		}
	}
	ok := "sent 10 bytes  received 20 bytes  60.00 bytes/sec\ntotal size is 100  speedup is 3.33\n"
	locked := "rsync: send_files failed to open \"/x/mail.pst\": Permission denied (13)\n" + ok +
		"rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]\n"
	save(ok)
	save(ok)
	save(locked)
	if _, err := db.AddException(ctx, "t", "acme", "*.pst", ""); err != nil {
		t.Fatal(err)
	}
	st, err := reeval.Run(ctx, db, reeval.Options{OnlyFileErrors: true, Actor: "t", Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Results != 1 || st.Changed != 1 {
		t.Errorf("stats = %+v, want 1 result judged and changed", st)
	}
	rows, _ := db.Status(ctx, db.Now().Add(time.Minute), 24*time.Hour)
	if len(rows) != 1 || rows[0].Status != "ok" || rows[0].ExceptedErrors != 1 {
		t.Errorf("status = %+v, want ok with 1 excepted error", rows)
	}
}
