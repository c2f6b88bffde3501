package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
)

// openWithServer opens a database with customer acme and server fs01.
func openWithServer(t *testing.T) (*DB, int64) {
	t.Helper()
	db := openTest(t)
	ctx := context.Background()
	if _, err := db.AddCustomer(ctx, "test", Customer{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	s, err := db.AddServer(ctx, "test", "acme", "fs01", false)
	if err != nil {
		t.Fatal(err)
	}
	return db, s.ID
}

// spoolLog writes text through a LogSpool in 32 KiB writes, as an upload
// does, and returns the log to store.
func spoolLog(t *testing.T, db *DB, text []byte) RawLog {
	t.Helper()
	s := db.NewLogSpool()
	for i := 0; i < len(text); i += 32 << 10 {
		if _, err := s.Write(text[i:min(i+32<<10, len(text))]); err != nil {
			t.Fatal(err)
		}
	}
	l, err := s.Finish(int64(len(text)), false)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func okUpload(serverID int64, l RawLog) Upload {
	return Upload{ServerID: serverID, ReceivedAt: time.Now(), Night: "2026-01-01", Source: SourceUpload,
		Result: &parser.Result{Status: parser.StatusOK}, Log: l}
}

func countRows(t *testing.T, db *DB, query string) int {
	t.Helper()
	var n int
	if err := db.db.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func readAllLog(t *testing.T, l RawLog) []byte {
	t.Helper()
	zr, err := l.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChunkedLogIsInvisibleUntilLinked: the pieces of a big log are in
// the database while it streams, belong to no result, and become the
// result's log in SaveUpload's transaction; RawLogOf reads them back.
func TestChunkedLogIsInvisibleUntilLinked(t *testing.T) {
	db, srv := openWithServer(t)
	ctx := context.Background()
	for _, size := range []int{0, 100, ChunkBytes - 1, ChunkBytes + 1, 3*ChunkBytes + 17} {
		t.Run(fmt.Sprintf("%d random bytes", size), func(t *testing.T) {
			text := randomBytes(size, int64(size))
			l := spoolLog(t, db, text)
			// Random bytes do not compress: about size/ChunkBytes pieces.
			if want := size / ChunkBytes; l.Chunks < want-1 || l.Chunks > want+1 {
				t.Errorf("%d pieces, want about %d", l.Chunks, want)
			}
			if n := countRows(t, db, `SELECT COUNT(*) FROM log_chunks WHERE result_id IS NOT NULL AND upload_id IS NOT NULL`); n != 0 {
				t.Errorf("%d pieces both linked and pending", n)
			}
			id, err := db.SaveUpload(ctx, okUpload(srv, l))
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.RawLogOf(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if got.Chunks != l.Chunks || got.StoredBytes() != l.StoredBytes() || got.StoredBytes() == 0 && size > 0 {
				t.Errorf("read back %d pieces, %d bytes; stored %d, %d", got.Chunks, got.StoredBytes(), l.Chunks, l.StoredBytes())
			}
			if b := readAllLog(t, got); !bytes.Equal(b, text) {
				t.Errorf("read back %d bytes, want the %d stored", len(b), len(text))
			}
			if n := countRows(t, db, `SELECT COUNT(*) FROM log_uploads`); n != 0 {
				t.Errorf("%d uploads still pending after the commit", n)
			}
		})
	}
}

// TestUnlinkedChunksAreDeleted: a log whose upload failed is deleted by
// Discard; one left by a crash by DeleteUnlinkedChunks; the logs of
// stored results stay.
func TestUnlinkedChunksAreDeleted(t *testing.T) {
	db, srv := openWithServer(t)
	ctx := context.Background()
	text := randomBytes(3*ChunkBytes, 3)
	kept, err := db.SaveUpload(ctx, okUpload(srv, spoolLog(t, db, text)))
	if err != nil {
		t.Fatal(err)
	}

	failed := db.NewLogSpool()
	failed.Write(text)
	if err := failed.Discard(); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM log_chunks WHERE result_id IS NULL`); n != 0 {
		t.Errorf("Discard left %d pieces", n)
	}

	crashed := db.NewLogSpool() // never finished nor discarded
	crashed.Write(text)
	n, err := db.DeleteUnlinkedChunks(ctx)
	if err != nil || n < 2 {
		t.Errorf("DeleteUnlinkedChunks deleted %d pieces (%v), want those of the crashed upload", n, err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM log_chunks WHERE result_id IS NULL`) + countRows(t, db, `SELECT COUNT(*) FROM log_uploads`); n != 0 {
		t.Errorf("%d rows of the crashed upload left", n)
	}
	l, err := db.RawLogOf(ctx, kept)
	if err != nil {
		t.Fatal(err)
	}
	if b := readAllLog(t, l); !bytes.Equal(b, text) {
		t.Errorf("the stored log lost bytes to the clean-up: %d of %d", len(b), len(text))
	}
	// A crashed upload's result can no longer link its pieces.
	if _, err := db.SaveUpload(ctx, okUpload(srv, func() RawLog { l, _ := crashed.Finish(int64(len(text)), false); return l }())); err == nil {
		t.Errorf("a log whose pieces were deleted was stored")
	}
}

// TestDeletingAResultDeletesItsPieces: raw_logs and log_chunks cascade.
func TestDeletingAResultDeletesItsPieces(t *testing.T) {
	db, srv := openWithServer(t)
	ctx := context.Background()
	id, err := db.SaveUpload(ctx, okUpload(srv, spoolLog(t, db, randomBytes(3*ChunkBytes, 4))))
	if err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM log_chunks`); n == 0 {
		t.Fatal("no pieces stored")
	}
	if _, err := db.db.ExecContext(ctx, `DELETE FROM raw_logs WHERE result_id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM log_chunks`); n != 0 {
		t.Errorf("%d pieces left after their raw log was deleted", n)
	}
}

// TestParallelBigUploadsNeverBusy: many uploads storing big logs at once
// (pieces and results) all commit: writes wait for each other inside the
// store instead of failing with SQLITE_BUSY.
func TestParallelBigUploadsNeverBusy(t *testing.T) {
	SkipOnPostgres(t, "SQLite's busy timeout")
	ctx := context.Background()
	// SQLite's own wait for the lock is made 1 ms: only the store's
	// serialization of writes keeps them from failing.
	db, err := open(ctx, filepath.Join(t.TempDir(), "t.db"), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.AddCustomer(ctx, "test", Customer{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	s, err := db.AddServer(ctx, "test", "acme", "fs01", false)
	if err != nil {
		t.Fatal(err)
	}
	srv := s.ID
	text := randomBytes(2*ChunkBytes+ChunkBytes/2, 9)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := db.NewLogSpool()
			if _, err := s.Write(text); err != nil {
				errs <- err
				return
			}
			l, err := s.Finish(int64(len(text)), false)
			if err != nil {
				errs <- err
				return
			}
			if _, err := db.SaveUpload(ctx, okUpload(srv, l)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("upload failed: %v (busy: %v)", err, isBusy(errors.Unwrap(err)) || strings.Contains(err.Error(), "SQLITE_BUSY"))
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM raw_logs`); n != 16 {
		t.Errorf("%d logs stored, want 16", n)
	}
}

// TestStoreUploadRegistersItsServer: a new server is registered in the
// transaction of its first result, and only then.
func TestStoreUploadRegistersItsServer(t *testing.T) {
	db, _ := openWithServer(t)
	ctx := context.Background()
	acme, err := db.CustomerBySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	u := okUpload(0, CompressLog([]byte("x")))
	u.Register = &NewServer{CustomerID: acme.ID, Name: "new01"}
	u.Result.Status = "bogus" // fails the results CHECK: nothing commits
	if _, err := db.StoreUpload(ctx, u); err == nil {
		t.Fatal("a bad result was stored")
	}
	if _, err := db.ServerOfCustomer(ctx, acme.ID, "new01"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a failed upload left its server registered (%v)", err)
	}
	u.Result.Status = parser.StatusOK
	saved, err := db.StoreUpload(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if !saved.Registered || saved.Server.Name != "new01" || !saved.Server.Pending {
		t.Errorf("saved %+v, want new01 registered as pending", saved)
	}
	again, err := db.StoreUpload(ctx, u)
	if err != nil || again.Registered || again.Server.ID != saved.Server.ID {
		t.Errorf("second upload: %+v, %v; want the same server, not registered again", again, err)
	}
}
