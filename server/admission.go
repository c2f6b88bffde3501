package server

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Startups is OpenSSH's MaxStartups "start:rate:full" for connections
// that have not authenticated yet: from Start on, a new one is dropped
// with a probability that grows linearly from Rate percent to 100% at
// Full; at Full every new one is dropped.
type Startups struct {
	Start, Rate, Full int
}

// String returns the "start:rate:full" form.
func (s Startups) String() string { return fmt.Sprintf("%d:%d:%d", s.Start, s.Rate, s.Full) }

// ParseStartups reads "start:rate:full" or a single number (start = full).
func ParseStartups(v string) (Startups, error) {
	parts := strings.Split(v, ":")
	var n []int
	for _, p := range parts {
		i, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || i < 0 {
			return Startups{}, fmt.Errorf("max-startups %q: want start:rate:full, e.g. 256:30:1024", v)
		}
		n = append(n, i)
	}
	switch len(n) {
	case 1:
		return Startups{Start: n[0], Rate: 100, Full: n[0]}, nil
	case 3:
		s := Startups{Start: n[0], Rate: n[1], Full: n[2]}
		if s.Start > s.Full || s.Rate > 100 {
			return Startups{}, fmt.Errorf("max-startups %q: want start <= full and rate <= 100", v)
		}
		return s, nil
	}
	return Startups{}, fmt.Errorf("max-startups %q: want start:rate:full, e.g. 256:30:1024", v)
}

// Defaults of the admission limits. An unauthenticated connection costs a
// file handle, a goroutine and a few KiB; the caps bound what a stranger
// without a key can hold, while a night's uploads (each authenticates in
// milliseconds) never come near them.
var DefaultStartups = Startups{Start: 256, Rate: 30, Full: 1024}

const (
	DefaultStartupsPerSource = 64
	DefaultLoginGraceTime    = 30 * time.Second
)

// admission decides, at accept, whether a connection may start, and
// tracks what every open connection holds. Its state is bounded by the
// number of open connections: a source's entry goes when its last
// connection does.
type admission struct {
	startups  Startups
	perSource int // unauthenticated connections per source; 0: no cap
	maxConns  int // open connections in all; 0: no cap
	grace     time.Duration
	metrics   *Metrics
	notes     *noteLog

	mu        sync.Mutex
	open      int
	unauth    int
	perSrc    map[string]int // unauthenticated connections by source
	randFloat func() float64
}

// verdict of admit: "" when admitted, else the reason for the metric.
func (a *admission) admit(src string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.maxConns > 0 && a.open >= a.maxConns:
		return "max_connections"
	case a.perSource > 0 && a.perSrc[src] >= a.perSource:
		return "per_source"
	case a.startups.Full > 0 && a.unauth >= a.startups.Full:
		return "max_startups"
	case a.startups.Full > 0 && a.unauth >= a.startups.Start:
		// OpenSSH's random early drop: rate% at start, 100% at full.
		span := a.startups.Full - a.startups.Start
		p := float64(a.startups.Rate) / 100
		if span > 0 {
			p += (1 - p) * float64(a.unauth-a.startups.Start) / float64(span)
		}
		if a.randFloat() < p {
			return "max_startups"
		}
	}
	a.open++
	a.unauth++
	a.perSrc[src]++
	a.metrics.Connections.Inc()
	a.metrics.Unauthenticated.Inc()
	return ""
}

// authenticated moves a connection from the unauthenticated counts.
func (a *admission) authenticated(src string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.unauth--
	a.dropSource(src)
	a.metrics.Unauthenticated.Dec()
}

// closed forgets a connection; authed says whether it had authenticated.
func (a *admission) closed(src string, authed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.open--
	a.metrics.Connections.Dec()
	if !authed {
		a.unauth--
		a.dropSource(src)
		a.metrics.Unauthenticated.Dec()
	}
}

