package report

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store"
)

func TestEveryRouteNeedsLoginExceptThePublicOnes(t *testing.T) {
	e := newEnv(t)
	wantPublic := []string{"GET /healthz", "GET /login", "GET /setup/{token}", "POST /login", "POST /login/code", "POST /setup/{token}"}
	var public []string
	for _, rt := range e.h.Routes() {
		if rt.Public {
			public = append(public, rt.Pattern)
			continue
		}
		t.Run(rt.Pattern+" without a session is refused", func(t *testing.T) {
			method, path := samplePath(rt.Pattern)
			req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, body := e.anon().do(req)
			if rt.API {
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s %s: status %d, want 401", method, path, resp.StatusCode)
				}
				return
			}
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
				t.Errorf("%s %s: status %d to %q, want 303 to /login\n%s", method, path, resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})
		t.Run(rt.Pattern+" with a wrong bearer token is refused", func(t *testing.T) {
			method, path := samplePath(rt.Pattern)
			req, _ := http.NewRequest(method, e.srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer brt_wrong")
			resp, _ := e.anon().do(req)
			if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusSeeOther {
				t.Errorf("%s %s with a bad token: status %d, want 401 or 303", method, path, resp.StatusCode)
			}
		})
	}
	sort.Strings(public)
	if strings.Join(public, ",") != strings.Join(wantPublic, ",") {
		t.Errorf("public routes = %v, want exactly %v", public, wantPublic)
	}
}

func TestEveryGetRouteAnswersALoggedInAdmin(t *testing.T) {
	e := newEnv(t)
	c := e.login("alice")
	for _, rt := range e.h.Routes() {
		method, path := samplePath(rt.Pattern)
		if method != "GET" || strings.Contains(rt.Pattern, "{token}") {
			continue
		}
		if path == "/login" {
			continue // redirects a logged-in user home
		}
		t.Run(rt.Pattern, func(t *testing.T) {
			resp, body := c.get(path)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: status %d, want 200\n%.500s", path, resp.StatusCode, body)
			}
		})
	}
}

func TestPostWithoutCSRFTokenIsForbidden(t *testing.T) {
	e := newEnv(t)
	c := e.login("alice")
	for _, rt := range e.h.Routes() {
		method, path := samplePath(rt.Pattern)
		if method != "POST" || rt.Public {
			continue
		}
		for name, form := range map[string]url.Values{
			"no token":    {"kind": {"note"}, "body": {"x"}, "name": {"x"}, "username": {"mallory"}, "role": {"admin"}},
			"wrong token": {"csrf": {strings.Repeat("a", 64)}, "kind": {"note"}, "body": {"x"}, "name": {"x"}, "username": {"mallory"}, "role": {"admin"}},
		} {
			t.Run(rt.Pattern+" with "+name, func(t *testing.T) {
				resp, _ := c.post(path, form)
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s with %s: status %d, want 403", path, name, resp.StatusCode)
				}
			})
		}
	}
	if _, err := e.db.UserByName(context.Background(), "mallory"); err == nil {
		t.Error("a POST without a CSRF token created a user")
	}
	t.Run("the login form without its token is refused too", func(t *testing.T) {
		resp, _ := e.anon().post("/login", url.Values{"username": {"alice"}, "password": {e.staff["alice"]}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /login without csrf: status %d, want 403", resp.StatusCode)
		}
	})
}

