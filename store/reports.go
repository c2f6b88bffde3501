package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/backupreport/backupreport/parser"
)

// Names of rows in the settings table.
const (
	// SettingDemo marks a data folder filled by "backupreport demo".
	SettingDemo = "demo"
	// SettingSetupToken holds the hash of the one-time first-admin link.
	SettingSetupToken = "setup_token_hash"
)

// Setting returns a settings value, or ErrNotFound.
func (db *DB) Setting(ctx context.Context, name string) (string, error) {
	var v string
	if err := db.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v); err != nil {
		return "", fmt.Errorf("setting %s: %w", name, mapErr(err))
	}
	return v, nil
}

// SetSetting stores a settings value, replacing an old one.
func (db *DB) SetSetting(ctx context.Context, name, value string) error {
	_, err := db.exec(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("set setting %s: %w", name, mapErr(err))
	}
	return nil
}

// DeleteSetting removes a settings row; a missing one is no error.
func (db *DB) DeleteSetting(ctx context.Context, name string) error {
	_, err := db.exec(ctx, `DELETE FROM settings WHERE name = ?`, name)
	return mapErr(err)
}

// DataKind tells what a data folder holds: nothing yet, demo data only, or
// real data (customers not marked demo, or uploads received for real).
type DataKind int

// The kinds of data folder DataKind returns.
const (
	DataEmpty DataKind = iota
	DataDemo
	DataReal
)

// DataKind looks at the database to tell demo data from real data.
func (db *DB) DataKind(ctx context.Context) (DataKind, error) {
	var real, demo int
	err := db.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM customers WHERE demo = 0) + (SELECT COUNT(*) FROM results WHERE source <> ?) + (SELECT COUNT(*) FROM keys),
		(SELECT COUNT(*) FROM customers WHERE demo = 1) + (SELECT COUNT(*) FROM settings WHERE name = ?)`, SourceDemo, SettingDemo).Scan(&real, &demo)
	switch {
	case err != nil:
		return DataEmpty, fmt.Errorf("data kind: %w", mapErr(err))
	case real > 0:
		return DataReal, nil
	case demo > 0:
		return DataDemo, nil
	}
	return DataEmpty, nil
}

// CodeInfo returns the explanation of an exit code: the staff-edited row
// of the codes table when there is one, else the built-in table's.
func (db *DB) CodeInfo(ctx context.Context, code int) (parser.CodeInfo, error) {
	c := parser.CodeInfo{Code: code}
	err := db.db.QueryRowContext(ctx, `SELECT name, meaning, action FROM codes WHERE code = ?`, code).Scan(&c.Name, &c.Meaning, &c.Action)
	if err == sql.ErrNoRows {
		return parser.LookupCode(code), nil
	}
	if err != nil {
		return parser.CodeInfo{}, fmt.Errorf("code %d: %w", code, mapErr(err))
	}
	return c, nil
}

// CodeTable returns the code table as staff see it: their edits over the
// built-in table. Its Lookup never misses.
func (db *DB) CodeTable(ctx context.Context) (parser.CodeTable, error) {
	edited := map[int]parser.CodeInfo{}
	rows, err := db.db.QueryContext(ctx, `SELECT code, name, meaning, action FROM codes`)
	if err != nil {
		return parser.CodeTable{}, fmt.Errorf("code table: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var c parser.CodeInfo
		if err := rows.Scan(&c.Code, &c.Name, &c.Meaning, &c.Action); err != nil {
			return parser.CodeTable{}, fmt.Errorf("code table: %w", err)
		}
		edited[c.Code] = c
	}
	if err := rows.Err(); err != nil {
		return parser.CodeTable{}, fmt.Errorf("code table: %w", mapErr(err))
	}
	return parser.NewCodeTable(edited), nil
}

// Note kinds: a claim says someone is on it, resolved ends the claim.
const (
	NoteClaim    = "claim"
	NoteNote     = "note"
	NoteResolved = "resolved"
)

// Note is a claim, remark or resolution staff left on a server.
type Note struct {
	ID        int64     `json:"id"`
	ServerID  int64     `json:"server_id"`
	Username  string    `json:"username"`
	Kind      string    `json:"kind"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// AddNote records a note on a server.
