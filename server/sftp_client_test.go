package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/pkg/sftp"

	"github.com/backupreport/backupreport/store"
)

// storedLogs returns the raw logs stored for server name of acme.
func storedLogs(t *testing.T, db *store.DB, name string) []string {
	t.Helper()
	ctx := context.Background()
	srv, err := db.ServerByName(ctx, "acme", name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.History(ctx, srv.ID, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		l, err := db.RawLogOf(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		zr, _ := l.Open()
		b, _ := io.ReadAll(zr)
		out = append(out, string(b))
	}
	return out
}

// TestSFTPReadsOnUploadHandlesAreRefused: a read on a handle opened for
// upload, write-only or read-write, is refused and never becomes a write
// of zeros in the stored log.
func TestSFTPReadsOnUploadHandlesAreRefused(t *testing.T) {
	db, _, client := testServer(t, Config{AutoRegister: true})
	for _, c := range []struct {
		name  string
		flags int
	}{
		{"write-only", os.O_WRONLY | os.O_CREATE | os.O_TRUNC},
		{"read-write", os.O_RDWR | os.O_CREATE | os.O_TRUNC},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc, err := sftp.NewClient(client)
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			server := "read" + strings.ReplaceAll(c.name, "-", "")
			f, err := sc.OpenFile("/reports/acme/"+server+".out", c.flags)
			if err != nil {
				t.Fatal(err)
			}
			text := "sending incremental file list\nsent 10 bytes  received 20 bytes  60.00 bytes/sec\ntotal size is 0  speedup is 0.00\n"
			if _, err := f.Write([]byte(text)); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 4096)
			_, err = f.ReadAt(buf, 0)
			// pkg/sftp's client shows the status code, not our message.
			if err == nil || !strings.Contains(err.Error(), "permission denied") {
				t.Errorf("read on an upload handle: %v, want it refused", err)
			}
			if err := f.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			logs := storedLogs(t, db, server)
			if len(logs) != 1 || logs[0] != text {
				t.Errorf("stored %q, want the bytes written and nothing else", logs)
			}
		})
	}
}

// TestSFTPGapFailsClose: a file written with a gap fails at close, with a
// message naming the gap; nothing is stored and the new server named is
// not registered.
func TestSFTPGapFailsClose(t *testing.T) {
	db, _, client := testServer(t, Config{AutoRegister: true})
	sc, err := sftp.NewClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	f, err := sc.OpenFile("/reports/acme/gappy.out", os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("sending incremental file list\n"), 100); err != nil {
		t.Fatal(err)
	}
	err = f.Close()
	if err == nil || !strings.Contains(err.Error(), "bytes 0 to 99 were never written") {
		t.Errorf("close of a file with a gap: %v, want an error naming the gap", err)
	}
	if logs := storedLogs(t, db, "gappy"); logs != nil {
		t.Errorf("stored %q for a file with a gap", logs)
	}
	if _, err := db.ServerByName(context.Background(), "acme", "gappy"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed upload registered its server (%v)", err)
	}

	// The session goes on: a whole file is stored, and registers its server.
	g, err := sc.OpenFile("/reports/acme/gappy.out", os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	g.Write(bytes.Repeat([]byte("line\n"), 1000))
	if err := g.Close(); err != nil {
		t.Fatalf("close of a whole file: %v", err)
	}
	if logs := storedLogs(t, db, "gappy"); len(logs) != 1 {
		t.Errorf("%d logs stored for a whole file, want 1", len(logs))
	}
}

// TestSFTPJailShowsOnlyThisSessionsFiles: a file uploaded in this session
// can be stat'ed (while open too) and is listed in the customer's folder,
// which can be cd'ed into; files of other sessions, other folders and
// other customers stay hidden.
func TestSFTPJailShowsOnlyThisSessionsFiles(t *testing.T) {
	_, _, client := testServer(t, Config{AutoRegister: true})
	text := "sending incremental file list\nsent 10 bytes  received 20 bytes  60.00 bytes/sec\ntotal size is 0  speedup is 0.00\n"
	upload := func(sc *sftp.Client, name string, check func(*sftp.File)) {
		t.Helper()
		f, err := sc.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(text))
		if check != nil {
			check(f)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	first, err := sftp.NewClient(client)
	if err != nil {
		t.Fatal(err)
	}
	upload(first, "/reports/acme/earlier.out", nil)
	first.Close()

	sc, err := sftp.NewClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if fis, err := sc.ReadDir("/reports/acme"); err != nil || len(fis) != 0 {
		t.Errorf("a new session lists %v, %v; want an empty folder", fis, err)
	}
	upload(sc, "/reports/acme/now.out", func(f *sftp.File) {
		if fi, err := f.Stat(); err != nil || fi.Size() != int64(len(text)) || !fi.Mode().IsRegular() { // fstat
			t.Errorf("fstat of an open upload = %v, %v; want a regular file of %d bytes", fi, err, len(text))
		}
	})
	for _, stat := range []func(string) (os.FileInfo, error){sc.Stat, sc.Lstat} {
		if fi, err := stat("/reports/acme/now.out"); err != nil || fi.Size() != int64(len(text)) || !fi.Mode().IsRegular() {
			t.Errorf("stat of a file uploaded in this session = %v, %v; want a regular file of %d bytes", fi, err, len(text))
		}
	}
	if fi, err := sc.Stat("/reports/acme"); err != nil || !fi.IsDir() {
		t.Errorf("stat of the customer's folder = %v, %v", fi, err)
	}
	fis, err := sc.ReadDir("/reports/acme")
	if err != nil || len(fis) != 1 || fis[0].Name() != "now.out" {
		t.Errorf("ReadDir of the customer's folder = %v, %v; want only now.out", fis, err)
	}
	for _, p := range []string{"/reports/acme/earlier.out", "/reports/other/now.out", "/etc/passwd"} {
		if _, err := sc.Stat(p); err == nil {
			t.Errorf("stat %s succeeded", p)
		}
	}
	for _, p := range []string{"/", "/reports", "/reports/other"} {
		if _, err := sc.ReadDir(p); err == nil {
			t.Errorf("ReadDir %s succeeded", p)
		}
	}
	if _, err := sc.Open("/reports/acme/now.out"); err == nil {
		t.Error("a file uploaded in this session could be opened for reading")
	}
}
