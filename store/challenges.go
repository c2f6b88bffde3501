package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LoginChallenge is a web login whose password was right and whose second
// factor is due. It lives in the database, so that the code may be typed
// on another node than the password, or after a restart.
type LoginChallenge struct {
	UserID    int64
	Username  string
	Next      string // where the login goes once the code is right
	Tries     int    // wrong codes so far
	ExpiresAt time.Time
}

// PutLoginChallenge stores a challenge for userID, living ttl, and returns
// the secret the browser keeps (only its hash is stored). Expired
// challenges go on the way; when max are still waiting, the oldest go too
// and dropped says how many (their users type the password again).
func (db *DB) PutLoginChallenge(ctx context.Context, userID int64, next string, ttl time.Duration, maxWaiting int) (token string, dropped, waiting int, err error) {
	token = NewSecret()
	now := db.Now().UTC()
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_challenges WHERE expires_at < ?`, formatTime(now)); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_challenges`).Scan(&waiting); err != nil {
			return err
		}
		if maxWaiting > 0 && waiting >= maxWaiting {
			dropped = waiting - maxWaiting + 1
			if _, err := tx.ExecContext(ctx, `DELETE FROM login_challenges WHERE token_hash IN
				(SELECT token_hash FROM login_challenges ORDER BY created_at, token_hash LIMIT ?)`, dropped); err != nil {
				return err
			}
			waiting -= dropped
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO login_challenges (token_hash, user_id, next, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			HashSecret(token), userID, next, formatTime(now), formatTime(now.Add(ttl)))
		waiting++
		return err
	})
	if err != nil {
		return "", 0, 0, fmt.Errorf("store login challenge of user %d: %w", userID, mapErr(err))
	}
	return token, dropped, waiting, nil
}

// LoginChallenge returns the live challenge of a browser's secret; an
// unknown or expired one is ErrNotFound.
func (db *DB) LoginChallenge(ctx context.Context, token string) (LoginChallenge, error) {
	var c LoginChallenge
	var exp string
	err := db.db.QueryRowContext(ctx, `SELECT c.user_id, u.username, c.next, c.tries, c.expires_at
		FROM login_challenges c JOIN users u ON u.id = c.user_id WHERE c.token_hash = ? AND c.expires_at >= ?`,
		HashSecret(token), formatTime(db.Now())).Scan(&c.UserID, &c.Username, &c.Next, &c.Tries, &exp)
	if err != nil {
		return LoginChallenge{}, fmt.Errorf("login challenge: %w", mapErr(err))
	}
	c.ExpiresAt = parseTime(exp)
	return c, nil
}

// FailLoginChallenge counts a wrong code against a challenge and returns
// the count so far. Counting is one statement, so that parallel tries on
// two nodes are all counted. A challenge that is gone counts as having
// used every try.
func (db *DB) FailLoginChallenge(ctx context.Context, token string) (int, error) {
	var tries int
	err := db.db.QueryRowContext(ctx, `UPDATE login_challenges SET tries = tries + 1 WHERE token_hash = ? RETURNING tries`,
		HashSecret(token)).Scan(&tries)
	if err = mapErr(err); errors.Is(err, ErrNotFound) {
		return int(^uint(0) >> 1), nil
	} else if err != nil {
		return 0, fmt.Errorf("count a wrong login code: %w", err)
	}
	return tries, nil
}

// DeleteLoginChallenge ends a challenge (the code was right, or too many
// were wrong). Ending an unknown one is no error.
func (db *DB) DeleteLoginChallenge(ctx context.Context, token string) error {
	if _, err := db.exec(ctx, `DELETE FROM login_challenges WHERE token_hash = ?`, HashSecret(token)); err != nil {
		return fmt.Errorf("end login challenge: %w", mapErr(err))
	}
	return nil
}

// LoginChallengesWaiting counts the challenges not expired yet.
func (db *DB) LoginChallengesWaiting(ctx context.Context) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_challenges WHERE expires_at >= ?`, formatTime(db.Now())).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count login challenges: %w", mapErr(err))
	}
	return n, nil
}
