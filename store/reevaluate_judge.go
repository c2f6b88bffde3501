package store

import (
	"bytes"
	"context"
	"fmt"

	"github.com/backupreport/backupreport/parser"
)

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

// judge is one worker's state: its decompressor, reused for every log,
// and the exceptions of the servers it met.
type judge struct {
	db   *DB
	q    *batchQueries
	args []any // the run's arguments, then a batch's range
	logs *logReader
	run  *reevalRun
	ex   map[int64][]Exception // by server
}

// reevalRun is what a run reads once and its workers share, read-only.
type reevalRun struct {
	version    int64           // of the exceptions (see exceptions_version)
	exceptions []Exception     // all of them
	customerOf map[int64]int64 // server -> customer, when the run started
}

func (db *DB) newJudge(q *batchQueries, args []any, run *reevalRun) *judge {
	return &judge{db: db, q: q, args: append(append([]any{}, args...), 0, 0), logs: newLogReader(), run: run, ex: map[int64][]Exception{}}
}

// exceptionsOf picks a server's exceptions out of all of them, as
// ExceptionsFor selects them: the server's own, its customer's, the global
// ones, in ID order.
func exceptionsOf(all []Exception, serverID, customerID int64) []Exception {
	out := []Exception{}
	for _, e := range all {
		if e.ServerID != nil && *e.ServerID == serverID ||
			e.ServerID == nil && e.CustomerID != nil && *e.CustomerID == customerID ||
			e.CustomerID == nil {
			out = append(out, e)
		}
	}
	return out
}

// customerOf returns the customer of a server.
func (db *DB) customerOf(ctx context.Context, serverID int64) (int64, error) {
	var id int64
	if err := db.db.QueryRowContext(ctx, `SELECT customer_id FROM servers WHERE id = ?`, serverID).Scan(&id); err != nil {
		return 0, fmt.Errorf("customer of server %d: %w", serverID, mapErr(err))
	}
	return id, nil
}

// judgeRange reads a batch of results with their logs and judges them
// again.
func (j *judge) judgeRange(ctx context.Context, r idRange) ([]*reevalItem, error) {
	j.args[len(j.args)-2], j.args[len(j.args)-1] = r.after, r.upTo
	batch, err := j.q.readBatch(ctx, j.args, func(it *reevalItem, data []byte) {
		ex, ok := j.ex[it.serverID]
		if !ok {
			customer, known := j.run.customerOf[it.serverID]
			if !known {
				// A server added since the run started, by its
				// first upload.
				var err error
				if customer, err = j.db.customerOf(ctx, it.serverID); err != nil {
					it.err = err // keeps its verdict
					return
				}
			}
			ex = exceptionsOf(j.run.exceptions, it.serverID, customer)
			j.ex[it.serverID] = ex
		}
		it.ex = ex
		if !it.truncated {
			j.parse(it, data)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	return batch, j.finish(ctx, batch)
}

// finish completes the judgment of a batch whose logs were parsed. The
// stored file errors are read only for the results that need them: a
// truncated log is judged from them, and a result whose new file errors
// differ from its stored digest (or that has none yet) is compared with
// them row by row.
func (j *judge) finish(ctx context.Context, batch []*reevalItem) error {
	var rows []*reevalItem
	for _, it := range batch {
		if it.err == nil && (it.truncated || !it.digest.Valid || it.digest.Int64 != it.newDigest) {
			rows = append(rows, it)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if err := j.db.loadFileErrors(ctx, rows); err != nil {
		return fmt.Errorf("read file errors: %w", err)
	}
	for _, it := range rows {
		if it.truncated {
			it.judgeStored()
		} else {
			it.compare()
		}
	}
	return nil
}

// parse judges a result again from its compressed log.
func (j *judge) parse(it *reevalItem, data []byte) {
	var res *parser.Result
	if it.chunks > 0 {
		// A big log, stored in pieces: parsed as it is read, a piece at
		// a time, never held whole.
		cr := &countingReader{r: newS2Reader(j.db.newChunkReader(it.id, it.chunks, data))}
		var err error
		if res, err = parser.Parse(cr); err != nil {
			it.err = fmt.Errorf("log of result %d: %w", it.id, err)
			return
		}
		it.logBytes = cr.n
	} else {
		text, err := j.logs.decode(it.compression, data)
		if err != nil {
			it.err = err
			return
		}
		it.logBytes = int64(len(text))
		if res, err = parser.Parse(bytes.NewReader(text)); err != nil {
			it.err = err
			return
		}
	}
	parser.Judge(res, parser.Facts{End: it.end}, Patterns(it.ex))
	it.newCode, it.newDone, it.newStatus = res.Code, res.Complete, string(res.Status)
	f, e, v := CountFileErrors(res.FileErrors)
	it.newCounts = [3]int{f, e, v}
	it.newErrs = res.FileErrors
	it.newDigest = digestOf(res.FileErrors, it.ex)
}

// compare compares a result's new file errors with its stored rows: the
// rows are rewritten if the log now yields other errors, else only the
// exceptions of the rows that changed are updated.
func (it *reevalItem) compare() {
	same := len(it.newErrs) == len(it.stored)
	for i := 0; same && i < len(it.newErrs); i++ {
		fe, s := &it.newErrs[i], &it.stored[i]
		if fe.Line != s.line || string(fe.Kind) != s.kind || fe.Path != s.path {
			same = false
		}
	}
	if !same {
		it.rowsDiff = true
		return
	}
	it.newEx = make([]*int64, len(it.stored))
	for i := range it.newErrs {
		fe := &it.newErrs[i]
		if fe.Excepted {
			it.newEx[i] = exceptionID(it.ex, fe.Exception)
		}
		if fe.Excepted != it.stored[i].excepted || !sameID(it.newEx[i], it.stored[i].exID) {
			it.exDiff = true
		}
	}
}

// judgeStored judges a result from its stored file errors, for a log whose
// middle was not stored.
func (it *reevalItem) judgeStored() {
	ex := it.ex
	it.newCode, it.newDone = it.code, it.complete
	errs := make([]parser.FileError, len(it.stored))
	it.newEx = make([]*int64, len(it.stored))
	for i, s := range it.stored {
		errs[i] = parser.FileError{Line: s.line, Kind: parser.Kind(s.kind), Path: s.path}
	}
	// The stored code already went through Judge: for an upload cut off,
	// a code other than CodeMissing came from rsync's final line.
	r := parser.Result{Code: it.code, FileErrors: errs}
	if it.code != parser.CodeMissing {
		r.CodeLine = -1 // arrived; its number is not stored
	}
	if it.dropped > 0 {
		r.Dropped = map[parser.Kind]int{parser.KindOther: it.dropped}
	}
	parser.Judge(&r, parser.Facts{End: it.end}, Patterns(ex))
	it.newCode, it.newStatus = r.Code, string(r.Status)
	f, e, v := CountFileErrors(r.FileErrors)
	it.newCounts = [3]int{f, e, v}
	it.newDigest = digestOf(r.FileErrors, ex)
	for i := range r.FileErrors {
		if r.FileErrors[i].Excepted {
			it.newEx[i] = exceptionID(ex, r.FileErrors[i].Exception)
		}
		if r.FileErrors[i].Excepted != it.stored[i].excepted || !sameID(it.newEx[i], it.stored[i].exID) {
			it.exDiff = true
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
