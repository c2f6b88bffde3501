package store

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
)

// TestLogsRoundTrip stores logs of several sizes, some over many S2
// blocks, and reads them back both ways: streamed (the web pages) and
// whole (re-evaluation, reusing its buffers from log to log).
func TestLogsRoundTrip(t *testing.T) {
	r := newLogReader()
	for _, size := range []int{0, 1, 13230, logBlock - 1, logBlock + 1, 3*logBlock + 17, 3 << 20} {
		var b bytes.Buffer
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, "shares/Projects/Client %d/report %d.docx\n", i%37, i)
		}
		text := b.Bytes()[:size]
		l := CompressLog(text)
		if l.Compression != CompressionS2 || l.OriginalBytes != int64(size) {
			t.Fatalf("%d bytes: stored as %q with %d bytes", size, l.Compression, l.OriginalBytes)
		}
		rc, err := l.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, text) {
			t.Errorf("%d bytes: streamed back %d bytes, err %v", size, len(got), err)
		}
		whole, err := r.decode(l.Compression, l.Data)
		if err != nil || !bytes.Equal(whole, text) {
			t.Errorf("%d bytes: decoded %d bytes, err %v", size, len(whole), err)
		}
	}
	if l := CompressLog(nil); l.Data == nil {
		t.Error("an empty log compressed to nil, which means no log")
	}
	if _, err := r.decode(CompressionS2, []byte("not s2 at all")); err == nil {
		t.Error("garbage decoded without error")
	}
	if _, err := r.decode("lzma", nil); err == nil {
		t.Error("an unknown compression decoded without error")
	}
}

// TestEmptyLogIsStored: an upload of nothing still has its (empty) log.
func TestEmptyLogIsStored(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, DSNForTest(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.AddCustomer(ctx, "t", Customer{Slug: "acme"})
	srv, _ := db.AddServer(ctx, "t", "acme", "fs01", false)
	res, _ := parser.Parse(bytes.NewReader(nil))
	at := db.Now()
	id, err := db.SaveUpload(ctx, Upload{ServerID: srv.ID, ReceivedAt: at, Night: NightOf(at, time.UTC), Source: SourceUpload, Result: res, Log: CompressLog(nil)})
	if err != nil {
		t.Fatal(err)
	}
	l, err := db.RawLogOf(ctx, id)
	if err != nil {
		t.Fatalf("the empty log was not stored: %v", err)
	}
	rc, err := l.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, err := io.ReadAll(rc); err != nil || len(b) != 0 {
		t.Errorf("read back %q, %v; want nothing", b, err)
	}
}
