package metrics

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Registry holds the collectors that /metrics writes. Its zero value is
// not usable: NewRegistry.
type Registry struct {
	mu    sync.Mutex
	cols  []Collector
	names map[string]bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{names: map[string]bool{}} }

// MustRegister adds collectors; a family name registered twice, or one
// that the exposition format does not allow, panics: both are mistakes
// in the code, found by the first test that builds the server.
func (r *Registry) MustRegister(cs ...Collector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cs {
		for _, f := range c.Collect() {
			if !validName(f.Name) {
				panic(fmt.Sprintf("metrics: %q is not a valid metric name", f.Name))
			}
			if r.names[f.Name] {
				panic(fmt.Sprintf("metrics: %s registered twice", f.Name))
			}
			r.names[f.Name] = true
		}
		r.cols = append(r.cols, c)
	}
}

// Gather collects every family, sorted by name.
func (r *Registry) Gather() []Family {
	r.mu.Lock()
	cols := append([]Collector(nil), r.cols...)
	r.mu.Unlock()
	var fams []Family
	for _, c := range cols {
		fams = append(fams, c.Collect()...)
	}
	sort.SliceStable(fams, func(i, j int) bool { return fams[i].Name < fams[j].Name })
	return fams
}

// WriteText writes every family in the text exposition format.
func (r *Registry) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, f := range r.Gather() {
		writeFamily(bw, f)
	}
	return bw.Flush()
}

// ContentType is the media type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// ServeHTTP writes the metrics, gzipped when the scraper accepts it (as
// Prometheus does).
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", ContentType)
	var out io.Writer = w
	if acceptsGzip(req.Header.Get("Accept-Encoding")) {
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		defer gz.Close()
		out = gz
	}
	// An error is the scraper gone mid-answer: nothing to tell it.
	_ = r.WriteText(out)
}

// acceptsGzip reports whether an Accept-Encoding header lists gzip with
// a weight above zero ("gzip", "gzip;q=0.5"; not "gzip;q=0").
func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		enc, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !ok {
			return true
		}
		w, err := strconv.ParseFloat(q, 64)
		return err == nil && w > 0
	}
	return false
}

func writeFamily(w *bufio.Writer, f Family) {
	w.WriteString("# HELP ")
	w.WriteString(f.Name)
	w.WriteByte(' ')
	w.WriteString(helpEscaper.Replace(f.Help))
	w.WriteString("\n# TYPE ")
	w.WriteString(f.Name)
	w.WriteByte(' ')
	w.WriteString(f.Type)
	w.WriteByte('\n')
	for _, s := range f.Samples {
		w.WriteString(f.Name)
		w.WriteString(s.Suffix)
		if len(s.Labels) > 0 {
			w.WriteByte('{')
			for i, l := range s.Labels {
				if i > 0 {
					w.WriteByte(',')
				}
				w.WriteString(l.Name)
				w.WriteString(`="`)
				w.WriteString(valueEscaper.Replace(l.Value))
				w.WriteByte('"')
			}
			w.WriteByte('}')
		}
		w.WriteByte(' ')
		w.WriteString(formatFloat(s.Value))
		w.WriteByte('\n')
	}
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// formatFloat writes a value as the client library does: the shortest
// representation, and +Inf, -Inf, NaN by name.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// validName reports whether s is a metric name of the classic charset,
// [a-zA-Z_:][a-zA-Z0-9_:]*, which every scraper accepts.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		ok := c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}
