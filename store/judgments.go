package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/backupreport/backupreport/parser"
)

// The primitives below are what re-evaluation (package store/reeval) is
// built on: a selection of stored results, scanned in batches of ID ranges;
// their logs, decompressed; their stored file errors, read when needed; and
// the new judgments, written under an exceptions version. Deciding what
// the verdicts are is not here: that is parser.Judge, called by reeval.

// Selection says which stored results to judge again.
type Selection struct {
	// Since keeps results received at or after it; zero means all.
	Since time.Time
	// ServerID or CustomerID narrow it to one server or customer; both
	// nil means all.
	ServerID   *int64
	CustomerID *int64
	// OnlyFileErrors keeps only results with file errors (excepted or
	// not): the only ones an exception change can affect.
	OnlyFileErrors bool
}

// String names the selection for the audit log, e.g. "results of server 3
// since 2026-03-13T08:30:00.000000Z".
func (s Selection) String() string {
	out := "results"
	switch {
	case s.ServerID != nil:
		out += fmt.Sprintf(" of server %d", *s.ServerID)
	case s.CustomerID != nil:
		out += fmt.Sprintf(" of customer %d", *s.CustomerID)
	}
	if !s.Since.IsZero() {
		out += " since " + formatTime(s.Since)
	}
	return out
}

// narrow reports whether the selection keeps few of the results of an ID
// range: their logs are then looked up rather than scanned.
func (s Selection) narrow() bool { return s.ServerID != nil || s.CustomerID != nil || s.OnlyFileErrors }

// where returns the tables (results as r) and the condition that select
// the results, with the condition's arguments. Missing nights (no log) are
// never selected.
func (s Selection) where() (from, where string, args []any) {
	from = "results r"
	w := []string{"r.source <> 'missing'"}
	if !s.Since.IsZero() {
		w = append(w, "r.received_at >= ?")
		args = append(args, formatTime(s.Since))
	}
	if s.OnlyFileErrors {
		w = append(w, "r.file_errors + r.excepted_errors > 0")
	}
	if s.ServerID != nil {
		w = append(w, "r.server_id = ?")
		args = append(args, *s.ServerID)
	} else if s.CustomerID != nil {
		from += " JOIN servers s ON s.id = r.server_id"
		w = append(w, "s.customer_id = ?")
		args = append(args, *s.CustomerID)
	}
	return from, strings.Join(w, " AND "), args
}

