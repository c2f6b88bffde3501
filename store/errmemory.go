package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// Error memory (issue 14, part 5): each stored file error carries the
// night its (kind, path) began failing on its server without a break, so
// the result page and the e-mails can say "new" or "failing since".
//
// The run is carried from the server's previous upload (source 'upload',
// the latest received before this result): a missing night does not break
// it, since a night without a report says nothing about the file. A night
// whose upload no longer lists the error does break it.

// Memory of a file error: new tonight, or recurring from an earlier night.
const (
	MemoryNew       = "new"
	MemoryRecurring = "recurring"
)

// rememberErrors sets since_night on the file errors of result id: the
// since_night of the same kind and path in the server's previous upload (or demo
// result; a missing night has no errors and does not count),
// else the result's own night. It is called after every write of a
// result's file errors (insertResult, re-evaluation), so both compute the
// same value. Two statements, both on indexes (results_server_received,
// file_errors_result).
func rememberErrors(ctx context.Context, tx txn, id int64) error {
	var night string
	var prev sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT r.night, (SELECT p.id FROM results p
			WHERE p.server_id = r.server_id AND p.source <> ? AND (p.received_at, p.id) < (r.received_at, r.id)
			ORDER BY p.received_at DESC, p.id DESC LIMIT 1)
		FROM results r WHERE r.id = ?`, SourceMissing, id).Scan(&night, &prev)
	if err != nil {
		return fmt.Errorf("error memory of result %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE file_errors SET since_night = COALESCE((SELECT MIN(p.since_night) FROM file_errors p
			WHERE p.result_id = ? AND p.kind = file_errors.kind AND p.path = file_errors.path), ?)
		WHERE result_id = ?`, prev, night, id); err != nil {
		return fmt.Errorf("error memory of result %d: %w", id, err)
	}
	return nil
}

// nightsBetween counts the nights from since to night, both included: an
// error new tonight has failed 1 night.
func nightsBetween(since, night Night) int {
	a, err1 := time.Parse(time.DateOnly, string(since))
	b, err2 := time.Parse(time.DateOnly, string(night))
	if err1 != nil || err2 != nil || b.Before(a) {
		return 1
	}
	return int(b.Sub(a).Hours()/24+0.5) + 1
}

// remember fills the memory fields of a result's file errors read back.
// A NULL since_night (never written) counts as the result's own night.
func remember(f *FileErrorRow, since sql.NullString, night Night) {
	f.Since = night
	if since.Valid && since.String != "" {
		f.Since = Night(since.String)
	}
	f.Nights = nightsBetween(f.Since, night)
	f.Memory = MemoryNew
	if f.Since != night {
		f.Memory = MemoryRecurring
	}
}

// ResolvedErrors returns the file errors (failing, not excepted) of the
// server's previous upload before result id that this result no longer
// has: what got fixed since last night.
func (db *DB) ResolvedErrors(ctx context.Context, id int64) ([]FileErrorRow, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT f.id, f.line, f.kind, f.path, f.message, f.since_night FROM file_errors f
		WHERE f.excepted = 0 AND f.result_id = (SELECT p.id FROM results p JOIN results r ON r.id = ?
			WHERE p.server_id = r.server_id AND p.source <> ? AND (p.received_at, p.id) < (r.received_at, r.id)
			ORDER BY p.received_at DESC, p.id DESC LIMIT 1)
		AND NOT EXISTS (SELECT 1 FROM file_errors c WHERE c.result_id = ? AND c.kind = f.kind AND c.path = f.path)
		ORDER BY f.line, f.id`, id, SourceMissing, id)
	if err != nil {
		return nil, fmt.Errorf("resolved errors of result %d: %w", id, mapErr(err))
	}
	defer rows.Close()
	out := []FileErrorRow{}
	for rows.Next() {
		var f FileErrorRow
		var since sql.NullString
		if err := rows.Scan(&f.ID, &f.Line, &f.Kind, &f.Path, &f.Message, &since); err != nil {
			return nil, fmt.Errorf("resolved errors of result %d: %w", id, err)
		}
		if since.Valid {
			f.Since = Night(since.String)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// FailureErrorsShown bounds the file errors a failure e-mail lists per
// server: the count says how many there are in all.
const FailureErrorsShown = 10

// failingErrors returns the failing file errors (not excepted, not
// vanished) of a result for a failure report: the new ones first, then the
// recurring ones oldest run first, each in log order; at most
// FailureErrorsShown. A nil id (a missing night) has none.
func (db *DB) failingErrors(ctx context.Context, id *int64) ([]FileErrorRow, error) {
	if id == nil {
		return nil, nil
	}
	rows, err := db.db.QueryContext(ctx, `SELECT f.id, f.line, f.kind, f.path, f.message, f.since_night, r.night FROM file_errors f JOIN results r ON r.id = f.result_id
		WHERE f.result_id = ? AND f.excepted = 0 AND f.kind <> 'vanished' ORDER BY f.line, f.id`, *id)
	if err != nil {
		return nil, fmt.Errorf("file errors of result %d: %w", *id, err)
	}
	defer rows.Close()
	var out []FileErrorRow
	for rows.Next() {
		var f FileErrorRow
		var since sql.NullString
		var night Night
		if err := rows.Scan(&f.ID, &f.Line, &f.Kind, &f.Path, &f.Message, &since, &night); err != nil {
			return nil, err
		}
		remember(&f, since, night)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ni, nj := out[i].Memory == MemoryNew, out[j].Memory == MemoryNew; ni != nj {
			return ni
		}
		return out[i].Since < out[j].Since
	})
	if len(out) > FailureErrorsShown {
		out = out[:FailureErrorsShown]
	}
	return out, nil
}
