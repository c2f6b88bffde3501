package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Ban is a source address refused by the SSH endpoint until a time. The
// store keeps bans; server.Defender decides them.
type Ban struct {
	// Address is an IPv4 address ("203.0.113.7") or an IPv6 /64
	// ("2001:db8:1:2::/64"), as server.BanAddress writes it.
	Address string    `json:"address"`
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until"`
	// Level is 1 for a first ban and grows by one for each repeat offence
	// the defender still remembers; the ban time doubles with it.
	Level int `json:"level"`
	// Score is the failed-login score that started the ban.
	Score  int    `json:"score"`
	Reason string `json:"reason"`
}

// Active reports whether the ban still refuses its address at t.
func (b Ban) Active(t time.Time) bool { return t.Before(b.Until) }

// SaveBan records a ban, replacing the address's earlier one.
func (db *DB) SaveBan(ctx context.Context, b Ban) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO ssh_bans (address, since, until, level, score, reason) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (address) DO UPDATE SET since = excluded.since, until = excluded.until, level = excluded.level,
		score = excluded.score, reason = excluded.reason`,
		b.Address, formatTime(b.Since), formatTime(b.Until), b.Level, b.Score, b.Reason)
	if err != nil {
		return fmt.Errorf("save ban of %s: %w", b.Address, mapErr(err))
	}
	return nil
}

// Bans returns the bans that end after after, those ending last first, at
// most limit of them (limit <= 0: all). With after = now they are the
// active bans; with an earlier time they include ended bans the defender
// still counts as earlier offences.
func (db *DB) Bans(ctx context.Context, after time.Time, limit int) ([]Ban, error) {
	if limit <= 0 {
		limit = 1<<31 - 1
	}
	rows, err := db.db.QueryContext(ctx, `SELECT address, since, until, level, score, reason FROM ssh_bans
		WHERE until > ? ORDER BY until DESC, address LIMIT ?`, formatTime(after), limit)
	if err != nil {
		return nil, fmt.Errorf("list bans: %w", mapErr(err))
	}
	defer rows.Close()
	var out []Ban
	for rows.Next() {
		var b Ban
		var since, until string
		if err := rows.Scan(&b.Address, &since, &until, &b.Level, &b.Score, &b.Reason); err != nil {
			return nil, fmt.Errorf("list bans: %w", err)
		}
		b.Since, b.Until = parseTime(since), parseTime(until)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list bans: %w", err)
	}
	return out, nil
}

// ActiveBans returns the bans in force now, those ending last first.
func (db *DB) ActiveBans(ctx context.Context) ([]Ban, error) {
	return db.Bans(ctx, db.Now(), 0)
}

// LiftBan ends an address's ban now and forgets it, so that its next
// offence counts as a first one. The audit log records who lifted it. An
// address without a ban is ErrNotFound.
func (db *DB) LiftBan(ctx context.Context, actor, address string) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var b Ban
		var since, until string
		err := tx.QueryRowContext(ctx, `SELECT address, since, until, level, score, reason FROM ssh_bans WHERE address = ?`, address).
			Scan(&b.Address, &since, &until, &b.Level, &b.Score, &b.Reason)
		if err != nil {
			return err
		}
		b.Since, b.Until = parseTime(since), parseTime(until)
		if _, err := tx.ExecContext(ctx, `DELETE FROM ssh_bans WHERE address = ?`, address); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, "ban.lift", "ssh ban "+address, b, nil)
	})
	if err != nil {
		return fmt.Errorf("lift ban of %s: %w", address, err)
	}
	return nil
}

// PurgeBans deletes the bans that ended before before and returns how
// many it deleted.
func (db *DB) PurgeBans(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.db.ExecContext(ctx, `DELETE FROM ssh_bans WHERE until < ?`, formatTime(before))
	if err != nil {
		return 0, fmt.Errorf("purge bans: %w", mapErr(err))
	}
	n, _ := res.RowsAffected()
	return n, nil
}
