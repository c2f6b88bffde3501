package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// Defaults of the memory budget of all uploads together.
const (
	// DefaultUploadMemory lets 22 uploads by ssh or scp, or 13 by SFTP,
	// stream at once; see uploadHoldBase for what each one holds.
	DefaultUploadMemory = 128 << 20
	// DefaultUploadMemoryWait is how long an upload waits for its share of
	// the budget before it is refused.
	DefaultUploadMemoryWait = time.Minute
)

// What one upload holds, whatever its size or content, for the budget:
// the compressed piece being filled (store.ChunkBytes, plus one block the
// compressor may add past it), the tail ring (maxTail), the compressor's
// input and output blocks and its match table (about 1.1 MiB), the
// parser's line buffer, and room to spare; SFTP adds its reorder buffer
// (maxPending), and the file errors the parse keeps
// (parser.MaxFileErrorBytes of paths and messages at most).
const (
	uploadHoldBase = store.ChunkBytes + 256<<10 + maxTail + 1152<<10 + 128<<10 + 256<<10 + parser.MaxFileErrorBytes
	uploadHoldSFTP = uploadHoldBase + maxPending
)

// errBusy refuses an upload the budget has no room for after the wait.
var errBusy = refuse("busy", "the server is busy; nothing was stored; run the upload again in a few minutes")

// memBudget bounds the bytes all uploads hold together. An upload takes
// its share before it reads its first byte and gives it back when it is
// stored. When the budget is spent, new uploads wait in line (first come,
// first served) without reading: their clients stop sending once the SSH
// channel's window is full. One that waited longer than wait is refused
// with errBusy. Nothing else waits for the budget, so waiting cannot
// deadlock.
type memBudget struct {
	limit   int64
	wait    time.Duration
	metrics *Metrics

	mu      sync.Mutex
	used    int64
	waiters []*budgetWaiter // in arrival order
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed when granted
}

func newMemBudget(limit int64, wait time.Duration, m *Metrics) *memBudget {
	if limit <= 0 {
		limit = DefaultUploadMemory
	}
	if wait <= 0 {
		wait = DefaultUploadMemoryWait
	}
	m.UploadMemoryLimit.Set(float64(limit))
	return &memBudget{limit: limit, wait: wait, metrics: m}
}

// acquire takes n bytes of the budget, waiting in line for up to b.wait.
// It returns how many bytes it took (n, or the whole budget when n is
// more), to give back with release, and whether it had to wait. The error
// is errBusy after the wait, or ctx's when the client left first.
func (b *memBudget) acquire(ctx context.Context, n int64) (int64, bool, error) {
	n = min(n, b.limit)
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.limit {
		b.take(n)
		b.mu.Unlock()
		return n, false, nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	b.metrics.UploadMemoryWaits.Inc()

	t := time.NewTimer(b.wait)
	defer t.Stop()
	var err error
	select {
	case <-w.ready:
		return n, true, nil
	case <-t.C:
		err = errBusy
	case <-ctx.Done():
		err = ctx.Err()
	}
	b.mu.Lock()
	select {
	case <-w.ready: // granted meanwhile: give it back
		b.mu.Unlock()
		b.release(n)
	default:
		for i, x := range b.waiters {
			if x == w {
				b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
				break
			}
		}
		b.grant() // those behind may fit now
		b.mu.Unlock()
	}
	if errors.Is(err, errBusy) {
		b.metrics.UploadMemoryRefused.Inc()
	}
	return 0, true, err
}

// release gives back n bytes taken by acquire.
func (b *memBudget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.metrics.UploadMemoryBytes.Set(float64(b.used))
	b.grant()
	b.mu.Unlock()
}

// inUse returns the bytes taken now.
func (b *memBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// take and grant run with mu held.
func (b *memBudget) take(n int64) {
	b.used += n
	b.metrics.UploadMemoryBytes.Set(float64(b.used))
}

// grant lets the waiters at the head of the line in while they fit.
func (b *memBudget) grant() {
	for len(b.waiters) > 0 && b.used+b.waiters[0].n <= b.limit {
		w := b.waiters[0]
		b.waiters = b.waiters[1:]
		b.take(w.n)
		close(w.ready)
	}
}
