package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Role is what a member of staff may do, stored and shown as its name.
type Role string

// Roles of staff. admin may do everything; tech works on reports,
// exceptions and notes; csr reads reports and writes notes.
const (
	RoleAdmin Role = "admin"
	RoleTech  Role = "tech"
	RoleCSR   Role = "csr"
)

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleTech || r == RoleCSR }

// AtLeast reports whether r may do what min may: admin over tech over
// csr. An unknown role reaches nothing but the empty one.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() }

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleTech:
		return 2
	case RoleCSR:
		return 1
	}
	return 0
}

// ValidRole reports whether r names one of the three roles.
func ValidRole(r string) bool { return Role(r).Valid() }

// MinPasswordLen is the shortest password AddUser and SetPassword accept.
const MinPasswordLen = 10

// ErrBadLogin is returned by Authenticate for an unknown user, a wrong
// password or a disabled account alike, so callers cannot tell them apart.
var ErrBadLogin = errors.New("wrong username or password")

// User is a member of staff who logs in to the web interface.
type User struct {
	ID        int64     `json:"id"`
	Username  string    `json:"username"`
	Role      Role      `json:"role"`
	Email     string    `json:"email"`
	Notify    bool      `json:"notify"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

const userColumns = `u.id, u.username, u.role, u.email, u.notify, u.active, u.created_at`

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	var created string
	err := sc.Scan(&u.ID, &u.Username, &u.Role, &u.Email, &u.Notify, &u.Active, &created)
	u.CreatedAt = parseTime(created)
	return u, err
}

// hashPassword returns the bcrypt hash of a password after checking its
// length. The password itself is never stored.
func (db *DB) hashPassword(password string) (string, error) {
	if len(password) < MinPasswordLen {
		return "", fmt.Errorf("the password must have at least %d characters", MinPasswordLen)
	}
	if len(password) > 72 {
		return "", fmt.Errorf("the password must have at most 72 bytes (a bcrypt limit)")
	}
	cost := db.PasswordCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// validateUsername keeps usernames printable and short.
func validateUsername(name string) error {
	if strings.TrimSpace(name) == "" || strings.TrimSpace(name) != name {
		return fmt.Errorf("username %q is empty or has leading or trailing spaces", name)
	}
	if len(name) > 64 {
		return fmt.Errorf("username is longer than 64 bytes")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("username %q contains a control character", name)
		}
	}
	return nil
}

// AddUser creates a member of staff with a bcrypt hash of password.
// A username is unique ignoring case.
func (db *DB) AddUser(ctx context.Context, actor string, u User, password string) (User, error) {
	if err := validateUsername(u.Username); err != nil {
		return User{}, fmt.Errorf("add user: %w", err)
	}
	if !u.Role.Valid() {
		return User{}, fmt.Errorf("add user %s: role %q is not admin, tech or csr", u.Username, u.Role)
	}
	hash, err := db.hashPassword(password)
	if err != nil {
		return User{}, fmt.Errorf("add user %s: %w", u.Username, err)
	}
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = db.addUser(ctx, tx, actor, u, hash)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("add user %s: %w", u.Username, err)
	}
	return u, nil
}

func (db *DB) addUser(ctx context.Context, tx *sql.Tx, actor string, u User, hash string) (User, error) {
	u.CreatedAt, u.Active = db.Now().UTC(), true
	if err := tx.QueryRowContext(ctx, `INSERT INTO users (username, role, email, password_hash, notify, active, created_at) VALUES (?, ?, ?, ?, ?, 1, ?) RETURNING id`,
		u.Username, u.Role, u.Email, hash, boolInt(u.Notify), formatTime(u.CreatedAt)).Scan(&u.ID); err != nil {
		return User{}, err
	}
	// The first-run link is gone once any user exists, however made.
	if _, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE name = ?`, SettingSetupToken); err != nil {
		return User{}, err
	}
	return u, db.audit(ctx, tx, actor, "user.add", "user "+u.Username, nil, u)
}

// AddFirstAdmin creates an admin only while there is no user at all, in
// one transaction, so two people following the first-run link cannot both
// succeed. It returns ErrConflict once a user exists.
func (db *DB) AddFirstAdmin(ctx context.Context, username, email, password string) (User, error) {
	if err := validateUsername(username); err != nil {
		return User{}, fmt.Errorf("add first admin: %w", err)
	}
	hash, err := db.hashPassword(password)
	if err != nil {
		return User{}, fmt.Errorf("add first admin: %w", err)
	}
	var u User
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: a user exists already", ErrConflict)
		}
		u, err = db.addUser(ctx, tx, "setup-link", User{Username: username, Role: RoleAdmin, Email: email}, hash)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("add first admin %s: %w", username, err)
	}
	return u, nil
}

// SetPassword replaces a user's password.
func (db *DB) SetPassword(ctx context.Context, actor string, userID int64, password string) error {
	hash, err := db.hashPassword(password)
	if err != nil {
		return err
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("set password of user %d: %w", userID, ErrNotFound)
		}
		// Existing sessions end with the old password.
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, "user.password", fmt.Sprintf("user %d", userID), nil, nil)
	})
}

// SetUserActive enables or disables a user; disabling ends their sessions.
func (db *DB) SetUserActive(ctx context.Context, actor string, userID int64, active bool) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET active = ? WHERE id = ?`, boolInt(active), userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %d: %w", userID, ErrNotFound)
		}
		if !active {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
				return err
			}
		}
		return db.audit(ctx, tx, actor, "user.active", fmt.Sprintf("user %d", userID), nil, map[string]bool{"active": active})
	})
}

// dummyHash is compared against when a username is unknown, so that a
// failed login takes as long whether or not the user exists. It is a
// bcrypt hash at bcrypt.DefaultCost written out here, not computed: a
// computed one cost every command ~50 ms at start, and a lazily computed
// one would make the first unknown-user login slower than the others.
var dummyHash = []byte("$2a$10$.w1LjxsokdK25bys2nOt3OmMV2JWB/fuNWO5z9uf9IovhX48MmGJG")

// Authenticate checks a username (ignoring case) and password. It returns
// ErrBadLogin for every kind of refusal.
func (db *DB) Authenticate(ctx context.Context, username, password string) (User, error) {
	var hash string
	u, err := scanUserHash(db.db.QueryRowContext(ctx, `SELECT `+userColumns+`, u.password_hash FROM users u WHERE lower(u.username) = lower(?)`, username), &hash)
	if err != nil {
		if errors.Is(mapErr(err), ErrNotFound) {
			bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
			return User{}, ErrBadLogin
		}
		return User{}, fmt.Errorf("authenticate %s: %w", username, mapErr(err))
	}
	if hash == "" || bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || !u.Active {
		return User{}, ErrBadLogin
	}
	return u, nil
}

func scanUserHash(row *sql.Row, hash *string) (User, error) {
	var u User
	var created string
	err := row.Scan(&u.ID, &u.Username, &u.Role, &u.Email, &u.Notify, &u.Active, &created, hash)
	u.CreatedAt = parseTime(created)
	return u, err
}

// UserByName finds a user by username, ignoring case.
func (db *DB) UserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(db.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE lower(u.username) = lower(?)`, username))
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", username, mapErr(err))
	}
	return u, nil
}

// Users lists every user by username.
func (db *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users u ORDER BY lower(u.username)`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountUsers returns how many users exist, active or not.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, mapErr(err)
}
