package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Exception is a pattern of file paths whose errors do not fail a night,
// because those files are backed up by other means. Its scope is one
// server, one customer, or every customer (both IDs nil).
type Exception struct {
	ID            int64      `json:"id"`
	CustomerID    *int64     `json:"customer_id,omitempty"`
	Customer      string     `json:"customer,omitempty"`
	ServerID      *int64     `json:"server_id,omitempty"`
	Server        string     `json:"server,omitempty"`
	Pattern       string     `json:"pattern"`
	Note          string     `json:"note"`
	AddedBy       string     `json:"added_by"`
	AddedAt       time.Time  `json:"added_at"`
	LastMatchedAt *time.Time `json:"last_matched_at,omitempty"`
}

// Scope describes where the exception applies, for people.
func (e Exception) Scope() string {
	switch {
	case e.Server != "":
		return e.Customer + "/" + e.Server
	case e.Customer != "":
		return e.Customer
	default:
		return "global"
	}
}

const exceptionColumns = `e.id, e.customer_id, COALESCE(c.slug, ''), e.server_id, COALESCE(s.name, ''), e.pattern, e.note, e.added_by, e.added_at, e.last_matched_at`
const exceptionFrom = `exceptions e LEFT JOIN customers c ON c.id = e.customer_id LEFT JOIN servers s ON s.id = e.server_id`

func scanException(sc interface{ Scan(...any) error }) (Exception, error) {
	var e Exception
	var cust, srv sql.NullInt64
	var added string
	var matched sql.NullString
	err := sc.Scan(&e.ID, &cust, &e.Customer, &srv, &e.Server, &e.Pattern, &e.Note, &e.AddedBy, &added, &matched)
	e.CustomerID, e.ServerID, e.AddedAt, e.LastMatchedAt = nullInt(cust), nullInt(srv), parseTime(added), nullTime(matched)
	return e, err
}

// AddException adds an exception. scope is "" or "global" for every
// customer, "CUSTOMER" or "CUSTOMER/SERVER".
func (db *DB) AddException(ctx context.Context, actor, scope, pattern, note string) (Exception, error) {
	if strings.TrimSpace(pattern) == "" {
		return Exception{}, fmt.Errorf("add exception: the pattern is empty")
	}
	var e Exception
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		e = Exception{Pattern: pattern, Note: note, AddedBy: actor, AddedAt: db.Now()}
		if scope != "" && scope != "global" {
			cust, srv, _ := strings.Cut(scope, "/")
			var id int64
			if err := tx.QueryRowContext(ctx, `SELECT id FROM customers WHERE lower(slug) = lower(?)`, cust).Scan(&id); err != nil {
				return fmt.Errorf("customer %s: %w", cust, mapErr(err))
			}
			e.CustomerID = &id
			if srv != "" {
				var sid int64
				if err := tx.QueryRowContext(ctx, `SELECT id FROM servers WHERE customer_id = ? AND lower(name) = lower(?)`, id, srv).Scan(&sid); err != nil {
					return fmt.Errorf("server %s: %w", scope, mapErr(err))
				}
				e.ServerID = &sid
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO exceptions (customer_id, server_id, pattern, note, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			e.CustomerID, e.ServerID, e.Pattern, e.Note, actor, formatTime(e.AddedAt)).Scan(&e.ID); err != nil {
			return err
		}
		var err error
		e, err = scanException(tx.QueryRowContext(ctx, `SELECT `+exceptionColumns+` FROM `+exceptionFrom+` WHERE e.id = ?`, e.ID))
		if err != nil {
			return err
		}
		if err := bumpExceptionsVersion(ctx, tx); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, "exception.add", fmt.Sprintf("exception %d (%s)", e.ID, e.Scope()), nil, e)
	})
	if err != nil {
		return Exception{}, fmt.Errorf("add exception %q: %w", pattern, err)
	}
	return e, nil
}

// RemoveException deletes an exception. File errors it covered keep their
// recorded verdict until they are re-evaluated.
func (db *DB) RemoveException(ctx context.Context, actor string, id int64) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		before, err := scanException(tx.QueryRowContext(ctx, `SELECT `+exceptionColumns+` FROM `+exceptionFrom+` WHERE e.id = ?`, id))
		if err != nil {
			return fmt.Errorf("remove exception %d: %w", id, mapErr(err))
		}
		// The results it covered no longer match their file errors
		// digest (their rows lose the link below, and a later exception
		// may reuse the ID): the next re-evaluation compares their rows.
		if _, err := tx.ExecContext(ctx, `UPDATE results SET file_errors_digest = NULL
			WHERE id IN (SELECT result_id FROM file_errors WHERE exception_id = ?)`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM exceptions WHERE id = ?`, id); err != nil {
			return err
		}
		if err := bumpExceptionsVersion(ctx, tx); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, "exception.remove", fmt.Sprintf("exception %d (%s)", id, before.Scope()), before, nil)
	})
}

// Exceptions lists every exception.
func (db *DB) Exceptions(ctx context.Context) ([]Exception, error) {
	return db.queryExceptions(ctx, db.db, `SELECT `+exceptionColumns+` FROM `+exceptionFrom+` ORDER BY e.id`)
}

// ExceptionsFor lists the exceptions that apply to a server: its own, its
// customer's and the global ones.
func (db *DB) ExceptionsFor(ctx context.Context, serverID int64) ([]Exception, error) {
	return db.queryExceptions(ctx, db.db, exceptionsForServer, serverID, serverID)
}

// ExceptionsForNewServer lists the exceptions that will apply to a server
// of a customer not registered yet: the customer's and the global ones.
func (db *DB) ExceptionsForNewServer(ctx context.Context, customerID int64) ([]Exception, error) {
	return db.queryExceptions(ctx, db.db, `SELECT `+exceptionColumns+` FROM `+exceptionFrom+`
		WHERE (e.server_id IS NULL AND e.customer_id = ?) OR e.customer_id IS NULL
		ORDER BY e.id`, customerID)
}

// exceptionsForServer selects a server's exceptions; its arguments are the
// server's ID twice.
const exceptionsForServer = `SELECT ` + exceptionColumns + ` FROM ` + exceptionFrom + `
	WHERE e.server_id = ?
	   OR (e.server_id IS NULL AND e.customer_id = (SELECT customer_id FROM servers WHERE id = ?))
	   OR e.customer_id IS NULL
	ORDER BY e.id`

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func (db *DB) queryExceptions(ctx context.Context, q querier, query string, args ...any) ([]Exception, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []Exception{}
	for rows.Next() {
		e, err := scanException(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Patterns returns the patterns of exceptions, in the same order, for
// parser.Result.Apply.
func Patterns(ex []Exception) []string {
	out := make([]string, len(ex))
	for i, e := range ex {
		out[i] = e.Pattern
	}
	return out
}

// bumpExceptionsVersion records, inside the transaction of an exception
// change, that the exceptions changed (see exceptions_version).
func bumpExceptionsVersion(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE exceptions_version SET version = version + 1 WHERE id = 1`)
	return err
}

// exceptionsVersion reads the count of exception changes.
func exceptionsVersion(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT version FROM exceptions_version WHERE id = 1`).Scan(&v)
	return v, mapErr(err)
}
