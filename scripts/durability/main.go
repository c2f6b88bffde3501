// Command durability is the kill -9 run of issue 10: it starts
// "backupreport serve" on one data folder, runs parallel uploaders against
// it (a new connection per upload, as backup.bat does; each upload a real
// 13 KB report carrying a unique marker in its "sent N bytes" line),
// kills the server with SIGKILL after a random 0.5 to 3 s, notes every
// upload that got exit status 0, and starts it again, cycle after cycle.
// At the end it opens the database and counts: acknowledged, found, lost
// (acknowledged but not stored), and runs PRAGMA integrity_check.
//
// It exits 1 when an acknowledged upload was lost, the integrity check
// is not "ok", or nothing was acknowledged at all; 2 on a usage error.
//
//	make durability                    # 15 cycles of 64 uploaders
//	bin/durability -cycles 3 -uploaders 16
//
// A short run (3 cycles, 16 uploaders) is the Go test of this package.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/backupreport/backupreport/scripts/internal/harness"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("durability", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: durability [flags]

Cycles of: start bin/backupreport serve on one data folder (kept across
cycles), run parallel uploaders (x/crypto SSH client, a new connection per
upload, each a real 13 KB report with a unique marker), kill -9 the server
after a random moment, restart. Then counts acknowledged (exit status 0),
found, lost (acknowledged but not in the database: must be 0) and runs
PRAGMA integrity_check. Exit status 1 when a goal is missed.

Flags:
`)
		fs.PrintDefaults()
	}
	bin := fs.String("bin", "bin/backupreport", "the backupreport binary (relative to the repository root)")
	cycles := fs.Int("cycles", 15, "kill -9 cycles")
	uploaders := fs.Int("uploaders", 64, "parallel uploaders")
	minKill := fs.Duration("min-kill", 500*time.Millisecond, "the server is killed after at least this long")
	maxKill := fs.Duration("max-kill", 3*time.Second, "and at most this long")
	fromAck := fs.Bool("from-first-ack", false, "count the kill time from each cycle's first acknowledged upload, not from the start")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the kill times")
	timeout := fs.Duration("timeout", 10*time.Minute, "the whole run ends after this")
	keep := fs.Bool("keep", false, "keep the scratch folder (the data folder) and print its path")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "durability takes no arguments, got %q\n", fs.Arg(0))
		return 2
	}
	if *cycles < 1 || *uploaders < 1 || *uploaders > 100 || *minKill <= 0 || *maxKill < *minKill {
		fmt.Fprintln(stderr, "durability: need -cycles >= 1, 1 <= -uploaders <= 100, 0 < -min-kill <= -max-kill")
		return 2
	}
	root, err := harness.RepoRoot()
	if err != nil {
		fmt.Fprintln(stderr, "durability:", err)
		return 1
	}
	if !filepath.IsAbs(*bin) {
		*bin = filepath.Join(root, *bin)
	}
	if _, err := os.Stat(*bin); err != nil {
		fmt.Fprintf(stderr, "durability: %v (run make build first)\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "backupreport-durability-")
	if err != nil {
		fmt.Fprintln(stderr, "durability:", err)
		return 1
	}
	if *keep {
		fmt.Fprintf(stdout, "scratch folder: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	fmt.Fprintf(stdout, "durability: %s, %d cycles, %d uploaders, kill after %s to %s, seed %d\n",
		*bin, *cycles, *uploaders, *minKill, *maxKill, *seed)
	start := time.Now()
	s, err := runDurability(ctx, options{Bin: *bin, Root: root, Dir: dir, Cycles: *cycles, Uploaders: *uploaders,
		MinKill: *minKill, MaxKill: *maxKill, FromFirstAck: *fromAck, Seed: *seed, Out: stdout})
	if err != nil {
		fmt.Fprintln(stderr, "durability:", err)
		return 1
	}
	printSummary(stdout, s, time.Since(start))
	if !s.ok() {
		return 1
	}
	return 0
}

func printSummary(w io.Writer, s summary, took time.Duration) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	row("cycles (kill -9 each)", s.Cycles)
	row("uploads past the handshake", s.Begun)
	row("acknowledged (exit status 0)", s.Acked)
	refused := fmt.Sprint(s.Refused)
	if s.RefusedSample != "" {
		refused += fmt.Sprintf(" (first: %q)", s.RefusedSample)
	}
	row("refused while the server ran (exit status != 0)", refused)
	row("cut off by the kill", s.CutOff)
	row("results in the database", s.Stored)
	row("acknowledged and found", s.Found)
	lost := fmt.Sprint(s.Lost)
	if s.Lost > 0 {
		lost += fmt.Sprintf(" (markers %v)", s.LostIDs[:min(len(s.LostIDs), 10)])
	}
	row("LOST (acknowledged, not stored)", lost)
	row("stored, not acknowledged (killed after the commit)", s.Unacked)
	if s.Duplicates > 0 {
		row("stored twice", s.Duplicates)
	}
	row("integrity_check", s.Integrity)
	row("took", took.Round(100*time.Millisecond))
	tw.Flush()
	switch {
	case s.Acked == 0:
		fmt.Fprintln(w, "FAIL: nothing was acknowledged, so the run proves nothing")
	case s.Lost > 0:
		fmt.Fprintf(w, "FAIL: %d acknowledged uploads lost\n", s.Lost)
	case s.Integrity != "ok":
		fmt.Fprintln(w, "FAIL: integrity_check is not ok")
	default:
		fmt.Fprintf(w, "pass: 0 of %d acknowledged uploads lost, integrity_check ok\n", s.Acked)
	}
}
