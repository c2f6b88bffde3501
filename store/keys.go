package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Key is a customer's public key: the identity of its uploads. A key bound
// to a server may upload only as that server.
type Key struct {
	ID          int64  `json:"id"`
	CustomerID  int64  `json:"customer_id"`
	Customer    string `json:"customer"`
	ServerID    *int64 `json:"server_id,omitempty"`
	Server      string `json:"server,omitempty"`
	Fingerprint string `json:"fingerprint"`
	Type        string `json:"type"`
	Bits        int    `json:"bits"`
	PublicKey   string `json:"public_key"` // authorized_keys form, without options
	Comment     string `json:"comment"`
	// ForcedCommand is the forced command the key uploads with whatever
	// the client asks for ("cat > /reports/<customer>/<server>.out"), or
	// "" for none. Only a server-bound key has one (AddKey checks).
	ForcedCommand string     `json:"forced_command"`
	AddedAt       time.Time  `json:"added_at"`
	AddedBy       string     `json:"added_by"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt    *time.Time `json:"last_used_at,omitempty"`
	Login         Login      `json:"last_login"`
}

// Login describes how a client last logged in with a key: what staff need
// to find customers still on DSA keys, SHA-1 signatures or weak ciphers.
type Login struct {
	ClientVersion string `json:"client_version"`
	SigAlgo       string `json:"signature_algorithm"`
	Kex           string `json:"kex"`
	Cipher        string `json:"cipher"`
	MAC           string `json:"mac"`
	RemoteAddr    string `json:"remote_addr"`
}

const keyColumns = `k.id, k.customer_id, c.slug, k.server_id, COALESCE(s.name, ''), k.fingerprint, k.type, k.bits, k.public_key, k.comment, k.forced_command,
	k.added_at, k.added_by, k.revoked_at, k.last_used_at, k.last_client_version, k.last_sig_algo, k.last_kex, k.last_cipher, k.last_mac, k.last_remote_addr`
const keyFrom = `keys k JOIN customers c ON c.id = k.customer_id LEFT JOIN servers s ON s.id = k.server_id`

func scanKey(sc interface{ Scan(...any) error }) (Key, error) {
	var k Key
	var serverID sql.NullInt64
	var added string
	var revoked, used sql.NullString
	err := sc.Scan(&k.ID, &k.CustomerID, &k.Customer, &serverID, &k.Server, &k.Fingerprint, &k.Type, &k.Bits, &k.PublicKey, &k.Comment, &k.ForcedCommand,
		&added, &k.AddedBy, &revoked, &used, &k.Login.ClientVersion, &k.Login.SigAlgo, &k.Login.Kex, &k.Login.Cipher, &k.Login.MAC, &k.Login.RemoteAddr)
	k.ServerID, k.AddedAt, k.RevokedAt, k.LastUsedAt = nullInt(serverID), parseTime(added), nullTime(revoked), nullTime(used)
	return k, err
}

// AddKey registers a key for k.Customer (and k.Server when not empty).
// The server must exist. A fingerprint can be registered only once. A
// forced command (k.ForcedCommand) needs a server: it is refused on a
// customer-wide key. Whether the command is one the SSH
// side can run is the caller's to check.
func (db *DB) AddKey(ctx context.Context, actor string, k Key) (Key, error) {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT id FROM customers WHERE lower(slug) = lower(?)`, k.Customer).Scan(&k.CustomerID); err != nil {
			return fmt.Errorf("customer %s: %w", k.Customer, mapErr(err))
		}
		k.ServerID = nil
		if k.ForcedCommand != "" && k.Server == "" {
			return errors.New("a forced command needs a key bound to a server")
		}
		if k.Server != "" {
			var id int64
			if err := tx.QueryRowContext(ctx, `SELECT id FROM servers WHERE customer_id = ? AND lower(name) = lower(?)`, k.CustomerID, k.Server).Scan(&id); err != nil {
				return fmt.Errorf("server %s/%s: %w", k.Customer, k.Server, mapErr(err))
			}
			k.ServerID = &id
		}
		k.AddedAt, k.AddedBy = db.Now(), actor
		if err := tx.QueryRowContext(ctx, `INSERT INTO keys (customer_id, server_id, fingerprint, type, bits, public_key, comment, forced_command, added_at, added_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			k.CustomerID, k.ServerID, k.Fingerprint, k.Type, k.Bits, k.PublicKey, k.Comment, k.ForcedCommand, formatTime(k.AddedAt), actor).Scan(&k.ID); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, "key.add", "key "+k.Fingerprint, nil, k)
	})
	if err != nil {
		return Key{}, fmt.Errorf("add key %s: %w", k.Fingerprint, err)
	}
	return db.KeyByFingerprint(ctx, k.Fingerprint)
}

// KeyByFingerprint finds a key, revoked or not.
func (db *DB) KeyByFingerprint(ctx context.Context, fp string) (Key, error) {
	k, err := scanKey(db.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM `+keyFrom+` WHERE k.fingerprint = ?`, fp))
	if err != nil {
		return Key{}, fmt.Errorf("key %s: %w", fp, mapErr(err))
	}
	return k, nil
}

// Keys lists every key, by customer and time added.
func (db *DB) Keys(ctx context.Context) ([]Key, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM `+keyFrom+` ORDER BY lower(c.slug), k.id`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey marks a key revoked; its uploads are refused from then on.
func (db *DB) RevokeKey(ctx context.Context, actor, fp string) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE keys SET revoked_at = ? WHERE fingerprint = ? AND revoked_at IS NULL`, formatTime(db.Now()), fp)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("revoke key %s: %w (or already revoked)", fp, ErrNotFound)
		}
		return db.audit(ctx, tx, actor, "key.revoke", "key "+fp, map[string]any{"revoked": false}, map[string]any{"revoked": true})
	})
}

// RecordLogin keeps the latest login details on the key's record. An
// upload records its connection's login with its result instead (see
// Upload.Login): one transaction for both.
func (db *DB) RecordLogin(ctx context.Context, fp string, l Login) error {
	// It joins the uploads' group commit: one fsync for both.
	return db.RecordKeyLogin(ctx, KeyLogin{Fingerprint: fp, Login: l, At: db.Now()})
}

// RecordKeyLogin is RecordLogin for a login made at kl.At.
func (db *DB) RecordKeyLogin(ctx context.Context, kl KeyLogin) error {
	err := db.groupTx(ctx, func(ctx context.Context, tx txn) error { return writeLogin(ctx, tx, kl) })
	if err != nil {
		return fmt.Errorf("record login of key %s: %w", kl.Fingerprint, mapErr(err))
	}
	return nil
}

// KeyLogin is a login to keep on its key's record: when, and how.
type KeyLogin struct {
	Fingerprint string
	Login
	At time.Time
}

func writeLogin(ctx context.Context, tx txn, kl KeyLogin) error {
	l := kl.Login
	_, err := tx.ExecContext(ctx, `UPDATE keys SET last_used_at = ?, last_client_version = ?, last_sig_algo = ?, last_kex = ?, last_cipher = ?, last_mac = ?, last_remote_addr = ? WHERE fingerprint = ?`,
		formatTime(kl.At), l.ClientVersion, l.SigAlgo, l.Kex, l.Cipher, l.MAC, l.RemoteAddr, kl.Fingerprint)
	return err
}
