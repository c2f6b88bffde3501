package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/report"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
	"github.com/backupreport/backupreport/store/metrics"
)

// httpOptions are serve's flags for the web interface.
type httpOptions struct {
	addr           *string
	cookieSecure   *bool
	baseURL        *string // serve's --base-url, shared with the emails
	sessionTTL     *time.Duration
	trustedProxies prefixList
	hstsMaxAge     *time.Duration
	login          loginFlags
	maxConns       *int
	pendingLogins  *int // logins waiting for their second factor
	codeTries      *int
	// liftBan ends an SSH ban in the running server (the defender's Lift).
	liftBan func(ctx context.Context, actor, address string) error
	// shared makes the login throttle's counts shared with other nodes.
	shared *sharedLimits
	// hostKeys and sshPort are the SSH side's, for the onboarding page.
	hostKeys []gossh.PublicKey
	sshPort  int
}

// loginFlags are the limits of report.LoginLimits.
type loginFlags struct {
	pairFailures, addressFailures, tracked *int
	delay, maxDelay                        *time.Duration
}

func addHTTPFlags(fs *flag.FlagSet) *httpOptions {
	d := report.DefaultLoginLimits
	o := &httpOptions{
		addr:     fs.String("http-addr", ":8080", "address the web interface listens on (empty: no web interface)"),
		maxConns: fs.Int("http-max-connections", report.DefaultMaxConns, "web connections open at once; more are closed at accept (0: no cap)"),
		cookieSecure: fs.Bool("cookie-secure", false, "always mark cookies Secure (set it behind a TLS proxy that does not send X-Forwarded-Proto;\n"+
			"without it, cookies are Secure only on requests that came over TLS, directly or through a --trusted-proxy)"),
		sessionTTL: fs.Duration("session-ttl", 12*time.Hour, "how long a login lasts"),
		hstsMaxAge: fs.Duration("hsts-max-age", 365*24*time.Hour, "max-age of the Strict-Transport-Security header sent on responses over TLS\n"+
			"(directly, or X-Forwarded-Proto: https from a --trusted-proxy); never on plain http; 0: no header"),
		login: loginFlags{
			pairFailures: fs.Int("login-pair-failures", d.PairFailures, "wrong passwords one username may get from one address before each further attempt waits"),
			addressFailures: fs.Int("login-address-failures", d.AddressFailures, "wrong passwords one address may send, for any usernames, before each further attempt waits\n"+
				"(0: no limit per address)"),
			delay:    fs.Duration("login-delay", d.Delay, "the first wait once failures pass a limit; it doubles with each further failure (0: no throttle)"),
			maxDelay: fs.Duration("login-max-delay", d.MaxDelay, "the longest wait between password attempts of a throttled username and address"),
			tracked:  fs.Int("login-tracked", d.MaxTracked, "most (username, address) pairs, and addresses, the throttle keeps; beyond it the oldest is forgotten"),
		},
	}
	o.pendingLogins = fs.Int("login-pending", 1000, "logins waiting for their second-factor code (5 minutes each, in the database); beyond it the oldest is dropped")
	o.codeTries = fs.Int("login-code-tries", 5, "second-factor codes one password login may try; then the password is asked again")
	fs.Var(&o.trustedProxies, "trusted-proxy", "a reverse proxy's address or `CIDR` range (repeatable; comma-separated in BACKUPREPORT_TRUSTED_PROXY):\n"+
		"only from these peers are X-Forwarded-For and X-Forwarded-Proto believed")
	return o
}

// loginLimits checks the throttle's flags and returns them as limits.
func (o *httpOptions) loginLimits() (report.LoginLimits, error) {
	l := report.LoginLimits{PairFailures: *o.login.pairFailures, AddressFailures: *o.login.addressFailures,
		Delay: *o.login.delay, MaxDelay: *o.login.maxDelay, MaxTracked: *o.login.tracked}
	switch {
	case l.PairFailures < 0:
		return l, fmt.Errorf("--login-pair-failures %d is negative", l.PairFailures)
	case l.AddressFailures < 0:
		return l, fmt.Errorf("--login-address-failures %d is negative", l.AddressFailures)
	case l.Delay < 0:
		return l, fmt.Errorf("--login-delay %v is negative", l.Delay)
	case l.Delay > 0 && l.MaxDelay < l.Delay:
		return l, fmt.Errorf("--login-max-delay %v is shorter than --login-delay %v", l.MaxDelay, l.Delay)
	case l.MaxTracked < 1:
		return l, fmt.Errorf("--login-tracked %d must be at least 1", l.MaxTracked)
	}
	return l, nil
}

