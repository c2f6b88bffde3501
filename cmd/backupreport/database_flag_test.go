package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/pgtest"
)

// TestDatabaseFlagUsesPostgreSQL: with --database (or BACKUPREPORT_DATABASE)
// the admin commands work on that PostgreSQL database, and no SQLite file
// appears in the data folder.
func TestDatabaseFlagUsesPostgreSQL(t *testing.T) {
	url := pgtest.Start(t)
	dir := t.TempDir()
	run := func(env map[string]string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
		if code := a.main(context.Background(), args); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	run(nil, "customer", "add", "acme", "--data", dir, "--database", url)
	out := run(map[string]string{"BACKUPREPORT_DATABASE": url, "BACKUPREPORT_DATA": dir}, "customer", "list", "--json")
	if !strings.Contains(out, `"slug": "acme"`) {
		t.Errorf("customer added with --database is not listed with BACKUPREPORT_DATABASE: %s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, store.FileName)); err == nil {
		t.Errorf("a SQLite database was made in the data folder")
	}
}

// TestDatabaseFlagWantsAPostgresURL: --database is for PostgreSQL only; a
// file name there is refused, not opened as SQLite.
func TestDatabaseFlagWantsAPostgresURL(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := a.main(context.Background(), []string{"customer", "list", "--data", dir, "--database", filepath.Join(dir, "x.db")})
	if code == exitOK || !strings.Contains(errb.String(), "postgres://") {
		t.Errorf("exit %d, stderr %q; want a failure naming postgres://", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err == nil {
		t.Errorf("x.db was created")
	}
}