func (db *DB) AddNote(ctx context.Context, userID, serverID int64, kind, body string) (Note, error) {
	if kind != NoteClaim && kind != NoteNote && kind != NoteResolved {
		return Note{}, fmt.Errorf("add note: kind %q is not claim, note or resolved", kind)
	}
	body = strings.TrimSpace(body)
	if len(body) > 4000 {
		return Note{}, fmt.Errorf("add note: the text is longer than 4000 bytes")
	}
	if kind == NoteNote && body == "" {
		return Note{}, fmt.Errorf("add note: the text is empty")
	}
	n := Note{ServerID: serverID, Kind: kind, Body: body, CreatedAt: db.Now().UTC()}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT username FROM users WHERE id = ?`, userID).Scan(&n.Username); err != nil {
			return fmt.Errorf("user %d: %w", userID, mapErr(err))
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO notes (server_id, user_id, kind, body, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			serverID, userID, kind, body, formatTime(n.CreatedAt)).Scan(&n.ID); err != nil {
			return err
		}
		return db.audit(ctx, tx, n.Username, "note."+kind, fmt.Sprintf("server %d", serverID), nil, n)
	})
	if err != nil {
		return Note{}, fmt.Errorf("add note to server %d: %w", serverID, err)
	}
	return n, nil
}

// StreakStart returns when a server's current trouble began: the time of
// its latest ok result, or nil when it never had one. Notes made after it
// belong to the current failure streak.
func (db *DB) StreakStart(ctx context.Context, serverID int64) (*time.Time, error) {
	var at sql.NullString
	err := db.db.QueryRowContext(ctx, `SELECT MAX(received_at) FROM results WHERE server_id = ? AND status = 'ok'`, serverID).Scan(&at)
	if err != nil {
		return nil, fmt.Errorf("streak of server %d: %w", serverID, mapErr(err))
	}
	return nullTime(at), nil
}

// Notes returns a server's notes, newest first, at most limit.
func (db *DB) Notes(ctx context.Context, serverID int64, limit int) ([]Note, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT n.id, n.server_id, COALESCE(u.username, ''), n.kind, n.body, n.created_at
		FROM notes n LEFT JOIN users u ON u.id = n.user_id WHERE n.server_id = ? ORDER BY n.created_at DESC, n.id DESC LIMIT ?`, serverID, limit)
	if err != nil {
		return nil, fmt.Errorf("notes of server %d: %w", serverID, mapErr(err))
	}
	defer rows.Close()
	out := []Note{}
	for rows.Next() {
		var n Note
		var at string
		if err := rows.Scan(&n.ID, &n.ServerID, &n.Username, &n.Kind, &n.Body, &at); err != nil {
			return nil, err
		}
		n.CreatedAt = parseTime(at)
		out = append(out, n)
	}
	return out, rows.Err()
}

// Claims returns, per server, the open claim: the latest claim or
// resolution of each server, when it is a claim and the server has had no
// ok result since. This is "who is on it": a claim stays with a failure
// streak and ends when the server is ok again.
func (db *DB) Claims(ctx context.Context) (map[int64]Note, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT n.id, n.server_id, COALESCE(u.username, ''), n.kind, n.body, n.created_at
		FROM notes n LEFT JOIN users u ON u.id = n.user_id
		WHERE n.id = (SELECT n2.id FROM notes n2 WHERE n2.server_id = n.server_id AND n2.kind IN ('claim', 'resolved') ORDER BY n2.created_at DESC, n2.id DESC LIMIT 1)
		  AND n.kind = 'claim'
		  AND NOT EXISTS (SELECT 1 FROM results r WHERE r.server_id = n.server_id AND r.received_at > n.created_at AND r.status = 'ok')`)
	if err != nil {
		return nil, fmt.Errorf("claims: %w", mapErr(err))
	}
	defer rows.Close()
	out := map[int64]Note{}
	for rows.Next() {
		var n Note
		var at string
		if err := rows.Scan(&n.ID, &n.ServerID, &n.Username, &n.Kind, &n.Body, &at); err != nil {
			return nil, err
		}
		n.CreatedAt = parseTime(at)
		out[n.ServerID] = n
	}
	return out, rows.Err()
}

// NightResult is the last result of one server's night, for status
// calendars and trends.
type NightResult struct {
	Night          Night         `json:"night"`
	ResultID       int64         `json:"result_id"`
	Status         parser.Status `json:"status"`
	Code           int           `json:"code"`
	ExceptedErrors int           `json:"excepted_errors"`
	FileErrors     int           `json:"file_errors"`
	TotalSize      int64         `json:"total_size"`
	SentBytes      int64         `json:"sent_bytes"`
	// Warnings are the result's early warnings, for marks on the trend
	// pictures; read only for results that have some.
	Warnings     []Warning `json:"warnings,omitempty"`
	warningCount int
}

// NightResults returns, for each night of a server with a result received
// at or after since, the last result of that night, oldest night first.
// It reads the results_server_received index only.
func (db *DB) NightResults(ctx context.Context, serverID int64, since time.Time) ([]NightResult, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT night, id, status, code, excepted_errors, file_errors, total_size, sent_bytes, warnings
		FROM results WHERE server_id = ? AND received_at >= ? ORDER BY received_at, id`, serverID, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("night results of server %d: %w", serverID, mapErr(err))
	}
	defer rows.Close()
	var out []NightResult
	idx := map[Night]int{}
	for rows.Next() {
		var n NightResult
		if err := rows.Scan(&n.Night, &n.ResultID, &n.Status, &n.Code, &n.ExceptedErrors, &n.FileErrors, &n.TotalSize, &n.SentBytes, &n.warningCount); err != nil {
			return nil, err
		}
		if i, ok := idx[n.Night]; ok {
			out[i] = n // a later upload of the same night replaces it
			continue
		}
		idx[n.Night] = len(out)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("night results of server %d: %w", serverID, mapErr(err))
	}
	var warned []int64
	for _, n := range out {
		if n.warningCount > 0 {
			warned = append(warned, n.ResultID)
		}
	}
	ws, err := db.WarningsOf(ctx, warned...) // no query without ids
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Warnings = ws[out[i].ResultID]
	}
	return out, nil
}

