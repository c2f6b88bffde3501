package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScript checks the command contract of the README, written as scripts
// in testdata/script/*.txtar (one per topic; each reads as a spec, and
// testdata/script/README.md lists the commands they use besides
// testscript's own). Run one with
// "go test ./cmd/backupreport -run TestScript/NAME".
//
// The scripts drive the binary that the end-to-end tests build (with -race
// when the tests run with it), a real serve on 127.0.0.1:0, the real
// OpenSSH clients and ssh-keygen.
func TestScript(t *testing.T) {
	for _, tool := range []string{"ssh", "sftp", "scp", "ssh-keygen"} {
		needTool(t, tool)
	}
	bin := binary(t)
	testscript.Run(t, testscript.Params{
		Dir:                "testdata/script",
		RequireUniqueNames: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+e.Getenv("PATH"))
			e.Setenv("BACKUPREPORT_DATA", filepath.Join(e.WorkDir, "data"))
			e.Values[scriptStateKey{}] = &scriptState{bin: bin}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"backupreport": func(ts *testscript.TestScript, neg bool, args []string) {
				state(ts).run(ts, neg, bin, args...)
			},
			"exitstatus": cmdExitStatus,
			"keygen":     cmdKeygen,
			"serve":      cmdServe,
			"stopserve":  cmdStopServe,
			"ssh":        cmdSSH,
			"sftp":       cmdSFTP,
			"scp":        cmdSCP,
		},
	})
}

type scriptStateKey struct{}

// scriptState is what one script's custom commands share.
type scriptState struct {
	bin      string
	lastExit int
	serve    *scriptServe
}

func state(ts *testscript.TestScript) *scriptState {
	return ts.Value(scriptStateKey{}).(*scriptState)
}

// run runs a program like testscript's exec (stdin, stdout and stderr
// included) and records its exit status for exitstatus.
func (s *scriptState) run(ts *testscript.TestScript, neg bool, name string, args ...string) {
	err := ts.Exec(name, args...)
	s.lastExit = 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", name, err)
		}
		s.lastExit = ee.ExitCode()
	}
	if strings.Contains(ts.ReadFile("stderr"), "WARNING: DATA RACE") {
		ts.Fatalf("%s had a data race", name)
	}
	switch {
	case neg && s.lastExit == 0:
		ts.Fatalf("%s succeeded unexpectedly", filepath.Base(name))
	case !neg && s.lastExit != 0:
		ts.Fatalf("%s exited %d", filepath.Base(name), s.lastExit)
	}
}

func cmdExitStatus(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: exitstatus N")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitstatus: %v", err)
	}
	if got := state(ts).lastExit; (got == want) == neg {
		ts.Fatalf("exit status %d, want %s%d", got, map[bool]string{true: "not "}[neg], want)
	}
}

func cmdKeygen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 3 {
		ts.Fatalf("usage: keygen NAME [TYPE [BITS]]")
	}
	name, typ := args[0], "ed25519"
	if len(args) > 1 {
		typ = args[1]
	}
	kargs := []string{"-q", "-t", typ, "-N", "", "-C", name, "-f", ts.MkAbs(name)}
	if len(args) > 2 {
		kargs = append(kargs, "-b", args[2])
	}
	if out, err := exec.Command("ssh-keygen", kargs...).CombinedOutput(); err != nil {
		ts.Fatalf("ssh-keygen %v: %v\n%s", kargs, err, out)
	}
	out, err := exec.Command("ssh-keygen", "-lf", ts.MkAbs(name+".pub")).Output()
	if err != nil {
		ts.Fatalf("ssh-keygen -lf: %v", err)
	}
	fields := strings.Fields(string(out))
	if len(fields) < 2 {
		ts.Fatalf("ssh-keygen -lf printed %q", out)
	}
	ts.Setenv(name+"_fp", fields[1])
}

// scriptServe is one "backupreport serve" a script started.
type scriptServe struct {
	cmd    *exec.Cmd
	stdout strings.Builder
	logs   syncBuffer
	done   chan error
	mu     sync.Mutex // guards stdout
}

