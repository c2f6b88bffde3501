package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/backupreport/backupreport/scripts/internal/harness"
)

// keyCheckMetric counts the logins whose key the server looked up.
const keyCheckMetric = "backupreport_ssh_auth_failures_total"

// loginsPhase tries many logins with a key no customer has from one
// address and counts how many reached the key check.
func (r *runner) loginsPhase(ctx context.Context) []result {
	const name = "logins"
	c := r.cfg
	fx, srv, err := r.start(ctx, name)
	if err != nil {
		return failed(name, err)
	}
	defer r.finish(name, srv)
	unknown, err := harness.NewUnknownSigner()
	if err != nil {
		return failed(name, err)
	}
	before, err := srv.Metrics(ctx, fx.Token, 10*time.Second)
	if err != nil {
		return failed(name, err)
	}
	logAt := srv.LogLen()

	outcomes := map[string]int{}
	var mu sync.Mutex
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for range c.loginConc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				client, err := harness.Dial(ctx, c.loginSource, srv.SSHAddr, unknown, 10*time.Second)
				o := classifyLogin(err)
				if client != nil {
					client.Close()
				}
				mu.Lock()
				outcomes[o]++
				mu.Unlock()
			}
		}()
	}
sending:
	for range c.logins {
		select {
		case jobs <- struct{}{}:
		case <-ctx.Done():
			break sending
		}
	}
	close(jobs)
	wg.Wait()
	took := time.Since(start)

	after, err := srv.Metrics(ctx, fx.Token, 10*time.Second)
	if err != nil {
		return failed(name, err)
	}
	checks := int(after[keyCheckMetric] - before[keyCheckMetric])
	logged := srv.CountLog(logAt, "ssh key refused")
	// A customer behind another address must not be locked out.
	other := harness.Upload(ctx, "127.0.0.6", srv.SSHAddr, fx.Signer, "other01", bytes.NewReader(r.report))

	var parts []string
	total := 0
	for o, n := range outcomes {
		parts = append(parts, fmt.Sprintf("%s %d", o, n))
		total += n
	}
	sort.Strings(parts)
	otherMsg := "ok"
	if !other.Acknowledged() {
		otherMsg = fmt.Sprintf("FAILED: exit %d %v %s", other.ExitStatus, other.Err, oneLine(other.Stderr, 80))
	}
	r.table([][2]string{
		{"unknown-key logins tried", fmt.Sprintf("%d from %s, %d at a time, in %s (%.0f/s)", total, c.loginSource, c.loginConc,
			took.Round(100*time.Millisecond), float64(total)/took.Seconds())},
		{"outcomes as the client saw them", strings.Join(parts, ", ")},
		{"reached the key check (" + keyCheckMetric + " delta)", fmt.Sprint(checks)},
		{"\"ssh key refused\" log lines", fmt.Sprint(logged)},
		{"server log bytes written", fmt.Sprint(srv.LogLen() - logAt)},
		{"upload with a registered key from 127.0.0.6", otherMsg},
	})
	r.metricDeltas(before, after)
	return []result{
		{phase: name, goal: fmt.Sprintf("<= %d of %s unknown-key logins reach the key check", c.keyCheckGoal, count(c.logins)),
			measured: fmt.Sprint(checks), pass: checks <= c.keyCheckGoal},
		{phase: name, goal: "a customer on another address still uploads", measured: otherMsg, pass: other.Acknowledged()},
	}
}

// classifyLogin names what the client saw of a refused login.
func classifyLogin(err error) string {
	var op *net.OpError
	switch {
	case err == nil:
		return "logged in (!)"
	case strings.Contains(err.Error(), "unable to authenticate"):
		return "key refused"
	case errors.As(err, &op) && op.Op == "dial":
		return "connect failed"
	case errors.Is(err, os.ErrDeadlineExceeded) || strings.Contains(err.Error(), "timeout"):
		return "timed out"
	default:
		return "connection closed by the server"
	}
}