// ServerNights is one server's line in the historical report: how its
// nights in a range went, counting only each night's last result.
type ServerNights struct {
	ServerID     int64     `json:"-"`
	Customer     string    `json:"customer"`
	Server       string    `json:"server"`
	ExpectDays   int       `json:"-"`
	CreatedAt    time.Time `json:"-"`
	OK           int       `json:"ok"`
	OKExcepted   int       `json:"ok_with_exceptions"`
	Failed       int       `json:"failed"`
	MissingRows  int       `json:"-"` // nights recorded as missing by the missing check
	Missing      int       `json:"missing"`
	LastResultID *int64    `json:"-"`
}

// NightCounts returns per active server the counts of nights from
// fromNight to toNight (YYYY-MM-DD, inclusive) whose last result was ok,
// ok with excepted errors, failed or recorded missing. receivedFrom and
// receivedTo bound received_at so that the results_received index limits
// the rows read; pass the start of fromNight and the end of the morning
// after toNight. Nights with no result at all are not counted here: the
// caller knows which nights were expected (Server.Expected).
func (db *DB) NightCounts(ctx context.Context, fromNight, toNight Night, receivedFrom, receivedTo time.Time) ([]ServerNights, error) {
	rows, err := db.db.QueryContext(ctx, QueryNightCounts,
		formatTime(receivedFrom), formatTime(receivedTo), fromNight, toNight)
	if err != nil {
		return nil, fmt.Errorf("night counts %s..%s: %w", fromNight, toNight, mapErr(err))
	}
	defer rows.Close()
	out := []ServerNights{}
	for rows.Next() {
		var n ServerNights
		var created string
		if err := rows.Scan(&n.ServerID, &n.Customer, &n.Server, &n.ExpectDays, &created, &n.OK, &n.OKExcepted, &n.Failed, &n.MissingRows); err != nil {
			return nil, err
		}
		n.CreatedAt = parseTime(created)
		out = append(out, n)
	}
	return out, rows.Err()
}

// Explain returns SQLite's query plan for a query, one step a line, for
// the benchmark's report. The query is run with EXPLAIN QUERY PLAN only.
// On PostgreSQL it is EXPLAIN's text.
func (db *DB) Explain(ctx context.Context, query string, args ...any) (string, error) {
	if db.dialect == postgresDialect {
		return db.explainPostgres(ctx, query, args...)
	}
	rows, err := db.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		return "", mapErr(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%d %d %s\n", id, parent, detail)
	}
	return b.String(), rows.Err()
}

