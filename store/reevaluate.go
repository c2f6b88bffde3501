package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
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
	// Workers judge batches in parallel; 0 means GOMAXPROCS.
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

// maxWrites is how many results' changes one write transaction of a
// re-evaluation holds at most.
const maxWrites = 1024

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
// The work is a pipeline: one goroutine cuts the run into batches by ID;
// workers read the batches' results and logs, decompress and parse them,
// reading a result's stored file errors only when its new judgment differs
// from the stored digest of them (see digest); this goroutine writes the
// changes. Uploads are never blocked for long: reads take no lock, and a
// write transaction holds at most maxWrites results. Results without a raw
// log (missing nights) are skipped. A log stored truncated (its middle left out) is not parsed
// again: its stored file errors are judged against the exceptions
// instead. A result failed for a reason other than its file errors (an
// upload over the size limit, dropped file errors) stays failed.
//
// A run judges by the exceptions as they were when it started. If they
// change during the run (here or in another process), it writes nothing
// more and starts again, up to maxReevalAttempts times: its judgments
// would be older than the exceptions, and could undo those of an upload or
// of a newer run.
//
// Reevaluate is not atomic over the whole run: a cancelled run leaves the
// batches written so far updated, which is consistent per result.
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
	var st ReevalStats
	for attempt := 1; ; attempt++ {
		err := db.reevaluate(ctx, opts, &st)
		if errors.Is(err, errExceptionsChanged) {
			if attempt < maxReevalAttempts {
				continue
			}
			err = fmt.Errorf("reevaluate: the exceptions changed %d times during the run; run it again", attempt)
		}
		if err != nil {
			return st, err
		}
		break
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

// maxReevalAttempts is how many times a run starts again because the
// exceptions changed under it before it gives up.
const maxReevalAttempts = 3

// errExceptionsChanged stops a run whose exceptions changed under it.
var errExceptionsChanged = errors.New("the exceptions changed during the run")

// reevaluate is one attempt of Reevaluate. It adds what it wrote to st's
// Updated and Changed, and sets st's Results and Bytes to what it judged.
func (db *DB) reevaluate(ctx context.Context, opts ReevalOptions, st *ReevalStats) error {
	from, where, args := reevalWhere(opts)
	var total int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+from+` WHERE `+where, args...).Scan(&total); err != nil {
		return fmt.Errorf("reevaluate: count results: %w", mapErr(err))
	}
	st.Results, st.Bytes = 0, 0
	// The writes go through one connection that does not wait for fsync
	// at each commit (synchronous=NORMAL; WAL keeps them atomic): a
	// re-evaluation can be run again, an upload cannot, and the upload
	// commits on the other connections stay FULL and flush these too.
	wconn, err := db.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("reevaluate: %w", mapErr(err))
	}
	defer func() {
		wconn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`)
		wconn.Close()
	}()
	if _, err := wconn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return fmt.Errorf("reevaluate: %w", mapErr(err))
	}

	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		failOnce sync.Once
		failErr  error
	)
	fail := func(err error) {
		failOnce.Do(func() { failErr = err; cancel() })
	}
	// The exceptions as they are now: a change during the run starts
	// another run after this one.
	run, err := db.newReevalRun(ctx)
	if err != nil {
		return fmt.Errorf("reevaluate: %w", err)
	}
	batchQ, err := db.prepareBatch(ctx, from, where, opts.ServerID != nil || opts.CustomerID != nil || opts.OnlyFileErrors)
	if err != nil {
		return fmt.Errorf("reevaluate: %w", err)
	}
	defer batchQ.Close()
	// Few batches wait at each stage: memory stays bounded by a few
	// batches whatever the number of results.
	toJudge := make(chan idRange, opts.Workers)
	toWrite := make(chan []*reevalItem, 2)
	go func() {
		defer close(toJudge)
		if err := db.reevalRanges(pctx, opts, from, where, args, toJudge); err != nil {
			fail(fmt.Errorf("reevaluate: read results: %w", err))
		}
	}()
	var workers sync.WaitGroup
	for w := 0; w < opts.Workers; w++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			j := db.newJudge(batchQ, args, run)
			for r := range toJudge {
				if pctx.Err() != nil {
					continue // drain: the reader stops soon
				}
				batch, err := j.judgeRange(pctx, r)
				if err != nil {
					fail(fmt.Errorf("reevaluate: %w", err))
					continue
				}
				toWrite <- batch
			}
		}()
	}
	go func() {
		workers.Wait()
		close(toWrite)
	}()
	// The writes of several batches go in one transaction, up to
	// maxWrites results or a second: where few results change, one
	// transaction per batch would rewrite the same index pages again and
	// again, and they stay short (a few tens of ms) either way. A writer
	// goroutine commits them while the workers go on: waiting for it here
	// would stall the whole pipeline for the length of each transaction.
	toCommit := make(chan []*reevalItem, 1)
	var updated, changed int // the writer's: read once it is done
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		for writes := range toCommit {
			if pctx.Err() != nil {
				continue
			}
			if err := db.writeReeval(pctx, wconn, writes, run.version, opts); err != nil {
				if !errors.Is(err, errExceptionsChanged) {
					err = fmt.Errorf("reevaluate: write: %w", err)
				}
				fail(err)
				continue
			}
			for _, it := range writes {
				if !it.written {
					continue // judged or deleted meanwhile by another run
				}
				if it.changed() {
					updated++
				}
				if it.newStatus != it.status {
					changed++
				}
			}
		}
	}()
	var (
		writes    []*reevalItem
		lastWrite = time.Now()
	)
	flush := func() {
		if len(writes) > 0 && pctx.Err() == nil {
			toCommit <- writes
		}
		writes, lastWrite = nil, time.Now()
	}
	for batch := range toWrite {
		if pctx.Err() != nil {
			continue // drain, so that the workers end
		}
		for _, it := range batch {
			st.Results++
			st.Bytes += it.logBytes
			if it.err == nil && it.needsWrite() { // an unreadable log keeps its verdict
				writes = append(writes, it)
			}
		}
		if len(writes) >= maxWrites || time.Since(lastWrite) > time.Second {
			flush()
		}
		if opts.Progress != nil {
			opts.Progress(st.Results, total)
		}
	}
	flush()
	close(toCommit)
	<-committed
	st.Updated += updated
	st.Changed += changed
	if err := ctx.Err(); err != nil {
		return err
	}
	return failErr
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

// reevalWhere returns the tables (results as r) and the condition that
// select the results a run judges, with the condition's arguments.
func reevalWhere(o ReevalOptions) (from, where string, args []any) {
	from = "results r"
	w := []string{"r.source <> 'missing'"}
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
		from += " JOIN servers s ON s.id = r.server_id"
		w = append(w, "s.customer_id = ?")
		args = append(args, *o.CustomerID)
	}
	return from, strings.Join(w, " AND "), args
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

// newReevalRun reads the exceptions, their version, and which customer
// each server belongs to.
func (db *DB) newReevalRun(ctx context.Context) (*reevalRun, error) {
	run := &reevalRun{customerOf: map[int64]int64{}}
	// The version before and after the exceptions: equal, they are the
	// exceptions of that version.
	for {
		v, err := exceptionsVersion(ctx, db.db)
		if err != nil {
			return nil, fmt.Errorf("read the exceptions' version: %w", err)
		}
		if run.exceptions, err = db.Exceptions(ctx); err != nil {
			return nil, fmt.Errorf("read exceptions: %w", err)
		}
		again, err := exceptionsVersion(ctx, db.db)
		if err != nil {
			return nil, fmt.Errorf("read the exceptions' version: %w", err)
		}
		if again == v {
			run.version = v
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
		run.customerOf[id] = customer
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read servers: %w", mapErr(err))
	}
	return run, nil
}
