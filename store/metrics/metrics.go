// Package metrics holds the Prometheus metrics of every part of the server
// and writes them in Prometheus's text exposition format (version 0.0.4)
// on /metrics. It is a leaf under store, like logkey: every package may
// import it (cmd, server, report and store itself).
//
// Its API follows github.com/prometheus/client_golang (CounterOpts,
// NewCounterVec, WithLabelValues, MustRegister...), but it is ours: the
// client library's package initialisation (a default registry with its Go
// and process collectors, protobuf descriptors, /proc readers) cost every
// command ~1 ms of its start-up, a fifth of a `backupreport version`, for
// metrics that only `serve` writes. The subset here is what the server
// uses: counters, gauges, gauges read at scrape, label vectors, one
// histogram, collectors that report families of their own, and the usual
// go_* and process_* families under client_golang's names, so dashboards
// keep working.
package metrics

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Types of metric families, as the exposition format's TYPE line says them.
const (
	TypeCounter   = "counter"
	TypeGauge     = "gauge"
	TypeHistogram = "histogram"
	TypeSummary   = "summary"
)

// CounterOpts names and describes a counter (or counter vector).
type CounterOpts struct {
	Name string // e.g. backupreport_uploads_total
	Help string // one sentence for the HELP line
}

// GaugeOpts names and describes a gauge (or gauge vector).
type GaugeOpts CounterOpts

// HistogramOpts names and describes a histogram; Buckets are the upper
// bounds, in increasing order (+Inf is implied).
type HistogramOpts struct {
	Name    string
	Help    string
	Buckets []float64
}

// A Label is one name="value" pair of a sample.
type Label struct {
	Name, Value string
}

// A Sample is one line of a family: a value under its labels. Suffix is
// appended to the family's name (a histogram's _bucket, _sum, _count).
type Sample struct {
	Suffix string
	Labels []Label
	Value  float64
}

// A Family is a metric family as written: HELP, TYPE and its samples.
type Family struct {
	Name, Help, Type string
	Samples          []Sample
}

// A Collector reports whole families at each scrape. Every metric of this
// package is one; CollectorFunc makes one of a function.
type Collector interface {
	Collect() []Family
}

// CollectorFunc is a Collector that calls itself: for values read at
// scrape time (statistics kept elsewhere).
type CollectorFunc func() []Family

// Collect calls f.
func (f CollectorFunc) Collect() []Family { return f() }

// value is a float64 updated atomically (CAS on its bits), so that a
// counter may be added to from every upload at once without a lock.
type value struct{ bits atomic.Uint64 }

