package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// APITokenPrefix starts every API token, so that one found in a script or
// a log is recognisable.
const APITokenPrefix = "brt_"

// APIToken is a script's credential. It acts with its user's role. Only
// the SHA-256 of the token is stored; the token is shown once.
type APIToken struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Username   string     `json:"username"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateAPIToken makes a token for a user and returns it in clear, the
// only time it is available.
func (db *DB) CreateAPIToken(ctx context.Context, actor string, userID int64, name string) (string, APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", APIToken{}, fmt.Errorf("create API token: the name must have 1 to 100 characters")
	}
	token := APITokenPrefix + NewSecret()
	t := APIToken{UserID: userID, Name: name, CreatedAt: db.Now().UTC()}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT username FROM users WHERE id = ?`, userID).Scan(&t.Username); err != nil {
			return fmt.Errorf("user %d: %w", userID, mapErr(err))
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			userID, name, HashSecret(token), formatTime(t.CreatedAt)).Scan(&t.ID); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, "token.add", fmt.Sprintf("api token %d (%s)", t.ID, name), nil, t)
	})
	if err != nil {
		return "", APIToken{}, fmt.Errorf("create API token %q: %w", name, err)
	}
	return token, t, nil
}

// UserByAPIToken returns the active user a token belongs to and records
// its use. A revoked or unknown token is ErrNotFound.
func (db *DB) UserByAPIToken(ctx context.Context, token string) (User, error) {
	var u User
	var id int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var created string
		err := tx.QueryRowContext(ctx, `SELECT t.id, u.id, u.username, u.role, u.email, u.notify, u.active, u.created_at
			FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.active = 1`,
			HashSecret(token)).Scan(&id, &u.ID, &u.Username, &u.Role, &u.Email, &u.Notify, &u.Active, &created)
		if err != nil {
			return err
		}
		u.CreatedAt = parseTime(created)
		_, err = tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, formatTime(db.Now()), id)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("api token: %w", err)
	}
	return u, nil
}

// APITokens lists tokens, newest first: every user's when userID is 0.
func (db *DB) APITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT t.id, t.user_id, u.username, t.name, t.created_at, t.last_used_at, t.revoked_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE ? = 0 OR t.user_id = ? ORDER BY t.id DESC`, userID, userID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []APIToken{}
	for rows.Next() {
		var t APIToken
		var created string
		var used, revoked sql.NullString
		if err := rows.Scan(&t.ID, &t.UserID, &t.Username, &t.Name, &created, &used, &revoked); err != nil {
			return nil, err
		}
		t.CreatedAt, t.LastUsedAt, t.RevokedAt = parseTime(created), nullTime(used), nullTime(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken revokes a token. When userID is not 0 the token must
// belong to that user (staff revoke their own; admins pass 0).
func (db *DB) RevokeAPIToken(ctx context.Context, actor string, id, userID int64) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL AND (? = 0 OR user_id = ?)`,
			formatTime(db.Now()), id, userID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("revoke api token %d: %w", id, ErrNotFound)
		}
		return db.audit(ctx, tx, actor, "token.revoke", fmt.Sprintf("api token %d", id), nil, nil)
	})
}
