package store_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// benchCases are the real-looking logs the benchmark stores, round robin.
var benchCases = []string{"hand-cygwin-ssh-code23", "real-ssh-unreadable", "real-success", "real-partial-and-vanished", "real-unreadable", "hand-every-file-error-kind", "real-vanished", "real-ssh-success"}

// BenchmarkReevaluate stores results with real raw logs (10,000 by default;
// BACKUPREPORT_BENCH_REEVAL=100000 for the figure), adds a global
// exception, and re-evaluates them all. It prints results/s and MB/s of
// decompressed log next to parser.Parse's own throughput over the same
// logs in a loop (one goroutine), and their ratio (target: at least 50%).
//
//	BACKUPREPORT_BENCH_REEVAL=100000 go test ./store -run '^$' -bench Reevaluate -benchtime 1x -timeout 30m
func BenchmarkReevaluate(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("BACKUPREPORT_BENCH_REEVAL")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	db := openReevalDB(b)
	if _, err := db.AddCustomer(ctx, "bench", store.Customer{Slug: "bench"}); err != nil {
		b.Fatal(err)
	}
	ids, err := db.BulkServers(ctx, "bench", "srv", 1000)
	if err != nil {
		b.Fatal(err)
	}
	// A customer's verbose log lists every file it sent; the cases are
	// short, so each is padded with file-list lines to a realistic size
	// (13,230 bytes, the example report; BACKUPREPORT_BENCH_REEVAL_LOG
	// sets another, 0 keeps the cases as they are).
	size := 13230
	if v, err := strconv.Atoi(os.Getenv("BACKUPREPORT_BENCH_REEVAL_LOG")); err == nil && v >= 0 {
		size = v
	}
	logs := make([][]byte, len(benchCases))
	for i, c := range benchCases {
		logs[i] = padLog(readCase(b, c), size)
	}
	start := time.Now()
	const chunk = 5000
	var us []store.Upload
	uploadsOf := map[int]store.Upload{}
	for i := 0; i < n; i++ {
		ci := i % len(logs)
		u, ok := uploadsOf[ci]
		if !ok {
			u = uploadOf(b, db, ids[0], logs[ci], reevalNow)
			uploadsOf[ci] = u
		}
		u.ServerID = ids[i%len(ids)]
		u.ReceivedAt = reevalNow.Add(-time.Duration(i) * time.Second)
		u.Night = store.Night(u.ReceivedAt, time.UTC)
		us = append(us, u)
		if len(us) == chunk || i == n-1 {
			if err := db.SaveUploads(ctx, us); err != nil {
				b.Fatal(err)
			}
			us = us[:0]
		}
	}
	fmt.Printf("seeded %d results with raw logs (about %d bytes each) in %v\n", n, size, time.Since(start).Round(time.Millisecond))

	// The parser alone over the same decompressed logs, one goroutine.
	var plain [][]byte
	var plainBytes int64
	for i := 0; i < n; i++ {
		plain = append(plain, logs[i%len(logs)])
		plainBytes += int64(len(logs[i%len(logs)]))
	}
	pstart := time.Now()
	for _, l := range plain {
		r, err := parser.Parse(bytes.NewReader(l))
		if err != nil {
			b.Fatal(err)
		}
		r.Apply([]string{"*.pst"})
	}
	pd := time.Since(pstart)
	// Gzip alone, for the record: re-evaluation decompresses every log.
	gstart := time.Now()
	zr := new(gzip.Reader)
	for i := 0; i < n; i++ {
		zr.Reset(bytes.NewReader(uploadsOf[i%len(logs)].Log.Data))
		io.Copy(io.Discard, zr)
	}
	gd := time.Since(gstart)

	if _, err := db.AddException(ctx, "bench", "global", "*.pst", "bench"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var st store.ReevalStats
	for i := 0; i < b.N; i++ {
		st, err = db.Reevaluate(ctx, store.ReevalOptions{Actor: "bench", Reason: fmt.Sprintf("bench run %d", i)})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	rate := func(count int, bytes int64, d time.Duration) (float64, float64) {
		return float64(count) / d.Seconds(), float64(bytes) / 1e6 / d.Seconds()
	}
	rr, rmb := rate(st.Results, st.Bytes, st.Duration)
	pr, pmb := rate(n, plainBytes, pd)
	_, gmb := rate(n, plainBytes, gd)
	fmt.Printf("re-evaluation: %d results (%d changed, %d updated), %.1f MB of logs in %v: %.0f results/s, %.1f MB/s (%d workers)\n",
		st.Results, st.Changed, st.Updated, float64(st.Bytes)/1e6, st.Duration.Round(time.Millisecond), rr, rmb, runtime.GOMAXPROCS(0))
	fmt.Printf("parser.Parse alone: %d logs, %.1f MB in %v: %.0f results/s, %.1f MB/s (one goroutine); gunzip alone %.1f MB/s\n",
		n, float64(plainBytes)/1e6, pd.Round(time.Millisecond), pr, pmb, gmb)
	fmt.Printf("ratio re-evaluation/parser: %.0f%% (target >= 50%%)\n", 100*rmb/pmb)
	b.ReportMetric(rr, "results/s")
	b.ReportMetric(rmb, "MB/s")
	b.ReportMetric(100*rmb/pmb, "%parser")
}

// padLog puts file-list lines in front of a log until it is size bytes.
func padLog(log []byte, size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len()+len(log) < size; i++ {
		fmt.Fprintf(&b, "/cygdrive/E/shares/Projects/Client %d/2026/report %d final.docx\n", i%37, i)
	}
	b.Write(log)
	return b.Bytes()
}
