package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/backupreport/backupreport/parser"
)

// WarningTable returns the warning texts: staff's edits over the built-in
// ones, as CodeTable does for exit codes.
func (db *DB) WarningTable(ctx context.Context) (parser.WarningTable, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT kind, name, meaning, action FROM warning_texts`)
	if err != nil {
		return parser.WarningTable{}, fmt.Errorf("warning texts: %w", mapErr(err))
	}
	defer rows.Close()
	edited := map[parser.WarningKind]parser.WarningInfo{}
	for rows.Next() {
		var w parser.WarningInfo
		if err := rows.Scan(&w.Kind, &w.Name, &w.Meaning, &w.Action); err != nil {
			return parser.WarningTable{}, fmt.Errorf("warning texts: %w", err)
		}
		edited[w.Kind] = w
	}
	if err := rows.Err(); err != nil {
		return parser.WarningTable{}, fmt.Errorf("warning texts: %w", mapErr(err))
	}
	return parser.NewWarningTable(edited), nil
}

// SetWarningInfo stores staff's text for a kind of warning, audited as
// warning_text.set with the text before.
func (db *DB) SetWarningInfo(ctx context.Context, actor string, w parser.WarningInfo) error {
	if !parser.KnownWarning(w.Kind) {
		return fmt.Errorf("set warning text: %w: no warning kind %q", ErrNotFound, w.Kind)
	}
	if strings.TrimSpace(w.Name) == "" || strings.TrimSpace(w.Meaning) == "" || strings.TrimSpace(w.Action) == "" {
		return fmt.Errorf("set warning text %s: name, meaning and action must not be empty", w.Kind)
	}
	before, err := db.WarningTable(ctx)
	if err != nil {
		return err
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO warning_texts (kind, name, meaning, action, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (kind) DO UPDATE SET name = excluded.name, meaning = excluded.meaning, action = excluded.action,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			string(w.Kind), w.Name, w.Meaning, w.Action, actor, formatTime(db.Now())); err != nil {
			return fmt.Errorf("set warning text %s: %w", w.Kind, mapErr(err))
		}
		return db.audit(ctx, tx, actor, "warning_text.set", "warning "+string(w.Kind), before.Lookup(w.Kind), w)
	})
}
