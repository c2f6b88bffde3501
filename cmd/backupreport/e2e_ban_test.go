package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBanAfterFailedLogins drives real OpenSSH from 127.0.0.1: an unknown
// key fails until the address is banned; then even a registered key is
// disconnected before the banner. The ban survives a restart of serve; the
// web page lifts it at once, and "ban lift" within --ban-reload.
func TestBanAfterFailedLogins(t *testing.T) {
	httpPort := freeLocalPort(t)
	flags := []string{"--ban-threshold", "4", "--ban-reload", "1h", "--http-addr", "127.0.0.1:" + httpPort}
	in := startServe(t, flags...)
	in.mustCLI("customer", "add", "acme")
	good := in.newKey("good", "ed25519", 0)
	in.addKey("acme", good)
	stranger := in.newKey("stranger", "ed25519", 0)
	rep := statsOut(t, "real-success")
	const cmd = "cat > /reports/acme/exch01.out"
	if r := in.upload(good, cmd, rep); r.code != 0 {
		t.Fatalf("the good key before any ban: exit %d\n%s", r.code, r.stderr)
	}

	banned := func(when string) {
		t.Helper()
		if r := in.upload(stranger, cmd, rep); r.code != 255 || !strings.Contains(r.stderr, "Permission denied") {
			t.Fatalf("%s: stranger login: exit %d, stderr %q; want a refusal", when, r.code, r.stderr)
		}
		// The second refused key scores 4, and its connection is closed.
		if r := in.upload(stranger, cmd, rep); r.code != 255 {
			t.Fatalf("%s: second stranger login: exit %d, stderr %q; want a refusal", when, r.code, r.stderr)
		}
		refusedAtOnce(t, in, good, when)
	}
	banned("first run")
	if !regexp.MustCompile(`msg="ssh address banned" remote_addr=127.0.0.1 score=4 duration=15m0s level=1`).MatchString(in.logs.String()) {
		t.Errorf("no ban line in the log:\n%s", in.logs.String())
	}
	var bans []struct {
		Address string `json:"address"`
		Level   int    `json:"level"`
	}
	if err := json.Unmarshal([]byte(in.mustCLI("ban", "list", "--json")), &bans); err != nil || len(bans) != 1 || bans[0].Address != "127.0.0.1" {
		t.Fatalf("ban list --json = %+v (%v), want 127.0.0.1", bans, err)
	}

	// A restart keeps the ban.
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	in.start(flags...)
	refusedAtOnce(t, in, good, "after a restart")

	// The web page lifts it in the running server at once (the reload
	// is an hour away).
	web := webAdmin(t, in, "http://127.0.0.1:"+httpPort)
	if resp := web.post("/bans/lift", url.Values{"address": {"127.0.0.1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /bans/lift: %d", resp.StatusCode)
	}
	if r := in.upload(good, cmd, rep); r.code != 0 {
		t.Fatalf("the good key right after the web lift: exit %d\n%s", r.code, r.stderr)
	}

	// Banned again, then lifted with the CLI: a serve reloading every
	// 200ms follows within moments.
	banned("after the web lift")
	in.stop()
	in.start("--ban-threshold", "4", "--ban-reload", "200ms", "--http-addr", "")
	refusedAtOnce(t, in, good, "after the second restart")
	if out := in.mustCLI("ban", "lift", "127.0.0.1"); !strings.Contains(out, "lifted the ban of 127.0.0.1") {
		t.Errorf("ban lift said %q", out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := in.upload(good, cmd, rep)
		if r.code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the good key is still refused 20s after 'ban lift': %s", r.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := in.cli("ban", "lift", "127.0.0.1"); r.code != 1 || !strings.Contains(r.stderr, "127.0.0.1 is not banned") {
		t.Errorf("lifting twice: exit %d, %q", r.code, r.stderr)
	}
}

// refusedAtOnce checks that a registered key is disconnected before the
// SSH banner: the address is refused at accept.
func refusedAtOnce(t *testing.T, in *instance, key, when string) {
	t.Helper()
	r := in.upload(key, "cat > /reports/acme/exch01.out", []byte("x"))
	if r.code != 255 || !strings.Contains(r.stderr, "kex_exchange_identification") {
		t.Fatalf("%s: the good key from a banned address: exit %d, stderr %q; want a disconnect before the banner", when, r.code, r.stderr)
	}
}

// freeLocalPort returns a TCP port free on 127.0.0.1 a moment ago.
func freeLocalPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// webBrowser is a logged-in browser on an instance's web interface.
type webBrowser struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

var webCSRFField = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

// webAdmin adds an admin (cliArgs go to "user add", e.g. --database) and
// logs in as it.
func webAdmin(t *testing.T, in *instance, base string, cliArgs ...string) *webBrowser {
	t.Helper()
	pw := filepath.Join(in.dir, "admin.pw")
	if err := os.WriteFile(pw, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in.mustCLI(append([]string{"user", "add", "root", "--role", "admin", "--password-file", pw}, cliArgs...)...)
	jar, _ := cookiejar.New(nil)
	c := &webBrowser{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	c.csrf = c.field("/login")
	if resp := c.post("/login", url.Values{"username": {"root"}, "password": {"correct horse battery staple"}, "next": {"/"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	c.csrf = c.field("/bans")
	return c
}

// field GETs a page and returns its CSRF token.
func (c *webBrowser) field(path string) string {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := webCSRFField.FindSubmatch(b)
	if m == nil {
		c.t.Fatalf("GET %s: %d, no CSRF field\n%s", path, resp.StatusCode, b)
	}
	return string(m[1])
}

func (c *webBrowser) post(path string, form url.Values) *http.Response {
	c.t.Helper()
	form.Set("csrf", c.csrf)
	resp, err := c.http.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
