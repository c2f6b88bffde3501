package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Reasons a raw log was pruned, as results.raw_log_pruned_reason keeps
// them. The result itself (verdict, numbers, file errors) stays.
const (
	PruneRetention = "retention" // older than the retention setting
	PruneQuota     = "quota"     // the customer was over its cap
)

// DefaultLogQuota is serve's default cap on one customer's stored raw logs.
const DefaultLogQuota = 1 << 30

// DefaultRetentionDays is serve's default for how long raw logs are kept.
const DefaultRetentionDays = 400

// LogUsage is what a customer's stored raw logs take.
type LogUsage struct {
	Logs          int64      `json:"logs"`
	StoredBytes   int64      `json:"stored_bytes"`   // in the database, compressed: what quotas count
	OriginalBytes int64      `json:"original_bytes"` // as received
	Oldest        *time.Time `json:"oldest,omitempty"`
}

// The one definition of a customer's raw log usage: every quota check,
// every page and the CLI read it through these fragments, grouped by
// s.customer_id or filtered on it.
//
// logSize is what one log takes: stored_bytes, or for logs stored before
// migration 0012 (stored_bytes 0) their data's length. Both are in the
// index raw_logs_usage, so no log's row is read: stored_bytes comes after
// the data in its row, and reading it there walks all of the data's
// overflow pages (110 ms for 40 logs of 4 MiB, against 0.14 ms from the
// index). INDEXED BY (SQLite's own syntax, as is the two-argument max)
// makes SQLite use that index, which it would not choose over the rowid
// by itself. These constants are SQLite's; the dialect's methods below
// give each engine's form (PostgreSQL: GREATEST, no index hint).
const (
	logSize      = `max(l.stored_bytes, length(l.data))`
	usageFrom    = `raw_logs l INDEXED BY raw_logs_usage JOIN results r ON r.id = l.result_id JOIN servers s ON s.id = r.server_id`
	usageColumns = `COUNT(*), COALESCE(SUM(` + logSize + `), 0), COALESCE(SUM(l.original_bytes), 0), MIN(r.received_at)`
	// indexedByUsage is the hint in usageFrom, for the queries that join
	// raw_logs otherwise.
	indexedByUsage = ` INDEXED BY raw_logs_usage`
)

func (d dialect) logSize() string {
	if d == postgresDialect {
		return `GREATEST(l.stored_bytes, length(l.data))`
	}
	return logSize
}

func (d dialect) indexedByUsage() string {
	if d == postgresDialect {
		return ""
	}
	return indexedByUsage
}

func (d dialect) usageFrom() string {
	return strings.Replace(usageFrom, indexedByUsage, d.indexedByUsage(), 1)
}

func (d dialect) usageColumns() string {
	return strings.Replace(usageColumns, logSize, d.logSize(), 1)
}

func scanUsage(u *LogUsage, logs, stored, original sql.NullInt64, oldest sql.NullString) {
	u.Logs, u.StoredBytes, u.OriginalBytes, u.Oldest = logs.Int64, stored.Int64, original.Int64, nullTime(oldest)
}

func logUsage(ctx context.Context, q queryer, d dialect, customerID int64) (LogUsage, error) {
	var u LogUsage
	var logs, stored, original sql.NullInt64
	var oldest sql.NullString
	if err := q.QueryRowContext(ctx, `SELECT `+d.usageColumns()+` FROM `+d.usageFrom()+` WHERE s.customer_id = ?`, customerID).Scan(&logs, &stored, &original, &oldest); err != nil {
		return u, mapErr(err)
	}
	scanUsage(&u, logs, stored, original, oldest)
	return u, nil
}

// LogUsage returns what one customer's raw logs take.
func (db *DB) LogUsage(ctx context.Context, customerID int64) (LogUsage, error) {
	u, err := logUsage(ctx, db.db, db.dialect, customerID)
	if err != nil {
		return u, fmt.Errorf("log usage of customer %d: %w", customerID, err)
	}
	return u, nil
}

// EffectiveLogQuota is the one rule for a customer's cap on stored raw
// logs: its own setting when an admin set one, else the server's default.
// 0 means no cap.
func EffectiveLogQuota(override *int64, def int64) int64 {
	if override != nil {
		return max(*override, 0)
	}
	return max(def, 0)
}

