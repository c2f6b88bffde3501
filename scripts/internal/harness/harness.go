// Package harness is what the attack and durability programs under
// scripts/ share: it prepares a data folder with the CLI, starts
// "backupreport serve" as a child process on 127.0.0.1 ports, reads its
// memory from /proc and its /metrics, and uploads reports with the
// x/crypto SSH client the way backup.bat does.
//
// It is test tooling, not product code: it talks to 127.0.0.x only and
// every loop it offers is bounded by its caller.
package harness

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/keys"
	"github.com/backupreport/backupreport/store"
)

// Customer is the customer slug every fixture registers.
const Customer = "acme"

// RepoRoot returns the module root (the folder holding go.mod), searched
// upwards from the working directory, so the programs find bin/ and
// testdata/ whether run from the root (make) or from their own folder
// (go test).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; run from the repository")
		}
		dir = parent
	}
}

// Report13KB returns a real code-23 report from testdata
// (hand-cygwin-ssh-code23: cygwin warning, ssh chatter, file errors),
// with its file list padded to 13 KB, the size issue 3 names as typical.
func Report13KB(root string) ([]byte, error) {
	base, err := os.ReadFile(filepath.Join(root, "testdata", "rsync", "hand-cygwin-ssh-code23", "stats.out"))
	if err != nil {
		return nil, fmt.Errorf("read the 13 KB report's base: %w", err)
	}
	head, tail, ok := bytes.Cut(base, []byte("sending incremental file list\n"))
	if !ok {
		return nil, errors.New("hand-cygwin-ssh-code23/stats.out has no file list")
	}
	var r bytes.Buffer
	r.Write(head)
	r.WriteString("sending incremental file list\n")
	for i := 0; r.Len() < 13230-len(tail); i++ {
		fmt.Fprintf(&r, "/cygdrive/E/shares/Projects/Client files/2026/report-%04d.docx\n", i)
	}
	r.Write(tail)
	return r.Bytes(), nil
}

// WithSentBytes returns report with the figure of its "sent N bytes" line
// replaced by n, so that each upload carries a marker the store keeps in
// the result's sent_bytes column.
func WithSentBytes(report []byte, n int64) []byte {
	const old = "sent 1,085,454 bytes"
	return bytes.Replace(report, []byte(old), []byte("sent "+strconv.FormatInt(n, 10)+" bytes"), 1)
}

// Fixture is a prepared data folder: customer acme, one registered
// Ed25519 key (also on disk for OpenSSH), a staff user and an API token
// for /metrics, and host keys.
type Fixture struct {
	Bin     string // bin/backupreport
	Dir     string // scratch folder holding the key files
	Data    string // the data folder
	KeyFile string // private key in OpenSSH format, for ssh -i
	Signer  gossh.Signer
	Token   string // API token of an admin, for /metrics
}

// Setup prepares a fixture in dir/data with the CLI (customer add, key
// add, user add) and the store (an API token: there is no CLI for one).
func Setup(ctx context.Context, bin, dir string) (*Fixture, error) {
	f := &Fixture{Bin: bin, Dir: dir, Data: filepath.Join(dir, "data"), KeyFile: filepath.Join(dir, "customer_key")}
	if err := os.MkdirAll(f.Data, 0o750); err != nil {
		return nil, err
	}
	if _, err := f.CLI(ctx, "customer", "add", Customer); err != nil {
		return nil, err
	}
	// The key is written in OpenSSH's own format, as ssh-keygen would, so
	// that both the real ssh client (-i) and x/crypto use it.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := gossh.MarshalPrivateKey(priv, "harness")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(f.KeyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(f.KeyFile+".pub", gossh.MarshalAuthorizedKey(sshPub), 0o644); err != nil {
		return nil, err
	}
	if f.Signer, err = gossh.NewSignerFromKey(priv); err != nil {
		return nil, err
	}
	if _, err := f.CLI(ctx, "key", "add", Customer, f.KeyFile+".pub"); err != nil {
		return nil, err
	}
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte("attack-harness-password\n"), 0o600); err != nil {
		return nil, err
	}
	if _, err := f.CLI(ctx, "user", "add", "harness", "--role", "admin", "--password-file", pwFile); err != nil {
		return nil, err
	}
	db, err := store.OpenDir(ctx, f.Data)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	u, err := db.UserByName(ctx, "harness")
	if err != nil {
		return nil, err
	}
	if f.Token, _, err = db.CreateAPIToken(ctx, "harness", u.ID, "metrics"); err != nil {
		return nil, err
	}
	if _, err := keys.LoadOrCreateHostKeys(f.Data); err != nil {
		return nil, fmt.Errorf("host keys: %w", err)
	}
	return f, nil
}

