package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/report/webhook"
	"github.com/backupreport/backupreport/store"
)

// TestStartChecksPostsAndMaintainsAtStartUp starts the whole schedule on a
// real database: at start-up the missing check runs, a pending state
// change is posted to the webhook, the storage job runs once, and the
// returned function waits for all of them.
func TestStartChecksPostsAndMaintainsAtStartUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	db.AddCustomer(ctx, "t", store.Customer{Slug: "acme"})
	save := func(name string, res parser.Result) {
		t.Helper()
		srv, err := db.AddServer(ctx, "t", "acme", name, false)
		if err != nil {
			t.Fatal(err)
		}
		at := now.Add(-time.Hour)
		if _, err := db.SaveUpload(ctx, store.Upload{ServerID: srv.ID, ReceivedAt: at, Night: store.NightOf(at, time.UTC),
			Source: store.SourceUpload, Result: &res}); err != nil {
			t.Fatal(err)
		}
	}
	// The first call only stores the states, without announcing them.
	save("ok01", parser.Result{Code: 0, Status: parser.StatusOK})
	if _, err := db.TakeStateChanges(ctx, now); err != nil {
		t.Fatal(err)
	}
	save("fs01", parser.Result{Code: 23, Status: parser.StatusFailed})
	var mu sync.Mutex
	var got []webhook.Event
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev webhook.Event
		json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}))
	defer hook.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var maintained atomic.Int32
	stop := Start(ctx, Config{DB: db, Log: log, Location: time.UTC, CheckAt: Clock{7, 0}, ReportAt: Clock{7, 15},
		Notifier: &Notifier{DB: db, Log: log, URLs: []string{hook.URL}, Client: &webhook.Client{Secret: []byte("k")}, Backoff: Backoff{Attempts: 1}},
		Maintain: func(context.Context, time.Time) { maintained.Add(1) }, MaintainEvery: time.Hour})
	// The start-up work is done once the delivery log holds the post.
	deadline := time.Now().Add(10 * time.Second)
	for {
		log, _ := db.EmailLog(ctx, 10)
		if len(log) == 1 && log[0].Status == store.DeliverySent && maintained.Load() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: delivery log %+v, storage job ran %d times", log, maintained.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	stop(wctx)
	if wctx.Err() != nil {
		t.Error("stop did not return before its deadline")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Customer != "acme" || got[0].Server != "fs01" || got[0].To != "failed" || got[0].Code != 23 {
		t.Errorf("webhook got %+v, want one acme/fs01 change to failed with code 23", got)
	}
}

// Two nodes on one database start their schedule just after the report
// time (one took over from another): the daily report goes out once.
func TestTwoNodesSendTheReportOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	at := time.Now().UTC().Add(-10 * time.Minute)
	var outs [2]syncBuffer
	var stops []func(context.Context)
	for i := range outs {
		m := &Mailer{DB: db, Log: log, Location: time.UTC, Team: []string{"ops@example.com"}, DryRun: true, Out: &outs[i]}
		stops = append(stops, Start(ctx, Config{DB: db, Log: log, Location: time.UTC, CheckAt: Clock{at.Hour(), at.Minute()},
			ReportAt: Clock{at.Hour(), at.Minute()}, Reports: []string{store.ReportDaily}, Mailer: m, Node: fmt.Sprintf("node%d", i)}))
	}
	deadline := time.Now().Add(10 * time.Second)
	for outs[0].Len()+outs[1].Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	for _, stop := range stops {
		stop(context.Background())
	}
	sent := strings.Count(outs[0].String(), "Subject:") + strings.Count(outs[1].String(), "Subject:")
	if sent != 1 {
		t.Errorf("the daily report went out %d times, want once:\n%s\n%s", sent, outs[0].String(), outs[1].String())
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) Len() int       { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Len() }
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
