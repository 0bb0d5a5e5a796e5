// Command timers builds libtimers.so: tickers and timers nobody stops.
//
// In Go 1.19 a started timer lives in the runtime's timer heap until it
// fires or is stopped, and a Ticker never stops firing, so an unstopped
// Ticker (and the Ticker's channel) is never collected, whether or not
// anything still refers to it. Go 1.23 collects unreferenced timers, but
// only for a main module whose go.mod says go >= 1.23; ours says 1.19.
package main

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

import (
	"time"
	"unsafe"

	_ "leakhound.dev/probe"
	"leakhound.dev/targets/internal/cin"
)

// main is required by -buildmode=c-shared and never runs.
func main() {}

// heartbeat is long enough that nothing fires during a run: the leak is the
// registration, not the firing.
const heartbeat = time.Hour

// OpTickerLeak starts a heartbeat ticker per request and forgets it.
//
//export OpTickerLeak
func OpTickerLeak(data *C.uint8_t, size C.size_t) C.int {
	t := time.NewTicker(heartbeat)
	serve(cin.View(unsafe.Pointer(data), uintptr(size)), t.C)
	return 0
}

// OpTickerClean stops its ticker, which takes it out of the timer heap.
//
//export OpTickerClean
func OpTickerClean(data *C.uint8_t, size C.size_t) C.int {
	t := time.NewTicker(heartbeat)
	defer t.Stop()
	serve(cin.View(unsafe.Pointer(data), uintptr(size)), t.C)
	return 0
}

// OpAfterLeak serves a request under a deadline from time.After: its timer
// and channel stay in the timer heap for an hour after the request is done.
//
//export OpAfterLeak
func OpAfterLeak(data *C.uint8_t, size C.size_t) C.int {
	return C.int(wait(cin.View(unsafe.Pointer(data), uintptr(size)), false))
}

// OpAfterClean makes the same deadline with time.NewTimer and stops it.
//
//export OpAfterClean
func OpAfterClean(data *C.uint8_t, size C.size_t) C.int {
	return C.int(wait(cin.View(unsafe.Pointer(data), uintptr(size)), true))
}

// OpTimerLeak schedules an expiry callback per request and never cancels it
// when the request completes; the callback's closure keeps a copy of the
// request key alive with it.
//
//export OpTimerLeak
func OpTimerLeak(data *C.uint8_t, size C.size_t) C.int {
	key := string(cin.View(unsafe.Pointer(data), uintptr(size)))
	time.AfterFunc(heartbeat, func() { expire(key) })
	return 0
}

// OpTimerClean cancels the expiry once the request is done.
//
//export OpTimerClean
func OpTimerClean(data *C.uint8_t, size C.size_t) C.int {
	key := string(cin.View(unsafe.Pointer(data), uintptr(size)))
	t := time.AfterFunc(heartbeat, func() { expire(key) })
	t.Stop()
	return 0
}
