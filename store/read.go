package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/backupreport/backupreport/parser"
)

// ResultRow is one stored result (one upload, or one missing night).
type ResultRow struct {
	ID             int64         `json:"id"`
	ServerID       int64         `json:"server_id"`
	Customer       string        `json:"customer"`
	Server         string        `json:"server"`
	ReceivedAt     time.Time     `json:"received_at"`
	Night          Night         `json:"night"`
	Source         string        `json:"source"`
	Protocol       string        `json:"protocol"`
	Status         parser.Status `json:"status"`
	Code           int           `json:"code"`
	Complete       bool          `json:"complete"`
	Interrupted    bool          `json:"interrupted"`
	Reason         string        `json:"reason"`
	FileErrors     int           `json:"file_errors"`
	ExceptedErrors int           `json:"excepted_errors"`
	Vanished       int           `json:"vanished"`
	RsyncVersion   string        `json:"rsync_version"`
	SentBytes      int64         `json:"sent_bytes"`
	ReceivedBytes  int64         `json:"received_bytes"`
	TotalSize      int64         `json:"total_size"`
	Speedup        float64       `json:"speedup"`
	BytesPerSec    float64       `json:"bytes_per_sec"`
	DryRun         bool          `json:"dry_run"`
	Lines          int           `json:"lines"`
	FilesListed    int           `json:"files_listed"`
	Deletions      int           `json:"deletions"`
	UploadBytes    int64         `json:"upload_bytes"`
	RemoteAddr     string        `json:"remote_addr"`
	ClientVersion  string        `json:"client_version"`
	KeyType        string        `json:"key_type"`
	KeyID          *int64        `json:"key_id,omitempty"`
	// RawLogPrunedAt is when the raw log was deleted (by retention or a
	// quota, RawLogPrunedReason says which); nil while it is kept.
	RawLogPrunedAt     *time.Time `json:"raw_log_pruned_at,omitempty"`
	RawLogPrunedReason string     `json:"raw_log_pruned_reason,omitempty"`
	// Warnings are the result's early warnings, with their
	// acknowledgements; never nil, so the JSON shows [].
	Warnings []Warning `json:"warnings"`
	// NewErrors and RecurringErrors split FileErrors by error memory: the
	// stored failing file errors that are new this night, and those that
	// also failed on the server's previous upload.
	NewErrors       int `json:"new_errors"`
	RecurringErrors int `json:"recurring_errors"`
	warningCount    int
}

const resultColumns = `r.id, r.server_id, c.slug, s.name, r.received_at, r.night, r.source, r.protocol, r.status, r.code, r.complete, r.interrupted, r.reason,
	r.file_errors, r.excepted_errors, r.vanished, r.rsync_version, r.sent_bytes, r.received_bytes, r.total_size, r.speedup, r.bytes_per_sec, r.dry_run,
	r.lines, r.files_listed, r.deletions, r.upload_bytes, r.remote_addr, r.client_version, r.key_type, r.key_id, r.raw_log_pruned_at, r.raw_log_pruned_reason,
	r.warnings, ` + newErrorsColumn

// newErrorsColumn counts a result's stored failing file errors that are new
// this night (error memory, see errmemory.go).
const newErrorsColumn = `(SELECT COUNT(*) FROM file_errors f WHERE f.result_id = r.id AND f.excepted = 0 AND f.kind <> 'vanished' AND f.since_night = r.night)`
const resultFrom = `results r JOIN servers s ON s.id = r.server_id JOIN customers c ON c.id = s.customer_id`

func scanResult(sc interface{ Scan(...any) error }) (ResultRow, error) {
	var r ResultRow
	var at string
	var keyID sql.NullInt64
	var pruned sql.NullString
	err := sc.Scan(&r.ID, &r.ServerID, &r.Customer, &r.Server, &at, &r.Night, &r.Source, &r.Protocol, &r.Status, &r.Code, &r.Complete, &r.Interrupted, &r.Reason,
		&r.FileErrors, &r.ExceptedErrors, &r.Vanished, &r.RsyncVersion, &r.SentBytes, &r.ReceivedBytes, &r.TotalSize, &r.Speedup, &r.BytesPerSec, &r.DryRun,
		&r.Lines, &r.FilesListed, &r.Deletions, &r.UploadBytes, &r.RemoteAddr, &r.ClientVersion, &r.KeyType, &keyID, &pruned, &r.RawLogPrunedReason,
		&r.warningCount, &r.NewErrors)
	r.ReceivedAt, r.KeyID, r.RawLogPrunedAt = parseTime(at), nullInt(keyID), nullTime(pruned)
	r.RecurringErrors = max(0, r.FileErrors-r.NewErrors)
	r.Warnings = noStoredWarnings
	return r, err
}

