package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/backupreport/backupreport/parser"
)

// ReevalWindow is how far back a change of exceptions re-evaluates
// stored results at once; older ones wait for "backupreport reevaluate".
const ReevalWindow = 7 * 24 * time.Hour

// ReevalOptions selects the results Reevaluate recomputes and says why.
type ReevalOptions struct {
	// Since keeps results received at or after it; zero means all.
	Since time.Time
	// ServerID or CustomerID narrow the run to one server or customer
	// (the scope of the exception that changed); both nil means all.
	ServerID   *int64
	CustomerID *int64
	// OnlyFileErrors keeps only results with file errors (excepted or
	// not): the only ones an exception change can affect. A full run
	// (e.g. after a parser upgrade) leaves it false.
	OnlyFileErrors bool
	// Actor and Reason are recorded with each changed verdict, e.g.
	// "web:alice" and "exception 12 added by alice".
	Actor  string
	Reason string
	// BatchSize is how many results are read, judged and written at a
	// time; each batch's writes are one short transaction. 0 means 256.
	BatchSize int
	// Workers parse the logs of a batch in parallel; 0 means GOMAXPROCS.
	Workers int
	// Progress, if set, is called after each batch with the results done
	// and the total counted at the start (new uploads are not counted).
	Progress func(done, total int)
}

// ReevalStats says what a run of Reevaluate did.
type ReevalStats struct {
	Results  int           `json:"results"`   // results judged again
	Changed  int           `json:"changed"`   // whose status changed
	Updated  int           `json:"updated"`   // whose rows were written (status, counts or file errors)
	Bytes    int64         `json:"log_bytes"` // decompressed log bytes parsed
	Duration time.Duration `json:"duration_ns"`
}

// reevalMu lets one re-evaluation run at a time in this process, so that a
// later run (with newer exceptions) always writes after an earlier one.
var reevalMu sync.Mutex

// Reevaluate recomputes the verdicts of stored results from their stored
// raw logs with the servers' current exceptions: each log is parsed again
// and the exceptions applied, as at upload time. Where the status, the
// counts or a file error's exception changed, the result is updated and,
// for a changed status, a verdict_changes row keeps the old one with
// opts.Reason.
//
// Uploads are never blocked for long: logs are read and parsed outside any
// write transaction, and each batch's changes are written in one short
// transaction. Results without a raw log (missing nights) are skipped. A
// log stored truncated (its middle left out) is not parsed again: its
// stored file errors are judged against the exceptions instead. A result
// failed for a reason other than its file errors (an upload over the size
// limit, dropped file errors) stays failed.
//
// Reevaluate is not atomic over the whole run: a cancelled run leaves the
// batches done so far updated, which is consistent per result.
func (db *DB) Reevaluate(ctx context.Context, opts ReevalOptions) (ReevalStats, error) {
	reevalMu.Lock()
	defer reevalMu.Unlock()
	start := time.Now()
	if opts.BatchSize <= 0 {
		opts.BatchSize = 256
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	where, args := reevalWhere(opts)
	var st ReevalStats
	var total int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM results r JOIN servers s ON s.id = r.server_id WHERE `+where, args...).Scan(&total); err != nil {
		return st, fmt.Errorf("reevaluate: count results: %w", mapErr(err))
	}
	// The writes go through one connection that does not wait for fsync
	// at each commit (synchronous=NORMAL; WAL keeps them atomic): a
	// re-evaluation can be run again, an upload cannot, and the upload
	// commits on the other connections stay FULL and flush these too.
	wconn, err := db.db.Conn(ctx)
	if err != nil {
		return st, fmt.Errorf("reevaluate: %w", mapErr(err))
	}
	defer func() {
		wconn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`)
		wconn.Close()
	}()
	if _, err := wconn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return st, fmt.Errorf("reevaluate: %w", mapErr(err))
	}
	exCache := map[int64][]Exception{}
	lastAt, lastID := "", int64(0)
	// The writes of one batch overlap the reading and parsing of the next;
	// at most one write transaction is open at a time.
	var writing chan error
	var pending []*reevalItem
	finishWrite := func() error {
		if writing == nil {
			return nil
		}
		err := <-writing
		writing = nil
		if err != nil {
			return fmt.Errorf("reevaluate: write: %w", err)
		}
		for _, it := range pending {
			st.Updated++
			if it.newStatus != it.status {
				st.Changed++
			}
		}
		pending = nil
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			finishWrite()
			return st, err
		}
		batch, err := db.reevalBatch(ctx, where, args, lastAt, lastID, opts.BatchSize)
		if err != nil {
			finishWrite()
			return st, fmt.Errorf("reevaluate: read results: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		lastAt, lastID = batch[len(batch)-1].receivedAt, batch[len(batch)-1].id
		for _, it := range batch {
			ex, ok := exCache[it.serverID]
			if !ok {
				if ex, err = db.ExceptionsFor(ctx, it.serverID); err != nil {
					finishWrite()
					return st, fmt.Errorf("reevaluate: exceptions of server %d: %w", it.serverID, err)
				}
				exCache[it.serverID] = ex
			}
			it.ex = ex
		}
		if err := db.loadFileErrors(ctx, batch); err != nil {
			finishWrite()
			return st, fmt.Errorf("reevaluate: read file errors: %w", err)
		}
		judgeAll(batch, opts.Workers)
		var changes []*reevalItem
		for _, it := range batch {
			st.Results++
			st.Bytes += it.logBytes
			it.data = nil
			if it.err != nil {
				continue // an unreadable log keeps its verdict
			}
			if it.changed() {
				changes = append(changes, it)
			}
		}
		if err := finishWrite(); err != nil {
			return st, err
		}
		if len(changes) > 0 {
			pending, writing = changes, make(chan error, 1)
			go func(ch chan error) { ch <- db.writeReeval(ctx, wconn, changes, opts) }(writing)
		}
		if opts.Progress != nil {
			opts.Progress(st.Results, total)
		}
	}
	if err := finishWrite(); err != nil {
		return st, err
	}
	st.Duration = time.Since(start)
	if st.Updated > 0 {
		err := db.withTx(ctx, func(tx *sql.Tx) error {
			return db.audit(tx, opts.Actor, "results.reevaluate", reevalObject(opts), nil,
				map[string]any{"results": st.Results, "updated": st.Updated, "status_changed": st.Changed, "reason": opts.Reason})
		})
		if err != nil {
			return st, fmt.Errorf("reevaluate: audit: %w", err)
		}
	}
	return st, nil
}

