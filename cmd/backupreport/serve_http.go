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

	"github.com/prometheus/client_golang/prometheus"

	web "github.com/backupreport/backupreport/report"
	"github.com/backupreport/backupreport/store"
)

// httpOptions are serve's flags for the web interface.
type httpOptions struct {
	addr         *string
	cookieSecure *bool
	baseURL      *string // serve's --base-url, shared with the emails
	sessionTTL   *time.Duration
}

func addHTTPFlags(fs *flag.FlagSet) *httpOptions {
	return &httpOptions{
		addr: fs.String("http-addr", ":8080", "address the web interface listens on (empty: no web interface)"),
		cookieSecure: fs.Bool("cookie-secure", false, "always mark cookies Secure (set it behind a TLS proxy that does not send X-Forwarded-Proto;\n"+
			"without it, cookies are Secure only on requests that came over TLS)"),
		sessionTTL: fs.Duration("session-ttl", 12*time.Hour, "how long a login lasts"),
	}
}

// startHTTP starts the web interface; the returned function stops it.
func startHTTP(ctx context.Context, a *app, db *store.DB, log *slog.Logger, loc *time.Location, reg *prometheus.Registry, o *httpOptions, so *storageOptions) (func(context.Context) error, error) {
	if *o.addr == "" {
		return nil, nil
	}
	cfg := web.Config{DB: db, Location: loc, Logger: log, Gatherer: reg, CookieSecure: *o.cookieSecure, SessionTTL: *o.sessionTTL}
	if so != nil {
		cfg.LogQuota, cfg.RawLogRetentionDays = *so.quota, *so.retention
	}
	h, err := web.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("web interface: %w", err)
	}
	ln, err := net.Listen("tcp", *o.addr)
	if err != nil {
		return nil, fmt.Errorf("listen for HTTP on %s: %w", *o.addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute, // raw log downloads can be large
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("http listening", "addr", ln.Addr().String())
	// Tests start serve on port 0 and read the address from this line.
	fmt.Fprintf(a.stdout, "http listening on %s\n", ln.Addr())
	tok, err := web.PrepareFirstRun(ctx, db)
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
			log.Error("http server", "err", err)
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
