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
	latency = metrics.NewHistogramVec("http_get_seconds", latencyBounds())
)

// latencyBounds are 100 buckets of 50 µs: ~800 B of counters a histogram.
func latencyBounds() []float64 {
	b := make([]float64, 100)
	for i := range b {
		b[i] = float64(i+1) * 50e-6
	}
	return b
}

func start() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "item "+r.URL.Path)
		})}
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

// fetch GETs /items/<in>, reads and closes the body, and records its
// latency labeled by label(path).
func fetch(in []byte, label func(path string) string) {
	once.Do(start)
	path := "/items/" + url.PathEscape(string(in))
	t0 := time.Now()
	resp, err := client.Get(base + url.PathEscape(string(in)))
	if err != nil {
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	observe(label(path), time.Since(t0))
}

// observe records a request's latency under a label. Deliberate bug when
// called with the raw path: one histogram per distinct request, kept.
func observe(label string, d time.Duration) {
	latency.With(label).Observe(d.Seconds())
}

func rawPath(path string) string { return path }

func route(path string) string { return "/items/:id" }
