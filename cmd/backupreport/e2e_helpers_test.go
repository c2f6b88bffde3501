package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// End-to-end tests build the real binary, start "backupreport serve" on
// 127.0.0.1:0 and drive it with the real clients (ssh, sftp, scp, plink).

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds backupreport once per test run, with -race when the tests
// run with it (a data race in serve then fails the test that drove it: the
// race detector prints its report on serve's stderr, which start checks).
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "backupreport-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "backupreport")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// needTool skips the test when a client is not installed, except in CI,
// where the README's test command installs it and a skip would hide a gap.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; run 'make test-deps'", name)
		}
		t.Skipf("%s is not installed; run 'make test-deps'", name)
	}
	return p
}

// instance is one running "backupreport serve".
type instance struct {
	t       *testing.T
	dir     string // scratch folder for keys and reports
	data    string
	sshPort string
	// httpAddr is the web side's address, once serve printed it.
	httpAddr atomic.Value // string
	cmd      *exec.Cmd
	logs     *syncBuffer
	done     chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe starts serve on a fresh data folder with extra flags.
func startServe(t *testing.T, extra ...string) *instance {
	t.Helper()
	needTool(t, "ssh")
	bin := binary(t)
	dir := t.TempDir()
	in := &instance{t: t, dir: dir, data: filepath.Join(dir, "data"), logs: &syncBuffer{}, done: make(chan error, 1)}
	in.start(extra...)
	_ = bin
	return in
}

func (in *instance) start(extra ...string) {
	t := in.t
	t.Helper()
	args := append([]string{"serve", "--data", in.data, "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--timezone", "UTC"}, extra...)
	in.cmd = exec.Command(binary(t), args...)
	in.done = make(chan error, 1)
	in.cmd.Env = append(os.Environ(), "BACKUPREPORT_DATA=")
	in.cmd.Stderr = in.logs
	stdout, err := in.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ssh listening on "); ok {
				addr <- a
			}
			if a, ok := strings.CutPrefix(sc.Text(), "http listening on "); ok {
				in.httpAddr.Store(a)
			}
		}
	}()
	go func() { in.done <- in.cmd.Wait() }()
	select {
	case a := <-addr:
		in.sshPort = a[strings.LastIndex(a, ":")+1:]
	case err := <-in.done:
		t.Fatalf("serve exited early: %v\n%s", err, in.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start\n%s", in.logs.String())
	}
	t.Cleanup(func() {
		in.stop()
		if strings.Contains(in.logs.String(), "WARNING: DATA RACE") {
			t.Errorf("serve had a data race:\n%s", in.logs.String())
		}
	})
}

// web returns the web side's address, waiting for serve to print it.
func (in *instance) web() string {
	in.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if a, _ := in.httpAddr.Load().(string); a != "" {
			return a
		}
	}
	in.t.Fatalf("serve printed no http address\n%s", in.logs.String())
	return ""
}

// stop sends SIGTERM and waits for a clean exit.
func (in *instance) stop() error {
	// Not cmd.ProcessState: the goroutine in start writes it in Wait.
	select {
	case err := <-in.done:
		in.done <- err
		return err
	default:
	}
	in.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-in.done:
		in.done <- err
		return err
	case <-time.After(40 * time.Second):
		in.cmd.Process.Kill()
		return fmt.Errorf("serve did not stop within 40s")
	}
}

type runResult struct {
	stdout, stderr string
	code           int
}

// run runs a command with a timeout and returns its output and status.
func run(t *testing.T, stdin io.Reader, name string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	// A child the command left behind (bench's serve, when bench is
	// killed at the timeout) may hold its output open: stop waiting for
	// it after a while instead of hanging the whole test run.
	cmd.WaitDelay = 10 * time.Second
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		code = ee.ExitCode()
	}
	return runResult{out.String(), errb.String(), code}
}

// cli runs a backupreport admin command on the instance's data folder.
func (in *instance) cli(args ...string) runResult {
	in.t.Helper()
	return run(in.t, nil, binary(in.t), append(args, "--data", in.data)...)
}

// mustCLI runs an admin command and fails the test when it fails.
func (in *instance) mustCLI(args ...string) string {
	in.t.Helper()
	r := in.cli(args...)
	if r.code != 0 {
		in.t.Fatalf("backupreport %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// newKey makes a key pair with ssh-keygen and returns the private key path.
func (in *instance) newKey(name, typ string, bits int) string {
	in.t.Helper()
	p := filepath.Join(in.dir, name)
	args := []string{"-q", "-t", typ, "-N", "", "-C", name, "-f", p}
	if bits > 0 {
		args = append(args, "-b", fmt.Sprint(bits))
	}
	if r := run(in.t, nil, "ssh-keygen", args...); r.code != 0 {
		in.t.Fatalf("ssh-keygen %v: %s", args, r.stderr)
	}
	return p
}

// addKey registers a key's public half for CUSTOMER[/SERVER].
func (in *instance) addKey(owner, key string) string {
	in.t.Helper()
	return strings.TrimSpace(in.mustCLI("key", "add", owner, key+".pub"))
}

// sshArgs are the client options every test uses, then extra ones.
func (in *instance) sshArgs(key string, extra ...string) []string {
	args := []string{"-o", "Port=" + in.sshPort, "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20"}
	return append(args, extra...)
}

// upload pipes a report through ssh the way backup.bat does.
func (in *instance) upload(key, command string, report []byte, extra ...string) runResult {
	in.t.Helper()
	args := append(in.sshArgs(key, extra...), "backup@127.0.0.1", command)
	return run(in.t, bytes.NewReader(report), "ssh", args...)
}

// statusRow is what "status --json" promises.
type statusRow struct {
	Customer       string  `json:"customer"`
	Server         string  `json:"server"`
	Code           int     `json:"code"`
	Status         string  `json:"status"`
	ReceivedAt     *string `json:"received_at"`
	FileErrors     int     `json:"file_errors"`
	ExceptedErrors int     `json:"excepted_errors"`
}

// status runs "status --json" and returns the rows by "customer/server".
func (in *instance) status() map[string]statusRow {
	in.t.Helper()
	out := in.mustCLI("status", "--json")
	var rows []statusRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		in.t.Fatalf("status --json: %v\n%s", err, out)
	}
	m := map[string]statusRow{}
	for _, r := range rows {
		m[r.Customer+"/"+r.Server] = r
	}
	return m
}

// historyLen returns how many results a server has.
func (in *instance) historyLen(server string) int {
	in.t.Helper()
	r := in.cli("history", server, "--json")
	if r.code != 0 {
		return 0
	}
	var rows []json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		in.t.Fatalf("history --json: %v", err)
	}
	return len(rows)
}

// statsOut reads a stats.out from testdata.
func statsOut(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "rsync", name, "stats.out"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
