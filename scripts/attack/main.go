// Command attack runs the attacks of issue 10 against a real
// "backupreport serve" and prints what they did to it, phase by phase,
// then a summary of goal, measured figure and pass/FAIL. It exits 1 when
// a goal is missed, 2 on a usage error.
//
// Every phase starts its own server (bin/backupreport, under prlimit
// --nofile=8192:8192) on a copy of one prepared data folder, SSH and web on
// 127.0.0.1 random ports, so one phase's damage does not show up in the
// next one's figures. Every loop is bounded in count and time, and every
// connection goes to 127.0.0.1 from a 127.0.0.x address.
//
//	make attack                            # build bin/backupreport, run every phase
//	bin/attack -phases logins,env -scale 0.1
//
// Run it as a user whose hard file limit is at least half the idle
// connections plus a few hundred (ulimit -Hn): the idle phase runs one
// child process per source address.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/backupreport/backupreport/scripts/internal/harness"
)

// config holds the flags.
type config struct {
	bin          string
	phases       string
	nofile       int
	timeout      time.Duration
	scale        float64
	rssGoal      int64
	keyCheckGoal int
	serveArgs    stringList
	keep         bool
	showLog      bool

	idleConns       int
	idleSources     string
	idleReconnect   time.Duration
	idleMaxAttempts float64
	dialTimeout     time.Duration
	dialConc        int
	uploads         int
	uploadConc      int
	uploadSource    string

	logins      int
	loginSource string
	loginConc   int

	envRequests int
	envBytes    int

	sessions     int
	sessionBytes int

	randomUploads int
	randomBytes   int64
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// phaseNames are the phases in the order they run.
var phaseNames = []string{"idle", "logins", "env", "sessions", "random"}

func main() {
	if len(os.Args) > 1 && os.Args[1] == idleChildCommand {
		os.Exit(idleChild(os.Args[2:]))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flag.NewFlagSet("attack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: attack [flags]

Starts bin/backupreport serve (one fresh server per phase, file limit 8192)
and attacks it from 127.0.0.x, bounded in count and time:

  idle      24,000 silent TCP connections from 127.0.0.2 and 127.0.0.3, held
            while 20 real OpenSSH uploads (ssh -b 127.0.0.4) must succeed and
            GET /healthz must answer
  logins    2,000 logins with an unknown key from 127.0.0.5: how many reach
            the key check (goal <= 100)
  env       one session sending 20,000 env requests of 32 KB, once without and
            once with want-reply: peak RSS (goal < 300 MiB)
  sessions  500 sessions on one connection, data sent, none read: peak RSS
            (goal < 300 MiB)
  random    16 parallel uploads of 70 MiB random bytes: peak RSS sampled every
            100 ms (goal < 300 MiB) and all 16 stored

Prints each phase's figures, then GOAL / MEASURED / PASS. Exit status 1 when
a goal is missed, 2 on a usage error. -scale 0.1 makes a quick run.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.bin, "bin", "bin/backupreport", "the backupreport binary (relative to the repository root)")
	fs.StringVar(&c.phases, "phases", strings.Join(phaseNames, ","), "phases to run, comma-separated: "+strings.Join(phaseNames, ", "))
	fs.IntVar(&c.nofile, "nofile", 8192, "the server's file limit (soft and hard, set with prlimit); 0 leaves it alone")
	fs.DurationVar(&c.timeout, "phase-timeout", 5*time.Minute, "each phase ends after this, and fails if it had not finished")
	fs.Float64Var(&c.scale, "scale", 1, "multiply the idle connections, logins, env requests, sessions and random bytes by this (0.1: a quick run)")
	var rssGoalMiB int64
	fs.Int64Var(&rssGoalMiB, "rss-goal", 300, "goal: the server's RSS stays below this many MiB")
	fs.IntVar(&c.keyCheckGoal, "key-check-goal", 100, "goal: at most this many unknown-key logins reach the key check")
	fs.Var(&c.serveArgs, "serve-arg", "an extra flag for serve, e.g. -serve-arg=--log-level=warn (repeatable)")
	fs.BoolVar(&c.keep, "keep", false, "keep the scratch folder (data folders and each phase's server log) and print its path")
	fs.BoolVar(&c.showLog, "show-log", false, "print the last lines of each phase's server log")

	fs.IntVar(&c.idleConns, "idle-conns", 24000, "idle: silent TCP connections, split over the sources")
	fs.StringVar(&c.idleSources, "idle-sources", "127.0.0.2,127.0.0.3", "idle: source addresses, one child process each")
	fs.DurationVar(&c.idleReconnect, "idle-reconnect", time.Second, "idle: a connection the server closed is opened again after about this long (0: never)")
	fs.Float64Var(&c.idleMaxAttempts, "idle-max-attempts", 10, "idle: connects per source at most this many times its share of -idle-conns (bounds the reconnects)")
	fs.DurationVar(&c.dialTimeout, "idle-dial-timeout", 3*time.Second, "idle: TCP connect timeout")
	fs.IntVar(&c.dialConc, "idle-dial-concurrency", 512, "idle: connects in flight per source")
	fs.IntVar(&c.uploads, "uploads", 20, "idle: real OpenSSH uploads of a 13 KB report while the connections are held")
	fs.IntVar(&c.uploadConc, "upload-concurrency", 4, "idle: uploads in flight at once")
	fs.StringVar(&c.uploadSource, "upload-source", "127.0.0.4", "idle: the uploads' source address (ssh -b)")

	fs.IntVar(&c.logins, "logins", 2000, "logins: attempts with an unknown key")
	fs.StringVar(&c.loginSource, "login-source", "127.0.0.5", "logins: their source address")
	fs.IntVar(&c.loginConc, "login-concurrency", 4, "logins: attempts in flight at once")

	fs.IntVar(&c.envRequests, "env-requests", 20000, "env: env requests in one session")
	fs.IntVar(&c.envBytes, "env-bytes", 32<<10, "env: size of each request's value")

	fs.IntVar(&c.sessions, "sessions", 500, "sessions: sessions opened on one connection")
	fs.IntVar(&c.sessionBytes, "session-bytes", 4<<20, "sessions: bytes sent into each (the server's window stops the writer earlier)")

	fs.IntVar(&c.randomUploads, "random-uploads", 16, "random: parallel uploads")
	fs.Int64Var(&c.randomBytes, "random-bytes", 70<<20, "random: bytes of each upload")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "attack takes no arguments, got %q\n", fs.Arg(0))
		return 2
	}
	c.rssGoal = rssGoalMiB << 20
	scaleInt := func(n *int) { *n = max(1, int(float64(*n)*c.scale)) }
	scaleInt(&c.idleConns)
	scaleInt(&c.logins)
	scaleInt(&c.envRequests)
	scaleInt(&c.sessions)
	c.randomBytes = max(1, int64(float64(c.randomBytes)*c.scale))

	want := map[string]bool{}
	for _, p := range strings.Split(c.phases, ",") {
		p = strings.TrimSpace(p)
		if !contains(phaseNames, p) {
			fmt.Fprintf(stderr, "-phases: unknown phase %q (have %s)\n", p, strings.Join(phaseNames, ", "))
			return 2
		}
		want[p] = true
	}
	for _, a := range append(strings.Split(c.idleSources, ","), c.uploadSource, c.loginSource) {
		if ip := net.ParseIP(strings.TrimSpace(a)); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
			fmt.Fprintf(stderr, "source address %q: only 127.0.0.x addresses are allowed\n", a)
			return 2
		}
	}

	root, err := harness.RepoRoot()
	if err != nil {
		fmt.Fprintln(stderr, "attack:", err)
		return 1
	}
	if !filepath.IsAbs(c.bin) {
		c.bin = filepath.Join(root, c.bin)
	}
	if _, err := os.Stat(c.bin); err != nil {
		fmt.Fprintf(stderr, "attack: %v (run make build first)\n", err)
		return 1
	}
	report, err := harness.Report13KB(root)
	if err != nil {
		fmt.Fprintln(stderr, "attack:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "backupreport-attack-")
	if err != nil {
		fmt.Fprintln(stderr, "attack:", err)
		return 1
	}
	if c.keep {
		fmt.Fprintf(stdout, "scratch folder: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	ctx := context.Background()
	fx, err := harness.Setup(ctx, c.bin, dir)
	if err != nil {
		fmt.Fprintln(stderr, "attack: set-up:", err)
		return 1
	}
	r := &runner{cfg: &c, fx: fx, dir: dir, report: report, out: stdout}
	fmt.Fprintf(stdout, "attack: %s, file limit %d, %s\n", c.bin, c.nofile, time.Now().UTC().Format(time.RFC3339))

	type phase struct {
		name string
		run  func(context.Context) []result
	}
	all := []phase{
		{"idle", r.idle},
		{"logins", r.loginsPhase},
		{"env", r.env},
		{"sessions", r.sessionsPhase},
		{"random", r.random},
	}
	var results []result
	for _, p := range all {
		if !want[p.name] {
			continue
		}
		fmt.Fprintf(stdout, "\n== %s\n", p.name)
		pctx, cancel := context.WithTimeout(ctx, c.timeout)
		start := time.Now()
		res := p.run(pctx)
		if pctx.Err() != nil {
			res = append(res, result{phase: p.name, goal: "finishes within " + c.timeout.String(), measured: "timed out", pass: false})
		}
		cancel()
		fmt.Fprintf(stdout, "(%s took %s)\n", p.name, time.Since(start).Round(100*time.Millisecond))
		results = append(results, res...)
	}

	fmt.Fprintln(stdout, "\n== summary")
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PHASE\tGOAL\tMEASURED\tPASS")
	failed := 0
	for _, res := range results {
		verdict := "pass"
		if !res.pass {
			verdict = "FAIL"
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.phase, res.goal, res.measured, verdict)
	}
	tw.Flush()
	if failed > 0 {
		fmt.Fprintf(stdout, "%d of %d goals missed\n", failed, len(results))
		return 1
	}
	fmt.Fprintf(stdout, "all %d goals met\n", len(results))
	return 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// result is one line of the summary.
type result struct {
	phase, goal, measured string
	pass                  bool
}

// runner holds what every phase needs.
type runner struct {
	cfg    *config
	fx     *harness.Fixture
	dir    string
	report []byte
	out    io.Writer
}

// start starts a fresh server for a phase on a copy of the fixture and
// prints its file limit and memory at start.
func (r *runner) start(ctx context.Context, name string) (*harness.Fixture, *harness.Server, error) {
	fx, err := r.fx.Clone(filepath.Join(r.dir, "data-"+name))
	if err != nil {
		return nil, nil, err
	}
	srv, err := fx.Start(ctx, harness.StartOptions{NoFile: r.cfg.nofile, HTTP: true, Extra: r.cfg.serveArgs})
	if err != nil {
		return nil, nil, err
	}
	limit, err := srv.FileLimit()
	if err != nil {
		limit = err.Error()
	}
	m, _ := srv.Mem()
	fmt.Fprintf(r.out, "server pid %d, ssh %s, http %s, file limit %s, RSS at start %s\n", srv.PID, srv.SSHAddr, srv.HTTPAddr, limit, harness.MiB(m.RSS))
	return fx, srv, nil
}

// finish stops a phase's server and keeps its log.
func (r *runner) finish(name string, srv *harness.Server) {
	srv.Kill()
	log := srv.Log()
	os.WriteFile(filepath.Join(r.dir, name+".log"), []byte(log), 0o600)
	if r.cfg.showLog {
		lines := strings.Split(strings.TrimSpace(log), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		fmt.Fprintf(r.out, "server log (last %d lines):\n  %s\n", len(lines), strings.Join(lines, "\n  "))
	}
}

// failed is a summary line for a phase that could not run.
func failed(phase string, err error) []result {
	return []result{{phase: phase, goal: "runs", measured: "error: " + oneLine(err.Error(), 80), pass: false}}
}

// oneLine shortens a message to one line of at most n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// table prints aligned "what: figure" lines.
func (r *runner) table(rows [][2]string) {
	tw := tabwriter.NewWriter(r.out, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
	}
	tw.Flush()
}

// metricDeltas prints every backupreport_ metric that changed between
// two scrapes, and every ban metric whatever its value, so that figures
// of limits added later show up without changing this program.
func (r *runner) metricDeltas(before, after map[string]float64) {
	var names []string
	for k := range after {
		if !strings.HasPrefix(k, "backupreport_") || strings.Contains(k, "_bucket{") {
			continue
		}
		if after[k] != before[k] || strings.Contains(k, "ban") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		fmt.Fprintln(r.out, "  metrics: no backupreport_ metric changed")
		return
	}
	fmt.Fprintln(r.out, "  metrics (before -> after):")
	tw := tabwriter.NewWriter(r.out, 0, 0, 2, ' ', 0)
	for _, k := range names {
		fmt.Fprintf(tw, "    %s\t%g -> %g\n", k, before[k], after[k])
	}
	tw.Flush()
}

// count writes n with thousands separators: 24,000.
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// size writes a byte count in the largest binary unit it is a whole
// number of (32 KiB, 70 MiB), else in MiB with a decimal.
func size(b int64) string {
	switch {
	case b >= 1<<20 && b%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", b>>20)
	case b >= 1<<10 && b < 1<<20 && b%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", b>>10)
	case b < 1<<10:
		return fmt.Sprintf("%d B", b)
	}
	return harness.MiB(b)
}

// mem formats the server's RSS and peak.
func mem(srv *harness.Server) (harness.Mem, string) {
	m, err := srv.Mem()
	if err != nil {
		return m, "unreadable: " + err.Error()
	}
	return m, fmt.Sprintf("RSS %s, peak (VmHWM) %s", harness.MiB(m.RSS), harness.MiB(m.HWM))
}
