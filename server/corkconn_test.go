package server

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// TestSessionEndLeavesInOneWrite ends an x/crypto session as handleSession
// does, corked: the stderr line, the exit status and the close reach the
// client in one write of the server's, and the client sees all three.
func TestSessionEndLeavesInOneWrite(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	cfg := &gossh.ServerConfig{NoClientAuth: true}
	cfg.AddHostKey(signer)
	ended := make(chan [][]byte, 1)
	go func() {
		defer close(ended)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		wl := &writeLog{Conn: c}
		cork := newCorkConn(wl)
		sc, chans, reqs, err := gossh.NewServerConn(cork, cfg)
		if err != nil {
			return
		}
		defer sc.Close()
		go gossh.DiscardRequests(reqs)
		ch, rq, err := (<-chans).Accept()
		if err != nil {
			return
		}
		r := <-rq // exec
		r.Reply(true, nil)
		io.Copy(io.Discard, ch)
		wl.mu.Lock()
		before := len(wl.writes)
		wl.mu.Unlock()
		cork.cork()
		io.WriteString(ch.Stderr(), "backupreport: stored\n")
		ch.SendRequest("exit-status", false, gossh.Marshal(struct{ Status uint32 }{0}))
		ch.Close()
		cork.uncork()
		wl.mu.Lock()
		ended <- wl.writes[before:]
		wl.mu.Unlock()
		go gossh.DiscardRequests(rq)
		sc.Wait()
	}()
	cc, err := gossh.Dial("tcp", ln.Addr().String(), &gossh.ClientConfig{User: "u", HostKeyCallback: gossh.InsecureIgnoreHostKey()})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	s, err := cc.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	s.Stderr = &stderr
	s.Stdin = bytes.NewReader([]byte("a report\n"))
	if err := s.Run("cat > /reports/acme/fs01.out"); err != nil {
		t.Errorf("the session did not end with exit status 0: %v", err)
	}
	if got := stderr.String(); got != "backupreport: stored\n" {
		t.Errorf("stderr %q, want the receipt", got)
	}
	if writes := <-ended; len(writes) != 1 {
		t.Errorf("the session's end took %d writes, want 1", len(writes))
	}
}

// TestCorkedWritesAreSentWithoutUncork: a write held by a cork nobody
// lifts still leaves, by the backstop timer, and in order with the writes
// after it.
func TestCorkedWritesAreSentWithoutUncork(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	c := newCorkConn(server)
	defer c.Close()
	c.cork()
	if n, err := c.Write([]byte("held ")); n != 5 || err != nil {
		t.Fatalf("corked Write = %d, %v", n, err)
	}
	go c.Write([]byte("after"))
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, 10)
	if _, err := io.ReadFull(client, got); err != nil || string(got) != "held after" {
		t.Errorf("read %q, %v; want %q", got, err, "held after")
	}
}
