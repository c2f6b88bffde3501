package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/pgtest"
)

// TestTwoNodesOnePostgreSQL runs two serve nodes on one PostgreSQL
// database with the same host keys, spreads uploads across both, kills
// the node that leads the schedule with SIGKILL while uploads to it are
// mid-stream, and checks what issue 15 promises: every acknowledged upload
// is stored exactly once, an upload cut off by the kill is not
// acknowledged and not stored twice, the missing-report check run from
// both nodes records each missing night once, and the daily e-mail goes
// out once although the other node takes over the schedule. Then the
// killed node comes back while the other receives a big upload, which is
// stored whole.
func TestTwoNodesOnePostgreSQL(t *testing.T) {
	needTool(t, "ssh")
	url := pgtest.Start(t)

	// The daily report is due at start (the scheduler sends one whose time
	// passed less than an hour ago), and --check-at comes before it on the
	// same day. Near midnight that cannot hold for the test's run time.
	now := time.Now().UTC()
	reportAt := now.Add(-5 * time.Minute)
	checkAt := reportAt.Add(-time.Minute)
	if checkAt.Format(time.DateOnly) != now.Add(10*time.Minute).Format(time.DateOnly) {
		t.Skip("too close to midnight UTC for a daily report due now that stays today's")
	}
	mail := startTestSMTP(t)
	flags := []string{"--database", url,
		"--check-at", checkAt.Format("15:04"), "--report-at", reportAt.Format("15:04"), "--reports", store.ReportDaily,
		"--smtp-addr", mail.addr, "--smtp-tls", "none", "--smtp-from", "br@example.com", "--report-to", "team@example.com"}

	a := startServe(t, flags...)
	waitLog(t, a, "this node runs the schedule", "node A to lead the schedule", 60*time.Second)
	waitFor(t, "the daily report from node A", 60*time.Second, func() bool { return len(mail.messages()) >= 1 }, a)

	// Node B: its own data folder, holding node A's host keys.
	b := startSecondNode(t, a, flags...)
	// The log reaches us through a pipe: wait for B's host key lines.
	waitFor(t, "node B to log its host keys", 30*time.Second, func() bool { return len(hostKeyLines(b)) >= len(hostKeyLines(a)) }, a, b)
	if ka, kb := hostKeyLines(a), hostKeyLines(b); len(ka) == 0 || !slices.Equal(ka, kb) {
		t.Fatalf("the nodes offer different host keys:\nA: %q\nB: %q", ka, kb)
	}
	if strings.Contains(b.logs.String(), "this node runs the schedule") {
		t.Fatalf("node B runs the schedule while node A holds it\nA:\n%s\nB:\n%s", a.logs.String(), b.logs.String())
	}

	db := "--database"
	a.mustCLI("customer", "add", "acme", db, url)
	key := a.newKey("acme", "ed25519", 0)
	a.mustCLI("key", "add", "acme", key+".pub", db, url)
	// A server that never uploads: the check below records its night.
	b.mustCLI("server", "add", "acme/idle", db, url)
	report := statsOut(t, "real-success")

	// Phase 1: both nodes healthy; every upload is acknowledged.
	var ups []haUpload
	for i := range 5 {
		ups = append(ups, haUpload{node: a, server: fmt.Sprintf("a%02d", i)}, haUpload{node: b, server: fmt.Sprintf("b%02d", i)})
	}
	runUploads(ups, key, report)
	for _, u := range ups {
		if u.code != 0 {
			t.Fatalf("upload %s to a healthy node: exit %d, stderr %q\nA:\n%s\nB:\n%s", u.server, u.code, u.stderr, a.logs.String(), b.logs.String())
		}
	}

	// Phase 2: slow clients have sent part of their report to node A and
	// pause; more uploads go to both nodes; node A is killed meanwhile.
	half := report[:len(report)/2]
	logins := strings.Count(a.logs.String(), `msg="ssh login"`)
	var slow []*exec.Cmd
	slowDone := make([]chan error, 3)
	for i := range 3 {
		name := fmt.Sprintf("slow%d", i)
		cmd := exec.Command("ssh", append(a.sshArgs(key), "backup@127.0.0.1", "cat > /reports/acme/"+name+".out")...)
		var errb syncBuffer
		cmd.Stderr = &errb
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stdin.Close(); cmd.Process.Kill() })
		if _, err := stdin.Write(half); err != nil {
			t.Fatalf("slow upload %s: %v", name, err)
		}
		slow = append(slow, cmd)
		slowDone[i] = make(chan error, 1)
		go func() { slowDone[i] <- cmd.Wait() }()
		// Mid-stream: the client logged in to node A, which then runs its
		// command and reads the first half; without the rest and EOF the
		// upload cannot end.
		waitFor(t, "node A to log in slow upload "+name, 60*time.Second, func() bool {
			return strings.Count(a.logs.String(), `msg="ssh login"`) >= logins+i+1
		}, a)
	}
	time.Sleep(time.Second) // let the first half reach node A's parser

	var second []haUpload
	for i := 5; i < 10; i++ {
		second = append(second, haUpload{node: a, server: fmt.Sprintf("a%02d", i)}, haUpload{node: b, server: fmt.Sprintf("b%02d", i)})
	}
	stored := strings.Count(a.logs.String(), `msg="report stored"`)
	uploaded := make(chan struct{})
	go func() { runUploads(second, key, report); close(uploaded) }()
	// Killed once one of them is stored on node A: the others to it are
	// then in flight, some acknowledged in the moment before, some not.
	waitFor(t, "node A to store one more upload", 60*time.Second, func() bool {
		return strings.Count(a.logs.String(), `msg="report stored"`) > stored
	}, a)
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill node A: %v", err)
	}
	killed := time.Now()
	select {
	case <-uploaded:
	case <-time.After(120 * time.Second):
		t.Fatalf("uploads did not end within 120s of node A's death\nB:\n%s", b.logs.String())
	}
	for i, done := range slowDone {
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("slow upload slow%d to the killed node exited 0; want an error", i)
			}
		case <-time.After(60 * time.Second):
			t.Errorf("slow upload slow%d did not end within 60s of node A's death", i)
		}
	}
	for _, u := range second {
		if u.node == b && u.code != 0 {
			t.Errorf("upload %s to node B (alive): exit %d, stderr %q\nB:\n%s", u.server, u.code, u.stderr, b.logs.String())
		}
	}

	// Every acknowledged upload is stored once; one the kill cut off at
	// most once (committed just before the kill, unacknowledged), and
	// then not as a slow client's half.
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	uploads := func(server string) []store.ResultRow {
		t.Helper()
		srv, err := st.ServerByName(ctx, "acme", server)
		if errors.Is(err, store.ErrNotFound) {
			return nil // registered with its first result: none stored
		}
		if err != nil {
			t.Fatalf("server %s: %v", server, err)
		}
		rows, err := st.History(ctx, srv.ID, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []store.ResultRow
		for _, r := range rows {
			if r.Source == store.SourceUpload {
				out = append(out, r)
			}
		}
		return out
	}
	acked, cut := 0, 0
	for _, u := range append(ups, second...) {
		got := uploads(u.server)
		switch {
		case u.code == 0 && len(got) != 1:
			t.Errorf("acknowledged upload %s is stored %d times, want once", u.server, len(got))
		case u.code == 0 && !strings.HasPrefix(u.stderr, "backupreport: stored acme/"+u.server+":"):
			t.Errorf("upload %s exited 0 without its receipt: stderr %q", u.server, u.stderr)
		case u.code != 0 && len(got) > 1:
			t.Errorf("unacknowledged upload %s (exit %d) is stored %d times, want at most once", u.server, u.code, len(got))
		}
		if u.code == 0 {
			acked++
		} else {
			cut++
		}
	}
	for i := range slow {
		name := fmt.Sprintf("slow%d", i)
		if got := uploads(name); len(got) > 1 || len(got) == 1 && !got[0].Interrupted {
			t.Errorf("slow upload %s cut off by the kill is stored as %+v; want nothing or one interrupted result", name, got)
		}
	}
	t.Logf("%d uploads acknowledged, %d cut off by the kill, plus %d slow ones cut off", acked, cut, len(slow))

	// Node B takes over the schedule; the day's report is already claimed,
	// so it is not sent again.
	waitLog(t, b, "this node runs the schedule", "node B to take over the schedule", 90*time.Second)
	t.Logf("node B took over the schedule %s after node A's death", time.Since(killed).Round(time.Second))
	waitLog(t, b, "failure report already sent today", "node B to find the daily report sent", 60*time.Second)
	time.Sleep(3 * time.Second) // an e-mail sent regardless would have arrived by now
	if msgs := mail.messages(); len(msgs) != 1 {
		t.Errorf("%d e-mails arrived, want 1 daily report\nB:\n%s", len(msgs), b.logs.String())
	} else if !strings.Contains(msgs[0].data, "Subject:") || !slices.Equal(msgs[0].to, []string{"team@example.com"}) {
		t.Errorf("the e-mail went to %v; want team@example.com", msgs[0].to)
	}

	// Node A comes back (systemd's Restart=always) while node B receives
	// a report whose log is big enough to be written in pieces as it
	// arrives: A's start-up clean-up of pieces left by its own crash must
	// not take B's.
	big := bigReport(report)
	bigCmd := exec.Command("ssh", append(b.sshArgs(key), "backup@127.0.0.1", "cat > /reports/acme/big.out")...)
	var bigErr syncBuffer
	bigCmd.Stderr = &bigErr
	bigIn, err := bigCmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bigCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bigIn.Close(); bigCmd.Process.Kill() })
	split := len(big) - len(report)
	if _, err := bigIn.Write(big[:split]); err != nil {
		t.Fatalf("big upload to node B: %v\nB:\n%s", err, b.logs.String())
	}
	time.Sleep(2 * time.Second) // let node B write its pieces
	a.start(flags...)
	if _, err := bigIn.Write(big[split:]); err != nil {
		t.Fatalf("big upload to node B: %v\nB:\n%s", err, b.logs.String())
	}
	bigIn.Close()
	if err := bigCmd.Wait(); err != nil {
		t.Errorf("big upload to node B while node A restarted: %v, stderr %q\nB:\n%s", err, bigErr.String(), b.logs.String())
	} else if got := uploads("big"); len(got) != 1 || got[0].UploadBytes != int64(len(big)) {
		t.Errorf("big upload stored as %+v; want one result of %d bytes", got, len(big))
	}

	// The check run from both nodes' settings, as of a moment that makes
	// the idle server's first night overdue, records that night once.
	at := time.Now().Add(36 * time.Hour).UTC().Format(time.RFC3339)
	var recorded [2][]store.MissingNight
	for i, in := range []*instance{a, b} {
		out := in.mustCLI("check", db, url, "--at", at, "--timezone", "UTC", "--json")
		if err := json.Unmarshal([]byte(out), &recorded[i]); err != nil {
			t.Fatalf("check --json: %v\n%s", err, out)
		}
	}
	if !slices.ContainsFunc(recorded[0], func(m store.MissingNight) bool { return m.Server == "idle" }) {
		t.Errorf("the first check recorded %+v; want acme/idle's night among them", recorded[0])
	}
	if len(recorded[1]) != 0 {
		t.Errorf("the second check (node B's settings) recorded %+v again; want nothing", recorded[1])
	}
	// Node A, back, does not lead and sends nothing.
	if strings.Count(a.logs.String(), "this node runs the schedule") != 1 {
		t.Errorf("node A, restarted, runs the schedule while node B holds it\nA:\n%s", a.logs.String())
	}
	if n := len(mail.messages()); n != 1 {
		t.Errorf("%d e-mails arrived after node A's restart, want still 1", n)
	}

	servers, err := st.Servers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range servers {
		rows, err := st.History(ctx, srv.ID, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		nights := map[store.Night]int{}
		for _, r := range rows {
			if r.Source == store.SourceMissing {
				nights[r.Night]++
			}
		}
		for n, c := range nights {
			if c != 1 {
				t.Errorf("%s/%s night %s is recorded missing %d times", srv.Customer, srv.Name, n, c)
			}
		}
	}
}