func reevalObject(o ReevalOptions) string {
	s := "results"
	switch {
	case o.ServerID != nil:
		s += fmt.Sprintf(" of server %d", *o.ServerID)
	case o.CustomerID != nil:
		s += fmt.Sprintf(" of customer %d", *o.CustomerID)
	}
	if !o.Since.IsZero() {
		s += " since " + formatTime(o.Since)
	}
	return s
}

func reevalWhere(o ReevalOptions) (string, []any) {
	w := []string{"r.source <> 'missing'"}
	var args []any
	if !o.Since.IsZero() {
		w = append(w, "r.received_at >= ?")
		args = append(args, formatTime(o.Since))
	}
	if o.OnlyFileErrors {
		w = append(w, "r.file_errors + r.excepted_errors > 0")
	}
	if o.ServerID != nil {
		w = append(w, "r.server_id = ?")
		args = append(args, *o.ServerID)
	} else if o.CustomerID != nil {
		w = append(w, "s.customer_id = ?")
		args = append(args, *o.CustomerID)
	}
	return strings.Join(w, " AND "), args
}

// reevalItem is one result being judged again.
type reevalItem struct {
	id, serverID int64
	receivedAt   string
	status       string
	code         int
	complete     bool
	interrupted  bool
	reason       string
	counts       [3]int // failing, excepted, vanished as stored
	truncated    bool
	data         []byte
	stored       []storedFE
	ex           []Exception // the server's exceptions

	// Outcome.
	err       error
	logBytes  int64
	newStatus string
	newCode   int
	newDone   bool
	newCounts [3]int
	newErrs   []parser.FileError // nil: keep the stored rows, update exceptions only
	rowsDiff  bool               // the file error rows must be rewritten
	exDiff    bool               // some stored row's excepted/exception changes
	newEx     []*int64           // per stored row (when newErrs is nil): its new exception
}

type storedFE struct {
	id       int64
	line     int
	kind     string
	path     string
	excepted bool
	exID     *int64
}

func (it *reevalItem) changed() bool {
	return it.newStatus != it.status || it.newCode != it.code || it.newDone != it.complete || it.newCounts != it.counts || it.rowsDiff || it.exDiff
}

