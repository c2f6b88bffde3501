package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/backupreport/backupreport/store/logkey"
)

// Scopes of SharedCounts, as stored and as metric labels.
const (
	ScopeSSHBan       = "ssh_ban"       // ban score points, by address
	ScopeLoginPair    = "login_pair"    // wrong passwords, by username and address
	ScopeLoginAddress = "login_address" // wrong passwords, by address
)

// SharedCounts is one scope of counts (failed logins by address, say)
// that every node on the database sees. A node counts in memory first:
// its own limits decide on its own counts at once, plus the others' as
// of the last Sync. Sync writes the node's new counts to limit_counts,
// one row per subject, node and second, and reads back what the other
// nodes (and this node's earlier runs) counted within the window. So a
// limit holds across nodes with a lag of one sync interval, and a
// restart does not forget it.
//
// The database sees one write per sync with something to write, never
// one per event: a flood of failures costs memory bounded by max and one
// transaction every interval. Safe for concurrent use.
type SharedCounts struct {
	db     *DB
	scope  string
	node   string
	window time.Duration
	max    int

	mu      sync.Mutex
	pending map[pendingCount]int64
	others  map[string]Count

	purgedAt time.Time // of the last delete of old rows

	syncs, failures, dropped atomic.Int64
}

type pendingCount struct {
	subject string
	bucket  int64
}

// Count is what the other nodes counted for one subject within the
// window: the sum, and the second of the latest count.
type Count struct {
	N    int
	Last time.Time
}

// SharedCounts returns the shared counts of scope as node (host:pid)
// sees them: counts older than window are forgotten, and at most max
// subjects are held (pending and read back, each).
func (db *DB) SharedCounts(scope, node string, window time.Duration, maxSubjects int) *SharedCounts {
	return &SharedCounts{db: db, scope: scope, node: node, window: window, max: max(maxSubjects, 1),
		pending: map[pendingCount]int64{}, others: map[string]Count{}}
}

