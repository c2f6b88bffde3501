package store

import (
	"context"
	"database/sql"
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
	interrupted  bool
	reason       string
	counts       [3]int // failing, excepted, vanished as stored
	truncated    bool
	compression  string
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

// reevalScan reads the selected results in ID order, a batch at a time,
// with their logs, stored file errors and servers' exceptions, and sends
// each batch to out. ID order follows the tables' storage order, so each
// batch is one range of the primary keys and needs no sorting.
func (db *DB) reevalScan(ctx context.Context, o ReevalOptions, from, where string, args []any, out chan<- []*reevalItem) error {
	lastID := int64(0)
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
		lastID = first.Int64 - 1
	}
	batchQ, err := db.db.PrepareContext(ctx, `SELECT r.id, r.server_id, r.received_at, r.status, r.code, r.complete, r.interrupted, r.reason,
			r.file_errors, r.excepted_errors, r.vanished, l.truncated, l.compression, l.data
		FROM `+from+` JOIN raw_logs l ON l.result_id = r.id
		WHERE `+where+` AND r.id > ? ORDER BY r.id LIMIT ?`)
	if err != nil {
		return mapErr(err)
	}
	defer batchQ.Close()
	// A run over all servers reads the file errors of a batch's ID range
	// (the rows of results it skipped are few: missing nights have none);
	// a run over one server or customer, whose results are spread over
	// the table, names its results.
	scoped := o.ServerID != nil || o.CustomerID != nil
	var rangeQ *sql.Stmt
	if !scoped {
		if rangeQ, err = db.db.PrepareContext(ctx, `SELECT id, result_id, line, kind, path, excepted, exception_id FROM file_errors
			WHERE result_id >= ? AND result_id <= ? ORDER BY result_id, id`); err != nil {
			return mapErr(err)
		}
		defer rangeQ.Close()
	}
	exCache := map[int64][]Exception{}
	a := append(append([]any{}, args...), 0, o.BatchSize)
	for {
		a[len(a)-2] = lastID
		batch, err := scanBatch(ctx, batchQ, a)
		if err != nil || len(batch) == 0 {
			return err
		}
		lastID = batch[len(batch)-1].id
		for _, it := range batch {
			ex, ok := exCache[it.serverID]
			if !ok {
				if ex, err = db.ExceptionsFor(ctx, it.serverID); err != nil {
					return err
				}
				exCache[it.serverID] = ex
			}
			it.ex = ex
		}
		if scoped {
			err = db.loadFileErrorsIn(ctx, batch)
		} else {
			err = loadFileErrorsRange(ctx, rangeQ, batch)
		}
		if err != nil {
			return err
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func scanBatch(ctx context.Context, q *sql.Stmt, args []any) ([]*reevalItem, error) {
	rows, err := q.QueryContext(ctx, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*reevalItem
	for rows.Next() {
		it := &reevalItem{}
		if err := rows.Scan(&it.id, &it.serverID, &it.receivedAt, &it.status, &it.code, &it.complete, &it.interrupted, &it.reason,
			&it.counts[0], &it.counts[1], &it.counts[2], &it.truncated, &it.compression, &it.data); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, mapErr(rows.Err())
}

// loadFileErrorsRange reads the stored file errors of a batch sorted by ID,
// by the range of its IDs.
func loadFileErrorsRange(ctx context.Context, q *sql.Stmt, batch []*reevalItem) error {
	rows, err := q.QueryContext(ctx, batch[0].id, batch[len(batch)-1].id)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	// Both are in result ID order: walk them side by side.
	i := 0
	for rows.Next() {
		var f storedFE
		var rid int64
		var ex sql.NullInt64
		if err := rows.Scan(&f.id, &rid, &f.line, &f.kind, &f.path, &f.excepted, &ex); err != nil {
			return err
		}
		for i < len(batch) && batch[i].id < rid {
			i++
		}
		if i < len(batch) && batch[i].id == rid {
			f.exID = nullInt(ex)
			batch[i].stored = append(batch[i].stored, f)
		}
	}
	return mapErr(rows.Err())
}

// loadFileErrorsIn reads the stored file errors of a batch by naming its
// results.
func (db *DB) loadFileErrorsIn(ctx context.Context, batch []*reevalItem) error {
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
