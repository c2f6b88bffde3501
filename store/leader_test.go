package store

import (
	"context"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store/pgtest"
)

// On SQLite the one process always leads.
func TestSQLiteAlwaysLeads(t *testing.T) {
	SkipOnPostgres(t, "SQLite's lead")
	db := openTest(t)
	l, err := db.AwaitLead(context.Background(), time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Lost:
		t.Fatal("the lead was lost")
	default:
	}
	l.Release()
}

// Two nodes on one PostgreSQL database: one leads, the other waits; when
// the leader releases, or its session is killed (as when its process dies),
// the other takes over.
func TestOneNodeLeadsOnPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	open := func() *DB {
		t.Helper()
		db, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	const retry = 50 * time.Millisecond
	la, err := a.AwaitLead(ctx, retry, func(err error) { t.Logf("a: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	waiting, cancel := context.WithTimeout(ctx, 5*retry)
	if _, err := b.AwaitLead(waiting, retry, nil); err == nil {
		t.Fatal("b leads while a does")
	}
	cancel()

	got := make(chan *Lead, 1)
	go func() {
		l, err := b.AwaitLead(ctx, retry, nil)
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	la.Release()
	var lb *Lead
	select {
	case lb = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("b did not take over after a released")
	}

	// b's session dies: b hears it, and a takes over.
	if _, err := a.db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lb.Lost:
	case <-time.After(10 * time.Second):
		t.Fatal("b never heard that its session died")
	}
	again, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	la, err = a.AwaitLead(again, retry, nil)
	if err != nil {
		t.Fatalf("a did not take over from the dead b: %v", err)
	}
	la.Release()
	lb.Release()
}