// FileErrorRow is a stored file error of a result.
type FileErrorRow struct {
	ID          int64  `json:"id"`
	Line        int    `json:"line"`
	Kind        string `json:"kind"`
	Path        string `json:"path"`
	Message     string `json:"message"`
	Excepted    bool   `json:"excepted"`
	ExceptionID *int64 `json:"exception_id,omitempty"`
	Exception   string `json:"exception,omitempty"` // the pattern that covered it
	// Error memory (errmemory.go): the first night of this file's current
	// run of failures, "new" or "recurring", and how many nights so far.
	Since  Night  `json:"since,omitempty"`
	Memory string `json:"memory,omitempty"`
	Nights int    `json:"nights,omitempty"`
}

// Result returns one result with its file errors.
func (db *DB) Result(ctx context.Context, id int64) (ResultRow, []FileErrorRow, error) {
	r, err := scanResult(db.db.QueryRowContext(ctx, `SELECT `+resultColumns+` FROM `+resultFrom+` WHERE r.id = ?`, id))
	if err != nil {
		return ResultRow{}, nil, fmt.Errorf("result %d: %w", id, mapErr(err))
	}
	one := []ResultRow{r}
	if err := db.attachWarnings(ctx, one); err != nil {
		return ResultRow{}, nil, err
	}
	r = one[0]
	rows, err := db.db.QueryContext(ctx, `SELECT f.id, f.line, f.kind, f.path, f.message, f.excepted, f.exception_id, COALESCE(e.pattern, ''), f.since_night
		FROM file_errors f LEFT JOIN exceptions e ON e.id = f.exception_id WHERE f.result_id = ? ORDER BY f.line, f.id`, id)
	if err != nil {
		return ResultRow{}, nil, fmt.Errorf("file errors of result %d: %w", id, mapErr(err))
	}
	defer rows.Close()
	errs := []FileErrorRow{}
	for rows.Next() {
		var f FileErrorRow
		var exID sql.NullInt64
		var since sql.NullString
		if err := rows.Scan(&f.ID, &f.Line, &f.Kind, &f.Path, &f.Message, &f.Excepted, &exID, &f.Exception, &since); err != nil {
			return ResultRow{}, nil, err
		}
		f.ExceptionID = nullInt(exID)
		remember(&f, since, r.Night)
		errs = append(errs, f)
	}
	return r, errs, rows.Err()
}

// RawLogOf returns the stored raw log of a result. Its Open reads a log
// stored in pieces a piece at a time, so a big log is never held whole.
func (db *DB) RawLogOf(ctx context.Context, resultID int64) (RawLog, error) {
	l := RawLog{db: db, resultID: resultID}
	err := db.db.QueryRowContext(ctx, `SELECT data, compression, original_bytes, truncated, chunks,
			(SELECT COALESCE(SUM(length(c.data)), 0) FROM log_chunks c WHERE c.result_id = l.result_id)
		FROM raw_logs l WHERE l.result_id = ?`, resultID).Scan(&l.Data, &l.Compression, &l.OriginalBytes, &l.Truncated, &l.Chunks, &l.ChunkBytes)
	if err != nil {
		return RawLog{}, fmt.Errorf("raw log of result %d: %w", resultID, mapErr(err))
	}
	return l, nil
}

// History returns a server's results, newest first, a page at a time.
func (db *DB) History(ctx context.Context, serverID int64, limit, offset int) ([]ResultRow, error) {
	return db.queryResults(ctx, `SELECT `+resultColumns+` FROM `+resultFrom+` WHERE r.server_id = ? ORDER BY r.received_at DESC, r.id DESC LIMIT ? OFFSET ?`,
		serverID, limit, offset)
}

// ResultsBetween returns a server's results received in [from, to), oldest first.
func (db *DB) ResultsBetween(ctx context.Context, serverID int64, from, to time.Time) ([]ResultRow, error) {
	return db.queryResults(ctx, `SELECT `+resultColumns+` FROM `+resultFrom+` WHERE r.server_id = ? AND r.received_at >= ? AND r.received_at < ? ORDER BY r.received_at, r.id`,
		serverID, formatTime(from), formatTime(to))
}

