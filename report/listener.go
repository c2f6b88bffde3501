package report

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/backupreport/backupreport/store/logkey"
	"github.com/backupreport/backupreport/store/metrics"
)

// DefaultMaxConns bounds the web side's open connections. Staff are a
// handful of browsers; the bound keeps a flood of idle connections from
// taking the file handles the SSH side and /healthz need.
const DefaultMaxConns = 1024

// capListener closes connections beyond max at once, rather than leaving
// them queued in the kernel, and never stops on a temporary accept error.
type capListener struct {
	net.Listener
	max     int64
	open    atomic.Int64
	refused *metrics.Counter
	log     *slog.Logger

	mu       sync.Mutex
	lastNote time.Time
	skipped  int
}

// CapListener wraps ln so that at most max connections (0: no cap) are
// open at once; the ones beyond are closed at accept, counted in
// backupreport_http_connections_refused_total (registered with reg, which
// may be nil) and logged at most once every 10 seconds.
func CapListener(ln net.Listener, max int, log *slog.Logger, reg *metrics.Registry) net.Listener {
	c := &capListener{Listener: ln, max: int64(max), log: log, refused: metrics.NewCounter(metrics.CounterOpts{
		Name: "backupreport_http_connections_refused_total", Help: "Web connections closed at accept because --http-max-connections were open.",
	})}
	if reg != nil {
		reg.MustRegister(c.refused)
	}
	return c
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Temporary() { //nolint:staticcheck // EMFILE is only reported this way
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return nil, err
		}
		if l.max > 0 && l.open.Load() >= l.max {
			c.Close()
			l.refused.Inc()
			l.note()
			continue
		}
		l.open.Add(1)
		return &countedConn{Conn: c, l: l}, nil
	}
}

// note logs a refusal, at most once every 10 seconds.
func (l *capListener) note() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.lastNote) < 10*time.Second {
		l.skipped++
		return
	}
	l.log.Warn("http connection refused: too many open", logkey.Max, l.max, logkey.SimilarSinceLastLine, l.skipped)
	l.lastNote, l.skipped = time.Now(), 0
}

type countedConn struct {
	net.Conn
	l    *capListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}
