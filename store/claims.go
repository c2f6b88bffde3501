package store

import (
	"context"
	"errors"
	"fmt"
)

// ClaimReport claims the scheduled report of kind for day (YYYY-MM-DD in
// the scheduler's zone) for node, and reports whether this call got it:
// false when it was claimed before, by this node or another. The claim is
// made before sending, so a report goes out at most once a day however
// many nodes run the schedule, and a node that dies while sending does not
// make another send it again.
func (db *DB) ClaimReport(ctx context.Context, kind, day, node string) (bool, error) {
	res, err := db.db.ExecContext(ctx, `INSERT INTO report_claims (kind, day, node, claimed_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (kind, day) DO NOTHING`, kind, day, node, formatTime(db.Now()))
	if err != nil {
		return false, fmt.Errorf("claim %s report of %s: %w", kind, day, mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim %s report of %s: %w", kind, day, err)
	}
	return n == 1, nil
}

// ReportClaimant returns the node that claimed the report of kind for day,
// and false when nobody has.
func (db *DB) ReportClaimant(ctx context.Context, kind, day string) (string, bool, error) {
	var node string
	err := db.db.QueryRowContext(ctx, `SELECT node FROM report_claims WHERE kind = ? AND day = ?`, kind, day).Scan(&node)
	if err != nil {
		if err = mapErr(err); errors.Is(err, ErrNotFound) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("claimant of %s report of %s: %w", kind, day, err)
	}
	return node, true, nil
}
