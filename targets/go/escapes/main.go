// Command escapes builds libescapes.so: a request parser whose result
// escapes to the heap on every call, and its twin that writes into a
// value the caller provides. Neither leaks: live memory is flat, and only
// the allocation rate (go.allocs, go.alloc_bytes per iteration) tells
// them apart -- the regression escape analysis makes when a function
// starts returning a pointer to a local.
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

// OpParseEscape parses into a record that parseNew allocates: its result,
// a pointer to a local, escapes (one 64-byte object per call).
//
//export OpParseEscape
func OpParseEscape(data *C.uint8_t, size C.size_t) C.int {
	r := parseNew(cin.View(unsafe.Pointer(data), uintptr(size)))
	consume(r)
	return 0
}

// OpParseInto parses into a record on the caller's stack: nothing
// escapes, nothing is allocated.
//
//export OpParseInto
func OpParseInto(data *C.uint8_t, size C.size_t) C.int {
	var r record
	parseInto(cin.View(unsafe.Pointer(data), uintptr(size)), &r)
	consume(&r)
	return 0
}
