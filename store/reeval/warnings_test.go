package reeval_test

import (
	"context"
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
