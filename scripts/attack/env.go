package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/scripts/internal/harness"
)

// env sends many large env requests in one session of a registered key,
// once without and once with want-reply, each on a fresh server.
func (r *runner) env(ctx context.Context) []result {
	return append(r.envVariant(ctx, false), r.envVariant(ctx, true)...)
}

func (r *runner) envVariant(ctx context.Context, wantReply bool) []result {
	name := "env-noreply"
	if wantReply {
		name = "env-reply"
	}
	c := r.cfg
	fx, srv, err := r.start(ctx, name)
	if err != nil {
		return failed(name, err)
	}
	defer r.finish(name, srv)
	fmt.Fprintf(r.out, "-- %s: %d env requests of %d bytes, want-reply %v\n", name, c.envRequests, c.envBytes, wantReply)
	client, err := harness.Dial(ctx, "", srv.SSHAddr, fx.Signer, 20*time.Second)
	if err != nil {
		return failed(name, err)
	}
	defer client.Close()
	stop := context.AfterFunc(ctx, func() { client.Close() })
	defer stop()
	ch, reqs, err := client.OpenChannel("session", nil)
	if err != nil {
		return failed(name, err)
	}
	go gossh.DiscardRequests(reqs)
	m0, _ := srv.Mem()
	sampler := srv.Sample(100 * time.Millisecond)
	value := strings.Repeat("x", c.envBytes)
	sent, accepted, refused := 0, 0, 0
	var sendErr error
	start := time.Now()
	for i := range c.envRequests {
		payload := gossh.Marshal(struct{ Name, Value string }{fmt.Sprintf("X_ATTACK_%05d", i), value})
		ok, err := ch.SendRequest("env", wantReply, payload)
		if err != nil {
			sendErr = err
			break
		}
		sent++
		if wantReply {
			if ok {
				accepted++
			} else {
				refused++
			}
		}
	}
	barrier := "not sent"
	if sendErr == nil {
		// Requests are handled in order: the reply to this one means the
		// server has taken in every request before it.
		ok, err := ch.SendRequest("env", true, gossh.Marshal(struct{ Name, Value string }{"X_ATTACK_LAST", "1"}))
		barrier = fmt.Sprintf("answered %v", ok)
		if err != nil {
			barrier = "error: " + err.Error()
		}
	}
	took := time.Since(start)
	peak := sampler.Stop()
	mAfter, memAfter := mem(srv)
	ch.Close()
	client.Close()
	time.Sleep(3 * time.Second)
	_, memClosed := mem(srv)
	peak = max(peak, mAfter.HWM)

	sentMsg := fmt.Sprintf("%d of %d in %s", sent, c.envRequests, took.Round(100*time.Millisecond))
	if sendErr != nil {
		sentMsg += fmt.Sprintf(" (then: %s)", oneLine(sendErr.Error(), 80))
	}
	rows := [][2]string{
		{"env requests sent", sentMsg},
	}
	if wantReply {
		rows = append(rows, [2]string{"replies", fmt.Sprintf("%d accepted, %d refused", accepted, refused)})
	}
	rows = append(rows,
		[2]string{"a last request with want-reply", barrier},
		[2]string{"server RSS before", harness.MiB(m0.RSS)},
		[2]string{"server memory after the requests", memAfter},
		[2]string{"server memory 3 s after the session closed", memClosed},
		[2]string{"peak RSS (100 ms samples and VmHWM)", harness.MiB(peak)},
	)
	r.table(rows)
	return []result{{phase: name, goal: fmt.Sprintf("RSS < %s after %s env requests of %s", size(c.rssGoal), count(c.envRequests), size(int64(c.envBytes))),
		measured: "peak " + harness.MiB(peak), pass: peak < c.rssGoal}}
}
