package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/backupreport/backupreport/scripts/internal/harness"
)

// idleChildCommand is the hidden first argument that makes the program a
// child holding one source's idle connections: a process has 20,000 file
// handles here, fewer than the connections the phase holds.
const idleChildCommand = "idle-child"

// idleStats is what a child saw, as the client sees it.
type idleStats struct {
	Event         string `json:"event"` // "ready" after every slot's first attempt, "final" at the end
	Source        string `json:"source"`
	FileLimit     uint64 `json:"file_limit"`
	Attempted     int64  `json:"attempted"`      // TCP connects tried
	ConnectErrors int64  `json:"connect_errors"` // connects that failed (timeout, refused)
	Connected     int64  `json:"connected"`
	Banner        int64  `json:"banner"`       // connections on which the server sent its SSH banner: accepted by the program
	ClosedFast    int64  `json:"closed_fast"`  // closed by the server within 1 s of connecting
	ClosedLater   int64  `json:"closed_later"` // closed by the server later
	Open          int64  `json:"open"`         // open now
	OpenBanner    int64  `json:"open_banner"`  // open now, banner received
	FirstError    string `json:"first_error,omitempty"`
	FirstClose    string `json:"first_close,omitempty"` // how the first connection closed later ended, and after how long
}

// idleChild holds -n silent connections from -source to -addr until its
// standard input closes, printing a "ready" and a "final" JSON line.
func idleChild(args []string) int {
	fs := flag.NewFlagSet(idleChildCommand, flag.ContinueOnError)
	source := fs.String("source", "", "source address")
	addr := fs.String("addr", "", "server address")
	n := fs.Int("n", 0, "connections")
	maxAttempts := fs.Int("max-attempts", 0, "connects at most")
	reconnect := fs.Duration("reconnect", time.Second, "re-open a connection the server closed after this (0: never)")
	dialTimeout := fs.Duration("dial-timeout", 3*time.Second, "connect timeout")
	conc := fs.Int("concurrency", 512, "connects in flight")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if ip := net.ParseIP(*source); ip == nil || !ip.IsLoopback() {
		fmt.Fprintln(os.Stderr, "idle-child: -source must be a 127.0.0.x address")
		return 2
	}
	if host, _, err := net.SplitHostPort(*addr); err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintln(os.Stderr, "idle-child: -addr must be a 127.0.0.x address")
		return 2
	}
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	lim.Cur = lim.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)

	var st idleStats
	var msgMu sync.Mutex // guards st.FirstError and st.FirstClose
	setFirst := func(dst *string, msg func() string) {
		msgMu.Lock()
		defer msgMu.Unlock()
		if *dst == "" {
			*dst = msg()
		}
	}
	var stopped atomic.Bool
	stop := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		stopped.Store(true)
		close(stop)
	}()
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	budget := int64(*maxAttempts)
	sem := make(chan struct{}, *conc)
	dialer := net.Dialer{Timeout: *dialTimeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(*source)}}
	var ready, slots sync.WaitGroup
	ready.Add(*n)
	slots.Add(*n)
	slot := func() {
		defer slots.Done()
		first := true
		markReady := func() {
			if first {
				first = false
				ready.Done()
			}
		}
		defer markReady()
		buf := make([]byte, 512)
		for !stopped.Load() && atomic.AddInt64(&budget, -1) >= 0 {
			sem <- struct{}{}
			c, err := dialer.Dial("tcp", *addr)
			<-sem
			atomic.AddInt64(&st.Attempted, 1)
			if err != nil {
				atomic.AddInt64(&st.ConnectErrors, 1)
				setFirst(&st.FirstError, err.Error)
				return
			}
			connectedAt := time.Now()
			atomic.AddInt64(&st.Connected, 1)
			atomic.AddInt64(&st.Open, 1)
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			if stopped.Load() {
				c.Close()
			}
			markReady()
			banner := false
			var readErr error
			for {
				n, err := c.Read(buf)
				if n > 0 && !banner {
					banner = true
					atomic.AddInt64(&st.Banner, 1)
					atomic.AddInt64(&st.OpenBanner, 1)
				}
				if err != nil {
					readErr = err
					break
				}
			}
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			c.Close()
			if stopped.Load() {
				return // we closed it
			}
			atomic.AddInt64(&st.Open, -1)
			if banner {
				atomic.AddInt64(&st.OpenBanner, -1)
			}
			if time.Since(connectedAt) < time.Second {
				atomic.AddInt64(&st.ClosedFast, 1)
			} else {
				atomic.AddInt64(&st.ClosedLater, 1)
				setFirst(&st.FirstClose, func() string {
					return fmt.Sprintf("%v after %s, banner %v", readErr, time.Since(connectedAt).Round(time.Second), banner)
				})
			}
			if *reconnect <= 0 {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(*reconnect/2 + rand.N(*reconnect)): // spread, not in waves
			}
		}
	}
	for range *n {
		go slot()
	}
	enc := json.NewEncoder(os.Stdout)
	var outMu sync.Mutex
	emit := func(event string) {
		outMu.Lock()
		defer outMu.Unlock()
		s := idleStats{Event: event, Source: *source, FileLimit: lim.Cur,
			Attempted: atomic.LoadInt64(&st.Attempted), ConnectErrors: atomic.LoadInt64(&st.ConnectErrors),
			Connected: atomic.LoadInt64(&st.Connected), Banner: atomic.LoadInt64(&st.Banner),
			ClosedFast: atomic.LoadInt64(&st.ClosedFast), ClosedLater: atomic.LoadInt64(&st.ClosedLater),
			Open: atomic.LoadInt64(&st.Open), OpenBanner: atomic.LoadInt64(&st.OpenBanner)}
		msgMu.Lock()
		s.FirstError, s.FirstClose = st.FirstError, st.FirstClose
		msgMu.Unlock()
		enc.Encode(s)
	}
	go func() {
		ready.Wait()
		emit("ready")
	}()
	<-stop
	emit("final") // before closing: Open is what was held at the end
	mu.Lock()
	for c := range conns {
		c.Close()
	}
	mu.Unlock()
	done := make(chan struct{})
	go func() { slots.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	return 0
}

