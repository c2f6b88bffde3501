package notify

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/backupreport/backupreport/report/webhook"
	"github.com/backupreport/backupreport/store"
)

// TestWebhookIsRetriedAfter5xxNotAfter4xx posts to real HTTP receivers
// and reads what the delivery log kept.
func TestWebhookIsRetriedAfter5xxNotAfter4xx(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	receiver := func(answers ...int) (*httptest.Server, *atomic.Int32) {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := int(calls.Add(1))
			w.WriteHeader(answers[min(n, len(answers))-1])
		}))
		t.Cleanup(srv.Close)
		return srv, &calls
	}
	n := &Notifier{DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Backoff: Backoff{Attempts: 4, First: time.Millisecond},
		Client: &webhook.Client{Secret: []byte("k")}}
	ev := webhook.Event{Event: webhook.EventStateChanged, Customer: "acme", Server: "fs01", From: "ok", To: "failed"}

	busy, busyCalls := receiver(http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusOK)
	n.post(ctx, busy.URL+"/hook/SECRET", ev)
	refusing, refusingCalls := receiver(http.StatusUnauthorized)
	n.post(ctx, refusing.URL+"/hook/SECRET", ev)
	down, downCalls := receiver(http.StatusInternalServerError)
	n.post(ctx, down.URL+"/hook/SECRET", ev)

	if busyCalls.Load() != 3 || refusingCalls.Load() != 1 || downCalls.Load() != 4 {
		t.Errorf("calls: busy %d (want 3), refusing %d (want 1), down %d (want 4)", busyCalls.Load(), refusingCalls.Load(), downCalls.Load())
	}
	log, err := db.EmailLog(ctx, 10)
	if err != nil || len(log) != 3 {
		t.Fatalf("delivery log %+v, %v; want 3 entries", log, err)
	}
	// Newest first: down, refusing, busy.
	want := []struct {
		status   string
		attempts int
		errText  string
	}{
		{store.DeliveryFailed, 4, "500"},
		{store.DeliveryFailed, 1, "401"},
		{store.DeliverySent, 3, ""},
	}
	for i, w := range want {
		e := log[i]
		if e.Kind != store.KindWebhook || e.Status != w.status || e.Attempts != w.attempts || !strings.Contains(e.LastError, w.errText) {
			t.Errorf("entry %d = %+v; want %s after %d attempts, error with %q", i, e, w.status, w.attempts, w.errText)
		}
		if strings.Contains(strings.Join(e.Recipients, " "), "SECRET") || strings.Contains(e.LastError, "SECRET") {
			t.Errorf("entry %d names the URL's path: %v, %q", i, e.Recipients, e.LastError)
		}
	}
}
