package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backupreport/backupreport/store"
)

// A PostgreSQL URL is opened as PostgreSQL, never taken for a file name:
// with no server listening, Open fails and no SQLite file named after the
// URL appears in the working directory.
func TestOpenTakesPostgresURL(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, dsn := range []string{"postgres://u@127.0.0.1:1/db?connect_timeout=5", "POSTGRESQL://u:secret@127.0.0.1:1/db?connect_timeout=5"} {
		if !store.IsPostgresDSN(dsn) {
			t.Errorf("IsPostgresDSN(%q) = false", dsn)
		}
		db, err := store.Open(context.Background(), dsn)
		if err == nil {
			db.Close()
			t.Fatalf("Open(%q) succeeded with no server", dsn)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) error shows the password: %v", dsn, err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
		t.Fatalf("files created: %v", m)
	}
	if store.IsPostgresDSN(filepath.Join(dir, "backupreport.db")) {
		t.Fatal("a file path taken for a PostgreSQL URL")
	}
}
