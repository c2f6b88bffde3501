package report

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store"
)

// BenchmarkPages seeds a large database (1,000 servers × 1 year by
// default; 10,000 servers × 3 years, about 11 million results, with
// BACKUPREPORT_BENCH_BIG=1) and measures the nightly report and a server's
// history page as a browser gets them. It prints the query plans. Seeding
// the big database takes minutes and a few GB; the numbers are reported,
// never asserted.
//
//	BACKUPREPORT_BENCH_BIG=1 go test ./report -run '^$' -bench Pages -benchtime 20x -timeout 2h
func BenchmarkPages(b *testing.B) {
	servers, nights := 1000, 365
	if os.Getenv("BACKUPREPORT_BENCH_BIG") == "1" {
		servers, nights = 10000, 3*365
	}
	ctx := context.Background()
	dir := os.Getenv("BACKUPREPORT_BENCH_DIR") // reuse a seeded database between runs
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("bench-%d-%d.db", servers, nights))
	_, statErr := os.Stat(path)
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 3, 20, 8, 30, 0, 0, time.UTC)
	if statErr != nil {
		start := time.Now()
		db.Now = func() time.Time { return now.AddDate(0, 0, -nights-1) }
		if _, err := db.AddCustomer(ctx, "bench", store.Customer{Slug: "bench", Demo: true}); err != nil {
			b.Fatal(err)
		}
		ids, err := db.BulkServers(ctx, "bench", "srv", servers)
		if err != nil {
			b.Fatal(err)
		}
		// One transaction per chunk of servers keeps the WAL bounded.
		const chunk = 500
		total := 0
		for lo := 0; lo < len(ids); lo += chunk {
			hi := min(lo+chunk, len(ids))
			si, n := lo, 0
			night := now.AddDate(0, 0, -nights)
			cnt, err := db.BulkSeed(ctx, func(r *store.SeedRow) bool {
				for {
					if si >= hi {
						return false
					}
					if n >= nights {
						si, n = si+1, 0
						continue
					}
					d := night.AddDate(0, 0, n)
					n++
					h := uint64(ids[si])*2654435761 + uint64(n)*40503
					if h%50 == 0 { // a missing night
						continue
					}
					*r = store.SeedRow{ServerID: ids[si], ReceivedAt: d.Add(14*time.Hour + time.Duration(h%7200)*time.Second), Night: store.Night(d.Format(time.DateOnly)),
						Status: "ok", TotalSize: int64(1e10 + h%1e9), SentBytes: int64(h % 1e8)}
					if h%17 == 0 {
						r.Status, r.Code, r.FileErrors = "failed", 23, int(h%5+1)
					}
					return true
				}
			})
			if err != nil {
				b.Fatal(err)
			}
			total += cnt
		}
		fmt.Printf("seeded %d servers, %d results in %v\n", servers, total, time.Since(start).Round(time.Second))
	}
	db.Now = func() time.Time { return now }
	h, err := New(Config{DB: db, Location: time.UTC, Now: func() time.Time { return now }, Logger: quietLog})
	if err != nil {
		b.Fatal(err)
	}
	u, err := db.UserByName(ctx, "bench")
	if err != nil {
		if u, err = db.AddUser(ctx, "bench", store.User{Username: "bench", Role: store.RoleCSR}, "bench password"); err != nil {
			b.Fatal(err)
		}
	}
	tok, _, err := db.CreateSession(ctx, u.ID, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	get := func(path string) (time.Duration, int) {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: tok})
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != 200 {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
		}
		return d, rec.Body.Len()
	}
	for _, q := range []struct{ name, sql string }{{"nightly (Status)", store.QueryStatus}, {"history page", store.QueryHistory}, {"calendar and trends", store.QueryNights}, {"historical report", store.QueryNightCounts}} {
		plan, err := db.Explain(ctx, q.sql, argsFor(q.sql)...)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Printf("query plan, %s:\n%s\n", q.name, plan)
	}
	server := fmt.Sprintf("/servers/bench/srv-%05d", servers/2)
	for _, p := range []struct{ name, path string }{{"nightly", "/"}, {"server-history", server}, {"history-30-nights", "/history"}, {"api-status", "/api/v1/status"}} {
		b.Run(p.name, func(b *testing.B) {
			var worst, sum time.Duration
			var size int
			for i := 0; i < b.N; i++ {
				d, n := get(p.path)
				sum += d
				worst, size = max(worst, d), n
			}
			b.ReportMetric(float64(sum.Milliseconds())/float64(b.N), "ms/page")
			b.Logf("%s: %d servers × %d nights: mean %v, worst %v, %d bytes", p.path, servers, nights, (sum / time.Duration(b.N)).Round(time.Millisecond), worst.Round(time.Millisecond), size)
		})
	}
}

func argsFor(q string) []any {
	switch q {
	case store.QueryHistory:
		return []any{1}
	case store.QueryNights:
		return []any{1, "2026-01-01"}
	case store.QueryNightCounts:
		return []any{"2026-02-18T12:00:00.000000Z", "2026-03-20T12:00:00.000000Z", "2026-02-18", "2026-03-19"}
	}
	return nil
}