func TestRolesLimitWhatStaffMayDo(t *testing.T) {
	e := newEnv(t)
	csr, tech := e.login("carol"), e.login("tom")
	tests := []struct {
		name   string
		c      *client
		method string
		path   string
		form   url.Values
		want   int
	}{
		{"a csr may not add a user", csr, "POST", "/users", url.Values{"username": {"mallory"}, "role": {"admin"}, "password": {"long enough pw"}}, 403},
		{"a csr may not see the staff page", csr, "GET", "/users", nil, 403},
		{"a csr may not disable a user", csr, "POST", "/users/1/active", url.Values{"active": {"0"}}, 403},
		{"a csr may not add an exception", csr, "POST", "/exceptions", url.Values{"scope": {"acme"}, "pattern": {"*"}}, 403},
		{"a tech may not add a user", tech, "POST", "/users", url.Values{"username": {"mallory"}, "role": {"admin"}, "password": {"long enough pw"}}, 403},
		{"a tech may add an exception", tech, "POST", "/exceptions", url.Values{"scope": {"acme/EXCH01"}, "pattern": {"*/outlook.pst"}, "back": {"/"}}, 303},
		{"a csr may leave a note", csr, "POST", "/servers/acme/EXCH01/notes", url.Values{"kind": {"claim"}, "body": {"calling them"}, "back": {"/"}}, 303},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			if tc.method == "GET" {
				resp, _ = tc.c.get(tc.path)
			} else {
				tc.form.Set("csrf", tc.c.csrf)
				resp, _ = tc.c.post(tc.path, tc.form)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s as %s: status %d, want %d", tc.method, tc.path, tc.c.csrf[:4], resp.StatusCode, tc.want)
			}
		})
	}
	if _, err := e.db.UserByName(context.Background(), "mallory"); err == nil {
		t.Error("a non-admin created a user")
	}
}

func TestHTMLInjectionComesOutEscaped(t *testing.T) {
	e := newEnv(t)
	const evil = `<script>alert(1)</script>`
	log := "sending incremental file list\n" +
		`rsync: send_files failed to open "/E/` + evil + `.pst": Permission denied (13)` + "\n" +
		"<img src=x onerror=alert(2)>\n\n" +
		"sent 1,234 bytes  received 56 bytes  860.00 bytes/sec\ntotal size is 1,234  speedup is 0.96\n" +
		"rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]\n"
	// Server names may hold anything but slashes and control characters.
	const evilName = `x"><svg onload=alert(3)><img src=x onerror=alert(4)>`
	id := e.upload("acme", evilName, log, testNow.Add(-2*time.Hour))
	c := e.login("alice")
	srvPath := serverURL("acme", evilName)
	for _, path := range []string{"/", "/results/" + itoa(id), srvPath, "/failures/daily", "/history"} {
		t.Run(path, func(t *testing.T) {
			resp, body := c.get(path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", path, resp.StatusCode)
			}
			for _, raw := range []string{"<script>alert", "<img src=x", "<svg onload"} {
				if strings.Contains(body, raw) {
					t.Errorf("GET %s: the page contains %q unescaped", path, raw)
				}
			}
			if !strings.Contains(body, "x&#34;&gt;&lt;svg onload=alert(3)&gt;") {
				t.Errorf("GET %s: the escaped server name is not on the page", path)
			}
			if strings.HasPrefix(path, "/results/") && !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("GET %s: the escaped file path is not on the page", path)
			}
		})
	}
	t.Run("csv cells cannot become formulas", func(t *testing.T) {
		e.upload("acme", "=HYPERLINK(1)", "", testNow.Add(-time.Hour))
		_, body := c.get("/api/v1/status.csv")
		if strings.Contains(body, ",=HYPERLINK") || !strings.Contains(body, "'=HYPERLINK") {
			t.Errorf("a server name starting with = is not neutralised in CSV:\n%s", body)
		}
	})
}

