package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Delivery states of an email or webhook in the email log.
const (
	DeliveryPending  = "pending"  // created, no attempt finished yet
	DeliveryRetrying = "retrying" // an attempt failed, another will follow
	DeliverySent     = "sent"
	DeliveryFailed   = "failed" // the last attempt failed; no more will follow
)

// KindWebhook is the email-log kind of a webhook delivery; its recipient
// is the URL.
const KindWebhook = "webhook"

// EmailAttempt is one message (an email, or a webhook delivery) in the
// email log, with how many attempts it took and how it ended.
type EmailAttempt struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"` // daily, three-day, webhook, ...
	Recipients []string   `json:"recipients"`
	Subject    string     `json:"subject"`
	Attempts   int        `json:"attempts"`
	Status     string     `json:"status"` // pending, retrying, sent, failed
	LastError  string     `json:"last_error"`
	CreatedAt  time.Time  `json:"created_at"`
	SentAt     *time.Time `json:"sent_at"`
}

// StartDelivery records a message about to be sent and returns its ID for
// RecordAttempt.
func (db *DB) StartDelivery(ctx context.Context, kind string, recipients []string, subject string) (int64, error) {
	var id int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO email_log (kind, recipients, subject, attempts, status, created_at) VALUES (?, ?, ?, 0, ?, ?) RETURNING id`,
			kind, strings.Join(recipients, ", "), subject, DeliveryPending, formatTime(db.Now())).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("email log %s: %w", kind, err)
	}
	return id, nil
}

// RecordAttempt counts one finished attempt of a message. A nil attemptErr
// marks it sent; otherwise it is retrying, or failed when final is set.
func (db *DB) RecordAttempt(ctx context.Context, id int64, attemptErr error, final bool) error {
	status, msg := DeliverySent, ""
	var sentAt any
	if attemptErr != nil {
		status, msg = DeliveryRetrying, attemptErr.Error()
		if final {
			status = DeliveryFailed
		}
	} else {
		sentAt = formatTime(db.Now())
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE email_log SET attempts = attempts + 1, status = ?, last_error = ?, sent_at = COALESCE(?, sent_at) WHERE id = ?`,
			status, msg, sentAt, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("email log %d: %w", id, err)
	}
	return nil
}

// EmailLog returns the newest messages first, at most limit of them.
func (db *DB) EmailLog(ctx context.Context, limit int) ([]EmailAttempt, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, kind, recipients, subject, attempts, status, last_error, created_at, sent_at
		FROM email_log ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("email log: %w", mapErr(err))
	}
	defer rows.Close()
	out := []EmailAttempt{}
	for rows.Next() {
		var e EmailAttempt
		var rcpt, created string
		var sent sql.NullString
		if err := rows.Scan(&e.ID, &e.Kind, &rcpt, &e.Subject, &e.Attempts, &e.Status, &e.LastError, &created, &sent); err != nil {
			return nil, err
		}
		if rcpt != "" {
			e.Recipients = strings.Split(rcpt, ", ")
		}
		e.CreatedAt, e.SentAt = parseTime(created), nullTime(sent)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Recipient is a member of staff who asked for the failure emails of the
// customers they are CSR or TSR of.
type Recipient struct {
	Username  string
	Email     string
	Customers []string // slugs of their active customers
}

// ReportRecipients returns the active staff with an email address and
// notify set, each with the active customers they are CSR or TSR of, by
// username. Staff with no such customer are left out.
func (db *DB) ReportRecipients(ctx context.Context) ([]Recipient, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT u.username, u.email, c.slug FROM users u
		JOIN customers c ON (c.csr_id = u.id OR c.tsr_id = u.id) AND c.active = 1
		WHERE u.active = 1 AND u.notify = 1 AND u.email <> ''
		ORDER BY lower(u.username), lower(c.slug)`)
	if err != nil {
		return nil, fmt.Errorf("report recipients: %w", mapErr(err))
	}
	defer rows.Close()
	var out []Recipient
	for rows.Next() {
		var name, addr, slug string
		if err := rows.Scan(&name, &addr, &slug); err != nil {
			return nil, err
		}
		if n := len(out); n > 0 && out[n-1].Username == name {
			out[n-1].Customers = append(out[n-1].Customers, slug)
			continue
		}
		out = append(out, Recipient{Username: name, Email: addr, Customers: []string{slug}})
	}
	return out, rows.Err()
}

// AbandonDelivery marks a message failed without counting an attempt, for
// a send given up between attempts (the process is stopping).
func (db *DB) AbandonDelivery(ctx context.Context, id int64, reason string) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE email_log SET status = ?, last_error = ? WHERE id = ? AND status <> ?`, DeliveryFailed, reason, id, DeliverySent)
		return err
	})
	if err != nil {
		return fmt.Errorf("email log %d: %w", id, err)
	}
	return nil
}