// Clone copies the fixture's data folder to a fresh one under dir, so
// that every phase starts from the same state without paying for the
// set-up again. The copy is made while no process has the database open.
func (f *Fixture) Clone(dir string) (*Fixture, error) {
	c := *f
	c.Data = dir
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(f.Data)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(f.Data, e.Name()))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// CLI runs "backupreport ARGS --data DATA" and returns its stdout; a
// non-zero exit is an error carrying stderr.
func (f *Fixture) CLI(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.Bin, append(args, "--data", f.Data)...)
	cmd.Env = append(os.Environ(), "BACKUPREPORT_DATA=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("backupreport %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// NewUnknownSigner returns a fresh Ed25519 key that no customer has.
func NewUnknownSigner() (gossh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return gossh.NewSignerFromKey(priv)
}

// Server is one running "backupreport serve".
type Server struct {
	PID      int
	SSHAddr  string // 127.0.0.1:PORT
	HTTPAddr string // empty when the web side is off
	cmd      *exec.Cmd
	log      *LockedBuffer
	done     chan struct{}
	waitErr  error
}

// LockedBuffer is a bytes.Buffer safe for one writer and many readers.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Len returns how many bytes were written so far.
func (b *LockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// StartOptions say how to start serve.
type StartOptions struct {
	NoFile int      // when > 0, the server runs under prlimit --nofile=N:N
	HTTP   bool     // serve the web side on 127.0.0.1:0 too
	Extra  []string // more serve flags
}

// Start starts serve on the fixture's data folder with SSH (and the web
// side when asked) on 127.0.0.1 random ports, and waits until it listens.
func (f *Fixture) Start(ctx context.Context, o StartOptions) (*Server, error) {
	httpAddr := ""
	if o.HTTP {
		httpAddr = "127.0.0.1:0"
	}
	args := []string{f.Bin, "serve", "--data", f.Data, "--ssh-addr", "127.0.0.1:0", "--http-addr", httpAddr, "--timezone", "UTC"}
	args = append(args, o.Extra...)
	if o.NoFile > 0 {
		// prlimit sets the limit on itself and then execs serve, so the PID
		// we read /proc from is the server's.
		args = append([]string{"prlimit", fmt.Sprintf("--nofile=%d:%d", o.NoFile, o.NoFile), "--"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "BACKUPREPORT_DATA=")
	s := &Server{cmd: cmd, log: &LockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = s.log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start serve: %w", err)
	}
	s.PID = cmd.Process.Pid
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	for s.SSHAddr == "" || (o.HTTP && s.HTTPAddr == "") {
		select {
		case l := <-lines:
			if a, ok := strings.CutPrefix(l, "ssh listening on "); ok {
				s.SSHAddr = a
			}
			if a, ok := strings.CutPrefix(l, "http listening on "); ok {
				s.HTTPAddr = a
			}
		case <-s.done:
			return nil, fmt.Errorf("serve exited early: %v\n%s", s.waitErr, tail(s.log.String(), 2000))
		case <-timeout.C:
			s.Kill()
			return nil, fmt.Errorf("serve did not listen within 60s\n%s", tail(s.log.String(), 2000))
		case <-ctx.Done():
			s.Kill()
			return nil, ctx.Err()
		}
	}
	return s, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Log returns the server's stderr (slog text) so far.
func (s *Server) Log() string { return s.log.String() }

// LogLen returns the length of the server's log so far, to count lines
// written after a point with CountLog.
func (s *Server) LogLen() int { return s.log.Len() }

// CountLog counts log lines after offset from that contain substr.
func (s *Server) CountLog(offset int, substr string) int {
	l := s.log.String()
	if offset > len(l) {
		return 0
	}
	return strings.Count(l[offset:], substr)
}

// Exited reports whether the server process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Kill sends SIGKILL and waits for the process to end.
func (s *Server) Kill() {
	if s.Exited() {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// Mem is the server's memory as /proc/PID/status reports it.
type Mem struct {
	RSS, HWM int64 // VmRSS and VmHWM (peak RSS), bytes
}

// MiB formats bytes as mebibytes.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Mem reads VmRSS and VmHWM of the server.
func (s *Server) Mem() (Mem, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.PID))
	if err != nil {
		return Mem{}, err
	}
	var m Mem
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			m.RSS = n << 10
		case "VmHWM":
			m.HWM = n << 10
		}
	}
	return m, nil
}

// FileLimit returns the server's "Max open files" soft and hard limits
// from /proc/PID/limits.
func (s *Server) FileLimit() (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", s.PID))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			f := strings.Fields(rest)
			if len(f) >= 2 {
				return "soft " + f[0] + ", hard " + f[1], nil
			}
		}
	}
	return "", errors.New("no Max open files line")
}

// OpenFiles counts the server's open file descriptors.
func (s *Server) OpenFiles() int {
	e, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.PID))
	if err != nil {
		return -1
	}
	return len(e)
}

// Sampler records the server's largest VmRSS, read every interval.
type Sampler struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	max  int64
}

