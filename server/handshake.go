package server

import (
	"bytes"
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// extInfoConn makes the server's first SSH_MSG_NEWKEYS and the
// SSH_MSG_EXT_INFO after it reach the client in one write, as OpenSSH's
// sshd sends them.
//
// x/crypto (v0.58.0, handshake.go enterKeyExchange) writes NEWKEYS, flushes,
// then writes EXT_INFO (server-sig-algs) in a second flush; each is one
// Write on the net.Conn. libssh (0.10) finishes the key exchange on
// NEWKEYS and picks the signature algorithm of an RSA key for the login
// from what it has read by then: when EXT_INFO is still in flight it falls
// back to ssh-rsa (SHA-1), which its own defaults then refuse, and the
// login fails (10 to 12 of 100 logins on loopback in our tests, about 1
// in 5 at a customer's).
//
// The wrapper holds a Write that is exactly one plaintext NEWKEYS packet
// and sends it together with the next Write (EXT_INFO), so both arrive in
// one TCP segment. Why this is safe:
//   - It acts only before the first NEWKEYS, while everything the server
//     writes is plaintext (the version line, KEXINIT, the key exchange
//     reply), each packet is one Write (x/crypto flushes its 4 KiB buffer
//     after each, and these are smaller) and packets cannot be mistaken
//     for one another: NEWKEYS is the only one whose payload is the single
//     byte 21. After that it passes
//     every byte straight through, untouched and uninspected.
//   - It holds NEWKEYS only when the client's KEXINIT offered "ext-info-c",
//     that is when x/crypto sends EXT_INFO right after it (the same code
//     path, no read in between). A backstop timer (extInfoHold) flushes the
//     held packet anyway, should a later x/crypto change that; the client
//     then sees only a short delay, never a lost packet.
//   - Bytes are neither reordered nor changed: the held packet goes out
//     first, in the same Write as the next one. A write error on a packet
//     the timer sent is returned by the next Write.
//   - Only the few writes of the first key exchange take the lock; after
//     it, reads and writes pass through without it.
//
// It is one small buffer (16 bytes) per connection and one timer while
// held.
type extInfoConn struct {
	net.Conn

	// done is set once the first NEWKEYS was written (or held): from then
	// on Read and Write pass through without the lock, so a write blocked
	// on a slow client never stalls reading.
	done atomic.Bool

	mu      sync.Mutex
	offered bool   // the client's KEXINIT offered ext-info-c
	tail    []byte // the last bytes read, for a name split across reads
	held    []byte // NEWKEYS waiting for the next write
	timer   *time.Timer
	err     error // of a held packet's write by the timer
}

// extInfoHold bounds how long NEWKEYS waits for EXT_INFO; x/crypto writes
// EXT_INFO microseconds later.
const extInfoHold = 100 * time.Millisecond

var extInfoC = []byte("ext-info-c")

func newExtInfoConn(c net.Conn) *extInfoConn { return &extInfoConn{Conn: c} }

func (c *extInfoConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.done.Load() {
		c.mu.Lock()
		if !c.offered {
			// The client's KEXINIT name-lists are plaintext. Keep the
			// last len-1 bytes so that a name split across reads is
			// found too.
			buf := append(c.tail, p[:n]...)
			c.offered = bytes.Contains(buf, extInfoC)
			if keep := len(extInfoC) - 1; len(buf) > keep {
				buf = buf[len(buf)-keep:]
			}
			c.tail = append(c.tail[:0], buf...)
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *extInfoConn) Write(p []byte) (int, error) {
	if !c.done.Load() {
		if !isNewKeys(p) {
			return c.Conn.Write(p)
		}
		c.mu.Lock()
		c.done.Store(true)
		c.tail = nil
		if !c.offered {
			c.mu.Unlock()
			return c.Conn.Write(p)
		}
		c.held = append([]byte(nil), p...)
		c.timer = time.AfterFunc(extInfoHold, c.flush)
		c.mu.Unlock()
		return len(p), nil
	}
	c.mu.Lock()
	held, err := c.held, c.err
	if held != nil {
		c.timer.Stop()
		c.held = nil // taken: a timer that fires now finds nothing to send
	}
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if held == nil {
		return c.Conn.Write(p)
	}
	n, err := c.Conn.Write(append(held, p...))
	return max(0, n-len(held)), err
}

// flush sends a held NEWKEYS that no write followed.
func (c *extInfoConn) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == nil {
		return
	}
	if _, err := c.Conn.Write(c.held); err != nil {
		c.err = err
	}
	c.held = nil
}

func (c *extInfoConn) Close() error {
	c.flush()
	return c.Conn.Close()
}

// isNewKeys reports whether p is exactly one unencrypted SSH packet
// (RFC 4253 section 6, no MAC) whose payload is SSH_MSG_NEWKEYS.
func isNewKeys(p []byte) bool {
	const msgNewKeys = 21
	if len(p) < 6 || int(binary.BigEndian.Uint32(p[:4])) != len(p)-4 {
		return false
	}
	padding := int(p[4])
	return padding >= 4 && len(p)-5-padding == 1 && p[5] == msgNewKeys && len(p)%8 == 0
}
