package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/backupreport/backupreport/store/names"
)

// EveryDay is the expectation mask of a server that reports every night:
// bit 0 is Sunday, bit 6 Saturday (time.Weekday order).
const EveryDay = 0x7f

// Server is one customer machine that uploads a report.
type Server struct {
	ID         int64     `json:"id"`
	CustomerID int64     `json:"customer_id"`
	Customer   string    `json:"customer"` // the customer's slug
	Name       string    `json:"name"`
	Retired    bool      `json:"retired"`
	Pending    bool      `json:"new"` // registered by an upload and not yet approved
	ExpectDays int       `json:"expect_days"`
	CreatedAt  time.Time `json:"created_at"`
}

// Expected reports whether a report is expected for the night of weekday d.
func (s Server) Expected(d time.Weekday) bool { return s.ExpectDays&(1<<uint(d)) != 0 }

const serverColumns = `s.id, s.customer_id, c.slug, s.name, s.retired, s.pending, s.expect_days, s.created_at`
const serverFrom = `servers s JOIN customers c ON c.id = s.customer_id`

func scanServer(sc interface{ Scan(...any) error }) (Server, error) {
	var s Server
	var created string
	err := sc.Scan(&s.ID, &s.CustomerID, &s.Customer, &s.Name, &s.Retired, &s.Pending, &s.ExpectDays, &created)
	s.CreatedAt = parseTime(created)
	return s, err
}

// AddServer registers a server under a customer. pending marks a server
// registered automatically by an upload, which staff then approve. The
// name is brought to NFC and must pass names.Check; a refusal is a
// *names.Error, wrapped.
func (db *DB) AddServer(ctx context.Context, actor, customer, name string, pending bool) (Server, error) {
	var s Server
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		s, err = db.addServer(ctx, tx, actor, customer, name, pending)
		return err
	})
	var badName *names.Error
	if errors.As(err, &badName) {
		// The refusal quotes the name itself, invisible characters escaped.
		return Server{}, fmt.Errorf("add server: %w", err)
	}
	if err != nil {
		return Server{}, fmt.Errorf("add server %s/%s: %w", customer, name, err)
	}
	return s, nil
}

// addServer inserts a server; every new server name passes here. A name
// that breaks the rule gives the *names.Error itself; a name taken gives
// ErrConflict.
func (db *DB) addServer(ctx context.Context, tx *sql.Tx, actor, customer, name string, pending bool) (Server, error) {
	s, created, err := db.addServerIfAbsent(ctx, tx, actor, customer, name, pending)
	if err == nil && !created {
		return Server{}, fmt.Errorf("%w: server %s/%s exists already", ErrConflict, customer, s.Name)
	}
	return s, err
}