func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	st := state(ts)
	if neg {
		ts.Fatalf("unsupported: ! serve")
	}
	if st.serve != nil {
		ts.Fatalf("serve is already running; stopserve first")
	}
	s := &scriptServe{done: make(chan error, 1)}
	s.cmd = exec.Command(st.bin, append([]string{"serve", "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--timezone", "UTC"}, args...)...)
	s.cmd.Dir = ts.MkAbs(".")
	s.cmd.Env = []string{"PATH=" + ts.Getenv("PATH"), "HOME=" + ts.Getenv("HOME"), "TMPDIR=" + ts.Getenv("TMPDIR"),
		"BACKUPREPORT_DATA=" + ts.Getenv("BACKUPREPORT_DATA")}
	if v := os.Getenv("GORACE"); v != "" {
		s.cmd.Env = append(s.cmd.Env, "GORACE="+v)
	}
	s.cmd.Stderr = &s.logs
	stdout, err := s.cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(s.cmd.Start())
	st.serve = s
	ts.Defer(func() {
		if st.serve == s {
			s.stop()
			if strings.Contains(s.logs.String(), "WARNING: DATA RACE") {
				ts.Fatalf("serve had a data race:\n%s", s.logs.String())
			}
		}
	})
	wantHTTP := true
	for _, a := range args {
		if a == "--http-addr=" || a == "-http-addr=" {
			wantHTTP = false
		}
	}
	listening := make(chan [2]string, 1)
	go func() {
		var ssh, web string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.stdout.WriteString(line + "\n")
			s.mu.Unlock()
			if a, ok := strings.CutPrefix(line, "ssh listening on "); ok {
				ssh = a
			}
			if a, ok := strings.CutPrefix(line, "http listening on "); ok {
				web = a
			}
			if ssh != "" && (web != "" || !wantHTTP) {
				listening <- [2]string{ssh, web}
				ssh = ""
			}
		}
		s.done <- s.cmd.Wait()
	}()
	select {
	case addrs := <-listening:
		ts.Setenv("SSH_PORT", addrs[0][strings.LastIndex(addrs[0], ":")+1:])
		ts.Setenv("HTTP_ADDR", addrs[1])
	case err := <-s.done:
		s.done <- err
		ts.Fatalf("serve exited before it listened: %v\n%s", err, s.logs.String())
	case <-time.After(60 * time.Second):
		ts.Fatalf("serve did not listen within 60s\n%s", s.logs.String())
	}
}

// stop interrupts serve and waits for it to exit.
func (s *scriptServe) stop() error {
	select {
	case err := <-s.done:
		s.done <- err
		return err
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(40 * time.Second):
		s.cmd.Process.Kill()
		return fmt.Errorf("serve did not stop within 40s")
	}
}

func cmdStopServe(ts *testscript.TestScript, neg bool, args []string) {
	st := state(ts)
	if len(args) != 0 || st.serve == nil {
		ts.Fatalf("usage: stopserve, after serve")
	}
	s := st.serve
	err := s.stop()
	st.serve = nil
	s.mu.Lock()
	fmt.Fprint(ts.Stdout(), s.stdout.String())
	s.mu.Unlock()
	fmt.Fprint(ts.Stderr(), s.logs.String())
	if strings.Contains(s.logs.String(), "WARNING: DATA RACE") {
		ts.Fatalf("serve had a data race")
	}
	switch {
	case neg && err == nil:
		ts.Fatalf("serve exited 0 unexpectedly")
	case !neg && err != nil:
		ts.Fatalf("serve: %v", err)
	}
}

// clientArgs are the options every client gets: the running serve's port,
// the key and nothing from the user's files or agent.
func clientArgs(ts *testscript.TestScript, key string) []string {
	if state(ts).serve == nil {
		ts.Fatalf("no serve is running")
	}
	return []string{"-o", "Port=" + ts.Getenv("SSH_PORT"), "-i", ts.MkAbs(key), "-F", "none",
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		"-o", "ConnectTimeout=20"}
}

// splitOptions separates leading client options (and the values of those
// that take one) from the other arguments.
func splitOptions(args []string) (opts, rest []string) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		n := 1
		switch args[0] {
		case "-o", "-R", "-L", "-D", "-W", "-p", "-P", "-l", "-c", "-m":
			n = min(2, len(args))
		}
		opts, args = append(opts, args[:n]...), args[n:]
	}
	return opts, args
}

func cmdSSH(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: ssh KEY [OPTION...] [COMMAND]")
	}
	opts, rest := splitOptions(args[1:])
	if len(rest) > 1 {
		ts.Fatalf("ssh: give COMMAND as one quoted argument")
	}
	a := append(append(clientArgs(ts, args[0]), opts...), "backup@127.0.0.1")
	state(ts).run(ts, neg, "ssh", append(a, rest...)...)
}

func cmdSFTP(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sftp KEY BATCHFILE")
	}
	a := append(clientArgs(ts, args[0]), "-b", ts.MkAbs(args[1]), "backup@127.0.0.1")
	state(ts).run(ts, neg, "sftp", a...)
}

func cmdSCP(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: scp KEY [OPTION...] FILE PATH")
	}
	opts, rest := splitOptions(args[1:])
	if len(rest) != 2 {
		ts.Fatalf("usage: scp KEY [OPTION...] FILE PATH")
	}
	a := append(append(clientArgs(ts, args[0]), opts...), ts.MkAbs(rest[0]), "backup@127.0.0.1:"+rest[1])
	state(ts).run(ts, neg, "scp", a...)
}