// CountResults returns how many results a server has.
func (db *DB) CountResults(ctx context.Context, serverID int64) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM results WHERE server_id = ?`, serverID).Scan(&n)
	return n, mapErr(err)
}

func (db *DB) queryResults(ctx context.Context, q string, args ...any) ([]ResultRow, error) {
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []ResultRow{}
	for rows.Next() {
		r, err := scanResult(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	return out, db.attachWarnings(ctx, out)
}

// noStoredWarnings is the empty list of a result without warnings: the JSON
// shows [], and no append may write into it (no capacity).
var noStoredWarnings = []Warning{}

// attachWarnings reads the warnings of the results that have some.
func (db *DB) attachWarnings(ctx context.Context, rs []ResultRow) error {
	var ids []int64
	for _, r := range rs {
		if r.warningCount > 0 {
			ids = append(ids, r.ID)
		}
	}
	ws, err := db.WarningsOf(ctx, ids...) // no query without ids
	if err != nil {
		return err
	}
	for i := range rs {
		if w := ws[rs[i].ID]; len(w) > 0 {
			rs[i].Warnings = w
		}
	}
	return nil
}

// StatusRow is one server's line in the nightly report: its latest result
// within the window, or missing.
type StatusRow struct {
	ServerID       int64         `json:"-"`
	Customer       string        `json:"customer"`
	Server         string        `json:"server"`
	Status         parser.Status `json:"status"` // ok, failed, missing
	Code           int           `json:"code"`
	ReceivedAt     *time.Time    `json:"received_at"`
	FileErrors     int           `json:"file_errors"`
	ExceptedErrors int           `json:"excepted_errors"`
	ResultID       *int64        `json:"result_id"`
	New            bool          `json:"new"`
	CSR            string        `json:"csr"`
	TSR            string        `json:"tsr"`
	// LastSeen is the latest upload of any age, for a missing server.
	LastSeen *time.Time `json:"last_seen"`
	// Warnings, NewErrors and RecurringErrors are the result's, as in
	// ResultRow; empty for a missing server.
	Warnings        []Warning `json:"warnings"`
	NewErrors       int       `json:"new_errors"`
	RecurringErrors int       `json:"recurring_errors"`
}

// Status returns every active server's latest verdict within window before
// now. A server with no result in that window, or whose latest result is a
// recorded missing night, is missing with code -2. Retired servers and
// inactive customers are left out.
func (db *DB) Status(ctx context.Context, now time.Time, window time.Duration) ([]StatusRow, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT s.id, c.slug, s.name, s.pending, COALESCE(cu.username, ''), COALESCE(tu.username, ''),
			r.id, r.received_at, r.status, r.code, r.file_errors, r.excepted_errors, COALESCE(r.warnings, 0), `+newErrorsColumn+`
		FROM servers s
		JOIN customers c ON c.id = s.customer_id
		LEFT JOIN users cu ON cu.id = c.csr_id
		LEFT JOIN users tu ON tu.id = c.tsr_id
		LEFT JOIN results r ON r.id = (SELECT r2.id FROM results r2 WHERE r2.server_id = s.id ORDER BY r2.received_at DESC, r2.id DESC LIMIT 1)
		WHERE s.retired = 0 AND c.active = 1
		ORDER BY lower(c.slug), lower(s.name)`)
	if err != nil {
		return nil, fmt.Errorf("status: %w", mapErr(err))
	}
	defer rows.Close()
	cutoff := now.Add(-window)
	out := []StatusRow{}
	var warned []int64
	for rows.Next() {
		s := StatusRow{Warnings: noStoredWarnings}
		var rid sql.NullInt64
		var at, status sql.NullString
		var code, fe, ee sql.NullInt64
		var warnings, newErrs int
		if err := rows.Scan(&s.ServerID, &s.Customer, &s.Server, &s.New, &s.CSR, &s.TSR, &rid, &at, &status, &code, &fe, &ee, &warnings, &newErrs); err != nil {
			return nil, err
		}
		t := nullTime(at)
		st := parser.Status(status.String)
		if t != nil && st != StatusMissing {
			s.LastSeen = t
		}
		if t == nil || t.Before(cutoff) || st == StatusMissing {
			s.Status, s.Code = StatusMissing, parser.CodeMissing
			if st == StatusMissing {
				s.ResultID = nullInt(rid)
			}
		} else {
			s.Status, s.Code, s.ReceivedAt, s.ResultID = st, int(code.Int64), t, nullInt(rid)
			s.FileErrors, s.ExceptedErrors = int(fe.Int64), int(ee.Int64)
			s.NewErrors, s.RecurringErrors = newErrs, max(0, s.FileErrors-newErrs)
			if warnings > 0 {
				warned = append(warned, rid.Int64)
			}
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	ws, err := db.WarningsOf(ctx, warned...) // no query without ids
	if err != nil {
		return nil, err
	}
	for i := range out {
		if id := out[i].ResultID; id != nil && len(ws[*id]) > 0 {
			out[i].Warnings = ws[*id]
		}
	}
	return out, nil
}
