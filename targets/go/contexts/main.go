// Command contexts builds libcontexts.so: request contexts derived from a
// long-lived server context and never cancelled.
//
// context.WithCancel registers the child in its nearest cancelable
// ancestor's set of children, and only cancel removes it. Derived from a
// server context that lives as long as the process, every uncancelled
// request context, and whatever it carries, stays reachable.
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

// OpContextLeak handles the request and forgets to close it, so its cancel
// function is never called.
//
//export OpContextLeak
func OpContextLeak(data *C.uint8_t, size C.size_t) C.int {
	r := newRequest(cin.View(unsafe.Pointer(data), uintptr(size)))
	handle(r)
	return 0 // bug: no r.close()
}

// OpContextClean closes the request, cancelling its context.
//
//export OpContextClean
func OpContextClean(data *C.uint8_t, size C.size_t) C.int {
	r := newRequest(cin.View(unsafe.Pointer(data), uintptr(size)))
	defer r.close()
	handle(r)
	return 0
}
