package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SettingRequireTOTP, when set to "1", makes every member of staff enrol a
// second factor before using the web interface (API tokens are not
// affected). Change it with SetRequireTOTP, which audits.
const SettingRequireTOTP = "require_totp"

// TOTP is a user's second factor as stored: the secret (base32) and the
// last 30-second step whose code was accepted.
type TOTP struct {
	Secret   string
	LastStep int64
}

// UserTOTP returns a user's TOTP secret and last accepted step; an empty
// Secret means the user has no second factor.
func (db *DB) UserTOTP(ctx context.Context, userID int64) (TOTP, error) {
	var t TOTP
	err := db.db.QueryRowContext(ctx, `SELECT totp_secret, totp_last_step FROM users WHERE id = ?`, userID).Scan(&t.Secret, &t.LastStep)
	if err != nil {
		return TOTP{}, fmt.Errorf("totp of user %d: %w", userID, mapErr(err))
	}
	return t, nil
}

// TOTPUsers returns the IDs of the users who have a second factor.
func (db *DB) TOTPUsers(ctx context.Context) (map[int64]bool, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id FROM users WHERE totp_secret <> ''`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// EnableTOTP gives a user a second factor: the secret, the step of the
// code that confirmed it (so that code cannot be used to log in), and the
// hashes of fresh recovery codes, which replace any earlier ones.
func (db *DB) EnableTOTP(ctx context.Context, actor string, userID int64, secret string, step int64, codeHashes []string) error {
	if secret == "" {
		return errors.New("enable totp: empty secret")
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = ?, totp_last_step = ? WHERE id = ?`, secret, step, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("enable totp of user %d: %w", userID, ErrNotFound)
		}
		if err := replaceRecoveryCodes(ctx, tx, userID, codeHashes); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, "user.totp.enable", fmt.Sprintf("user %d", userID), nil, map[string]int{"recovery_codes": len(codeHashes)})
	})
}

func replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, userID int64, codeHashes []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range codeHashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, h); err != nil {
			return err
		}
	}
	return nil
}

// UseTOTPStep records that a code of step was accepted for a user. It
// returns false when that step or a later one was used already: a code
// works once, and never after a newer one.
func (db *DB) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	res, err := db.exec(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_secret <> '' AND totp_last_step < ?`, step, userID, step)
	if err != nil {
		return false, fmt.Errorf("use totp step of user %d: %w", userID, mapErr(err))
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UseRecoveryCode marks the recovery code with this hash used and audits
// it as actor's. It returns false when the user has no such unused code.
func (db *DB) UseRecoveryCode(ctx context.Context, actor string, userID int64, codeHash string) (bool, error) {
	used := false
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`,
			formatTime(db.Now()), userID, codeHash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		used = true
		var left int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&left); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, "user.totp.recovery_code", fmt.Sprintf("user %d", userID), nil, map[string]int{"recovery_codes_left": left})
	})
	if err != nil {
		return false, fmt.Errorf("use recovery code of user %d: %w", userID, mapErr(err))
	}
	return used, nil
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (db *DB) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&n)
	return n, mapErr(err)
}

// ResetTOTP removes a user's second factor and recovery codes (an admin
// does this for someone who lost their phone), ends the user's sessions,
// and audits it. The user enrols again from their account page.
func (db *DB) ResetTOTP(ctx context.Context, actor string, userID int64) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = '', totp_last_step = 0 WHERE id = ?`, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("reset totp of user %d: %w", userID, ErrNotFound)
		}
		if err := replaceRecoveryCodes(ctx, tx, userID, nil); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, "user.totp.reset", fmt.Sprintf("user %d", userID), nil, nil)
	})
}

// RequireTOTP reports whether staff must have a second factor.
func (db *DB) RequireTOTP(ctx context.Context) (bool, error) {
	v, err := db.Setting(ctx, SettingRequireTOTP)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return v == "1", err
}

// SetRequireTOTP turns the requirement of a second factor for all staff
// on or off, and audits it.
func (db *DB) SetRequireTOTP(ctx context.Context, actor string, on bool) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if on {
			_, err = tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, '1') ON CONFLICT (name) DO UPDATE SET value = excluded.value`, SettingRequireTOTP)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM settings WHERE name = ?`, SettingRequireTOTP)
		}
		if err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, "settings.require_totp", "settings", nil, map[string]bool{"require_totp": on})
	})
}
