package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/backupreport/backupreport/parser"
)

// Warning is a stored early warning of one result (README, "Warnings"):
// the parser's warning plus its acknowledgement by staff. AckedAt is the
// zero time while nobody has acknowledged it.
type Warning struct {
	ID       int64              `json:"id"`
	ResultID int64              `json:"result_id"`
	Kind     parser.WarningKind `json:"kind"`
	Message  string             `json:"message"`
	Numbers  map[string]int64   `json:"numbers"`
	AckedAt  time.Time          `json:"acknowledged_at,omitzero"`
	AckedBy  string             `json:"acknowledged_by,omitempty"`
	AckNote  string             `json:"ack_note,omitempty"`
}

// Acknowledged reports whether staff have acknowledged the warning.
func (w Warning) Acknowledged() bool { return !w.AckedAt.IsZero() }

// writeWarnings makes the stored warnings of a result those in ws: kinds
// no longer present go, kinds still present keep their acknowledgement
// with the new message and numbers, new kinds come unacknowledged. It also
// sets results.warnings to the count.
func writeWarnings(ctx context.Context, tx txn, resultID int64, ws []parser.Warning, fresh bool) error {
	if !fresh {
		kinds := make([]any, 0, len(ws)+1)
		kinds = append(kinds, resultID)
		q := `DELETE FROM result_warnings WHERE result_id = ?`
		if len(ws) > 0 {
			q += ` AND kind NOT IN (?` + strings.Repeat(", ?", len(ws)-1) + `)`
			for _, w := range ws {
				kinds = append(kinds, string(w.Kind))
			}
		}
		if _, err := tx.ExecContext(ctx, q, kinds...); err != nil {
			return fmt.Errorf("drop warnings of result %d: %w", resultID, err)
		}
	}
	for _, w := range ws {
		nums, err := json.Marshal(w.Numbers)
		if err != nil {
			return fmt.Errorf("warning %s numbers: %w", w.Kind, err)
		}
		if w.Numbers == nil {
			nums = []byte("{}")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO result_warnings (result_id, kind, message, numbers) VALUES (?, ?, ?, ?)
			ON CONFLICT (result_id, kind) DO UPDATE SET message = excluded.message, numbers = excluded.numbers`,
			resultID, string(w.Kind), w.Message, string(nums)); err != nil {
			return fmt.Errorf("store warning %s of result %d: %w", w.Kind, resultID, err)
		}
	}
	if !fresh || len(ws) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE results SET warnings = ? WHERE id = ?`, len(ws), resultID); err != nil {
			return fmt.Errorf("count warnings of result %d: %w", resultID, err)
		}
	}
	return nil
}

// WarningsOf returns the stored warnings of the given results, by result,
// each result's in kind order. A result without warnings has no entry.
func (db *DB) WarningsOf(ctx context.Context, resultIDs ...int64) (map[int64][]Warning, error) {
	out := map[int64][]Warning{}
	const batch = 500
	for len(resultIDs) > 0 {
		ids := resultIDs[:min(batch, len(resultIDs))]
		resultIDs = resultIDs[len(ids):]
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		rows, err := db.db.QueryContext(ctx, `SELECT id, result_id, kind, message, numbers, acknowledged_at, acknowledged_by, ack_note
			FROM result_warnings WHERE result_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY result_id, kind`, args...)
		if err != nil {
			return nil, fmt.Errorf("warnings of results: %w", err)
		}
		for rows.Next() {
			w, err := scanWarning(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("warnings of results: %w", err)
			}
			out[w.ResultID] = append(out[w.ResultID], w)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("warnings of results: %w", err)
		}
	}
	return out, nil
}

type rowScanner interface{ Scan(dest ...any) error }

func scanWarning(s rowScanner) (Warning, error) {
	var w Warning
	var kind, nums string
	var at sql.NullString
	if err := s.Scan(&w.ID, &w.ResultID, &kind, &w.Message, &nums, &at, &w.AckedBy, &w.AckNote); err != nil {
		return w, err
	}
	w.Kind = parser.WarningKind(kind)
	w.Numbers = map[string]int64{}
	if err := json.Unmarshal([]byte(nums), &w.Numbers); err != nil {
		return w, fmt.Errorf("warning %d numbers: %w", w.ID, err)
	}
	if at.Valid && at.String != "" {
		w.AckedAt = parseTime(at.String)
	}
	return w, nil
}

// AcknowledgeWarning records that staff member by has seen warning id,
// with a note saying why it is fine or what was done; the audit log keeps
// the warning before and after. Acknowledging again replaces who, when
// and the note. An unknown id is ErrNotFound.
func (db *DB) AcknowledgeWarning(ctx context.Context, id int64, by, note string) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		before, err := scanWarning(tx.QueryRowContext(ctx, `SELECT id, result_id, kind, message, numbers, acknowledged_at, acknowledged_by, ack_note
			FROM result_warnings WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		after := before
		after.AckedAt, after.AckedBy, after.AckNote = db.Now().UTC().Truncate(time.Second), by, note
		if _, err := tx.ExecContext(ctx, `UPDATE result_warnings SET acknowledged_at = ?, acknowledged_by = ?, ack_note = ? WHERE id = ?`,
			formatTime(after.AckedAt), by, note, id); err != nil {
			return err
		}
		return db.audit(ctx, tx, by, "warning.acknowledge", fmt.Sprintf("warning %d (%s) of result %d", id, before.Kind, before.ResultID), before, after)
	})
	if err != nil {
		return fmt.Errorf("acknowledge warning %d: %w", id, err)
	}
	return nil
}
