package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
)

// MaxConns is the client's connection limit to the server.
const MaxConns = 600

var (
	once   sync.Once
	base   string
	client *http.Client
	open   atomic.Int64 // bodies left open
)

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
