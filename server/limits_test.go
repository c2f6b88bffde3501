package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// upload sends body as "cat > /reports/acme/NAME.out" and returns the
// error of the session and what the server wrote on stderr.
func upload(c *gossh.Client, name string, body func(io.Writer)) (string, error) {
	sess, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer sess.Close()
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	stdin, _ := sess.StdinPipe()
	if err := sess.Start("cat > /reports/acme/" + name + ".out"); err != nil {
		return "", err
	}
	body(stdin)
	stdin.Close()
	err = sess.Wait()
	return stderr.String(), err
}

const shortReport = "sending incremental file list\n\nsent 10 bytes  received 20 bytes  60.00 bytes/sec\ntotal size is 0  speedup is 0.00\n"

// closedAtOnce reports whether the server closes c without a banner.
func closedAtOnce(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 64)
	n, err := c.Read(b)
	if n > 0 && strings.HasPrefix(string(b[:n]), "SSH-") {
		return false
	}
	return err != nil
}

func TestAdmissionCapsUnauthenticatedPerSource(t *testing.T) {
	ts := startTestServer(t, Config{MaxStartupsPerSource: 3, MaxStartups: Startups{Start: 100, Rate: 100, Full: 100}})
	var held []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
		if closedAtOnce(t, c) {
			t.Fatalf("connection %d of 3 was dropped", i+1)
		}
	}
	extra, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if !closedAtOnce(t, extra) {
		t.Errorf("a 4th unauthenticated connection from one source got a banner")
	}
	if got := ts.s.metrics.ConnsRefused.WithLabelValues("per_source").Value(); got != 1 {
		t.Errorf("per_source refusals = %v, want 1", got)
	}
	// Once one of them is gone, a real login gets through, and a logged-in
	// connection no longer counts against the cap.
	held[0].Close()
	waitFor(t, func() bool { return ts.s.metrics.Unauthenticated.Value() == 2 })
	c := ts.dial(t)
	if _, err := upload(c, "fs01", func(w io.Writer) { io.WriteString(w, shortReport) }); err != nil {
		t.Fatalf("upload while two strangers wait: %v", err)
	}
	if got := ts.s.metrics.Unauthenticated.Value(); got != 2 {
		t.Errorf("unauthenticated connections = %v, want 2 (the logged-in one left the count)", got)
	}
}

func TestAdmissionDropsAtFullAndEarly(t *testing.T) {
	a := &admission{startups: Startups{Start: 2, Rate: 50, Full: 4}, metrics: NewMetrics(nil), perSrc: map[string]int{}}
	var roll float64
	a.randFloat = func() float64 { return roll }
	for i := 0; i < 2; i++ {
		if r := a.admit("10.0.0." + string(rune('1'+i))); r != "" {
			t.Fatalf("connection %d below start refused: %s", i, r)
		}
	}
	roll = 0.49 // below 50%: dropped
	if r := a.admit("10.0.0.9"); r != "max_startups" {
		t.Errorf("at start with roll 0.49 (rate 50%%): %q, want max_startups", r)
	}
	roll = 0.51
	if r := a.admit("10.0.0.9"); r != "" {
		t.Errorf("at start with roll 0.51: refused %q", r)
	}
	roll = 0.74 // 3 of 4: p = 0.5 + 0.5*1/2 = 0.75
	if r := a.admit("10.0.0.8"); r != "max_startups" {
		t.Errorf("at 3 with roll 0.74: %q, want max_startups", r)
	}
	roll = 0.99
	a.admit("10.0.0.8")
	if r := a.admit("10.0.0.7"); r != "max_startups" {
		t.Errorf("at full: %q, want max_startups", r)
	}
	a.authenticated("10.0.0.8")
	a.closed("10.0.0.9", false)
	if a.unauth != 2 || a.open != 3 || len(a.perSrc) != 2 {
		t.Errorf("after a login and a close: unauth %d open %d sources %d, want 2 3 2", a.unauth, a.open, len(a.perSrc))
	}
}

