package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/scripts/internal/harness"
)

// sessionsPhase opens many sessions on one connection of a registered key
// and sends data into each without ever sending a command, so the server
// never reads them: whatever it buffers per session stays.
func (r *runner) sessionsPhase(ctx context.Context) []result {
	const name = "sessions"
	c := r.cfg
	fx, srv, err := r.start(ctx, name)
	if err != nil {
		return failed(name, err)
	}
	defer r.finish(name, srv)
	client, err := harness.Dial(ctx, "", srv.SSHAddr, fx.Signer, 20*time.Second)
	if err != nil {
		return failed(name, err)
	}
	defer client.Close()
	stop := context.AfterFunc(ctx, func() { client.Close() })
	defer stop()
	m0, _ := srv.Mem()
	sampler := srv.Sample(100 * time.Millisecond)
	start := time.Now()

	var written, writeErrs, writersDone atomic.Int64
	accepted, refused := 0, 0
	var firstRefusal string
	chunk := make([]byte, 32<<10)
	var wg sync.WaitGroup
	var chans []gossh.Channel
	for range c.sessions {
		ch, reqs, err := client.OpenChannel("session", nil)
		if err != nil {
			refused++
			if firstRefusal == "" {
				firstRefusal = err.Error()
			}
			var oce *gossh.OpenChannelError
			if !errors.As(err, &oce) {
				break // the connection is gone
			}
			continue
		}
		accepted++
		chans = append(chans, ch)
		go gossh.DiscardRequests(reqs)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer writersDone.Add(1)
			for sent := 0; sent < c.sessionBytes; {
				n, err := ch.Write(chunk)
				written.Add(int64(n))
				sent += n
				if err != nil {
					writeErrs.Add(1)
					return
				}
			}
		}()
	}
	opened := time.Since(start)
	// Writers block once the server's window for a session is used up:
	// wait until nothing moves for 3 s.
	last, still := written.Load(), time.Now()
	for time.Since(still) < 3*time.Second && writersDone.Load() < int64(accepted) && ctx.Err() == nil {
		time.Sleep(250 * time.Millisecond)
		if w := written.Load(); w != last {
			last, still = w, time.Now()
		}
	}
	peak := sampler.Stop()
	mAfter, memAfter := mem(srv)
	peak = max(peak, mAfter.HWM)
	blocked := int64(accepted) - writersDone.Load()
	cutOff := writeErrs.Load()
	for _, ch := range chans {
		ch.Close()
	}
	client.Close()
	wg.Wait()

	refusedMsg := fmt.Sprint(refused)
	if firstRefusal != "" {
		refusedMsg += " " + firstOf(firstRefusal)
	}
	r.table([][2]string{
		{"sessions opened on one connection", fmt.Sprintf("%d accepted of %d asked, in %s", accepted, c.sessions, opened.Round(time.Millisecond))},
		{"sessions refused", refusedMsg},
		{"bytes sent into unread sessions", fmt.Sprintf("%s (the server took them without reading)", harness.MiB(written.Load()))},
		{"writers cut off by the server / still blocked", fmt.Sprintf("%d / %d", cutOff, blocked)},
		{"server RSS before", harness.MiB(m0.RSS)},
		{"server memory with the sessions open", memAfter},
		{"peak RSS (100 ms samples and VmHWM)", harness.MiB(peak)},
	})
	return []result{{phase: name, goal: fmt.Sprintf("RSS < %s with %s unread sessions", size(c.rssGoal), count(c.sessions)),
		measured: fmt.Sprintf("peak %s, %d sessions accepted", harness.MiB(peak), accepted), pass: peak < c.rssGoal}}
}
