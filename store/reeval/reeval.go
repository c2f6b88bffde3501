// Package reeval judges stored results again with the exceptions as they
// are now: after an exception changed (the exception's scope, see
// AfterExceptionChange) or after a parser upgrade (Run over everything).
// After a parser upgrade each log is parsed again and judged by
// parser.Judge with the facts stored with it, as at upload time; after an
// exception change, when the parser's output is what is stored, the stored
// file errors are judged instead (Options.FromStoredErrors), reading no
// log. Either way, judging an unchanged database again changes nothing.
//
// It is policy over package store's primitives (a selection scanned in
// batches, logs decoded, file errors loaded, judgments written under an
// exceptions version); the SQL stays in store.
package reeval

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/backupreport/backupreport/store"
)

// Window is how far back a change of exceptions re-evaluates stored
// results at once; older ones wait for "backupreport reevaluate".
const Window = 7 * 24 * time.Hour

// Options selects the results Run judges again and says why.
type Options struct {
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
	// FromStoredErrors judges each result from its stored file errors and
	// facts (code, end, dropped errors) instead of its log: exact when
	// only the exceptions changed since the results were judged, since
	// the stored rows are the parser's file errors of the log, in order,
	// and an exception changes nothing else (see parser.Judge). It reads,
	// decompresses and parses no log (most of a run that rewrites little;
	// the writer bounds one that rewrites much), and it also judges the
	// results whose log retention deleted. Warnings are kept as stored
	// (exceptions never change them). A run after a parser upgrade must
	// leave it false: only the logs tell what the new parser makes of
	// them.
	FromStoredErrors bool
	// Actor and Reason are recorded with each changed verdict, e.g.
	// "web:alice" and "exception 12 added by alice".
	Actor  string
	Reason string
	// BatchSize is how many results are read, judged and written at a
	// time. 0 means 256.
	BatchSize int
	// Workers judge batches in parallel; 0 means GOMAXPROCS.
	Workers int
	// Progress, if set, is called after each batch with the results done
	// and the total counted at the start (new uploads are not counted).
	Progress func(done, total int)
}

// Stats says what a run did.
type Stats struct {
	Results  int           `json:"results"`   // results judged again
	Changed  int           `json:"changed"`   // whose status changed
	Updated  int           `json:"updated"`   // whose rows were written (status, counts or file errors)
	Bytes    int64         `json:"log_bytes"` // decompressed log bytes parsed
	Duration time.Duration `json:"duration_ns"`
}

// selection is the results o selects.
func (o Options) selection() store.Selection {
	return store.Selection{Since: o.Since, ServerID: o.ServerID, CustomerID: o.CustomerID, OnlyFileErrors: o.OnlyFileErrors}
}

// AfterExceptionChange re-evaluates what a change of exception e at now
// can affect: the results of the last Window in e's scope that have file
// errors, judged from their stored file errors (Options.FromStoredErrors:
// the exceptions are all that changed). It is the one entry point the web
// and the command line call after adding, editing or removing an
// exception; progress may be nil.
func AfterExceptionChange(ctx context.Context, db *store.DB, e store.Exception, now time.Time, actor, reason string, progress func(done, total int)) (Stats, error) {
	return Run(ctx, db, Options{
		Since: now.Add(-Window), OnlyFileErrors: true, FromStoredErrors: true, ServerID: e.ServerID, CustomerID: e.CustomerID,
		Actor: actor, Reason: reason, Progress: progress,
	})
}

// maxWrites is how many results' changes one write transaction holds at
// most.
const maxWrites = 1024

// maxAttempts is how many times a run starts again because the exceptions
// changed under it before it gives up.
const maxAttempts = 3

// mu lets one re-evaluation run at a time in this process, so that a later
// run (with newer exceptions) always writes after an earlier one.
var mu sync.Mutex