// CustomerStorage is one customer's line on the storage page.
type CustomerStorage struct {
	CustomerID int64  `json:"-"`
	Customer   string `json:"customer"`
	Name       string `json:"name"`
	Active     bool   `json:"active"`
	LogUsage
	// QuotaOverride is the customer's own cap, nil when the default applies.
	QuotaOverride *int64 `json:"quota_override,omitempty"`
}

// StorageByCustomer returns every customer's raw log usage, in slug order.
// It reads every stored log's index entry: seconds on a database with
// millions of logs, meant for an admin page, not for every request.
func (db *DB) StorageByCustomer(ctx context.Context) ([]CustomerStorage, error) {
	rows, err := db.db.QueryContext(ctx, `WITH u (customer_id, logs, stored, original, oldest) AS (
			SELECT s.customer_id, `+db.dialect.usageColumns()+` FROM `+db.dialect.usageFrom()+` GROUP BY s.customer_id)
		SELECT c.id, c.slug, c.name, c.active, c.log_quota_bytes, u.logs, u.stored, u.original, u.oldest
		FROM customers c LEFT JOIN u ON u.customer_id = c.id
		ORDER BY lower(c.slug)`)
	if err != nil {
		return nil, fmt.Errorf("storage by customer: %w", mapErr(err))
	}
	defer rows.Close()
	var out []CustomerStorage
	for rows.Next() {
		var cs CustomerStorage
		var quota, logs, stored, original sql.NullInt64
		var oldest sql.NullString
		if err := rows.Scan(&cs.CustomerID, &cs.Customer, &cs.Name, &cs.Active, &quota, &logs, &stored, &original, &oldest); err != nil {
			return nil, err
		}
		cs.QuotaOverride = nullInt(quota)
		scanUsage(&cs.LogUsage, logs, stored, original, oldest)
		out = append(out, cs)
	}
	return out, mapErr(rows.Err())
}

// CustomerLogQuota returns a customer's own cap on stored raw logs, nil
// when the server's default applies.
func (db *DB) CustomerLogQuota(ctx context.Context, customerID int64) (*int64, error) {
	var q sql.NullInt64
	if err := db.db.QueryRowContext(ctx, `SELECT log_quota_bytes FROM customers WHERE id = ?`, customerID).Scan(&q); err != nil {
		return nil, fmt.Errorf("log quota of customer %d: %w", customerID, mapErr(err))
	}
	return nullInt(q), nil
}

// SetCustomerLogQuota sets a customer's own cap on stored raw logs in
// bytes (0: no cap), or with nil returns it to the server's default. It
// prunes nothing itself: the next upload or the hourly storage job does.
func (db *DB) SetCustomerLogQuota(ctx context.Context, actor string, customerID int64, quota *int64) error {
	if quota != nil && *quota < 0 {
		return fmt.Errorf("set log quota: %d bytes is negative", *quota)
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var slug string
		var before sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT slug, log_quota_bytes FROM customers WHERE id = ?`, customerID).Scan(&slug, &before); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE customers SET log_quota_bytes = ? WHERE id = ?`, quota, customerID); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, "customer.log_quota", "customer "+slug, map[string]any{"log_quota_bytes": nullInt(before)}, map[string]any{"log_quota_bytes": quota})
	})
	if err != nil {
		return fmt.Errorf("set log quota of customer %d: %w", customerID, err)
	}
	return nil
}

// PruneOptions bound the transactions of a prune.
type PruneOptions struct {
	// BatchSize is how many logs one transaction deletes at most; 0 means 200.
	BatchSize int
	// BatchBytes ends a transaction once it freed this many stored bytes
	// (deleting a log reads all of its pages); 0 means 64 MiB.
	BatchBytes int64
	// Pause is the wait between two transactions, so that an upload
	// waiting for the write lock gets it; 0 means DefaultPrunePause,
	// negative means none (tests).
	Pause time.Duration
}

// DefaultPrunePause is longer than SQLite's longest wait between two
// attempts to take a busy lock (100 ms), so a waiting writer is not
// starved by a long prune.
const DefaultPrunePause = 120 * time.Millisecond

