package server

import (
	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store/metrics"
)

// Metrics are the SSH side's Prometheus metrics. The web side serves them.
type Metrics struct {
	Uploads       *metrics.CounterVec // by status: ok, failed, interrupted, error
	Warnings      *metrics.CounterVec // early warnings of stored uploads, by kind
	AuthFailures  *metrics.Counter
	Refused       *metrics.CounterVec // refused commands and requests, by reason
	ParseDuration *metrics.Histogram
	UploadBytes   *metrics.Counter
	OpenSessions  *metrics.Gauge

	Connections     *metrics.Gauge      // open SSH connections
	Unauthenticated *metrics.Gauge      // of which not logged in yet
	ConnsRefused    *metrics.CounterVec // dropped at accept, by reason
	AcceptErrors    *metrics.Counter
	LoginTimeouts   *metrics.Counter
	SessionWaits    *metrics.Counter // sessions that waited over a second for a slot
	EnvIgnored      *metrics.Counter
	RevokedClosed   *metrics.Counter

	// The memory budget of all uploads together (--upload-memory).
	UploadMemoryBytes   *metrics.Gauge
	UploadMemoryLimit   *metrics.Gauge
	UploadMemoryWaits   *metrics.Counter
	UploadMemoryRefused *metrics.Counter
}

// NewMetrics creates the metrics and registers them with reg (which may be
// nil, for tests that do not look at them).
func NewMetrics(reg *metrics.Registry) *Metrics {
	m := &Metrics{
		Uploads: metrics.NewCounterVec(metrics.CounterOpts{
			Name: "backupreport_uploads_total", Help: "Uploads stored, by outcome (ok, failed, interrupted), and uploads that failed to store (error). Refusals are in backupreport_ssh_refused_total.",
		}, []string{"status"}),
		Warnings: metrics.NewCounterVec(metrics.CounterOpts{
			Name: "backupreport_warnings_total", Help: "Early warnings of stored uploads, by kind (mass_deletion, deletion_spike, size_drop, change_spike, frozen_source), whatever their verdict.",
		}, []string{"kind"}),
		AuthFailures: metrics.NewCounter(metrics.CounterOpts{
			Name: "backupreport_ssh_auth_failures_total", Help: "SSH logins refused because the key is unknown or revoked.",
		}),
		Refused: metrics.NewCounterVec(metrics.CounterOpts{
			Name: "backupreport_ssh_refused_total", Help: "SSH commands and requests refused, by reason.",
		}, []string{"reason"}),
		ParseDuration: metrics.NewHistogram(metrics.HistogramOpts{
			Name: "backupreport_parse_duration_seconds", Help: "Time from the first byte of an upload to its stored verdict.",
			Buckets: metrics.ExponentialBuckets(0.001, 4, 10),
		}),
		UploadBytes: metrics.NewCounter(metrics.CounterOpts{
			Name: "backupreport_upload_bytes_total", Help: "Bytes of reports received.",
		}),
		OpenSessions: metrics.NewGauge(metrics.GaugeOpts{
			Name: "backupreport_ssh_open_sessions", Help: "SSH sessions open now.",
		}),
		Connections: metrics.NewGauge(metrics.GaugeOpts{
			Name: "backupreport_ssh_connections", Help: "SSH connections open now.",
		}),
		Unauthenticated: metrics.NewGauge(metrics.GaugeOpts{
			Name: "backupreport_ssh_unauthenticated_connections", Help: "SSH connections open now that have not logged in yet.",
		}),
		ConnsRefused: metrics.NewCounterVec(metrics.CounterOpts{
			Name: "backupreport_ssh_connections_refused_total", Help: "SSH connections closed at accept, before the banner, by reason (max_startups, per_source, max_connections, banned).",
		}, []string{"reason"}),
		AcceptErrors: metrics.NewCounter(metrics.CounterOpts{
			Name: "backupreport_ssh_accept_errors_total", Help: "Failed accepts on the SSH listener (e.g. out of file handles); each is retried.",
		}),
		LoginTimeouts: metrics.NewCounter(metrics.CounterOpts{
			Name: "backupreport_ssh_login_timeouts_total", Help: "SSH connections closed because they did not log in within the grace time.",
		}),
		SessionWaits: metrics.NewCounter(metrics.CounterOpts{
			Name: "backupreport_ssh_session_waits_total", Help: "SSH sessions that waited more than a second for a free session slot.",
		}),
		EnvIgnored: metrics.NewCounter(metrics.CounterOpts{
			Name: "backupreport_ssh_env_requests_ignored_total", Help: "SSH env requests refused and dropped (the server uses no environment).",
		}),
		RevokedClosed: metrics.NewCounter(metrics.CounterOpts{
			Name: "backupreport_ssh_revoked_connections_closed_total", Help: "SSH connections closed because their key was revoked.",
		}),
		UploadMemoryBytes: metrics.NewGauge(metrics.GaugeOpts{
			Name: "backupreport_upload_memory_bytes", Help: "Bytes of the upload memory budget taken by uploads now.",
		}),
		UploadMemoryLimit: metrics.NewGauge(metrics.GaugeOpts{
			Name: "backupreport_upload_memory_limit_bytes", Help: "The upload memory budget (--upload-memory).",
		}),
		UploadMemoryWaits: metrics.NewCounter(metrics.CounterOpts{
			Name: "backupreport_upload_memory_waits_total", Help: "Uploads that waited for room in the upload memory budget.",
		}),
		UploadMemoryRefused: metrics.NewCounter(metrics.CounterOpts{
			Name: "backupreport_upload_memory_refused_total", Help: "Uploads refused as busy after waiting --upload-memory-wait for room in the budget.",
		}),
	}
	for _, k := range parser.WarningKinds { // every kind shows, 0 until it happens
		m.Warnings.WithLabelValues(string(k))
	}
	if reg != nil {
		reg.MustRegister(m.Uploads, m.Warnings, m.AuthFailures, m.Refused, m.ParseDuration, m.UploadBytes, m.OpenSessions,
			m.Connections, m.Unauthenticated, m.ConnsRefused, m.AcceptErrors, m.LoginTimeouts, m.SessionWaits, m.EnvIgnored, m.RevokedClosed,
			m.UploadMemoryBytes, m.UploadMemoryLimit, m.UploadMemoryWaits, m.UploadMemoryRefused)
	}
	return m
}