// Run judges the selected results again and writes where the status, the
// counts or a file error's exception changed; for a changed status, a
// verdict_changes row keeps the old one with opts.Reason.
//
// The work is a pipeline: one goroutine cuts the run into batches by ID;
// workers read the batches' results and logs, decompress and parse them,
// reading a result's stored file errors only when its new judgment differs
// from the stored digest of them; this goroutine hands the changes to a
// writer. Uploads are never blocked for long: reads take no lock, and a
// write transaction holds at most maxWrites results. Results without a raw
// log (missing nights, logs deleted) keep their verdict. A log stored
// truncated (its middle left out) is not parsed again: its stored file
// errors are judged, with the stored facts, instead.
//
// A run judges by the exceptions as they were when it started. If they
// change during the run (here or in another process), it writes nothing
// more and starts again, up to maxAttempts times: its judgments would be
// older than the exceptions, and could undo those of an upload or of a
// newer run.
//
// Run is not atomic over the whole run: a cancelled run leaves the
// batches written so far updated, which is consistent per result.
func Run(ctx context.Context, db *store.DB, opts Options) (Stats, error) {
	mu.Lock()
	defer mu.Unlock()
	start := time.Now()
	if opts.BatchSize <= 0 {
		opts.BatchSize = 256
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	var st Stats
	for attempt := 1; ; attempt++ {
		err := run(ctx, db, opts, &st)
		if errors.Is(err, store.ErrExceptionsChanged) {
			if attempt < maxAttempts {
				continue
			}
			err = fmt.Errorf("the exceptions changed %d times during the run; run it again", attempt)
		}
		if err != nil {
			return st, fmt.Errorf("reevaluate: %w", err)
		}
		break
	}
	st.Duration = time.Since(start)
	if st.Updated > 0 {
		err := db.AuditReevaluation(ctx, opts.Actor, opts.selection(),
			map[string]any{"results": st.Results, "updated": st.Updated, "status_changed": st.Changed, "reason": opts.Reason})
		if err != nil {
			return st, fmt.Errorf("reevaluate: %w", err)
		}
	}
	return st, nil
}

// run is one attempt of Run. It adds what it wrote to st's Updated and
// Changed, and sets st's Results and Bytes to what it judged.
func run(ctx context.Context, db *store.DB, opts Options, st *Stats) error {
	total, err := db.CountSelected(ctx, opts.selection())
	if err != nil {
		return err
	}
	st.Results, st.Bytes = 0, 0
	w, err := db.NewJudgmentWriter(ctx)
	if err != nil {
		return err
	}
	defer w.Close()

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
	snap, err := db.ExceptionsSnapshot(ctx)
	if err != nil {
		return err
	}
	br, err := db.NewBatchReader(ctx, opts.selection())
	if err != nil {
		return err
	}
	defer br.Close()
	// Few batches wait at each stage: memory stays bounded by a few
	// batches whatever the number of results.
	toJudge := make(chan store.IDRange, opts.Workers)
	toWrite := make(chan []*store.Judgment, 2)
	go func() {
		defer close(toJudge)
		if err := db.ScanRanges(pctx, opts.selection(), opts.BatchSize, toJudge); err != nil {
			fail(fmt.Errorf("read results: %w", err))
		}
	}()
	var workers sync.WaitGroup
	for range opts.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			j := newJudge(db, br, snap)
			j.stored = opts.FromStoredErrors
			for r := range toJudge {
				if pctx.Err() != nil {
					continue // drain: the reader stops soon
				}
				batch, err := j.judgeRange(pctx, r)
				if err != nil {
					fail(err)
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
	toCommit := make(chan []*store.Judgment, 1)
	var updated, changed int // the writer's: read once it is done
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		for writes := range toCommit {
			if pctx.Err() != nil {
				continue
			}
			if err := w.Write(pctx, writes, snap.Version, opts.Actor, opts.Reason); err != nil {
				if !errors.Is(err, store.ErrExceptionsChanged) {
					err = fmt.Errorf("write: %w", err)
				}
				fail(err)
				continue
			}
			for _, j := range writes {
				if !j.Written {
					continue // judged or deleted meanwhile by another run
				}
				if j.Changed() {
					updated++
				}
				if j.NewStatus != j.Status {
					changed++
				}
			}
		}
	}()
	var (
		writes    []*store.Judgment
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
		for _, j := range batch {
			st.Results++
			st.Bytes += j.LogBytes
			if j.Err == nil && j.NeedsWrite() { // an unreadable log keeps its verdict
				writes = append(writes, j)
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
