package report

import "github.com/backupreport/backupreport/store/metrics"

// webMetrics are the web side's own Prometheus metrics, registered with
// Config.Metrics.
type webMetrics struct {
	loginFailures    *metrics.CounterVec // wrong passwords, by form: login, password
	throttled        *metrics.CounterVec // attempts refused, by scope: pair, address
	throttleStarts   *metrics.CounterVec // pairs and addresses that began to be refused
	throttleEvicted  *metrics.CounterVec // entries dropped at MaxTracked
	throttleTracked  *metrics.GaugeVec   // entries kept now
	forwardedIgnored *metrics.Counter    // X-Forwarded-* headers from a peer that is not a trusted proxy
	pendingLogins    *metrics.Gauge      // logins waiting for their second factor
	pendingDropped   *metrics.Counter    // of them, dropped at Config.PendingLogins
}

func newWebMetrics(reg *metrics.Registry) *webMetrics {
	m := &webMetrics{
		loginFailures: metrics.NewCounterVec(metrics.CounterOpts{
			Name: "backupreport_web_login_failures_total", Help: "Wrong passwords given on the web, by form (login, password: the current password on /account/password; code: a wrong second-factor code at login).",
		}, []string{"form"}),
		throttled: metrics.NewCounterVec(metrics.CounterOpts{
			Name: "backupreport_web_login_throttled_total", Help: "Password attempts refused with 429 before the check, by scope (pair: one username from one address; address: all usernames from one address).",
		}, []string{"scope"}),
		throttleStarts: metrics.NewCounterVec(metrics.CounterOpts{
			Name: "backupreport_web_login_throttle_starts_total", Help: "Pairs and addresses whose attempts began to be refused (one log line each), by scope.",
		}, []string{"scope"}),
		throttleEvicted: metrics.NewCounterVec(metrics.CounterOpts{
			Name: "backupreport_web_login_throttle_evicted_total", Help: "Entries of the login throttle forgotten early because it was full (--login-tracked), by scope.",
		}, []string{"scope"}),
		throttleTracked: metrics.NewGaugeVec(metrics.GaugeOpts{
			Name: "backupreport_web_login_throttle_tracked", Help: "Pairs and addresses with recent failed passwords kept by the login throttle, by scope.",
		}, []string{"scope"}),
		pendingLogins: metrics.NewGauge(metrics.GaugeOpts{
			Name: "backupreport_web_login_pending", Help: "Logins whose password was right, waiting for their second-factor code.",
		}),
		pendingDropped: metrics.NewCounter(metrics.CounterOpts{
			Name: "backupreport_web_login_pending_dropped_total", Help: "Logins waiting for their code dropped, oldest first, because --login-pending were waiting.",
		}),
		forwardedIgnored: metrics.NewCounter(metrics.CounterOpts{
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
