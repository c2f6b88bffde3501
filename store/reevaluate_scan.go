package store

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strings"

	"github.com/backupreport/backupreport/parser"
)

// reevalItem is one result being judged again.
type reevalItem struct {
	id, serverID int64
	receivedAt   string
	status       string
	code         int
	complete     bool
	end          parser.End // how the upload ended (results.ended)
	dropped      int        // file errors dropped by the parser, not vanished
	counts       [3]int     // failing, excepted, vanished as stored
	truncated    bool
	digest       sql.NullInt64 // of the stored file errors; NULL: unknown
	compression  string
	chunks       int         // pieces of the log stored apart, see LogSpool
	stored       []storedFE  // read only when needed, see judge.finish
	ex           []Exception // the server's exceptions

	// Outcome.
	err       error // the log could not be judged: the result keeps its verdict
	written   bool  // the changes were written
	logBytes  int64
	newStatus string
	newCode   int
	newDone   bool
	newCounts [3]int
	newDigest int64
	newErrs   []parser.FileError // from the log (nil when judged from the stored rows)
	rowsDiff  bool               // the file error rows must be rewritten from newErrs
	exDiff    bool               // some stored row's excepted/exception changes
	newEx     []*int64           // per stored row (when kept): its new exception
}

type storedFE struct {
	id       int64
	line     int
	kind     string
	path     string
	excepted bool
	exID     *int64
}

// changed reports a new judgment: the status, the code, the counts or the
// file errors' rows differ from what is stored.
func (it *reevalItem) changed() bool {
	return it.newStatus != it.status || it.newCode != it.code || it.newDone != it.complete || it.newCounts != it.counts || it.rowsDiff || it.exDiff
}

// needsWrite reports a result to write: changed, or its stored digest is
// missing or stale (rows from before the digest, or whose exception was
// deleted).
func (it *reevalItem) needsWrite() bool {
	return it.changed() || !it.digest.Valid || it.digest.Int64 != it.newDigest
}

// idRange is one batch of a run: the selected results with IDs in
// (after, upTo].
type idRange struct{ after, upTo int64 }

// reevalRanges cuts a run into batches of opts.BatchSize results, in ID
// order, and sends them to out. It reads no more than the IDs: the workers
// read the batches' rows and logs in parallel. ID order follows the
// tables' storage order, so each batch is one range of the primary keys
// and needs no sorting.
func (db *DB) reevalRanges(ctx context.Context, o ReevalOptions, from, where string, args []any, out chan<- idRange) error {
	after := int64(0)
	if !o.Since.IsZero() {
		// Start at the first result received since then. "id + 0" keeps
		// SQLite from walking the table in ID order to find it: the index
		// on received_at finds the range, then its smallest ID.
		var first sql.NullInt64
		if err := db.db.QueryRowContext(ctx, `SELECT MIN(id + 0) FROM results WHERE received_at >= ?`, formatTime(o.Since)).Scan(&first); err != nil {
			return mapErr(err)
		}
		if !first.Valid {
			return nil
		}
		after = first.Int64 - 1
	}
	// The last ID of the next batch: the BatchSize-th selected one.
	q, err := db.db.PrepareContext(ctx, `SELECT r.id FROM `+from+` WHERE `+where+` AND r.id > ? ORDER BY r.id LIMIT 1 OFFSET ?`)
	if err != nil {
		return mapErr(err)
	}
	defer q.Close()
	a := append(append([]any{}, args...), 0, o.BatchSize-1)
	for {
		a[len(a)-2] = after
		r := idRange{after: after, upTo: math.MaxInt64}
		err := q.QueryRowContext(ctx, a...).Scan(&r.upTo)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err)
		}
		select {
		case out <- r:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err != nil { // fewer than BatchSize left: that was the last
			return nil
		}
		after = r.upTo
	}
}

// batchQueries are the statements that read a batch of results to judge
// again (see readBatch).
type batchQueries struct {
	results, logs *sql.Stmt
	lookup        bool // the logs' statement takes the run's arguments too
}

// prepareBatch prepares the statements of a run's batches. The results and
// their logs are read by two scans merged by ID rather than by a join:
// both tables are stored in ID order, so a scan walks their pages in turn
// where a join would look each log up from the top of its table. A run
// that selects few of the results in a range (one server's or customer's,
// or only those with file errors: lookup) looks up just their logs.
func (db *DB) prepareBatch(ctx context.Context, from, where string, lookup bool) (*batchQueries, error) {
	q := &batchQueries{lookup: lookup}
	var err error
	q.results, err = db.db.PrepareContext(ctx, `SELECT r.id, r.server_id, r.received_at, r.status, r.code, r.complete, r.ended, r.dropped_errors,
			r.file_errors, r.excepted_errors, r.vanished, r.file_errors_digest
		FROM `+from+` WHERE `+where+` AND r.id > ? AND r.id <= ? ORDER BY r.id`)
	if err != nil {
		return nil, mapErr(err)
	}
	logs := `SELECT result_id, truncated, compression, chunks, data FROM raw_logs WHERE result_id > ? AND result_id <= ? ORDER BY result_id`
	if lookup {
		logs = `SELECT result_id, truncated, compression, chunks, data FROM raw_logs
			WHERE result_id IN (SELECT r.id FROM ` + from + ` WHERE ` + where + ` AND r.id > ? AND r.id <= ?) ORDER BY result_id`
	}
	if q.logs, err = db.db.PrepareContext(ctx, logs); err != nil {
		q.results.Close()
		return nil, mapErr(err)
	}
	return q, nil
}

// Close closes the statements.
func (q *batchQueries) Close() {
	q.results.Close()
	q.logs.Close()
}

// readBatch reads the results of a batch and their logs; args are the
// run's arguments then the batch's range. It calls onLog with each result
// and its compressed log as it is read (the log is valid only during the
// call: nothing copies it) and returns the results. Results without a log
// (missing nights) are left out.
func (q *batchQueries) readBatch(ctx context.Context, args []any, onLog func(it *reevalItem, data []byte)) ([]*reevalItem, error) {
	rows, err := q.results.QueryContext(ctx, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	var all []*reevalItem
	for rows.Next() {
		it := &reevalItem{}
		if err := rows.Scan(&it.id, &it.serverID, &it.receivedAt, &it.status, &it.code, &it.complete, &it.end, &it.dropped,
			&it.counts[0], &it.counts[1], &it.counts[2], &it.digest); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	if len(all) == 0 {
		return nil, nil
	}
	logArgs := args[len(args)-2:] // the range
	if q.lookup {
		logArgs = args
	}
	if rows, err = q.logs.QueryContext(ctx, logArgs...); err != nil {
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
		for i < len(all) && all[i].id < id {
			i++ // no log
		}
		if i < len(all) && all[i].id == id {
			it := all[i]
			it.truncated, it.compression, it.chunks = truncated, compression, chunks
			onLog(it, data)
			out = append(out, it)
			i++
		}
	}
	return out, mapErr(rows.Err())
}

// loadFileErrors reads the stored file errors of results.
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
		WHERE result_id IN (`+strings.Join(ph, ",")+`) ORDER BY result_id, id`, args...)
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
	return mapErr(rows.Err())
}
