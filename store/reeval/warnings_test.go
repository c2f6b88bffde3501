package reeval_test

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/reeval"
)

// storedWarnings returns a result's stored warnings without their ids and
// acknowledgements, to compare with what the parser gives.
func storedWarnings(t *testing.T, db *store.DB, id int64) []parser.Warning {
	t.Helper()
	got, err := db.WarningsOf(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []parser.Warning
	for _, w := range got[id] {
		out = append(out, parser.Warning{Kind: w.Kind, Message: w.Message, Numbers: w.Numbers})
	}
	return out
}

// Re-evaluation gives the warnings the upload gave: a result stored
// without them (as by a release before warnings) gets them, and an
// exception on the unreadable folder changes the verdict but neither
// silences the mass deletion nor loses its acknowledgement.
func TestReevaluationWritesTheUploadsWarnings(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	log := readCase(t, "real-unreadable-delete")
	u := uploadOf(t, db, srv.ID, log, reevalNow.Add(-20*time.Hour))
	parser.Judge(u.Result, parser.Facts{End: parser.EndComplete}, store.Patterns(u.Exceptions))
	want := u.Result.Warnings
	if len(want) == 0 || want[0].Kind != parser.WarningMassDeletion {
		t.Fatalf("the case gives warnings %+v, want mass_deletion", want)
	}
	withID, err := db.SaveUpload(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if got := storedWarnings(t, db, withID); !reflect.DeepEqual(got, want) {
		t.Fatalf("upload stored %+v, want %+v", got, want)
	}
	bare := uploadOf(t, db, srv.ID, log, reevalNow.Add(-44*time.Hour))
	bare.Result.Warnings = nil
	withoutID, err := db.SaveUpload(ctx, bare)
	if err != nil {
		t.Fatal(err)
	}
	if got := storedWarnings(t, db, withoutID); len(got) != 0 {
		t.Fatalf("stored without warnings, has %+v", got)
	}
	ws, _ := db.WarningsOf(ctx, withID)
	if err := db.AcknowledgeWarning(ctx, ws[withID][0].ID, "web:alice", "folder removed on purpose"); err != nil {
		t.Fatal(err)
	}

	if _, err := reeval.Run(ctx, db, reeval.Options{Since: reevalNow.Add(-reeval.Window), Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{withID, withoutID} {
		if got := storedWarnings(t, db, id); !reflect.DeepEqual(got, want) {
			t.Errorf("result %d after re-evaluation: %+v, want %+v", id, got, want)
		}
	}

	if _, err := db.AddException(ctx, "web:alice", "acme/fs01", "*/Projects/proj2", "folder retired"); err != nil {
		t.Fatal(err)
	}
	if _, err := reeval.Run(ctx, db, reeval.Options{Since: reevalNow.Add(-reeval.Window), Reason: "exception added"}); err != nil {
		t.Fatal(err)
	}
	if got := storedWarnings(t, db, withID); !reflect.DeepEqual(got, want) {
		t.Errorf("after the exception: %+v, want %+v (an exception never silences mass deletion)", got, want)
	}
	ws, _ = db.WarningsOf(ctx, withID)
	if w := ws[withID][0]; w.AckedBy != "web:alice" || w.AckNote != "folder removed on purpose" {
		t.Errorf("acknowledgement lost on re-evaluation: %+v", w)
	}
}

// nightLog writes the rsync -v output of an ordinary night: files listed
// and the summary with the given total size.
func nightLog(files int, sent, total int64) []byte {
	var b bytes.Buffer
	b.WriteString("sending incremental file list\n")
	for i := range files {
		fmt.Fprintf(&b, "cygdrive/E/shares/docs/file%04d.docx\n", i)
	}
	fmt.Fprintf(&b, "\nsent %d bytes  received 900 bytes  1000.00 bytes/sec\ntotal size is %d  speedup is 1.00\n", sent, total)
	return b.Bytes()
}

// judgedUpload is what the upload path does: the server's normal from the
// database, judged with the process's thresholds, stored with the result.
func judgedUpload(t *testing.T, db *store.DB, srv store.Server, log []byte, at time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	u := uploadOf(t, db, srv.ID, log, at)
	b, err := db.Baseline(ctx, srv.ID, u.Night)
	if err != nil {
		t.Fatal(err)
	}
	u.Baseline = b
	parser.Judge(u.Result, parser.Facts{End: parser.EndComplete, Baseline: b, Thresholds: db.Thresholds}, store.Patterns(u.Exceptions))
	id, err := db.SaveUpload(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// The statistical warnings come from the normal stored with the upload:
// re-evaluation gives the same, and applies the thresholds of its own
// time.
func TestReevaluationKeepsTheUploadsNormal(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	first := reevalNow.Add(-13 * 24 * time.Hour)
	var ids []int64
	for d := range 12 {
		ids = append(ids, judgedUpload(t, db, srv, nightLog(20+d, 2<<20, 10<<30+int64(d)<<20), first.Add(time.Duration(d)*24*time.Hour)))
	}
	for _, id := range ids {
		if got := storedWarnings(t, db, id); len(got) != 0 {
			t.Fatalf("ordinary night %d stored warnings %+v", id, got)
		}
	}
	dropped := judgedUpload(t, db, srv, nightLog(15, 2<<20, 3<<30), first.Add(12*24*time.Hour))
	want := storedWarnings(t, db, dropped)
	if len(want) != 1 || want[0].Kind != parser.WarningSizeDrop || want[0].Numbers["baseline_nights"] != 12 {
		t.Fatalf("the 3 GiB night stored %+v, want one size_drop against 12 nights", want)
	}
	if _, err := reeval.Run(ctx, db, reeval.Options{Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	if got := storedWarnings(t, db, dropped); !reflect.DeepEqual(got, want) {
		t.Errorf("after re-evaluation: %+v, want %+v", got, want)
	}
	// Looser thresholds, then re-evaluation: the drop of 70% is no longer
	// one.
	loose := parser.DefaultThresholds
	loose.SizeDropPercent = 80
	db.Thresholds = &loose
	if _, err := reeval.Run(ctx, db, reeval.Options{Reason: "looser"}); err != nil {
		t.Fatal(err)
	}
	if got := storedWarnings(t, db, dropped); len(got) != 0 {
		t.Errorf("with an 80%% threshold: %+v, want none", got)
	}
}