// child is one running idle-child.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan idleStats
	stderr *bytes.Buffer
}

func startChild(ctx context.Context, self string, args []string) (*child, error) {
	cmd := exec.CommandContext(ctx, self, append([]string{idleChildCommand}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	ch := &child{cmd: cmd, stdin: stdin, events: make(chan idleStats, 4), stderr: &bytes.Buffer{}}
	cmd.Stderr = ch.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		defer close(ch.events)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var s idleStats
			if json.Unmarshal(sc.Bytes(), &s) == nil {
				ch.events <- s
			}
		}
	}()
	return ch, nil
}

// wait returns the child's next event, or an error when it ended first.
func (c *child) wait(ctx context.Context, event string) (idleStats, error) {
	for {
		select {
		case s, ok := <-c.events:
			if !ok {
				return idleStats{}, fmt.Errorf("idle child ended before %q: %s", event, strings.TrimSpace(c.stderr.String()))
			}
			if s.Event == event {
				return s, nil
			}
		case <-ctx.Done():
			return idleStats{}, ctx.Err()
		}
	}
}

// idle holds silent connections from two sources while real customers
// upload from a third.
func (r *runner) idle(ctx context.Context) []result {
	const name = "idle"
	c := r.cfg
	fx, srv, err := r.start(ctx, name)
	if err != nil {
		return failed(name, err)
	}
	defer r.finish(name, srv)
	self, err := os.Executable()
	if err != nil {
		return failed(name, err)
	}
	before, _ := srv.Metrics(ctx, fx.Token, 10*time.Second)
	sources := strings.Split(c.idleSources, ",")
	per := c.idleConns / len(sources)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && uint64(per)+256 > lim.Max {
		return failed(name, fmt.Errorf("%d connections per source need more than this user's file limit %d (ulimit -Hn): add sources with -idle-sources", per, lim.Max))
	}
	var children []*child
	defer func() {
		for _, ch := range children {
			ch.stdin.Close()
			ch.cmd.Wait()
		}
	}()
	start := time.Now()
	for _, src := range sources {
		ch, err := startChild(ctx, self, []string{"-source", strings.TrimSpace(src), "-addr", srv.SSHAddr, "-n", fmt.Sprint(per),
			"-max-attempts", fmt.Sprint(int(float64(per) * c.idleMaxAttempts)), "-reconnect", c.idleReconnect.String(),
			"-dial-timeout", c.dialTimeout.String(), "-concurrency", fmt.Sprint(c.dialConc)})
		if err != nil {
			return failed(name, err)
		}
		children = append(children, ch)
	}
	var atReady []idleStats
	for _, ch := range children {
		s, err := ch.wait(ctx, "ready")
		if err != nil {
			return failed(name, err)
		}
		atReady = append(atReady, s)
	}
	fmt.Fprintf(r.out, "%d connects made in %s; child file limit %d\n", c.idleConns, time.Since(start).Round(100*time.Millisecond), atReady[0].FileLimit)
	time.Sleep(2 * time.Second)
	fdsHeld := srv.OpenFiles()
	_, memHeld := mem(srv)

	// The uploads, with /healthz asked every 5 s meanwhile.
	var healthOK, healthAll atomic.Int64
	var healthErr atomic.Value
	askHealth := func() {
		healthAll.Add(1)
		if err := srv.Healthz(ctx, 5*time.Second); err != nil {
			healthErr.Store(err.Error())
			return
		}
		healthOK.Add(1)
	}
	askHealth()
	hctx, stopHealth := context.WithCancel(ctx)
	healthDone := make(chan struct{})
	go func() {
		defer close(healthDone)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				askHealth()
			}
		}
	}()
	up := r.sshUploads(ctx, fx, srv, c.uploadSource, "srv", c.uploads, c.uploadConc)
	stopHealth()
	<-healthDone
	askHealth()
	after, metricsErr := srv.Metrics(ctx, fx.Token, 10*time.Second)
	_, memEnd := mem(srv)
	fdsEnd := srv.OpenFiles()

	var final []idleStats
	for _, ch := range children {
		ch.stdin.Close()
	}
	for _, ch := range children {
		s, err := ch.wait(ctx, "final")
		if err != nil {
			return failed(name, err)
		}
		final = append(final, s)
	}
	sum := func(list []idleStats) idleStats {
		var t idleStats
		for _, s := range list {
			t.Attempted += s.Attempted
			t.ConnectErrors += s.ConnectErrors
			t.Connected += s.Connected
			t.Banner += s.Banner
			t.ClosedFast += s.ClosedFast
			t.ClosedLater += s.ClosedLater
			t.Open += s.Open
			t.OpenBanner += s.OpenBanner
			if t.FirstError == "" {
				t.FirstError = s.FirstError
			}
			if t.FirstClose == "" {
				t.FirstClose = s.FirstClose
			}
		}
		return t
	}
	rd, fin := sum(atReady), sum(final)
	he, _ := healthErr.Load().(string)
	rows := [][2]string{
		{"idle connections wanted", fmt.Sprintf("%d from %s", c.idleConns, c.idleSources)},
		{"TCP connects attempted", fmt.Sprintf("%d (reconnects included)", fin.Attempted)},
		{"connect failed (timeout/refused)", fmt.Sprintf("%d %s", fin.ConnectErrors, firstOf(fin.FirstError))},
		{"connected", fmt.Sprint(fin.Connected)},
		{"accepted by the server (banner sent)", fmt.Sprint(fin.Banner)},
		{"closed by the server within 1 s", fmt.Sprint(fin.ClosedFast)},
		{"closed by the server later", fmt.Sprintf("%d %s", fin.ClosedLater, firstOf(fin.FirstClose))},
		{"held open when the uploads began", fmt.Sprintf("%d (%d with banner, %d not accepted yet: in the kernel's backlog)", rd.Open, rd.OpenBanner, rd.Open-rd.OpenBanner)},
		{"held open at the end", fmt.Sprintf("%d (%d with banner)", fin.Open, fin.OpenBanner)},
		{"server open files (held / end)", fmt.Sprintf("%d / %d", fdsHeld, fdsEnd)},
		{"uploads ok (OpenSSH, -b " + c.uploadSource + ")", fmt.Sprintf("%d/%d %s", up.ok, up.total, up.detail())},
		{"upload time p50 / max", fmt.Sprintf("%s / %s", up.p50(), up.max())},
		{"GET /healthz ok", fmt.Sprintf("%d/%d %s", healthOK.Load(), healthAll.Load(), firstOf(he))},
		{"server memory while held", memHeld},
		{"server memory at the end", memEnd},
	}
	r.table(rows)
	if metricsErr != nil {
		fmt.Fprintf(r.out, "  metrics: %v\n", metricsErr)
	} else {
		r.metricDeltas(before, after)
	}
	return []result{
		{phase: name, goal: fmt.Sprintf("%d/%d uploads ok during %s idle connections", c.uploads, c.uploads, count(c.idleConns)),
			measured: fmt.Sprintf("%d/%d ok", up.ok, up.total), pass: up.ok == up.total},
		{phase: name, goal: "GET /healthz answers", measured: fmt.Sprintf("%d/%d ok", healthOK.Load(), healthAll.Load()),
			pass: healthOK.Load() == healthAll.Load()},
	}
}

