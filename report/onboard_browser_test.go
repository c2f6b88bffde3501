package report_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/report"
	"github.com/backupreport/backupreport/server"
	"github.com/backupreport/backupreport/store"
)

// TestBrowserOnboardsACustomerFromNothing starts from an empty database
// with one technician: the onboarding form creates customer, server and
// key; the upload line copied from the page runs with real OpenSSH, which
// trusts the server only through the known_hosts line copied from the
// page (strict host key checking); plink runs its copied line, trusting
// the server only by its -hostkey argument; a refresh shows the verdict.
// Then the technician enrols a second factor and logs in with it.
func TestBrowserOnboardsACustomerFromNothing(t *testing.T) {
	chromium := need(t, "chromium")
	sshBin := need(t, "ssh")
	need(t, "plink")
	keygen := need(t, "ssh-keygen")
	puttygen := need(t, "puttygen")
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	db, err := store.Open(ctx, filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.AddUser(ctx, "test", store.User{Username: "tom", Role: store.RoleTech}, "tom's long password"); err != nil {
		t.Fatal(err)
	}

	// The customer's key pair, made on the customer's machine; the
	// technician pastes the public half. plink gets the same key as .ppk.
	keyFile := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "kanzlei-backup", "-f", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	ppk := filepath.Join(dir, "id.ppk")
	if out, err := exec.Command(puttygen, keyFile, "-O", "private", "-o", ppk).CombinedOutput(); err != nil {
		t.Fatalf("puttygen: %v\n%s", err, out)
	}
	pub, _ := os.ReadFile(keyFile + ".pub")
	reportFile, _ := filepath.Abs("../testdata/rsync/real-success/stats.out")

	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, _ := gossh.NewSignerFromKey(hostPriv)
	sshSrv := server.New(db, server.Config{HostSigners: []gossh.Signer{hostSigner}, Location: time.UTC, AutoRegister: false, Logger: quiet})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go sshSrv.Serve(ln)
	defer sshSrv.Shutdown(ctx)

	h, err := report.New(report.Config{DB: db, Location: time.UTC, Logger: quiet,
		HostKeys: []gossh.PublicKey{hostSigner.PublicKey()}, SSHPort: ln.Addr().(*net.TCPAddr).Port})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(h)
	defer web.Close()

	b := startBrowser(t, chromium, 90*time.Second)
	b.step("log in and open the onboarding form",
		chromedp.Navigate(web.URL+"/onboard"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "tom"),
		chromedp.SendKeys(chromedp.ID("password"), "tom's long password"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("onboard")),
	)
	navTops, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`Array.from(document.querySelectorAll("header > a, header nav > a, header nav > details > summary, header > form")).map(e => e.getBoundingClientRect().top)`))
	if err != nil {
		t.Fatal(err)
	}
	b.step("fill in the form",
		chromedp.SendKeys(chromedp.ID("customer"), "kanzlei"),
		chromedp.SendKeys(chromedp.ID("customer_name"), "Kanzlei Huber & Partner"),
		chromedp.SendKeys(chromedp.ID("server"), "dc01"),
		chromedp.SetValue(chromedp.ID("key"), string(pub)),
		chromedp.Click(chromedp.CSS("main details summary")),
		chromedp.SendKeys(chromedp.ID("keyfile"), keyFile),
		chromedp.SendKeys(chromedp.ID("reportfile"), reportFile),
		b.shot("onboard-01-form.png"),
		chromedp.Click(chromedp.ID("onboard")),
		chromedp.WaitVisible(chromedp.ID("upload-state")),
		b.shot("onboard-02-waiting.png"),
	)
	if len(navTops) < 8 {
		t.Errorf("navigation has %d entries, want the groups and links", len(navTops))
	}
	for _, top := range navTops {
		if d := top - navTops[0]; d > 12 || d < -12 {
			t.Errorf("navigation wraps at 1280 px: tops %v", navTops)
			break
		}
	}
	if s := b.text("#upload-state"); !strings.Contains(s, "waiting") {
		t.Errorf("before any upload the page says %q, want waiting", s)
	}
	if s := b.text("#created"); !strings.Contains(s, "customer kanzlei") || !strings.Contains(s, "server dc01") || !strings.Contains(s, "key SHA256:") {
		t.Errorf("banner %q does not name what was created", s)
	}
	sshLine, knownHosts, hostKeyArg := b.text("#line-ssh"), b.text("#known-hosts-0"), b.text("#hostkey-0")

	// OpenSSH: only the pasted known_hosts line makes the server known.
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, []byte(knownHosts+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ssh_config")
	os.WriteFile(cfg, []byte("Host *\n  StrictHostKeyChecking yes\n  UserKnownHostsFile "+kh+"\n  GlobalKnownHostsFile /dev/null\n  BatchMode yes\n"), 0o600)
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "ssh"), []byte("#!/bin/sh\nexec "+sshBin+" -F "+cfg+" \"$@\"\n"), 0o755)
	run := func(name, line string, env ...string) {
		t.Helper()
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append([]string{"PATH=" + bin + ":" + os.Getenv("PATH")}, env...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n$ %s\n%s", name, err, line, out)
		}
	}
	run("the copied ssh line", sshLine)

	// The server is known now: a wrong known_hosts line must make the same
	// line fail, or the check above proved nothing.
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := gossh.NewSignerFromKey(otherPriv)
	host, _, _ := strings.Cut(knownHosts, " ")
	os.WriteFile(kh, []byte(host+" "+string(gossh.MarshalAuthorizedKey(other.PublicKey()))), 0o600)
	if out, err := exec.Command("sh", "-c", "PATH="+bin+":$PATH "+sshLine).CombinedOutput(); err == nil {
		t.Errorf("the ssh line worked with another host key in known_hosts:\n%s", out)
	}

	b.step("see the verdict after a refresh",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("result-link")),
		b.shot("onboard-03-received.png"),
	)
	if s := b.text("#upload-state"); !strings.Contains(s, "OK") {
		t.Errorf("after the upload the page says %q, want OK", s)
	}

	// plink: its copied line (with the .ppk) and an empty host key cache;
	// -batch refuses an unknown host key, so only -hostkey lets it in.
	b.step("open the plink lines for a .ppk",
		chromedp.Navigate(web.URL+"/onboard/kanzlei/dc01?"+url.Values{"keyfile": {ppk}, "reportfile": {reportFile}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("line-plink")),
	)
	plinkLine := b.text("#line-plink")
	if !strings.Contains(plinkLine, hostKeyArg) {
		t.Errorf("plink line %q lacks %q", plinkLine, hostKeyArg)
	}
	home := t.TempDir()
	run("the copied plink line", plinkLine, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
	if cmd := exec.Command("sh", "-c", strings.Replace(plinkLine, hostKeyArg, "", 1)); true {
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("plink -batch connected without -hostkey:\n%s", out)
		}
	}
	sv, _ := db.ServerByName(ctx, "kanzlei", "dc01")
	if n, _ := db.CountResults(ctx, sv.ID); n != 2 {
		t.Errorf("results of kanzlei/dc01 = %d, want 2 (ssh and plink)", n)
	}

	b.step("open the management menu and the result",
		chromedp.Click(chromedp.CSS(`header details:nth-of-type(2) summary`)),
		chromedp.WaitVisible(chromedp.CSS(`header a[href="/customers"]`)),
		b.shot("nav-01-management-menu.png"),
		chromedp.Click(chromedp.ID("result-link")),
		chromedp.WaitVisible(chromedp.ID("action")),
	)

	// The second factor: enrol on the account page, log out, log in.
	b.step("enrol a second factor",
		chromedp.Navigate(web.URL+"/account"),
		chromedp.WaitVisible(chromedp.ID("totp-qr")),
		b.shot("totp-01-enrol.png"),
	)
	secret := b.text("#totp-secret")
	code, _ := totp.GenerateCode(strings.TrimSpace(secret), time.Now())
	b.step("confirm with a code",
		chromedp.SendKeys(chromedp.ID("totp-code"), code),
		chromedp.Click(chromedp.ID("enrol-totp")),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")),
		b.shot("totp-02-recovery-codes.png"),
	)
	recovery := strings.Fields(b.text("#recovery-codes"))
	b.step("log out and in with a recovery code",
		chromedp.Click(chromedp.CSS(`header form button`)),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "tom"),
		chromedp.SendKeys(chromedp.ID("password"), "tom's long password"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), "000000"),
		chromedp.Click(chromedp.ID("verify")),
		chromedp.WaitVisible(chromedp.CSS(".error")),
		b.shot("totp-03-code-wrong.png"),
		chromedp.SendKeys(chromedp.ID("code"), recovery[0]),
		chromedp.Click(chromedp.ID("verify")),
		chromedp.WaitVisible(chromedp.CSS("header nav")),
		chromedp.Navigate(web.URL+"/account"),
		chromedp.WaitVisible(chromedp.ID("totp-state")),
	)
	if s := b.text("#totp-state"); !strings.Contains(s, "9 recovery codes left") {
		t.Errorf("after a recovery code the account says %q", s)
	}
	t.Logf("screenshots in %s", b.art)
}