func (v *value) add(d float64) {
	for {
		old := v.bits.Load()
		if v.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

func (v *value) set(f float64) { v.bits.Store(math.Float64bits(f)) }
func (v *value) get() float64  { return math.Float64frombits(v.bits.Load()) }

// Counter is a value that only goes up (until the process restarts).
type Counter struct {
	opts CounterOpts
	v    value
}

// NewCounter returns a counter at 0; register it to have it written.
func NewCounter(opts CounterOpts) *Counter { return &Counter{opts: opts} }

// Inc adds 1.
func (c *Counter) Inc() { c.v.add(1) }

// Add adds d, which must not be negative (a negative d panics, as a
// counter that went down would read as a restart).
func (c *Counter) Add(d float64) {
	if d < 0 {
		panic("metrics: counter " + c.opts.Name + " cannot decrease")
	}
	c.v.add(d)
}

// Value is the counter now (for tests and logs).
func (c *Counter) Value() float64 { return c.v.get() }

// Collect implements Collector.
func (c *Counter) Collect() []Family {
	return []Family{{Name: c.opts.Name, Help: c.opts.Help, Type: TypeCounter, Samples: []Sample{{Value: c.v.get()}}}}
}

// Gauge is a value that goes up and down.
type Gauge struct {
	opts GaugeOpts
	v    value
}

// NewGauge returns a gauge at 0; register it to have it written.
func NewGauge(opts GaugeOpts) *Gauge { return &Gauge{opts: opts} }

// Set sets the gauge to f.
func (g *Gauge) Set(f float64) { g.v.set(f) }

// Inc adds 1.
func (g *Gauge) Inc() { g.v.add(1) }

// Dec subtracts 1.
func (g *Gauge) Dec() { g.v.add(-1) }

// Value is the gauge now.
func (g *Gauge) Value() float64 { return g.v.get() }

// Collect implements Collector.
func (g *Gauge) Collect() []Family {
	return []Family{{Name: g.opts.Name, Help: g.opts.Help, Type: TypeGauge, Samples: []Sample{{Value: g.v.get()}}}}
}

// NewGaugeFunc returns a gauge whose value f reads at each scrape.
func NewGaugeFunc(opts GaugeOpts, f func() float64) Collector {
	return CollectorFunc(func() []Family {
		return []Family{{Name: opts.Name, Help: opts.Help, Type: TypeGauge, Samples: []Sample{{Value: f()}}}}
	})
}

// Vec is a metric per combination of label values: CounterVec, GaugeVec.
type Vec[T any] struct {
	name, help, typ string
	labels          []string
	make            func() *T
	value           func(*T) float64
	mu              sync.RWMutex
	kids            map[string]*kid[T]
}

type kid[T any] struct {
	values []string
	m      *T
}

// CounterVec is a counter per combination of label values.
type CounterVec = Vec[Counter]

// GaugeVec is a gauge per combination of label values.
type GaugeVec = Vec[Gauge]

// NewCounterVec returns a vector of counters over the label names; a
// child appears on its first WithLabelValues.
func NewCounterVec(opts CounterOpts, labels []string) *CounterVec {
	return &Vec[Counter]{name: opts.Name, help: opts.Help, typ: TypeCounter, labels: labels, kids: map[string]*kid[Counter]{},
		make: func() *Counter { return NewCounter(opts) }, value: (*Counter).Value}
}

// NewGaugeVec returns a vector of gauges over the label names.
func NewGaugeVec(opts GaugeOpts, labels []string) *GaugeVec {
	return &Vec[Gauge]{name: opts.Name, help: opts.Help, typ: TypeGauge, labels: labels, kids: map[string]*kid[Gauge]{},
		make: func() *Gauge { return NewGauge(opts) }, value: (*Gauge).Value}
}

// WithLabelValues returns the metric of those label values (in the order
// of the label names), creating it at 0; a wrong number of values panics.
func (v *Vec[T]) WithLabelValues(values ...string) *T {
	if len(values) != len(v.labels) {
		panic("metrics: " + v.name + " takes " + strings.Join(v.labels, ", ") + ", got " + strings.Join(values, ", "))
	}
	key := strings.Join(values, "\xff")
	v.mu.RLock()
	k := v.kids[key]
	v.mu.RUnlock()
	if k != nil {
		return k.m
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if k = v.kids[key]; k == nil {
		k = &kid[T]{values: slices.Clone(values), m: v.make()}
		v.kids[key] = k
	}
	return k.m
}

// Collect implements Collector: one sample per child, sorted by label
// values (as the client library writes them, so the output is stable).
func (v *Vec[T]) Collect() []Family {
	v.mu.RLock()
	kids := make([]*kid[T], 0, len(v.kids))
	for _, k := range v.kids {
		kids = append(kids, k)
	}
	v.mu.RUnlock()
	sort.Slice(kids, func(i, j int) bool { return slices.Compare(kids[i].values, kids[j].values) < 0 })
	out := make([]Sample, len(kids))
	for i, k := range kids {
		ls := make([]Label, len(v.labels))
		for j, n := range v.labels {
			ls[j] = Label{Name: n, Value: k.values[j]}
		}
		out[i] = Sample{Labels: ls, Value: v.value(k.m)}
	}
	return []Family{{Name: v.name, Help: v.help, Type: v.typ, Samples: out}}
}

// Histogram counts observations into buckets by their upper bounds.
type Histogram struct {
	opts   HistogramOpts
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum    value
}

// NewHistogram returns an empty histogram over opts.Buckets.
func NewHistogram(opts HistogramOpts) *Histogram {
	if !sort.Float64sAreSorted(opts.Buckets) {
		panic("metrics: buckets of " + opts.Name + " are not in increasing order")
	}
	return &Histogram{opts: opts, counts: make([]atomic.Uint64, len(opts.Buckets)+1)}
}

// Observe counts v in the first bucket whose bound is ≥ v.
func (h *Histogram) Observe(v float64) {
	h.counts[sort.SearchFloat64s(h.opts.Buckets, v)].Add(1)
	h.sum.add(v)
}

// Collect implements Collector: cumulative _bucket samples by le, then
// _sum and _count.
func (h *Histogram) Collect() []Family {
	out := make([]Sample, 0, len(h.counts)+2)
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
		le := math.Inf(1)
		if i < len(h.opts.Buckets) {
			le = h.opts.Buckets[i]
		}
		out = append(out, Sample{Suffix: "_bucket", Labels: []Label{{Name: "le", Value: formatFloat(le)}}, Value: float64(n)})
	}
	out = append(out, Sample{Suffix: "_sum", Value: h.sum.get()}, Sample{Suffix: "_count", Value: float64(n)})
	return []Family{{Name: h.opts.Name, Help: h.opts.Help, Type: TypeHistogram, Samples: out}}
}

// ExponentialBuckets returns count bounds: start, start×factor, ...
func ExponentialBuckets(start, factor float64, count int) []float64 {
	if start <= 0 || factor <= 1 || count < 1 {
		panic("metrics: ExponentialBuckets needs start > 0, factor > 1, count ≥ 1")
	}
	b := make([]float64, count)
	for i := range b {
		b[i] = start
		start *= factor
	}
	return b
}
