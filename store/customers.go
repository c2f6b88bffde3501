package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/backupreport/backupreport/store/names"
)

// Customer is an MSP customer: the owner of servers and keys.
type Customer struct {
	ID        int64     `json:"id"`
	Slug      string    `json:"slug"` // the name used in upload paths, unique ignoring case
	Name      string    `json:"name"`
	Active    bool      `json:"active"`
	CSRID     *int64    `json:"csr_id,omitempty"`
	TSRID     *int64    `json:"tsr_id,omitempty"`
	CSR       string    `json:"csr"` // username of the customer service rep, if any
	TSR       string    `json:"tsr"` // username of the technician, if any
	Demo      bool      `json:"demo"`
	Note      string    `json:"note"` // staff's free text about the customer
	CreatedAt time.Time `json:"created_at"`
}

const customerColumns = `c.id, c.slug, c.name, c.active, c.csr_id, c.tsr_id, COALESCE(cu.username, ''), COALESCE(tu.username, ''), c.demo, c.note, c.created_at`
const customerFrom = `customers c LEFT JOIN users cu ON cu.id = c.csr_id LEFT JOIN users tu ON tu.id = c.tsr_id`

func scanCustomer(sc interface{ Scan(...any) error }) (Customer, error) {
	var c Customer
	var csr, tsr sql.NullInt64
	var created string
	err := sc.Scan(&c.ID, &c.Slug, &c.Name, &c.Active, &csr, &tsr, &c.CSR, &c.TSR, &c.Demo, &c.Note, &created)
	c.CSRID, c.TSRID, c.CreatedAt = nullInt(csr), nullInt(tsr), parseTime(created)
	return c, err
}

// lookupName runs find with name as given and, when that finds nothing
// and name is not in NFC, once more with its NFC form. Names are stored in
// NFC since the naming rule (package names); one stored before it in
// another form still matches as given.
func lookupName[T any](name string, find func(name string) (T, error)) (T, error) {
	v, err := find(name)
	if errors.Is(err, ErrNotFound) {
		if n := names.Normalize(name); n != name {
			return find(n)
		}
	}
	return v, err
}

// AddCustomer creates a customer. The slug is brought to NFC and must
// pass names.Check; a refusal is a *names.Error, wrapped.
func (db *DB) AddCustomer(ctx context.Context, actor string, c Customer) (Customer, error) {
	c.Slug = names.Normalize(c.Slug)
	if err := names.Check(names.Customer, c.Slug); err != nil {
		return Customer{}, fmt.Errorf("add customer: %w", err)
	}
	if c.Name == "" {
		c.Name = c.Slug
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO customers (slug, name, active, csr_id, tsr_id, demo, created_at) VALUES (?, ?, 1, ?, ?, ?, ?) RETURNING id`,
			c.Slug, c.Name, c.CSRID, c.TSRID, boolInt(c.Demo), formatTime(db.Now())).Scan(&c.ID); err != nil {
			return err
		}
		c.Active = true
		return db.audit(ctx, tx, actor, "customer.add", "customer "+c.Slug, nil, c)
	})
	if err != nil {
		return Customer{}, fmt.Errorf("add customer %s: %w", c.Slug, err)
	}
	return db.CustomerBySlug(ctx, c.Slug)
}

// UpdateCustomer changes a customer's name, active flag, CSR/TSR and note.
func (db *DB) UpdateCustomer(ctx context.Context, actor string, c Customer) error {
	if len(c.Note) > 4000 {
		return fmt.Errorf("update customer %d: the note is longer than 4000 bytes", c.ID)
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		return db.updateCustomer(ctx, tx, actor, c)
	})
}

func (db *DB) updateCustomer(ctx context.Context, tx *sql.Tx, actor string, c Customer) error {
	before, err := scanCustomer(tx.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM `+customerFrom+` WHERE c.id = ?`, c.ID))
	if err != nil {
		return fmt.Errorf("update customer %d: %w", c.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE customers SET name = ?, active = ?, csr_id = ?, tsr_id = ?, note = ? WHERE id = ?`,
		c.Name, boolInt(c.Active), c.CSRID, c.TSRID, c.Note, c.ID); err != nil {
		return fmt.Errorf("update customer %s: %w", before.Slug, err)
	}
	if !before.Active && c.Active {
		// Back from inactivity: nights before now are not missing ones.
		if _, err := tx.ExecContext(ctx, `UPDATE servers SET watched_since = ? WHERE customer_id = ?`, formatTime(db.Now()), c.ID); err != nil {
			return err
		}
	}
	after, err := scanCustomer(tx.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM `+customerFrom+` WHERE c.id = ?`, c.ID))
	if err != nil {
		return err
	}
	return db.audit(ctx, tx, actor, "customer.update", "customer "+before.Slug, before, after)
}

// CustomerBySlug finds a customer by slug, ignoring ASCII case, as given
// or in NFC.
func (db *DB) CustomerBySlug(ctx context.Context, slug string) (Customer, error) {
	c, err := customerBySlug(ctx, db.db, slug)
	if err != nil {
		return Customer{}, fmt.Errorf("customer %s: %w", slug, err)
	}
	return c, nil
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func customerBySlug(ctx context.Context, q queryer, slug string) (Customer, error) {
	return lookupName(slug, func(slug string) (Customer, error) {
		c, err := scanCustomer(q.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM `+customerFrom+` WHERE lower(c.slug) = lower(?)`, slug))
		return c, mapErr(err)
	})
}

// Customers lists every customer by slug.
func (db *DB) Customers(ctx context.Context) ([]Customer, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+customerColumns+` FROM `+customerFrom+` ORDER BY lower(c.slug)`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []Customer{}
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
