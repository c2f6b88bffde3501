package store

import (
	"path/filepath"
	"testing"

	"github.com/backupreport/backupreport/store/pgtest"
)

// TestMain stops the PostgreSQL cluster the tests shared, if they ran on
// PostgreSQL (see DSNForTest).
func TestMain(m *testing.M) { pgtest.Main(m) }

// DSNForTest is where a test's database goes: a file in its temporary
// folder, or with BACKUPREPORT_TEST_DATABASE=postgres a fresh database on
// a PostgreSQL cluster the package's tests share (store/pgtest). Opening
// it twice opens the same database. Exported for store_test's tests.
func DSNForTest(t testing.TB) string {
	t.Helper()
	if pgtest.Wanted() {
		return pgtest.Database(t)
	}
	return filepath.Join(t.TempDir(), "t.db")
}

// SkipOnPostgres skips a test of what only SQLite has (its files,
// pragmas, query plans) when the tests run on PostgreSQL.
func SkipOnPostgres(t testing.TB, why string) {
	t.Helper()
	if pgtest.Wanted() {
		t.Skip("SQLite only: " + why)
	}
}
