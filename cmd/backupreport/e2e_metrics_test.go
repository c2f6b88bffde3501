package main

import (
	"io"
	"net/http"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsScrapeParsesWithPrometheus scrapes a running serve's /metrics
// after one upload over OpenSSH and reads the answer with Prometheus's own
// text parser: every family parses, has its HELP and TYPE, and counts
// what happened.
func TestMetricsScrapeParsesWithPrometheus(t *testing.T) {
	needTool(t, "ssh")
	in := startServe(t)
	in.mustCLI("customer", "add", "acme")
	key := in.newKey("acme", "ed25519", 0)
	in.mustCLI("key", "add", "acme", key+".pub")
	if r := in.upload(key, "cat > /reports/acme/exch01.out", statsOut(t, "real-success")); r.code != 0 {
		t.Fatalf("upload: exit %d\n%s", r.code, r.stderr)
	}
	web := webAdmin(t, in, "http://"+in.web())
	resp, err := web.http.Get("http://" + in.web() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %d\n%s", resp.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("Prometheus's parser refuses serve's /metrics: %v", err)
	}
	for name, f := range fams {
		if f.GetHelp() == "" {
			t.Errorf("%s has no HELP text", name)
		}
	}
	value := func(name, label, labelValue string) float64 {
		t.Helper()
		f := fams[name]
		if f == nil {
			t.Fatalf("/metrics lacks %s", name)
		}
		for _, m := range f.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				match = match || (l.GetName() == label && l.GetValue() == labelValue)
			}
			if !match {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
		t.Fatalf("%s has no sample %s=%q", name, label, labelValue)
		return 0
	}
	if got := value("backupreport_uploads_total", "status", "ok"); got != 1 {
		t.Errorf("backupreport_uploads_total{status=ok} = %v, want 1", got)
	}
	if got := value("backupreport_parse_duration_seconds", "", ""); got != 1 {
		t.Errorf("backupreport_parse_duration_seconds counts %v uploads, want 1", got)
	}
	if got := value("backupreport_web_login_failures_total", "form", "login"); got != 0 {
		t.Errorf("backupreport_web_login_failures_total{form=login} = %v, want 0", got)
	}
	for _, name := range []string{"backupreport_database_bytes", "process_resident_memory_bytes", "process_open_fds", "go_goroutines"} {
		if got := value(name, "", ""); got <= 0 {
			t.Errorf("%s = %v, want > 0", name, got)
		}
	}
}