func (a *admission) dropSource(src string) {
	if a.perSrc[src] <= 1 {
		delete(a.perSrc, src)
	} else {
		a.perSrc[src]--
	}
}

// sourceOf is the address a connection's limits and bans count against:
// the IP for IPv4, the /64 network for IPv6 (one host's addresses).
func sourceOf(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		host, _, err := net.SplitHostPort(addr.String())
		if err != nil {
			return addr.String()
		}
		return host
	}
	if v4 := tcp.IP.To4(); v4 != nil {
		return v4.String()
	}
	return tcp.IP.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// admitListener applies admission at accept. Connections refused are
// closed at once, before the SSH banner, so a flood of them costs a
// file handle for microseconds. Accept errors never stop it: a
// temporary one (out of file handles, say) is logged, counted and
// retried after a growing pause; only closing the listener ends Accept.
type admitListener struct {
	net.Listener
	a      *admission
	closed atomic.Bool
}

func (l *admitListener) Close() error {
	l.closed.Store(true)
	return l.Listener.Close()
}

func (l *admitListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if l.closed.Load() || errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			l.a.metrics.AcceptErrors.Inc()
			l.a.notes.note("accept_error", "ssh accept failed; retrying", "err", err.Error())
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else if delay *= 2; delay > time.Second {
				delay = time.Second
			}
			time.Sleep(delay)
			continue
		}
		delay = 0
		src := sourceOf(c.RemoteAddr())
		if reason := l.a.admit(src); reason != "" {
			l.a.metrics.ConnsRefused.WithLabelValues(reason).Inc()
			c.Close()
			l.a.notes.note(reason, "ssh connection dropped at accept", "reason", reason, "remote_addr", src)
			continue
		}
		tc := &trackedConn{Conn: c, a: l.a, src: src}
		// Banner, key exchange and authentication must finish within
		// the grace time. A timer, not a deadline: gliderlabs sets
		// deadlines of its own on every read.
		if l.a.grace > 0 {
			tc.mu.Lock()
			tc.grace = time.AfterFunc(l.a.grace, tc.graceExpired)
			tc.mu.Unlock()
		}
		return tc, nil
	}
}

// trackedConn is an accepted connection, counted until it closes.
type trackedConn struct {
	net.Conn
	a     *admission
	src   string
	grace *time.Timer

	mu      sync.Mutex
	authed  bool
	done    bool
	onClose func() // set at login, run once at close
}

// authenticated marks the login done: the grace timer stops and the
// connection no longer counts against the startup limits.
func (c *trackedConn) authenticated() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.authed || c.done {
		return
	}
	c.authed = true
	if c.grace != nil {
		c.grace.Stop()
	}
	c.a.authenticated(c.src)
}

func (c *trackedConn) graceExpired() {
	c.mu.Lock()
	expired := !c.authed && !c.done
	c.mu.Unlock()
	if expired {
		c.a.metrics.LoginTimeouts.Inc()
		c.a.notes.note("login_timeout", "ssh connection closed: no login within the grace time", "remote_addr", c.src,
			"grace", c.a.grace.String())
		c.Close()
	}
}

func (c *trackedConn) Close() error {
	c.mu.Lock()
	first := !c.done
	if first {
		c.done = true
		if c.grace != nil {
			c.grace.Stop()
		}
		c.a.closed(c.src, c.authed)
	}
	onClose := c.onClose
	c.mu.Unlock()
	if first && onClose != nil {
		onClose()
	}
	return c.Conn.Close()
}

// newAdmission builds the admission state from the server's config.
func newAdmission(cfg Config, m *Metrics, notes *noteLog) *admission {
	return &admission{
		startups: cfg.MaxStartups, perSource: cfg.MaxStartupsPerSource, maxConns: cfg.MaxConnections,
		grace: cfg.LoginGraceTime, metrics: m, notes: notes, perSrc: map[string]int{}, randFloat: rand.Float64,
	}
}