func TestSourceOfGroupsIPv6By64(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.7:4000", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa::1]:22", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:22", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.7]:22", "192.0.2.7"},
	} {
		a, _ := net.ResolveTCPAddr("tcp", tc.addr)
		if got := sourceOf(a); got != tc.want {
			t.Errorf("sourceOf(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

func TestLoginGraceTimeClosesSilentConnections(t *testing.T) {
	ts := startTestServer(t, Config{LoginGraceTime: 200 * time.Millisecond})
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("a silent connection was not closed by the server: %v", err)
	}
	waitFor(t, func() bool { return ts.s.metrics.LoginTimeouts.Value() == 1 })
	// A real login takes far less than the grace time and is not cut off
	// once it is in, however long the upload then takes.
	client := ts.dial(t)
	_, err = upload(client, "fs01", func(w io.Writer) {
		time.Sleep(400 * time.Millisecond)
		io.WriteString(w, shortReport)
	})
	if err != nil {
		t.Errorf("an upload longer than the grace time failed: %v", err)
	}
}

// flakyListener fails its first accepts with a temporary error, as a
// listener out of file handles does.
type flakyListener struct {
	net.Listener
	fails atomic.Int32
}

func (f *flakyListener) Accept() (net.Conn, error) {
	if f.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return f.Listener.Accept()
}

func TestAcceptErrorsDoNotStopTheListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: ln}
	fl.fails.Store(5)
	m := NewMetrics(nil)
	al := &admitListener{Listener: fl, a: &admission{metrics: m, notes: newNoteLog(slog.New(slog.NewTextHandler(io.Discard, nil))), perSrc: map[string]int{}}}
	defer al.Close()
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			defer c.Close()
			time.Sleep(2 * time.Second)
		}
	}()
	c, err := al.Accept()
	if err != nil {
		t.Fatalf("Accept gave up after temporary errors: %v", err)
	}
	c.Close()
	if got := m.AcceptErrors.Value(); got != 5 {
		t.Errorf("accept errors counted: %v, want 5", got)
	}
	al.Close()
	if _, err := al.Accept(); err == nil {
		t.Errorf("Accept on a closed listener returned no error")
	}
}

func TestMaxSessionsPerConnection(t *testing.T) {
	ts := startTestServer(t, Config{MaxSessions: 3})
	c := ts.dial(t)
	var open []*gossh.Session
	for i := 0; i < 3; i++ {
		s, err := c.NewSession()
		if err != nil {
			t.Fatalf("session %d of 3: %v", i+1, err)
		}
		open = append(open, s)
	}
	_, err := c.NewSession()
	var oce *gossh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != gossh.ResourceShortage || !strings.Contains(oce.Message, "at most 3 sessions") {
		t.Fatalf("a 4th session on one connection: %v, want a resource-shortage refusal", err)
	}
	open[0].Close()
	waitFor(t, func() bool {
		s, err := c.NewSession()
		if err == nil {
			s.Close()
		}
		return err == nil
	})
}

func TestSessionsPerKeyWaitThenRefuse(t *testing.T) {
	ts := startTestServer(t, Config{MaxSessionsPerKey: 2, SessionQueueTime: 300 * time.Millisecond})
	a, b := ts.dial(t), ts.dial(t)
	s1, err := a.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := b.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := a.NewSession(); err == nil || !strings.Contains(err.Error(), "server is busy") {
		t.Fatalf("a third session of one key: %v, want the busy refusal", err)
	}
	if got := ts.s.metrics.Refused.WithLabelValues("key_busy").Value(); got != 1 {
		t.Errorf("key_busy refusals = %v, want 1", got)
	}
	// A waiting session gets the slot as soon as one frees.
	go func() { time.Sleep(100 * time.Millisecond); s1.Close() }()
	ts.s.cfg.SessionQueueTime = 10 * time.Second
	if _, err := upload(a, "fs01", func(w io.Writer) { io.WriteString(w, shortReport) }); err != nil {
		t.Errorf("upload once a slot freed: %v", err)
	}
}

