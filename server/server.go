// Package server is backupreport's SSH endpoint. It accepts the report
// upload that customers' backup.bat already sends ("cat > /reports/C/S.out"
// over ssh or plink, or the same file by sftp or scp), knows the customer
// by the key that signed the login, parses the stream as it arrives and
// acknowledges it only once the verdict is committed to the store.
//
// Everything else an SSH server usually offers (shells, terminals, other
// commands, forwarding) is refused.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
)

// Config holds the SSH endpoint's settings. cmd fills it from flags.
type Config struct {
	// HostSigners are the host keys offered, in order.
	HostSigners []gossh.Signer
	// LegacyCrypto adds diffie-hellman-group1-sha1, aes128-cbc and
	// 3des-cbc for the very oldest clients.
	LegacyCrypto bool
	// AutoRegister registers unknown server names of a known customer as
	// new (pending) servers instead of refusing the upload.
	AutoRegister bool
	// MaxLogBytes caps the raw log kept in the database; the whole upload
	// is still parsed.
	MaxLogBytes int64
	// MaxUploadBytes ends an upload with an error when it is larger.
	MaxUploadBytes int64
	// LogQuota caps the stored raw logs of each customer, in bytes, unless
	// the customer has its own cap; 0 means none (see enforceQuota).
	LogQuota       int64
	StorageMetrics *StorageMetrics
	// UploadMemory bounds the bytes all uploads hold together, and
	// UploadMemoryWait how long an upload waits for room (see memBudget).
	UploadMemory     int64
	UploadMemoryWait time.Duration
	// Location decides which night an upload belongs to.
	Location *time.Location

	// MaxStartups caps connections that have not authenticated yet, with
	// OpenSSH's random early drop (see Startups); MaxStartupsPerSource
	// caps them per source address (IPv6: per /64). MaxConnections caps
	// open connections in all, so that file handles stay for the web side
	// and the database. LoginGraceTime bounds banner, key exchange and
	// login. Zero values take the defaults; negative ones turn a limit off.
	MaxStartups          Startups
	MaxStartupsPerSource int
	MaxConnections       int
	LoginGraceTime       time.Duration
	// MaxSessions caps session channels per connection (OpenSSH's
	// MaxSessions); MaxOpenSessions and MaxSessionsPerKey cap sessions open
	// at once in all and per key, a new one waiting up to SessionQueueTime
	// for a slot.
	MaxSessions       int
	MaxOpenSessions   int
	MaxSessionsPerKey int
	SessionQueueTime  time.Duration
	// CommandTimeout closes a session that sends no command; IdleTimeout a
	// connection on which nothing moved; MaxUploadTime ends an upload that
	// takes longer (recorded as failed, with the reason).
	CommandTimeout time.Duration
	IdleTimeout    time.Duration
	MaxUploadTime  time.Duration
	// RevokeCheck is how often open connections' keys are checked for
	// revocation; revoked keys' connections are closed.
	RevokeCheck time.Duration

	Logger  *slog.Logger
	Metrics *Metrics
	// Defender bans addresses after failed logins; nil bans none.
	Defender *Defender
}

// Defaults for Config's limits.
const (
	DefaultMaxLogBytes    = 64 << 20
	DefaultMaxUploadBytes = 1 << 30
)

// Server is the SSH ingestion endpoint.
type Server struct {
	cfg     Config
	db      *store.DB
	log     *slog.Logger
	metrics *Metrics
	ssh     *ssh.Server
	budget  *memBudget

	admission *admission
	slots     *slots
	logins    *logins
	quota     quotaCache
	notes     *noteLog

	mu       sync.Mutex
	closing  bool
	inflight sync.WaitGroup
	logouts  sync.WaitGroup     // connections' logins still to record (recordLogin)
	stop     context.CancelFunc // ends the background watchers
}

// Context keys of the values kept on an SSH connection.
type ctxKey string

const (
	ctxVerifiedKey ctxKey = "verified-key" // *identity of the key that signed
	ctxOfferedKey  ctxKey = "offered-key"  // *offered: the key acceptKey found
	ctxX11         ctxKey = "x11"          // the client asked for X11 forwarding
	ctxForward     ctxKey = "forward"      // the client asked for remote port forwarding
)