// startHTTP starts the web interface; the returned function stops it.
func startHTTP(ctx context.Context, a *app, db *store.DB, log *slog.Logger, loc *time.Location, reg *metrics.Registry, o *httpOptions, so *storageOptions) (func(context.Context) error, error) {
	if *o.addr == "" {
		return nil, nil
	}
	limits, err := o.loginLimits()
	if err != nil {
		return nil, err
	}
	if *o.hstsMaxAge < 0 {
		return nil, fmt.Errorf("--hsts-max-age %v is negative", *o.hstsMaxAge)
	}
	cfg := report.Config{DB: db, Location: loc, Logger: log, Metrics: reg, CookieSecure: *o.cookieSecure,
		SessionTTL: *o.sessionTTL, TrustedProxies: o.trustedProxies, HSTSMaxAge: *o.hstsMaxAge, NoHSTS: *o.hstsMaxAge == 0, LoginLimits: limits,
		LiftBan: o.liftBan, HostKeys: o.hostKeys, SSHPort: o.sshPort, PendingLogins: *o.pendingLogins, LoginCodeTries: *o.codeTries}
	if limits.Delay > 0 && o.shared != nil {
		cfg.SharedLogins = report.SharedLogins{
			Pairs:     o.shared.of(db, store.ScopeLoginPair, limits.ForgetAfter(), limits.MaxTracked),
			Addresses: o.shared.of(db, store.ScopeLoginAddress, limits.ForgetAfter(), limits.MaxTracked),
		}
	}
	if *o.pendingLogins < 1 || *o.codeTries < 1 {
		return nil, fmt.Errorf("--login-pending %d and --login-code-tries %d must be at least 1", *o.pendingLogins, *o.codeTries)
	}
	if o.baseURL != nil {
		cfg.BaseURL = *o.baseURL
	}
	if so != nil {
		cfg.LogQuota, cfg.RawLogRetentionDays = *so.quota, *so.retention
	}
	h, err := report.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("web interface: %w", err)
	}
	ln, err := net.Listen("tcp", *o.addr)
	if err != nil {
		return nil, fmt.Errorf("listen for HTTP on %s: %w", *o.addr, err)
	}
	ln = report.CapListener(ln, *o.maxConns, log, reg)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute, // raw log downloads can be large
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// The one line per listener, on stdout; tests start serve on port 0
	// and read the address from it. The log (stderr) has the details.
	fmt.Fprintf(a.stdout, "http listening on %s\n", ln.Addr())
	log.Debug("http listener", logkey.Addr, ln.Addr().String(), logkey.TrustedProxies, o.trustedProxies.String())
	tok, err := report.PrepareFirstRun(ctx, db)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("first run: %w", err)
	}
	if tok != "" {
		base := ""
		if o.baseURL != nil {
			base = strings.TrimRight(*o.baseURL, "/")
		}
		if base == "" {
			base = "http://" + displayAddr(ln.Addr())
		}
		fmt.Fprintf(a.stdout, "No staff account exists yet. Create the first admin within this run at:\n  %s/setup/%s\n"+
			"(or run 'backupreport user add NAME --role admin'). The link works once.\n", base, tok)
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", logkey.Err, err)
		}
	}()
	// On shutdown, let a background re-evaluation finish its work (it is
	// safe to stop: each batch is committed on its own) within ctx.
	return func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		if werr := h.Wait(ctx); err == nil {
			err = werr
		}
		return err
	}, nil
}

// displayAddr turns a listening address into one a browser can open.
func displayAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		port := 0
		if ok {
			port = tcp.Port
		}
		return fmt.Sprintf("localhost:%d", port)
	}
	return addr.String()
}
