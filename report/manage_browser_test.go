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

	"github.com/backupreport/backupreport/report"
	"github.com/backupreport/backupreport/server"
	"github.com/backupreport/backupreport/store"
)

// TestBrowserManagesACustomerAndExceptsALockedFile drives Debian's
// chromium as an admin: it adds a customer, a server and a key through the
// pages, receives a real report with a locked file over SSH from OpenSSH's
// client, sees the night fail, clicks "Except" on the error, sees the night
// turn ok (re-evaluated, with both verdicts shown) and finds the change in
// the audit log.
func TestBrowserManagesACustomerAndExceptsALockedFile(t *testing.T) {
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
	if _, err := db.AddUser(ctx, "test", store.User{Username: "alice", Role: store.RoleAdmin}, "alice's long password"); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "acme-fs01", "-f", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, _ := os.ReadFile(keyFile + ".pub")

	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, _ := gossh.NewSignerFromKey(hostPriv)
	sshSrv := server.New(db, server.Config{HostSigners: []gossh.Signer{hostSigner}, Location: time.UTC, Logger: quiet})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go sshSrv.Serve(ln)
	defer sshSrv.Shutdown(ctx)
	port := ln.Addr().(*net.TCPAddr).Port

	h, err := report.New(report.Config{DB: db, Location: time.UTC, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(h)
	defer web.Close()

	b := startBrowser(t, chromium, 120*time.Second)

	b.step("log in",
		chromedp.Navigate(web.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "alice's long password"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS(".summary")),
	)
	b.step("add a customer",
		chromedp.Navigate(web.URL+"/customers"),
		chromedp.WaitVisible(chromedp.ID("add-customer")),
		chromedp.SendKeys(chromedp.ID("slug"), "acme"),
		chromedp.SendKeys(chromedp.ID("cname"), "Acme Accounting"),
		chromedp.Click(chromedp.ID("add-customer")),
		chromedp.WaitVisible(chromedp.ID("add-server")), // the customer's page
	)
	b.step("add a server",
		chromedp.SendKeys(chromedp.ID("sname"), "fs01"),
		chromedp.Click(chromedp.ID("add-server")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/servers/acme/fs01"]`)),
		b.shot("11-customer.png"),
	)
	b.step("add the key, bound to the server",
		chromedp.Navigate(web.URL+"/keys"),
		chromedp.WaitVisible(chromedp.ID("add-key")),
		chromedp.SetValue(chromedp.ID("scope"), "acme/fs01"),
		chromedp.SendKeys(chromedp.ID("key"), strings.TrimSpace(string(pub))),
		chromedp.Click(chromedp.ID("add-key")),
		chromedp.WaitVisible(chromedp.CSS(`#keys td code`)),
		b.shot("12-keys.png"),
	)
	if row := b.text("#keys tbody tr"); !strings.Contains(row, "ssh-ed25519") || !strings.Contains(row, "fs01") || !strings.Contains(row, "web:alice") {
		t.Errorf("the keys table shows %q, want the ed25519 key for fs01 added by web:alice", row)
	}

	f, err := os.Open("../testdata/rsync/real-ssh-unreadable/stats.out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(sshBin, "-i", keyFile, "-p", strconv.Itoa(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "x@127.0.0.1", "cat > /reports/acme/fs01.out")
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("upload over ssh: %v\n%s", err, out)
	}

	b.step("open the failed night",
		chromedp.Navigate(web.URL+"/servers/acme/fs01"),
		chromedp.WaitVisible(chromedp.CSS(`tbody a[href^="/results/"]`)),
		chromedp.Click(chromedp.CSS(`tbody a[href^="/results/"]`)),
		chromedp.WaitVisible(chromedp.ID("file-errors")),
		b.shot("13-failed.png"),
	)
	if v := b.text("#verdict"); !strings.Contains(v, "FAILED") {
		t.Fatalf("verdict before the exception = %q, want FAILED", v)
	}
	if row := b.text("#file-errors tbody tr"); !strings.Contains(row, "archive.pst") {
		t.Errorf("the file error row is %q, want the locked archive.pst", row)
	}
	b.step("except the locked file in one click",
		chromedp.Click(chromedp.CSS(`#file-errors button.except`)),
		chromedp.WaitVisible(chromedp.ID("verdict-changes")),
		b.shot("14-excepted.png"),
	)
	if v := b.text("#verdict"); !strings.Contains(v, "OK with exceptions") {
		t.Errorf("verdict after the exception = %q, want OK with exceptions", v)
	}
	if c := b.text("#verdict-changes"); !strings.Contains(c, "FAILED") || !strings.Contains(c, "added by alice") {
		t.Errorf("verdict changes = %q, want the old FAILED verdict and the reason", c)
	}
	b.step("the nightly report counts it ok",
		chromedp.Navigate(web.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".summary")),
	)
	if s := b.text(".summary"); !strings.Contains(s, "1 ok with exceptions") || !strings.Contains(s, "0 failed") {
		t.Errorf("nightly summary = %q", s)
	}
	b.step("find it in the audit log",
		chromedp.Navigate(web.URL+"/audit"),
		chromedp.WaitVisible(chromedp.ID("audit")),
		b.shot("15-audit.png"),
	)
	audit := b.text("#audit")
	for _, want := range []string{"exception.add", "results.reevaluate", "key.add", "server.add", "customer.add", "web:alice"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}
	t.Logf("screenshots in %s", b.art)
}
