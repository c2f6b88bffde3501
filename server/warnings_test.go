package server

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/reeval"
)

// A real rsync run that deleted an unreadable folder's backup, uploaded
// after ten ordinary nights: the upload is judged against the server's
// normal, stores mass_deletion and size_drop with that normal, counts them
// in /metrics, and a re-evaluation gives the same.
func TestUploadWarnsAgainstTheServersNormal(t *testing.T) {
	ctx := context.Background()
	ts := startTestServer(t, Config{AutoRegister: true})
	srv, err := ts.db.AddServer(ctx, "t", "acme", "fs01", false)
	if err != nil {
		t.Fatal(err)
	}
	now := ts.db.Now()
	for d := 10; d >= 1; d-- {
		at := now.Add(-time.Duration(d) * 24 * time.Hour)
		log := fmt.Sprintf("sending incremental file list\ndocs/a.txt\n\nsent 900 bytes  received 80 bytes  900.00 bytes/sec\ntotal size is %d  speedup is 60.00\n", 60000+d)
		r, _ := parser.Parse(strings.NewReader(log))
		parser.Judge(r, parser.Facts{}, nil)
		if _, err := ts.db.SaveUpload(ctx, store.Upload{ServerID: srv.ID, ReceivedAt: at, Night: store.NightOf(at, time.UTC), Source: store.SourceUpload,
			Result: r, Log: store.CompressLog([]byte(log))}); err != nil {
			t.Fatal(err)
		}
	}
	report, err := os.ReadFile(filepath.Join("..", "testdata", "rsync", "real-ssh-unreadable-delete", "stats.out"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := upload(ts.dial(t), "fs01", func(w io.Writer) { w.Write(report) }); err != nil {
		t.Fatal(err)
	}
	hist, err := ts.db.History(ctx, srv.ID, 1, 0)
	if err != nil || len(hist) != 1 {
		t.Fatalf("history: %v, %v", hist, err)
	}
	kinds := func() string {
		t.Helper()
		ws, err := ts.db.WarningsOf(ctx, hist[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, w := range ws[hist[0].ID] {
			out = append(out, string(w.Kind))
		}
		return strings.Join(out, ",")
	}
	if got := kinds(); got != "mass_deletion,size_drop" {
		t.Fatalf("warnings %q, want mass_deletion,size_drop", got)
	}
	for kind, want := range map[string]float64{"mass_deletion": 1, "size_drop": 1, "change_spike": 0} {
		if got := ts.s.metrics.Warnings.WithLabelValues(kind).Value(); got != want {
			t.Errorf("backupreport_warnings_total{kind=%q} = %v, want %v", kind, got, want)
		}
	}
	if _, err := reeval.Run(ctx, ts.db, reeval.Options{Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	if got := kinds(); got != "mass_deletion,size_drop" {
		t.Errorf("after re-evaluation: %q, want the upload's mass_deletion,size_drop", got)
	}
}
