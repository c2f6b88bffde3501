package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/store/logkey"
)

// Defaults of the per-connection and per-session limits.
const (
	// DefaultMaxSessions is OpenSSH's MaxSessions: session channels open
	// at once on one connection.
	DefaultMaxSessions = 10
	// DefaultMaxOpenSessions bounds sessions open at once on the whole
	// server. Each may hold up to x/crypto's 2 MiB channel window of data
	// it has not read yet, so this bounds that memory too.
	DefaultMaxOpenSessions = 128
	// DefaultMaxSessionsPerKey bounds the sessions one key holds open at
	// once, so that one customer cannot take every slot.
	DefaultMaxSessionsPerKey = 32
	// DefaultSessionQueueTime is how long a new session waits for a free
	// slot before it is refused; the client just waits meanwhile.
	DefaultSessionQueueTime = time.Minute
	// DefaultCommandTimeout closes a session that sends no command.
	DefaultCommandTimeout = 30 * time.Second
	// DefaultIdleTimeout closes a connection on which nothing moved.
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultMaxUploadTime is the longest an upload may take: a 1 GiB
	// report at 1 Mbit/s takes about 2.4 hours.
	DefaultMaxUploadTime = 4 * time.Hour
)

// errUploadTime ends an upload that took longer than Config.MaxUploadTime.
var errUploadTime = errors.New("upload took too long")

// connState is what the server keeps about one connection: its admission
// entry and its open sessions.
type connState struct {
	tc       *trackedConn
	cork     *corkConn // see corked
	sessions atomic.Int32
}

const ctxConnState ctxKey = "conn-state"

// connCallback runs for every accepted connection before the handshake:
// banned sources are dropped (nil closes the connection), the others get
// their per-connection state.
func (s *Server) connCallback(ctx ssh.Context, c net.Conn) net.Conn {
	tc, _ := c.(*trackedConn)
	if c = s.defendConn(ctx, c); c == nil {
		s.metrics.ConnsRefused.WithLabelValues("banned").Inc()
		return nil
	}
	cork := newCorkConn(c)
	ctx.SetValue(ctxConnState, &connState{tc: tc, cork: cork})
	return newExtInfoConn(cork) // see extInfoConn: libssh needs EXT_INFO with NEWKEYS
}

// slots bounds the sessions open at once, in all and per key. A session
// waits for a slot before its channel is accepted, so while it waits the
// client has sent nothing the server must hold.
type slots struct {
	total  chan struct{}
	perKey int

	mu    sync.Mutex
	byKey map[int64]int // open sessions by key ID; entries go at zero
	freed chan struct{} // closed and replaced whenever a per-key slot frees
}

func newSlots(total, perKey int) *slots {
	return &slots{total: make(chan struct{}, total), perKey: perKey, byKey: map[int64]int{}, freed: make(chan struct{})}
}

// acquire waits until a slot is free for key, or ctx ends. It returns the
// reason it gave up ("server_busy" or "key_busy") or "".
func (sl *slots) acquire(ctx context.Context, key int64) string {
	for {
		sl.mu.Lock()
		if sl.byKey[key] < sl.perKey {
			sl.byKey[key]++
			sl.mu.Unlock()
			break
		}
		freed := sl.freed
		sl.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return "key_busy"
		}
	}
	select {
	case sl.total <- struct{}{}:
		return ""
	case <-ctx.Done():
		sl.releaseKey(key)
		return "server_busy"
	}
}

func (sl *slots) release(key int64) {
	<-sl.total
	sl.releaseKey(key)
}

func (sl *slots) releaseKey(key int64) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.byKey[key]--; sl.byKey[key] <= 0 {
		delete(sl.byKey, key)
	}
	close(sl.freed)
	sl.freed = make(chan struct{})
}

// watchSession is gliderlabs' session handler with our limits around it:
// sessions per connection, open sessions in all and per key, and a look at
// the session's requests on the way (see watchedChannel).
func (s *Server) watchSession(srv *ssh.Server, conn *gossh.ServerConn, newChan gossh.NewChannel, ctx ssh.Context) {
	st, _ := ctx.Value(ctxConnState).(*connState)
	id, _ := ctx.Value(ctxVerifiedKey).(*identity)
	if st == nil || id == nil { // cannot happen: set at accept and at login
		newChan.Reject(gossh.Prohibited, "login not verified")
		return
	}
	if n := st.sessions.Add(1); s.cfg.MaxSessions > 0 && int(n) > s.cfg.MaxSessions {
		st.sessions.Add(-1)
		s.metrics.Refused.WithLabelValues("max_sessions").Inc()
		s.notes.note("max_sessions", "ssh session refused: too many on one connection", "customer", id.key.Customer,
			"remote_addr", conn.RemoteAddr().String(), "max", s.cfg.MaxSessions)
		newChan.Reject(gossh.ResourceShortage, fmt.Sprintf("at most %d sessions per connection", s.cfg.MaxSessions))
		return
	}
	defer st.sessions.Add(-1)
	wctx, cancel := context.WithTimeout(ctx, s.cfg.SessionQueueTime)
	waitStart := time.Now()
	reason := s.slots.acquire(wctx, id.key.ID)
	cancel()
	if reason != "" {
		s.metrics.Refused.WithLabelValues(reason).Inc()
		s.notes.note(reason, "ssh session refused: no free session slot", "reason", reason, "customer", id.key.Customer,
			"remote_addr", conn.RemoteAddr().String(), "waited", s.cfg.SessionQueueTime.String())
		newChan.Reject(gossh.ResourceShortage, "the server is busy; nothing was stored; run the upload again in a few minutes")
		return
	}
	defer s.slots.release(id.key.ID)
	if waited := time.Since(waitStart); waited > time.Second {
		s.metrics.SessionWaits.Inc()
		s.log.Info("ssh session waited for a free slot", logkey.Customer, id.key.Customer, logkey.Waited, waited.Round(time.Millisecond).String())
	}
	ssh.DefaultSessionHandler(srv, conn, &watchedChannel{NewChannel: newChan, ctx: ctx, s: s}, ctx)
}

