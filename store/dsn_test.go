package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/backupreport/backupreport/store"
)

// A PostgreSQL URL is refused with a clear error, and no SQLite file named
// after it appears in the working directory.
func TestOpenRefusesPostgresURL(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, dsn := range []string{"postgres://u@127.0.0.1/db", "POSTGRESQL://u@127.0.0.1/db"} {
		db, err := store.Open(context.Background(), dsn)
		if !errors.Is(err, store.ErrPostgresUnsupported) {
			if db != nil {
				db.Close()
			}
			t.Fatalf("Open(%q) = %v, want ErrPostgresUnsupported", dsn, err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
		t.Fatalf("files created: %v", m)
	}
	if store.IsPostgresDSN(filepath.Join(dir, "backupreport.db")) {
		t.Fatal("a file path taken for a PostgreSQL URL")
	}
}
