package server

import (
	"net"
	"sync"
	"time"

	"github.com/gliderlabs/ssh"
)

// corkConn sends the last packets of a session in one write: the receipt
// (or refusal) on stderr, the exit status and the channel's close.
// x/crypto writes each packet with a write of its own, so without it the
// client's read loop wakes three times and the server makes three
// syscalls, for the last hundred bytes of every upload.
//
// While corked, writes are appended to a buffer instead of being sent;
// uncork sends the buffer in one write. Why this is safe:
//   - Bytes are neither reordered nor changed: every write, corked or
//     not, takes the same lock, and uncork sends the buffer under it, so
//     a packet another goroutine writes meanwhile (a window adjustment)
//     goes after the buffered ones, as it would have.
//   - Nothing written while corked waits for an answer from the client,
//     but should a write ever wait for one (a channel window the client
//     has spent), a backstop timer (corkHold) uncorks by itself: the
//     client then sees a short delay, never a lost packet.
//   - The buffer holds what the session writes between cork and uncork:
//     a line on stderr and two small messages.
//
// The lock is taken by every write of the connection; reads pass through
// untouched.
type corkConn struct {
	net.Conn

	mu     sync.Mutex
	corked bool
	buf    []byte
	timer  *time.Timer
	err    error // of a buffered write, returned by the next write
}

// corkHold bounds how long writes wait in the buffer.
const corkHold = 50 * time.Millisecond

func newCorkConn(c net.Conn) *corkConn { return &corkConn{Conn: c} }

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if c.corked {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// cork holds the following writes until uncork, or corkHold.
func (c *corkConn) cork() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		return
	}
	c.corked = true
	c.timer = time.AfterFunc(corkHold, c.uncork)
}

// uncork sends the writes held since cork, in one write.
func (c *corkConn) uncork() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return
	}
	c.corked = false
	c.timer.Stop()
	if len(c.buf) > 0 {
		if _, err := c.Conn.Write(c.buf); err != nil {
			c.err = err
		}
	}
	c.buf = c.buf[:0]
}

func (c *corkConn) Close() error {
	c.uncork()
	return c.Conn.Close()
}

// corked runs fn with the session's connection corked (see corkConn), so
// that what fn writes leaves in one write.
func corked(sess ssh.Session, fn func()) {
	st, _ := sess.Context().Value(ctxConnState).(*connState)
	if st == nil || st.cork == nil {
		fn()
		return
	}
	st.cork.cork()
	defer st.cork.uncork()
	fn()
}
