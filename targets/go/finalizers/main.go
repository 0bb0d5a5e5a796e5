// Command finalizers builds libfinalizers.so: a finalizer set on an object
// in a reference cycle, which the GC never frees.
//
// The GC runs a finalizer only when the object is unreachable other than
// from itself, and it must keep everything the object points to alive for
// the finalizer. In a cycle the object points (through its peer) back to
// itself, so it stays reachable forever: the finalizer never runs and the
// whole cycle, buffers included, is kept. See runtime.SetFinalizer.
package main

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

import (
	"runtime"
	"unsafe"

	_ "leakhound.dev/probe"
	"leakhound.dev/targets/internal/cin"
)

// main is required by -buildmode=c-shared and never runs.
func main() {}

// OpFinalizerCycleLeak opens a connection pair (each end points to the
// other) and sets the cleanup finalizer on one end of the cycle.
//
//export OpFinalizerCycleLeak
func OpFinalizerCycleLeak(data *C.uint8_t, size C.size_t) C.int {
	a, _ := pipe(cin.View(unsafe.Pointer(data), uintptr(size)))
	runtime.SetFinalizer(a, (*conn).release)
	return 0
}

// OpFinalizerClean has the same cycle but puts the finalizer on a handle
// outside it, the pattern the runtime documentation recommends. The handle
// becomes unreachable, its finalizer runs, and the next GC frees it and
// the cycle.
//
//export OpFinalizerClean
func OpFinalizerClean(data *C.uint8_t, size C.size_t) C.int {
	a, _ := pipe(cin.View(unsafe.Pointer(data), uintptr(size)))
	h := &handle{c: a}
	runtime.SetFinalizer(h, (*handle).release)
	return 0
}