func (o PruneOptions) withDefaults() PruneOptions {
	if o.BatchSize <= 0 {
		o.BatchSize = 200
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 64 << 20
	}
	if o.Pause == 0 {
		o.Pause = DefaultPrunePause
	}
	return o
}

// PruneStats says what a prune deleted.
type PruneStats struct {
	Reason        string `json:"reason"`
	CustomerID    int64  `json:"-"`
	Customer      string `json:"customer,omitempty"` // quota prunes only
	Quota         int64  `json:"quota,omitempty"`    // the cap that applied
	Logs          int    `json:"logs"`
	StoredBytes   int64  `json:"stored_bytes"` // freed in the database
	OriginalBytes int64  `json:"original_bytes"`
	Transactions  int    `json:"transactions"`
}

// quotaSem lets one quota prune delete at a time in this process, so that
// two uploads of a customer over its cap do not both delete for the same
// excess. It is a channel so that waiting for it ends with the context.
// Retention does not take it: its deletions are the same whoever runs
// them.
var quotaSem = make(chan struct{}, 1)

// maxPrunePass is how many logs one pass of a quota prune picks; a bigger
// excess takes more passes.
const maxPrunePass = 10000

// victim is a raw log chosen for deletion.
type victim struct {
	id               int64
	stored, original int64
}

// EnforceLogQuota deletes the oldest raw logs of a customer, by the time
// they were received, until what its logs take is within its cap (see
// EffectiveLogQuota with defaultQuota). The customer's newest log is never
// deleted, whatever its size; the results of deleted logs keep their
// verdicts, numbers and file errors, and say when and why their log went.
// It works in transactions bounded by opts; a cancelled run keeps what it
// deleted. With no cap, or usage within it, it only reads.
func (db *DB) EnforceLogQuota(ctx context.Context, customerID, defaultQuota int64, opts PruneOptions) (PruneStats, error) {
	st := PruneStats{Reason: PruneQuota, CustomerID: customerID}
	var override sql.NullInt64
	if err := db.db.QueryRowContext(ctx, `SELECT slug, log_quota_bytes FROM customers WHERE id = ?`, customerID).Scan(&st.Customer, &override); err != nil {
		return st, fmt.Errorf("log quota of customer %d: %w", customerID, mapErr(err))
	}
	st.Quota = EffectiveLogQuota(nullInt(override), defaultQuota)
	if st.Quota <= 0 {
		return st, nil
	}
	// The usual case, within the cap, takes neither the semaphore nor a
	// lock: uploads check in parallel.
	locked := false
	defer func() {
		if locked {
			<-quotaSem
		}
	}()
	for {
		u, err := logUsage(ctx, db.db, db.dialect, customerID)
		if err != nil {
			return st, fmt.Errorf("log quota of %s: %w", st.Customer, err)
		}
		over := u.StoredBytes - st.Quota
		if over <= 0 || u.Logs <= 1 {
			return st, nil
		}
		if !locked {
			select {
			case quotaSem <- struct{}{}:
				locked = true
			case <-ctx.Done():
				return st, fmt.Errorf("log quota of %s: waiting for another prune: %w", st.Customer, ctx.Err())
			}
			continue // the usage again, now that no other prune runs
		}
		vs, err := db.quotaVictims(ctx, customerID, over)
		if err != nil {
			return st, fmt.Errorf("log quota of %s: %w", st.Customer, err)
		}
		if len(vs) == 0 {
			return st, nil
		}
		before := st.Logs
		if err := db.pruneLogs(ctx, vs, PruneQuota, opts, &st); err != nil {
			return st, fmt.Errorf("log quota of %s: %w", st.Customer, err)
		}
		if st.Logs == before { // deleted meanwhile by another process
			return st, nil
		}
	}
}