// CountSelected returns how many results the selection holds now.
func (db *DB) CountSelected(ctx context.Context, sel Selection) (int, error) {
	from, where, args := sel.where()
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+from+` WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count results: %w", mapErr(err))
	}
	return n, nil
}

// IDRange is one batch of a selection: its results with IDs in
// (After, UpTo].
type IDRange struct{ After, UpTo int64 }

// ScanRanges cuts the selection into batches of size results, in ID
// order, and sends them to out until the last, or until ctx is done. It
// reads no more than the IDs: batches are read by BatchReader, possibly in
// parallel. ID order follows the tables' storage order, so each batch is
// one range of the primary keys and needs no sorting.
func (db *DB) ScanRanges(ctx context.Context, sel Selection, size int, out chan<- IDRange) error {
	from, where, args := sel.where()
	after := int64(0)
	if !sel.Since.IsZero() {
		// Start at the first result received since then. "id + 0" keeps
		// SQLite from walking the table in ID order to find it: the index
		// on received_at finds the range, then its smallest ID.
		var first sql.NullInt64
		if err := db.db.QueryRowContext(ctx, `SELECT MIN(id + 0) FROM results WHERE received_at >= ?`, formatTime(sel.Since)).Scan(&first); err != nil {
			return mapErr(err)
		}
		if !first.Valid {
			return nil
		}
		after = first.Int64 - 1
	}
	// The last ID of the next batch: the size-th selected one.
	q, err := db.db.PrepareContext(ctx, `SELECT r.id FROM `+from+` WHERE `+where+` AND r.id > ? ORDER BY r.id LIMIT 1 OFFSET ?`)
	if err != nil {
		return mapErr(err)
	}
	defer q.Close()
	a := append(append([]any{}, args...), 0, size-1)
	for {
		a[len(a)-2] = after
		r := IDRange{After: after, UpTo: math.MaxInt64}
		err := q.QueryRowContext(ctx, a...).Scan(&r.UpTo)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err)
		}
		select {
		case out <- r:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err != nil { // fewer than size left: that was the last
			return nil
		}
		after = r.UpTo
	}
}

// Judgment is one stored result judged again: what is stored (set by
// BatchReader.Read and LoadFileErrors) and the new judgment (set by the
// caller), which JudgmentWriter.Write writes where it differs.
type Judgment struct {
	ID, ServerID int64
	Status       parser.Status
	Code         int
	Complete     bool
	End          parser.End // how the upload ended (results.ended)
	// Baseline is the server's normal the upload was judged against
	// (results.baseline), nil when none was stored.
	Baseline    *parser.Baseline
	Dropped     int    // file errors the parser dropped, not vanished files
	Counts      [3]int // failing, excepted, vanished as stored
	Truncated   bool   // the log's middle was not stored: judge from Stored
	Compression string
	Chunks      int               // pieces of the log stored apart, see LogSpool
	Stored      []StoredFileError // read only when asked, see LoadFileErrors
	Exceptions  []Exception       // the server's, set by the caller

	// The new judgment.
	Err       error // the log could not be judged: the result keeps its verdict
	LogBytes  int64
	NewStatus parser.Status
	NewCode   int
	NewDone   bool
	NewCounts [3]int
	NewDigest int64
	NewErrs   []parser.FileError // from the log (nil when judged from Stored)
	RowsDiff  bool               // the file error rows must be rewritten from NewErrs
	ExDiff    bool               // some stored row's exception changes
	NewEx     []*int64           // per stored row (when kept): its new exception

	// Warnings is how many warnings are stored (results.warnings);
	// NewWarnings the new judgment's, meaningful when WarningsJudged (the
	// whole log was judged: a result judged from its stored file errors
	// keeps its warnings).
	Warnings       int
	NewWarnings    []parser.Warning
	WarningsJudged bool

	// Written tells, after JudgmentWriter.Write, that the changes were
	// written (not judged or deleted meanwhile by another run).
	Written bool

	receivedAt string
	digest     sql.NullInt64 // of the stored file errors; NULL: unknown
}

// StoredFileError is one stored file error row of a Judgment.
type StoredFileError struct {
	ID          int64
	Line        int
	Kind        string
	Path        string
	Excepted    bool
	ExceptionID *int64
}

// StoredDigest returns the digest of the stored file errors as last
// judged (see DigestOf), and false when none is stored (rows from before
// the digest).
func (j *Judgment) StoredDigest() (int64, bool) { return j.digest.Int64, j.digest.Valid }

// Changed reports a new judgment: the status, the code, the counts or the
// file errors' rows differ from what is stored.
func (j *Judgment) Changed() bool {
	return j.NewStatus != j.Status || j.NewCode != j.Code || j.NewDone != j.Complete || j.NewCounts != j.Counts || j.RowsDiff || j.ExDiff
}

// NeedsWrite reports a result to write: changed, or its stored digest is
// missing or stale (rows from before the digest, or whose exception was
// deleted).
func (j *Judgment) NeedsWrite() bool {
	return j.Changed() || !j.digest.Valid || j.digest.Int64 != j.NewDigest || j.WarningsDiff()
}

// WarningsDiff reports that the warnings may differ from those stored:
// another number of them, or some stored or new (their kinds, figures or
// thresholds may have changed; warnings are rare, so rewriting those few
// costs little). A result written for any reason gets its warnings
// rewritten when this holds, keeping acknowledgements, see
// JudgmentWriter.Write; one with none before or after has none to write.
func (j *Judgment) WarningsDiff() bool {
	return j.WarningsJudged && (len(j.NewWarnings) != j.Warnings || j.Warnings > 0)
}

// BatchReader reads the batches of a selection (see Read). One may be
// used by several goroutines at once.
type BatchReader struct {
	results, logs *sql.Stmt
	args          []any
	lookup        bool // the logs' statement takes the selection's arguments too
}

// NewBatchReader prepares the statements that read a selection's
// batches. The results and their logs are read by two scans merged by ID
// rather than by a join: both tables are stored in ID order, so a scan
// walks their pages in turn where a join would look each log up from the
// top of its table. A narrow selection (one server's or customer's, or
// only those with file errors) looks up just its logs.
func (db *DB) NewBatchReader(ctx context.Context, sel Selection) (*BatchReader, error) {
	from, where, args := sel.where()
	q := &BatchReader{lookup: sel.narrow(), args: args}
	var err error
	q.results, err = db.db.PrepareContext(ctx, `SELECT r.id, r.server_id, r.received_at, r.status, r.code, r.complete, r.ended, r.dropped_errors,
			r.file_errors, r.excepted_errors, r.vanished, r.file_errors_digest, r.warnings, r.baseline
		FROM `+from+` WHERE `+where+` AND r.id > ? AND r.id <= ? ORDER BY r.id`)
	if err != nil {
		return nil, fmt.Errorf("prepare batch: %w", mapErr(err))
	}
	logs := `SELECT result_id, truncated, compression, chunks, data FROM raw_logs WHERE result_id > ? AND result_id <= ? ORDER BY result_id`
	if q.lookup {
		logs = `SELECT result_id, truncated, compression, chunks, data FROM raw_logs
			WHERE result_id IN (SELECT r.id FROM ` + from + ` WHERE ` + where + ` AND r.id > ? AND r.id <= ?) ORDER BY result_id`
	}
	if q.logs, err = db.db.PrepareContext(ctx, logs); err != nil {
		q.results.Close()
		return nil, fmt.Errorf("prepare batch: %w", mapErr(err))
	}
	return q, nil
}

// Close closes the statements.
func (q *BatchReader) Close() {
	q.results.Close()
	q.logs.Close()
}

// Read reads the results of a batch and their logs. It calls onLog with
// each result and its compressed log as it is read (the log is valid only
// during the call: nothing copies it) and returns the results. Results
// without a log (missing nights, logs deleted by retention) are left out.
func (q *BatchReader) Read(ctx context.Context, r IDRange, onLog func(j *Judgment, data []byte)) ([]*Judgment, error) {
	args := append(append(make([]any, 0, len(q.args)+2), q.args...), r.After, r.UpTo)
	all, err := q.readResults(ctx, args)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return q.readLogs(ctx, args, all, onLog)
}

// ReadResults reads the results of a batch without their logs, for a
// judgment from their stored file errors (see LoadFileErrors): results
// whose log was deleted by retention are in it too.
func (q *BatchReader) ReadResults(ctx context.Context, r IDRange) ([]*Judgment, error) {
	return q.readResults(ctx, append(append(make([]any, 0, len(q.args)+2), q.args...), r.After, r.UpTo))
}

// readResults reads the result rows of a batch; args are the selection's
// arguments, then the range.
func (q *BatchReader) readResults(ctx context.Context, args []any) ([]*Judgment, error) {
	rows, err := q.results.QueryContext(ctx, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	var all []*Judgment
	var baseline sql.RawBytes
	for rows.Next() {
		j := &Judgment{}
		if err := rows.Scan(&j.ID, &j.ServerID, &j.receivedAt, &j.Status, &j.Code, &j.Complete, &j.End, &j.Dropped,
			&j.Counts[0], &j.Counts[1], &j.Counts[2], &j.digest, &j.Warnings, &baseline); err != nil {
			rows.Close()
			return nil, err
		}
		if len(baseline) > 0 {
			if j.Baseline, err = decodeBaseline(string(baseline)); err != nil {
				rows.Close()
				return nil, fmt.Errorf("result %d: %w", j.ID, err)
			}
		}
		all = append(all, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	return all, nil
}

// readLogs reads the logs of the results all of a batch (args as
// readResults'), calls onLog with each and returns the results that have
// one.
func (q *BatchReader) readLogs(ctx context.Context, args []any, all []*Judgment, onLog func(j *Judgment, data []byte)) ([]*Judgment, error) {
	logArgs := args[len(args)-2:] // the range
	if q.lookup {
		logArgs = args
	}
	rows, err := q.logs.QueryContext(ctx, logArgs...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := all[:0]
	i := 0
	var (
		id          int64
		truncated   bool
		compression string
		chunks      int
		data        sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&id, &truncated, &compression, &chunks, &data); err != nil {
			return nil, err
		}
		for i < len(all) && all[i].ID < id {
			i++ // no log
		}
		if i < len(all) && all[i].ID == id {
			j := all[i]
			j.Truncated, j.Compression, j.Chunks = truncated, compression, chunks
			onLog(j, data)
			out = append(out, j)
			i++
		}
	}
	return out, mapErr(rows.Err())
}

// LoadFileErrors reads the stored file errors of results into their
// Stored.
func (db *DB) LoadFileErrors(ctx context.Context, batch []*Judgment) error {
	byID := make(map[int64]*Judgment, len(batch))
	ph := make([]string, 0, len(batch))
	args := make([]any, 0, len(batch))
	for _, j := range batch {
		byID[j.ID] = j
		ph = append(ph, "?")
		args = append(args, j.ID)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT id, result_id, line, kind, path, excepted, exception_id FROM file_errors
		WHERE result_id IN (`+strings.Join(ph, ",")+`) ORDER BY result_id, id`, args...)
	if err != nil {
		return fmt.Errorf("read file errors: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var f StoredFileError
		var rid int64
		var ex sql.NullInt64
		if err := rows.Scan(&f.ID, &rid, &f.Line, &f.Kind, &f.Path, &f.Excepted, &ex); err != nil {
			return fmt.Errorf("read file errors: %w", err)
		}
		f.ExceptionID = nullInt(ex)
		if j := byID[rid]; j != nil {
			j.Stored = append(j.Stored, f)
		}
	}
	return mapErr(rows.Err())
}

