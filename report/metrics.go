package report

import "github.com/prometheus/client_golang/prometheus"

// webMetrics are the web side's own Prometheus metrics, registered with
// Config.Registerer.
type webMetrics struct {
	loginFailures    *prometheus.CounterVec // wrong passwords, by form: login, password
	throttled        *prometheus.CounterVec // attempts refused, by scope: pair, address
	throttleStarts   *prometheus.CounterVec // pairs and addresses that began to be refused
	throttleEvicted  *prometheus.CounterVec // entries dropped at MaxTracked
	throttleTracked  *prometheus.GaugeVec   // entries kept now
	forwardedIgnored prometheus.Counter     // X-Forwarded-* headers from a peer that is not a trusted proxy
	pendingLogins    prometheus.Gauge       // logins waiting for their second factor
	pendingDropped   prometheus.Counter     // of them, dropped at Config.PendingLogins
}

func newWebMetrics(reg prometheus.Registerer) *webMetrics {
	m := &webMetrics{
		loginFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backupreport_web_login_failures_total", Help: "Wrong passwords given on the web, by form (login, password: the current password on /account/password; code: a wrong second-factor code at login).",
		}, []string{"form"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backupreport_web_login_throttled_total", Help: "Password attempts refused with 429 before the check, by scope (pair: one username from one address; address: all usernames from one address).",
		}, []string{"scope"}),
		throttleStarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backupreport_web_login_throttle_starts_total", Help: "Pairs and addresses whose attempts began to be refused (one log line each), by scope.",
		}, []string{"scope"}),
		throttleEvicted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backupreport_web_login_throttle_evicted_total", Help: "Entries of the login throttle forgotten early because it was full (--login-tracked), by scope.",
		}, []string{"scope"}),
		throttleTracked: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "backupreport_web_login_throttle_tracked", Help: "Pairs and addresses with recent failed passwords kept by the login throttle, by scope.",
		}, []string{"scope"}),
		pendingLogins: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "backupreport_web_login_pending", Help: "Logins whose password was right, waiting for their second-factor code.",
		}),
		pendingDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "backupreport_web_login_pending_dropped_total", Help: "Logins waiting for their code dropped, oldest first, because --login-pending were waiting.",
		}),
		forwardedIgnored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "backupreport_web_forwarded_ignored_total", Help: "Requests whose X-Forwarded-For or X-Forwarded-Proto was ignored because the peer is not a --trusted-proxy.",
		}),
	}
	for _, s := range []string{scopePair, scopeAddress} {
		m.throttled.WithLabelValues(s)
		m.throttleStarts.WithLabelValues(s)
		m.throttleEvicted.WithLabelValues(s)
		m.throttleTracked.WithLabelValues(s)
	}
	for _, f := range []string{formLogin, formPassword, formCode} {
		m.loginFailures.WithLabelValues(f)
	}
	if reg != nil {
		reg.MustRegister(m.loginFailures, m.throttled, m.throttleStarts, m.throttleEvicted, m.throttleTracked, m.forwardedIgnored,
			m.pendingLogins, m.pendingDropped)
	}
	return m
}

// Forms whose passwords the throttle counts.
const (
	formLogin    = "login"
	formPassword = "password"
	formCode     = "code" // the second factor's code at login
)
