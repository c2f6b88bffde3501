package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
)

// maxGroup bounds how many writes one group commit holds: the rest wait
// for the next one.
const maxGroup = 128

// txn is what a write needs of its transaction: a *sql.Tx, or the
// connection on which a group commit runs its transaction by hand (see
// runGroup).
type txn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// groupWrite is one write waiting for a group commit.
type groupWrite struct {
	fn   func(ctx context.Context, tx txn) error
	ctx  context.Context // the writer's, without its cancellation
	done chan error      // buffered: the leader never waits for the writer
}

// group is the queue of writes waiting for a group commit (see groupTx).
type group struct {
	mu    sync.Mutex
	queue []*groupWrite
}

// groupTx runs fn in a transaction shared with other writes that wait at the
// same time, and returns once the transaction that holds it committed (or
// failed): one fsync for many uploads, and durability unchanged, since no
// caller returns nil before its commit. Whichever waiting writer gets the
// write lock leads: it takes up to maxGroup queued writes, runs each inside
// a SAVEPOINT (a failing write is rolled back alone and gets its own error;
// the others still commit), commits, and hands every writer its result. fn
// runs exactly once, possibly in another writer's goroutine.
//
// ctx bounds the wait for the write lock; fn gets its values without its
// cancellation, for statements that take microseconds: once the
// transaction holds a write it finishes it, and the SQLite driver would
// watch a cancellable context with a goroutine per statement, a dozen
// per upload.
func (db *DB) groupTx(ctx context.Context, fn func(ctx context.Context, tx txn) error) error {
	w := &groupWrite{fn: fn, ctx: context.WithoutCancel(ctx), done: make(chan error, 1)}
	db.group.mu.Lock()
	db.group.queue = append(db.group.queue, w)
	db.group.mu.Unlock()
	for {
		select {
		case err := <-w.done:
			return err
		case db.wlock <- struct{}{}:
			db.group.mu.Lock()
			n := min(len(db.group.queue), maxGroup)
			batch := db.group.queue[:n:n]
			db.group.queue = db.group.queue[n:]
			db.group.mu.Unlock()
			if n > 0 {
				db.runGroup(ctx, batch)
			}
			<-db.wlock
		case <-ctx.Done():
			db.group.mu.Lock()
			for i, q := range db.group.queue {
				if q == w { // not taken by a leader yet: give up
					db.group.queue = append(db.group.queue[:i], db.group.queue[i+1:]...)
					db.group.mu.Unlock()
					return fmt.Errorf("wait for the write lock: %w", ctx.Err())
				}
			}
			db.group.mu.Unlock()
			return <-w.done // a leader holds it: its commit decides
		}
	}
}

// runGroup runs a batch of writes in one transaction; the caller holds
// db.wlock. Every write's done gets exactly one value.
//
// The transaction is run by hand (BEGIN, COMMIT) on a connection of the
// pool, not through sql.Tx: database/sql starts a goroutine for every
// sql.Tx, and one for every query run inside it, to watch a context that
// is never cancelled here. That was 4 of the 17 goroutines an upload
// started. The connection goes back to the pool only outside a
// transaction: a failed write is rolled back, and a connection whose
// rollback fails is closed instead.
func (db *DB) runGroup(ctx context.Context, batch []*groupWrite) {
	ctx = context.WithoutCancel(ctx) // others' writes must not fail with the leader's client
	errs := make([]error, len(batch))
	fail := func(err error) {
		for _, w := range batch {
			w.done <- err
		}
	}
	conn, err := db.db.Conn(ctx)
	if err != nil {
		fail(mapErr(err))
		return
	}
	for attempt := 0; ; attempt++ {
		_, err = conn.ExecContext(ctx, db.dialect.beginWrite())
		if err == nil || !isBusy(err) || attempt == busyRetries {
			break
		}
	}
	if err != nil {
		conn.Close()
		fail(mapErr(err))
		return
	}
	inTransaction := true
	defer func() {
		if inTransaction {
			if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
				// Never back to the pool inside a transaction.
				conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}
		conn.Close()
	}()
	if len(batch) == 1 {
		errs[0] = batch[0].fn(batch[0].ctx, conn)
		if errs[0] != nil {
			fail(mapErr(errs[0]))
			return
		}
	} else {
		for i, w := range batch {
			if _, err := conn.ExecContext(ctx, `SAVEPOINT group_write`); err != nil {
				fail(mapErr(err))
				return
			}
			if errs[i] = w.fn(w.ctx, conn); errs[i] != nil {
				if _, err := conn.ExecContext(ctx, `ROLLBACK TO SAVEPOINT group_write`); err != nil {
					fail(mapErr(err))
					return
				}
			}
			if _, err := conn.ExecContext(ctx, `RELEASE SAVEPOINT group_write`); err != nil {
				fail(mapErr(err))
				return
			}
		}
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		fail(mapErr(err))
		return
	}
	inTransaction = false
	for i, w := range batch {
		w.done <- mapErr(errs[i])
	}
}
