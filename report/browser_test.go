package report_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/keys"
	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/report"
	"github.com/backupreport/backupreport/server"
	"github.com/backupreport/backupreport/store"
)

// need finds a program the test drives, or skips; under CI=true a missing
// program fails the test instead, so CI cannot pass by skipping.
func need(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (run scripts/install-test-deps.sh)", name)
		}
		t.Skipf("%s is not installed; run scripts/install-test-deps.sh", name)
	}
	return p
}

// artifactDir is where screenshots go: testdata/artifacts (git-ignored).
func artifactDir(t *testing.T) string {
	dir, err := filepath.Abs("../testdata/artifacts")
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		dir = t.TempDir()
	}
	return dir
}

// TestBrowserFollowsAFailureToItsExplanation uploads real rsync reports
// over SSH with OpenSSH's client, then drives Debian's chromium through
// the pages as a member of staff would.
func TestBrowserFollowsAFailureToItsExplanation(t *testing.T) {
	chromium := need(t, "chromium")
	sshBin := need(t, "ssh")
	keygen := need(t, "ssh-keygen")
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	db, err := store.Open(ctx, filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.AddCustomer(ctx, "test", store.Customer{Slug: "acme", Name: "Acme Accounting"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddUser(ctx, "test", store.User{Username: "carol", Role: store.RoleCSR}, "carol's long password"); err != nil {
		t.Fatal(err)
	}

	// The customer's key, registered as "backupreport key add" would.
	keyFile := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "acme-backup", "-f", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, _ := os.ReadFile(keyFile + ".pub")
	_, info, err := keys.ParsePublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddKey(ctx, "test", store.Key{Customer: "acme", Fingerprint: info.Fingerprint, Type: info.Type, Bits: info.Bits,
		PublicKey: info.Authorized, Comment: info.Comment}); err != nil {
		t.Fatal(err)
	}

	// The SSH endpoint, as serve runs it.
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, _ := gossh.NewSignerFromKey(hostPriv)
	sshSrv := server.New(db, server.Config{HostSigners: []gossh.Signer{hostSigner}, Location: time.UTC, AutoRegister: true, Logger: quiet})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go sshSrv.Serve(ln)
	defer sshSrv.Shutdown(ctx)
	port := ln.Addr().(*net.TCPAddr).Port

	upload := func(server, file string) {
		t.Helper()
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd := exec.Command(sshBin, "-i", keyFile, "-p", strconv.Itoa(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
			"-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "x@127.0.0.1", "cat > /reports/acme/"+server+".out")
		cmd.Stdin = f
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("upload %s: %v\n%s", file, err, out)
		}
	}
	upload("exch01", "../testdata/rsync/hand-cygwin-ssh-code23/stats.out")
	upload("fs01", "../testdata/rsync/real-success/stats.out")

	h, err := report.New(report.Config{DB: db, Location: time.UTC, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(h)
	defer web.Close()

	b := startBrowser(t, chromium, 90*time.Second)
	b.step("log in",
		chromedp.Navigate(web.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("username")), // sent to the login page
		chromedp.SendKeys(chromedp.ID("username"), "carol"),
		chromedp.SendKeys(chromedp.ID("password"), "carol's long password"),
		b.shot("01-login.png"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS(".summary")),
		b.shot("02-nightly.png"),
	)
	summary, status := b.text(".summary"), b.text("tbody tr:first-child td:first-child")
	b.step("open the failed server",
		chromedp.Click(chromedp.CSS(`a[href="/servers/acme/exch01"]`)),
		chromedp.WaitVisible(chromedp.CSS("svg")),
		b.shot("03-server.png"),
		chromedp.Click(chromedp.CSS(`tbody a[href^="/results/"]`)),
		chromedp.WaitVisible(chromedp.ID("action")),
		b.shot("04-result.png"),
	)
	title, err := chromedp.Run(b.ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	meaning, action, errLine := b.text("#meaning"), b.text("#action"), b.text("pre.log span.err")
	errLines, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("pre.log span.err").length`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", b.art)
	if !strings.Contains(summary, "1 failed") || !strings.Contains(summary, "1 ok") {
		t.Errorf("summary line = %q, want 1 ok and 1 failed", summary)
	}
	if !strings.Contains(status, "FAILED") {
		t.Errorf("first row status = %q, want the failed server first", status)
	}
	want := parser.LookupCode(23)
	if strings.TrimSpace(meaning) != want.Meaning || strings.TrimSpace(action) != want.Action {
		t.Errorf("result page explains %q / %q, want %q / %q", meaning, action, want.Meaning, want.Action)
	}
	if !strings.Contains(errLine, `send_files failed to open "/cygdrive/E/shares/Finance/Company.qbw"`) || errLines != 3 {
		t.Errorf("highlighted error lines: %d, first %q; want 3, the first Company.qbw", errLines, errLine)
	}
	if !strings.Contains(title, "acme/exch01") {
		t.Errorf("title %q", title)
	}
}
