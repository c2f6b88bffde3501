// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb
// into a temporary folder, pg_ctl start on 127.0.0.1 at a port the OS
// chose, stopped when the test ends. Outside CI a missing PostgreSQL skips
// the test; in CI (CI=true) it fails it, so the PostgreSQL tests cannot
// silently stop running.
package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// binDir is where Debian's postgresql (15) package puts initdb and pg_ctl.
const binDir = "/usr/lib/postgresql/15/bin"

// Start starts a cluster and returns its URL (database postgres, user
// postgres, no password, trust authentication on 127.0.0.1).
func Start(t testing.TB) string {
	t.Helper()
	initdb := filepath.Join(binDir, "initdb")
	if _, err := os.Stat(initdb); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL not installed (%s missing); run scripts/install-test-deps.sh", initdb)
		}
		t.Skipf("PostgreSQL not installed (%s missing); run scripts/install-test-deps.sh", initdb)
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// PostgreSQL refuses to run as root: as root, run it as the postgres
	// user the Debian package created.
	var prefix []string
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root and no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		prefix = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(args ...string) {
		t.Helper()
		all := append(append([]string{}, prefix...), args...)
		out, err := exec.Command(all[0], all[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	data := filepath.Join(dir, "data")
	run(initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	port := freePort(t)
	run(filepath.Join(binDir, "pg_ctl"), "-D", data, "-w", "-l", filepath.Join(dir, "log"),
		"-o", fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -F", port, dir), "start")
	t.Cleanup(func() {
		all := append(append([]string{}, prefix...), filepath.Join(binDir, "pg_ctl"), "-D", data, "-m", "immediate", "stop")
		exec.Command(all[0], all[1:]...).Run()
	})
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
}

// freePort asks the OS for a free port on 127.0.0.1. Another process may
// take it before PostgreSQL binds it; pg_ctl then fails loudly.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
