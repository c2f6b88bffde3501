package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store/metrics"
)

func TestStartHTTPServesAndPrintsTheFirstRunLink(t *testing.T) {
	ctx := context.Background()
	db, err := openData(ctx, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stdout bytes.Buffer
	a := &app{stdout: &stdout, stderr: io.Discard, getenv: func(string) string { return "" }}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o := addHTTPFlags(fs)
	fs.Parse([]string{"--http-addr", "127.0.0.1:0"})
	stop, err := startHTTP(ctx, a, db, slog.New(slog.NewTextHandler(io.Discard, nil)), time.UTC, metrics.NewRegistry(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop(ctx)
	m := regexp.MustCompile(`http listening on (\S+)`).FindStringSubmatch(stdout.String())
	link := regexp.MustCompile(`http://\S+/setup/[0-9a-f]{64}`).FindString(stdout.String())
	if m == nil || link == "" {
		t.Fatalf("stdout lacks the address or the first-run link:\n%s", stdout.String())
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct {
		url  string
		want int
	}{
		{"http://" + m[1] + "/healthz", 200},
		{"http://" + m[1] + "/", http.StatusSeeOther},
		{"http://" + m[1] + "/api/v1/status", http.StatusUnauthorized},
		{"http://" + m[1] + "/metrics", http.StatusUnauthorized},
		{link, 200},
	} {
		resp, err := client.Get(c.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET %s: %d, want %d", c.url, resp.StatusCode, c.want)
		}
	}
}

func TestTrustedProxyFlagAndHSTSFromServe(t *testing.T) {
	ctx := context.Background()
	start := func(t *testing.T, env map[string]string, args ...string) (string, *metrics.Registry) {
		t.Helper()
		db, err := openData(ctx, t.TempDir(), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		var stdout bytes.Buffer
		a := &app{stdout: &stdout, stderr: io.Discard, getenv: func(k string) string { return env[k] }}
		fs := a.newFlags("serve", "", "")
		o := addHTTPFlags(fs)
		if _, code := a.parseFlags(fs, append([]string{"--http-addr", "127.0.0.1:0"}, args...)); code >= 0 {
			t.Fatalf("flags %v: exit %d", args, code)
		}
		reg := metrics.NewRegistry()
		stop, err := startHTTP(ctx, a, db, slog.New(slog.NewTextHandler(io.Discard, nil)), time.UTC, reg, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stop(ctx) })
		m := regexp.MustCompile(`http listening on (\S+)`).FindStringSubmatch(stdout.String())
		if m == nil {
			t.Fatalf("no address in %q", stdout.String())
		}
		return "http://" + m[1], reg
	}
	hsts := func(t *testing.T, base string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/healthz", nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Strict-Transport-Security")
	}
	t.Run("no trusted proxy: X-Forwarded-Proto is ignored", func(t *testing.T) {
		base, reg := start(t, nil)
		if got := hsts(t, base); got != "" {
			t.Errorf("Strict-Transport-Security %q from an untrusted peer", got)
		}
		var names []string
		for _, mf := range reg.Gather() {
			names = append(names, mf.Name)
		}
		if !strings.Contains(strings.Join(names, " "), "backupreport_web_login_throttled_total") {
			t.Errorf("the web metrics are not in serve's registry: %v", names)
		}
	})
	t.Run("--trusted-proxy from the environment, comma-separated", func(t *testing.T) {
		base, _ := start(t, map[string]string{"BACKUPREPORT_TRUSTED_PROXY": "10.0.0.0/8, 127.0.0.1"})
		if got := hsts(t, base); got != "max-age=31536000" {
			t.Errorf("Strict-Transport-Security %q, want max-age=31536000", got)
		}
	})
	t.Run("--hsts-max-age 0 turns it off", func(t *testing.T) {
		base, _ := start(t, nil, "--trusted-proxy", "127.0.0.0/8", "--hsts-max-age", "0")
		if got := hsts(t, base); got != "" {
			t.Errorf("Strict-Transport-Security %q with --hsts-max-age 0", got)
		}
	})
}

func TestWebLimitFlagsAreChecked(t *testing.T) {
	for _, args := range [][]string{
		{"--trusted-proxy", "proxy.example"},
		{"--trusted-proxy", "10.0.0.0/33"},
		{"--login-max-delay", "1s", "--login-delay", "2s"},
		{"--login-tracked", "0"},
		{"--login-pair-failures", "-1"},
	} {
		out, code := cliRun(t, t.TempDir(), append([]string{"serve", "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, args...)...)
		if code == exitOK {
			t.Errorf("serve %v: exit 0, want a refusal\n%s", args, out)
		}
	}
}
