package server

import (
	"fmt"

	"github.com/backupreport/backupreport/store"
)

// logKeeper keeps a compressed copy of an upload for staff to read and for
// re-evaluation, within a byte budget. The first bytes are compressed as
// they arrive and written to the database in pieces (store.LogSpool);
// once the head budget is spent, only the most recent bytes are kept in a
// ring. At the end the stored text is the head, a marker line saying how
// much was left out, and the tail. Memory stays bounded by one compressed
// piece, the compressor and the ring (at most maxTail), whatever the
// upload's size or content.
type logKeeper struct {
	headLeft  int64 // bytes the head may still take
	headBytes int64 // bytes the head took
	spool     *store.LogSpool
	ring      []byte // tail bytes, allocated once the head is full
	tailCap   int
	ringPos   int
	ringFull  bool
	total     int64
	err       error
}

// maxTail caps the tail ring, which lives uncompressed in memory.
const maxTail = 1 << 20

func newLogKeeper(db *store.DB, max int64) *logKeeper {
	tail := min(max/4, maxTail)
	return &logKeeper{headLeft: max - tail, tailCap: int(tail), spool: db.NewLogSpool()}
}

// Write never fails: a failure is kept and reported by finish, so that the
// upload itself still goes through the parser.
func (k *logKeeper) Write(p []byte) (int, error) {
	n := len(p)
	k.total += int64(n)
	if k.headLeft > 0 {
		h := p
		if int64(len(h)) > k.headLeft {
			h = h[:k.headLeft]
		}
		if k.err == nil {
			if _, err := k.spool.Write(h); err != nil {
				k.err = err
			}
		}
		k.headLeft -= int64(len(h))
		k.headBytes += int64(len(h))
		p = p[len(h):]
	}
	if len(p) > 0 && k.tailCap > 0 {
		if k.ring == nil {
			k.ring = make([]byte, 0, k.tailCap)
		}
		k.toRing(p)
	}
	return n, nil
}

func (k *logKeeper) toRing(p []byte) {
	c := cap(k.ring)
	if len(p) >= c {
		k.ring = append(k.ring[:0], p[len(p)-c:]...)
		k.ringPos, k.ringFull = 0, true
		return
	}
	if !k.ringFull {
		room := c - len(k.ring)
		if len(p) <= room {
			k.ring = append(k.ring, p...)
			return
		}
		k.ring = append(k.ring, p[:room]...)
		p = p[room:]
		k.ringFull = true
	}
	for len(p) > 0 {
		m := copy(k.ring[k.ringPos:], p)
		p = p[m:]
		k.ringPos = (k.ringPos + m) % c
	}
}

// finish closes the compressed stream and returns what to store. If the
// log is not stored after all, discard must be called.
func (k *logKeeper) finish() (store.RawLog, error) {
	omitted := k.total - k.headBytes - int64(len(k.ring))
	if k.err == nil && omitted > 0 {
		_, k.err = fmt.Fprintf(k.spool, "\n[backupreport: %d bytes left out here; the log was longer than the stored maximum]\n", omitted)
	}
	if k.err == nil && k.ringFull {
		// The oldest bytes of the ring first.
		if _, k.err = k.spool.Write(k.ring[k.ringPos:]); k.err == nil {
			_, k.err = k.spool.Write(k.ring[:k.ringPos])
		}
	} else if k.err == nil {
		_, k.err = k.spool.Write(k.ring)
	}
	k.ring = nil
	l, err := k.spool.Finish(k.total, omitted > 0)
	if k.err == nil {
		k.err = err
	}
	if k.err != nil {
		return store.RawLog{}, fmt.Errorf("keep log: %w", k.err)
	}
	return l, nil
}

// discard deletes what was written of a log that is not stored.
func (k *logKeeper) discard() error {
	k.ring = nil
	return k.spool.Discard()
}
