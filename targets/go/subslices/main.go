// Command subslices builds libsubslices.so: a 16-byte message ID kept as a
// subslice of its 4 KiB read buffer, which keeps the whole buffer alive.
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

// OpSubsliceLeak remembers the message ID as buf[:16]: each call pins a
// 4 KiB buffer until its ring slot is reused, 32,768 calls later.
//
//export OpSubsliceLeak
func OpSubsliceLeak(data *C.uint8_t, size C.size_t) C.int {
	buf := readFrame(cin.View(unsafe.Pointer(data), uintptr(size)))
	recent.rememberRef(buf[:idSize])
	return 0
}

// OpSubsliceClean copies the ID into its ring slot, so the buffer is
// garbage when the call returns.
//
//export OpSubsliceClean
func OpSubsliceClean(data *C.uint8_t, size C.size_t) C.int {
	buf := readFrame(cin.View(unsafe.Pointer(data), uintptr(size)))
	recent.rememberCopy(buf[:idSize])
	return 0
}