func (db *DB) explainPostgres(ctx context.Context, query string, args ...any) (string, error) {
	rows, err := db.db.QueryContext(ctx, `EXPLAIN `+query, args...)
	if err != nil {
		return "", mapErr(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		b.WriteString(line + "\n")
	}
	return b.String(), rows.Err()
}

// Queries the pages run, exported so that the benchmark can print their
// plans next to their timings.
const (
	QueryStatus  = `SELECT s.id, r.id FROM servers s JOIN customers c ON c.id = s.customer_id LEFT JOIN results r ON r.id = (SELECT r2.id FROM results r2 WHERE r2.server_id = s.id ORDER BY r2.received_at DESC, r2.id DESC LIMIT 1) WHERE s.retired = 0 AND c.active = 1`
	QueryHistory = `SELECT r.id FROM results r JOIN servers s ON s.id = r.server_id JOIN customers c ON c.id = s.customer_id WHERE r.server_id = ? ORDER BY r.received_at DESC, r.id DESC LIMIT 50 OFFSET 0`
	QueryNights  = `SELECT night, id FROM results WHERE server_id = ? AND received_at >= ? ORDER BY received_at, id`
	// QueryNightCounts is NightCounts' query; its arguments are the
	// received_at bounds, then the first and last night.
	QueryNightCounts = `WITH last AS (
			SELECT server_id, status, excepted_errors,
				ROW_NUMBER() OVER (PARTITION BY server_id, night ORDER BY received_at DESC, id DESC) AS rn
			FROM results
			WHERE received_at >= ? AND received_at < ? AND night >= ? AND night <= ?
		), counts AS (
			SELECT server_id,
				SUM(CASE WHEN status = 'ok' AND excepted_errors = 0 THEN 1 ELSE 0 END) AS ok,
				SUM(CASE WHEN status = 'ok' AND excepted_errors > 0 THEN 1 ELSE 0 END) AS okx,
				SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
				SUM(CASE WHEN status = 'missing' THEN 1 ELSE 0 END) AS missing
			FROM last WHERE rn = 1 GROUP BY server_id
		)
		SELECT s.id, c.slug, s.name, s.expect_days, s.created_at,
			COALESCE(k.ok, 0), COALESCE(k.okx, 0), COALESCE(k.failed, 0), COALESCE(k.missing, 0)
		FROM servers s JOIN customers c ON c.id = s.customer_id LEFT JOIN counts k ON k.server_id = s.id
		WHERE s.retired = 0 AND c.active = 1
		ORDER BY lower(c.slug), lower(s.name)`
)

// SeedRow is one synthetic result for BulkSeed.
type SeedRow struct {
	ServerID   int64
	ReceivedAt time.Time
	Night      Night
	Status     parser.Status
	Code       int
	FileErrors int
	TotalSize  int64
	SentBytes  int64
}

// BulkSeed inserts synthetic results in one transaction with a prepared
// statement, for benchmarks of large databases. next is called until it
// returns false. The rows carry source "demo", no file errors and no raw
// log. Do not use it for real data: nothing is validated.
func (db *DB) BulkSeed(ctx context.Context, next func(*SeedRow) bool) (int, error) {
	n := 0
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO results (server_id, received_at, night, source, status, code, complete, file_errors, total_size, sent_bytes)
			VALUES (?, ?, ?, 'demo', ?, ?, 1, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		var r SeedRow
		for next(&r) {
			if _, err := stmt.ExecContext(ctx, r.ServerID, formatTime(r.ReceivedAt), r.Night, r.Status, r.Code, r.FileErrors, r.TotalSize, r.SentBytes); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("bulk seed: %w", err)
	}
	return n, nil
}

// BulkServers creates count servers named prefix-00001... under a customer
// in one transaction (for benchmarks), and returns their IDs.
func (db *DB) BulkServers(ctx context.Context, customer, prefix string, count int) ([]int64, error) {
	var ids []int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var custID int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM customers WHERE lower(slug) = lower(?)`, customer).Scan(&custID); err != nil {
			return fmt.Errorf("customer %s: %w", customer, mapErr(err))
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO servers (customer_id, name, expect_days, created_at) VALUES (?, ?, ?, ?) RETURNING id`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		now := formatTime(db.Now())
		for i := 1; i <= count; i++ {
			var id int64
			if err := stmt.QueryRowContext(ctx, custID, fmt.Sprintf("%s-%05d", prefix, i), EveryDay, now).Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bulk servers: %w", err)
	}
	return ids, nil
}

// Ping checks that the database answers, for /healthz.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return mapErr(db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings`).Scan(&one))
}

// SetCodeInfo stores staff's own explanation of an exit code; it then
// overrides the built-in table everywhere (pages, e-mails).
func (db *DB) SetCodeInfo(ctx context.Context, actor string, c parser.CodeInfo) error {
	if strings.TrimSpace(c.Name) == "" || strings.TrimSpace(c.Meaning) == "" || strings.TrimSpace(c.Action) == "" {
		return fmt.Errorf("set code %d: name, meaning and action must not be empty", c.Code)
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		before, _ := db.CodeInfo(ctx, c.Code)
		if _, err := tx.ExecContext(ctx, `INSERT INTO codes (code, name, meaning, action, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name, meaning = excluded.meaning, action = excluded.action,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			c.Code, c.Name, c.Meaning, c.Action, actor, formatTime(db.Now())); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, "code.set", fmt.Sprintf("code %d", c.Code), before, c)
	})
}