// addServerIfAbsent is addServer that returns the server already there
// (created false) when the name is taken, also by a transaction that
// committed meanwhile: two nodes registering one new server at once both
// store their upload. The insert does nothing on a conflict rather than
// fail, since a failed statement would abort the whole transaction on
// PostgreSQL.
func (db *DB) addServerIfAbsent(ctx context.Context, tx txn, actor, customer, name string, pending bool) (Server, bool, error) {
	name = names.Normalize(name)
	if err := names.Check(names.Server, name); err != nil {
		return Server{}, false, err
	}
	var custID int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM customers WHERE lower(slug) = lower(?)`, customer).Scan(&custID); err != nil {
		return Server{}, false, fmt.Errorf("customer %s: %w", customer, mapErr(err))
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO servers (customer_id, name, pending, expect_days, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, custID, name, boolInt(pending), EveryDay, formatTime(db.Now()))
	if err != nil {
		return Server{}, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Server{}, false, err
	}
	s, err := scanServer(tx.QueryRowContext(ctx, `SELECT `+serverColumns+` FROM `+serverFrom+` WHERE s.customer_id = ? AND lower(s.name) = lower(?)`, custID, name))
	if err != nil {
		return Server{}, false, mapErr(err)
	}
	if n == 0 {
		return s, false, nil
	}
	return s, true, db.audit(ctx, tx, actor, "server.add", "server "+s.Customer+"/"+s.Name, nil, s)
}

// ServerOfCustomer returns the named server of a customer (names compared
// ignoring ASCII case, as given or in NFC), or ErrNotFound. A known server
// is found by its name as stored, whatever the naming rule says of it. An upload naming an unknown server
// registers it only when it is stored: see Upload.Register.
func (db *DB) ServerOfCustomer(ctx context.Context, customerID int64, name string) (Server, error) {
	return db.serverByCustomerID(ctx, customerID, name)
}

// ensureServer returns the named server of a customer, registering it as
// pending when it is not known yet, in tx. created tells whether it was
// registered now. Registering in the transaction that stores the upload's
// result means a failed or cut-off upload leaves no server behind.
func (db *DB) ensureServer(ctx context.Context, tx txn, customerID int64, name string) (s Server, created bool, err error) {
	s, err = lookupName(name, func(name string) (Server, error) {
		s, err := scanServer(tx.QueryRowContext(ctx, `SELECT `+serverColumns+` FROM `+serverFrom+` WHERE s.customer_id = ? AND lower(s.name) = lower(?)`, customerID, name))
		return s, mapErr(err)
	})
	if err == nil || !errors.Is(err, ErrNotFound) {
		return s, false, err
	}
	var slug string
	if err := tx.QueryRowContext(ctx, `SELECT slug FROM customers WHERE id = ?`, customerID).Scan(&slug); err != nil {
		return Server{}, false, fmt.Errorf("customer %d: %w", customerID, mapErr(err))
	}
	return db.addServerIfAbsent(ctx, tx, "upload", slug, name, true)
}

func (db *DB) serverByCustomerID(ctx context.Context, customerID int64, name string) (Server, error) {
	return lookupName(name, func(name string) (Server, error) {
		s, err := scanServer(db.db.QueryRowContext(ctx, `SELECT `+serverColumns+` FROM `+serverFrom+` WHERE s.customer_id = ? AND lower(s.name) = lower(?)`, customerID, name))
		return s, mapErr(err)
	})
}

// ServerByName finds a server by customer slug and server name, ignoring
// ASCII case, as given or in NFC.
func (db *DB) ServerByName(ctx context.Context, customer, name string) (Server, error) {
	s, err := serverByName(ctx, db.db, customer, name)
	if err != nil {
		return Server{}, fmt.Errorf("server %s/%s: %w", customer, name, err)
	}
	return s, nil
}

func serverByName(ctx context.Context, q queryer, customer, name string) (Server, error) {
	c, err := customerBySlug(ctx, q, customer)
	if err != nil {
		return Server{}, err
	}
	return lookupName(name, func(name string) (Server, error) {
		s, err := scanServer(q.QueryRowContext(ctx, `SELECT `+serverColumns+` FROM `+serverFrom+` WHERE s.customer_id = ? AND lower(s.name) = lower(?)`, c.ID, name))
		return s, mapErr(err)
	})
}

// ServerByID finds a server by its ID.
func (db *DB) ServerByID(ctx context.Context, id int64) (Server, error) {
	s, err := scanServer(db.db.QueryRowContext(ctx, `SELECT `+serverColumns+` FROM `+serverFrom+` WHERE s.id = ?`, id))
	if err != nil {
		return Server{}, fmt.Errorf("server %d: %w", id, mapErr(err))
	}
	return s, nil
}

// Servers lists every server, by customer and name.
func (db *DB) Servers(ctx context.Context) ([]Server, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+serverColumns+` FROM `+serverFrom+` ORDER BY lower(c.slug), lower(s.name)`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []Server{}
	for rows.Next() {
		s, err := scanServer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// UpdateServer changes a server's name, retired and pending flags and
// expected weekdays. A new name is brought to NFC and must pass
// names.Check; an unchanged one is kept as it is, so that a server named
// before the rule can still be approved, retired or rescheduled.
func (db *DB) UpdateServer(ctx context.Context, actor string, s Server) error {
	return db.withTx(ctx, func(tx *sql.Tx) error { return db.updateServer(ctx, tx, actor, s) })
}

func (db *DB) updateServer(ctx context.Context, tx *sql.Tx, actor string, s Server) error {
	before, err := scanServer(tx.QueryRowContext(ctx, `SELECT `+serverColumns+` FROM `+serverFrom+` WHERE s.id = ?`, s.ID))
	if err != nil {
		return fmt.Errorf("update server %d: %w", s.ID, mapErr(err))
	}
	if s.Name != before.Name {
		s.Name = names.Normalize(s.Name)
		if err := names.Check(names.Server, s.Name); s.Name != before.Name && err != nil {
			return fmt.Errorf("rename server %s/%s: %w", before.Customer, before.Name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE servers SET name = ?, retired = ?, pending = ?, expect_days = ? WHERE id = ?`,
		s.Name, boolInt(s.Retired), boolInt(s.Pending), s.ExpectDays&EveryDay, s.ID); err != nil {
		return fmt.Errorf("update server %s/%s: %w", before.Customer, before.Name, err)
	}
	if before.Retired && !s.Retired {
		// Back from retirement: its retired nights are not missing ones.
		if _, err := tx.ExecContext(ctx, `UPDATE servers SET watched_since = ? WHERE id = ?`, formatTime(db.Now()), s.ID); err != nil {
			return err
		}
	}
	s.Customer, s.CustomerID, s.CreatedAt = before.Customer, before.CustomerID, before.CreatedAt
	s.ExpectDays &= EveryDay
	return db.audit(ctx, tx, actor, "server.update", "server "+before.Customer+"/"+before.Name, before, s)
}
