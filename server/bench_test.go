package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/keys"
	"github.com/backupreport/backupreport/store"
)

// benchServer starts an in-process server with one customer "acme" and
// returns a client connection authenticated with its key.
func benchServer(b *testing.B) *gossh.Client {
	_, _, client := testServer(b, Config{AutoRegister: true})
	return client
}

// testServer starts an in-process server with cfg (host keys, location
// and a quiet logger filled in) and one customer "acme", and returns its
// database, the server and a client connection authenticated with acme's key.
func testServer(tb testing.TB, cfg Config) (*store.DB, *Server, *gossh.Client) {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	db, err := store.OpenDir(ctx, dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	db.AddCustomer(ctx, "bench", store.Customer{Slug: "acme"})
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	info := keys.Describe(signer.PublicKey())
	if _, err := db.AddKey(ctx, "bench", store.Key{Customer: "acme", Fingerprint: info.Fingerprint, Type: info.Type, Bits: info.Bits, PublicKey: info.Authorized}); err != nil {
		tb.Fatal(err)
	}
	hostKeysOnce.Do(func() {
		// Made once: an RSA 3072 key takes a second or two.
		hostKeysDir, _ := os.MkdirTemp("", "backupreport-hostkeys")
		testHostKeys, testHostKeysErr = keys.LoadOrCreateHostKeys(hostKeysDir)
		os.RemoveAll(hostKeysDir)
	})
	if testHostKeysErr != nil {
		tb.Fatal(testHostKeysErr)
	}
	hostKeys := testHostKeys
	cfg.HostSigners, cfg.Location = hostKeys, time.UTC
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := New(db, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go s.Serve(ln)
	tb.Cleanup(func() { s.Shutdown(context.Background()) })
	client, err := gossh.Dial("tcp", ln.Addr().String(), &gossh.ClientConfig{
		User: "backup", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)}, HostKeyCallback: gossh.InsecureIgnoreHostKey(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { client.Close() })
	return db, s, client
}

var (
	hostKeysOnce    sync.Once
	testHostKeys    []gossh.Signer
	testHostKeysErr error
)

// report13KB is a real-looking 13 KB code-23 report, the size the issue names.
func report13KB(b *testing.B) []byte {
	base, err := os.ReadFile(filepath.Join("..", "testdata", "rsync", "hand-cygwin-ssh-code23", "stats.out"))
	if err != nil {
		b.Fatal(err)
	}
	head, tail, _ := bytes.Cut(base, []byte("sending incremental file list\n"))
	var r bytes.Buffer
	r.Write(head)
	r.WriteString("sending incremental file list\n")
	for i := 0; r.Len() < 13230-len(tail); i++ {
		r.WriteString("/cygdrive/E/shares/Projects/Client files/2026/report-")
		r.WriteString(time.Duration(i).String())
		r.WriteString(".docx\n")
	}
	r.Write(tail)
	return r.Bytes()
}

// BenchmarkEOFToAck measures the time from the client's EOF to the exit
// status, i.e. parse tail + commit + receipt, for a 13 KB report over one
// SSH connection. It prints the median and the 95th percentile.
func BenchmarkEOFToAck(b *testing.B) {
	client := benchServer(b)
	rep := report13KB(b)
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sess, err := client.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		stdin, _ := sess.StdinPipe()
		if err := sess.Start("cat > /reports/acme/exch01.out"); err != nil {
			b.Fatal(err)
		}
		stdin.Write(rep)
		t0 := time.Now()
		stdin.Close()
		if err := sess.Wait(); err != nil {
			b.Fatalf("upload: %v", err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-eof-to-ack-p50")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "ms-eof-to-ack-p95")
	b.ReportMetric(float64(len(rep)), "report-bytes")
}
