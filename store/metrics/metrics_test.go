package metrics

import (
	"bytes"
	"compress/gzip"
	"flag"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sample builds a registry with one of each kind, the awkward values
// (escapes, +Inf, a negative gauge) included.
func sample() *Registry {
	r := NewRegistry()
	up := NewCounterVec(CounterOpts{Name: "t_uploads_total", Help: "Uploads, by status."}, []string{"status"})
	up.WithLabelValues("ok").Add(3)
	up.WithLabelValues("failed").Inc()
	up.WithLabelValues(`a "quoted"\ value` + "\n")
	auth := NewCounter(CounterOpts{Name: "t_auth_failures_total", Help: "A help with a \\ backslash\nand a newline."})
	auth.Add(0.5)
	open := NewGauge(GaugeOpts{Name: "t_open", Help: "Open now."})
	open.Inc()
	open.Dec()
	open.Dec()
	open.Dec()
	tracked := NewGaugeVec(GaugeOpts{Name: "t_tracked", Help: "Tracked, by scope and kind."}, []string{"scope", "kind"})
	tracked.WithLabelValues("pair", "b").Set(7)
	tracked.WithLabelValues("address", "a").Set(2)
	h := NewHistogram(HistogramOpts{Name: "t_parse_seconds", Help: "Parse time.", Buckets: ExponentialBuckets(0.001, 4, 3)})
	for _, v := range []float64{0.0005, 0.001, 0.002, 0.5, 9} {
		h.Observe(v)
	}
	r.MustRegister(up, auth, open, tracked, h,
		NewGaugeFunc(GaugeOpts{Name: "t_db_bytes", Help: "Read at scrape."}, func() float64 { return 4096 }),
		CollectorFunc(func() []Family {
			return []Family{{Name: "t_inf", Help: "Infinite.", Type: TypeGauge, Samples: []Sample{{Value: math.Inf(1)}}}}
		}))
	return r
}

func TestWriteTextGolden(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "sample.txt")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("text exposition differs from %s (go test -update rewrites it):\n%s", golden, b.String())
	}
}

// TestPrometheusParsesIt reads our output with Prometheus's own text
// parser: the format is theirs, so their parser is the judge.
func TestPrometheusParsesIt(t *testing.T) {
	var b bytes.Buffer
	r := sample()
	r.MustRegister(NewGoCollector(), NewProcessCollector())
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(&b)
	if err != nil {
		t.Fatalf("Prometheus's parser refuses our output: %v\n%s", err, b.String())
	}
	checks := []struct {
		name, typ string
		samples   int
	}{
		{"t_uploads_total", "COUNTER", 3},
		{"t_auth_failures_total", "COUNTER", 1},
		{"t_open", "GAUGE", 1},
		{"t_tracked", "GAUGE", 2},
		{"t_parse_seconds", "HISTOGRAM", 1},
		{"t_db_bytes", "GAUGE", 1},
		{"go_goroutines", "GAUGE", 1},
		{"go_gc_duration_seconds", "SUMMARY", 1},
		{"process_resident_memory_bytes", "GAUGE", 1},
		{"process_cpu_seconds_total", "COUNTER", 1},
		{"process_open_fds", "GAUGE", 1},
	}
	for _, c := range checks {
		f := fams[c.name]
		if f == nil {
			t.Errorf("%s missing", c.name)
			continue
		}
		if got := f.GetType().String(); got != c.typ {
			t.Errorf("%s: type %s, want %s", c.name, got, c.typ)
		}
		if got := len(f.GetMetric()); got != c.samples {
			t.Errorf("%s: %d samples, want %d", c.name, got, c.samples)
		}
	}
	h := fams["t_parse_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 5 || h.GetSampleSum() != 9.5035 {
		t.Errorf("histogram count %d sum %v, want 5 and 9.5035", h.GetSampleCount(), h.GetSampleSum())
	}
	if got := fams["t_uploads_total"].GetMetric()[0].GetLabel()[0].GetValue(); got != "a \"quoted\"\\ value\n" {
		t.Errorf("escaped label value read back as %q", got)
	}
	if q := fams["go_gc_duration_seconds"].GetMetric()[0].GetSummary().GetQuantile(); len(q) != 5 || q[4].GetQuantile() != 1 {
		t.Errorf("go_gc_duration_seconds quantiles %v, want 0, 0.25, 0.5, 0.75 and 1", q)
	}
	if rss := fams["process_resident_memory_bytes"].GetMetric()[0].GetGauge().GetValue(); rss < 1<<20 {
		t.Errorf("resident memory %v bytes: /proc/self/stat misread", rss)
	}
}

func TestCountersAddUpUnderContention(t *testing.T) {
	c := NewCounterVec(CounterOpts{Name: "t_total", Help: "x"}, []string{"k"})
	g := NewGauge(GaugeOpts{Name: "t_g", Help: "x"})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10000 {
				c.WithLabelValues([]string{"a", "b"}[i%2]).Inc()
				g.Inc()
				g.Dec()
			}
		}()
	}
	wg.Wait()
	if a, b := c.WithLabelValues("a").Value(), c.WithLabelValues("b").Value(); a != 40000 || b != 40000 {
		t.Errorf("counts %v and %v, want 40000 each", a, b)
	}
	if g.Value() != 0 {
		t.Errorf("gauge %v after as many Inc as Dec", g.Value())
	}
}

func TestMistakesPanic(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	mustPanic("registered twice", func() {
		r := NewRegistry()
		r.MustRegister(NewCounter(CounterOpts{Name: "t_x_total"}))
		r.MustRegister(NewGauge(GaugeOpts{Name: "t_x_total"}))
	})
	mustPanic("invalid name", func() { NewRegistry().MustRegister(NewCounter(CounterOpts{Name: "t-x"})) })
	mustPanic("wrong label count", func() {
		NewCounterVec(CounterOpts{Name: "t_y_total"}, []string{"a", "b"}).WithLabelValues("only one")
	})
	mustPanic("counter down", func() { NewCounter(CounterOpts{Name: "t_z_total"}).Add(-1) })
	mustPanic("unsorted buckets", func() { NewHistogram(HistogramOpts{Name: "t_h", Buckets: []float64{2, 1}}) })
}

func TestServeHTTP(t *testing.T) {
	srv := httptest.NewServer(sample())
	defer srv.Close()
	for _, gz := range []bool{false, true} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip") // set by hand: Go's client then leaves the body compressed
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = resp.Body
		if gz {
			if resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("Accept-Encoding gzip: answer not gzipped (%v)", resp.Header)
			}
			if body, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatal(err)
			}
		}
		b, err := io.ReadAll(body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if ct := resp.Header.Get("Content-Type"); ct != ContentType {
			t.Errorf("Content-Type %q", ct)
		}
		if !strings.Contains(string(b), `t_uploads_total{status="ok"} 3`) {
			t.Errorf("gzip %v: body lacks the ok count:\n%s", gz, b)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"":                       false,
		"gzip":                   true,
		"identity, gzip":         true,
		"GZIP":                   true,
		"gzip;q=0.5":             true,
		"gzip; q=1":              true,
		"gzip;q=0":               false,
		"gzip;q=0.000":           false,
		"br, deflate":            false,
		"x-gzip":                 false,
		"gzip;q=0, identity;q=1": false,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}
