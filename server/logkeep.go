package server

import (
	"bytes"
	"fmt"

	"github.com/backupreport/backupreport/store"
)

// logKeeper keeps a compressed copy of an upload for staff to read and for
// re-evaluation, within a byte budget. The first bytes are compressed as
// they arrive; once the head budget is spent, only the most recent bytes
// are kept in a ring. At the end the stored text is the head, a marker
// line saying how much was left out, and the tail. Memory stays bounded by
// the compressed head plus the ring, whatever the upload's size.
type logKeeper struct {
	headLeft  int64 // bytes the head may still take
	headBytes int64 // bytes the head took
	buf       bytes.Buffer
	zw        *store.LogWriter
	ring      []byte // tail bytes, allocated once the head is full
	tailCap   int
	ringPos   int
	ringFull  bool
	total     int64
	err       error
}

// maxTail caps the tail ring, which lives uncompressed in memory.
const maxTail = 4 << 20

func newLogKeeper(max int64) *logKeeper {
	tail := max / 4
	if tail > maxTail {
		tail = maxTail
	}
	k := &logKeeper{headLeft: max - tail, tailCap: int(tail)}
	k.zw = store.NewLogWriter(&k.buf)
	return k
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
		if _, err := k.zw.Write(h); err != nil && k.err == nil {
			k.err = err
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

// finish closes the compressed stream and returns what to store.
func (k *logKeeper) finish() (store.RawLog, error) {
	tail := k.ring
	if k.ringFull {
		tail = append(k.ring[k.ringPos:len(k.ring):len(k.ring)], k.ring[:k.ringPos]...)
	}
	omitted := k.total - k.headBytes - int64(len(tail))
	if omitted > 0 {
		fmt.Fprintf(k.zw, "\n[backupreport: %d bytes left out here; the log was longer than the stored maximum]\n", omitted)
	}
	k.zw.Write(tail)
	if err := k.zw.Close(); err != nil && k.err == nil {
		k.err = err
	}
	if k.err != nil {
		return store.RawLog{}, fmt.Errorf("compress log: %w", k.err)
	}
	return store.RawLog{Data: store.CompressedBytes(&k.buf), Compression: store.CompressionS2, OriginalBytes: k.total, Truncated: omitted > 0}, nil
}
