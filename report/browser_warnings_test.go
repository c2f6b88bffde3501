package report_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/report"
	"github.com/backupreport/backupreport/store"
)

// TestBrowserAcknowledgesAWarning: after ten ordinary nights, a real rsync
// run deleted an unreadable folder's backup. A CSR sees the warning in the
// nightly report, follows it to its explanation and acknowledges it in
// chromium; the report then shows it acknowledged, beside the size drop
// still open.
func TestBrowserAcknowledgesAWarning(t *testing.T) {
	chromium := need(t, "chromium")
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.AddCustomer(ctx, "test", store.Customer{Slug: "acme"})
	if _, err := db.AddUser(ctx, "test", store.User{Username: "carol", Role: store.RoleCSR}, "carol's long password"); err != nil {
		t.Fatal(err)
	}
	srv, err := db.AddServer(ctx, "test", "acme", "fs01", false)
	if err != nil {
		t.Fatal(err)
	}
	// What the upload path does: judged against the server's normal.
	save := func(log []byte, at time.Time) {
		t.Helper()
		r, err := parser.Parse(strings.NewReader(string(log)))
		if err != nil {
			t.Fatal(err)
		}
		night := store.NightOf(at, time.UTC)
		b, err := db.Baseline(ctx, srv.ID, night)
		if err != nil {
			t.Fatal(err)
		}
		parser.Judge(r, parser.Facts{End: parser.EndComplete, Baseline: b}, nil)
		if _, err := db.SaveUpload(ctx, store.Upload{ServerID: srv.ID, ReceivedAt: at, Night: night, Source: store.SourceUpload,
			Result: r, Baseline: b, Log: store.CompressLog(log)}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	for d := 10; d >= 1; d-- {
		save([]byte(fmt.Sprintf("sending incremental file list\ndocs/a.txt\n\nsent 900 bytes  received 80 bytes  900.00 bytes/sec\ntotal size is %d  speedup is 60.00\n", 60000+d)),
			now.Add(-time.Duration(d)*24*time.Hour))
	}
	wiped, err := os.ReadFile("../testdata/rsync/real-ssh-unreadable-delete/stats.out")
	if err != nil {
		t.Fatal(err)
	}
	save(wiped, now.Add(-time.Hour))

	h, err := report.New(report.Config{DB: db, Location: time.UTC, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(h)
	defer web.Close()

	b := startBrowser(t, chromium, 90*time.Second)
	b.step("log in and open the warning",
		chromedp.Navigate(web.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "carol"),
		chromedp.SendKeys(chromedp.ID("password"), "carol's long password"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS(".summary")),
		b.shot("20-nightly-warnings.png"),
	)
	summary := b.text(".summary")
	b.step("follow the warning",
		chromedp.Click(chromedp.CSS(`a.warn[href$="#warn-mass_deletion"]`)),
		chromedp.WaitVisible(chromedp.ID("warn-mass_deletion")),
		b.shot("21-result-warning.png"),
	)
	explained := b.text("#warn-mass_deletion")
	b.step("acknowledge it",
		chromedp.SendKeys(chromedp.CSS(`#warn-mass_deletion textarea[name="note"]`), "proj2 moved to the archive server on purpose"),
		chromedp.Click(chromedp.CSS(`#warn-mass_deletion button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#warn-mass_deletion .ack`)),
		b.shot("22-acknowledged.png"),
	)
	ack := b.text("#warn-mass_deletion .ack")
	b.step("back to the report", chromedp.Navigate(web.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".summary")))
	acked, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('a.warn.acked[href$="#warn-mass_deletion"]').length`))
	if err != nil {
		t.Fatal(err)
	}
	open, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('a.warn:not(.acked)[href$="#warn-size_drop"]').length`))
	if err != nil {
		t.Fatal(err)
	}

	if !strings.Contains(summary, "1 with warnings") {
		t.Errorf("summary %q, want 1 with warnings", summary)
	}
	var texts parser.WarningTable
	info := texts.Lookup(parser.WarningMassDeletion)
	for _, want := range []string{"7 of 7 deletions", info.Meaning, info.Action} {
		if !strings.Contains(explained, want) {
			t.Errorf("the warning's explanation lacks %q:\n%s", want, explained)
		}
	}
	if !strings.Contains(ack, "carol") || !strings.Contains(ack, "proj2 moved to the archive server on purpose") {
		t.Errorf("acknowledgement shows %q", ack)
	}
	if acked != 1 || open != 1 {
		t.Errorf("after acknowledging mass_deletion: %d shown acknowledged, %d size_drop open; want 1 and 1", acked, open)
	}
}