func (db *DB) reevalBatch(ctx context.Context, where string, args []any, afterAt string, afterID int64, limit int) ([]*reevalItem, error) {
	q := `SELECT r.id, r.server_id, r.received_at, r.status, r.code, r.complete, r.interrupted, r.reason, r.file_errors, r.excepted_errors, r.vanished,
			l.truncated, l.data
		FROM results r JOIN servers s ON s.id = r.server_id JOIN raw_logs l ON l.result_id = r.id
		WHERE ` + where + ` AND (r.received_at, r.id) > (?, ?)
		ORDER BY r.received_at, r.id LIMIT ?`
	a := append(append([]any{}, args...), afterAt, afterID, limit)
	rows, err := db.db.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*reevalItem
	for rows.Next() {
		it := &reevalItem{}
		if err := rows.Scan(&it.id, &it.serverID, &it.receivedAt, &it.status, &it.code, &it.complete, &it.interrupted, &it.reason,
			&it.counts[0], &it.counts[1], &it.counts[2], &it.truncated, &it.data); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

func (db *DB) loadFileErrors(ctx context.Context, batch []*reevalItem) error {
	byID := make(map[int64]*reevalItem, len(batch))
	ph := make([]string, 0, len(batch))
	args := make([]any, 0, len(batch))
	for _, it := range batch {
		byID[it.id] = it
		ph = append(ph, "?")
		args = append(args, it.id)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT id, result_id, line, kind, path, excepted, exception_id FROM file_errors
		WHERE result_id IN (`+strings.Join(ph, ",")+`) ORDER BY result_id, line, id`, args...)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var f storedFE
		var rid int64
		var ex sql.NullInt64
		if err := rows.Scan(&f.id, &rid, &f.line, &f.kind, &f.path, &f.excepted, &ex); err != nil {
			return err
		}
		f.exID = nullInt(ex)
		if it := byID[rid]; it != nil {
			it.stored = append(it.stored, f)
		}
	}
	return rows.Err()
}

// judgeAll judges a batch with a few goroutines: parsing is the work.
func judgeAll(batch []*reevalItem, workers int) {
	if workers > len(batch) {
		workers = len(batch)
	}
	next := make(chan *reevalItem)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			zr := new(gzip.Reader)
			for it := range next {
				it.judge(zr, it.ex)
			}
		}()
	}
	for _, it := range batch {
		next <- it
	}
	close(next)
	wg.Wait()
}

// exceptionID is the first exception with a pattern, as insertFileErrors
// links them.
func exceptionID(ex []Exception, pattern string) *int64 {
	for i := range ex {
		if ex[i].Pattern == pattern {
			return &ex[i].ID
		}
	}
	return nil
}

func sameID(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// forcedFailed reports a failure that no exception can lift: an upload
// cut at the size limit (see server.ingest).
func (it *reevalItem) forcedFailed() bool {
	return strings.HasPrefix(it.reason, "upload larger than")
}

func (it *reevalItem) judge(zr *gzip.Reader, ex []Exception) {
	patterns := Patterns(ex)
	it.newCode, it.newDone = it.code, it.complete
	if it.truncated {
		it.judgeStored(ex, patterns)
		return
	}
	if err := zr.Reset(bytes.NewReader(it.data)); err != nil {
		it.err = err
		return
	}
	cr := &countReader{r: zr}
	res, err := parser.Parse(cr)
	it.logBytes = cr.n
	if err != nil {
		it.err = err
		return
	}
	res.Apply(patterns)
	if it.interrupted && res.Role == "" && res.RsyncVersion == "" {
		res.Code = parser.CodeMissing
		res.Status = parser.Verdict(res.Code, res.FileErrors)
	}
	it.newCode, it.newDone, it.newStatus = res.Code, res.Complete, string(res.Status)
	if it.forcedFailed() {
		it.newStatus = string(parser.StatusFailed)
	}
	f, e, v := CountFileErrors(res.FileErrors)
	it.newCounts = [3]int{f, e, v}
	same := len(res.FileErrors) == len(it.stored)
	for i := 0; same && i < len(res.FileErrors); i++ {
		fe, s := &res.FileErrors[i], &it.stored[i]
		if fe.Line != s.line || string(fe.Kind) != s.kind || fe.Path != s.path {
			same = false
		}
	}
	if !same {
		it.rowsDiff, it.newErrs = true, res.FileErrors
		return
	}
	it.newEx = make([]*int64, len(it.stored))
	for i := range res.FileErrors {
		fe := &res.FileErrors[i]
		if fe.Excepted {
			it.newEx[i] = exceptionID(ex, fe.Exception)
		}
		if fe.Excepted != it.stored[i].excepted || !sameID(it.newEx[i], it.stored[i].exID) {
			it.exDiff = true
		}
	}
	it.newErrs = res.FileErrors
}

// judgeStored judges a result from its stored file errors, for a log whose
// middle was not stored.
func (it *reevalItem) judgeStored(ex []Exception, patterns []string) {
	errs := make([]parser.FileError, len(it.stored))
	old := make([]parser.FileError, len(it.stored))
	it.newEx = make([]*int64, len(it.stored))
	for i, s := range it.stored {
		errs[i] = parser.FileError{Line: s.line, Kind: parser.Kind(s.kind), Path: s.path}
		old[i] = errs[i]
		old[i].Excepted = s.excepted
	}
	r := parser.Result{Code: it.code, FileErrors: errs}
	r.Apply(patterns)
	it.newStatus = string(r.Status)
	// A failure the stored rows do not explain (dropped errors, the size
	// limit) stays.
	if it.status == string(parser.StatusFailed) && parser.Verdict(it.code, old) == parser.StatusOK || it.forcedFailed() {
		it.newStatus = string(parser.StatusFailed)
	}
	f, e, v := CountFileErrors(r.FileErrors)
	it.newCounts = [3]int{f, e, v}
	for i := range r.FileErrors {
		if r.FileErrors[i].Excepted {
			it.newEx[i] = exceptionID(ex, r.FileErrors[i].Exception)
		}
		if r.FileErrors[i].Excepted != it.stored[i].excepted || !sameID(it.newEx[i], it.stored[i].exID) {
			it.exDiff = true
		}
	}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// writeReeval writes one batch's changes in one transaction.
func (db *DB) writeReeval(ctx context.Context, conn *sql.Conn, changes []*reevalItem, opts ReevalOptions) error {
	now := formatTime(db.Now())
	return withConnTx(ctx, conn, func(tx *sql.Tx) error {
		// The row must still hold what was read: another re-evaluation
		// (the command line's, beside serve's) may have judged it since.
		updRes, err := tx.PrepareContext(ctx, `UPDATE results SET status = ?, code = ?, complete = ?, file_errors = ?, excepted_errors = ?, vanished = ?
			WHERE id = ? AND status = ? AND code = ?`)
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
		for _, it := range changes {
			res, err := updRes.ExecContext(ctx, it.newStatus, it.newCode, boolInt(it.newDone), it.newCounts[0], it.newCounts[1], it.newCounts[2], it.id, it.status, it.code)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // deleted or judged by another run meanwhile
			}
			at := parseTime(it.receivedAt)
			if it.rowsDiff {
				if _, err := tx.ExecContext(ctx, `DELETE FROM file_errors WHERE result_id = ?`, it.id); err != nil {
					return err
				}
				if len(it.newErrs) > 0 {
					if err := db.insertFileErrors(ctx, tx, it.id, at, it.newErrs, it.ex); err != nil {
						return err
					}
				}
			} else if it.exDiff {
				for i, s := range it.stored {
					if it.newEx[i] == nil && !s.excepted && s.exID == nil {
						continue
					}
					if _, err := updFE.ExecContext(ctx, boolInt(it.newEx[i] != nil), it.newEx[i], s.id); err != nil {
						return err
					}
					if id := it.newEx[i]; id != nil && it.receivedAt > matched[*id] {
						matched[*id] = it.receivedAt
					}
				}
			}
			if it.newStatus != it.status {
				if _, err := tx.ExecContext(ctx, `INSERT INTO verdict_changes (result_id, changed_at, old_status, new_status, reason, changed_by) VALUES (?, ?, ?, ?, ?, ?)`,
					it.id, now, it.status, it.newStatus, opts.Reason, opts.Actor); err != nil {
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

// VerdictChange is an earlier verdict of a result that re-evaluation
// replaced, with why.
type VerdictChange struct {
	ResultID  int64     `json:"result_id"`
	ChangedAt time.Time `json:"changed_at"`
	OldStatus string    `json:"old_status"`
	NewStatus string    `json:"new_status"`
	Reason    string    `json:"reason"`
	ChangedBy string    `json:"changed_by"`
}

// VerdictChanges returns the verdict changes of the given results, oldest
// first, by result ID.
func (db *DB) VerdictChanges(ctx context.Context, resultIDs []int64) (map[int64][]VerdictChange, error) {
	out := map[int64][]VerdictChange{}
	if len(resultIDs) == 0 {
		return out, nil
	}
	ph := make([]string, len(resultIDs))
	args := make([]any, len(resultIDs))
	for i, id := range resultIDs {
		ph[i], args[i] = "?", id
	}
	rows, err := db.db.QueryContext(ctx, `SELECT result_id, changed_at, old_status, new_status, reason, changed_by FROM verdict_changes
		WHERE result_id IN (`+strings.Join(ph, ",")+`) ORDER BY result_id, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("verdict changes: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var v VerdictChange
		var at string
		if err := rows.Scan(&v.ResultID, &at, &v.OldStatus, &v.NewStatus, &v.Reason, &v.ChangedBy); err != nil {
			return nil, err
		}
		v.ChangedAt = parseTime(at)
		out[v.ResultID] = append(out[v.ResultID], v)
	}
	return out, rows.Err()
}

// SaveUploads stores many judged uploads in one transaction, as SaveUpload
// does one: for seeding benchmarks and tests with realistic rows.
func (db *DB) SaveUploads(ctx context.Context, us []Upload) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		for _, u := range us {
			if _, err := db.insertResult(ctx, tx, u); err != nil {
				return fmt.Errorf("save uploads: %w", err)
			}
		}
		return nil
	})
}

// withConnTx is withTx on one given connection.
func withConnTx(ctx context.Context, conn *sql.Conn, fn func(tx *sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return mapErr(err)
	}
	return mapErr(tx.Commit())
}
