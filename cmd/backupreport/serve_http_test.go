package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestStartHTTPServesAndPrintsTheFirstRunLink(t *testing.T) {
	ctx := context.Background()
	db, err := openDB(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stdout bytes.Buffer
	a := &app{stdout: &stdout, stderr: io.Discard, getenv: func(string) string { return "" }}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o := addHTTPFlags(fs)
	fs.Parse([]string{"--http-addr", "127.0.0.1:0"})
	stop, err := startHTTP(ctx, a, db, slog.New(slog.NewTextHandler(io.Discard, nil)), time.UTC, prometheus.NewRegistry(), o, nil)
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
