package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/metrics"
)

// seedLogs makes a database with customer acme, server fs01 and one
// stored result with a raw log of about 4 KB per time in at.
func seedLogs(t *testing.T, at ...time.Time) (*store.DB, store.Server) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.AddCustomer(ctx, "t", store.Customer{Slug: "acme"})
	srv, err := db.AddServer(ctx, "t", "acme", "fs01", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range at {
		b := make([]byte, 2000)
		rand.Read(b)
		var sb strings.Builder
		for h := hex.EncodeToString(b); len(h) > 0; h = h[min(64, len(h)):] {
			sb.WriteString(h[:min(64, len(h))] + "\n")
		}
		sb.WriteString("sent 1,234 bytes  received 56 bytes  2,580.00 bytes/sec\ntotal size is 9,876  speedup is 7.66\n")
		if _, err := db.SaveUpload(ctx, store.Upload{ServerID: srv.ID, ReceivedAt: a, Night: store.NightOf(a, time.UTC), Source: store.SourceUpload,
			Result: &parser.Result{Status: parser.StatusOK}, Log: store.CompressLog([]byte(sb.String()))}); err != nil {
			t.Fatal(err)
		}
	}
	return db, srv
}

func TestStorageJobAppliesRetentionAndQuotasAndCountsThem(t *testing.T) {
	now := time.Date(2026, 3, 20, 8, 0, 0, 0, time.UTC)
	var at []time.Time
	for i := 0; i < 6; i++ { // 500, 400 and 2..5 days old
		at = append(at, now.AddDate(0, 0, -[]int{500, 401, 5, 4, 3, 2}[i]))
	}
	db, srv := seedLogs(t, at...)
	u, _ := db.LogUsage(context.Background(), srv.CustomerID)
	reg := metrics.NewRegistry()
	m := NewStorageMetrics(reg)
	j := &StorageJob{DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: m, Quota: u.StoredBytes / 3, RetentionDays: 400,
		Opts: store.PruneOptions{Pause: -1}}
	j.Run(context.Background(), now)
	after, _ := db.LogUsage(context.Background(), srv.CustomerID)
	if after.Logs != 2 || after.StoredBytes > u.StoredBytes/3 {
		t.Errorf("after the job: %+v, want the 2 newest logs within a third of %d bytes", after, u.StoredBytes)
	}
	if got := m.LogsPruned.WithLabelValues(store.PruneRetention).Value(); got != 2 {
		t.Errorf("retention counted %v logs, want 2", got)
	}
	if got := m.LogsPruned.WithLabelValues(store.PruneQuota).Value(); got != 2 {
		t.Errorf("quota counted %v logs, want 2", got)
	}
	if got := m.BytesPruned.WithLabelValues(store.PruneQuota).Value(); got <= 0 {
		t.Errorf("quota counted %v bytes", got)
	}
}
