package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/store"
)

func init() {
	register(&command{name: "bench", summary: "measure uploads/s of serve against OpenSSH sshd and a bare SSH server (the floor)", run: runBench})
}

// benchTarget is one SSH server the load generator drives.
type benchTarget struct {
	name string
	addr string
	user string
	pid  int // 0: in this process (floor-inprocess), no RSS of its own
	// command returns the exec command of an upload to server i.
	command func(i int) string
}

// benchLevel is the outcome of one concurrency level against one target.
type benchLevel struct {
	Clients int     `json:"clients"`
	Uploads int     `json:"uploads"`
	Errors  int     `json:"errors"`
	PerSec  float64 `json:"uploads_per_s"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
	Ratio   float64 `json:"ratio_to_floor,omitempty"`
	// CPUms is the target's CPU per upload (see procCPUSecs); 0 for a
	// target in bench's own process. CPURatio is CPUms over the floor's.
	CPUms    float64 `json:"cpu_ms_per_upload,omitempty"`
	CPURatio float64 `json:"cpu_ratio_to_floor,omitempty"`
}

// benchResult is everything measured against one target.
type benchResult struct {
	Target        string       `json:"target"`
	Levels        []benchLevel `json:"levels"`
	NightUploads  int          `json:"night_uploads"`
	NightSecs     float64      `json:"night_s"`
	NightErrors   int          `json:"night_errors"`
	NightLost     int          `json:"night_lost"` // acknowledged but not in the database; -1: not checked
	NightRatio    float64      `json:"night_ratio_to_floor,omitempty"`
	NightCPUms    float64      `json:"night_cpu_ms_per_upload,omitempty"`
	NightCPURatio float64      `json:"night_cpu_ratio_to_floor,omitempty"`
	BulkMBps      float64      `json:"bulk_mb_per_s"`
	BulkErr       string       `json:"bulk_error,omitempty"`
	BulkRatio     float64      `json:"bulk_ratio_to_floor,omitempty"`
	RSSIdleMiB    float64      `json:"rss_idle_mib,omitempty"`
	RSSOpenMiB    float64      `json:"rss_open_sessions_mib,omitempty"`
	RSSNightMiB   float64      `json:"rss_after_night_mib,omitempty"`
	HWMMiB        float64      `json:"rss_peak_mib,omitempty"`
	Skipped       string       `json:"skipped,omitempty"`
}

func runBench(ctx context.Context, a *app, args []string) int {
	fs := a.newFlags("bench", "[flags]",
		"Starts on 127.0.0.1 this binary's serve (fresh temp data folder), OpenSSH's sshd with a private\n"+
			"config writing the upload to a file, and a bare x/crypto SSH server that discards it (the floor),\n"+
			"then drives each with one load generator: a new SSH connection per upload, as backup.bat makes them\n"+
			"(curve25519, Ed25519 client key, OpenSSH's host key preference). Prints uploads/s, p50/p99 and each\n"+
			"server's CPU per upload (from /proc, steadier than rates on a shared machine) per level of\n"+
			"concurrent clients, the night of many uploads, a bulk upload in MB/s, serve's RSS, and each\n"+
			"figure as a ratio of the floor's. Figures depend on the machine; nothing here is a pass/fail test.")
	levelsFlag := fs.String("levels", "1,8,64,256", "comma-separated numbers of concurrent clients")
	levelTime := fs.Duration("level-time", 5*time.Second, "how long each level runs")
	servers := fs.Int("servers", 1000, "server names the uploads go to, in turn; serve registers them in a warm-up before the levels, as a real night's servers are known")
	night := fs.Int("night", 10000, "uploads of the night, to the --servers names in turn, at the largest level; 0 skips it")
	bulk := fs.Int64("bulk-bytes", 256<<20, "size of the one bulk upload; 0 skips it")
	reportFile := fs.String("report", filepath.Join("testdata", "rsync", "hand-cygwin-ssh-code23", "stats.out"), "a real rsync report `FILE`, padded with file lines to --report-bytes")
	reportBytes := fs.Int("report-bytes", 13230, "size of the uploaded report")
	targetsFlag := fs.String("targets", "floor,serve,sshd", "which servers to drive: floor (a process of its own, as serve and sshd), floor-inprocess (in this process, sharing the load generator's scheduler), serve, serve-pg (serve on --database), sshd; the floors are measured first, and ratios are to floor (else floor-inprocess)")
	database := fs.String("database", "", "a fresh, empty PostgreSQL database `URL` for the serve-pg target")
	sshd := fs.String("sshd", "/usr/sbin/sshd", "the OpenSSH sshd binary (missing: its column is skipped)")
	sshdNight := fs.Int("sshd-night", 500, "uploads of sshd's night, at most --night (sshd makes a few per second: 10,000 would take most of an hour)")
	serveFlags := fs.String("serve-flags", "", "more flags for serve, separated by spaces (e.g. \"--pprof 127.0.0.1:6060\")")
	asJSON := fs.Bool("json", false, "print the results as JSON instead of a table")
	floorChild := fs.String("floor-child", "", "internal: serve only the floor, with host keys in `DIR`, until killed (bench starts itself so for the floor target)")
	floorClientKey := fs.String("floor-client-key", "", "internal: with --floor-child, the public key `FILE` the floor accepts")
	pos, code := a.parseFlags(fs, args)
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return a.usageErr(fs, "bench takes no arguments, got %q", pos[0])
	}
	if *floorChild != "" {
		if *floorClientKey == "" {
			return a.usageErr(fs, "--floor-child needs --floor-client-key FILE")
		}
		return runFloorChild(a, *floorChild, *floorClientKey)
	}
	var levels []int
	for _, f := range strings.Split(*levelsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return a.usageErr(fs, "--levels: %q is not a positive number", f)
		}
		levels = append(levels, n)
	}
	rep, err := benchReport(*reportFile, *reportBytes)
	if err != nil {
		return a.usageErr(fs, "--report: %v", err)
	}
	tmp, err := os.MkdirTemp("", "backupreport-bench-")
	if err != nil {
		return a.fail("bench: %v", err)
	}
	defer os.RemoveAll(tmp)

	_, clientKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return a.fail("bench: client key: %v", err)
	}
	signer, err := gossh.NewSignerFromKey(clientKey)
	if err != nil {
		return a.fail("bench: client key: %v", err)
	}
	pubFile := filepath.Join(tmp, "client.pub")
	if err := os.WriteFile(pubFile, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		return a.fail("bench: %v", err)
	}

	want := map[string]bool{}
	for _, t := range strings.Split(*targetsFlag, ",") {
		want[strings.TrimSpace(t)] = true
	}
	var results []*benchResult
	run := func(t *benchTarget, db func() (int, error)) *benchResult {
		fmt.Fprintf(a.stderr, "bench: %s on %s\n", t.name, t.addr)
		n := *night
		if t.name == "sshd" {
			n = min(n, *sshdNight)
		}
		r := benchRun(ctx, t, signer, rep, levels, *levelTime, n, *bulk, *servers, db)
		results = append(results, r)
		return r
	}
	var ref *benchResult // what the ratios are to
	for _, name := range []string{"floor", "floor-inprocess"} {
		if !want[name] {
			continue
		}
		var t *benchTarget
		var stop func()
		var err error
		if name == "floor" {
			t, stop, err = benchFloorChild(ctx, filepath.Join(tmp, name), pubFile)
		} else {
			t, stop, err = benchFloorInProcess(filepath.Join(tmp, name), signer.PublicKey())
		}
		if err != nil {
			return a.fail("bench: %s: %v", name, err)
		}
		r := run(t, nil)
		stop()
		if ref == nil {
			ref = r
		}
	}
	for _, target := range []string{"serve", "serve-pg"} {
		if !want[target] {
			continue
		}
		dsn := ""
		if target == "serve-pg" {
			if dsn = *database; dsn == "" {
				return a.usageErr(fs, "--targets serve-pg needs --database URL (a fresh, empty PostgreSQL database)")
			}
		}
		if _, err := benchServe(ctx, a, target, dsn, tmp, pubFile, strings.Fields(*serveFlags), run); err != nil {
			fmt.Fprintf(a.stderr, "bench: %s: %v\n", target, err)
			results = append(results, &benchResult{Target: target, Skipped: err.Error()})
		}
	}
	if want["sshd"] {
		if err := benchSSHD(ctx, *sshd, tmp, pubFile, func(t *benchTarget) { run(t, nil) }); err != nil {
			fmt.Fprintf(a.stderr, "bench: sshd: %v\n", err)
			results = append(results, &benchResult{Target: "sshd", Skipped: err.Error()})
		}
	}
	if floor := ref; floor != nil {
		for _, r := range results {
			if r == floor || r.Skipped != "" {
				continue
			}
			for i := range r.Levels {
				if i < len(floor.Levels) && floor.Levels[i].PerSec > 0 {
					r.Levels[i].Ratio = r.Levels[i].PerSec / floor.Levels[i].PerSec
				}
				if i < len(floor.Levels) && floor.Levels[i].CPUms > 0 && r.Levels[i].CPUms > 0 {
					r.Levels[i].CPURatio = r.Levels[i].CPUms / floor.Levels[i].CPUms
				}
			}
			if floor.NightSecs > 0 && r.NightSecs > 0 && floor.NightUploads > 0 { // uploads/s: sshd's night is shorter
				r.NightRatio = float64(r.NightUploads) / r.NightSecs / (float64(floor.NightUploads) / floor.NightSecs)
			}
			if floor.NightCPUms > 0 && r.NightCPUms > 0 {
				r.NightCPURatio = r.NightCPUms / floor.NightCPUms
			}
			if floor.BulkMBps > 0 {
				r.BulkRatio = r.BulkMBps / floor.BulkMBps
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return a.fail("bench: %v", err)
		}
		return exitOK
	}
	benchTable(a.stdout, results, levels)
	return exitOK
}

// benchReport reads a real report and pads its file list to size bytes, the
// way server's BenchmarkEOFToAck builds its 13 KB report.
func benchReport(path string, size int) ([]byte, error) {
	base, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	head, tail, ok := bytes.Cut(base, []byte("sending incremental file list\n"))
	if !ok {
		return base, nil
	}
	var r bytes.Buffer
	r.Write(head)
	r.WriteString("sending incremental file list\n")
	for i := 0; r.Len() < size-len(tail); i++ {
		fmt.Fprintf(&r, "/cygdrive/E/shares/Projects/Client files/2026/report-%d.docx\n", i)
	}
	r.Write(tail)
	return r.Bytes(), nil
}

// benchServe starts this binary's serve as a child on a fresh data folder
// (and on the PostgreSQL database dsn, if given) with customer "bench" and
// the client key added through the CLI, runs the measurements as target
// and stops it.
func benchServe(ctx context.Context, a *app, target, dsn, tmp, pubFile string, extra []string, run func(*benchTarget, func() (int, error)) *benchResult) (*benchResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(tmp, target)
	db := []string{"--data", data}
	if dsn != "" {
		db = append(db, "--database", dsn)
	}
	for _, args := range [][]string{append([]string{"customer", "add", "bench"}, db...), append([]string{"key", "add", "bench", pubFile}, db...)} {
		if out, err := exec.CommandContext(ctx, self, args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v: %s", strings.Join(args[:2], " "), err, out)
		}
	}
	cmd := exec.CommandContext(ctx, self, "serve", "--data", data, "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--timezone", "UTC", "--log-level", "error",
		// The load comes from one address and one key, which a real night's
		// does not: the per-source and per-key caps would measure themselves.
		"--max-startups-per-source", "-1", "--max-sessions-per-key", "4096", "--max-open-sessions", "4096")
	if dsn != "" {
		cmd.Args = append(cmd.Args, "--database", dsn)
	}
	cmd.Args = append(cmd.Args, extra...)
	cmd.Env = benchServeEnv()
	dieWithParent(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), "ssh listening on "); ok {
				addr <- s
			} else if strings.HasPrefix(sc.Text(), "pprof listening on ") {
				fmt.Fprintf(os.Stderr, "bench: serve: %s\n", sc.Text())
			}
		}
	}()
	var sshAddr string
	select {
	case sshAddr = <-addr:
	case <-time.After(30 * time.Second):
		return nil, errors.New("serve did not say where it listens within 30 s")
	}
	sdb, err := openData(ctx, data, dsn)
	if err != nil {
		return nil, err
	}
	defer sdb.Close()
	count := func() (int, error) { return sdb.CountSelected(ctx, store.Selection{}) }
	r := run(&benchTarget{name: target, addr: sshAddr, user: "backup", pid: cmd.Process.Pid,
		command: benchUploadCommand}, count)
	return r, nil
}

// benchServeEnv is the environment of the serve child: the caller's, without
// BACKUPREPORT_* settings that would change what is measured.
func benchServeEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "BACKUPREPORT_") {
			env = append(env, e)
		}
	}
	return env
}

// benchSSHD starts OpenSSH's sshd as the current user with a private config
// (own host key, own authorized_keys, ForceCommand writing the upload to a
// file) and runs the measurements against it.
func benchSSHD(ctx context.Context, sshd, tmp, pubFile string, run func(*benchTarget)) error {
	if _, err := os.Stat(sshd); err != nil {
		return err
	}
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		return err
	}
	dir := filepath.Join(tmp, "sshd")
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o700); err != nil {
		return err
	}
	os.MkdirAll("/run/sshd", 0o755) // privilege separation folder; fails harmlessly when not root
	for _, t := range []string{"ed25519", "rsa"} {
		if out, err := exec.CommandContext(ctx, keygen, "-q", "-t", t, "-N", "", "-f", filepath.Join(dir, "host_"+t)).CombinedOutput(); err != nil {
			return fmt.Errorf("ssh-keygen: %v: %s", err, out)
		}
	}
	pub, err := os.ReadFile(pubFile)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	cfg := fmt.Sprintf(`ListenAddress 127.0.0.1
Port %s
HostKey %s
HostKey %s
AuthorizedKeysFile %s
PidFile none
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxStartups 1024
MaxSessions 1024
UseDNS no
ForceCommand cat > %s
`, port, filepath.Join(dir, "host_ed25519"), filepath.Join(dir, "host_rsa"), filepath.Join(dir, "authorized_keys"),
		filepath.Join(dir, "out", "upload.out"))
	cfgFile := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, sshd, "-D", "-e", "-f", cfgFile)
	dieWithParent(cmd)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sshd did not listen: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	user := os.Getenv("USER")
	if user == "" {
		user = "root"
	}
	run(&benchTarget{name: "sshd", addr: addr, user: user, pid: cmd.Process.Pid,
		command: func(int) string { return "cat > upload.out" }})
	return nil
}

// benchClientConfig is the load generator's client: an Ed25519 key,
// curve25519, and OpenSSH's default host key preference (backup.bat runs
// OpenSSH's ssh.exe), which puts Ed25519 first.
func benchClientConfig(user string, signer gossh.Signer) *gossh.ClientConfig {
	return &gossh.ClientConfig{
		User: user, Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback:   gossh.InsecureIgnoreHostKey(),
		HostKeyAlgorithms: []string{gossh.KeyAlgoED25519, gossh.KeyAlgoECDSA256, gossh.KeyAlgoECDSA384, gossh.KeyAlgoECDSA521, gossh.KeyAlgoRSASHA512, gossh.KeyAlgoRSASHA256},
		Config:            gossh.Config{KeyExchanges: []string{gossh.KeyExchangeCurve25519}},
		Timeout:           60 * time.Second,
	}
}

// benchUpload makes one upload over a new connection and returns when the
// server acknowledged it (exit status 0). hold, when not nil, is closed by
// the caller to let an upload finish that has sent half its report.
func benchUpload(cfg *gossh.ClientConfig, addr, command string, body io.Reader, opened func(), hold <-chan struct{}) error {
	c, err := gossh.Dial("tcp", addr, cfg)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	defer s.Close()
	stdin, err := s.StdinPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	s.Stderr = &stderr
	if err := s.Start(command); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	if opened != nil {
		opened()
	}
	if hold != nil {
		<-hold
	}
	if _, err := io.Copy(stdin, body); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	stdin.Close()
	if err := s.Wait(); err != nil {
		return fmt.Errorf("upload: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}

// benchLoad runs uploads from clients goroutines until n uploads were made
// (n > 0) or d passed, and returns the level's figures.
func benchLoad(ctx context.Context, t *benchTarget, cfg *gossh.ClientConfig, rep []byte, clients, n int, d time.Duration, firstIdx int) (benchLevel, []int) {
	var (
		mu    sync.Mutex
		lat   []time.Duration
		acked []int
		errs  int
		next  atomic.Int64
	)
	cpu0, _ := procCPUSecs(t.pid)
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if n > 0 && i >= n || n == 0 && time.Now().After(stop) {
					return
				}
				t0 := time.Now()
				err := benchUpload(cfg, t.addr, t.command(firstIdx+i), bytes.NewReader(rep), nil, nil)
				el := time.Since(t0)
				mu.Lock()
				if err != nil {
					if errs < 3 {
						fmt.Fprintf(os.Stderr, "bench: %s: %v\n", t.name, err)
					}
					errs++
				} else {
					lat = append(lat, el)
					acked = append(acked, firstIdx+i)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	cpu1, _ := procCPUSecs(t.pid)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	l := benchLevel{Clients: clients, Uploads: len(lat), Errors: errs, PerSec: float64(len(lat)) / el.Seconds(),
		CPUms: cpuPerUpload(cpu0, cpu1, len(lat))}
	if len(lat) > 0 {
		l.P50ms = float64(lat[len(lat)/2].Microseconds()) / 1000
		l.P99ms = float64(lat[len(lat)*99/100].Microseconds()) / 1000
	}
	return l, acked
}

// benchRun measures one target: the levels, RSS with the largest level's
// sessions open, the night, and the bulk upload. count, when not nil,
// returns the results in the target's database (for lost uploads).
func benchRun(ctx context.Context, t *benchTarget, signer gossh.Signer, rep []byte, levels []int, d time.Duration, night int, bulk int64, servers int, count func() (int, error)) *benchResult {
	cfg := benchClientConfig(t.user, signer)
	servers = max(servers, 1)
	name := t.command
	t = &benchTarget{name: t.name, addr: t.addr, user: t.user, pid: t.pid, command: func(i int) string { return name(i % servers) }}
	if count != nil { // registers the servers: not measured
		benchLoad(ctx, t, cfg, rep, 8, servers, 0, 0)
	}
	r := &benchResult{Target: t.name, NightLost: -1}
	r.RSSIdleMiB, _ = procMiB(t.pid, "VmRSS")
	idx := 0
	for _, c := range levels {
		l, _ := benchLoad(ctx, t, cfg, rep, c, 0, d, idx)
		idx += l.Uploads + l.Errors + c
		r.Levels = append(r.Levels, l)
		fmt.Fprintf(os.Stderr, "bench: %s: %d clients: %.0f/s\n", t.name, c, l.PerSec)
	}
	if t.pid != 0 && len(levels) > 0 {
		r.RSSOpenMiB = benchOpenSessions(t, cfg, rep, levels[len(levels)-1], idx)
		idx += levels[len(levels)-1]
	}
	if night > 0 {
		before := 0
		if count != nil {
			before, _ = count()
		}
		clients := 256
		if len(levels) > 0 {
			clients = levels[len(levels)-1]
		}
		t0 := time.Now()
		l, acked := benchLoad(ctx, t, cfg, rep, clients, night, 0, 1_000_000)
		r.NightSecs = time.Since(t0).Seconds()
		r.NightUploads, r.NightErrors, r.NightCPUms = l.Uploads, l.Errors, l.CPUms
		if count != nil {
			if after, err := count(); err == nil {
				r.NightLost = max(0, len(acked)-(after-before))
			}
		}
		r.RSSNightMiB, _ = procMiB(t.pid, "VmRSS")
	}
	if bulk > 0 {
		t0 := time.Now()
		err := benchUpload(cfg, t.addr, t.command(2_000_000), io.LimitReader(benchZeroLines{}, bulk), nil, nil)
		if err != nil {
			r.BulkErr = err.Error()
		} else {
			r.BulkMBps = float64(bulk) / 1e6 / time.Since(t0).Seconds()
		}
	}
	r.HWMMiB, _ = procMiB(t.pid, "VmHWM")
	return r
}

// benchOpenSessions opens n uploads that have started their command and
// wait, reads the target's RSS, then lets them finish.
func benchOpenSessions(t *benchTarget, cfg *gossh.ClientConfig, rep []byte, n, firstIdx int) float64 {
	hold := make(chan struct{})
	var opened sync.WaitGroup
	opened.Add(n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var once sync.Once
			done := func() { once.Do(opened.Done) }
			defer done()
			benchUpload(cfg, t.addr, t.command(firstIdx+i), bytes.NewReader(rep), done, hold)
		}()
	}
	opened.Wait()
	time.Sleep(200 * time.Millisecond)
	rss, _ := procMiB(t.pid, "VmRSS")
	close(hold)
	wg.Wait()
	return rss
}

// benchZeroLines is an endless stream of rsync-like file lines for the bulk
// upload.
type benchZeroLines struct{}

func (benchZeroLines) Read(p []byte) (int, error) {
	const line = "/cygdrive/E/shares/Projects/Client files/2026/some-file.docx\n"
	for i := range p {
		p[i] = line[i%len(line)]
	}
	return len(p), nil
}

// procMiB reads a field such as VmRSS or VmHWM of /proc/PID/status in MiB.
func procMiB(pid int, field string) (float64, error) {
	if pid == 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// benchTable prints the results as one table, a column per target.
func benchTable(w io.Writer, results []*benchResult, levels []int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t", r.Target)
	}
	fmt.Fprintln(tw)
	row := func(label string, f func(r *benchResult) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, r := range results {
			if r.Skipped != "" {
				fmt.Fprint(tw, "skipped\t")
				continue
			}
			fmt.Fprintf(tw, "%s\t", f(r))
		}
		fmt.Fprintln(tw)
	}
	ratio := func(x float64) string {
		if x == 0 {
			return ""
		}
		return fmt.Sprintf(" (%.2fx)", x)
	}
	for i, c := range levels {
		row(fmt.Sprintf("%d clients: uploads/s", c), func(r *benchResult) string {
			return fmt.Sprintf("%.0f%s", r.Levels[i].PerSec, ratio(r.Levels[i].Ratio))
		})
		row(fmt.Sprintf("%d clients: p50 / p99 ms", c), func(r *benchResult) string {
			return fmt.Sprintf("%.1f / %.1f", r.Levels[i].P50ms, r.Levels[i].P99ms)
		})
		row(fmt.Sprintf("%d clients: CPU ms/upload", c), func(r *benchResult) string { return cpuCell(r.Levels[i].CPUms, r.Levels[i].CPURatio) })
		row(fmt.Sprintf("%d clients: errors", c), func(r *benchResult) string { return strconv.Itoa(r.Levels[i].Errors) })
	}
	row("night: uploads", func(r *benchResult) string { return strconv.Itoa(r.NightUploads) })
	row("night: seconds", func(r *benchResult) string { return fmt.Sprintf("%.1f%s", r.NightSecs, ratio(r.NightRatio)) })
	row("night: CPU ms/upload", func(r *benchResult) string { return cpuCell(r.NightCPUms, r.NightCPURatio) })
	row("night: errors / lost", func(r *benchResult) string {
		lost := "-"
		if r.NightLost >= 0 {
			lost = strconv.Itoa(r.NightLost)
		}
		return fmt.Sprintf("%d / %s", r.NightErrors, lost)
	})
	row("bulk MB/s", func(r *benchResult) string {
		if r.BulkErr != "" {
			return "error"
		}
		return fmt.Sprintf("%.0f%s", r.BulkMBps, ratio(r.BulkRatio))
	})
	row("RSS MiB idle / open / after night / peak", func(r *benchResult) string {
		if r.RSSIdleMiB == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f / %.0f / %.0f / %.0f", r.RSSIdleMiB, r.RSSOpenMiB, r.RSSNightMiB, r.HWMMiB)
	})
	tw.Flush()
	for _, r := range results {
		if r.BulkErr != "" {
			fmt.Fprintf(w, "%s bulk: %s\n", r.Target, r.BulkErr)
		}
	}
}

// cpuCell is a table cell of CPU per upload and its ratio to the floor's
// ("1.85x": 1.85 times the floor's CPU), or "-" when not measured.
func cpuCell(ms, ratio float64) string {
	if ms == 0 {
		return "-"
	}
	if ratio == 0 {
		return fmt.Sprintf("%.2f", ms)
	}
	return fmt.Sprintf("%.2f (%.2fx)", ms, ratio)
}