// refuseForward refuses remote port forwarding (ssh -R) and marks the
// connection, so that its session is refused with a message too.
func refuseForward(ctx ssh.Context, _ *ssh.Server, _ *gossh.Request) (bool, []byte) {
	ctx.SetValue(ctxForward, true)
	return false, nil
}

// identity is who a connection authenticated as.
type identity struct {
	key     store.Key
	sigAlgo string
	// checked is when key was read from the database, not revoked.
	checked time.Time

	mu sync.Mutex
	// login is the connection's login, not on its key's record yet: the
	// first upload stores it with its result (one commit for both), or it
	// is recorded once the connection ends without one (see recordLogin).
	login *store.KeyLogin
}

// takeLogin returns the login not recorded yet, if any, and forgets it.
func (id *identity) takeLogin() *store.KeyLogin {
	id.mu.Lock()
	defer id.mu.Unlock()
	l := id.login
	id.login = nil
	return l
}

// New returns a server over db. Call Serve to start it.
func New(db *store.DB, cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.MaxLogBytes <= 0 {
		cfg.MaxLogBytes = DefaultMaxLogBytes
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	cfg.applyLimitDefaults()
	s := &Server{cfg: cfg, db: db, log: cfg.Logger, metrics: cfg.Metrics, logins: &logins{byKey: map[int64]map[*trackedConn]string{}}}
	s.notes = newNoteLog(cfg.Logger)
	s.admission = newAdmission(cfg, cfg.Metrics, s.notes)
	s.slots = newSlots(cfg.MaxOpenSessions, cfg.MaxSessionsPerKey)
	s.budget = newMemBudget(cfg.UploadMemory, cfg.UploadMemoryWait, cfg.Metrics)
	s.ssh = &ssh.Server{
		Version:              "backupreport",
		Handler:              s.handleSession,
		PublicKeyHandler:     s.acceptKey,
		ServerConfigCallback: s.serverConfig,
		PtyCallback:          func(ssh.Context, ssh.Pty) bool { return true }, // refused in the handler, with a message
		SubsystemHandlers:    map[string]ssh.SubsystemHandler{"sftp": s.handleSFTP, "default": s.refuseSubsystem},
		RequestHandlers:      map[string]ssh.RequestHandler{"tcpip-forward": refuseForward, "cancel-tcpip-forward": refuseForward},
		ChannelHandlers:      map[string]ssh.ChannelHandler{"session": s.watchSession},
		ConnCallback:         s.connCallback,
		IdleTimeout:          cfg.IdleTimeout,
		// A backstop: an upload's own limit (MaxUploadTime) ends it with a
		// message first.
		MaxTimeout: backstop(cfg.MaxUploadTime, cfg.LoginGraceTime),
		ConnectionFailedCallback: func(conn net.Conn, err error) {
			s.log.Info("ssh handshake failed", logkey.RemoteAddr, conn.RemoteAddr().String(), logkey.Err, err)
		},
	}
	for _, h := range cfg.HostSigners {
		s.ssh.AddHostKey(h)
	}
	return s
}

// Algorithms returns the key exchanges, ciphers and MACs offered. Group
// exchange is never offered: PuTTY up to 0.64 speaks an old form of it and
// then fails.
func Algorithms(legacy bool) gossh.Algorithms {
	a := gossh.Algorithms{
		KeyExchanges: []string{
			gossh.KeyExchangeMLKEM768X25519, gossh.KeyExchangeCurve25519, "curve25519-sha256@libssh.org",
			gossh.KeyExchangeECDHP256, gossh.KeyExchangeECDHP384, gossh.KeyExchangeECDHP521,
			gossh.KeyExchangeDH14SHA256, gossh.KeyExchangeDH16SHA512, gossh.InsecureKeyExchangeDH14SHA1,
		},
		Ciphers: []string{
			gossh.CipherAES128GCM, gossh.CipherAES256GCM, gossh.CipherChaCha20Poly1305,
			gossh.CipherAES128CTR, gossh.CipherAES192CTR, gossh.CipherAES256CTR,
		},
		MACs: []string{
			gossh.HMACSHA256ETM, gossh.HMACSHA512ETM, gossh.HMACSHA256, gossh.HMACSHA512, gossh.HMACSHA1, gossh.InsecureHMACSHA196,
		},
	}
	if legacy {
		a.KeyExchanges = append(a.KeyExchanges, gossh.InsecureKeyExchangeDH1SHA1)
		a.Ciphers = append(a.Ciphers, gossh.InsecureCipherAES128CBC, gossh.InsecureCipherTripleDESCBC)
	}
	return a
}

// serverConfig returns a new config for every connection, as gliderlabs
// attaches per-connection callbacks to it.
func (s *Server) serverConfig(ctx ssh.Context) *gossh.ServerConfig {
	a := Algorithms(s.cfg.LegacyCrypto)
	cfg := &gossh.ServerConfig{Config: gossh.Config{KeyExchanges: a.KeyExchanges, Ciphers: a.Ciphers, MACs: a.MACs}}
	// Identity comes from the key that signed, never from one merely
	// offered (CVE-2024-45337): this callback runs only after the
	// signature was verified, with the key that made it.
	cfg.VerifiedPublicKeyCallback = func(conn gossh.ConnMetadata, key gossh.PublicKey, perms *gossh.Permissions, sigAlgo string) (*gossh.Permissions, error) {
		fp := gossh.FingerprintSHA256(key)
		k, at, err := s.offeredKey(ctx, fp)
		if err != nil || k.RevokedAt != nil {
			s.metrics.AuthFailures.Inc()
			if err == nil || errors.Is(err, store.ErrNotFound) {
				s.scoreRefusedKey(ctx)
			}
			return nil, fmt.Errorf("key %s is not registered", fp)
		}
		s.loggedIn(ctx)
		ctx.SetValue(ssh.ContextKeyPublicKey, key)
		id := &identity{key: k, sigAlgo: sigAlgo, checked: at}
		ctx.SetValue(ctxVerifiedKey, id)
		if st, _ := ctx.Value(ctxConnState).(*connState); st != nil && st.tc != nil {
			st.tc.authenticated()
			s.logins.add(k.ID, k.Fingerprint, st.tc)
		}
		s.recordLogin(ctx, conn, id)
		return perms, nil
	}
	return cfg
}

// acceptKey lets a key proceed to the signature check when it is
// registered and not revoked. It decides nothing about identity.
func (s *Server) acceptKey(ctx ssh.Context, key ssh.PublicKey) bool {
	if s.refuseBanned(ctx) {
		return false
	}
	fp := gossh.FingerprintSHA256(key)
	at := time.Now()
	k, err := s.db.KeyByFingerprint(quick(ctx), fp)
	if err == nil && k.RevokedAt == nil {
		ctx.SetValue(ctxOfferedKey, &offered{key: k, at: at})
	}
	if err != nil || k.RevokedAt != nil {
		reason := "unknown key"
		if err == nil {
			reason = "revoked key"
		} else if !errors.Is(err, store.ErrNotFound) {
			reason = err.Error()
		}
		s.metrics.AuthFailures.Inc()
		s.log.Info("ssh key refused", logkey.RemoteAddr, ctx.RemoteAddr().String(), logkey.ClientVersion, ctx.ClientVersion(),
			logkey.KeyType, key.Type(), logkey.Fingerprint, fp, logkey.Reason, reason)
		if err == nil || errors.Is(err, store.ErrNotFound) { // not a database failure
			s.scoreRefusedKey(ctx)
		}
		return false
	}
	return true
}

// offered is a key acceptKey found registered, kept on the connection
// for the signature's check that follows one round trip later.
type offered struct {
	key store.Key
	at  time.Time
}

// keyFresh is how long a key read from the database is trusted instead of
// reading it again, at the login and at the start of its first sessions:
// one or two round trips of the client. It decides no upload's fate: the
// transaction that stores an upload checks the key again (store.Upload's
// KeyID), so a key revoked meanwhile stores nothing.
const keyFresh = time.Second

// offeredKey returns the registered key with fingerprint fp and when it
// was read: the one acceptKey read for this connection when it is fresh
// (see keyFresh), else read now.
func (s *Server) offeredKey(ctx ssh.Context, fp string) (store.Key, time.Time, error) {
	if o, _ := ctx.Value(ctxOfferedKey).(*offered); o != nil && o.key.Fingerprint == fp && time.Since(o.at) < keyFresh {
		return o.key, o.at, nil
	}
	at := time.Now()
	k, err := s.db.KeyByFingerprint(quick(ctx), fp)
	return k, at, err
}

// recordLogin logs a login and keeps its details for the key's record:
// the connection's first upload stores them with its result, without a
// commit of their own on the way to the upload; a connection that stores
// no upload has them recorded when it ends.
func (s *Server) recordLogin(ctx ssh.Context, conn gossh.ConnMetadata, id *identity) {
	k := id.key
	l := store.Login{ClientVersion: string(conn.ClientVersion()), SigAlgo: id.sigAlgo, RemoteAddr: conn.RemoteAddr().String()}
	if am, ok := conn.(gossh.AlgorithmsConnMetadata); ok {
		alg := am.Algorithms()
		l.Kex, l.Cipher, l.MAC = alg.KeyExchange, alg.Read.Cipher, alg.Read.MAC
	}
	s.log.Info("ssh login", logkey.Customer, k.Customer, logkey.Server, k.Server, logkey.Fingerprint, k.Fingerprint, logkey.KeyType, k.Type,
		logkey.SignatureAlgorithm, id.sigAlgo, logkey.ClientVersion, l.ClientVersion, logkey.Kex, l.Kex, logkey.Cipher, l.Cipher, logkey.MAC, l.MAC,
		logkey.RemoteAddr, l.RemoteAddr)
	id.login = &store.KeyLogin{Fingerprint: k.Fingerprint, Login: l, At: s.db.Now()}
	s.logouts.Add(1)
	go func() {
		defer s.logouts.Done()
		<-ctx.Done() // gliderlabs cancels it once the connection is closed
		s.saveLogin(id)
	}()
}

// saveLogin records the login of id on its key's record unless an upload
// stored it already.
func (s *Server) saveLogin(id *identity) {
	l := id.takeLogin()
	if l == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.db.RecordKeyLogin(ctx, *l); err != nil {
		s.log.Warn("record login", logkey.Fingerprint, l.Fingerprint, logkey.Err, err)
	}
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.stop = cancel
	s.mu.Unlock()
	defer cancel()
	go s.watchRevocations(ctx)
	err := s.ssh.Serve(&admitListener{Listener: ln, a: s.admission})
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, lets uploads in flight finish
// until ctx ends, then closes every connection. Uploads that had not
// finished by then are not acknowledged; the client sees an error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	if s.stop != nil {
		s.stop()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	// Stop the listener at once; gliderlabs' Shutdown waits for
	// connections, which an idle client may hold open.
	conns := make(chan struct{})
	go func() {
		s.ssh.Shutdown(ctx)
		close(conns)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	// The sessions are over. A client hangs up by itself right after the
	// exit status; closing its connection first makes OpenSSH exit 255
	// ("Connection reset by peer") after an acknowledged upload. Give
	// clients a moment, then close what is left.
	select {
	case <-conns:
	case <-time.After(hangUpGrace):
	case <-ctx.Done():
	}
	err := s.ssh.Close()
	// Every connection is closed: record the logins no upload stored.
	logins := make(chan struct{})
	go func() {
		s.logouts.Wait()
		close(logins)
	}()
	select {
	case <-logins:
	case <-ctx.Done():
	}
	return err
}

// hangUpGrace is how long Shutdown waits, once the sessions are over, for
// clients to close their connections.
const hangUpGrace = 2 * time.Second

// isClosing reports whether Shutdown has begun.
func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// begin registers an upload in flight; it returns false once shutting down.
func (s *Server) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.inflight.Add(1)
	return true
}

// quick is the context of the short reads of every login and upload (a
// key, a server, its exceptions): ctx's values without its cancellation.
// The SQLite driver watches a cancellable context with a goroutine of its
// own for every statement, and these statements end in microseconds
// anyway, client gone or not; writes and long reads keep their context.
func quick(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
