// Command httpbodies builds libhttpbodies.so: an HTTP client that never
// closes its response bodies, and the client that does.
//
// Both ops GET from a server the library runs on 127.0.0.1 (started on the
// first call). A body left open keeps its connection: it cannot go back to
// the pool, so the next request dials a new one. Each call of
// OpGetNoClose leaks 2 fds (the client's and the server's end) and 3
// goroutines (the client connection's read and write loops and the
// server's connection goroutine), and the Go heap their buffers hold.
// The client allows MaxConns connections to the server, as a client with
// MaxConnsPerHost does: once they are all held, the next request waits for
// one to be freed, forever. OpGetClose reads and closes every body: one
// connection, reused.
//
// OpServeLabeled and OpServeRouted run a request through the server's
// handler in process (no socket) and record its latency in a histogram
// vector of a metrics library (its own module, example.com/metrics), as a
// server's middleware does: OpServeLabeled by the raw path, a histogram
// per distinct input kept forever (~1 KB each); OpServeRouted by the
// route. OpServeTagged and OpServeTaggedRouted do the same with a histogram
// of 10 buckets and a label of their own making: per distinct input its
// histogram, buckets, label and map entry, none half of the ~300 B.
package main

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

import (
	"strconv"
	"syscall"
	"unsafe"

	_ "leakhound.dev/probe"
	"leakhound.dev/targets/internal/cin"
)

// main is required by -buildmode=c-shared and never runs.
func main() {}

// OpGetNoClose requests /items/<input> and drops the response unclosed.
//
//export OpGetNoClose
func OpGetNoClose(data *C.uint8_t, size C.size_t) C.int {
	get(cin.View(unsafe.Pointer(data), uintptr(size)), false)
	return 0
}

// OpGetClose requests the same and reads and closes the body.
//
//export OpGetClose
func OpGetClose(data *C.uint8_t, size C.size_t) C.int {
	get(cin.View(unsafe.Pointer(data), uintptr(size)), true)
	return 0
}

// OpServeLabeled serves /items/<input> with the server's handler, in
// process, and records its latency labeled by the raw path: a histogram
// per distinct input, in the metrics library's newHistogram, because of
// this package's label.
//
//export OpServeLabeled
func OpServeLabeled(data *C.uint8_t, size C.size_t) C.int {
	serveObserved(cin.View(unsafe.Pointer(data), uintptr(size)), rawPath,
		observe)
	return 0
}

// OpServeRouted records it labeled by the route: one histogram.
//
//export OpServeRouted
func OpServeRouted(data *C.uint8_t, size C.size_t) C.int {
	serveObserved(cin.View(unsafe.Pointer(data), uintptr(size)), route,
		observe)
	return 0
}

// OpServeTagged records it in the small histograms, tagged by the raw path.
//
//export OpServeTagged
func OpServeTagged(data *C.uint8_t, size C.size_t) C.int {
	serveObserved(cin.View(unsafe.Pointer(data), uintptr(size)), rawPath,
		record)
	return 0
}

// OpServeTaggedRouted tags it by the route: one small histogram.
//
//export OpServeTaggedRouted
func OpServeTaggedRouted(data *C.uint8_t, size C.size_t) C.int {
	serveObserved(cin.View(unsafe.Pointer(data), uintptr(size)), route,
		record)
	return 0
}

//export leakhound_gauge_latency_labels
func leakhound_gauge_latency_labels() C.int64_t {
	return C.int64_t(latency.Len())
}

// OpLimitFds (for setup, not a step) sets the soft RLIMIT_NOFILE to the
// decimal number in the input, as for a service configured with a low
// limit (Go raises the soft limit to the hard one when it starts).
//
//export OpLimitFds
func OpLimitFds(data *C.uint8_t, size C.size_t) C.int {
	n, err := strconv.ParseUint(string(cin.View(unsafe.Pointer(data),
		uintptr(size))), 10, 64)
	var rl syscall.Rlimit
	if err != nil || syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return -1
	}
	rl.Cur = n
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return -1
	}
	return 0
}

//export leakhound_gauge_bodies_open
func leakhound_gauge_bodies_open() C.int64_t {
	return C.int64_t(open.Load())
}
