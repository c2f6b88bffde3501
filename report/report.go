// Package report is backupreport's web interface for staff: the nightly
// report, each server's history with a status calendar and trends, each
// result explained in plain English with its raw log, the failure reports
// and the historical report; plus the JSON and CSV API, /metrics and
// /healthz.
//
// Pages are html/template, embedded and parsed once; pictures are SVG
// drawn on the server; every page works without JavaScript.
package report

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
	"github.com/backupreport/backupreport/store/metrics"
)

// Config holds the web interface's settings; cmd fills it from flags.
type Config struct {
	DB *store.DB
	// Location is the time zone of every time shown and of nights.
	Location *time.Location
	Logger   *slog.Logger
	// Metrics is served on /metrics (behind login or token) and takes the
	// web side's own metrics (the login throttle, ignored forwarding
	// headers). Nil serves those alone.
	Metrics *metrics.Registry
	// CookieSecure forces the Secure flag on cookies. Without it the flag
	// is set only for requests that came over TLS, directly or (by
	// X-Forwarded-Proto: https) through a trusted proxy: a browser does not
	// send a Secure cookie back over plain http, which would make logging
	// in on http://127.0.0.1 impossible.
	CookieSecure bool
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed; from any other peer both headers are
	// ignored. Empty trusts no one.
	TrustedProxies []netip.Prefix
	// HSTSMaxAge is the max-age of the Strict-Transport-Security header
	// sent on responses to requests that came over TLS (directly or by a
	// trusted proxy's X-Forwarded-Proto: https), never over plain http.
	// 0 means one year; NoHSTS sends no header.
	HSTSMaxAge time.Duration
	NoHSTS     bool
	// LoginLimits throttle password guesses; the zero value means
	// DefaultLoginLimits. SharedLogins, when set, share the throttle's
	// counts with the other nodes on the database (the caller syncs them).
	LoginLimits  LoginLimits
	SharedLogins SharedLogins
	// PendingLogins bounds the logins waiting (in the database) between a
	// right password and the second factor's code; at the bound the oldest
	// is dropped (its user types the password again). 0 means 1000.
	// LoginCodeTries is how many codes one such login may try before the
	// password is asked again; 0 means 5.
	PendingLogins  int
	LoginCodeTries int
	// SessionTTL is how long a login lasts; 0 means 12 hours.
	SessionTTL time.Duration
	// Now returns the current time; tests replace it. Nil is time.Now.
	Now func() time.Time
	// LiftBan ends an SSH ban (an address as /bans lists it) in the running
	// SSH server and in the store, recording actor in the audit log; cmd
	// wires it to the server's defender. Nil lifts it in the store only,
	// and a running server follows at its next reload of the bans.
	LiftBan func(ctx context.Context, actor, address string) error
	// LogQuota and RawLogRetentionDays are serve's --customer-log-quota
	// and --raw-log-retention, shown on the storage and customer pages
	// (the SSH side and the storage job apply them).
	LogQuota            int64
	RawLogRetentionDays int
	// HostKeys are the public keys the SSH endpoint offers, SSHPort its
	// port and BaseURL serve's --base-url: the onboarding page prints upload
	// lines and known_hosts lines from them (the host is BaseURL's, else the
	// one the browser used). Nil HostKeys shows no host key; 0 is port 22.
	HostKeys []gossh.PublicKey
	SSHPort  int
	BaseURL  string
}

// Handler serves the web interface. Build it with New.
type Handler struct {
	cfg     Config
	db      *store.DB
	log     *slog.Logger
	loc     *time.Location
	pages   map[string]*template.Template
	mux     *http.ServeMux
	limiter *throttle
	wm      *webMetrics
	// forwardedWarned is set once forwarding headers from an untrusted
	// peer were logged, so that the log says it once.
	forwardedWarned atomic.Bool
	bg              sync.WaitGroup // re-evaluations that outlived their request
	// bgCtx is their context; Wait cancels it when shutdown cannot wait
	// longer, so that none outlives the database.
	bgCtx    context.Context
	bgCancel context.CancelFunc
	codes    challenges // logins waiting for their second factor
}

