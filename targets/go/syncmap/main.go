// Command syncmap builds libsyncmap.so: in-flight buffers registered in a
// sync.Map and never removed, the fix, and a sync.Pool used correctly.
package main

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

import (
	"unsafe"

	_ "leakhound.dev/probe"
	"leakhound.dev/targets/internal/cin"
)

// main is required by -buildmode=c-shared and never runs.
func main() {}

// OpSyncMapLeak registers the request's buffer as in flight and never
// deregisters it.
//
//export OpSyncMapLeak
func OpSyncMapLeak(data *C.uint8_t, size C.size_t) C.int {
	id, buf := begin(cin.View(unsafe.Pointer(data), uintptr(size)))
	process(buf)
	_ = id // bug: no inflight.Delete(id)
	return 0
}

// OpSyncMapClean deregisters the buffer when the request is done.
//
//export OpSyncMapClean
func OpSyncMapClean(data *C.uint8_t, size C.size_t) C.int {
	id, buf := begin(cin.View(unsafe.Pointer(data), uintptr(size)))
	defer inflight.Delete(id)
	process(buf)
	return 0
}

// OpPoolClean borrows a buffer from a sync.Pool and returns it. The pool
// holds a varying number of buffers between GCs and drops them over two
// cycles, so the heap is noisy but does not grow.
//
//export OpPoolClean
func OpPoolClean(data *C.uint8_t, size C.size_t) C.int {
	in := cin.View(unsafe.Pointer(data), uintptr(size))
	b := pool.Get().(*[]byte)
	buf := append((*b)[:0], in...)
	process(buf)
	*b = buf[:0] // keep the grown array for the next borrower
	pool.Put(b)
	return 0
}
