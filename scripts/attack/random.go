package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/backupreport/backupreport/scripts/internal/harness"
)

// random sends parallel uploads of random bytes, the worst case for the
// parser (no line ends) and for compression, sampling the server's RSS.
func (r *runner) random(ctx context.Context) []result {
	const name = "random"
	c := r.cfg
	fx, srv, err := r.start(ctx, name)
	if err != nil {
		return failed(name, err)
	}
	defer r.finish(name, srv)
	m0, _ := srv.Mem()
	sampler := srv.Sample(100 * time.Millisecond)
	start := time.Now()
	results := make([]harness.UploadResult, c.randomUploads)
	var wg sync.WaitGroup
	for i := range c.randomUploads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := io.LimitReader(rand.NewChaCha8([32]byte{byte(i), 'r', 'a', 'n', 'd'}), c.randomBytes)
			results[i] = harness.Upload(ctx, "", srv.SSHAddr, fx.Signer, fmt.Sprintf("rand%02d", i), body)
		}()
	}
	wg.Wait()
	took := time.Since(start)
	peak := sampler.Stop()
	mAfter, memAfter := mem(srv)
	peak = max(peak, mAfter.HWM)

	ok := 0
	outcomes := map[string]int{}
	for _, res := range results {
		switch {
		case res.Acknowledged():
			ok++
		case res.Err != nil:
			outcomes[oneLine(res.Err.Error(), 80)]++
		default:
			outcomes[fmt.Sprintf("exit %d: %s", res.ExitStatus, oneLine(res.Stderr, 80))]++
		}
	}
	stored := 0
	var storeErr string
	for i := range c.randomUploads {
		out, err := fx.CLI(ctx, "history", fmt.Sprintf("%s/rand%02d", harness.Customer, i), "--json")
		if err != nil {
			if storeErr == "" {
				storeErr = err.Error()
			}
			continue
		}
		var rows []json.RawMessage
		if json.Unmarshal([]byte(out), &rows) == nil && len(rows) > 0 {
			stored++
		}
	}
	var parts []string
	for o, n := range outcomes {
		parts = append(parts, fmt.Sprintf("%d× %q", n, o))
	}
	sort.Strings(parts)
	receipt := ""
	for _, res := range results {
		if res.Acknowledged() {
			receipt = res.Stderr
			break
		}
	}
	r.table([][2]string{
		{"uploads", fmt.Sprintf("%d in parallel, %s of random bytes each, in %s", c.randomUploads, harness.MiB(c.randomBytes), took.Round(100*time.Millisecond))},
		{"exit status 0", fmt.Sprintf("%d/%d", ok, c.randomUploads)},
		{"other outcomes", strings.Join(parts, "; ")},
		{"a receipt", oneLine(receipt, 120)},
		{"stored (history has a result)", fmt.Sprintf("%d/%d %s", stored, c.randomUploads, firstOf(storeErr))},
		{"server RSS before", harness.MiB(m0.RSS)},
		{"server memory after", memAfter},
		{"peak RSS (100 ms samples and VmHWM)", harness.MiB(peak)},
	})
	return []result{
		{phase: name, goal: fmt.Sprintf("RSS < %s during %d uploads of %s random", size(c.rssGoal), c.randomUploads, size(c.randomBytes)),
			measured: "peak " + harness.MiB(peak), pass: peak < c.rssGoal},
		{phase: name, goal: fmt.Sprintf("all %d stored", c.randomUploads), measured: fmt.Sprintf("%d stored, %d exit 0", stored, ok),
			pass: stored == c.randomUploads && ok == c.randomUploads},
	}
}
