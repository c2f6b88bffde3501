package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
)

// StorageMetrics count what quotas and retention delete. Both the SSH side
// (a quota checked after each upload) and serve's storage job add to them.
type StorageMetrics struct {
	LogsPruned  *prometheus.CounterVec // by reason: quota, retention
	BytesPruned *prometheus.CounterVec // stored (compressed) bytes, by reason
}

// NewStorageMetrics creates the metrics and registers them with reg (which
// may be nil).
func NewStorageMetrics(reg prometheus.Registerer) *StorageMetrics {
	m := &StorageMetrics{
		LogsPruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backupreport_raw_logs_pruned_total", Help: "Raw logs deleted to keep a customer within its quota (quota) or older than --raw-log-retention (retention). Their results stay.",
		}, []string{"reason"}),
		BytesPruned: prometheus.NewCounterVec(prometheus.CounterOpts{
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

// enforceQuota keeps a customer's stored raw logs within its cap after an
// upload committed (see store.DB.EnforceLogQuota; the upload just stored
// is its newest log, so it is never the one deleted). Failures are
// logged, never returned: the upload is stored and must be acknowledged.
func (s *Server) enforceQuota(ctx context.Context, customerID int64) {
	// Even with no default cap, a customer may have its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), quotaTimeout)
	defer cancel()
	st, err := s.db.EnforceLogQuota(ctx, customerID, max(s.cfg.LogQuota, 0), store.PruneOptions{})
	s.cfg.StorageMetrics.Record(s.log, st)
	if err != nil {
		s.log.Warn("log quota", logkey.Customer, st.Customer, logkey.Err, err)
	}
}
