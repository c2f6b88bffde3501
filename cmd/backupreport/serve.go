package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/report"
	"github.com/backupreport/backupreport/server"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
	"github.com/backupreport/backupreport/store/metrics"
)

func init() {
	register(&command{name: "serve", summary: "run the SSH upload endpoint and the web interface", run: runServe})
}

// dataFlags are where a command's data lives: the data folder, and the
// database, a PostgreSQL URL or "" for the SQLite file in the folder.
type dataFlags struct {
	dir      *string
	database *string
}

// dataFlag adds the --data and --database flags every command that opens
// the database has.
func dataFlag(fs *flag.FlagSet) dataFlags {
	return dataFlags{
		dir: fs.String("data", "./data", "data folder: the host keys live here, and the SQLite database unless --database is given"),
		database: fs.String("database", "", "`URL` of a PostgreSQL database to use instead of the SQLite database in --data "+
			"(postgres://USER:PASSWORD@HOST:5432/DBNAME?sslmode=require; the database must exist)"),
	}
}

// openDB opens the database the flags name, creating the data folder.
func openDB(ctx context.Context, d dataFlags) (*store.DB, error) {
	return openData(ctx, *d.dir, *d.database)
}

// openData opens the PostgreSQL database at url, or without one the
// SQLite database in the data folder dir; it creates the folder.
func openData(ctx context.Context, dir, url string) (*store.DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	if url != "" {
		if !store.IsPostgresDSN(url) {
			return nil, errors.New("--database: want a postgres:// or postgresql:// URL (leave it out for SQLite in --data)")
		}
		return store.Open(ctx, url)
	}
	return store.OpenDir(ctx, dir)
}

func newLogger(a *app, level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: l}))
}

