package reeval_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/reeval"
)

var reevalNow = time.Date(2026, 3, 20, 8, 30, 0, 0, time.UTC)

func openReevalDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsnForTest(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return reevalNow }
	return db
}

// openAcme opens a database with one customer, acme, and its server fs01.
func openAcme(t testing.TB) (*store.DB, store.Server) {
	t.Helper()
	db := openReevalDB(t)
	if _, err := db.AddCustomer(context.Background(), "t", store.Customer{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	srv, err := db.AddServer(context.Background(), "t", "acme", "fs01", false)
	if err != nil {
		t.Fatal(err)
	}
	return db, srv
}

func readCase(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "rsync", name, "stats.out"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// uploadOf judges a log against a server's exceptions as the SSH server
// does, ready to store.
func uploadOf(t testing.TB, db *store.DB, serverID int64, log []byte, at time.Time) store.Upload {
	t.Helper()
	exs, err := db.ExceptionsFor(context.Background(), serverID)
	if err != nil {
		t.Fatal(err)
	}
	r, err := parser.Parse(bytes.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	r.Apply(store.Patterns(exs))
	return store.Upload{ServerID: serverID, ReceivedAt: at, Night: store.NightOf(at, time.UTC), Source: store.SourceUpload, Result: r, Exceptions: exs,
		Log: store.CompressLog(log)}
}

// uploadsOf is n uploads of the same log, a minute apart back from
// reevalNow, judged once.
func uploadsOf(t testing.TB, db *store.DB, serverID int64, log []byte, n int) []store.Upload {
	t.Helper()
	u := uploadOf(t, db, serverID, log, reevalNow)
	us := make([]store.Upload, n)
	for i := range us {
		us[i] = u
		us[i].ReceivedAt = reevalNow.Add(-time.Duration(i) * time.Minute)
		us[i].Night = store.NightOf(us[i].ReceivedAt, time.UTC)
	}
	return us
}

func TestReevaluateAppliesNewAndRemovedExceptions(t *testing.T) {
	ctx := context.Background()
	db := openReevalDB(t)
	if _, err := db.AddCustomer(ctx, "t", store.Customer{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	srv, _ := db.AddServer(ctx, "t", "acme", "fs01", false)
	other, _ := db.AddServer(ctx, "t", "acme", "fs02", false)
	log := readCase(t, "real-ssh-unreadable")
	recent, _ := db.SaveUpload(ctx, uploadOf(t, db, srv.ID, log, reevalNow.Add(-20*time.Hour)))
	old, _ := db.SaveUpload(ctx, uploadOf(t, db, srv.ID, log, reevalNow.Add(-10*24*time.Hour)))
	otherID, _ := db.SaveUpload(ctx, uploadOf(t, db, other.ID, log, reevalNow.Add(-20*time.Hour)))
	missing, err := db.SaveUpload(ctx, store.Upload{ServerID: srv.ID, ReceivedAt: reevalNow.Add(-2 * time.Hour), Night: "2026-03-19", Source: store.SourceMissing})
	if err != nil {
		t.Fatal(err)
	}

	ex, err := db.AddException(ctx, "web:alice", "acme/fs01", "*/Mail/archive.pst", "copied by VSS")
	if err != nil {
		t.Fatal(err)
	}
	st, err := reeval.Run(ctx, db, reeval.Options{Since: reevalNow.Add(-reeval.Window), ServerID: &srv.ID, Actor: "web:alice", Reason: "exception 1 added by alice"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Results != 1 || st.Changed != 1 {
		t.Errorf("stats = %+v, want 1 result judged (the missing night and the old one skipped), 1 changed", st)
	}
	check := func(id int64, wantStatus parser.Status, wantExcepted int) {
		t.Helper()
		r, fes, err := db.Result(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != wantStatus || r.ExceptedErrors != wantExcepted {
			t.Errorf("result %d: status %s with %d excepted, want %s with %d", id, r.Status, r.ExceptedErrors, wantStatus, wantExcepted)
		}
		for _, fe := range fes {
			if fe.Excepted != (wantExcepted > 0) || (fe.Excepted && (fe.ExceptionID == nil || *fe.ExceptionID != ex.ID)) {
				t.Errorf("result %d: file error %q excepted=%v by %v, want linked to exception %d", id, fe.Path, fe.Excepted, fe.ExceptionID, ex.ID)
			}
		}
	}
	check(recent, "ok", 1)
	check(old, "failed", 0)
	check(otherID, "failed", 0)
	if r, _, _ := db.Result(ctx, missing); r.Status != store.StatusMissing {
		t.Errorf("missing night became %s", r.Status)
	}
	vc, err := db.VerdictChanges(ctx, []int64{recent, old})
	if err != nil {
		t.Fatal(err)
	}
	if len(vc[recent]) != 1 || vc[recent][0].OldStatus != "failed" || vc[recent][0].NewStatus != "ok" || vc[recent][0].Reason != "exception 1 added by alice" {
		t.Errorf("verdict changes of result %d = %+v", recent, vc[recent])
	}
	if len(vc[old]) != 0 {
		t.Errorf("the old result outside the window changed: %+v", vc[old])
	}
	if e, _ := db.ExceptionByID(ctx, ex.ID); e.LastMatchedAt == nil {
		t.Error("the exception's last match was not recorded")
	}

	t.Run("running it again changes nothing", func(t *testing.T) {
		st, err := reeval.Run(ctx, db, reeval.Options{Reason: "again"})
		if err != nil {
			t.Fatal(err)
		}
		if st.Results != 3 || st.Changed != 1 {
			// The old result of fs01 is judged with the exception now too.
			t.Errorf("stats = %+v, want 3 judged (not the missing night) and only the old fs01 result changed", st)
		}
		st, _ = reeval.Run(ctx, db, reeval.Options{Reason: "again"})
		if st.Updated != 0 {
			t.Errorf("a third run updated %d results", st.Updated)
		}
	})
	t.Run("removing the exception fails the night again", func(t *testing.T) {
		if err := db.RemoveException(ctx, "cli:root", ex.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := reeval.Run(ctx, db, reeval.Options{Since: reevalNow.Add(-reeval.Window), Reason: "exception 1 removed by root"}); err != nil {
			t.Fatal(err)
		}
		check(recent, "failed", 0)
		vc, _ := db.VerdictChanges(ctx, []int64{recent})
		if n := len(vc[recent]); n != 2 || vc[recent][1].NewStatus != "failed" {
			t.Errorf("verdict changes after removal = %+v", vc[recent])
		}
	})
	t.Run("an edited pattern is applied", func(t *testing.T) {
		e, _ := db.AddException(ctx, "t", "acme", "*.nomatch", "")
		if _, err := db.UpdateException(ctx, "t", e.ID, "*.PST", "all mail files"); err != nil {
			t.Fatal(err)
		}
		reeval.Run(ctx, db, reeval.Options{Since: reevalNow.Add(-reeval.Window), CustomerID: &srv.CustomerID, Reason: "edit"})
		for _, id := range []int64{recent, otherID} {
			if r, _, _ := db.Result(ctx, id); r.Status != "ok" {
				t.Errorf("result %d after the customer-wide edit: %s", id, r.Status)
			}
		}
	})
	a, _ := db.Audit(ctx, 50)
	var found bool
	for _, e := range a {
		found = found || e.Action == "results.reevaluate"
	}
	if !found {
		t.Error("no results.reevaluate audit entry")
	}
}

// TestReevaluateReadsGzipLogs covers databases from before logs were
// stored as S2: their gzip logs are still judged again and shown.
func TestReevaluateReadsGzipLogs(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	log := readCase(t, "real-ssh-unreadable")
	old := uploadOf(t, db, srv.ID, log, reevalNow.Add(-time.Hour))
	old.Log = store.RawLog{Data: gz(log), Compression: store.CompressionGzip, OriginalBytes: int64(len(log))}
	oldID, err := db.SaveUpload(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	newID, err := db.SaveUpload(ctx, uploadOf(t, db, srv.ID, log, reevalNow.Add(-2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{oldID, newID} {
		raw, err := db.RawLogOf(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := raw.Open()
		if err != nil {
			t.Fatalf("result %d (%s): %v", id, raw.Compression, err)
		}
		text, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(text, log) {
			t.Errorf("result %d (%s): read back %d bytes, err %v; want the %d bytes stored", id, raw.Compression, len(text), err, len(log))
		}
	}
	db.AddException(ctx, "t", "global", "*archive.pst", "")
	st, err := reeval.Run(ctx, db, reeval.Options{Reason: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Results != 2 || st.Changed != 2 || st.Bytes != 2*int64(len(log)) {
		t.Errorf("stats = %+v, want both judged from their %d-byte logs and changed", st, len(log))
	}
	for _, id := range []int64{oldID, newID} {
		if r, _, _ := db.Result(ctx, id); r.Status != "ok" {
			t.Errorf("result %d is %s after the exception, want ok", id, r.Status)
		}
	}
}

func TestReevaluateKeepsFailuresTheLogDoesNotExplain(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	log := readCase(t, "real-ssh-unreadable")
	u := uploadOf(t, db, srv.ID, log, reevalNow.Add(-time.Hour))
	u.Reason = "upload larger than the 10-byte limit; parsing stopped there"
	u.End = parser.EndTooLarge
	parser.Judge(u.Result, parser.Facts{End: u.End}, nil)
	big, _ := db.SaveUpload(ctx, u)
	u = uploadOf(t, db, srv.ID, log, reevalNow.Add(-2*time.Hour))
	u.Log.Truncated = true // judged from the stored rows
	cut, _ := db.SaveUpload(ctx, u)
	db.AddException(ctx, "t", "global", "*archive.pst", "")
	if _, err := reeval.Run(ctx, db, reeval.Options{Reason: "x"}); err != nil {
		t.Fatal(err)
	}
	if r, _, _ := db.Result(ctx, big); r.Status != "failed" || r.ExceptedErrors != 1 {
		t.Errorf("an upload over the size limit: %s with %d excepted, want failed with 1", r.Status, r.ExceptedErrors)
	}
	if r, _, _ := db.Result(ctx, cut); r.Status != "ok" || r.ExceptedErrors != 1 {
		t.Errorf("a truncated log: %s with %d excepted, want ok with 1 (from the stored rows)", r.Status, r.ExceptedErrors)
	}
}

func TestUploadCompletesWhileReevaluationRuns(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	log := readCase(t, "hand-cygwin-ssh-code23")
	if err := db.SaveUploads(ctx, uploadsOf(t, db, srv.ID, log, 3000)); err != nil {
		t.Fatal(err)
	}
	db.AddException(ctx, "t", "acme", "*.pst", "")
	started := make(chan struct{})
	done := make(chan reeval.Stats)
	var once bool
	go func() {
		st, err := reeval.Run(ctx, db, reeval.Options{BatchSize: 100, Reason: "bench", Progress: func(d, total int) {
			if !once {
				once = true
				close(started)
			}
		}})
		if err != nil {
			t.Error(err)
		}
		done <- st
	}()
	<-started
	id, err := db.SaveUpload(ctx, uploadOf(t, db, srv.ID, log, reevalNow))
	if err != nil {
		t.Fatalf("an upload during re-evaluation: %v", err)
	}
	select {
	case st := <-done:
		t.Logf("the re-evaluation ended before the upload was stored (%d results); nothing shown about overlap", st.Results)
	default:
		t.Logf("upload %d stored while the re-evaluation was still running", id)
		st := <-done
		t.Logf("re-evaluation: %+v", st)
	}
}

// TestCancelledReevaluationLeavesConsistentResults cancels a run after its
// first writes: it returns the cancellation, leaves no goroutine behind,
// and every result holds either its old judgment or its new one, whole. A
// second run finishes the work.
func TestCancelledReevaluationLeavesConsistentResults(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	log := readCase(t, "real-ssh-unreadable") // one failing file: */Mail/archive.pst
	if err := db.SaveUploads(ctx, uploadsOf(t, db, srv.ID, log, 3000)); err != nil {
		t.Fatal(err)
	}
	db.AddException(ctx, "t", "acme", "*archive.pst", "")
	before := runtime.NumGoroutine()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Once the first transaction (1,024 results, the newest first) is
	// committed, cancel; Progress holds the pipeline while it waits.
	_, err := reeval.Run(cctx, db, reeval.Options{BatchSize: 50, Reason: "t", Progress: func(done, total int) {
		if done < 1100 || cctx.Err() != nil {
			return
		}
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if rows, err := db.History(ctx, srv.ID, 1, 0); err == nil && len(rows) == 1 && rows[0].Status == "ok" {
				break
			}
		}
		cancel()
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run returned %v, want context.Canceled", err)
	}
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the cancelled run, %d before", n, before)
	}
	count := func() (ok, failed int) {
		t.Helper()
		rows, err := db.History(ctx, srv.ID, 5000, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			switch {
			case r.Status == "ok" && r.FileErrors == 0 && r.ExceptedErrors == 1:
				ok++
			case r.Status == "failed" && r.FileErrors == 1 && r.ExceptedErrors == 0:
				failed++
			default:
				t.Errorf("result %d is half judged: %s with %d failing and %d excepted", r.ID, r.Status, r.FileErrors, r.ExceptedErrors)
			}
		}
		return ok, failed
	}
	ok, failed := count()
	if ok == 0 || failed == 0 {
		t.Errorf("after the cancelled run: %d ok, %d failed; want some of each", ok, failed)
	}
	st, err := reeval.Run(ctx, db, reeval.Options{Reason: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Changed != failed {
		t.Errorf("second run changed %d, want the %d left", st.Changed, failed)
	}
	if ok, failed = count(); ok != 3000 || failed != 0 {
		t.Errorf("after the second run: %d ok, %d failed; want all 3000 ok", ok, failed)
	}
}

func TestImportCustomersAndServers(t *testing.T) {
	ctx := context.Background()
	db := openReevalDB(t)
	db.AddUser(ctx, "t", store.User{Username: "carol", Role: store.RoleCSR}, "a long password")
	db.AddCustomer(ctx, "t", store.Customer{Slug: "acme", Name: "Acme"})
	rows := []store.CustomerRow{
		{Line: 2, Slug: "ACME", Name: "Acme Accounting", CSR: "carol", Active: true},
		{Line: 3, Slug: "globex", Active: true},
	}
	changes, err := db.ImportCustomers(ctx, "cli:t", rows, true)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, c := range changes {
		got = append(got, c.Action+" "+c.Object)
	}
	if strings.Join(got, ";") != "update customer acme;add customer globex" {
		t.Errorf("dry-run changes = %v", got)
	}
	if _, err := db.CustomerBySlug(ctx, "globex"); err == nil {
		t.Error("the dry run added a customer")
	}
	if _, err := db.ImportCustomers(ctx, "cli:t", rows, false); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.CustomerBySlug(ctx, "acme"); c.Name != "Acme Accounting" || c.CSR != "carol" {
		t.Errorf("after import acme = %+v", c)
	}
	changes, _ = db.ImportCustomers(ctx, "cli:t", rows, true)
	if changes[0].Action != "unchanged" || changes[1].Action != "unchanged" {
		t.Errorf("a second import would change %+v", changes)
	}
	if _, err := db.ImportCustomers(ctx, "cli:t", []store.CustomerRow{{Line: 2, Slug: "x", CSR: "nobody"}}, false); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("an unknown CSR: err = %v, want one naming line 2", err)
	}

	mf, _ := store.ParseWeekdays("mon-fri")
	srows := []store.ServerRow{{Line: 2, Customer: "acme", Server: "fs01", ExpectDays: mf}, {Line: 3, Customer: "globex", Server: "dc01", ExpectDays: store.EveryDay, Retired: true}}
	if _, err := db.ImportServers(ctx, "cli:t", srows, false); err != nil {
		t.Fatal(err)
	}
	s, _ := db.ServerByName(ctx, "acme", "fs01")
	if store.WeekdayNames(s.ExpectDays) != "mon tue wed thu fri" || s.Pending {
		t.Errorf("fs01 expects %s, pending %v", store.WeekdayNames(s.ExpectDays), s.Pending)
	}
	if s, _ := db.ServerByName(ctx, "globex", "dc01"); !s.Retired {
		t.Error("dc01 is not retired")
	}
	if _, err := db.ImportServers(ctx, "cli:t", []store.ServerRow{{Line: 5, Customer: "nope", Server: "x", ExpectDays: store.EveryDay}}, false); err == nil {
		t.Error("a server of an unknown customer was imported")
	}
}

func TestParseWeekdays(t *testing.T) {
	for in, want := range map[string]string{"": "daily", "daily": "daily", "mon-fri": "mon tue wed thu fri", "Sat|Sun": "sat sun", "fri-mon": "mon fri sat sun", "monday, wednesday": "mon wed"} {
		m, err := store.ParseWeekdays(in)
		if err != nil || store.WeekdayNames(m) != want {
			t.Errorf("ParseWeekdays(%q) = %s, %v; want %s", in, store.WeekdayNames(m), err, want)
		}
	}
	if _, err := store.ParseWeekdays("funday"); err == nil {
		t.Error("funday parsed")
	}
}

func TestClaimsEndWhenTheServerIsOKAgain(t *testing.T) {
	ctx := context.Background()
	db := openReevalDB(t)
	u, _ := db.AddUser(ctx, "t", store.User{Username: "tom", Role: store.RoleTech}, "a long password")
	db.AddCustomer(ctx, "t", store.Customer{Slug: "acme"})
	srv, _ := db.AddServer(ctx, "t", "acme", "fs01", false)
	db.SaveUpload(ctx, uploadOf(t, db, srv.ID, readCase(t, "real-ssh-unreadable"), reevalNow.Add(-3*time.Hour)))
	db.Now = func() time.Time { return reevalNow.Add(-2 * time.Hour) }
	if _, err := db.AddNote(ctx, u.ID, srv.ID, store.NoteClaim, "on it"); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.Claims(ctx); c[srv.ID].Username != "tom" {
		t.Fatalf("claims = %+v", c)
	}
	db.SaveUpload(ctx, uploadOf(t, db, srv.ID, readCase(t, "real-success"), reevalNow.Add(-time.Hour)))
	if c, _ := db.Claims(ctx); len(c) != 0 {
		t.Errorf("the claim outlived the ok night: %+v", c)
	}
}

// TestReevaluationJudgesAServerAddedDuringTheRun: a server registered by
// its first upload while a run goes on gets its customer's exceptions.
func TestReevaluationJudgesAServerAddedDuringTheRun(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	db.AddException(ctx, "t", "acme", "*archive.pst", "")
	log := readCase(t, "real-ssh-unreadable")
	if err := db.SaveUploads(ctx, uploadsOf(t, db, srv.ID, log, 1000)); err != nil {
		t.Fatal(err)
	}
	var newID int64
	_, err := reeval.Run(ctx, db, reeval.Options{BatchSize: 20, Reason: "t", Progress: func(done, total int) {
		if newID != 0 {
			return
		}
		fs02, err := db.AddServer(ctx, "t", "acme", "fs02", false)
		if err != nil {
			t.Fatal(err)
		}
		if newID, err = db.SaveUpload(ctx, uploadOf(t, db, fs02.ID, log, reevalNow)); err != nil {
			t.Fatal(err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := db.Result(ctx, newID); r.Status != "ok" || r.ExceptedErrors != 1 {
		t.Errorf("the new server's upload is %s with %d excepted, want ok with its customer's exception", r.Status, r.ExceptedErrors)
	}
}

// TestReevaluationStartsAgainWhenTheExceptionsChange: an exception removed
// during a run that would link file errors to it: the run writes nothing
// judged by the old exceptions (nor fails on the link), and starts again.
func TestReevaluationStartsAgainWhenTheExceptionsChange(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	log := readCase(t, "real-ssh-unreadable")
	if err := db.SaveUploads(ctx, uploadsOf(t, db, srv.ID, log, 1000)); err != nil { // all failed
		t.Fatal(err)
	}
	ex, _ := db.AddException(ctx, "t", "acme", "*archive.pst", "")
	removed := false
	st, err := reeval.Run(ctx, db, reeval.Options{BatchSize: 20, Reason: "t", Progress: func(done, total int) {
		if !removed {
			removed = true
			if err := db.RemoveException(ctx, "t", ex.ID); err != nil {
				t.Fatal(err)
			}
		}
	}})
	if err != nil {
		t.Fatalf("run with an exception removed under it: %v", err)
	}
	if st.Updated != 0 || st.Changed != 0 {
		t.Errorf("stats %+v: something was written by the removed exception", st)
	}
	rows, _ := db.History(ctx, srv.ID, 2000, 0)
	for _, r := range rows {
		if r.Status != "failed" || r.ExceptedErrors != 0 {
			t.Fatalf("result %d is %s with %d excepted, judged by the removed exception", r.ID, r.Status, r.ExceptedErrors)
		}
	}
}

// TestAReusedExceptionIDRelinksFileErrors: SQLite may give a new
// exception the ID of one just removed; the file errors the removed one
// covered are compared again, not trusted to their digest.
func TestAReusedExceptionIDRelinksFileErrors(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	old, _ := db.AddException(ctx, "t", "acme", "*archive.pst", "")
	id, err := db.SaveUpload(ctx, uploadOf(t, db, srv.ID, readCase(t, "real-ssh-unreadable"), reevalNow.Add(-30*24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveException(ctx, "t", old.ID); err != nil {
		t.Fatal(err)
	}
	again, _ := db.AddException(ctx, "t", "acme", "*archive.pst", "")
	if again.ID != old.ID {
		t.Logf("the new exception got ID %d, not %d: the digest would have differed anyway", again.ID, old.ID)
	}
	if _, err := reeval.Run(ctx, db, reeval.Options{Reason: "t"}); err != nil {
		t.Fatal(err)
	}
	r, fes, _ := db.Result(ctx, id)
	if r.Status != "ok" || len(fes) != 1 || !fes[0].Excepted || fes[0].ExceptionID == nil || *fes[0].ExceptionID != again.ID {
		t.Errorf("result %s, file errors %+v: want ok, linked to exception %d", r.Status, fes, again.ID)
	}
}

// TestExceptionChangeReachesResultsWithoutTheirLog: a result whose raw log
// retention deleted still has its file errors, and an exception added
// afterwards applies to it (AfterExceptionChange judges from the stored
// file errors), as to one that kept its log.
func TestExceptionChangeReachesResultsWithoutTheirLog(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	log := readCase(t, "real-ssh-unreadable")
	pruned, _ := db.SaveUpload(ctx, uploadOf(t, db, srv.ID, log, reevalNow.Add(-48*time.Hour)))
	kept, _ := db.SaveUpload(ctx, uploadOf(t, db, srv.ID, log, reevalNow.Add(-2*time.Hour)))
	if st, err := db.PruneRawLogsBefore(ctx, reevalNow.Add(-24*time.Hour), store.PruneOptions{Pause: -1}); err != nil || st.Logs != 1 {
		t.Fatalf("prune: %+v, %v; want the older log deleted", st, err)
	}
	status := func(id int64) parser.Status {
		t.Helper()
		r, _, err := db.Result(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	if status(pruned) != parser.StatusFailed || status(kept) != parser.StatusFailed {
		t.Fatal("the unreadable file does not fail the uploads before the exception")
	}
	e, err := db.AddException(ctx, "web:alice", "global", "*/Mail/archive.pst", "copied by VSS")
	if err != nil {
		t.Fatal(err)
	}
	st, err := reeval.AfterExceptionChange(ctx, db, e, reevalNow, "web:alice", "exception added", nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Results != 2 || st.Changed != 2 || st.Bytes != 0 {
		t.Errorf("after the exception: %+v, want both results judged and changed, no log parsed", st)
	}
	if status(pruned) != parser.StatusOK || status(kept) != parser.StatusOK {
		t.Errorf("after the exception: pruned %s, kept %s; want both ok", status(pruned), status(kept))
	}
}
