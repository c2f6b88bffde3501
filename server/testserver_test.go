package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/keys"
	"github.com/backupreport/backupreport/store"
)

// liveServer is an in-process server on 127.0.0.1 over a database with
// customer "acme" and one registered Ed25519 key.
type liveServer struct {
	s      *Server
	db     *store.DB
	addr   string
	signer gossh.Signer
	fp     string
}

// testDB opens a database in a temporary folder with customer "acme" and
// one Ed25519 key of it, and returns the key.
func testDB(tb testing.TB) (*store.DB, gossh.Signer, string) {
	tb.Helper()
	ctx := context.Background()
	db, err := store.OpenDir(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.AddCustomer(ctx, "test", store.Customer{Slug: "acme"}); err != nil {
		tb.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	info := keys.Describe(signer.PublicKey())
	if _, err := db.AddKey(ctx, "test", store.Key{Customer: "acme", Fingerprint: info.Fingerprint, Type: info.Type, Bits: info.Bits, PublicKey: info.Authorized}); err != nil {
		tb.Fatal(err)
	}
	return db, signer, info.Fingerprint
}

var (
	hostKeysOnce    sync.Once
	testHostKeys    []gossh.Signer
	testHostKeysErr error
)

// serveTest starts a server over db with cfg (host keys, location and a
// quiet logger filled in) on 127.0.0.1 and returns it and its address.
func serveTest(tb testing.TB, db *store.DB, cfg Config) (*Server, string) {
	tb.Helper()
	hostKeysOnce.Do(func() {
		// Made once: an RSA 3072 key takes a second or two.
		dir, _ := os.MkdirTemp("", "backupreport-hostkeys")
		testHostKeys, testHostKeysErr = keys.LoadOrCreateHostKeys(dir)
		os.RemoveAll(dir)
	})
	if testHostKeysErr != nil {
		tb.Fatal(testHostKeysErr)
	}
	cfg.HostSigners, cfg.Location = testHostKeys, time.UTC
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := New(db, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go s.Serve(ln)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s, ln.Addr().String()
}

// startTestServer is testDB and serveTest together, with auto-registration.
func startTestServer(tb testing.TB, cfg Config) *liveServer {
	tb.Helper()
	db, signer, fp := testDB(tb)
	cfg.AutoRegister = true
	s, addr := serveTest(tb, db, cfg)
	return &liveServer{s: s, db: db, addr: addr, signer: signer, fp: fp}
}

// dial opens a client connection logged in with acme's key.
func (ts *liveServer) dial(tb testing.TB) *gossh.Client {
	tb.Helper()
	c, err := gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{
		User: "backup", Auth: []gossh.AuthMethod{gossh.PublicKeys(ts.signer)}, HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout: 10 * time.Second,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// testServer starts a server with cfg and returns its database, the
// server and a client connection logged in with acme's key.
func testServer(tb testing.TB, cfg Config) (*store.DB, *Server, *gossh.Client) {
	tb.Helper()
	ts := startTestServer(tb, cfg)
	return ts.db, ts.s, ts.dial(tb)
}
