package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), DSNForTest(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenTwiceKeepsDataAndMigratesOnce(t *testing.T) {
	ctx := context.Background()
	path := DSNForTest(t)
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddCustomer(ctx, "test", Customer{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if _, err := db.CustomerBySlug(ctx, "ACME"); err != nil {
		t.Fatalf("customer lost after reopen: %v", err)
	}
	var mode string
	db.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	if mode != "wal" && db.dialect == sqliteDialect {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

func TestNamesAreUniqueIgnoringCase(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if _, err := db.AddCustomer(ctx, "t", Customer{Slug: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddCustomer(ctx, "t", Customer{Slug: "acme"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate customer: got %v, want ErrConflict", err)
	}
	if _, err := db.AddServer(ctx, "t", "acme", "EXCH01", false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddServer(ctx, "t", "ACME", "exch01", false); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate server: got %v, want ErrConflict", err)
	}
	if _, err := db.AddServer(ctx, "t", "nobody", "x", false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("server of unknown customer: got %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"", "..", "a/b", "a\x00b", "tab\there"} {
		if _, err := db.AddServer(ctx, "t", "acme", bad, false); err == nil {
			t.Errorf("AddServer(%q) succeeded, want an error", bad)
		}
	}
}

func TestStatusShowsLatestResultOrMissing(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	db.AddCustomer(ctx, "t", Customer{Slug: "acme"})
	s1, _ := db.AddServer(ctx, "t", "acme", "fresh", false)
	s2, _ := db.AddServer(ctx, "t", "acme", "stale", false)
	db.AddServer(ctx, "t", "acme", "never", false)
	ex, err := db.AddException(ctx, "t", "acme", "*.pst", "")
	if err != nil {
		t.Fatal(err)
	}
	res := &parser.Result{Code: 23, FileErrors: []parser.FileError{
		{Line: 3, Kind: parser.KindOpenFailed, Path: "/x/mail.pst"},
		{Line: 4, Kind: parser.KindOpenFailed, Path: "/x/book.qbw"},
	}}
	res.Apply([]string{"*.pst"})
	save := func(s Server, at time.Time, r *parser.Result) int64 {
		id, err := db.SaveUpload(ctx, Upload{ServerID: s.ID, ReceivedAt: at, Night: NightOf(at, time.UTC), Source: SourceUpload, Result: r,
			Exceptions: []Exception{ex}, Log: RawLog{Data: []byte{1}, Compression: CompressionS2, OriginalBytes: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	save(s1, now.Add(-30*time.Hour), &parser.Result{Code: 0, Status: parser.StatusOK})
	id := save(s1, now.Add(-2*time.Hour), res)
	save(s2, now.Add(-25*time.Hour), &parser.Result{Code: 0, Status: parser.StatusOK})

	rows, err := db.Status(ctx, now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]StatusRow{}
	for _, r := range rows {
		got[r.Server] = r
	}
	if r := got["fresh"]; r.Status != "failed" || r.Code != 23 || r.FileErrors != 1 || r.ExceptedErrors != 1 || *r.ResultID != id {
		t.Errorf("fresh = %+v, want failed 23 with 1+1 errors", r)
	}
	for _, name := range []string{"stale", "never"} {
		if r := got[name]; r.Status != "missing" || r.Code != -2 || r.ReceivedAt != nil {
			t.Errorf("%s = %+v, want missing -2", name, r)
		}
	}
	_, fes, err := db.Result(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(fes) != 2 || !fes[0].Excepted || fes[0].Exception != "*.pst" || fes[1].Excepted {
		t.Errorf("file errors = %+v", fes)
	}
	exs, _ := db.ExceptionsFor(ctx, s1.ID)
	if len(exs) != 1 || exs[0].LastMatchedAt == nil {
		t.Errorf("exception not marked matched: %+v", exs)
	}
}

func TestEveryChangeIsAudited(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.AddCustomer(ctx, "alice", Customer{Slug: "acme"})
	db.AddServer(ctx, "alice", "acme", "s", false)
	e, _ := db.AddException(ctx, "bob", "acme/s", "*.pst", "backed up by VSS")
	db.RemoveException(ctx, "bob", e.ID)
	entries, err := db.Audit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Actor+":"+e.Action)
	}
	want := []string{"bob:exception.remove", "bob:exception.add", "alice:server.add", "alice:customer.add"}
	if len(actions) != len(want) {
		t.Fatalf("audit = %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Errorf("audit[%d] = %s, want %s", i, actions[i], want[i])
		}
	}
}

// TestNightFollowsTheLocalClock: a night ends at noon on the local clock,
// also on the days the clocks change.
func TestNightFollowsTheLocalClock(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data")
	}
	for _, c := range []struct {
		at   string
		want Night
	}{
		{"2026-11-26T01:30:00+01:00", "2026-11-25"},
		{"2026-11-26T11:59:00+01:00", "2026-11-25"},
		{"2026-11-26T12:00:00+01:00", "2026-11-26"},
		{"2026-03-29T12:30:00+02:00", "2026-03-29"}, // clocks went forward that night
		{"2026-10-25T11:30:00+01:00", "2026-10-24"}, // clocks went back that night
	} {
		at, _ := time.Parse(time.RFC3339, c.at)
		if got := NightOf(at, berlin); got != c.want {
			t.Errorf("Night(%s) = %s, want %s", c.at, got, c.want)
		}
	}
}

// TestExceptionAddedDuringAnUploadApplies: an upload judged with the
// exceptions of its start still honours one added before it commits.
func TestExceptionAddedDuringAnUploadApplies(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.AddCustomer(ctx, "t", Customer{Slug: "acme"})
	s, _ := db.AddServer(ctx, "t", "acme", "s", false)
	res := &parser.Result{Code: 23, FileErrors: []parser.FileError{{Line: 1, Kind: parser.KindOpenFailed, Path: "/x/mail.pst"}}}
	atStart, _ := db.ExceptionsFor(ctx, s.ID) // none yet
	res.Apply(Patterns(atStart))
	ex, _ := db.AddException(ctx, "t", "acme/s", "*.pst", "added while the upload streamed")
	at := db.Now()
	id, err := db.SaveUpload(ctx, Upload{ServerID: s.ID, ReceivedAt: at, Night: NightOf(at, time.UTC), Source: SourceUpload, Result: res, Exceptions: atStart})
	if err != nil {
		t.Fatal(err)
	}
	r, fes, _ := db.Result(ctx, id)
	if r.Status != "ok" || r.ExceptedErrors != 1 || len(fes) != 1 || fes[0].ExceptionID == nil || *fes[0].ExceptionID != ex.ID {
		t.Errorf("stored %+v %+v, want ok with the new exception applied", r, fes)
	}
}
