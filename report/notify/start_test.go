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
	"github.com/backupreport/backupreport/store/pgtest"
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

// Two nodes on one PostgreSQL database: one leads the schedule and sends
// the day's report while the other waits; when the first stops, the other
// takes over, runs the missing check, and does not send the report again.
// (A leader whose database session dies is store's TestOneNodeLeadsOnPostgres.)
func TestLeaderStopsAndAnotherTakesOver(t *testing.T) {
	dsn := pgtest.Start(t)
	var logs, outs [2]syncBuffer
	var cancels [2]context.CancelFunc
	var stops [2]func(context.Context)
	at := time.Now().UTC().Add(-10 * time.Minute)
	for i := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cancels[i] = cancel
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		log := slog.New(slog.NewTextHandler(&logs[i], nil))
		m := &Mailer{DB: db, Log: log, Location: time.UTC, Team: []string{"ops@example.com"}, DryRun: true, Out: &outs[i]}
		stops[i] = StartLed(ctx, Config{DB: db, Log: log, Location: time.UTC, CheckAt: Clock{at.Hour(), at.Minute()},
			ReportAt: Clock{at.Hour(), at.Minute()}, Reports: []string{store.ReportDaily}, Mailer: m, Node: fmt.Sprintf("node%d", i),
			LeadRetry: 100 * time.Millisecond})
		if i == 0 { // node0 leads first
			waitFor(t, func() bool { return outs[0].Len() > 0 }, logs[0].String)
		}
	}
	time.Sleep(500 * time.Millisecond) // five of node1's tries
	if strings.Contains(logs[1].String(), "runs the schedule") {
		t.Fatalf("both nodes run the schedule:\n%s", logs[1].String())
	}
	cancels[0]()
	stops[0](context.Background())
	waitFor(t, func() bool { return strings.Contains(logs[1].String(), "failure report already sent today") },
		func() string { return logs[0].String() + "\n" + logs[1].String() })
	cancels[1]()
	stops[1](context.Background())
	if !strings.Contains(logs[1].String(), "this node runs the schedule") || !strings.Contains(logs[1].String(), "missing check done") {
		t.Errorf("node1 did not take over and run the check:\n%s", logs[1].String())
	}
	if sent := strings.Count(outs[0].String()+outs[1].String(), "Subject:"); sent != 1 {
		t.Errorf("the daily report went out %d times, want once", sent)
	}
}

func waitFor(t *testing.T, ok func() bool, logs func() string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out; logs:\n%s", logs())
		}
	}
}
