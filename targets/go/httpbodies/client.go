package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"example.com/metrics"
)

// MaxConns is the client's connection limit to the server.
const MaxConns = 600

var (
	once   sync.Once
	base   string
	client *http.Client
	open   atomic.Int64 // bodies left open

	// latency is labeled by path: the raw one (a label per distinct
	// request, never dropped: the leak) or the route (one label).
	latency = metrics.NewHistogramVec("http_get_seconds", latencyBounds(100))

	// served is labeled likewise by record, in 10 buckets.
	served = metrics.NewHistogramVec("http_serve_seconds", latencyBounds(10))
)

// latencyBounds are n buckets of 50 µs: 8n B of counters a histogram.
func latencyBounds(n int) []float64 {
	b := make([]float64, n)
	for i := range b {
		b[i] = float64(i+1) * 50e-6
	}
	return b
}

// items is the server's handler.
var items = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "item "+r.URL.Path)
})

func start() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: items}
	go srv.Serve(ln)
	base = "http://" + ln.Addr().String() + "/items/"
	client = &http.Client{Transport: &http.Transport{
		MaxConnsPerHost:     MaxConns,
		MaxIdleConnsPerHost: 4,
	}}
}

func get(in []byte, closeBody bool) {
	once.Do(start)
	resp, err := client.Get(base + url.PathEscape(string(in)))
	if err != nil {
		return
	}
	if !closeBody {
		open.Add(1)
		return // deliberate bug: resp.Body is never closed
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// serveObserved runs a request for /items/<in> through the server's
// handler, in process, as a middleware that records its latency does,
// labeled by label(request), with rec.
func serveObserved(in []byte, label func(r *http.Request) string,
	rec func(label string, d time.Duration)) {
	r := &http.Request{Method: "GET", Header: http.Header{},
		URL: &url.URL{Path: "/items/" + string(in)}}
	var w recorder
	t0 := time.Now()
	items.ServeHTTP(&w, r)
	rec(label(r), time.Since(t0))
}

// observe records a request's latency under a label. Deliberate bug when
// called with the raw path: one histogram per distinct request, kept.
func observe(label string, d time.Duration) {
	latency.With(label).Observe(d.Seconds())
}

// record records it in the small histograms under "path=" and the label.
// Deliberate bug when called with the raw path, as observe's; here the
// histogram (~110 B), its buckets (~90 B), the label made here and the
// map's entry are each well under half of what a distinct request keeps.
func record(label string, d time.Duration) {
	served.With("path=" + label).Observe(d.Seconds())
}

func rawPath(r *http.Request) string { return r.URL.Path }

func route(r *http.Request) string { return "/items/:id" }

// recorder is the least http.ResponseWriter: the handler's output dropped.
type recorder struct {
	h      http.Header
	status int
	n      int
}

func (w *recorder) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}

func (w *recorder) Write(b []byte) (int, error) {
	w.n += len(b)
	return len(b), nil
}

func (w *recorder) WriteHeader(status int) { w.status = status }
