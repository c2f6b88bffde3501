package server

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the SSH side's Prometheus metrics. The web side serves them.
type Metrics struct {
	Uploads       *prometheus.CounterVec // by status: ok, failed, interrupted, error
	AuthFailures  prometheus.Counter
	Refused       *prometheus.CounterVec // refused commands and requests, by reason
	ParseDuration prometheus.Histogram
	UploadBytes   prometheus.Counter
	OpenSessions  prometheus.Gauge

	// The memory budget of all uploads together (--upload-memory).
	UploadMemoryBytes   prometheus.Gauge
	UploadMemoryLimit   prometheus.Gauge
	UploadMemoryWaits   prometheus.Counter
	UploadMemoryRefused prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg (which may be
// nil, for tests that do not look at them).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backupreport_uploads_total", Help: "Uploads stored, by outcome (ok, failed, interrupted), and uploads that failed to store (error). Refusals are in backupreport_ssh_refused_total.",
		}, []string{"status"}),
		AuthFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "backupreport_ssh_auth_failures_total", Help: "SSH logins refused because the key is unknown or revoked.",
		}),
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backupreport_ssh_refused_total", Help: "SSH commands and requests refused, by reason.",
		}, []string{"reason"}),
		ParseDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "backupreport_parse_duration_seconds", Help: "Time from the first byte of an upload to its stored verdict.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
		UploadBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "backupreport_upload_bytes_total", Help: "Bytes of reports received.",
		}),
		OpenSessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "backupreport_ssh_open_sessions", Help: "SSH sessions open now.",
		}),
		UploadMemoryBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "backupreport_upload_memory_bytes", Help: "Bytes of the upload memory budget taken by uploads now.",
		}),
		UploadMemoryLimit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "backupreport_upload_memory_limit_bytes", Help: "The upload memory budget (--upload-memory).",
		}),
		UploadMemoryWaits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "backupreport_upload_memory_waits_total", Help: "Uploads that waited for room in the upload memory budget.",
		}),
		UploadMemoryRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "backupreport_upload_memory_refused_total", Help: "Uploads refused as busy after waiting --upload-memory-wait for room in the budget.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Uploads, m.AuthFailures, m.Refused, m.ParseDuration, m.UploadBytes, m.OpenSessions,
			m.UploadMemoryBytes, m.UploadMemoryLimit, m.UploadMemoryWaits, m.UploadMemoryRefused)
	}
	return m
}
