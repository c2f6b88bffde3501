package store

import (
	"context"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
)

func TestNightCountsAndNightResults(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.AddCustomer(ctx, "t", Customer{Slug: "acme"})
	s, _ := db.AddServer(ctx, "t", "acme", "exch01", false)
	save := func(at time.Time, status parser.Status, code int, src string) {
		t.Helper()
		_, err := db.SaveUpload(ctx, Upload{ServerID: s.ID, ReceivedAt: at, Night: NightOf(at, time.UTC), Source: src,
			Result: &parser.Result{Code: code, Status: status, FileErrors: []parser.FileError{}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	save(day(2, 3), parser.StatusOK, 0, SourceUpload)      // night 03-01 ok
	save(day(3, 3), parser.StatusFailed, 23, SourceUpload) // night 03-02 failed...
	save(day(3, 9), parser.StatusOK, 0, SourceUpload)      // ...then rerun ok: the night counts ok
	save(day(4, 3), parser.StatusFailed, 255, SourceUpload)
	save(day(5, 3), parser.StatusFailed, -2, SourceMissing)

	got, err := db.NightCounts(ctx, "2026-03-01", "2026-03-04", day(1, 0), day(6, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].OK != 2 || got[0].Failed != 1 || got[0].MissingRows != 1 {
		t.Fatalf("NightCounts = %+v, want ok 2, failed 1, missing 1", got)
	}
	nights, err := db.NightResults(ctx, s.ID, day(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(nights) != 4 || nights[1].Night != "2026-03-02" || nights[1].Status != "ok" {
		t.Fatalf("NightResults = %+v, want 4 nights with 03-02 ok (the rerun)", nights)
	}
}

func TestCodeInfoPrefersStaffEdits(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if c, _ := db.CodeInfo(ctx, 23); c.Name != parser.LookupCode(23).Name {
		t.Errorf("CodeInfo(23) = %+v, want the built-in entry", c)
	}
	db.db.Exec(`INSERT INTO codes (code, name, meaning, action, updated_at) VALUES (23, 'partial', 'Some files.', 'Call the customer.', 'x')`)
	if c, _ := db.CodeInfo(ctx, 23); c.Action != "Call the customer." {
		t.Errorf("CodeInfo(23) = %+v, want the staff-edited action", c)
	}
	table, _ := db.CodeTable(ctx)
	if table.Lookup(23).Name != "partial" || table.Lookup(0).Name == "" || table.Lookup(77).Name != "unknown code" {
		t.Errorf("CodeTable: 23 = %+v, 0 = %+v, 77 = %+v", table.Lookup(23), table.Lookup(0), table.Lookup(77))
	}
	if all := table.All(); len(all) != len(parser.Codes()) || all[0].Code != -2 {
		t.Errorf("CodeTable.All: %d codes from %d, want the built-in ones sorted with the edit", len(all), all[0].Code)
	}
}

func TestClaimsShowOnlyOpenClaims(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.AddCustomer(ctx, "t", Customer{Slug: "acme"})
	s1, _ := db.AddServer(ctx, "t", "acme", "a", false)
	s2, _ := db.AddServer(ctx, "t", "acme", "b", false)
	u, _ := db.AddUser(ctx, "t", User{Username: "eve", Role: RoleTech}, "long enough pw")
	db.AddNote(ctx, u.ID, s1.ID, NoteClaim, "looking")
	db.AddNote(ctx, u.ID, s2.ID, NoteClaim, "")
	db.AddNote(ctx, u.ID, s2.ID, NoteResolved, "fixed")
	c, err := db.Claims(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 1 || c[s1.ID].Username != "eve" {
		t.Errorf("Claims = %+v, want only server a claimed by eve", c)
	}
}

func TestDataKind(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if k, _ := db.DataKind(ctx); k != DataEmpty {
		t.Errorf("fresh database: %v, want DataEmpty", k)
	}
	db.AddCustomer(ctx, "t", Customer{Slug: "demo-co", Demo: true})
	if k, _ := db.DataKind(ctx); k != DataDemo {
		t.Errorf("demo customer: %v, want DataDemo", k)
	}
	db.AddCustomer(ctx, "t", Customer{Slug: "real-co"})
	if k, _ := db.DataKind(ctx); k != DataReal {
		t.Errorf("real customer: %v, want DataReal", k)
	}
}
