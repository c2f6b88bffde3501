package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store/pgtest"
)

// TestFailedGroupWriteLeavesNoTransactionOpen: a group commit runs its
// transaction by hand on a pooled connection (see runGroup). A write that
// fails is rolled back, and its connection goes back to the pool outside
// any transaction: the next group commits only its own write, and another
// handle on the same database (the command line beside serve) can write at
// once.
func TestFailedGroupWriteLeavesNoTransactionOpen(t *testing.T) {
	ctx := context.Background()
	dsn := DSNForTest(t)
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE scratch (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	insert := func(x int, fail error) error {
		return db.groupTx(ctx, func(ctx context.Context, tx txn) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO scratch (x) VALUES (?)`, x); err != nil {
				return err
			}
			return fail
		})
	}
	boom := errors.New("boom")
	if err := insert(1, boom); !errors.Is(err, boom) {
		t.Fatalf("failing write: %v, want boom", err)
	}
	if err := insert(2, nil); err != nil {
		t.Fatalf("the write after it: %v", err)
	}

	var other *DB
	if pgtest.Wanted() {
		other, err = Open(ctx, dsn)
	} else {
		// A transaction left open would hold SQLite's write lock: with a
		// short busy timeout, this handle's write would fail.
		other, err = open(ctx, dsn, 200*time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.db.ExecContext(ctx, `INSERT INTO scratch (x) VALUES (3)`); err != nil {
		t.Fatalf("another handle's write: %v (a transaction left open?)", err)
	}
	var got []int
	rows, err := other.db.QueryContext(ctx, `SELECT x FROM scratch ORDER BY x`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var x int
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		got = append(got, x)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Errorf("rows %v, want [2 3]: the failed write rolled back, the others committed", got)
	}
}
