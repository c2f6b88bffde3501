package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"
)

// NewSecret returns a random 256-bit secret as 64 hex digits, for session
// cookies, CSRF tokens, API tokens and setup links.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// HashSecret is the form in which secrets are stored: SHA-256, hex. The
// secrets are random and long, so a fast hash is enough.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Session is a logged-in browser. Only the hash of its token is stored.
type Session struct {
	User      User
	CSRF      string // the per-session token every form sends back
	ExpiresAt time.Time
}

// CreateSession starts a session for a user and returns the cookie value.
// Expired sessions are removed on the way.
func (db *DB) CreateSession(ctx context.Context, userID int64, ttl time.Duration) (token string, s Session, err error) {
	token = NewSecret()
	now := db.Now().UTC()
	s.CSRF, s.ExpiresAt = NewSecret(), now.Add(ttl)
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, formatTime(now)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			HashSecret(token), userID, s.CSRF, formatTime(now), formatTime(s.ExpiresAt)); err != nil {
			return err
		}
		s.User, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, userID))
		return err
	})
	if err != nil {
		return "", Session{}, fmt.Errorf("create session for user %d: %w", userID, err)
	}
	return token, s, nil
}

// SessionByToken returns the live session of a cookie value. An expired
// session, or one of a disabled user, is ErrNotFound.
func (db *DB) SessionByToken(ctx context.Context, token string) (Session, error) {
	var s Session
	var exp, created string
	err := db.db.QueryRowContext(ctx, `SELECT u.id, u.username, u.role, u.email, u.notify, u.active, u.created_at, s.csrf, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ? AND u.active = 1`,
		HashSecret(token), formatTime(db.Now())).Scan(&s.User.ID, &s.User.Username, &s.User.Role, &s.User.Email, &s.User.Notify, &s.User.Active, &created, &s.CSRF, &exp)
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", mapErr(err))
	}
	s.User.CreatedAt, s.ExpiresAt = parseTime(created), parseTime(exp)
	return s, nil
}

// DeleteSession ends a session (logout). Ending an unknown one is no error.
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	_, err := db.exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, HashSecret(token))
	return mapErr(err)
}
