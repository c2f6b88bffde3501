package reeval_test

import (
	"bytes"
	"context"
	"math/rand"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/reeval"
)

// TestReevaluateReadsChunkedLogs: a big log stored in pieces (not cut) is
// judged again from its pieces.
func TestReevaluateReadsChunkedLogs(t *testing.T) {
	db, acme := openAcme(t)
	srv := acme.ID
	ctx := context.Background()
	var text bytes.Buffer
	text.WriteString("sending incremental file list\n")
	text.WriteString(`rsync: send_files failed to open "/data/Mail/archive.pst": Permission denied (13)` + "\n")
	rnd := rand.New(rand.NewSource(5))
	line := make([]byte, 60)
	for text.Len() < 3*store.ChunkBytes {
		for i := range line {
			line[i] = 'a' + byte(rnd.Intn(26))
		}
		text.Write(line)
		text.WriteByte('\n')
	}
	text.WriteString("rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]\n")
	res, err := parser.Parse(bytes.NewReader(text.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	s := db.NewLogSpool()
	for i := 0; i < text.Len(); i += 32 << 10 {
		if _, err := s.Write(text.Bytes()[i:min(i+32<<10, text.Len())]); err != nil {
			t.Fatal(err)
		}
	}
	l, err := s.Finish(int64(text.Len()), false)
	if err != nil {
		t.Fatal(err)
	}
	if l.Chunks == 0 {
		t.Fatal("the log was not stored in pieces")
	}
	u := store.Upload{ServerID: srv, ReceivedAt: time.Now(), Night: "2026-01-01", Source: store.SourceUpload, Result: res, Log: l}
	id, err := db.SaveUpload(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddException(ctx, "test", "acme/fs01", "*/Mail/archive.pst", ""); err != nil {
		t.Fatal(err)
	}
	st, err := reeval.Run(ctx, db, reeval.Options{Actor: "test", Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := db.Result(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Updated != 1 || r.ExceptedErrors != 1 || r.Status != parser.StatusOK {
		t.Errorf("after re-evaluation: updated %d, excepted %d, status %s; want the file error excepted and ok", st.Updated, r.ExceptedErrors, r.Status)
	}
}
