package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/backupreport/backupreport/parser"
)

// VerdictChange is an earlier verdict of a result that re-evaluation
// replaced, with why.
type VerdictChange struct {
	ResultID  int64         `json:"result_id"`
	ChangedAt time.Time     `json:"changed_at"`
	OldStatus parser.Status `json:"old_status"`
	NewStatus parser.Status `json:"new_status"`
	Reason    string        `json:"reason"`
	ChangedBy string        `json:"changed_by"`
}

// VerdictChanges returns the verdict changes of the given results, oldest
// first, by result ID.
func (db *DB) VerdictChanges(ctx context.Context, resultIDs []int64) (map[int64][]VerdictChange, error) {
	out := map[int64][]VerdictChange{}
	if len(resultIDs) == 0 {
		return out, nil
	}
	ph := make([]string, len(resultIDs))
	args := make([]any, len(resultIDs))
	for i, id := range resultIDs {
		ph[i], args[i] = "?", id
	}
	rows, err := db.db.QueryContext(ctx, `SELECT result_id, changed_at, old_status, new_status, reason, changed_by FROM verdict_changes
		WHERE result_id IN (`+strings.Join(ph, ",")+`) ORDER BY result_id, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("verdict changes: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var v VerdictChange
		var at string
		if err := rows.Scan(&v.ResultID, &at, &v.OldStatus, &v.NewStatus, &v.Reason, &v.ChangedBy); err != nil {
			return nil, err
		}
		v.ChangedAt = parseTime(at)
		out[v.ResultID] = append(out[v.ResultID], v)
	}
	return out, rows.Err()
}

// SaveUploads stores many judged uploads in one transaction, as SaveUpload
// does one: for seeding benchmarks and tests with realistic rows.
func (db *DB) SaveUploads(ctx context.Context, us []Upload) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		for _, u := range us {
			if _, err := db.insertResult(ctx, tx, u); err != nil {
				return fmt.Errorf("save uploads: %w", err)
			}
		}
		return nil
	})
}
