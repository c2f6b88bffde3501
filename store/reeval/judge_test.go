package reeval_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/reeval"
)

// TestReevaluatingStoredFactsChangesNothing stores every real log of
// testdata/rsync whole, cut just after its last "(code N)" line and cut
// half-way, with every way an upload can end, each both as a whole log and
// as one stored with its middle cut out (judged from its stored rows), all
// judged with exceptions by parser.Judge as the upload does; re-evaluating
// everything with the same exceptions changes no verdict and rewrites no
// row.
func TestReevaluatingStoredFactsChangesNothing(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	for _, p := range []string{"*.PST", "*/finance/company.qbw", "*/Outlook/*"} {
		if _, err := db.AddException(ctx, "t", "global", p, ""); err != nil {
			t.Fatal(err)
		}
	}
	exs, err := db.ExceptionsFor(ctx, srv.ID)
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "rsync", "*"))
	if len(dirs) == 0 {
		t.Fatal("no test logs")
	}
	var us []store.Upload
	at := reevalNow.Add(-time.Hour)
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "stats.out"))
		if err != nil {
			t.Fatal(err)
		}
		texts := [][]byte{b, b[:len(b)/2]}
		if k := bytes.LastIndex(b, []byte("(code ")); k >= 0 {
			if nl := bytes.IndexByte(b[k:], '\n'); nl >= 0 {
				texts = append(texts, b[:k+nl+1])
			}
		}
		for _, text := range texts {
			for _, end := range []parser.End{parser.EndComplete, parser.EndInterrupted, parser.EndTooLarge, parser.EndTimeLimit} {
				for _, truncated := range []bool{false, true} {
					res, _ := parser.Parse(bytes.NewReader(text))
					parser.Judge(res, parser.Facts{End: end}, store.Patterns(exs))
					u := store.Upload{ServerID: srv.ID, ReceivedAt: at, Night: store.NightOf(at, time.UTC), Source: store.SourceUpload,
						End: end, Result: res, Exceptions: exs, Log: store.CompressLog(text), UploadBytes: int64(len(text))}
					u.Log.Truncated = truncated
					us = append(us, u)
					at = at.Add(-time.Second)
				}
			}
		}
	}
	if err := db.SaveUploads(ctx, us); err != nil {
		t.Fatal(err)
	}
	st, err := reeval.Run(ctx, db, reeval.Options{Actor: "t", Reason: "reevaluate --all"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Results != len(us) || st.Changed != 0 || st.Updated != 0 {
		t.Errorf("re-evaluating %d stored results: %+v, want all judged, none changed or rewritten", len(us), st)
	}
	// And the refusals stay failed when an exception would pass their text.
	if _, err := db.AddException(ctx, "t", "global", "*", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := reeval.Run(ctx, db, reeval.Options{Actor: "t", Reason: "everything excepted"}); err != nil {
		t.Fatal(err)
	}
	h, err := db.History(ctx, srv.ID, len(us), 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range h {
		// History is newest first, as stored.
		if end := us[i].End; end.Forced() && r.Status != "failed" {
			t.Errorf("result %d ended %s: %s after excepting everything, want failed", r.ID, end, r.Status)
		}
	}
	t.Logf("%d results judged again: %+v", len(us), st)
}
