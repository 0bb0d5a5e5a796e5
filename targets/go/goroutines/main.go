// Command goroutines builds libgoroutines.so: goroutines blocked forever on a
// channel nobody reads, and the two usual fixes.
package main

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

import (
	"sync/atomic"
	"unsafe"

	_ "leakhound.dev/probe"
	"leakhound.dev/targets/internal/cin"
)

// main is required by -buildmode=c-shared and never runs.
func main() {}

// OpGoroutineLeak leaks one goroutine per input that starts with "SLOW";
// every other input is clean.
//
//export OpGoroutineLeak
func OpGoroutineLeak(data *C.uint8_t, size C.size_t) C.int {
	lookupLeaky(cin.View(unsafe.Pointer(data), uintptr(size)))
	return 0
}

// OpGoroutineLeakAlways leaks one goroutine on every call, whatever the input.
//
//export OpGoroutineLeakAlways
func OpGoroutineLeakAlways(data *C.uint8_t, size C.size_t) C.int {
	in := cin.View(unsafe.Pointer(data), uintptr(size))
	ch := make(chan int)
	go func(n int) { ch <- n }(checksum(in))
	return 0 // gave up waiting: the sender blocks forever
}

var calls atomic.Int64

// OpGoroutineLeakEvery100 leaks one goroutine on every 100th call, whatever
// the input: a leak that a single re-run of the same input does not confirm.
//
//export OpGoroutineLeakEvery100
func OpGoroutineLeakEvery100(data *C.uint8_t, size C.size_t) C.int {
	in := cin.View(unsafe.Pointer(data), uintptr(size))
	ch := make(chan int)
	go func(n int) { ch <- n }(checksum(in))
	if calls.Add(1)%100 == 0 {
		return 0 // the rare early return: the sender blocks forever
	}
	<-ch
	return 0
}

// OpGoroutineClean takes the same early return for "SLOW" inputs, but the
// result channel has room for the one result, so the worker never blocks.
//
//export OpGoroutineClean
func OpGoroutineClean(data *C.uint8_t, size C.size_t) C.int {
	lookupBuffered(cin.View(unsafe.Pointer(data), uintptr(size)))
	return 0
}

// OpGoroutineCleanDone fixes the leak the other way: the worker selects on
// a done channel that the caller closes when it stops listening, and the
// caller waits for the worker to finish.
//
//export OpGoroutineCleanDone
func OpGoroutineCleanDone(data *C.uint8_t, size C.size_t) C.int {
	lookupDone(cin.View(unsafe.Pointer(data), uintptr(size)))
	return 0
}

// OpGoroutineFlushLater starts a goroutine that ends 300 ms later: clean,
// though a run shorter than that sees every one still running.
//
//export OpGoroutineFlushLater
func OpGoroutineFlushLater(data *C.uint8_t, size C.size_t) C.int {
	flushLater(flushDelay)
	return 0
}

// OpGoroutineFlushLaterLeak does the same and parks every 10th call's
// goroutine forever.
//
//export OpGoroutineFlushLaterLeak
func OpGoroutineFlushLaterLeak(data *C.uint8_t, size C.size_t) C.int {
	flushLaterLeaky(flushDelay)
	return 0
}
