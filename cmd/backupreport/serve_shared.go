package main

import (
	"context"
	"flag"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/backupreport/backupreport/store"
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
func (o *sharedLimits) start(ctx context.Context, log *slog.Logger, reg prometheus.Registerer) (stop func()) {
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

var (
	sharedSyncsDesc = prometheus.NewDesc("backupreport_shared_limit_syncs_total",
		"Syncs of the counts shared with the other nodes (--limits-sync), by scope.", []string{"scope"}, nil)
	sharedFailuresDesc = prometheus.NewDesc("backupreport_shared_limit_sync_failures_total",
		"Syncs of shared counts that failed (the node counted alone meanwhile), by scope.", []string{"scope"}, nil)
	sharedDroppedDesc = prometheus.NewDesc("backupreport_shared_limit_dropped_total",
		"Subjects not shared because a node held the most it may between syncs, by scope.", []string{"scope"}, nil)
	sharedOthersDesc = prometheus.NewDesc("backupreport_shared_limit_other_subjects",
		"Subjects (addresses, usernames) the other nodes counted, as of the last sync, by scope.", []string{"scope"}, nil)
)

// sharedCollector reports the shared counts' statistics.
type sharedCollector []*store.SharedCounts

func (c sharedCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{sharedSyncsDesc, sharedFailuresDesc, sharedDroppedDesc, sharedOthersDesc} {
		ch <- d
	}
}

func (c sharedCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c {
		st := s.Stats()
		ch <- prometheus.MustNewConstMetric(sharedSyncsDesc, prometheus.CounterValue, float64(st.Syncs), s.Scope())
		ch <- prometheus.MustNewConstMetric(sharedFailuresDesc, prometheus.CounterValue, float64(st.Failures), s.Scope())
		ch <- prometheus.MustNewConstMetric(sharedDroppedDesc, prometheus.CounterValue, float64(st.Dropped), s.Scope())
		ch <- prometheus.MustNewConstMetric(sharedOthersDesc, prometheus.GaugeValue, float64(st.Others), s.Scope())
	}
}
