package main

import (
	"context"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// slowReader hands out a report a line at a time, pausing between lines,
// the way a slow link does.
type slowReader struct {
	lines []string
	pause time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	if len(s.lines) == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.pause)
	n := copy(p, s.lines[0])
	s.lines[0] = s.lines[0][n:]
	if s.lines[0] == "" {
		s.lines = s.lines[1:]
	}
	return n, nil
}

// TestRealSSHUploadTimeLimit: an OpenSSH upload slower than
// --max-upload-time ends with exit 1 and the reason, and the night is
// recorded as failed.
func TestRealSSHUploadTimeLimit(t *testing.T) {
	in := startServe(t, "--max-upload-time", "1s")
	in.mustCLI("customer", "add", "acme")
	key := in.newKey("id_ed25519", "ed25519", 0)
	in.addKey("acme", key)
	lines := strings.SplitAfter(string(statsOut(t, "hand-cygwin-ssh-code23")), "\n")
	args := append(in.sshArgs(key), "backup@127.0.0.1", "cat > /reports/acme/slow01.out")
	r := run(t, &slowReader{lines: lines, pause: 200 * time.Millisecond}, "ssh", args...)
	if r.code != 1 || !strings.Contains(r.stderr, "took longer than the 1s limit") {
		t.Fatalf("slow upload: exit %d, stderr %q; want 1 and the time limit", r.code, r.stderr)
	}
	if got := in.status()["acme/slow01"]; got.Status != "failed" {
		t.Errorf("status of the cut-off night = %q, want failed", got.Status)
	}
}

// TestRealSSHKeyRevokeClosesOpenConnection: "key revoke" from the CLI
// closes an OpenSSH upload already under way, and nothing is stored.
func TestRealSSHKeyRevokeClosesOpenConnection(t *testing.T) {
	in := startServe(t, "--revoke-check", "200ms")
	in.mustCLI("customer", "add", "acme")
	key := in.newKey("id_ed25519", "ed25519", 0)
	fp := in.addKey("acme", key)
	if i := strings.LastIndex(fp, "SHA256:"); i >= 0 {
		fp = strings.Fields(fp[i:])[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ssh", append(in.sshArgs(key), "backup@127.0.0.1", "cat > /reports/acme/fs01.out")...)
	stdin, _ := cmd.StdinPipe()
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "sending incremental file list\n")
	// Wait for the login, then revoke.
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(in.logs.String(), "ssh login"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no login in the log:\n%s", in.logs.String())
		}
	}
	in.mustCLI("key", "revoke", fp)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("ssh exited 0 after its key was revoked")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the upload of a revoked key was not cut off")
	}
	stdin.Close()
	if n := in.historyLen("acme/fs01"); n != 0 {
		t.Errorf("%d results stored for a revoked key's upload, want 0", n)
	}
	if !strings.Contains(in.logs.String(), "key revoked") {
		t.Errorf("the log does not say why the connection was closed:\n%s", in.logs.String())
	}
}

// TestRealSSHUploadsWhileStrangersHoldConnections: silent connections from
// one source beyond --max-startups-per-source are dropped at accept, and a
// customer's OpenSSH upload still goes through.
func TestRealSSHUploadsWhileStrangersHoldConnections(t *testing.T) {
	in := startServe(t, "--max-startups-per-source", "5")
	in.mustCLI("customer", "add", "acme")
	key := in.newKey("id_ed25519", "ed25519", 0)
	in.addKey("acme", key)
	dropped := 0
	stranger := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	for i := 0; i < 40; i++ {
		c, err := stranger.Dial("tcp", "127.0.0.1:"+in.sshPort)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == io.EOF {
			dropped++
		}
	}
	if dropped != 35 {
		t.Errorf("%d of 40 silent connections from one source dropped, want 35", dropped)
	}
	if r := in.upload(key, "cat > /reports/acme/fs01.out", statsOut(t, "hand-cygwin-ssh-code23")); r.code != 0 {
		t.Fatalf("upload beside 5 silent connections: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(in.logs.String(), "ssh connection dropped at accept") {
		t.Errorf("the drops were not logged")
	}
}

// TestWebConnectionCap: connections beyond --http-max-connections are
// closed at accept, and the web side answers again once one is gone.
func TestWebConnectionCap(t *testing.T) {
	in := startServe(t, "--http-max-connections", "2")
	addr := in.web()
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := extra.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("a third web connection: read %v, want it closed at once (EOF)", err)
	}
	held[0].Close()
	var r runResult
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		// Until the server has seen the close, curl may meet the cap.
		if r = run(t, nil, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "http://"+addr+"/healthz"); r.stdout == "200" {
			break
		}
	}
	if r.stdout != "200" {
		t.Errorf("/healthz with one connection free: %q (exit %d)", r.stdout, r.code)
	}
	if !strings.Contains(in.logs.String(), "http connection refused: too many open") {
		t.Errorf("the refusal was not logged")
	}
}