// New parses the templates and builds the routes.
func New(cfg Config) (*Handler, error) {
	if cfg.DB == nil {
		return nil, errors.New("report: no database")
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewRegistry()
	}
	if cfg.HSTSMaxAge <= 0 {
		cfg.HSTSMaxAge = 365 * 24 * time.Hour
	}
	if cfg.LoginLimits == (LoginLimits{}) {
		cfg.LoginLimits = DefaultLoginLimits
	}
	h := &Handler{cfg: cfg, db: cfg.DB, log: cfg.Logger, loc: cfg.Location, wm: newWebMetrics(cfg.Metrics)}
	if cfg.PendingLogins <= 0 {
		cfg.PendingLogins = defaultPendingLogins
	}
	if cfg.LoginCodeTries <= 0 {
		cfg.LoginCodeTries = defaultLoginCodeTries
	}
	h.cfg = cfg
	h.codes = challenges{db: cfg.DB, max: cfg.PendingLogins, log: cfg.Logger, wm: h.wm}
	h.bgCtx, h.bgCancel = context.WithCancel(context.Background())
	h.limiter = newThrottle(h.bgCtx, cfg.LoginLimits, cfg.SharedLogins, cfg.Now, cfg.Logger, h.wm)
	var err error
	if h.pages, err = parsePages(h.funcs()); err != nil {
		return nil, err
	}
	h.mux = http.NewServeMux()
	for _, rt := range h.routes() {
		h.mux.Handle(rt.pattern, h.wrap(rt))
	}
	return h, nil
}

// ServeHTTP answers one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o := h.findOrigin(r)
	r = withOrigin(r, o)
	hd := w.Header()
	if o.HTTPS && !h.cfg.NoHSTS {
		hd.Set("Strict-Transport-Security", fmt.Sprintf("max-age=%d", int64(h.cfg.HSTSMaxAge/time.Second)))
	}
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.mux.ServeHTTP(w, r)
}

// access says who may call a route.
type access int

const (
	public  access = iota // anyone (login, first-run link, /healthz)
	page                  // a logged-in browser; others are sent to /login
	machine               // a browser session or an API token; others get 401
)

// route is one entry of the route table.
type route struct {
	pattern string
	access  access
	role    store.Role // the least role allowed; "" is any logged-in role
	handle  func(w http.ResponseWriter, r *http.Request, s *session) error
}

// routes is the one list of everything the interface serves. The security
// test walks it, so a route added here is tested for authentication.
func (h *Handler) routes() []route {
	return []route{
		{"GET /healthz", public, "", h.healthz},
		{"GET /login", public, "", h.loginPage},
		{"POST /login", public, "", h.login},
		{"POST /login/code", public, "", h.loginCode},
		{"GET /setup/{token}", public, "", h.setupPage},
		{"POST /setup/{token}", public, "", h.setup},
		{"POST /logout", page, "", h.logout},

		{"GET /{$}", page, "", h.nightlyPage},
		{"GET /servers/{customer}/{server}", page, "", h.serverPage},
		{"POST /servers/{customer}/{server}/notes", page, "", h.addNote},
		{"GET /results/{id}", page, "", h.resultPage},
		{"GET /results/{id}/log", page, "", h.rawLog},
		{"POST /results/{id}/warnings/{wid}/acknowledge", page, "", h.acknowledgeWarning},
		{"GET /failures/daily", page, "", h.failuresPage("daily")},
		{"GET /failures/three-day", page, "", h.failuresPage("three-day")},
		{"GET /history", page, "", h.historyPage},
		{"GET /tokens", page, "", h.tokensPage},
		{"POST /tokens", page, "", h.createToken},
		{"POST /tokens/{id}/revoke", page, "", h.revokeToken},
		{"GET /users", page, store.RoleAdmin, h.usersPage},
		{"POST /users", page, store.RoleAdmin, h.addUser},
		{"POST /users/{id}/active", page, store.RoleAdmin, h.setUserActive},
		{"POST /users/{id}", page, store.RoleAdmin, h.updateUser},
		{"POST /users/{id}/password", page, store.RoleAdmin, h.resetPassword},
		{"GET /account", page, "", h.accountPage},
		{"POST /account/password", page, "", h.changePassword},

		// Management: everyone may look, tech and admin may change.
		{"GET /customers", page, "", h.customersPage},
		{"POST /customers", page, store.RoleTech, h.addCustomer},
		{"GET /customers/{customer}", page, "", h.customerPage},
		{"POST /customers/{customer}", page, store.RoleTech, h.updateCustomer},
		{"GET /servers", page, "", h.serversPage},
		{"POST /servers", page, store.RoleTech, h.addServer},
		{"POST /servers/{customer}/{server}/settings", page, store.RoleTech, h.updateServer},
		{"GET /keys", page, "", h.keysPage},
		{"GET /keys/legacy", page, "", h.legacyPage},
		{"POST /keys", page, store.RoleTech, h.addKey},
		{"POST /keys/revoke", page, store.RoleTech, h.revokeKey},
		{"GET /exceptions", page, "", h.exceptionsPage},
		{"GET /exceptions/new", page, store.RoleTech, h.newExceptionPage},
		{"POST /exceptions", page, store.RoleTech, h.addException},
		{"POST /exceptions/{id}", page, store.RoleTech, h.editException},
		{"POST /exceptions/{id}/remove", page, store.RoleTech, h.removeException},
		{"GET /codes", page, "", h.codesPage},
		{"POST /codes/{code}", page, store.RoleTech, h.setCode},
		{"POST /codes/warnings/{kind}", page, store.RoleTech, h.setWarningText},
		{"GET /audit", page, store.RoleAdmin, h.auditPage},
		{"GET /deliveries", page, store.RoleAdmin, h.deliveriesPage},
		{"GET /bans", page, store.RoleAdmin, h.bansPage},
		{"POST /bans/lift", page, store.RoleAdmin, h.liftBan},
		{"GET /storage", page, store.RoleAdmin, h.storagePage},
		{"POST /customers/{customer}/log-quota", page, store.RoleAdmin, h.setLogQuota},
		{"GET /onboard", page, store.RoleTech, h.onboardPage},
		{"POST /onboard", page, store.RoleTech, h.onboard},
		{"GET /onboard/{customer}/{server}", page, "", h.onboardedPage},
		{"POST /account/totp", page, "", h.enrolTOTP},
		{"POST /account/totp/off", page, "", h.disableTOTP},
		{"POST /users/{id}/totp/reset", page, store.RoleAdmin, h.resetTOTP},
		{"POST /users/require-totp", page, store.RoleAdmin, h.requireTOTP},
		{"GET /sandbox", page, "", h.sandboxPage},
		{"POST /sandbox", page, "", h.sandbox},

		{"GET /api/v1/status", machine, "", h.apiStatus},
		{"GET /api/v1/status.csv", machine, "", h.csvStatus},
		{"GET /api/v1/history", machine, "", h.apiHistory},
		{"GET /api/v1/history.csv", machine, "", h.csvHistory},
		{"GET /api/v1/servers/{customer}/{server}/results", machine, "", h.apiServerResults},
		{"GET /api/v1/results/{id}", machine, "", h.apiResult},
		{"GET /metrics", machine, "", h.serveMetrics},
	}
}