func firstOf(msg string) string {
	if msg == "" {
		return ""
	}
	return "(first: " + oneLine(msg, 90) + ")"
}

// uploadStats are the outcomes of a batch of uploads.
type uploadStats struct {
	ok, total int
	errs      map[string]int
	times     []time.Duration
}

func (u *uploadStats) detail() string {
	if len(u.errs) == 0 {
		return ""
	}
	var parts []string
	for msg, n := range u.errs {
		parts = append(parts, fmt.Sprintf("%d× %q", n, msg))
	}
	sort.Strings(parts)
	return "(" + oneLine(strings.Join(parts, "; "), 200) + ")"
}

func (u *uploadStats) p50() string {
	if len(u.times) == 0 {
		return "-"
	}
	t := append([]time.Duration(nil), u.times...)
	sort.Slice(t, func(i, j int) bool { return t[i] < t[j] })
	return t[len(t)/2].Round(time.Millisecond).String()
}

func (u *uploadStats) max() string {
	var m time.Duration
	for _, t := range u.times {
		m = max(m, t)
	}
	return m.Round(time.Millisecond).String()
}

// sshUploads runs n uploads of the 13 KB report with the real OpenSSH
// client from source, conc at a time, to /reports/acme/PREFIXNN.out.
func (r *runner) sshUploads(ctx context.Context, fx *harness.Fixture, srv *harness.Server, source, prefix string, n, conc int) *uploadStats {
	_, port, _ := net.SplitHostPort(srv.SSHAddr)
	st := &uploadStats{total: n, errs: map[string]int{}}
	var mu sync.Mutex
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			uctx, cancel := context.WithTimeout(ctx, 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(uctx, "ssh", "-b", source, "-p", port, "-i", fx.KeyFile,
				"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
				"-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20",
				"backup@127.0.0.1", fmt.Sprintf("cat > /reports/%s/%s%02d.out", harness.Customer, prefix, i))
			cmd.Stdin = bytes.NewReader(r.report)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			t0 := time.Now()
			err := cmd.Run()
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			st.times = append(st.times, d)
			msg := strings.TrimSpace(errb.String())
			var ee *exec.ExitError
			switch {
			case err == nil && strings.Contains(msg, "stored "+harness.Customer+"/"):
				st.ok++
			case err == nil:
				st.errs["exit 0 without a receipt: "+oneLine(msg, 80)]++
			case errors.As(err, &ee):
				st.errs[fmt.Sprintf("exit %d: %s", ee.ExitCode(), oneLine(msg, 80))]++
			default:
				st.errs[oneLine(err.Error(), 80)]++
			}
		}()
	}
	wg.Wait()
	return st
}
