package reeval

import (
	"context"
	"fmt"
	"io"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// judge is one worker's state: its log decoder, reused for every log, and
// the exceptions of the servers it met.
type judge struct {
	db   *store.DB
	br   *store.BatchReader
	logs *store.LogDecoder
	snap *store.ExceptionsSnapshot
	ex   map[int64][]store.Exception // by server
	// stored judges from the stored file errors, reading no log (see
	// Options.FromStoredErrors).
	stored bool
}

func newJudge(db *store.DB, br *store.BatchReader, snap *store.ExceptionsSnapshot) *judge {
	return &judge{db: db, br: br, logs: db.NewLogDecoder(), snap: snap, ex: map[int64][]store.Exception{}}
}

// judgeRange reads a batch of results with their logs and judges them
// again.
func (j *judge) judgeRange(ctx context.Context, r store.IDRange) ([]*store.Judgment, error) {
	if j.stored {
		return j.judgeStoredRange(ctx, r)
	}
	batch, err := j.br.Read(ctx, r, func(it *store.Judgment, data []byte) {
		if j.exceptions(ctx, it) && !it.Truncated {
			j.parse(it, data)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	return batch, j.finish(ctx, batch)
}

// judgeStoredRange judges a batch of results from their stored file
// errors, reading no log.
func (j *judge) judgeStoredRange(ctx context.Context, r store.IDRange) ([]*store.Judgment, error) {
	batch, err := j.br.ReadResults(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var rows []*store.Judgment // those with file error rows to read
	for _, it := range batch {
		if j.exceptions(ctx, it) && it.Counts != [3]int{} {
			rows = append(rows, it)
		}
	}
	if len(rows) > 0 {
		if err := j.db.LoadFileErrors(ctx, rows); err != nil {
			return nil, err
		}
	}
	for _, it := range batch {
		if it.Err == nil {
			judgeStored(it)
		}
	}
	return batch, nil
}

// exceptions sets the exceptions of a result's server, as of the run's
// snapshot; false (and it.Err) when its server's customer is unknown.
func (j *judge) exceptions(ctx context.Context, it *store.Judgment) bool {
	ex, ok := j.ex[it.ServerID]
	if !ok {
		customer, known := j.snap.CustomerOf[it.ServerID]
		if !known {
			// A server added since the run started, by its first upload.
			var err error
			if customer, err = j.db.CustomerOf(ctx, it.ServerID); err != nil {
				it.Err = err // keeps its verdict
				return false
			}
		}
		ex = j.snap.Of(it.ServerID, customer)
		j.ex[it.ServerID] = ex
	}
	it.Exceptions = ex
	return true
}

// finish completes the judgment of a batch whose logs were parsed. The
// stored file errors are read only for the results that need them: a
// truncated log is judged from them, and a result whose new file errors
// differ from its stored digest (or that has none yet) is compared with
// them row by row.
func (j *judge) finish(ctx context.Context, batch []*store.Judgment) error {
	var rows []*store.Judgment
	for _, it := range batch {
		d, known := it.StoredDigest()
		if it.Err == nil && (it.Truncated || !known || d != it.NewDigest) {
			rows = append(rows, it)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if err := j.db.LoadFileErrors(ctx, rows); err != nil {
		return err
	}
	for _, it := range rows {
		if it.Truncated {
			judgeStored(it)
		} else {
			compare(it)
		}
	}
	return nil
}

// parse judges a result again from its log, with the facts stored with it.
func (j *judge) parse(it *store.Judgment, data []byte) {
	text, err := j.logs.Open(it, data)
	if err != nil {
		it.Err = err
		return
	}
	cr := &countingReader{r: text}
	res, err := parser.Parse(cr)
	if err != nil {
		it.Err = fmt.Errorf("log of result %d: %w", it.ID, err)
		return
	}
	it.LogBytes = cr.n
	parser.Judge(res, parser.Facts{End: it.End, Baseline: it.Baseline, Thresholds: j.db.Thresholds}, store.Patterns(it.Exceptions))
	it.NewCode, it.NewDone, it.NewStatus = res.Code, res.Complete, res.Status
	f, e, v := store.CountFileErrors(res.FileErrors)
	it.NewCounts = [3]int{f, e, v}
	it.NewErrs = res.FileErrors
	it.NewWarnings, it.WarningsJudged = res.Warnings, true
	it.NewDigest = store.DigestOf(res.FileErrors, it.Exceptions)
}

// compare compares a result's new file errors with its stored rows: the
// rows are rewritten if the log now yields other errors, else only the
// exceptions of the rows that changed are updated.
func compare(it *store.Judgment) {
	same := len(it.NewErrs) == len(it.Stored)
	for i := 0; same && i < len(it.NewErrs); i++ {
		fe, s := &it.NewErrs[i], &it.Stored[i]
		if fe.Line != s.Line || string(fe.Kind) != s.Kind || fe.Path != s.Path {
			same = false
		}
	}
	if !same {
		it.RowsDiff = true
		return
	}
	it.NewEx = make([]*int64, len(it.Stored))
	for i := range it.NewErrs {
		fe := &it.NewErrs[i]
		if fe.Excepted {
			it.NewEx[i] = store.ExceptionID(it.Exceptions, fe.Exception)
		}
		if fe.Excepted != it.Stored[i].Excepted || !store.SameID(it.NewEx[i], it.Stored[i].ExceptionID) {
			it.ExDiff = true
		}
	}
}

// judgeStored judges a result from its stored file errors and facts: for
// a log whose middle was not stored, and for every result when only the
// exceptions changed (Options.FromStoredErrors).
func judgeStored(it *store.Judgment) {
	ex := it.Exceptions
	errs := make([]parser.FileError, len(it.Stored))
	it.NewEx = make([]*int64, len(it.Stored))
	for i, s := range it.Stored {
		errs[i] = parser.FileError{Line: s.Line, Kind: parser.Kind(s.Kind), Path: s.Path}
	}
	// The stored code already went through Judge: for an upload cut off,
	// a code other than CodeMissing came from rsync's final line.
	r := parser.Result{Code: it.Code, Complete: it.Complete, FileErrors: errs}
	if it.Code != parser.CodeMissing {
		r.CodeLine = -1 // arrived; its line is not stored
	}
	if it.Dropped > 0 {
		r.Dropped = map[parser.Kind]int{parser.KindOther: it.Dropped}
	}
	parser.Judge(&r, parser.Facts{End: it.End}, store.Patterns(ex))
	it.NewCode, it.NewDone, it.NewStatus = r.Code, r.Complete, r.Status
	f, e, v := store.CountFileErrors(r.FileErrors)
	it.NewCounts = [3]int{f, e, v}
	it.NewDigest = store.DigestOf(r.FileErrors, ex)
	for i := range r.FileErrors {
		if r.FileErrors[i].Excepted {
			it.NewEx[i] = store.ExceptionID(ex, r.FileErrors[i].Exception)
		}
		if r.FileErrors[i].Excepted != it.Stored[i].Excepted || !store.SameID(it.NewEx[i], it.Stored[i].ExceptionID) {
			it.ExDiff = true
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
