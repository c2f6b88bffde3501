package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/backupreport/backupreport/scripts/internal/harness"
	"github.com/backupreport/backupreport/store"
)

// options say how to run the kill -9 cycles.
type options struct {
	Bin       string // bin/backupreport
	Root      string // the repository, for testdata
	Dir       string // scratch folder; the data folder lives in it across cycles
	Cycles    int
	Uploaders int
	MinKill   time.Duration // the server is killed after a random time in [MinKill, MaxKill)
	MaxKill   time.Duration
	// FromFirstAck starts the kill timer at the cycle's first acknowledged
	// upload (at most 60 s after the start) instead of at the start, so
	// that every cycle kills a server that was storing uploads even on a
	// slow machine.
	FromFirstAck bool
	Seed         uint64
	Out          io.Writer // one line per cycle
}

// summary is what the run proved.
type summary struct {
	Cycles        int
	Begun         int64 // uploads past the SSH handshake
	Acked         int64 // exit status 0: the server said it committed
	Refused       int64 // an exit status other than 0 while the server ran
	RefusedSample string
	CutOff        int64 // the connection died (the kill)
	Stored        int64 // harness results in the database
	Found         int64 // acknowledged and stored
	Lost          int64 // acknowledged and not stored: must be 0
	LostIDs       []int64
	Unacked       int64 // stored, never acknowledged (killed between commit and exit status)
	Duplicates    int64 // a marker stored twice
	Integrity     string
}

// ok reports whether the run met its goals.
func (s summary) ok() bool { return s.Acked > 0 && s.Lost == 0 && s.Integrity == "ok" }

// uploaderServer names the server uploader u writes as. Its first upload
// registers it (serve's --auto-register, on by default).
func uploaderServer(u int) string { return fmt.Sprintf("d%02d", u) }

// markerBase starts the markers far from the report's own figures.
const markerBase = 1_000_000

// runDurability runs the cycles: start serve on one data folder, let the
// uploaders upload (a new connection each, as backup.bat does), kill -9
// the server after a random moment, restart. Then it opens the database
// and checks that every acknowledged upload is there.
func runDurability(ctx context.Context, o options) (summary, error) {
	var s summary
	report, err := harness.Report13KB(o.Root)
	if err != nil {
		return s, err
	}
	fx, err := harness.Setup(ctx, o.Bin, o.Dir)
	if err != nil {
		return s, fmt.Errorf("set-up: %w", err)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 10))
	var nextID atomic.Int64
	nextID.Store(markerBase)
	var mu sync.Mutex
	acked := map[int64]bool{}
	var begun, refused, cutOff atomic.Int64
	for cycle := 1; cycle <= o.Cycles; cycle++ {
		if ctx.Err() != nil {
			return s, ctx.Err()
		}
		srv, err := fx.Start(ctx, harness.StartOptions{})
		if err != nil {
			return s, fmt.Errorf("cycle %d: %w", cycle, err)
		}
		mu.Lock()
		ackedBefore, begunBefore, refusedBefore := len(acked), begun.Load(), refused.Load()
		mu.Unlock()
		firstAck := make(chan struct{})
		var firstAckOnce sync.Once
		cctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for u := range o.Uploaders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for cctx.Err() == nil {
					id := nextID.Add(1)
					res := harness.Upload(cctx, "", srv.SSHAddr, fx.Signer, uploaderServer(u), bytes.NewReader(harness.WithSentBytes(report, id)))
					if res.Err != nil && strings.HasPrefix(res.Err.Error(), "connect:") {
						// The server is gone (the cycle is ending) or the
						// handshake failed: not an upload, try again.
						select {
						case <-cctx.Done():
						case <-time.After(50 * time.Millisecond):
						}
						continue
					}
					begun.Add(1)
					switch {
					case res.Acknowledged():
						mu.Lock()
						acked[id] = true
						mu.Unlock()
						firstAckOnce.Do(func() { close(firstAck) })
					case res.Err == nil:
						if refused.Add(1) == 1 {
							mu.Lock()
							s.RefusedSample = fmt.Sprintf("exit %d: %s", res.ExitStatus, res.Stderr)
							mu.Unlock()
						}
					default:
						cutOff.Add(1)
					}
				}
			}()
		}
		delay := o.MinKill + time.Duration(rng.Int64N(int64(o.MaxKill-o.MinKill)+1))
		if o.FromFirstAck {
			select {
			case <-firstAck:
			case <-time.After(60 * time.Second):
			case <-ctx.Done():
			}
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
		srv.Kill() // SIGKILL: no shutdown, no checkpoint
		cancel()
		wg.Wait()
		mu.Lock()
		n := len(acked) - ackedBefore
		mu.Unlock()
		from := ""
		if o.FromFirstAck {
			from = " from the first ack"
		}
		fmt.Fprintf(o.Out, "cycle %2d: kill -9 after %5s%s: %4d uploads begun, %4d acknowledged, %d refused\n",
			cycle, delay.Round(10*time.Millisecond), from, begun.Load()-begunBefore, n, refused.Load()-refusedBefore)
		s.Cycles = cycle
	}
	s.Begun, s.Refused, s.CutOff, s.Acked = begun.Load(), refused.Load(), cutOff.Load(), int64(len(acked))

	// Count what the database kept: the store opens it as serve does,
	// recovering the WAL the last kill left.
	stored, err := storedMarkers(ctx, fx.Data, o.Uploaders)
	if err != nil {
		return s, err
	}
	for id, n := range stored {
		s.Stored += int64(n)
		if n > 1 {
			s.Duplicates += int64(n - 1)
		}
		if !acked[id] {
			s.Unacked++
		}
	}
	for id := range acked {
		if stored[id] > 0 {
			s.Found++
		} else {
			s.Lost++
			s.LostIDs = append(s.LostIDs, id)
		}
	}
	sort.Slice(s.LostIDs, func(i, j int) bool { return s.LostIDs[i] < s.LostIDs[j] })
	if s.Integrity, err = integrityCheck(ctx, fx.Data); err != nil {
		return s, err
	}
	return s, nil
}

// storedMarkers returns how many results carry each marker (sent_bytes)
// among the uploaders' servers.
func storedMarkers(ctx context.Context, data string, uploaders int) (map[int64]int, error) {
	db, err := store.OpenDir(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("open the database after the last kill: %w", err)
	}
	defer db.Close()
	servers, err := db.Servers(ctx)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for u := range uploaders {
		want[uploaderServer(u)] = true
	}
	stored := map[int64]int{}
	for _, srv := range servers {
		if srv.Customer != harness.Customer || !want[srv.Name] {
			continue
		}
		rows, err := db.History(ctx, srv.ID, 1<<30, 0)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", srv.Name, err)
		}
		for _, r := range rows {
			if r.SentBytes > markerBase {
				stored[r.SentBytes]++
			}
		}
	}
	return stored, nil
}

// integrityCheck runs SQLite's integrity_check on the database, which no
// process has open any more, and returns "ok" or the problems found.
func integrityCheck(ctx context.Context, data string) (string, error) {
	db, err := store.OpenDir(ctx, data)
	if err != nil {
		return "", fmt.Errorf("open the database for the integrity check: %w", err)
	}
	defer db.Close()
	if err := db.IntegrityCheck(ctx); err != nil {
		return err.Error(), nil
	}
	return "ok", nil
}
