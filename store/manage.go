package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/backupreport/backupreport/store/names"
)

// UpdateUser changes a user's role, e-mail and notification flag.
func (db *DB) UpdateUser(ctx context.Context, actor string, u User) error {
	if !u.Role.Valid() {
		return fmt.Errorf("update user %d: role %q is not admin, tech or csr", u.ID, u.Role)
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		before, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, u.ID))
		if err != nil {
			return fmt.Errorf("update user %d: %w", u.ID, mapErr(err))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, email = ?, notify = ? WHERE id = ?`, u.Role, strings.TrimSpace(u.Email), boolInt(u.Notify), u.ID); err != nil {
			return err
		}
		after := before
		after.Role, after.Email, after.Notify = u.Role, strings.TrimSpace(u.Email), u.Notify
		return db.audit(ctx, tx, actor, "user.update", "user "+before.Username, before, after)
	})
}

// UserByID finds a user by ID.
func (db *DB) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(db.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, id))
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, mapErr(err))
	}
	return u, nil
}

// ExceptionByID finds an exception.
func (db *DB) ExceptionByID(ctx context.Context, id int64) (Exception, error) {
	e, err := scanException(db.db.QueryRowContext(ctx, `SELECT `+exceptionColumns+` FROM `+exceptionFrom+` WHERE e.id = ?`, id))
	if err != nil {
		return Exception{}, fmt.Errorf("exception %d: %w", id, mapErr(err))
	}
	return e, nil
}

// UpdateException changes an exception's pattern and note; its scope stays
// (remove it and add another to change that).
func (db *DB) UpdateException(ctx context.Context, actor string, id int64, pattern, note string) (Exception, error) {
	if strings.TrimSpace(pattern) == "" {
		return Exception{}, fmt.Errorf("update exception %d: the pattern is empty", id)
	}
	var after Exception
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		before, err := scanException(tx.QueryRowContext(ctx, `SELECT `+exceptionColumns+` FROM `+exceptionFrom+` WHERE e.id = ?`, id))
		if err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE exceptions SET pattern = ?, note = ? WHERE id = ?`, pattern, note, id); err != nil {
			return err
		}
		if pattern != before.Pattern {
			if err := bumpExceptionsVersion(ctx, tx); err != nil {
				return err
			}
		}
		after = before
		after.Pattern, after.Note = pattern, note
		return db.audit(ctx, tx, actor, "exception.update", fmt.Sprintf("exception %d (%s)", id, before.Scope()), before, after)
	})
	if err != nil {
		return Exception{}, fmt.Errorf("update exception %d: %w", id, err)
	}
	return after, nil
}

// StaleExceptions returns the exceptions that matched nothing since
// cutoff and were added before it: candidates for removal.
func (db *DB) StaleExceptions(ctx context.Context, cutoff time.Time) ([]Exception, error) {
	c := formatTime(cutoff)
	return db.queryExceptions(ctx, db.db, `SELECT `+exceptionColumns+` FROM `+exceptionFrom+`
		WHERE e.added_at < ? AND (e.last_matched_at IS NULL OR e.last_matched_at < ?) ORDER BY e.id`, c, c)
}

// FixedFile is a file an exception covered that no longer fails: its
// server has uploaded since without an error on it. Its other backup may
// no longer be needed, or the exception may be hiding nothing.
type FixedFile struct {
	Customer    string    `json:"customer"`
	Server      string    `json:"server"`
	Path        string    `json:"path"`
	ExceptionID int64     `json:"exception_id"`
	Pattern     string    `json:"pattern"`
	LastFailed  time.Time `json:"last_failed"`
	LastUpload  time.Time `json:"last_upload"`
}

// NoLongerFailing lists files excepted in results received since since
// whose server's latest upload came after their last error.
func (db *DB) NoLongerFailing(ctx context.Context, since time.Time, limit int) ([]FixedFile, error) {
	rows, err := db.db.QueryContext(ctx, `WITH covered AS (
			SELECT r.server_id, f.path, f.exception_id, MAX(r.received_at) AS last_failed
			FROM results r JOIN file_errors f ON f.result_id = r.id
			WHERE r.received_at >= ? AND f.excepted = 1 AND f.exception_id IS NOT NULL
			GROUP BY r.server_id, f.path, f.exception_id
		), latest AS (
			SELECT server_id, MAX(received_at) AS last_upload FROM results
			WHERE received_at >= ? AND source <> 'missing' GROUP BY server_id
		)
		SELECT c.slug, s.name, cv.path, cv.exception_id, e.pattern, cv.last_failed, l.last_upload
		FROM covered cv
		JOIN latest l ON l.server_id = cv.server_id AND l.last_upload > cv.last_failed
		JOIN servers s ON s.id = cv.server_id JOIN customers c ON c.id = s.customer_id
		JOIN exceptions e ON e.id = cv.exception_id
		ORDER BY lower(c.slug), lower(s.name), cv.path LIMIT ?`, formatTime(since), formatTime(since), limit)
	if err != nil {
		return nil, fmt.Errorf("no longer failing: %w", mapErr(err))
	}
	defer rows.Close()
	out := []FixedFile{}
	for rows.Next() {
		var f FixedFile
		var lf, lu string
		if err := rows.Scan(&f.Customer, &f.Server, &f.Path, &f.ExceptionID, &f.Pattern, &lf, &lu); err != nil {
			return nil, err
		}
		f.LastFailed, f.LastUpload = parseTime(lf), parseTime(lu)
		out = append(out, f)
	}
	return out, rows.Err()
}

