package server

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// newKeysPacket is SSH_MSG_NEWKEYS as x/crypto writes it before any key
// is in use: length 12, padding 10, payload 21, then the padding
// (random in x/crypto's, zeros here).
var newKeysPacket = append([]byte{0, 0, 0, 12, 10, 21}, make([]byte, 10)...)

func TestIsNewKeysKnowsOnlyAPlainNewKeysPacket(t *testing.T) {
	tests := []struct {
		name string
		p    []byte
		want bool
	}{
		{"NEWKEYS as x/crypto writes it", newKeysPacket, true},
		{"NEWKEYS and more in one write", append(append([]byte(nil), newKeysPacket...), 1, 2, 3), false},
		{"KEXINIT (20)", append([]byte{0, 0, 0, 12, 10, 20}, make([]byte, 10)...), false},
		{"a longer payload starting with 21", append([]byte{0, 0, 0, 12, 9, 21, 0}, make([]byte, 9)...), false},
		{"too little padding", []byte{0, 0, 0, 4, 2, 21, 0, 0}, false},
		{"the version line", []byte("SSH-2.0-backupreport\r\n"), false},
		{"short", []byte{0, 0, 0}, false},
	}
	for _, tt := range tests {
		if got := isNewKeys(tt.p); got != tt.want {
			t.Errorf("isNewKeys(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// writeLog records the server's writes on a real connection.
type writeLog struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, append([]byte(nil), p...))
	w.mu.Unlock()
	return w.Conn.Write(p)
}

// newKeysWrite runs an x/crypto handshake over loopback TCP, the server's
// connection wrapped by wrap, and returns the server's write that starts
// with NEWKEYS.
func newKeysWrite(t *testing.T, wrap func(net.Conn) net.Conn) []byte {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	cfg := &gossh.ServerConfig{NoClientAuth: true}
	cfg.AddHostKey(signer)
	log := make(chan *writeLog, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(log)
			return
		}
		wl := &writeLog{Conn: c}
		if sc, _, _, err := gossh.NewServerConn(wrap(wl), cfg); err == nil {
			defer sc.Close()
		}
		log <- wl
	}()
	cc, err := gossh.Dial("tcp", ln.Addr().String(), &gossh.ClientConfig{User: "u", HostKeyCallback: gossh.InsecureIgnoreHostKey()})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	wl := <-log
	wl.mu.Lock()
	defer wl.mu.Unlock()
	for _, w := range wl.writes {
		if bytes.HasPrefix(w, newKeysPacket[:6]) {
			return w
		}
	}
	t.Fatalf("no write started with NEWKEYS: %d writes", len(wl.writes))
	return nil
}

func TestNewKeysGoesOutWithExtInfo(t *testing.T) {
	// x/crypto alone writes NEWKEYS by itself: the cause of libssh's
	// failed RSA logins. If this changes, extInfoConn may go.
	if w := newKeysWrite(t, func(c net.Conn) net.Conn { return c }); len(w) != len(newKeysPacket) {
		t.Errorf("without the wrapper the NEWKEYS write is %d bytes, want %d (NEWKEYS alone)", len(w), len(newKeysPacket))
	}
	w := newKeysWrite(t, func(c net.Conn) net.Conn { return newExtInfoConn(c) })
	if len(w) <= len(newKeysPacket) || !isNewKeys(w[:len(newKeysPacket)]) {
		t.Errorf("with the wrapper the NEWKEYS write is %d bytes, want NEWKEYS and EXT_INFO together", len(w))
	}
}

func TestHeldNewKeysIsFlushedWithoutAFollowingWrite(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	c := newExtInfoConn(server)
	defer c.Close()
	go client.Write([]byte("...curve25519-sha256,ext-in"))
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	go client.Write([]byte("fo-c,kex-strict..."))
	c.Read(buf[n:])
	if n, err := c.Write(newKeysPacket); n != len(newKeysPacket) || err != nil {
		t.Fatalf("Write(NEWKEYS) = %d, %v", n, err)
	}
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(newKeysPacket))
	if _, err := io.ReadFull(client, got); err != nil || !bytes.Equal(got, newKeysPacket) {
		t.Errorf("the held NEWKEYS never came: %v %x", err, got)
	}
}
