package reeval_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	us := everyLog(t, srv, exs)
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

// everyLog returns an upload of every real log of testdata/rsync (and of
// one with too many file errors to keep), whole,
// cut just after its last "(code N)" line and cut half-way, with every way
// an upload can end, each both as a whole log and as one stored with its
// middle cut out, judged with exceptions exs as the upload does. Each
// arrives a second before the one before it, from an hour before
// reevalNow.
func everyLog(t *testing.T, srv store.Server, exs []store.Exception) []store.Upload {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "rsync", "*"))
	if len(dirs) == 0 {
		t.Fatal("no test logs")
	}
	var logs [][]byte
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "stats.out"))
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, b)
	}
	// And one with more file errors than a result keeps (long paths,
	// past parser.MaxFileErrorBytes): the rest are dropped, and counted.
	var many bytes.Buffer
	long := strings.Repeat("x", 4000)
	for i := range 2 * parser.MaxFileErrorBytes / 4000 {
		fmt.Fprintf(&many, "rsync: send_files failed to open \"/cygdrive/E/shares/Mail/%s%d.pst\": Device or resource busy (16)\n", long, i)
	}
	many.WriteString("rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1207) [sender=3.1.3]\n")
	logs = append(logs, many.Bytes())
	var us []store.Upload
	at := reevalNow.Add(-time.Hour)
	for _, b := range logs {
		texts := [][]byte{b, b[:len(b)/2]}
		if len(b) > parser.MaxFileErrorBytes {
			texts = texts[:1] // the long one, whole: its rows are many
		}
		if k := bytes.LastIndex(b, []byte("(code ")); k >= 0 && len(texts) > 1 {
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
	return us
}

// TestJudgingStoredErrorsEqualsJudgingTheLogs stores every real log (see
// everyLog) in two databases, then changes the exceptions step by step
// (added for one customer, added globally, everything excepted, removed
// again) and re-evaluates one database from the logs and the other from
// the stored file errors (Options.FromStoredErrors, as after an exception
// change): after each step every result and every file error row is the
// same in both, and the stored-errors run read no log.
func TestJudgingStoredErrorsEqualsJudgingTheLogs(t *testing.T) {
	ctx := context.Background()
	fromLogs, srv := openAcme(t)
	fromRows, _ := openAcme(t)
	var exs []store.Exception
	for _, db := range []*store.DB{fromLogs, fromRows} {
		e, err := db.AddException(ctx, "t", "global", "*/Outlook/*", "")
		if err != nil {
			t.Fatal(err)
		}
		exs = []store.Exception{e}
	}
	us := everyLog(t, srv, exs)
	for _, db := range []*store.DB{fromLogs, fromRows} {
		if err := db.SaveUploads(ctx, us); err != nil {
			t.Fatal(err)
		}
	}
	type step struct {
		name   string
		change func(db *store.DB) error
	}
	add := func(scope, pattern string) func(db *store.DB) error {
		return func(db *store.DB) error { _, err := db.AddException(ctx, "t", scope, pattern, ""); return err }
	}
	remove := func(pattern string) func(db *store.DB) error {
		return func(db *store.DB) error {
			all, err := db.Exceptions(ctx)
			if err != nil {
				return err
			}
			for _, e := range all {
				if e.Pattern == pattern {
					return db.RemoveException(ctx, "t", e.ID)
				}
			}
			return nil
		}
	}
	steps := []step{
		{"a customer's exception", add("acme", "*.PST")},
		{"a global one", add("global", "*/finance/company.qbw")},
		{"everything excepted", add("global", "*")},
		{"the first exception removed", remove("*/Outlook/*")},
		{"everything no longer excepted", remove("*")},
		{"a customer's exception removed", remove("*.PST")},
	}
	changedAny := false
	for _, s := range steps {
		var stats [2]reeval.Stats
		for i, db := range []*store.DB{fromLogs, fromRows} {
			if err := s.change(db); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			st, err := reeval.Run(ctx, db, reeval.Options{Actor: "t", Reason: s.name, FromStoredErrors: i == 1})
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			stats[i] = st
		}
		if stats[0].Changed != stats[1].Changed || stats[0].Updated != stats[1].Updated {
			t.Errorf("%s: from the logs %+v, from the stored errors %+v", s.name, stats[0], stats[1])
		}
		if stats[1].Bytes != 0 {
			t.Errorf("%s: the stored-errors run parsed %d bytes of logs", s.name, stats[1].Bytes)
		}
		changedAny = changedAny || stats[0].Changed > 0
		a, b := dumpResults(t, fromLogs, srv.ID, len(us)), dumpResults(t, fromRows, srv.ID, len(us))
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s: result %d differs\nfrom the logs:   %s\nfrom the errors: %s", s.name, i, a[i], b[i])
			}
		}
	}
	if !changedAny {
		t.Fatal("no step changed a verdict: the test proves nothing")
	}
}

// dumpResults returns each result of a server with its file error rows,
// as JSON, newest first.
func dumpResults(t *testing.T, db *store.DB, serverID int64, n int) []string {
	t.Helper()
	ctx := context.Background()
	h, err := db.History(ctx, serverID, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != n {
		t.Fatalf("%d results stored, want %d", len(h), n)
	}
	out := make([]string, len(h))
	for i, r := range h {
		row, errs, err := db.Result(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(struct {
			R store.ResultRow
			E []store.FileErrorRow
		}{row, errs})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}