// LogDecoder opens stored logs, reusing one decompressor and one buffer:
// a re-evaluation reads thousands of them one after the other. It is not
// safe for concurrent use; give each goroutine its own.
type LogDecoder struct {
	db   *DB
	logs *logReader
}

// NewLogDecoder returns a LogDecoder of db's logs.
func (db *DB) NewLogDecoder() *LogDecoder { return &LogDecoder{db: db, logs: newLogReader()} }

// Open returns the text of a result's log, read by BatchReader.Read with
// its compressed data (valid only during onLog). A big log, stored in
// pieces, is read a piece at a time, never held whole; another is
// decompressed into the decoder's buffer, valid until the next Open.
func (d *LogDecoder) Open(j *Judgment, data []byte) (io.Reader, error) {
	if j.Chunks > 0 {
		return newS2Reader(d.db.newChunkReader(j.ID, j.Chunks, data)), nil
	}
	text, err := d.logs.decode(j.Compression, data)
	if err != nil {
		return nil, fmt.Errorf("log of result %d: %w", j.ID, err)
	}
	return bytes.NewReader(text), nil
}

// ExceptionsSnapshot is every exception at one version, and which
// customer each server belonged to then.
type ExceptionsSnapshot struct {
	Version    int64           // of the exceptions (see exceptions_version)
	All        []Exception     // all of them, in ID order
	CustomerOf map[int64]int64 // server -> customer
}

