package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store/names"
)

// storedBeforeTheRule renames a customer or server the way the old rules
// let anyone name it, below the naming rule, as data from before it is.
func storedBeforeTheRule(t *testing.T, db *DB, table, from, to string) {
	t.Helper()
	col := map[string]string{"customers": "slug", "servers": "name"}[table]
	res, err := db.db.Exec(`UPDATE `+table+` SET `+col+` = ? WHERE `+col+` = ?`, to, from)
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("rename %s %q to %q: %v (%d rows)", table, from, to, err, n)
	}
}

func TestNewNamesFollowTheRule(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if _, err := db.AddCustomer(ctx, "t", Customer{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	acme, _ := db.CustomerBySlug(ctx, "acme")
	if _, err := db.AddServer(ctx, "t", "acme", "fs01", false); err != nil {
		t.Fatal(err)
	}
	fs01, _ := db.ServerByName(ctx, "acme", "fs01")
	for _, c := range []struct {
		why  string
		add  func(name string) error
		kind names.Kind
	}{
		{"customer add", func(n string) error { _, err := db.AddCustomer(ctx, "t", Customer{Slug: n}); return err }, names.Customer},
		{"server add", func(n string) error { _, err := db.AddServer(ctx, "t", "acme", n, false); return err }, names.Server},
		{"an upload registering a server", func(n string) error { _, _, err := db.uploadServer(ctx, acme.ID, n, true); return err }, names.Server},
		{"an upload naming an unknown server without auto-registration", func(n string) error {
			_, _, err := db.uploadServer(ctx, acme.ID, n, false)
			return err
		}, names.Server},
		{"a rename", func(n string) error {
			s := fs01
			s.Name = n
			return db.UpdateServer(ctx, "t", s)
		}, names.Server},
		{"a customers import", func(n string) error {
			_, err := db.ImportCustomers(ctx, "t", []CustomerRow{{Line: 2, Slug: n, Active: true}}, false)
			return err
		}, names.Customer},
		{"a servers import", func(n string) error {
			_, err := db.ImportServers(ctx, "t", []ServerRow{{Line: 2, Customer: "acme", Server: n, ExpectDays: EveryDay}}, false)
			return err
		}, names.Server},
	} {
		for _, bad := range []struct{ why, name string }{
			{"a division slash", "fs\u221502"},
			{"a fullwidth solidus", "fs\uFF0F02"},
			{"a zero-width space", "fs\u200B02"},
			{"a Cyrillic letter among Latin ones", "f\u045502"},
		} {
			t.Run(c.why+" refuses "+bad.why, func(t *testing.T) {
				err := c.add(bad.name)
				var ne *names.Error
				if !errors.As(err, &ne) || ne.Kind != c.kind {
					t.Fatalf("got %v, want a *names.Error for a %s", err, c.kind)
				}
			})
		}
	}
	ss, _ := db.Servers(ctx)
	cs, _ := db.Customers(ctx)
	if len(ss) != 1 || len(cs) != 1 || ss[0].Name != "fs01" {
		t.Errorf("refused names left servers %+v and customers %+v", ss, cs)
	}

	t.Run("a decomposed name is stored in NFC and found in either form", func(t *testing.T) {
		s, err := db.AddServer(ctx, "t", "acme", "Bu\u0308ro", false)
		if err != nil || s.Name != "Büro" {
			t.Fatalf("AddServer: %+v, %v; want the name Büro in NFC", s, err)
		}
		if got, created, err := db.uploadServer(ctx, acme.ID, "Bu\u0308ro", true); err != nil || created || got.ID != s.ID {
			t.Errorf("an upload with the decomposed name: %+v created %v, %v; want server %d", got, created, err, s.ID)
		}
		if got, err := db.ServerByName(ctx, "acme", "Bu\u0308ro"); err != nil || got.ID != s.ID {
			t.Errorf("ServerByName with the decomposed name: %+v, %v", got, err)
		}
		if _, err := db.AddServer(ctx, "t", "acme", "Büro", false); !errors.Is(err, ErrConflict) {
			t.Errorf("the same name in NFC again: %v, want ErrConflict", err)
		}
	})
	t.Run("a rename to a good name works", func(t *testing.T) {
		s := fs01
		s.Name = "fs-01"
		if err := db.UpdateServer(ctx, "t", s); err != nil {
			t.Fatal(err)
		}
		s.Name = "fs01"
		if err := db.UpdateServer(ctx, "t", s); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNamesStoredBeforeTheRuleKeepWorking(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if _, err := db.AddCustomer(ctx, "t", Customer{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddServer(ctx, "t", "acme", "fs01", true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddServer(ctx, "t", "acme", "nas", false); err != nil {
		t.Fatal(err)
	}
	const oldCustomer, oldServer, oldNFD = "acme\u2215eu", "fs\u221501", "Bu\u0308ro"
	storedBeforeTheRule(t, db, "customers", "acme", oldCustomer)
	storedBeforeTheRule(t, db, "servers", "fs01", oldServer)
	storedBeforeTheRule(t, db, "servers", "nas", oldNFD)
	cust, err := db.CustomerBySlug(ctx, strings.ToUpper(oldCustomer))
	if err != nil {
		t.Fatalf("the customer is not found by its old slug: %v", err)
	}

	t.Run("an upload finds the server by its old name, with auto-registration or without", func(t *testing.T) {
		for _, auto := range []bool{true, false} {
			s, created, err := db.uploadServer(ctx, cust.ID, "FS\u221501", auto)
			if err != nil || created || s.Name != oldServer {
				t.Errorf("auto-register %v: %+v created %v, %v", auto, s, created, err)
			}
		}
	})
	t.Run("an upload stores a result for it", func(t *testing.T) {
		s, _ := db.ServerByName(ctx, oldCustomer, oldServer)
		at := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
		if _, err := db.SaveUpload(ctx, Upload{ServerID: s.ID, ReceivedAt: at, Night: NightOf(at, time.UTC), Source: SourceUpload,
			Result: &parser.Result{Code: 0, Status: parser.StatusOK, FileErrors: []parser.FileError{}}}); err != nil {
			t.Fatal(err)
		}
		if n, err := db.CountResults(ctx, s.ID); err != nil || n != 1 {
			t.Errorf("%d results, %v; want 1", n, err)
		}
	})
	t.Run("a server stored decomposed is found as it was stored", func(t *testing.T) {
		if s, created, err := db.uploadServer(ctx, cust.ID, oldNFD, false); err != nil || created || s.Name != oldNFD {
			t.Errorf("%+v created %v, %v", s, created, err)
		}
	})
	t.Run("it can be approved, retired and rescheduled under its old name", func(t *testing.T) {
		s, _ := db.ServerByName(ctx, oldCustomer, oldServer)
		s.Pending, s.Retired, s.ExpectDays = false, true, 0x3e
		if err := db.UpdateServer(ctx, "t", s); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.ServerByID(ctx, s.ID); got.Pending || !got.Retired || got.ExpectDays != 0x3e || got.Name != oldServer {
			t.Errorf("after the update: %+v", got)
		}
	})
	t.Run("imports update it under its old name", func(t *testing.T) {
		ch, err := db.ImportCustomers(ctx, "t", []CustomerRow{{Line: 2, Slug: oldCustomer, Name: "Acme Europe", Active: true}}, false)
		if err != nil || len(ch) != 1 || ch[0].Action != "update" {
			t.Errorf("customers import: %+v, %v", ch, err)
		}
		ch, err = db.ImportServers(ctx, "t", []ServerRow{{Line: 2, Customer: oldCustomer, Server: oldServer, ExpectDays: EveryDay}}, false)
		if err != nil || len(ch) != 1 || ch[0].Action != "update" {
			t.Errorf("servers import: %+v, %v", ch, err)
		}
	})
	t.Run("a new server of the old customer still needs a good name", func(t *testing.T) {
		if _, err := db.AddServer(ctx, "t", oldCustomer, "dc01", false); err != nil {
			t.Errorf("a good name under the old customer: %v", err)
		}
		var ne *names.Error
		if _, _, err := db.uploadServer(ctx, cust.ID, "dc\u221502", true); !errors.As(err, &ne) {
			t.Errorf("a look-alike new name: %v, want a *names.Error", err)
		}
	})
}

// uploadServer does what an upload does to find or register its server:
// a known server by its name as stored; an unknown name must pass the
// rule, and is registered with a first result when auto is set.
func (db *DB) uploadServer(ctx context.Context, customerID int64, name string, auto bool) (Server, bool, error) {
	s, err := db.ServerOfCustomer(ctx, customerID, name)
	if !errors.Is(err, ErrNotFound) {
		return s, false, err
	}
	if err := names.Check(names.Server, names.Normalize(name)); err != nil {
		return Server{}, false, err
	}
	if !auto {
		return Server{}, false, err
	}
	saved, err := db.StoreUpload(ctx, Upload{Register: &NewServer{CustomerID: customerID, Name: name}, ReceivedAt: db.Now(), Night: "2026-01-01",
		Source: SourceUpload, Protocol: "exec"})
	return saved.Server, saved.Registered, err
}
