// Package metrics stands in for a third-party metrics client (it is its own
// module, example.com/metrics, as a dependency from a registry would be): a
// histogram vector keeps one histogram per label value for the life of the
// registry, as Prometheus client vectors do. A label taken from request
// data (a raw URL path) makes it grow with every distinct request -- in
// this package's newHistogram, though the bug is the caller's label.
package metrics

import "sync"

// HistogramVec is a family of histograms partitioned by one label.
type HistogramVec struct {
	mu     sync.Mutex
	name   string
	bounds []float64
	byVal  map[string]*Histogram
}

// Histogram counts observations in buckets with fixed upper bounds.
type Histogram struct {
	mu      sync.Mutex
	name    string
	label   string
	bounds  []float64
	buckets []uint64
	count   uint64
	sum     float64
}

// NewHistogramVec returns a vector whose histograms share bounds.
func NewHistogramVec(name string, bounds []float64) *HistogramVec {
	return &HistogramVec{name: name, bounds: bounds,
		byVal: make(map[string]*Histogram)}
}

// With returns the histogram for a label value, made on first use and
// kept.
func (v *HistogramVec) With(value string) *Histogram {
	v.mu.Lock()
	defer v.mu.Unlock()
	h := v.byVal[value]
	if h == nil {
		h = newHistogram(v.name, value, v.bounds)
		v.byVal[value] = h
	}
	return h
}

// Len is the number of label values seen.
func (v *HistogramVec) Len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.byVal)
}

func newHistogram(name, label string, bounds []float64) *Histogram {
	return &Histogram{name: name, label: label, bounds: bounds,
		buckets: make([]uint64, len(bounds)+1)}
}

// Observe adds one observation.
func (h *Histogram) Observe(x float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := 0
	for i < len(h.bounds) && x > h.bounds[i] {
		i++
	}
	h.buckets[i]++
	h.count++
	h.sum += x
}
