package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"
)

// scheduleLock is the PostgreSQL advisory lock key of the schedule (the
// missing check, e-mails, webhooks, retention): "brsched" in ASCII.
const scheduleLock int64 = 0x62727363686564

// Lead is one process's turn at running the schedule: on SQLite, always
// (one process owns the file); on PostgreSQL, while it holds the
// schedule's advisory lock on a connection of its own. Lost is closed when
// the turn ends without Release: the connection broke, so PostgreSQL has
// released the lock and another node may take it.
type Lead struct {
	Lost    <-chan struct{}
	release func()
}

// Release ends the turn, letting another node lead.
func (l *Lead) Release() { l.release() }

// AwaitLead returns once this process leads the schedule, trying every
// retry, or with ctx's error when ctx ends first. On PostgreSQL the node
// that holds the lock checks its connection every retry too, so a node
// that dies (even by kill -9: PostgreSQL ends its session) is followed by
// another within about two retries.
// warn, if set, hears of database errors while trying or holding.
func (db *DB) AwaitLead(ctx context.Context, retry time.Duration, warn func(error)) (*Lead, error) {
	if warn == nil {
		warn = func(error) {}
	}
	if db.dialect != postgresDialect {
		never := make(chan struct{})
		return &Lead{Lost: never, release: func() {}}, nil
	}
	for {
		conn, got, err := db.tryLock(ctx)
		if err == nil && got {
			return hold(conn, retry, warn), nil
		}
		if err != nil && ctx.Err() == nil {
			warn(err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(retry):
		}
	}
}

// tryLock takes a connection and tries the lock on it; the connection is
// kept only when the lock was got.
func (db *DB) tryLock(ctx context.Context) (*sql.Conn, bool, error) {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("schedule lock: %w", err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(?)`, scheduleLock).Scan(&got); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("schedule lock: %w", err)
	}
	if !got {
		conn.Close()
	}
	return conn, got, nil
}

// hold watches the locked connection until Release or until it fails.
func hold(conn *sql.Conn, every time.Duration, warn func(error)) *Lead {
	lost, stop, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				conn.ExecContext(ctx, `SELECT pg_advisory_unlock(?)`, scheduleLock)
				cancel()
				conn.Close()
				return
			case <-t.C:
				// A slow answer is not a lost session: only a failed one.
				ctx, cancel := context.WithTimeout(context.Background(), max(every, 10*time.Second))
				err := ping(ctx, conn)
				cancel()
				if err != nil {
					warn(fmt.Errorf("schedule lock connection: %w", err))
					conn.Close()
					close(lost)
					return
				}
			}
		}
	}()
	var once sync.Once
	return &Lead{Lost: lost, release: func() {
		once.Do(func() {
			select {
			case <-lost: // already gone
			default:
				close(stop)
			}
			<-done
		})
	}}
}

// ping checks the lock's connection with pgx's own ping, whose error says
// why (database/sql's says only "bad connection").
func ping(ctx context.Context, conn *sql.Conn) error {
	return conn.Raw(func(dc any) error {
		if c, ok := dc.(rebindConn); ok {
			return c.Conn.Conn().Ping(ctx)
		}
		if p, ok := dc.(driver.Pinger); ok {
			return p.Ping(ctx)
		}
		return nil
	})
}