func TestEnvRequestsAreDropped(t *testing.T) {
	ts := startTestServer(t, Config{})
	c := ts.dial(t)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	big := strings.Repeat("x", 32<<10)
	for i := 0; i < 200; i++ {
		if err := sess.Setenv("VAR", big); err == nil {
			t.Fatalf("env request %d was accepted", i)
		}
	}
	if got := ts.s.metrics.EnvIgnored.Value(); got != 200 {
		t.Errorf("env requests counted: %v, want 200", got)
	}
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	sess.Stdin = strings.NewReader(shortReport)
	if err := sess.Run("cat > /reports/acme/fs01.out"); err != nil {
		t.Errorf("upload after env requests: %v (%s)", err, stderr.String())
	}
}

func TestSessionWithoutCommandIsClosed(t *testing.T) {
	ts := startTestServer(t, Config{CommandTimeout: 200 * time.Millisecond})
	c := ts.dial(t)
	ch, reqs, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	go gossh.DiscardRequests(reqs)
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, ch); done <- err }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a session with no command was not closed")
	}
	if got := ts.s.metrics.Refused.WithLabelValues("no_command").Value(); got != 1 {
		t.Errorf("no_command closes = %v, want 1", got)
	}
	// A session that does send its command is not cut off at the timeout.
	if _, err := upload(c, "fs01", func(w io.Writer) {
		time.Sleep(400 * time.Millisecond)
		io.WriteString(w, shortReport)
	}); err != nil {
		t.Errorf("an upload slower than the command timeout failed: %v", err)
	}
}

func TestUploadTimeLimit(t *testing.T) {
	ts := startTestServer(t, Config{MaxUploadTime: 300 * time.Millisecond})
	c := ts.dial(t)
	stderr, err := upload(c, "slow01", func(w io.Writer) {
		for i := 0; i < 10; i++ {
			io.WriteString(w, "file\n")
			time.Sleep(100 * time.Millisecond)
		}
	})
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(stderr, "took longer than the 300ms limit") {
		t.Fatalf("slow upload: err %v, stderr %q; want exit 1 and the time limit message", err, stderr)
	}
	st, err := ts.db.Status(context.Background(), time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range st {
		if r.Server == "slow01" && r.ResultID != nil {
			found = true
			h, err := ts.db.History(context.Background(), r.ServerID, 1, 0)
			if err != nil || len(h) != 1 {
				t.Fatalf("history: %v, %d rows", err, len(h))
			}
			if h[0].Status != "failed" || !strings.Contains(h[0].Reason, "took longer") {
				t.Errorf("stored as %s (%q), want failed with the reason", h[0].Status, h[0].Reason)
			}
		}
	}
	if !found {
		t.Errorf("the cut-off upload was not recorded")
	}
}

func TestRevokingAKeyClosesItsConnections(t *testing.T) {
	ts := startTestServer(t, Config{RevokeCheck: 100 * time.Millisecond})
	c := ts.dial(t)
	if _, err := upload(c, "fs01", func(w io.Writer) { io.WriteString(w, shortReport) }); err != nil {
		t.Fatal(err)
	}
	if err := ts.db.RevokeKey(context.Background(), "test", ts.fp); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection of a revoked key stayed open")
	}
	// Counted once the sweep has closed them all, just after.
	waitFor(t, func() bool { return ts.s.metrics.RevokedClosed.Value() == 1 })
}

func TestRevokedKeyCannotUploadOnAnOpenConnection(t *testing.T) {
	ts := startTestServer(t, Config{RevokeCheck: time.Hour}) // the sweep never runs here
	c := ts.dial(t)
	if err := ts.db.RevokeKey(context.Background(), "test", ts.fp); err != nil {
		t.Fatal(err)
	}
	stderr, err := upload(c, "fs01", func(w io.Writer) { io.WriteString(w, shortReport) })
	if err == nil || !strings.Contains(stderr, "this key was revoked") {
		t.Errorf("upload after revocation: err %v, stderr %q; want the revoked refusal", err, stderr)
	}
}

func TestParseStartups(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Startups
		ok   bool
	}{
		{"10:30:100", Startups{10, 30, 100}, true},
		{"64", Startups{64, 100, 64}, true},
		{"100:30:10", Startups{}, false},
		{"1:200:5", Startups{}, false},
		{"a:b:c", Startups{}, false},
		{"1:2", Startups{}, false},
	} {
		got, err := ParseStartups(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseStartups(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 10 s")
}