// quotaVictims picks the oldest logs of a customer that together take at
// least over bytes, leaving out its newest log. It only reads.
func (db *DB) quotaVictims(ctx context.Context, customerID, over int64) ([]victim, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT l.result_id, `+db.dialect.logSize()+`, l.original_bytes FROM `+db.dialect.usageFrom()+`
		WHERE s.customer_id = ? AND l.result_id <> (SELECT l2.result_id FROM raw_logs l2 JOIN results r2 ON r2.id = l2.result_id JOIN servers s2 ON s2.id = r2.server_id
			WHERE s2.customer_id = ? ORDER BY r2.received_at DESC, r2.id DESC LIMIT 1)
		ORDER BY r.received_at, r.id`, customerID, customerID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []victim
	for freed := int64(0); freed < over && len(out) < maxPrunePass && rows.Next(); {
		var v victim
		if err := rows.Scan(&v.id, &v.stored, &v.original); err != nil {
			return nil, err
		}
		out = append(out, v)
		freed += v.stored
	}
	return out, mapErr(rows.Err())
}

// PruneRawLogsBefore deletes the raw logs of results received before
// cutoff (retention), oldest first, in transactions bounded by opts. The
// results keep their verdicts, numbers and file errors, and say when and
// why their log went. A cancelled run keeps what it deleted.
func (db *DB) PruneRawLogsBefore(ctx context.Context, cutoff time.Time, opts PruneOptions) (PruneStats, error) {
	st := PruneStats{Reason: PruneRetention}
	o := opts.withDefaults()
	for {
		// Read outside the transaction: the write lock is held only to
		// delete. results_log_kept walks only results that may have a log.
		rows, err := db.db.QueryContext(ctx, `SELECT l.result_id, `+db.dialect.logSize()+`, l.original_bytes
			FROM results r JOIN raw_logs l`+db.dialect.indexedByUsage()+` ON l.result_id = r.id
			WHERE r.received_at < ? AND r.raw_log_pruned_at IS NULL AND r.source <> 'missing'
			ORDER BY r.received_at, r.id LIMIT ?`, formatTime(cutoff), o.BatchSize)
		if err != nil {
			return st, fmt.Errorf("retention: %w", mapErr(err))
		}
		var vs []victim
		for rows.Next() {
			var v victim
			if err := rows.Scan(&v.id, &v.stored, &v.original); err != nil {
				rows.Close()
				return st, fmt.Errorf("retention: %w", err)
			}
			vs = append(vs, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return st, fmt.Errorf("retention: %w", mapErr(err))
		}
		if len(vs) == 0 {
			return st, nil
		}
		if err := db.pruneLogs(ctx, vs, PruneRetention, opts, &st); err != nil {
			return st, fmt.Errorf("retention: %w", err)
		}
		if len(vs) < o.BatchSize {
			return st, nil
		}
	}
}

// pruneLogs deletes the chosen logs in transactions of at most
// opts.BatchSize logs and opts.BatchBytes bytes, pausing between them, and
// adds what it deleted to st. A log deleted meanwhile by someone else is
// skipped.
func (db *DB) pruneLogs(ctx context.Context, vs []victim, reason string, opts PruneOptions, st *PruneStats) error {
	o := opts.withDefaults()
	for len(vs) > 0 {
		if st.Transactions > 0 && o.Pause > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(o.Pause):
			}
		}
		var logs int
		var stored, original int64
		n := 0
		err := db.withTx(ctx, func(tx *sql.Tx) error {
			logs, stored, original = 0, 0, 0
			at := formatTime(db.Now())
			for n = 0; n < len(vs) && n < o.BatchSize && (n == 0 || stored < o.BatchBytes); n++ {
				gone, err := deleteRawLog(ctx, tx, vs[n].id, reason, at)
				if err != nil {
					return err
				}
				if gone {
					logs++
					stored += vs[n].stored
					original += vs[n].original
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		st.Transactions++
		st.Logs += logs
		st.StoredBytes += stored
		st.OriginalBytes += original
		vs = vs[n:]
	}
	return nil
}

// deleteRawLog deletes one result's raw log and notes on the result when
// and why. It reports whether there was a log to delete. Every prune goes
// through it: it is the one place that knows how a log is stored.
func deleteRawLog(ctx context.Context, tx *sql.Tx, resultID int64, reason, at string) (bool, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM raw_logs WHERE result_id = ?`, resultID)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE results SET raw_log_pruned_at = ?, raw_log_pruned_reason = ? WHERE id = ?`, at, reason, resultID)
	return err == nil, err
}
