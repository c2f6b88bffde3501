package server

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store"
)

// TestMemBudgetQueuesThenRefuses: uploads beyond the budget wait in line,
// get in as others give back, and are refused as busy after the wait; the
// bytes taken never pass the limit.
func TestMemBudgetQueuesThenRefuses(t *testing.T) {
	m := NewMetrics(nil)
	b := newMemBudget(10, time.Hour, m)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if n, waited, err := b.acquire(ctx, 4); n != 4 || waited || err != nil {
			t.Fatalf("acquire %d: %d, %v, %v; want 4 at once", i, n, waited, err)
		}
	}
	got := make(chan error, 1)
	go func() {
		_, _, err := b.acquire(ctx, 4)
		got <- err
	}()
	for m.UploadMemoryWaits.Value() == 0 {
		time.Sleep(time.Millisecond)
	}
	if used := b.inUse(); used != 8 {
		t.Errorf("in use while one waits: %d, want 8", used)
	}
	b.release(4)
	if err := <-got; err != nil {
		t.Fatalf("the waiting upload: %v, want it let in", err)
	}
	if used := b.inUse(); used != 8 {
		t.Errorf("in use: %d, want 8", used)
	}
	if n, _, err := newMemBudget(10, time.Hour, m).acquire(ctx, 100); n != 10 || err != nil {
		t.Errorf("an upload needing more than the whole budget took %d (%v), want all 10", n, err)
	}

	short := newMemBudget(10, 10*time.Millisecond, m)
	short.acquire(ctx, 10)
	if _, waited, err := short.acquire(ctx, 1); !waited || !errors.Is(err, errBusy) {
		t.Errorf("beyond the budget after the wait: %v, %v; want busy", waited, err)
	}
	if n := m.UploadMemoryRefused.Value(); n != 1 {
		t.Errorf("refusals counted: %v, want 1", n)
	}
	if used := short.inUse(); used != 10 {
		t.Errorf("a refused upload kept bytes: %d in use, want 10", used)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := short.acquire(cctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("a client gone while waiting: %v", err)
	}
}

// TestUploadBeyondTheBudgetIsRefusedAsBusy: with room for one upload, a
// second one waits while the first streams, then is refused with the
// busy message and exit status 1; the first is stored.
func TestUploadBeyondTheBudgetIsRefusedAsBusy(t *testing.T) {
	db, srv, client := testServer(t, Config{AutoRegister: true, UploadMemory: uploadHoldBase, UploadMemoryWait: 100 * time.Millisecond})
	first, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stdin, _ := first.StdinPipe()
	if err := first.Start("cat > /reports/acme/first.out"); err != nil {
		t.Fatal(err)
	}
	stdin.Write([]byte("sending incremental file list\n"))
	// Wait until the first upload has taken the budget.
	for srv.budget.inUse() == 0 {
		time.Sleep(time.Millisecond)
	}

	second, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	second.Stderr = &stderr
	second.Stdin = strings.NewReader("sending incremental file list\n")
	err = second.Run("cat > /reports/acme/second.out")
	if err == nil || !strings.Contains(stderr.String(), "the server is busy; nothing was stored") {
		t.Errorf("upload beyond the budget: %v, stderr %q; want refused as busy", err, stderr.String())
	}
	stdin.Close()
	if err := first.Wait(); err != nil {
		t.Errorf("the first upload: %v", err)
	}
	if logs := storedLogs(t, db, "first"); len(logs) != 1 {
		t.Errorf("first upload: %d results, want 1", len(logs))
	}
	if logs := storedLogs(t, db, "second"); logs != nil {
		t.Errorf("the refused upload stored %q", logs)
	}
}

// TestBigRandomUploadIsStoredInPiecesAndGivesBackItsBudget: random bytes
// over ssh are stored whole, in pieces, and the upload's share of the
// budget is given back once it is stored.
func TestBigRandomUploadIsStoredInPiecesAndGivesBackItsBudget(t *testing.T) {
	db, srv, client := testServer(t, Config{AutoRegister: true})
	in := make([]byte, 3*store.ChunkBytes+12345)
	rand.New(rand.NewSource(3)).Read(in)
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	sess.Stdin = bytes.NewReader(in)
	if err := sess.Run("cat > /reports/acme/rand.out"); err != nil {
		t.Fatalf("upload: %v", err)
	}
	logs := storedLogs(t, db, "rand")
	if len(logs) != 1 || logs[0] != string(in) {
		t.Fatalf("stored %d logs, want the %d random bytes whole", len(logs), len(in))
	}
	if used := srv.budget.inUse(); used != 0 {
		t.Errorf("%d bytes of the budget still taken after the upload", used)
	}
}
