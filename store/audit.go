package store

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEntry is one recorded change: who did what to which object, with the
// object as it was before and after (JSON, empty when it did not exist).
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Object string    `json:"object"`
	Before string    `json:"before"`
	After  string    `json:"after"`
	// RemoteAddr is where the change came from: the web client's IP
	// address, empty for the command line and the server's own jobs.
	RemoteAddr string `json:"remote_addr"`
}

// audit records a change inside the transaction that makes it, so the log
// and the change can never disagree; the address the change came from is
// ctx's (see WithClientAddr), empty when none was given.
func (db *DB) audit(ctx context.Context, tx txn, actor, action, object string, before, after any) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, object, before, after, remote_addr) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		formatTime(db.Now()), actor, action, object, auditJSON(before), auditJSON(after), ClientAddr(ctx))
	return err
}

type clientAddrKey struct{}

// WithClientAddr returns ctx carrying the address a request came from
// (the client's, as the web side trusts it: see --trusted-proxy), which
// the audit log records with every change made under ctx. It is
// request-scoped data, like a request ID, not configuration.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// ClientAddr returns the address WithClientAddr put in ctx, or "".
func ClientAddr(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey{}).(string)
	return a
}

func auditJSON(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// Audit returns the newest audit entries first, at most limit of them.
func (db *DB) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, at, actor, action, object, before, after, remote_addr FROM audit_log ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Object, &e.Before, &e.After, &e.RemoteAddr); err != nil {
			return nil, err
		}
		e.At = parseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
