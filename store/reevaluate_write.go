package store

import (
	"context"
	"database/sql"
)

// writeReeval writes the changes of results judged again in one
// transaction, unless the exceptions are no longer at version, the one
// they were judged by: then it writes nothing and returns
// errExceptionsChanged. It marks the results it wrote.
func (db *DB) writeReeval(ctx context.Context, conn *sql.Conn, writes []*reevalItem, version int64, opts ReevalOptions) error {
	now := formatTime(db.Now())
	return db.inTx(ctx, conn, func(tx *sql.Tx) error {
		// The write lock is held (BEGIN IMMEDIATE): no exception
		// changes until the commit.
		if v, err := exceptionsVersion(ctx, tx); err != nil {
			return err
		} else if v != version {
			return errExceptionsChanged
		}
		// The row must still hold what was read: another re-evaluation
		// (the command line's, beside serve's) may have judged it since.
		updRes, err := tx.PrepareContext(ctx, `UPDATE results SET status = ?, code = ?, complete = ?, file_errors = ?, excepted_errors = ?, vanished = ?, file_errors_digest = ?
			WHERE id = ? AND status = ? AND code = ? AND file_errors_digest IS NOT DISTINCT FROM ?`)
		if err != nil {
			return err
		}
		defer updRes.Close()
		updFE, err := tx.PrepareContext(ctx, `UPDATE file_errors SET excepted = ?, exception_id = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer updFE.Close()
		matched := map[int64]string{} // exception -> latest received_at it matched
		for _, it := range writes {
			res, err := updRes.ExecContext(ctx, it.newStatus, it.newCode, boolInt(it.newDone), it.newCounts[0], it.newCounts[1], it.newCounts[2], it.newDigest,
				it.id, it.status, it.code, it.digest)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // deleted or judged by another run meanwhile
			}
			it.written = true
			at := parseTime(it.receivedAt)
			if it.rowsDiff {
				if _, err := tx.ExecContext(ctx, `DELETE FROM file_errors WHERE result_id = ?`, it.id); err != nil {
					return err
				}
				if len(it.newErrs) > 0 {
					if err := db.insertFileErrors(ctx, tx, it.id, at, it.newErrs, it.ex); err != nil {
						return err
					}
				}
			} else if it.exDiff {
				for i, s := range it.stored {
					if it.newEx[i] == nil && !s.excepted && s.exID == nil {
						continue
					}
					if _, err := updFE.ExecContext(ctx, boolInt(it.newEx[i] != nil), it.newEx[i], s.id); err != nil {
						return err
					}
					if id := it.newEx[i]; id != nil && it.receivedAt > matched[*id] {
						matched[*id] = it.receivedAt
					}
				}
			}
			if it.newStatus != it.status {
				if _, err := tx.ExecContext(ctx, `INSERT INTO verdict_changes (result_id, changed_at, old_status, new_status, reason, changed_by) VALUES (?, ?, ?, ?, ?, ?)`,
					it.id, now, it.status, it.newStatus, opts.Reason, opts.Actor); err != nil {
					return err
				}
			}
		}
		for id, at := range matched {
			if _, err := tx.ExecContext(ctx, `UPDATE exceptions SET last_matched_at = ? WHERE id = ? AND (last_matched_at IS NULL OR last_matched_at < ?)`, at, id, at); err != nil {
				return err
			}
		}
		return nil
	})
}