// Of picks a server's exceptions out of the snapshot, as ExceptionsFor
// selects them: the server's own, its customer's, the global ones, in ID
// order.
func (s *ExceptionsSnapshot) Of(serverID, customerID int64) []Exception {
	out := []Exception{}
	for _, e := range s.All {
		if e.ServerID != nil && *e.ServerID == serverID ||
			e.ServerID == nil && e.CustomerID != nil && *e.CustomerID == customerID ||
			e.CustomerID == nil {
			out = append(out, e)
		}
	}
	return out
}

// ExceptionsSnapshot reads the exceptions with their version, and the servers'
// customers.
func (db *DB) ExceptionsSnapshot(ctx context.Context) (*ExceptionsSnapshot, error) {
	s := &ExceptionsSnapshot{CustomerOf: map[int64]int64{}}
	// The version before and after the exceptions: equal, they are the
	// exceptions of that version.
	for {
		v, err := exceptionsVersion(ctx, db.db)
		if err != nil {
			return nil, fmt.Errorf("read the exceptions' version: %w", err)
		}
		if s.All, err = db.Exceptions(ctx); err != nil {
			return nil, fmt.Errorf("read exceptions: %w", err)
		}
		again, err := exceptionsVersion(ctx, db.db)
		if err != nil {
			return nil, fmt.Errorf("read the exceptions' version: %w", err)
		}
		if again == v {
			s.Version = v
			break
		}
	}
	rows, err := db.db.QueryContext(ctx, `SELECT id, customer_id FROM servers`)
	if err != nil {
		return nil, fmt.Errorf("read servers: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id, customer int64
		if err := rows.Scan(&id, &customer); err != nil {
			return nil, fmt.Errorf("read servers: %w", err)
		}
		s.CustomerOf[id] = customer
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read servers: %w", mapErr(err))
	}
	return s, nil
}

// CustomerOf returns the customer of a server.
func (db *DB) CustomerOf(ctx context.Context, serverID int64) (int64, error) {
	var id int64
	if err := db.db.QueryRowContext(ctx, `SELECT customer_id FROM servers WHERE id = ?`, serverID).Scan(&id); err != nil {
		return 0, fmt.Errorf("customer of server %d: %w", serverID, mapErr(err))
	}
	return id, nil
}

// ExceptionID returns the ID of the first exception with a pattern, as
// stored file errors are linked to them, or nil.
func ExceptionID(ex []Exception, pattern string) *int64 { return exceptionID(ex, pattern) }

// exceptionID is ExceptionID.
func exceptionID(ex []Exception, pattern string) *int64 {
	for i := range ex {
		if ex[i].Pattern == pattern {
			return &ex[i].ID
		}
	}
	return nil
}

// SameID reports whether two optional IDs are equal.
func SameID(a, b *int64) bool { return sameID(a, b) }

func sameID(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// DigestOf is the digest of file errors as they are stored with
// exceptions ex (each excepted one linked to the first exception with its
// pattern): equal digests, equal rows.
func DigestOf(errs []parser.FileError, ex []Exception) int64 { return digestOf(errs, ex) }

// ErrExceptionsChanged is JudgmentWriter.Write's answer when the
// exceptions are no longer at the version the judgments were made with.
var ErrExceptionsChanged = errors.New("the exceptions changed during the run")

// JudgmentWriter writes judgments through one connection that does not
// wait for fsync at each commit (synchronous=NORMAL; WAL keeps them
// atomic): a re-evaluation can be run again, an upload cannot, and the
// upload commits on the other connections stay FULL and flush these too.
type JudgmentWriter struct {
	db   *DB
	conn *sql.Conn
}

// NewJudgmentWriter takes a connection for writing judgments; Close gives
// it back.
func (db *DB) NewJudgmentWriter(ctx context.Context) (*JudgmentWriter, error) {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("judgment writer: %w", mapErr(err))
	}
	if _, err := conn.ExecContext(ctx, db.dialect.relaxedCommits()); err != nil {
		conn.Close()
		return nil, fmt.Errorf("judgment writer: %w", mapErr(err))
	}
	return &JudgmentWriter{db: db, conn: conn}, nil
}

// Close gives the connection back, as it was.
func (w *JudgmentWriter) Close() {
	w.conn.ExecContext(context.Background(), w.db.dialect.durableCommits())
	w.conn.Close()
}

// Write writes the changes of judgments in one transaction, unless the
// exceptions are no longer at version, the one they were judged by: then
// it writes nothing and returns ErrExceptionsChanged. A changed status
// leaves a verdict_changes row with the old one, reason and actor. It sets
// Written on the judgments it wrote; a result judged meanwhile by another
// run (its row no longer holds what was read) or deleted is skipped.
func (w *JudgmentWriter) Write(ctx context.Context, js []*Judgment, version int64, actor, reason string) error {
	db := w.db
	now := formatTime(db.Now())
	return db.inTx(ctx, w.conn, func(tx *sql.Tx) error {
		// The write lock is held (BEGIN IMMEDIATE): no exception
		// changes until the commit.
		if v, err := exceptionsVersion(ctx, tx); err != nil {
			return err
		} else if v != version {
			return ErrExceptionsChanged
		}
		updRes, err := tx.PrepareContext(ctx, `UPDATE results SET status = ?, code = ?, complete = ?, file_errors = ?, excepted_errors = ?, vanished = ?, file_errors_digest = ?
			WHERE id = ? AND status = ? AND code = ? AND file_errors_digest IS NOT DISTINCT FROM ?`)
		if err != nil {
			return err
		}
		defer updRes.Close()
		updFE, err := tx.PrepareContext(ctx, `UPDATE file_errors SET excepted = ?, exception_id = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer updFE.Close()
		matched := map[int64]string{} // exception -> latest received_at it matched
		for _, j := range js {
			res, err := updRes.ExecContext(ctx, j.NewStatus, j.NewCode, boolInt(j.NewDone), j.NewCounts[0], j.NewCounts[1], j.NewCounts[2], j.NewDigest,
				j.ID, j.Status, j.Code, j.digest)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // deleted or judged by another run meanwhile
			}
			j.Written = true
			if j.WarningsDiff() {
				// Acknowledgements of a kind still present are kept. A
				// result with no warnings before or after has none to
				// write: two statements fewer per result rewritten.
				if err := writeWarnings(ctx, tx, j.ID, j.NewWarnings, false); err != nil {
					return err
				}
			}
			at := parseTime(j.receivedAt)
			if j.RowsDiff {
				if _, err := tx.ExecContext(ctx, `DELETE FROM file_errors WHERE result_id = ?`, j.ID); err != nil {
					return err
				}
				if len(j.NewErrs) > 0 {
					if err := db.insertFileErrors(ctx, tx, j.ID, at, j.NewErrs, j.Exceptions); err != nil {
						return err
					}
					if err := rememberErrors(ctx, tx, j.ID); err != nil {
						return err
					}
				}
			} else if j.ExDiff {
				for i, s := range j.Stored {
					if id := j.NewEx[i]; id != nil && j.receivedAt > matched[*id] {
						matched[*id] = j.receivedAt
					}
					if (j.NewEx[i] != nil) == s.Excepted && sameID(j.NewEx[i], s.ExceptionID) {
						continue // this row keeps its exception
					}
					if _, err := updFE.ExecContext(ctx, boolInt(j.NewEx[i] != nil), j.NewEx[i], s.ID); err != nil {
						return err
					}
				}
			}
			if j.NewStatus != j.Status {
				if _, err := tx.ExecContext(ctx, `INSERT INTO verdict_changes (result_id, changed_at, old_status, new_status, reason, changed_by) VALUES (?, ?, ?, ?, ?, ?)`,
					j.ID, now, j.Status, j.NewStatus, reason, actor); err != nil {
					return err
				}
			}
		}
		for id, at := range matched {
			if _, err := tx.ExecContext(ctx, `UPDATE exceptions SET last_matched_at = ? WHERE id = ? AND (last_matched_at IS NULL OR last_matched_at < ?)`, at, id, at); err != nil {
				return err
			}
		}
		return nil
	})
}

// AuditReevaluation records a re-evaluation that wrote results in the
// audit log.
func (db *DB) AuditReevaluation(ctx context.Context, actor string, sel Selection, details map[string]any) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		return db.audit(ctx, tx, actor, "results.reevaluate", sel.String(), nil, details)
	})
	if err != nil {
		return fmt.Errorf("audit re-evaluation: %w", err)
	}
	return nil
}
