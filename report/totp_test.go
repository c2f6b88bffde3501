package report

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

var (
	secretRE   = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)
	recoveryRE = regexp.MustCompile(`\b[a-z2-9]{5}-[a-z2-9]{5}\b`)
)

// loginForm posts the login form as a browser does: the page first, for
// its CSRF cookie and field, then username and password.
func (c *client) loginForm(username, password string) (*http.Response, string) {
	c.e.t.Helper()
	_, body := c.get("/login")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		c.e.t.Fatalf("no csrf field on the login page")
	}
	c.csrf = m[1]
	return c.post("/login", url.Values{"csrf": {m[1]}, "username": {username}, "password": {password}, "next": {"/history"}})
}

// code posts the second step of the login form.
func (c *client) code(code string) (*http.Response, string) {
	return c.post("/login/code", url.Values{"csrf": {c.csrf}, "code": {code}})
}

// TestTOTPEnrolmentAndLogin enrols a second factor from the account page
// and logs in through the login form: a wrong code, a code used twice,
// a recovery code (once only), then an admin's reset, all audited.
func TestTOTPEnrolmentAndLogin(t *testing.T) {
	var now atomic.Int64
	now.Store(testNow.Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0).UTC() }
	e := newEnvWith(t, func(c *Config) { c.Now = clock })
	ctx := context.Background()

	tom := e.login("tom")
	_, body := tom.get("/account")
	m := secretRE.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, `<svg xmlns="http://www.w3.org/2000/svg"`) || strings.Count(body, `<rect x=`) < 100 {
		t.Fatalf("account page has no secret or no QR code:\n%.2000s", body)
	}
	secret := m[1]
	resp, body := tom.post("/account/totp", url.Values{"csrf": {tom.csrf}, "secret": {secret}, "code": {"123456"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "does not match") {
		t.Fatalf("enrolment with a wrong code: status %d", resp.StatusCode)
	}
	enrolCode, _ := totp.GenerateCode(secret, clock())
	resp, body = tom.post("/account/totp", url.Values{"csrf": {tom.csrf}, "secret": {secret}, "code": {enrolCode}})
	_, block, _ := strings.Cut(body, `id="recovery-codes">`)
	block, _, _ = strings.Cut(block, "</pre>")
	codes := recoveryRE.FindAllString(block, -1)
	if resp.StatusCode != http.StatusOK || len(codes) != recoveryCodes {
		t.Fatalf("enrolment: status %d, %d recovery codes shown, want %d", resp.StatusCode, len(codes), recoveryCodes)
	}

	// The code that confirmed the enrolment cannot log in within its step.
	c := e.anon()
	resp, body = c.loginForm("tom", e.staff["tom"])
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/login/code"`) {
		t.Fatalf("password of a user with a second factor: status %d, want the code form", resp.StatusCode)
	}
	if resp, _ := c.get("/history"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a password alone gave a session (GET /history status %d)", resp.StatusCode)
	}
	resp, body = c.code(enrolCode)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "used already") {
		t.Errorf("reused code: status %d, want 401 with 'used already'", resp.StatusCode)
	}
	wrong := "000000"
	if wrong == enrolCode {
		wrong = "111111"
	}
	resp, body = c.code(wrong)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong code") {
		t.Errorf("wrong code: status %d, want 401 with 'Wrong code'", resp.StatusCode)
	}

	// 30 seconds later the app shows a new code; it logs in, once.
	now.Add(30)
	code, _ := totp.GenerateCode(secret, clock())
	resp, _ = c.code(code)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/history" {
		t.Fatalf("right code: status %d to %q, want 303 to /history", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := c.get("/history"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the code: GET /history status %d", resp.StatusCode)
	}
	c2 := e.anon()
	c2.loginForm("tom", e.staff["tom"])
	if resp, body := c2.code(code); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "used already") {
		t.Errorf("the same code at a second login: status %d, want 401", resp.StatusCode)
	}

	// A recovery code works in place of a code, typed loosely, once.
	typed := strings.ToUpper(strings.Replace(codes[3], "-", " ", 1))
	if resp, _ := c2.code(typed); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("recovery code %q: status %d, want 303", typed, resp.StatusCode)
	}
	c3 := e.anon()
	c3.loginForm("tom", e.staff["tom"])
	if resp, body := c3.code(codes[3]); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "recovery code") {
		t.Errorf("used recovery code again: status %d, want 401", resp.StatusCode)
	}
	if _, body := c.get("/account"); !strings.Contains(body, "9 recovery codes left") {
		t.Errorf("account page does not count 9 recovery codes left")
	}

	// The admin resets tom's second factor (a lost phone), then requires
	// one: dan, without one, is sent to enrol; his API token keeps working.
	alice := e.login("alice")
	dan := e.login("dan")
	danUser, _ := e.db.UserByName(ctx, "dan")
	tok, _, err := e.db.CreateAPIToken(ctx, "t", danUser.ID, "monitoring")
	if err != nil {
		t.Fatal(err)
	}
	tomUser, _ := e.db.UserByName(ctx, "tom")
	if resp, _ := alice.post("/users/"+strconv.FormatInt(tomUser.ID, 10)+"/totp/reset", url.Values{"csrf": {alice.csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: status %d", resp.StatusCode)
	}
	if resp, _ := c.get("/history"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("tom's session outlived the reset of his second factor")
	}
	if resp, _ := alice.post("/users/require-totp", url.Values{"csrf": {alice.csrf}, "require": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("require totp: status %d", resp.StatusCode)
	}
	if resp, _ := dan.get("/history"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/account") {
		t.Errorf("dan without a second factor: GET /history status %d to %q, want 303 to /account", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := dan.get("/account"); !strings.Contains(body, `id="enrol-required"`) {
		t.Errorf("dan's account page does not say the second factor is required")
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/status", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, _ := e.anon().do(req); resp.StatusCode != http.StatusOK {
		t.Errorf("API token under the requirement: status %d, want 200", resp.StatusCode)
	}
	entries, _ := e.db.Audit(ctx, 20)
	var actions []string
	for _, a := range entries {
		actions = append(actions, a.Actor+":"+a.Action)
	}
	got := strings.Join(actions, " ")
	for _, want := range []string{"web:alice:user.totp.reset", "web:alice:settings.require_totp", "web:tom:user.totp.recovery_code", "web:tom:user.totp.enable"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit lacks %s: %s", want, got)
		}
	}
}

// TestPendingLoginsAreBounded: at --login-pending the oldest waiting
// login is dropped and counted; expired ones are refused.
func TestPendingLoginsAreBounded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	wm := newWebMetrics(nil)
	c := challenges{db: e.db, max: 2, log: quietLog, wm: wm}
	u, err := e.db.UserByName(ctx, "tom")
	if err != nil {
		t.Fatal(err)
	}
	now := testNow
	e.db.Now = func() time.Time { return now }
	var toks []string
	for range 3 {
		tok, err := c.put(ctx, u.ID, "/")
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
		now = now.Add(time.Second)
	}
	if _, ok, err := c.get(ctx, toks[0]); ok || err != nil {
		t.Errorf("the oldest waiting login survived the bound (%v)", err)
	}
	for _, tok := range toks[1:] {
		if _, ok, err := c.get(ctx, tok); !ok || err != nil {
			t.Errorf("a newer waiting login was dropped (%v)", err)
		}
	}
	if got := wm.pendingDropped.Value(); got != 1 {
		t.Errorf("dropped counter = %v, want 1", got)
	}
	if got := wm.pendingLogins.Value(); got != 2 {
		t.Errorf("pending gauge = %v, want 2", got)
	}
	now = now.Add(loginChallengeTTL + time.Second)
	if _, ok, _ := c.get(ctx, toks[2]); ok {
		t.Error("an expired waiting login was accepted")
	}
}

// TestCodeOnAnotherNode: the password is given to one serve node and the
// code to another on the same database (behind a load balancer without
// source affinity), and the login works.
func TestCodeOnAnotherNode(t *testing.T) {
	e := newEnv(t)
	tom := e.login("tom")
	_, body := tom.get("/account")
	secret := secretRE.FindStringSubmatch(body)[1]
	code, _ := totp.GenerateCode(secret, testNow)
	tom.post("/account/totp", url.Values{"csrf": {tom.csrf}, "secret": {secret}, "code": {code}})

	other, err := New(Config{DB: e.db, Location: time.UTC, Now: func() time.Time { return testNow }, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	node2 := httptest.NewServer(other)
	t.Cleanup(node2.Close)

	c := e.anon()
	c.loginForm("tom", e.staff["tom"])
	c.base = node2.URL // the same browser, its next request on the other node
	next, _ := totp.GenerateCode(secret, testNow.Add(30*time.Second))
	resp, _ := c.code(next)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("code on the other node: status %d, want 303", resp.StatusCode)
	}
	if resp, _ := c.get("/account"); resp.StatusCode != http.StatusOK {
		t.Errorf("after the login on the other node: /account status %d", resp.StatusCode)
	}
}

// TestCodeTriesEndTheLogin: after --login-code-tries wrong codes the
// password is asked again.
func TestCodeTriesEndTheLogin(t *testing.T) {
	e := newEnvWith(t, func(c *Config) {
		c.LoginCodeTries = 2
		c.LoginLimits = LoginLimits{PairFailures: 100, AddressFailures: 100, Delay: time.Second, MaxDelay: time.Second, MaxTracked: 100}
	})
	tom := e.login("tom")
	_, body := tom.get("/account")
	secret := secretRE.FindStringSubmatch(body)[1]
	code, _ := totp.GenerateCode(secret, testNow)
	tom.post("/account/totp", url.Values{"csrf": {tom.csrf}, "secret": {secret}, "code": {code}})
	c := e.anon()
	c.loginForm("tom", e.staff["tom"])
	c.code("000000")
	if _, body := c.code("000001"); !strings.Contains(body, "Too many tries") {
		t.Errorf("second wrong code with 2 tries: no 'Too many tries'")
	}
	next, _ := totp.GenerateCode(secret, testNow.Add(30*time.Second))
	if resp, body := c.code(next); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "give your username and password again") {
		t.Errorf("a code after the tries ran out: status %d", resp.StatusCode)
	}
}