// Route describes a registered route, for tests and documentation.
type Route struct {
	Pattern string // "METHOD /path", as given to http.ServeMux
	Public  bool
	API     bool       // answers 401 rather than redirecting to the login page
	Role    store.Role // least role; "" for any
}

// Routes lists every route the handler serves.
func (h *Handler) Routes() []Route {
	var out []Route
	for _, rt := range h.routes() {
		out = append(out, Route{Pattern: rt.pattern, Public: rt.access == public, API: rt.access == machine, Role: rt.role})
	}
	return out
}

// httpError is an error with the status to answer and a message that may
// be shown to the user.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// fail is the one error helper: it maps an error to a status, logs only
// server errors, and answers in HTML or JSON as the route expects.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *session, asJSON bool, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on our side; the error was logged."
	var he *httpError
	switch {
	case errors.As(err, &he):
		status, msg = he.status, he.msg
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, "Not found."
	case errors.Is(err, store.ErrConflict):
		status, msg = http.StatusConflict, "That conflicts with something that exists already."
	case errors.Is(err, context.Canceled):
		return
	default:
		h.log.Error("http request", logkey.Method, r.Method, logkey.Path, r.URL.Path, logkey.Err, err)
	}
	if asJSON {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	h.render(w, r, status, "error", &errorPage{base: h.base(r, s, http.StatusText(status)), Status: status, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
	return nil
}

//go:embed templates/*.html
var templateFS embed.FS

// parsePages parses each page template together with the layout, once.
func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, e := range names {
		name := e.Name()
		if name == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		pages[name[:len(name)-len(".html")]] = t
	}
	return pages, nil
}

// render executes a page into a buffer and writes it only when it worked,
// so a template error never leaves half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	t, ok := h.pages[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", data); err != nil {
		h.log.Error("render page", logkey.Page, name, logkey.Path, r.URL.Path, logkey.Err, err)
		http.Error(w, "the page could not be drawn; the error was logged", http.StatusInternalServerError)
		return nil
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
	return nil
}

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request, _ *session) error {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := h.db.Ping(ctx); err != nil {
		h.log.Error("healthz", logkey.Err, err)
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "error", "error": "database does not answer"})
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (h *Handler) serveMetrics(w http.ResponseWriter, r *http.Request, _ *session) error {
	h.cfg.Metrics.ServeHTTP(w, r)
	return nil
}