// CustomerRow is one line of a customers import: the wanted state.
type CustomerRow struct {
	Line   int // in the file, for messages
	Slug   string
	Name   string // "" keeps the current name (or the slug for a new one)
	CSR    string // username; "" means none
	TSR    string
	Active bool
}

// ServerRow is one line of a servers import.
type ServerRow struct {
	Line       int
	Customer   string
	Server     string
	ExpectDays int // weekday mask, EveryDay for every night
	Retired    bool
}

// ImportChange is one change an import made, or would make.
type ImportChange struct {
	Line   int    `json:"line"`
	Action string `json:"action"` // add, update, unchanged
	Object string `json:"object"`
	Detail string `json:"detail,omitempty"`
}

// ImportCustomers brings customers to the state the rows describe: new
// ones are added, existing ones updated (matched by slug, ignoring case).
// Customers not in the rows are left alone. Everything happens in one
// transaction, audited; with dryRun it is rolled back, so the changes
// returned are exactly what a real run would do. An error in any row
// (unknown CSR, bad slug) stops the import with nothing changed.
func (db *DB) ImportCustomers(ctx context.Context, actor string, rows []CustomerRow, dryRun bool) ([]ImportChange, error) {
	var out []ImportChange
	err := db.importTx(ctx, dryRun, func(tx *sql.Tx) error {
		for _, r := range rows {
			csr, err := userIDOf(ctx, tx, r.CSR)
			if err != nil {
				return fmt.Errorf("line %d: csr: %w", r.Line, err)
			}
			tsr, err := userIDOf(ctx, tx, r.TSR)
			if err != nil {
				return fmt.Errorf("line %d: tsr: %w", r.Line, err)
			}
			cur, err := customerBySlug(ctx, tx, r.Slug)
			if errors.Is(err, ErrNotFound) {
				// A new customer: its slug must pass the naming rule. An
				// existing one is updated whatever its slug.
				r.Slug = names.Normalize(r.Slug)
				if err := names.Check(names.Customer, r.Slug); err != nil {
					return fmt.Errorf("line %d: %w", r.Line, err)
				}
				name := r.Name
				if name == "" {
					name = r.Slug
				}
				var id int64
				if err := tx.QueryRowContext(ctx, `INSERT INTO customers (slug, name, active, csr_id, tsr_id, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
					r.Slug, name, boolInt(r.Active), csr, tsr, formatTime(db.Now())).Scan(&id); err != nil {
					return fmt.Errorf("line %d: add customer %s: %w", r.Line, r.Slug, mapErr(err))
				}
				c := Customer{ID: id, Slug: r.Slug, Name: name, Active: r.Active, CSRID: csr, TSRID: tsr, CSR: r.CSR, TSR: r.TSR}
				if err := db.audit(ctx, tx, actor, "customer.add", "customer "+r.Slug, nil, c); err != nil {
					return err
				}
				out = append(out, ImportChange{Line: r.Line, Action: "add", Object: "customer " + r.Slug, Detail: fmt.Sprintf("name %q, csr %q, tsr %q, active %v", name, r.CSR, r.TSR, r.Active)})
				continue
			}
			if err != nil {
				return err
			}
			want := cur
			if r.Name != "" {
				want.Name = r.Name
			}
			want.Active, want.CSRID, want.TSRID = r.Active, csr, tsr
			var diff []string
			if want.Name != cur.Name {
				diff = append(diff, fmt.Sprintf("name %q -> %q", cur.Name, want.Name))
			}
			if want.Active != cur.Active {
				diff = append(diff, fmt.Sprintf("active %v -> %v", cur.Active, want.Active))
			}
			if !sameID(want.CSRID, cur.CSRID) {
				diff = append(diff, fmt.Sprintf("csr %q -> %q", cur.CSR, r.CSR))
			}
			if !sameID(want.TSRID, cur.TSRID) {
				diff = append(diff, fmt.Sprintf("tsr %q -> %q", cur.TSR, r.TSR))
			}
			if len(diff) == 0 {
				out = append(out, ImportChange{Line: r.Line, Action: "unchanged", Object: "customer " + cur.Slug})
				continue
			}
			if err := db.updateCustomer(ctx, tx, actor, want); err != nil {
				return fmt.Errorf("line %d: %w", r.Line, err)
			}
			out = append(out, ImportChange{Line: r.Line, Action: "update", Object: "customer " + cur.Slug, Detail: strings.Join(diff, ", ")})
		}
		return nil
	})
	return out, err
}

// ImportServers brings servers to the state the rows describe, as
// ImportCustomers does customers. The customer must exist (import the
// customers first). A new server is added approved (not "new").
func (db *DB) ImportServers(ctx context.Context, actor string, rows []ServerRow, dryRun bool) ([]ImportChange, error) {
	var out []ImportChange
	err := db.importTx(ctx, dryRun, func(tx *sql.Tx) error {
		for _, r := range rows {
			obj := "server " + r.Customer + "/" + r.Server
			cur, err := serverByName(ctx, tx, r.Customer, r.Server)
			if errors.Is(err, ErrNotFound) {
				// addServer applies the naming rule to a new server; an
				// existing one is updated whatever its name.
				s, err := db.addServer(ctx, tx, actor, r.Customer, r.Server, false)
				var badName *names.Error
				if errors.As(err, &badName) {
					return fmt.Errorf("line %d: add server: %w", r.Line, err)
				}
				if err != nil {
					return fmt.Errorf("line %d: add %s: %w", r.Line, obj, mapErr(err))
				}
				if r.ExpectDays != EveryDay || r.Retired {
					s.ExpectDays, s.Retired = r.ExpectDays, r.Retired
					if err := db.updateServer(ctx, tx, actor, s); err != nil {
						return fmt.Errorf("line %d: %w", r.Line, err)
					}
				}
				out = append(out, ImportChange{Line: r.Line, Action: "add", Object: obj, Detail: fmt.Sprintf("expect %s, retired %v", WeekdayNames(r.ExpectDays), r.Retired)})
				continue
			}
			if err != nil {
				return err
			}
			want := cur
			want.ExpectDays, want.Retired = r.ExpectDays, r.Retired
			var diff []string
			if want.ExpectDays != cur.ExpectDays {
				diff = append(diff, fmt.Sprintf("expect %s -> %s", WeekdayNames(cur.ExpectDays), WeekdayNames(want.ExpectDays)))
			}
			if want.Retired != cur.Retired {
				diff = append(diff, fmt.Sprintf("retired %v -> %v", cur.Retired, want.Retired))
			}
			if len(diff) == 0 {
				out = append(out, ImportChange{Line: r.Line, Action: "unchanged", Object: obj})
				continue
			}
			if err := db.updateServer(ctx, tx, actor, want); err != nil {
				return fmt.Errorf("line %d: %w", r.Line, err)
			}
			out = append(out, ImportChange{Line: r.Line, Action: "update", Object: obj, Detail: strings.Join(diff, ", ")})
		}
		return nil
	})
	return out, err
}

// importTx runs fn in one transaction, committed unless dryRun.
func (db *DB) importTx(ctx context.Context, dryRun bool, fn func(tx *sql.Tx) error) error {
	tx, release, err := db.beginTx(ctx, db.db)
	if err != nil {
		return mapErr(err)
	}
	defer release()
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return mapErr(err)
	}
	if dryRun {
		return nil
	}
	return mapErr(tx.Commit())
}

func userIDOf(ctx context.Context, tx *sql.Tx, username string) (*int64, error) {
	if username == "" {
		return nil, nil
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE lower(username) = lower(?)`, username).Scan(&id); err != nil {
		return nil, fmt.Errorf("user %q: %w", username, mapErr(err))
	}
	return &id, nil
}

var weekdayAbbr = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// WeekdayNames writes an expectation mask for people: "daily", "none" or
// the days, e.g. "mon tue wed thu fri".
func WeekdayNames(mask int) string {
	switch mask & EveryDay {
	case EveryDay:
		return "daily"
	case 0:
		return "none"
	}
	var out []string
	for _, d := range []int{1, 2, 3, 4, 5, 6, 0} {
		if mask&(1<<d) != 0 {
			out = append(out, weekdayAbbr[d])
		}
	}
	return strings.Join(out, " ")
}

// ParseWeekdays reads an expectation: "" or "daily" for every night, or
// weekdays (three-letter English names) and ranges separated by spaces,
// commas, semicolons or bars: "mon-fri", "mon wed fri", "sat|sun".
func ParseWeekdays(s string) (int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "daily" || s == "all" {
		return EveryDay, nil
	}
	idx := func(n string) (int, bool) {
		for i, a := range weekdayAbbr {
			if n == a || (len(n) > 3 && strings.HasPrefix(n, a)) {
				return i, true
			}
		}
		return 0, false
	}
	mask := 0
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '|' }) {
		from, to, isRange := strings.Cut(tok, "-")
		a, ok := idx(from)
		if !ok {
			return 0, fmt.Errorf("%q is not a weekday (mon, tue, ... sun)", from)
		}
		if !isRange {
			mask |= 1 << a
			continue
		}
		b, ok := idx(to)
		if !ok {
			return 0, fmt.Errorf("%q is not a weekday (mon, tue, ... sun)", to)
		}
		for d := a; ; d = (d + 1) % 7 {
			mask |= 1 << d
			if d == b {
				break
			}
		}
	}
	if mask == 0 {
		return 0, fmt.Errorf("no weekday in %q", s)
	}
	return mask, nil
}
