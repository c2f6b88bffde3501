package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// The helpers of the tests that store real logs (shared with
// store/reeval's tests, which keep their own copy).

var reevalNow = time.Date(2026, 3, 20, 8, 30, 0, 0, time.UTC)

func openReevalDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.DSNForTest(t))
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
	b, err := os.ReadFile(filepath.Join("..", "testdata", "rsync", name, "stats.out"))
	if err != nil {
		t.Fatal(err)
	}
	return b
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
