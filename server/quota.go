package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
	"github.com/backupreport/backupreport/store/metrics"
)

// StorageMetrics count what quotas and retention delete. Both the SSH side
// (a quota checked after each upload) and serve's storage job add to them.
type StorageMetrics struct {
	LogsPruned  *metrics.CounterVec // by reason: quota, retention
	BytesPruned *metrics.CounterVec // stored (compressed) bytes, by reason
}

// NewStorageMetrics creates the metrics and registers them with reg (which
// may be nil).
func NewStorageMetrics(reg *metrics.Registry) *StorageMetrics {
	m := &StorageMetrics{
		LogsPruned: metrics.NewCounterVec(metrics.CounterOpts{
			Name: "backupreport_raw_logs_pruned_total", Help: "Raw logs deleted to keep a customer within its quota (quota) or older than --raw-log-retention (retention). Their results stay.",
		}, []string{"reason"}),
		BytesPruned: metrics.NewCounterVec(metrics.CounterOpts{
			Name: "backupreport_raw_log_bytes_pruned_total", Help: "Stored (compressed) bytes of the raw logs deleted, by reason.",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.LogsPruned, m.BytesPruned)
	}
	return m
}

// Record logs and counts a prune that deleted something; a prune that did
// nothing is silent.
func (m *StorageMetrics) Record(log *slog.Logger, st store.PruneStats) {
	if st.Logs == 0 {
		return
	}
	if m != nil {
		m.LogsPruned.WithLabelValues(st.Reason).Add(float64(st.Logs))
		m.BytesPruned.WithLabelValues(st.Reason).Add(float64(st.StoredBytes))
	}
	attrs := []any{logkey.Reason, st.Reason, logkey.Logs, st.Logs, logkey.Bytes, st.StoredBytes, logkey.OriginalBytes, st.OriginalBytes,
		logkey.Transactions, st.Transactions}
	if st.Customer != "" {
		attrs = append([]any{logkey.Customer, st.Customer, logkey.Quota, st.Quota}, attrs...)
	}
	log.Info("raw logs pruned", attrs...)
}

// quotaTimeout bounds the quota check an upload waits for before its
// receipt; what it leaves is done by serve's hourly storage job.
const quotaTimeout = 20 * time.Second

// quotaRecheck is how long a customer's cached log usage and cap are
// trusted: a cap changed in the web interface, or logs another process
// stored, are seen within it.
const quotaRecheck = time.Minute

// quotaCache keeps each customer's raw log usage, as last measured plus
// what this process's uploads stored since, so that an upload well within
// the cap costs no sum over the customer's logs (47 ms for 40,000 logs).
// Deletions by others only make the cached usage too high, which is safe:
// an upload that seems to cross the cap measures again. One entry per
// customer that uploaded: bounded by the customers.
type quotaCache struct {
	mu sync.Mutex
	m  map[int64]quotaUsage
}

type quotaUsage struct {
	quota, stored int64
	at            time.Time
}

// within adds stored bytes to the customer's cached usage and reports
// whether it is known to stay within the cap.
func (c *quotaCache) within(customerID, stored int64, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.m[customerID]
	if !ok || now.Sub(u.at) > quotaRecheck || u.quota <= 0 || u.stored+stored > u.quota {
		delete(c.m, customerID)
		return false
	}
	u.stored += stored
	c.m[customerID] = u
	return true
}

func (c *quotaCache) set(customerID int64, u quotaUsage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int64]quotaUsage{}
	}
	c.m[customerID] = u
}

// enforceQuota keeps a customer's stored raw logs within its cap after an
// upload committed (see store.DB.EnforceLogQuota; the upload just stored
// is its newest log, so it is never the one deleted). Failures are
// logged, never returned: the upload is stored and must be acknowledged.
func (s *Server) enforceQuota(ctx context.Context, customerID, stored int64) {
	now := time.Now()
	if s.quota.within(customerID, stored, now) {
		return
	}
	// Even with no default cap, a customer may have its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), quotaTimeout)
	defer cancel()
	st, err := s.db.EnforceLogQuota(ctx, customerID, max(s.cfg.LogQuota, 0), store.PruneOptions{})
	s.cfg.StorageMetrics.Record(s.log, st)
	if err != nil {
		s.log.Warn("log quota", logkey.Customer, st.Customer, logkey.Err, err)
		return
	}
	if st.Quota > 0 {
		if u, err := s.db.LogUsage(ctx, customerID); err == nil {
			s.quota.set(customerID, quotaUsage{quota: st.Quota, stored: u.StoredBytes, at: now})
		}
	}
}