func TestSessionCookieFlags(t *testing.T) {
	// The test's requests come from 127.0.0.1, here a trusted proxy; the
	// same header from an untrusted peer is in TestForwardedHeaders.
	e := newEnvWith(t, func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	c := e.anon()
	_, body := c.get("/login")
	tok := csrfRE.FindStringSubmatch(body)[1]
	for _, tc := range []struct {
		name       string
		proto      string
		wantSecure bool
	}{
		{"plain http gets no Secure flag, so logging in on 127.0.0.1 works", "", false},
		{"behind a trusted TLS proxy the cookie is Secure", "https", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(url.Values{"csrf": {tok}, "username": {"carol"}, "password": {e.staff["carol"]}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-Proto", tc.proto)
			req.AddCookie(&http.Cookie{Name: loginCookie, Value: tok})
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var found bool
			for _, ck := range resp.Cookies() {
				if ck.Name == sessionCookie {
					found = true
					if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != tc.wantSecure {
						t.Errorf("session cookie HttpOnly=%v SameSite=%v Secure=%v, want true, Lax, %v", ck.HttpOnly, ck.SameSite, ck.Secure, tc.wantSecure)
					}
				}
			}
			if !found {
				t.Fatalf("no session cookie set (status %d)", resp.StatusCode)
			}
		})
	}
}

func TestFirstRunLinkCreatesOneAdmin(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir()+"/t.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tok, err := PrepareFirstRun(ctx, db)
	if err != nil || tok == "" {
		t.Fatalf("PrepareFirstRun = %q, %v", tok, err)
	}
	h, _ := New(Config{DB: db, Location: time.UTC, Logger: quietLog})
	e := &env{t: t, db: db, h: h}
	e.srv = newTestServer(t, h)
	c := e.anon()
	if resp, _ := c.get("/setup/" + strings.Repeat("1", 64)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a wrong setup token: status %d, want 404", resp.StatusCode)
	}
	_, body := c.get("/setup/" + tok)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("setup page has no form:\n%s", body)
	}
	form := url.Values{"csrf": {m[1]}, "username": {"root"}, "password": {"a long password"}, "password2": {"a long password"}}
	if resp, body := c.post("/setup/"+tok, form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create first admin: status %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := c.get("/"); resp.StatusCode != http.StatusOK {
		t.Errorf("after setup the new admin is not logged in: %d", resp.StatusCode)
	}
	if u, err := db.UserByName(ctx, "root"); err != nil || u.Role != store.RoleAdmin {
		t.Errorf("first admin = %+v, %v", u, err)
	}
	form.Set("username", "second")
	if resp, _ := e.anon().post("/setup/"+tok, form); resp.StatusCode != http.StatusGone {
		t.Errorf("the setup link worked twice: status %d, want 410", resp.StatusCode)
	}
	if again, _ := PrepareFirstRun(ctx, db); again != "" {
		t.Errorf("PrepareFirstRun with a user gave a token")
	}
}

func TestAPITokensAuthenticateScripts(t *testing.T) {
	e := newEnv(t)
	c := e.login("carol")
	resp, body := c.post("/tokens", url.Values{"csrf": {c.csrf}, "name": {"nagios"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create token: %d", resp.StatusCode)
	}
	i := strings.Index(body, store.APITokenPrefix)
	if i < 0 {
		t.Fatalf("the new token is not shown:\n%s", body)
	}
	tok := body[i : i+len(store.APITokenPrefix)+64]
	api := e.anon()
	get := func(path, token string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return api.do(req)
	}
	resp, body = get("/api/v1/status", tok)
	var st struct {
		Counts  nightlyCounts `json:"counts"`
		Servers []nightlyRow  `json:"servers"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &st) != nil || st.Counts.Total == 0 || len(st.Servers) != st.Counts.Total {
		t.Fatalf("GET /api/v1/status with a token: %d %.300s", resp.StatusCode, body)
	}
	if resp, body := get("/metrics", tok); resp.StatusCode != 200 {
		t.Errorf("GET /metrics with a token: %d %.200s", resp.StatusCode, body)
	}
	if resp, _ := get("/", tok); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a token opened a page: status %d, want a redirect to login", resp.StatusCode)
	}
	if _, page := c.get("/tokens"); strings.Contains(page, tok) {
		t.Error("the token is shown again after creation")
	}
	var id int64
	ts, _ := e.db.APITokens(context.Background(), 0)
	id = ts[0].ID
	c.post("/tokens/"+itoa(id)+"/revoke", url.Values{"csrf": {c.csrf}})
	if resp, _ := get("/api/v1/status", tok); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: status %d, want 401", resp.StatusCode)
	}
}
