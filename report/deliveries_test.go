package report

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestDeliveriesShowEachAttemptAndOutcome: the admin page lists emails and
// webhooks with their attempts, outcome and last error, escaped; others get 403.
func TestDeliveriesShowEachAttemptAndOutcome(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, err := e.db.StartDelivery(ctx, "daily", []string{"ops@example.com"}, "Backups: 2 failed <b>")
	if err != nil {
		t.Fatal(err)
	}
	e.db.RecordAttempt(ctx, id, errors.New("550 mailbox unavailable"), false)
	e.db.RecordAttempt(ctx, id, errors.New("550 mailbox unavailable"), true)
	ok, _ := e.db.StartDelivery(ctx, "webhook", []string{"https://psa.example.com/hook"}, "acme/exch01 ok -> failed")
	e.db.RecordAttempt(ctx, ok, nil, true)

	resp, body := e.login("alice").get("/deliveries")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin: status %d", resp.StatusCode)
	}
	for _, want := range []string{"ops@example.com", "Backups: 2 failed &lt;b&gt;", "✖ failed", "550 mailbox unavailable", "✔ sent", "webhook"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "failed <b>") {
		t.Errorf("a subject is not escaped")
	}
	for _, who := range []string{"tom", "carol"} {
		if resp, _ := e.login(who).get("/deliveries"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", who, resp.StatusCode)
		}
	}
}