func runServe(ctx context.Context, a *app, args []string) int {
	fs := a.newFlags("serve", "[flags]", "Runs the SSH upload endpoint and the web interface until SIGTERM or SIGINT.\n"+
		"A second signal stops at once, without waiting for uploads in flight.")
	data := dataFlag(fs)
	sshAddr := fs.String("ssh-addr", ":2222", "address the SSH endpoint listens on")
	var hostKeys stringList
	fs.Var(&hostKeys, "host-key", "an OpenSSH host key `FILE` of the old server to offer too (repeatable; RSA, ECDSA, Ed25519 in PEM or OPENSSH form, DSA in PEM)")
	legacy := fs.Bool("legacy-crypto", false, "also offer diffie-hellman-group1-sha1, aes128-cbc and 3des-cbc for very old clients")
	autoReg := fs.Bool("auto-register", true, "register unknown server names of a known customer as new servers (false: refuse them)")
	maxLog := fs.Int64("max-log-bytes", server.DefaultMaxLogBytes, "largest raw log kept in the database; longer logs keep head and tail")
	maxUpload := fs.Int64("max-upload-bytes", server.DefaultMaxUploadBytes, "largest upload accepted; larger ones end with an error")
	uploadMem := fs.Int64("upload-memory", server.DefaultUploadMemory, "bytes all uploads together may hold in memory; beyond, new uploads wait (then are refused as busy)")
	uploadMemWait := fs.Duration("upload-memory-wait", server.DefaultUploadMemoryWait, "how long an upload waits for room in --upload-memory before it is refused as busy")
	tz := fs.String("timezone", "", "time zone for nights and pages, e.g. Europe/Berlin (default: the machine's)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	pprofAddr := fs.String("pprof", "", "debugging: serve Go's CPU, heap, block and mutex profiles on this `ADDR` (e.g. 127.0.0.1:6060; off when empty)")
	limits := addLimitFlags(fs)
	storageOpts := addStorageFlags(fs)
	httpOpts := addHTTPFlags(fs)
	mailOpts := addMailFlags(fs)
	banOpts := addBanFlags(fs)
	shared := addSharedFlags(fs)
	thresholds := warnFlags(fs)
	httpOpts.baseURL = mailOpts.smtp.baseURL // one --base-url for links in emails and the first-run link
	pos, code := a.parseFlags(fs, args)
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return a.usageErr(fs, "serve takes no arguments, got %q", pos[0])
	}
	if err := storageOpts.validate(); err != nil {
		return a.usageErr(fs, "%v", err)
	}
	if err := thresholds.Check(); err != nil {
		return a.usageErr(fs, "--warn-*: %v", err)
	}
	log := newLogger(a, *logLevel)
	if *pprofAddr != "" {
		addr, err := startPprof(*pprofAddr)
		if err != nil {
			return a.usageErr(fs, "%v", err)
		}
		fmt.Fprintf(a.stdout, "pprof listening on %s\n", addr)
	}
	loc, err := loadLocation(*tz)
	if err != nil {
		return a.usageErr(fs, "%v", err)
	}
	db, err := openDB(ctx, data)
	if err != nil {
		return a.fail("%v", err)
	}
	defer db.Close()
	db.Thresholds = thresholds

	// Pieces of big logs whose upload never committed (serve was killed
	// mid-upload) are deleted before uploads are accepted again. On
	// PostgreSQL other nodes may be receiving uploads right now: only
	// pieces older than any upload can last are a crash's.
	deleteChunks := db.DeleteUnlinkedChunks
	if *data.database != "" {
		stale := time.Now().Add(-(*limits.maxUploadTime + time.Hour))
		deleteChunks = func(ctx context.Context) (int64, error) { return db.DeleteUnlinkedChunksBefore(ctx, stale) }
	}
	if n, err := deleteChunks(ctx); err != nil {
		return a.fail("%v", err)
	} else if n > 0 {
		log.Info("deleted pieces of logs of uploads never stored", logkey.Chunks, n)
	}

	signers, err := offeredHostKeys(*data.dir, hostKeys)
	if err != nil {
		return a.fail("%v", err)
	}
	for _, sg := range signers {
		log.Info("host key", logkey.Type, sg.PublicKey().Type(), logkey.Fingerprint, gossh.FingerprintSHA256(sg.PublicKey()))
	}

	files, filesBefore, err := raiseFileLimit()
	if err != nil {
		log.Warn("raise the open-file limit", logkey.Limit, filesBefore, logkey.Err, err)
	} else if files != filesBefore {
		log.Info("open-file limit raised", logkey.From, filesBefore, logkey.To, files)
	}

	reg := metrics.NewRegistry()
	reg.MustRegister(metrics.NewGoCollector(), metrics.NewProcessCollector())
	defender, err := banOpts.defender(db, log, reg, shared)
	if err != nil {
		return a.usageErr(fs, "%v", err)
	}
	if err := defender.Load(ctx); err != nil {
		return a.fail("load SSH bans: %v", err)
	}
	go defender.Run(ctx)
	httpOpts.liftBan = defender.Lift
	httpOpts.shared = shared
	storageMetrics := server.NewStorageMetrics(reg)
	registerSpaceGauges(reg, db)
	sshCfg := server.Config{
		HostSigners: signers, LegacyCrypto: *legacy, AutoRegister: *autoReg, MaxLogBytes: *maxLog, MaxUploadBytes: *maxUpload,
		UploadMemory: *uploadMem, UploadMemoryWait: *uploadMemWait, LogQuota: *storageOpts.quota, StorageMetrics: storageMetrics,
		Location: loc, Logger: log, Metrics: server.NewMetrics(reg), Defender: defender,
	}
	if err := limits.apply(&sshCfg, files, log); err != nil {
		return a.usageErr(fs, "%v", err)
	}
	srv := server.New(db, sshCfg)
	ln, err := net.Listen("tcp", *sshAddr)
	if err != nil {
		return a.fail("listen for SSH on %s: %v", *sshAddr, err)
	}
	// The one line per listener, on stdout; tests start serve on port 0
	// and read the address from it. The log (stderr) has the details.
	fmt.Fprintf(a.stdout, "ssh listening on %s\n", ln.Addr())
	log.Debug("ssh listener", logkey.Addr, ln.Addr().String(), logkey.Data, *data.dir)
	for _, sg := range signers {
		httpOpts.hostKeys = append(httpOpts.hostKeys, sg.PublicKey())
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		httpOpts.sshPort = tcp.Port
	}
	sshErr := make(chan error, 1)
	go func() { sshErr <- srv.Serve(ln) }()

	stopHTTP, err := startHTTP(ctx, a, db, log, loc, reg, httpOpts, storageOpts)
	if err != nil {
		ln.Close()
		return a.fail("%v", err)
	}

	stopShared := shared.start(ctx, log, reg)
	defer stopShared() // before the database closes: a last sync

	stopScheduler, err := startScheduler(ctx, db, log, loc, mailOpts,
		&server.StorageJob{DB: db, Log: log, Metrics: storageMetrics, Quota: *storageOpts.quota, RetentionDays: *storageOpts.retention})
	if err != nil {
		ln.Close()
		return a.fail("%v", err)
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down; waiting up to 30s for uploads in flight (signal again to stop at once)")
	case err := <-sshErr:
		if err != nil {
			return a.fail("ssh server: %v", err)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() { // a second signal stops at once
		c := make(chan os.Signal, 1)
		notifySignals(c)
		select {
		case <-c:
			cancel()
		case <-sctx.Done():
		}
	}()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, net.ErrClosed) {
		log.Warn("ssh shutdown", logkey.Err, err)
	}
	if stopHTTP != nil {
		stopHTTP(sctx)
	}
	stopScheduler(sctx) // the database closes after this
	log.Info("stopped")
	return exitOK
}

// loadLocation loads --timezone; empty is the machine's zone, loaded by
// its name when one is found (so that pages and e-mails name it), else
// time.Local.
func loadLocation(name string) (*time.Location, error) {
	if name == "" {
		if n := report.LocalZoneName(); n != "" {
			if loc, err := time.LoadLocation(n); err == nil {
				return loc, nil
			}
		}
		return time.Local, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("--timezone %q: %w", name, err)
	}
	return loc, nil
}
