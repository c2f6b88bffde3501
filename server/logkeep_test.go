package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// keeperDB opens a database with customer acme and server fs01.
func keeperDB(t *testing.T) (*store.DB, int64) {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.AddCustomer(ctx, "test", store.Customer{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	srv, err := db.AddServer(ctx, "test", "acme", "fs01", false)
	if err != nil {
		t.Fatal(err)
	}
	return db, srv.ID
}

// readBack stores the log with a result, and reads it back as the web
// pages do.
func readBack(t *testing.T, db *store.DB, serverID int64, l store.RawLog) string {
	t.Helper()
	if l.Compression != store.CompressionS2 {
		t.Errorf("log stored as %q, want %q", l.Compression, store.CompressionS2)
	}
	ctx := context.Background()
	id, err := db.SaveUpload(ctx, store.Upload{ServerID: serverID, ReceivedAt: time.Now(), Night: "2026-01-01", Source: store.SourceUpload,
		Result: &parser.Result{Status: parser.StatusOK}, Log: l})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.RawLogOf(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Chunks != l.Chunks || got.StoredBytes() != l.StoredBytes() {
		t.Errorf("stored %d pieces, %d bytes; read back %d pieces, %d bytes", l.Chunks, l.StoredBytes(), got.Chunks, got.StoredBytes())
	}
	zr, err := got.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestLogKeeperKeepsShortLogsWhole(t *testing.T) {
	db, srv := keeperDB(t)
	k := newLogKeeper(db, 1000)
	in := strings.Repeat("line\n", 150) // 750 bytes: all head
	for _, chunk := range []string{in[:10], in[10:700], in[700:]} {
		k.Write([]byte(chunk))
	}
	l, err := k.finish()
	if err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, db, srv, l); got != in || l.Truncated || l.OriginalBytes != int64(len(in)) {
		t.Errorf("got %d bytes truncated=%v, want the %d bytes back whole", len(got), l.Truncated, len(in))
	}
}

func TestLogKeeperKeepsHeadAndTailOfLongLogs(t *testing.T) {
	db, srv := keeperDB(t)
	for _, chunk := range []int{1, 7, 100, 5000} {
		k := newLogKeeper(db, 1000) // head 750, tail 250
		var in bytes.Buffer
		for i := 0; in.Len() < 10000; i++ {
			in.WriteString("line " + strings.Repeat("x", i%13) + "\n")
		}
		b := in.Bytes()
		for i := 0; i < len(b); i += chunk {
			end := min(i+chunk, len(b))
			k.Write(b[i:end])
		}
		l, err := k.finish()
		if err != nil {
			t.Fatal(err)
		}
		got := readBack(t, db, srv, l)
		head, tail := string(b[:750]), string(b[len(b)-250:])
		if !l.Truncated || !strings.HasPrefix(got, head) || !strings.HasSuffix(got, tail) || !strings.Contains(got, "bytes left out here") {
			t.Errorf("chunk %d: stored log lacks head, tail or marker:\n%s", chunk, got)
		}
		if want := len(b) - 1000; !strings.Contains(got, fmt.Sprintf("[backupreport: %d bytes left out", want)) {
			t.Errorf("chunk %d: marker does not say %d bytes were left out", chunk, want)
		}
	}
}

// TestLogKeeperStreamsBigLogsInPieces: random bytes (which do not
// compress) of sizes around the piece size and the head budget are stored
// in pieces and read back whole, or as head, marker and tail; the keeper
// never holds more than a piece and its ring.
func TestLogKeeperStreamsBigLogsInPieces(t *testing.T) {
	db, srv := keeperDB(t)
	const limit = 4*store.ChunkBytes + 1000 // tail maxTail, head the rest
	rnd := rand.New(rand.NewSource(7))
	for _, size := range []int{
		store.ChunkBytes - 100, store.ChunkBytes, store.ChunkBytes + 1, 2*store.ChunkBytes + 5,
		limit - maxTail, limit, limit + 1, 6*store.ChunkBytes + 12345,
	} {
		in := make([]byte, size)
		rnd.Read(in)
		k := newLogKeeper(db, limit)
		var held int
		for i := 0; i < len(in); i += 32 << 10 {
			k.Write(in[i:min(i+32<<10, len(in))])
			held = max(held, k.spool.Held())
		}
		l, err := k.finish()
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		if held > store.ChunkBytes+512<<10 {
			t.Errorf("%d bytes: the keeper held %d compressed bytes, want at most a piece", size, held)
		}
		if size > store.ChunkBytes+store.ChunkBytes/2 && l.Chunks == 0 {
			t.Errorf("%d random bytes stored without pieces", size)
		}
		got := readBack(t, db, srv, l)
		if size <= limit {
			if got != string(in) || l.Truncated {
				t.Errorf("%d bytes: read back %d bytes (truncated=%v), want them whole", size, len(got), l.Truncated)
			}
			continue
		}
		head, tail := string(in[:limit-maxTail]), string(in[size-maxTail:])
		marker := fmt.Sprintf("\n[backupreport: %d bytes left out here; the log was longer than the stored maximum]\n", size-limit)
		if got != head+marker+tail || !l.Truncated {
			t.Errorf("%d bytes: read back %d bytes, want head %d + marker + tail %d", size, len(got), len(head), len(tail))
		}
	}
}

// TestLogKeeperDiscardLeavesNothing: the pieces of a log not stored are
// deleted.
func TestLogKeeperDiscardLeavesNothing(t *testing.T) {
	db, _ := keeperDB(t)
	in := make([]byte, 3*store.ChunkBytes)
	rand.New(rand.NewSource(1)).Read(in)
	k := newLogKeeper(db, 64<<20)
	k.Write(in)
	if _, err := k.finish(); err != nil {
		t.Fatal(err)
	}
	if err := k.discard(); err != nil {
		t.Fatal(err)
	}
	if n, err := db.DeleteUnlinkedChunks(context.Background()); err != nil || n != 0 {
		t.Errorf("after discard, %d pieces were left (%v)", n, err)
	}
}