// bigReport is report after enough listed files that its log, compressed,
// is stored in several pieces (store.ChunkBytes each).
func bigReport(report []byte) []byte {
	var b bytes.Buffer
	rnd := rand.New(rand.NewPCG(1, 2))
	for b.Len() < 8*store.ChunkBytes {
		fmt.Fprintf(&b, "shares/projects/%016x/%016x.dat\n", rnd.Uint64(), rnd.Uint64())
	}
	b.Write(report)
	return b.Bytes()
}

// haUpload is one upload of the two-node test and how ssh ended.
type haUpload struct {
	node   *instance
	server string
	code   int
	stderr string
}

// runUploads runs the uploads at once, each through OpenSSH to its
// node, and records their exit codes. It is safe while a node dies: a
// client that cannot reach its node just exits non-zero.
func runUploads(ups []haUpload, key string, report []byte) {
	var wg sync.WaitGroup
	for i := range ups {
		wg.Add(1)
		go func(u *haUpload) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			args := append(u.node.sshArgs(key), "backup@127.0.0.1", "cat > /reports/acme/"+u.server+".out")
			cmd := exec.CommandContext(ctx, "ssh", args...)
			var errb bytes.Buffer
			cmd.Stdin, cmd.Stderr = bytes.NewReader(report), &errb
			err := cmd.Run()
			u.stderr = errb.String()
			var ee *exec.ExitError
			switch {
			case err == nil:
			case errors.As(err, &ee):
				u.code = ee.ExitCode()
			default:
				u.code, u.stderr = -1, err.Error()
			}
		}(&ups[i])
	}
	wg.Wait()
}