// Sample starts sampling the server's RSS every interval until Stop.
func (s *Server) Sample(interval time.Duration) *Sampler {
	sm := &Sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(sm.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if m, err := s.Mem(); err == nil {
				sm.mu.Lock()
				sm.max = max(sm.max, m.RSS)
				sm.mu.Unlock()
			}
			select {
			case <-sm.stop:
				return
			case <-t.C:
			}
		}
	}()
	return sm
}

// Max returns the largest RSS seen so far.
func (sm *Sampler) Max() int64 {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return sm.max
}

// Stop ends sampling and returns the largest RSS seen.
func (sm *Sampler) Stop() int64 {
	select {
	case <-sm.stop:
	default:
		close(sm.stop)
	}
	<-sm.done
	return sm.Max()
}

// Healthz asks GET /healthz with a timeout and returns nil on 200.
func (s *Server) Healthz(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+s.HTTPAddr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := noKeepAlive.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz: status %d", resp.StatusCode)
	}
	return nil
}

// noKeepAlive opens a new connection per request, as a monitor does, so
// that a held-open connection does not hide a listener that no longer
// accepts.
var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// Metrics reads /metrics with the token and returns every sample by its
// full name with labels, e.g. `backupreport_uploads_total{status="ok"}`.
func (s *Server) Metrics(ctx context.Context, token string, timeout time.Duration) (map[string]float64, error) {
	if s.HTTPAddr == "" {
		return nil, errors.New("the web side is off")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+s.HTTPAddr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := noKeepAlive.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: status %d", resp.StatusCode)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}

// Dial opens an SSH connection from local (an IP, or "" for any) to addr
// with signer, the handshake bounded by timeout.
func Dial(ctx context.Context, local, addr string, signer gossh.Signer, timeout time.Duration) (*gossh.Client, error) {
	d := net.Dialer{Timeout: timeout}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(timeout))
	cfg := &gossh.ClientConfig{
		User:            "backup",
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		// Ed25519 first, as OpenSSH prefers it; x/crypto's default
		// would have the server sign every handshake with RSA 3072.
		HostKeyAlgorithms: []string{gossh.KeyAlgoED25519, gossh.KeyAlgoRSASHA512, gossh.KeyAlgoRSASHA256},
		Timeout:           timeout,
	}
	c, chans, reqs, err := gossh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return gossh.NewClient(c, chans, reqs), nil
}

// UploadResult is what one upload's client saw.
type UploadResult struct {
	ExitStatus int    // -1 when no exit status arrived
	Stderr     string // the receipt or the refusal, at most 4 KiB
	Err        error  // a connection or protocol error
}

// Acknowledged reports whether the server acknowledged the upload: exit
// status 0, which it sends only after the transaction committed.
func (r UploadResult) Acknowledged() bool { return r.Err == nil && r.ExitStatus == 0 }

// Upload sends body as "cat > /reports/CUSTOMER/SERVER.out" over a new
// connection, as backup.bat does, and waits for the exit status. ctx
// bounds the whole upload.
func Upload(ctx context.Context, local, addr string, signer gossh.Signer, server string, body io.Reader) UploadResult {
	client, err := Dial(ctx, local, addr, signer, 20*time.Second)
	if err != nil {
		return UploadResult{ExitStatus: -1, Err: fmt.Errorf("connect: %w", err)}
	}
	defer client.Close()
	stop := context.AfterFunc(ctx, func() { client.Close() })
	defer stop()
	return UploadOn(client, server, body)
}

// UploadOn runs one upload on an open connection.
func UploadOn(client *gossh.Client, server string, body io.Reader) UploadResult {
	sess, err := client.NewSession()
	if err != nil {
		return UploadResult{ExitStatus: -1, Err: fmt.Errorf("session: %w", err)}
	}
	defer sess.Close()
	stderr := &capped{max: 4096}
	sess.Stderr = stderr
	sess.Stdout = io.Discard
	stdin, err := sess.StdinPipe()
	if err != nil {
		return UploadResult{ExitStatus: -1, Err: err}
	}
	if err := sess.Start("cat > /reports/" + Customer + "/" + server + ".out"); err != nil {
		return UploadResult{ExitStatus: -1, Err: fmt.Errorf("exec: %w", err)}
	}
	_, copyErr := io.Copy(stdin, body)
	stdin.Close()
	err = sess.Wait()
	r := UploadResult{ExitStatus: 0, Stderr: stderr.String()}
	var ee *gossh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.ExitStatus = ee.ExitStatus()
	default:
		r.ExitStatus = -1
		r.Err = err
	}
	if r.Err == nil && copyErr != nil && r.ExitStatus == 0 {
		// An exit status 0 after a failed write would be a server bug;
		// keep both so the caller sees it.
		r.Err = fmt.Errorf("write failed (%v) yet exit status 0", copyErr)
	}
	return r
}

// capped keeps the first max bytes written to it.
type capped struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.b.Len(); room > 0 {
		c.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.TrimSpace(c.b.String())
}