// Add counts n (negative: takes back) for subject at the given time.
// Beyond max pending subjects a new one is dropped and counted in Stats.
func (c *SharedCounts) Add(subject string, n int, at time.Time) {
	if c == nil || n == 0 {
		return
	}
	k := pendingCount{subject, at.Unix()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pending[k]; !ok && len(c.pending) >= c.max {
		c.dropped.Add(1)
		return
	}
	c.pending[k] += int64(n)
}

// Others returns what the other nodes counted for subject, as of the last
// Sync. The nil *SharedCounts has counted nothing.
func (c *SharedCounts) Others(subject string) Count {
	if c == nil {
		return Count{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.others[subject]
}

// Reset forgets subject's counts on every node: this node's at once, the
// others' in the database (each node's memory of its own counts is its
// own business: the defender forgets an address it bans, say).
func (c *SharedCounts) Reset(ctx context.Context, subject string) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	delete(c.others, subject)
	for k := range c.pending {
		if k.subject == subject {
			delete(c.pending, k)
		}
	}
	c.mu.Unlock()
	if _, err := c.db.exec(ctx, `DELETE FROM limit_counts WHERE scope = ? AND subject = ?`, c.scope, subject); err != nil {
		return fmt.Errorf("reset %s counts of %s: %w", c.scope, subject, mapErr(err))
	}
	return nil
}

// Sync writes this node's new counts, forgets those older than the window
// (once a minute) and reads the other nodes'. When the write fails the
// counts stay pending for the next Sync. A sync with nothing to write
// only reads.
func (c *SharedCounts) Sync(ctx context.Context) error {
	c.mu.Lock()
	out := c.pending
	c.pending = map[pendingCount]int64{}
	c.mu.Unlock()
	now := c.db.Now()
	since := now.Add(-c.window).Unix()
	c.syncs.Add(1)
	if err := c.write(ctx, out, since, now); err != nil {
		c.failures.Add(1)
		c.mu.Lock()
		for k, n := range out {
			if _, ok := c.pending[k]; ok || len(c.pending) < c.max {
				c.pending[k] += n
			} else {
				c.dropped.Add(1)
			}
		}
		c.mu.Unlock()
		return fmt.Errorf("sync %s counts: %w", c.scope, mapErr(err))
	}
	others, err := c.read(ctx, since)
	if err != nil {
		c.failures.Add(1)
		return fmt.Errorf("sync %s counts: %w", c.scope, mapErr(err))
	}
	c.mu.Lock()
	c.others = others
	c.mu.Unlock()
	return nil
}

// write adds out to this node's rows and, once a minute, deletes the
// scope's rows older than since.
func (c *SharedCounts) write(ctx context.Context, out map[pendingCount]int64, since int64, now time.Time) error {
	c.mu.Lock()
	purge := now.Sub(c.purgedAt) >= time.Minute
	c.mu.Unlock()
	if len(out) == 0 && !purge {
		return nil
	}
	err := c.db.withTx(ctx, func(tx *sql.Tx) error {
		for k, n := range out {
			if n == 0 || k.bucket < since {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO limit_counts (scope, subject, node, bucket, n) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (scope, subject, node, bucket) DO UPDATE SET n = limit_counts.n + excluded.n`,
				c.scope, k.subject, c.node, k.bucket, n); err != nil {
				return err
			}
		}
		if purge {
			_, err := tx.ExecContext(ctx, `DELETE FROM limit_counts WHERE scope = ? AND bucket < ?`, c.scope, since)
			return err
		}
		return nil
	})
	if err == nil && purge {
		c.mu.Lock()
		c.purgedAt = now
		c.mu.Unlock()
	}
	return err
}

// read returns the other nodes' counts since the given second, the
// largest first, at most max subjects.
func (c *SharedCounts) read(ctx context.Context, since int64) (map[string]Count, error) {
	rows, err := c.db.db.QueryContext(ctx, `SELECT subject, SUM(n), MAX(bucket) FROM limit_counts
		WHERE scope = ? AND node <> ? AND bucket >= ? GROUP BY subject HAVING SUM(n) > 0 ORDER BY SUM(n) DESC, subject LIMIT ?`,
		c.scope, c.node, since, c.max)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	others := map[string]Count{}
	for rows.Next() {
		var subject string
		var n, last int64
		if err := rows.Scan(&subject, &n, &last); err != nil {
			return nil, err
		}
		others[subject] = Count{N: int(n), Last: time.Unix(last, 0)}
	}
	return others, rows.Err()
}

// Run syncs every interval until ctx ends, then once more, so that a node
// stopped cleanly leaves its counts to the others. A failing sync is
// logged once until one succeeds again.
func (c *SharedCounts) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	dropped := c.dropped.Load()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := c.Sync(fctx); err != nil {
				log.Warn("shared limit counts not saved at stop", logkey.Scope, c.scope, logkey.Err, err)
			}
			cancel()
			return
		case <-t.C:
		}
		err := c.Sync(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			failing = true
			log.Warn("shared limit counts: sync failed; each node counts alone until it works again", logkey.Scope, c.scope, logkey.Err, err)
		case err == nil && failing:
			failing = false
			log.Info("shared limit counts: sync works again", logkey.Scope, c.scope)
		}
		if d := c.dropped.Load(); d > dropped {
			log.Warn("shared limit counts: too many subjects between two syncs; the rest counted on this node only",
				logkey.Scope, c.scope, logkey.Count, d-dropped, logkey.Max, c.max)
			dropped = d
		}
	}
}

// SharedStats is what a SharedCounts did, for metrics.
type SharedStats struct {
	Syncs, Failures, Dropped int64
	Others                   int // subjects the other nodes counted, as of the last sync
}

// Stats returns the counts of syncs, failed syncs and dropped subjects.
func (c *SharedCounts) Stats() SharedStats {
	c.mu.Lock()
	n := len(c.others)
	c.mu.Unlock()
	return SharedStats{Syncs: c.syncs.Load(), Failures: c.failures.Load(), Dropped: c.dropped.Load(), Others: n}
}

// Scope returns the scope the counts are of.
func (c *SharedCounts) Scope() string { return c.scope }
