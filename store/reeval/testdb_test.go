package reeval_test

import (
	"path/filepath"
	"testing"

	"github.com/backupreport/backupreport/store/pgtest"
)

// TestMain stops the PostgreSQL cluster the tests shared, if any.
func TestMain(m *testing.M) { pgtest.Main(m) }

// dsnForTest is where a test's database goes: a SQLite file, or with
// BACKUPREPORT_TEST_DATABASE=postgres a fresh PostgreSQL database (as
// store's DSNForTest).
func dsnForTest(t testing.TB) string {
	t.Helper()
	if pgtest.Wanted() {
		return pgtest.Database(t)
	}
	return filepath.Join(t.TempDir(), "t.db")
}
