package main

import (
	"context"
	"flag"
	"log/slog"
	"sync"
	"time"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/metrics"
)

// sharedLimits are the counts the SSH ban score and the web login
// throttle share with the other nodes on the database, through
// store.SharedCounts: each node decides at once on its own counts plus
// the others' as of the last sync.
type sharedLimits struct {
	every  *time.Duration
	node   string
	counts []*store.SharedCounts
}

func addSharedFlags(fs *flag.FlagSet) *sharedLimits {
	return &sharedLimits{node: nodeName(), every: fs.Duration("limits-sync", 2*time.Second,
		"how often the SSH ban score and the web login throttle share their counts through the database,\n"+
			"with the other serve nodes and with this node's next start (0: each node counts alone, in memory)")}
}

// of returns the shared counts of scope, or nil with --limits-sync 0.
func (o *sharedLimits) of(db *store.DB, scope string, window time.Duration, maxSubjects int) *store.SharedCounts {
	if *o.every <= 0 {
		return nil
	}
	c := db.SharedCounts(scope, o.node, window, maxSubjects)
	o.counts = append(o.counts, c)
	return c
}

// start syncs every shared count in the background and registers their
// metrics; the returned function stops them after a last sync.
func (o *sharedLimits) start(ctx context.Context, log *slog.Logger, reg *metrics.Registry) (stop func()) {
	reg.MustRegister(sharedCollector(o.counts))
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, c := range o.counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Run(ctx, *o.every, log)
		}()
	}
	return func() { cancel(); wg.Wait() }
}

// sharedCollector reports the shared counts' statistics, by scope.
type sharedCollector []*store.SharedCounts

func (c sharedCollector) Collect() []metrics.Family {
	fams := []metrics.Family{
		{Name: "backupreport_shared_limit_syncs_total", Type: metrics.TypeCounter,
			Help: "Syncs of the counts shared with the other nodes (--limits-sync), by scope."},
		{Name: "backupreport_shared_limit_sync_failures_total", Type: metrics.TypeCounter,
			Help: "Syncs of shared counts that failed (the node counted alone meanwhile), by scope."},
		{Name: "backupreport_shared_limit_dropped_total", Type: metrics.TypeCounter,
			Help: "Subjects not shared because a node held the most it may between syncs, by scope."},
		{Name: "backupreport_shared_limit_other_subjects", Type: metrics.TypeGauge,
			Help: "Subjects (addresses, usernames) the other nodes counted, as of the last sync, by scope."},
	}
	for _, s := range c {
		st := s.Stats()
		scope := []metrics.Label{{Name: "scope", Value: s.Scope()}}
		for i, v := range []int64{st.Syncs, st.Failures, st.Dropped, int64(st.Others)} {
			fams[i].Samples = append(fams[i].Samples, metrics.Sample{Labels: scope, Value: float64(v)})
		}
	}
	return fams
}
