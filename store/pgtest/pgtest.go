// Package pgtest starts throwaway PostgreSQL clusters for tests: initdb
// into a temporary folder, pg_ctl start on 127.0.0.1 at a port the OS
// chose. Start gives a test its own cluster; Database gives it a fresh
// database on a cluster its package shares (started at first use,
// stopped by Main). Outside CI a missing PostgreSQL skips the test; in CI
// (CI=true) it fails it, so the PostgreSQL tests cannot silently stop
// running.
//
// The clusters use the C locale, so that text compares and lower()
// folds as in SQLite (bytes; ASCII letters only).
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Env is the environment variable that chooses the database the store
// tests run on: "postgres" for PostgreSQL, anything else for SQLite.
const Env = "BACKUPREPORT_TEST_DATABASE"

// Wanted reports whether the tests are to run on PostgreSQL (see Env).
func Wanted() bool { return os.Getenv(Env) == "postgres" }

// binDir is where Debian's postgresql (15) package puts initdb and pg_ctl.
const binDir = "/usr/lib/postgresql/15/bin"

// errMissing is start's error when PostgreSQL is not installed.
var errMissing = errors.New("PostgreSQL not installed (" + binDir + "/initdb missing); run scripts/install-test-deps.sh")

// cluster is one running PostgreSQL.
type cluster struct {
	url    string // database postgres, user postgres, trust authentication
	dir    string // initdb's data folder, socket and log
	prefix []string
}

// start runs initdb and pg_ctl start. PostgreSQL refuses to run as root:
// as root, it runs them as the postgres user the Debian package created.
func start() (*cluster, error) {
	initdb := filepath.Join(binDir, "initdb")
	if _, err := os.Stat(initdb); err != nil {
		return nil, errMissing
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir}
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root and no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.prefix = []string{"runuser", "-u", "postgres", "--"}
	}
	data := filepath.Join(dir, "data")
	if err := c.run(initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.run(filepath.Join(binDir, "pg_ctl"), "-D", data, "-w", "-l", filepath.Join(dir, "log"),
		"-o", fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -F", port, dir), "start"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return c, nil
}

func (c *cluster) run(args ...string) error {
	all := append(append([]string{}, c.prefix...), args...)
	out, err := exec.Command(all[0], all[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %v\n%s", args, err, out)
	}
	return nil
}

// stop stops the cluster at once and removes its folder.
func (c *cluster) stop() {
	c.run(filepath.Join(binDir, "pg_ctl"), "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "stop")
	os.RemoveAll(c.dir)
}

// skipOrFail ends t for a cluster that could not start: a missing
// PostgreSQL skips it, except in CI.
func skipOrFail(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, errMissing) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	t.Fatal(err)
}

// Start starts a cluster of the test's own, stopped when the test ends,
// and returns its URL (database postgres, user postgres, no password,
// trust authentication on 127.0.0.1).
func Start(t testing.TB) string {
	t.Helper()
	c, err := start()
	if err != nil {
		skipOrFail(t, err)
	}
	t.Cleanup(c.stop)
	return c.url
}

// shared is the cluster of Database, one per test binary.
var shared struct {
	once  sync.Once
	c     *cluster
	admin *sql.DB
	err   error
	n     atomic.Int64
}

// Database creates an empty database on the cluster the test binary
// shares (started at the first call) and returns its URL; the database is
// dropped when the test ends. A package whose tests call it stops the
// cluster with Main.
func Database(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() {
		shared.c, shared.err = start()
		if shared.err == nil {
			shared.admin, shared.err = sql.Open("pgx", shared.c.url)
		}
	})
	if shared.err != nil {
		skipOrFail(t, shared.err)
	}
	name := fmt.Sprintf("t%d", shared.n.Add(1))
	ctx := context.Background()
	if _, err := shared.admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := shared.admin.ExecContext(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(shared.c.url)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Main runs a package's tests, then stops the cluster Database started,
// if any, and exits: call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared.c != nil {
		shared.admin.Close()
		shared.c.stop()
	}
	os.Exit(code)
}

// freePort asks the OS for a free port on 127.0.0.1. Another process may
// take it before PostgreSQL binds it; pg_ctl then fails loudly.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
