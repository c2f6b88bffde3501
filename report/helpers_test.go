package report

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/report/demo"
	"github.com/backupreport/backupreport/store"
)

// testNow is the fixed present of handler tests: a morning, when staff
// read the nightly report.
var testNow = time.Date(2026, 3, 20, 8, 30, 0, 0, time.UTC)

// quietLog keeps the tests' output to failures.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// env is a web interface over a seeded database.
type env struct {
	t     *testing.T
	db    *store.DB
	h     *Handler
	srv   *httptest.Server
	staff map[string]string // username -> password
}

// newEnv seeds a database with the demo data (14 nights) and serves it.
func newEnv(t *testing.T) *env { t.Helper(); return newEnvWith(t, nil) }

// newEnvWith is newEnv with a change to the handler's configuration.
func newEnvWith(t *testing.T, change func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.PasswordCost = bcrypt.MinCost
	res, err := demo.Seed(ctx, db, demo.Options{Nights: 14, Now: testNow, Location: time.UTC, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return testNow }
	e := &env{t: t, db: db, staff: map[string]string{}}
	for _, s := range res.Staff {
		e.staff[s.Username] = s.Password
	}
	cfg := Config{DB: db, Location: time.UTC, Now: func() time.Time { return testNow }, Logger: quietLog}
	if change != nil {
		change(&cfg)
	}
	e.h, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	return e
}

// client is a browser: a cookie jar and no redirects followed.
type client struct {
	e    *env
	http *http.Client
	csrf string
	base string // another node's URL; "" is the env's server
}

func (e *env) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

// login logs a client in as one of the demo staff and keeps its CSRF token.
func (e *env) login(username string) *client {
	e.t.Helper()
	c := e.anon()
	_, body := c.get("/login")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no csrf field on the login page:\n%s", body)
	}
	resp, _ := c.post("/login", url.Values{"csrf": {m[1]}, "username": {username}, "password": {e.staff[username]}, "next": {"/"}})
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login as %s: status %d, want 303", username, resp.StatusCode)
	}
	_, body = c.get("/")
	m = csrfRE.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no csrf field on the nightly page")
	}
	c.csrf = m[1]
	return c
}

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.e.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// url is where path is served: c.base when set (another node), else the
// env's server.
func (c *client) url(path string) string {
	if c.base != "" {
		return c.base + path
	}
	return c.e.srv.URL + path
}

func (c *client) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", c.url(path), nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) (*http.Response, string) {
	req, _ := http.NewRequest("POST", c.url(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// upload stores a report for a server as an upload would: parsed,
// judged against the server's exceptions and normal, with its compressed
// raw log.
func (e *env) upload(customer, server, text string, at time.Time) int64 {
	e.t.Helper()
	ctx := context.Background()
	srv, err := e.db.ServerByName(ctx, customer, server)
	if err != nil {
		t := e.t
		if _, err := e.db.CustomerBySlug(ctx, customer); err != nil {
			if _, err := e.db.AddCustomer(ctx, "t", store.Customer{Slug: customer}); err != nil {
				t.Fatal(err)
			}
		}
		if srv, err = e.db.AddServer(ctx, "t", customer, server, false); err != nil {
			t.Fatal(err)
		}
	}
	exs, _ := e.db.ExceptionsFor(ctx, srv.ID)
	r, _ := parser.Parse(strings.NewReader(text))
	night := store.NightOf(at, time.UTC)
	b, err := e.db.Baseline(ctx, srv.ID, night)
	if err != nil {
		e.t.Fatal(err)
	}
	parser.Judge(r, parser.Facts{End: parser.EndComplete, Baseline: b}, store.Patterns(exs))
	id, err := e.db.SaveUpload(ctx, store.Upload{ServerID: srv.ID, ReceivedAt: at, Night: night, Source: store.SourceUpload,
		Result: r, Exceptions: exs, Log: store.CompressLog([]byte(text)), Baseline: b})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// samplePath fills a route pattern's wildcards with values that exist in
// the demo data, so that an authenticated request would succeed.
func samplePath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	r := strings.NewReplacer("{customer}", "acme", "{server}", "EXCH01", "{id}", "1", "{token}", strings.Repeat("0", 64), "{$}", "")
	return method, r.Replace(path)
}
