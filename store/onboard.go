package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/backupreport/backupreport/store/names"
)

// Onboarding is what one onboarding asks for: a customer (created when
// new, with Name as its display name), a server of it (created when new)
// and the server's key. Key.Customer and Key.Server are filled in by
// Onboard.
type Onboarding struct {
	Customer     string
	CustomerName string
	Server       string
	Key          Key
}

// Onboarded is what Onboard did.
type Onboarded struct {
	Customer        Customer
	Server          Server
	Key             Key
	NewCustomer     bool
	NewServer       bool
	KeyAlreadyBound bool // the key was registered for this server before: nothing changed
}

// Onboard creates, in one transaction, the customer if it does not exist,
// the server if it does not exist (not pending: staff made it), and the
// key bound to that server; each is audited as its own command would
// audit it. A key registered for this very server already is no error
// (onboarding again is harmless); registered for anything else it is
// ErrConflict. Names pass names.Check like every new name.
func (db *DB) Onboard(ctx context.Context, actor string, o Onboarding) (Onboarded, error) {
	var out Onboarded
	o.Customer, o.Server = names.Normalize(o.Customer), names.Normalize(o.Server)
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var slug string
		err := tx.QueryRowContext(ctx, `SELECT slug FROM customers WHERE lower(slug) = lower(?)`, o.Customer).Scan(&slug)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if err := names.Check(names.Customer, o.Customer); err != nil {
				return err
			}
			if o.CustomerName == "" {
				o.CustomerName = o.Customer
			}
			c := Customer{Slug: o.Customer, Name: o.CustomerName, Active: true}
			if err := tx.QueryRowContext(ctx, `INSERT INTO customers (slug, name, active, demo, created_at) VALUES (?, ?, 1, 0, ?) RETURNING id`,
				c.Slug, c.Name, formatTime(db.Now())).Scan(&c.ID); err != nil {
				return err
			}
			if err := db.audit(ctx, tx, actor, "customer.add", "customer "+c.Slug, nil, c); err != nil {
				return err
			}
			slug, out.NewCustomer = c.Slug, true
		case err != nil:
			return err
		}
		var custID int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM customers WHERE slug = ?`, slug).Scan(&custID); err != nil {
			return err
		}
		s, err := scanServer(tx.QueryRowContext(ctx, `SELECT `+serverColumns+` FROM `+serverFrom+` WHERE s.customer_id = ? AND lower(s.name) = lower(?)`, custID, o.Server))
		if errors.Is(err, sql.ErrNoRows) {
			s, err = db.addServer(ctx, tx, actor, slug, o.Server, false)
			out.NewServer = err == nil
		}
		if err != nil {
			return err
		}
		out.Server = s

		var boundTo sql.NullInt64
		var keyCust int64
		var revoked sql.NullString
		err = tx.QueryRowContext(ctx, `SELECT customer_id, server_id, revoked_at FROM keys WHERE fingerprint = ?`, o.Key.Fingerprint).Scan(&keyCust, &boundTo, &revoked)
		switch {
		case err == nil && revoked.Valid:
			return fmt.Errorf("the key %s was revoked; a revoked key cannot come back, so make a new key pair: %w", o.Key.Fingerprint, ErrConflict)
		case err == nil && keyCust == custID && boundTo.Valid && boundTo.Int64 == s.ID:
			out.KeyAlreadyBound = true
			return nil
		case err == nil:
			return fmt.Errorf("the key %s is registered already for another customer or server (see 'backupreport key list'): %w", o.Key.Fingerprint, ErrConflict)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		k := o.Key
		k.CustomerID, k.Customer, k.Server, k.ServerID = custID, slug, s.Name, &s.ID
		k.AddedAt, k.AddedBy = db.Now(), actor
		if err := tx.QueryRowContext(ctx, `INSERT INTO keys (customer_id, server_id, fingerprint, type, bits, public_key, comment, added_at, added_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			k.CustomerID, k.ServerID, k.Fingerprint, k.Type, k.Bits, k.PublicKey, k.Comment, formatTime(k.AddedAt), actor).Scan(&k.ID); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, "key.add", "key "+k.Fingerprint, nil, k)
	})
	if err != nil {
		return Onboarded{}, fmt.Errorf("onboard %s/%s: %w", o.Customer, o.Server, err)
	}
	if out.Customer, err = db.CustomerBySlug(ctx, out.Server.Customer); err != nil {
		return Onboarded{}, err
	}
	if out.Key, err = db.KeyByFingerprint(ctx, o.Key.Fingerprint); err != nil {
		return Onboarded{}, err
	}
	return out, nil
}

// FirstUpload returns the server's latest upload (of its latest ten
// results; missing nights are not uploads), or ErrNotFound while
// none has arrived: what the onboarding page shows.
func (db *DB) FirstUpload(ctx context.Context, serverID int64) (ResultRow, error) {
	rs, err := db.History(ctx, serverID, 10, 0)
	if err != nil {
		return ResultRow{}, err
	}
	for _, r := range rs {
		if r.Status != StatusMissing {
			return r, nil
		}
	}
	return ResultRow{}, fmt.Errorf("first upload of server %d: %w", serverID, ErrNotFound)
}