// startSecondNode starts another serve node with its own data folder
// holding a's host keys, as an operator adds a node.
func startSecondNode(t *testing.T, a *instance, flags ...string) *instance {
	t.Helper()
	b := &instance{t: t, dir: t.TempDir(), logs: &syncBuffer{}, done: make(chan error, 1)}
	b.data = filepath.Join(b.dir, "data")
	copyHostKeys(t, a.data, b.data)
	b.start(flags...)
	return b
}

// copyHostKeys copies the host key files of one data folder into another,
// as an operator gives a second node the first one's keys.
func copyHostKeys(t *testing.T, from, to string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(from, "ssh_host_*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no host key files in %s (%v)", from, err)
	}
	if err := os.MkdirAll(to, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// hostKeyLines returns the host keys a node logged at start, by type and
// fingerprint.
func hostKeyLines(in *instance) []string {
	var out []string
	for _, l := range strings.Split(in.logs.String(), "\n") {
		if strings.Contains(l, `msg="host key"`) {
			out = append(out, l[strings.Index(l, `msg=`):])
		}
	}
	slices.Sort(out)
	return out
}

// waitLog waits until a node's log contains s.
func waitLog(t *testing.T, in *instance, s, what string, within time.Duration) {
	t.Helper()
	waitFor(t, what, within, func() bool { return strings.Contains(in.logs.String(), s) }, in)
}

// waitFor polls ok until it holds, failing the test with the nodes' logs
// after within.
func waitFor(t *testing.T, what string, within time.Duration, ok func() bool, nodes ...*instance) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return
		}
	}
	var logs strings.Builder
	for _, in := range nodes {
		fmt.Fprintf(&logs, "\n--- log of serve on port %s:\n%s", in.sshPort, in.logs.String())
	}
	t.Fatalf("waited %s for %s%s", within, what, logs.String())
}