// watchedChannel passes a session's channel and requests to gliderlabs
// with these changes:
//   - "env" requests are refused and dropped: we use no environment, and
//     gliderlabs would keep every one in memory;
//   - a session that sends no exec, shell or subsystem request within
//     Config.CommandTimeout is closed;
//   - "x11-req" marks the connection, as gliderlabs answers it itself
//     without telling the handler, which should refuse the session;
//   - reads end with errUploadTime once the session is older than
//     Config.MaxUploadTime.
type watchedChannel struct {
	gossh.NewChannel
	ctx ssh.Context
	s   *Server
}

func (w *watchedChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := w.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	s := w.s
	tch := &timedChannel{Channel: ch}
	if s.cfg.MaxUploadTime > 0 {
		tch.deadline = time.Now().Add(s.cfg.MaxUploadTime)
	}
	var started atomic.Bool
	var timer *time.Timer
	if s.cfg.CommandTimeout > 0 {
		timer = time.AfterFunc(s.cfg.CommandTimeout, func() {
			if !started.Load() {
				s.metrics.Refused.WithLabelValues("no_command").Inc()
				s.notes.note("no_command", "ssh session closed: no command within the time allowed",
					"remote_addr", w.ctx.RemoteAddr().String(), "timeout", s.cfg.CommandTimeout.String())
				ch.Close()
			}
		})
	}
	out := make(chan *gossh.Request)
	go func() {
		defer close(out)
		for r := range reqs {
			switch r.Type {
			case "env":
				s.metrics.EnvIgnored.Inc()
				if r.WantReply {
					r.Reply(false, nil)
				}
				continue
			case "x11-req":
				// Set before the request is passed on, so before any later
				// "exec" starts the handler.
				w.ctx.SetValue(ctxX11, true)
			case "exec", "shell", "subsystem":
				if started.CompareAndSwap(false, true) && timer != nil {
					timer.Stop()
				}
			}
			out <- r
		}
	}()
	return tch, out, nil
}

// timedChannel fails reads once its deadline has passed. A read that
// waits for data is bounded by the connection's idle timeout instead.
type timedChannel struct {
	gossh.Channel
	deadline time.Time
}

func (t *timedChannel) Read(p []byte) (int, error) {
	if !t.deadline.IsZero() && time.Now().After(t.deadline) {
		return 0, errUploadTime
	}
	return t.Channel.Read(p)
}

// applyLimitDefaults fills zero limits with their defaults and turns
// negative ones (off) into zero.
func (c *Config) applyLimitDefaults() {
	if c.MaxStartups == (Startups{}) {
		c.MaxStartups = DefaultStartups
	} else if c.MaxStartups.Full < 0 {
		c.MaxStartups = Startups{}
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		} else if *v < 0 {
			*v = 0
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		} else if *v < 0 {
			*v = 0
		}
	}
	def(&c.MaxStartupsPerSource, DefaultStartupsPerSource)
	def(&c.MaxSessions, DefaultMaxSessions)
	def(&c.MaxOpenSessions, DefaultMaxOpenSessions)
	def(&c.MaxSessionsPerKey, DefaultMaxSessionsPerKey)
	if c.MaxOpenSessions == 0 { // a channel needs a capacity: "off" is very many
		c.MaxOpenSessions = 1 << 20
	}
	if c.MaxSessionsPerKey == 0 {
		c.MaxSessionsPerKey = 1 << 20
	}
	if c.MaxConnections < 0 {
		c.MaxConnections = 0
	}
	defDur(&c.LoginGraceTime, DefaultLoginGraceTime)
	defDur(&c.SessionQueueTime, DefaultSessionQueueTime)
	defDur(&c.CommandTimeout, DefaultCommandTimeout)
	defDur(&c.IdleTimeout, DefaultIdleTimeout)
	defDur(&c.MaxUploadTime, DefaultMaxUploadTime)
	defDur(&c.RevokeCheck, DefaultRevokeCheck)
}

// backstop is the connection's absolute time limit: the upload's own limit
// plus the login and a margin for the receipt. Zero when uploads have none.
func backstop(upload, grace time.Duration) time.Duration {
	if upload <= 0 {
		return 0
	}
	return upload + grace + 5*time.Minute
}
