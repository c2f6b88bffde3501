package report

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/metrics"
)

// fakeClock is the handler's clock in throttle tests; tests move it by
// hand and never wait.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects log lines for tests that count them.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// count returns how many lines contain s.
func (b *logBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, l := range strings.Split(b.buf.String(), "\n") {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// throttleEnv is a seeded web interface with a hand-moved clock, its own
// metrics registry and a log to read.
type throttleEnv struct {
	*env
	clock *fakeClock
	reg   *metrics.Registry
	logs  *logBuffer
}

func newThrottleEnv(t *testing.T, change func(*Config)) *throttleEnv {
	t.Helper()
	te := &throttleEnv{clock: &fakeClock{t: testNow}, reg: metrics.NewRegistry(), logs: &logBuffer{}}
	te.env = newStaffEnv(t, func(c *Config) {
		c.Now, c.Metrics = te.clock.now, te.reg
		c.Logger = slog.New(slog.NewTextHandler(te.logs, nil))
		if change != nil {
			change(c)
		}
	})
	return te
}

// newStaffEnv serves a database with three staff and nothing else: the
// login tests need no reports, and every bcrypt hash costs time.
func newStaffEnv(t *testing.T, change func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return testNow }
	db.PasswordCost = bcrypt.MinCost
	e := &env{t: t, db: db, staff: map[string]string{}}
	for name, role := range map[string]store.Role{"alice": store.RoleAdmin, "tom": store.RoleTech, "carol": store.RoleCSR,
		"user0": store.RoleCSR, "user1": store.RoleCSR, "user2": store.RoleCSR, "user3": store.RoleCSR} {
		e.staff[name] = name + "'s long password"
		if _, err := db.AddUser(ctx, "test", store.User{Username: name, Role: role}, e.staff[name]); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{DB: db, Location: time.UTC, Now: func() time.Time { return testNow }, Logger: quietLog}
	if change != nil {
		change(&cfg)
	}
	if e.h, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	return e
}

// loginToken is the CSRF token the tests' forms carry, in the cookie and
// in the form alike.
var testLoginToken = strings.Repeat("ab", 32)

// serve sends a request as if from the TCP peer "IP:port".
func (e *env) serve(req *http.Request, peer string, hdr http.Header) *httptest.ResponseRecorder {
	req.RemoteAddr = peer
	for k, v := range hdr {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func formRequest(path string, form url.Values) *http.Request {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// loginFrom posts the login form from peer, with extra headers.
func (e *env) loginFrom(peer, username, password string, hdr http.Header) *httptest.ResponseRecorder {
	req := formRequest("/login", url.Values{"csrf": {testLoginToken}, "username": {username}, "password": {password}, "next": {"/"}})
	req.AddCookie(&http.Cookie{Name: loginCookie, Value: testLoginToken})
	return e.serve(req, peer, hdr)
}

// wantStatus checks a response's status and, for 429, its Retry-After
// and message.
func wantStatus(t *testing.T, what string, rec *httptest.ResponseRecorder, status, retryAfter int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("%s: status %d, want %d\n%.300s", what, rec.Code, status, rec.Body.String())
	}
	if status != http.StatusTooManyRequests {
		return
	}
	if got := rec.Header().Get("Retry-After"); got != strconv.Itoa(retryAfter) {
		t.Errorf("%s: Retry-After %q, want %d", what, got, retryAfter)
	}
	if msg := "try again in " + strconv.Itoa(retryAfter) + " s"; !strings.Contains(rec.Body.String(), msg) {
		t.Errorf("%s: the page does not say %q", what, msg)
	}
}

const (
	stranger = "203.0.113.9:40000"
	alicesPC = "198.51.100.7:50000"
)

func TestAStrangersFailuresDoNotLockOutTheRightUserElsewhere(t *testing.T) {
	e := newThrottleEnv(t, nil)
	for i := range 30 {
		rec := e.loginFrom(stranger, "alice", "wrong password", nil)
		if want := http.StatusUnauthorized; i >= DefaultLoginLimits.PairFailures {
			wantStatus(t, "stranger's guess "+strconv.Itoa(i+1), rec, http.StatusTooManyRequests, 1)
		} else {
			wantStatus(t, "stranger's guess "+strconv.Itoa(i+1), rec, want, 0)
		}
	}
	wantStatus(t, "the stranger, even with the right password", e.loginFrom(stranger, "alice", e.staff["alice"], nil), http.StatusTooManyRequests, 1)
	wantStatus(t, "alice from her own address", e.loginFrom(alicesPC, "alice", e.staff["alice"], nil), http.StatusSeeOther, 0)
	wantStatus(t, "another user from the stranger's address", e.loginFrom(stranger, "carol", e.staff["carol"], nil), http.StatusSeeOther, 0)
	if n := e.logs.count(`msg="login throttled"`); n != 1 {
		t.Errorf("%d 'login throttled' lines for one throttled pair, want 1", n)
	}
	if got := e.h.wm.throttled.WithLabelValues(scopePair).Value(); got != 28 {
		t.Errorf("backupreport_web_login_throttled_total{scope=pair} = %v, want 28", got)
	}
	if got := e.h.wm.loginFailures.WithLabelValues(formLogin).Value(); got != 3 {
		t.Errorf("backupreport_web_login_failures_total{form=login} = %v, want 3", got)
	}

	t.Run("the counts are on /metrics", func(t *testing.T) {
		_, body := e.login("tom").get("/metrics")
		for _, want := range []string{
			`backupreport_web_login_throttled_total{scope="pair"} 28`,
			`backupreport_web_login_throttle_starts_total{scope="pair"} 1`,
			`backupreport_web_login_failures_total{form="login"} 3`,
			`backupreport_web_login_throttle_tracked{scope="address"} 1`,
			`backupreport_web_forwarded_ignored_total 0`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}

func TestDelaysGrowToTheCapAndResetOnSuccess(t *testing.T) {
	e := newThrottleEnv(t, func(c *Config) {
		c.LoginLimits = LoginLimits{PairFailures: 1, AddressFailures: 20, Delay: time.Second, MaxDelay: 8 * time.Second, MaxTracked: 100}
	})
	guess := func(what string, status, retry int) {
		t.Helper()
		wantStatus(t, what, e.loginFrom(stranger, "tom", "wrong password", nil), status, retry)
	}
	guess("the free failure", http.StatusUnauthorized, 0)
	for _, wait := range []int{1, 2, 4, 8} {
		d := time.Duration(wait) * time.Second
		guess("right after a failure", http.StatusTooManyRequests, wait)
		e.clock.advance(d - time.Millisecond)
		guess("a millisecond too early", http.StatusTooManyRequests, 1)
		e.clock.advance(time.Millisecond)
		guess("after waiting "+d.String(), http.StatusUnauthorized, 0)
	}
	guess("at the cap", http.StatusTooManyRequests, 8)
	e.clock.advance(8 * time.Second)
	wantStatus(t, "the right password after the wait", e.loginFrom(stranger, "tom", e.staff["tom"], nil), http.StatusSeeOther, 0)
	guess("free again after a success", http.StatusUnauthorized, 0)
	guess("and delays start afresh", http.StatusTooManyRequests, 1)
	e.clock.advance(15 * time.Minute)
	guess("15 quiet minutes forget the failures", http.StatusUnauthorized, 0)
	if n := e.logs.count(`msg="login throttled"`); n != 2 {
		t.Errorf("%d 'login throttled' lines for two throttle runs, want 2", n)
	}
}

func TestOneAddressTryingManyUsernamesWaitsToo(t *testing.T) {
	e := newThrottleEnv(t, func(c *Config) {
		c.LoginLimits = DefaultLoginLimits
		c.LoginLimits.AddressFailures = 4
	})
	for i := range 4 {
		wantStatus(t, "guess for user"+strconv.Itoa(i), e.loginFrom(stranger, "user"+strconv.Itoa(i), "wrong password", nil), http.StatusUnauthorized, 0)
	}
	wantStatus(t, "a new username from the same address", e.loginFrom(stranger, "carol", e.staff["carol"], nil), http.StatusTooManyRequests, 1)
	wantStatus(t, "the same user from another address", e.loginFrom(alicesPC, "carol", e.staff["carol"], nil), http.StatusSeeOther, 0)
	if got := e.h.wm.throttled.WithLabelValues(scopeAddress).Value(); got != 1 {
		t.Errorf("backupreport_web_login_throttled_total{scope=address} = %v, want 1", got)
	}
	if n := e.logs.count(`scope=address`); n != 1 {
		t.Errorf("%d log lines of the address throttle, want 1", n)
	}
}

func TestTheThrottleCanBeTurnedOff(t *testing.T) {
	th := newThrottle(context.Background(), LoginLimits{PairFailures: 3, AddressFailures: 20, MaxDelay: time.Minute, MaxTracked: 10}, SharedLogins{}, time.Now, quietLog, newWebMetrics(nil))
	for i := range 50 {
		if w := th.take(formLogin, "tom", "192.0.2.1"); w != 0 {
			t.Fatalf("guess %d with --login-delay 0 waits %v", i+1, w)
		}
	}
}

func TestTheThrottleKeepsAtMostMaxTrackedEntries(t *testing.T) {
	clock := &fakeClock{t: testNow}
	logs := &logBuffer{}
	m := newWebMetrics(nil)
	th := newThrottle(context.Background(), LoginLimits{PairFailures: 1, AddressFailures: 1, Delay: time.Second, MaxDelay: time.Minute, MaxTracked: 3}, SharedLogins{},
		clock.now, slog.New(slog.NewTextHandler(logs, nil)), m)
	for i := range 5 {
		clock.advance(time.Millisecond)
		if w := th.take(formLogin, "u"+strconv.Itoa(i), "192.0.2."+strconv.Itoa(i)); w != 0 {
			t.Fatalf("first guess of pair %d waits %v", i, w)
		}
	}
	if n := th.pairs.order.Len(); n != 3 {
		t.Errorf("%d pairs kept, want 3", n)
	}
	if n := th.addrs.order.Len(); n != 3 {
		t.Errorf("%d addresses kept, want 3", n)
	}
	if w := th.take(formLogin, "u4", "192.0.2.4"); w == 0 {
		t.Error("the newest pair was forgotten")
	}
	if w := th.take(formLogin, "u0", "192.0.2.0"); w != 0 {
		t.Errorf("the oldest pair was kept: waits %v", w)
	}
	if got := m.throttleEvicted.WithLabelValues(scopePair).Value(); got != 3 {
		t.Errorf("evicted pairs = %v, want 3", got)
	}
	if got := m.throttleTracked.WithLabelValues(scopePair).Value(); got != 3 {
		t.Errorf("tracked pairs = %v, want 3", got)
	}
	if n := logs.count("login throttle full"); n != 2 {
		t.Errorf("%d 'throttle full' lines (pairs and addresses), want 2", n)
	}
}

func TestTheThrottleWaitsDoubleUpToTheCap(t *testing.T) {
	l := LoginLimits{Delay: time.Second, MaxDelay: 5 * time.Minute}
	for _, c := range []struct {
		fails, free int
		want        time.Duration
	}{
		{0, 3, 0}, {2, 3, 0}, {3, 3, time.Second}, {4, 3, 2 * time.Second}, {5, 3, 4 * time.Second},
		{11, 3, 256 * time.Second}, {12, 3, 5 * time.Minute}, {1000000, 3, 5 * time.Minute}, {0, 0, time.Second},
	} {
		if got := l.wait(c.fails, c.free); got != c.want {
			t.Errorf("wait after %d failures (%d free) = %v, want %v", c.fails, c.free, got, c.want)
		}
	}
	if got := (LoginLimits{Delay: time.Hour, MaxDelay: time.Minute}).wait(5, 1); got != time.Minute {
		t.Errorf("a first delay above the cap waits %v, want the cap", got)
	}
}

// sessionFrom logs in from peer and returns the session cookie and the
// session's CSRF token.
func (e *env) sessionFrom(peer, username string) (*http.Cookie, string) {
	e.t.Helper()
	rec := e.loginFrom(peer, username, e.staff[username], nil)
	wantStatus(e.t, "login as "+username, rec, http.StatusSeeOther, 0)
	var ck *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			ck = c
		}
	}
	req := httptest.NewRequest("GET", "/account", nil)
	req.AddCookie(ck)
	m := csrfRE.FindStringSubmatch(e.serve(req, peer, nil).Body.String())
	if ck == nil || m == nil {
		e.t.Fatal("no session cookie or CSRF token")
	}
	return ck, m[1]
}

func TestPasswordChangeGuessesAreThrottledLikeLogins(t *testing.T) {
	e := newThrottleEnv(t, nil)
	ck, csrf := e.sessionFrom(alicesPC, "tom")
	change := func(old string) *httptest.ResponseRecorder {
		req := formRequest("/account/password", url.Values{"csrf": {csrf}, "old": {old}, "new": {"new password 1"}, "new2": {"new password 1"}})
		req.AddCookie(ck)
		return e.serve(req, alicesPC, nil)
	}
	for i := range 3 {
		wantStatus(t, "wrong current password "+strconv.Itoa(i+1), change("wrong"), http.StatusBadRequest, 0)
	}
	wantStatus(t, "the right current password too soon", change(e.staff["tom"]), http.StatusTooManyRequests, 1)
	wantStatus(t, "a login of the same pair", e.loginFrom(alicesPC, "tom", e.staff["tom"], nil), http.StatusTooManyRequests, 1)
	e.clock.advance(time.Second)
	wantStatus(t, "the right current password after the wait", change(e.staff["tom"]), http.StatusSeeOther, 0)
	if got := e.h.wm.loginFailures.WithLabelValues(formPassword).Value(); got != 3 {
		t.Errorf("backupreport_web_login_failures_total{form=password} = %v, want 3", got)
	}
	if n := e.logs.count(`form=password`); n < 1 || e.logs.count(`msg="login throttled"`) != 1 {
		t.Errorf("want one 'login throttled' line with form=password:\n%s", e.logs.buf.String())
	}
}

func TestForwardedForFindsTheClient(t *testing.T) {
	var proxies []netip.Prefix
	for _, s := range []string{"10.0.0.0/8", "192.0.2.1", "::ffff:172.16.0.0/108"} {
		p, err := ParseTrustedProxy(s)
		if err != nil {
			t.Fatal(err)
		}
		proxies = append(proxies, p)
	}
	peer := netip.MustParseAddr("10.0.0.1")
	for _, c := range []struct {
		name    string
		headers []string
		want    string
	}{
		{"one proxy", []string{"203.0.113.5"}, "203.0.113.5"},
		{"a spoofed entry left of the real one is not believed", []string{"1.2.3.4, 203.0.113.5"}, "203.0.113.5"},
		{"a client claiming to be a proxy is not believed", []string{"10.9.9.9, 203.0.113.5"}, "203.0.113.5"},
		{"two trusted proxies are skipped", []string{"1.2.3.4, 203.0.113.5, 10.1.1.1, 192.0.2.1"}, "203.0.113.5"},
		{"several header lines read as one list", []string{"1.2.3.4", "203.0.113.5, 10.1.1.1"}, "203.0.113.5"},
		{"a port is dropped", []string{"203.0.113.5:4711"}, "203.0.113.5"},
		{"IPv6 in brackets with a port", []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"IPv6 bare", []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv4-mapped IPv6 is IPv4", []string{"::ffff:203.0.113.5"}, "203.0.113.5"},
		{"a mapped range is trusted as IPv4", []string{"203.0.113.5, 172.16.0.9"}, "203.0.113.5"},
		{"empty entries are skipped", []string{", ,203.0.113.5,"}, "203.0.113.5"},
		{"'unknown' from the proxy leaves the proxy", []string{"1.2.3.4, unknown"}, "10.0.0.1"},
		{"garbage left of the client is never read", []string{"garbage, 203.0.113.5"}, "203.0.113.5"},
		{"only trusted hops give the leftmost", []string{"10.2.2.2, 10.1.1.1"}, "10.2.2.2"},
		{"no header leaves the peer", nil, "10.0.0.1"},
	} {
		if got := forwardedFor(peer, c.headers, proxies).String(); got != c.want {
			t.Errorf("%s: X-Forwarded-For %q gives %s, want %s", c.name, c.headers, got, c.want)
		}
	}
}

func TestParseTrustedProxyRefusesNonsense(t *testing.T) {
	for _, s := range []string{"", "proxy.example", "10.0.0.0/33", "10.0.0.1/"} {
		if p, err := ParseTrustedProxy(s); err == nil {
			t.Errorf("ParseTrustedProxy(%q) = %v, want an error", s, p)
		}
	}
	if p, _ := ParseTrustedProxy("10.1.2.3/8"); p.String() != "10.0.0.0/8" {
		t.Errorf("10.1.2.3/8 = %v, want 10.0.0.0/8", p)
	}
}

// FuzzForwardedFor checks that whatever a client writes, the address the
// trusted proxy appends is the one believed.
func FuzzForwardedFor(f *testing.F) {
	for _, s := range []string{"", "1.2.3.4", "10.0.0.1, 1.2.3.4", "[::1]:80, unknown", ",,,", "::ffff:10.0.0.1", "fe80::1%eth0"} {
		f.Add(s)
	}
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	peer := netip.MustParseAddr("10.0.0.1")
	real := netip.MustParseAddr("203.0.113.77")
	f.Fuzz(func(t *testing.T, spoofed string) {
		if got := forwardedFor(peer, []string{spoofed + ", 203.0.113.77"}, proxies); got != real {
			t.Errorf("X-Forwarded-For %q + the real client gives %v", spoofed, got)
		}
		if got := forwardedFor(peer, []string{spoofed}, proxies); !got.IsValid() {
			t.Errorf("X-Forwarded-For %q gives an invalid address", spoofed)
		}
	})
}

func TestForwardedHeadersCountOnlyFromTrustedProxies(t *testing.T) {
	const peer = "127.0.0.1:40000"
	xff := func(v string) http.Header { return http.Header{"X-Forwarded-For": {v}} }
	t.Run("from an untrusted peer every login counts as the peer", func(t *testing.T) {
		e := newThrottleEnv(t, nil)
		for i := range 3 {
			wantStatus(t, "guess", e.loginFrom(peer, "tom", "wrong password", xff("203.0.113."+strconv.Itoa(i))), http.StatusUnauthorized, 0)
		}
		wantStatus(t, "a fourth 'client' behind the same peer", e.loginFrom(peer, "tom", e.staff["tom"], xff("203.0.113.99")), http.StatusTooManyRequests, 1)
		if n := e.logs.count("ignoring X-Forwarded-For"); n != 1 {
			t.Errorf("%d lines about ignored forwarding headers, want 1", n)
		}
		if got := e.h.wm.forwardedIgnored.Value(); got != 4 {
			t.Errorf("backupreport_web_forwarded_ignored_total = %v, want 4", got)
		}
		if n := e.logs.count("remote_addr=127.0.0.1"); n < 1 {
			t.Errorf("logs do not name the peer:\n%s", e.logs.buf.String())
		}
	})
	t.Run("from a trusted proxy each client counts on its own", func(t *testing.T) {
		e := newThrottleEnv(t, func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
		for range 3 {
			wantStatus(t, "guess from 203.0.113.1", e.loginFrom(peer, "tom", "wrong password", xff("203.0.113.1")), http.StatusUnauthorized, 0)
		}
		wantStatus(t, "203.0.113.1 again", e.loginFrom(peer, "tom", e.staff["tom"], xff("203.0.113.1")), http.StatusTooManyRequests, 1)
		wantStatus(t, "203.0.113.1 spoofing another client in front", e.loginFrom(peer, "tom", e.staff["tom"], xff("203.0.113.2, 203.0.113.1")), http.StatusTooManyRequests, 1)
		wantStatus(t, "the real user at 203.0.113.2", e.loginFrom(peer, "tom", e.staff["tom"], xff("203.0.113.2")), http.StatusSeeOther, 0)
		if e.logs.count("remote_addr=203.0.113.1") < 3 || e.logs.count("remote_addr=203.0.113.2") != 1 {
			t.Errorf("logs do not name the clients:\n%s", e.logs.buf.String())
		}
	})
}

func TestHSTSOnlyUnderTLS(t *testing.T) {
	const year = "max-age=31536000"
	trustedProxy := func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} }
	e := newStaffEnv(t, trustedProxy)
	for _, c := range []struct {
		name, url, peer, proto string
		want                   string
	}{
		{"plain http has none", "http://backup.example/healthz", "127.0.0.1:1", "", ""},
		{"https claimed by an untrusted peer has none", "http://backup.example/healthz", "127.0.0.1:1", "https", ""},
		{"https from a trusted proxy has it", "http://backup.example/healthz", "10.0.0.1:1", "https", year},
		{"http from a trusted proxy has none", "http://backup.example/healthz", "10.0.0.1:1", "http", ""},
		{"the nearest proxy's value counts", "http://backup.example/healthz", "10.0.0.1:1", "https, http", ""},
		{"direct TLS has it", "https://backup.example/healthz", "127.0.0.1:1", "", year},
		{"the login page under TLS has it", "https://backup.example/login", "127.0.0.1:1", "", year},
	} {
		req := httptest.NewRequest("GET", c.url, nil)
		var hdr http.Header
		if c.proto != "" {
			hdr = http.Header{"X-Forwarded-Proto": {c.proto}}
		}
		if got := e.serve(req, c.peer, hdr).Header().Get("Strict-Transport-Security"); got != c.want {
			t.Errorf("%s: Strict-Transport-Security %q, want %q", c.name, got, c.want)
		}
	}
	t.Run("a real TLS connection gets it", func(t *testing.T) {
		srv := httptest.NewTLSServer(e.h)
		defer srv.Close()
		resp, err := srv.Client().Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != year {
			t.Errorf("over TLS: %q, want %q", got, year)
		}
	})
	t.Run("max-age and off are settings", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			change func(*Config)
			want   string
		}{
			{"an hour", func(c *Config) { c.HSTSMaxAge = time.Hour }, "max-age=3600"},
			{"off", func(c *Config) { c.NoHSTS = true }, ""},
		} {
			cfg := Config{DB: e.db, Logger: quietLog}
			c.change(&cfg)
			h, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "https://backup.example/healthz", nil))
			if got := rec.Header().Get("Strict-Transport-Security"); got != c.want {
				t.Errorf("%s: %q, want %q", c.name, got, c.want)
			}
		}
	})
	t.Run("an untrusted https claim does not make cookies Secure", func(t *testing.T) {
		rec := e.loginFrom("127.0.0.1:1", "carol", e.staff["carol"], http.Header{"X-Forwarded-Proto": {"https"}})
		for _, ck := range rec.Result().Cookies() {
			if ck.Name == sessionCookie && ck.Secure {
				t.Error("the session cookie is Secure on plain http from an untrusted peer")
			}
		}
	})
}
