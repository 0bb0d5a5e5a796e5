// Command cstrings builds libcstrings.so: C strings made with C.CString and
// handed to C code that does not take ownership.
//
// C.CString copies into memory from C malloc, which the Go runtime neither
// tracks nor collects: the leak shows in the harness's malloc counters
// (heap.live_bytes, heap.live_allocs) and in no Go metric. Its site is the
// Go function that called C.CString (auditLeaky), which the harness learns
// from the probe while the cgo call is in progress. OpCFileLeak leaks a C
// FILE (an fd) opened with C.fopen the same way.
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

// OpCStringLeak logs the request through C and never frees the C copy.
//
//export OpCStringLeak
func OpCStringLeak(data *C.uint8_t, size C.size_t) C.int {
	auditLeaky(cin.View(unsafe.Pointer(data), uintptr(size)))
	return 0
}

// OpCStringClean frees the C copy once C is done with it.
//
//export OpCStringClean
func OpCStringClean(data *C.uint8_t, size C.size_t) C.int {
	auditClean(cin.View(unsafe.Pointer(data), uintptr(size)))
	return 0
}

// OpCFileLeak spools the request through a C FILE it never closes.
//
//export OpCFileLeak
func OpCFileLeak(data *C.uint8_t, size C.size_t) C.int {
	spoolLeaky(cin.View(unsafe.Pointer(data), uintptr(size)))
	return 0
}

// OpCFileClean closes it.
//
//export OpCFileClean
func OpCFileClean(data *C.uint8_t, size C.size_t) C.int {
	spoolClean(cin.View(unsafe.Pointer(data), uintptr(size)))
	return 0
}
