// Command gofiles builds libgofiles.so: fds leaked from Go code.
//
// Go opens fds with raw syscalls, never through the libc calls leakhound
// records, so an fd leak has no recorded stack. An *os.File still held
// (OpFileHeldLeak: a registry that keeps it on an error path) is in the Go
// heap, made by os.newFile: that is where its fds are blamed. An *os.File
// dropped without Close (OpFileDroppedClean) is closed by its finalizer at
// the next GC: fds rise between samples and fall back, clean. A raw
// syscall.Open (OpRawFdLeak) holds nothing in the Go heap: its fds stay
// unrecorded, never blamed on another function.
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

// OpFileHeldLeak keeps the config file open in the watch list when the
// request starts with '#'.
//
//export OpFileHeldLeak
func OpFileHeldLeak(data *C.uint8_t, size C.size_t) C.int {
	if watchLeaky(cin.View(unsafe.Pointer(data), uintptr(size))) != nil {
		return 1
	}
	return 0
}

// OpFileHeldClean takes the file off the list and closes it on every path.
//
//export OpFileHeldClean
func OpFileHeldClean(data *C.uint8_t, size C.size_t) C.int {
	if watchClean(cin.View(unsafe.Pointer(data), uintptr(size))) != nil {
		return 1
	}
	return 0
}

// OpFileDroppedClean opens the file and drops it without Close: its
// finalizer closes it.
//
//export OpFileDroppedClean
func OpFileDroppedClean(data *C.uint8_t, size C.size_t) C.int {
	return C.int(peek(cin.View(unsafe.Pointer(data), uintptr(size))))
}

// OpRawFdLeak opens /dev/null with syscall.Open and forgets the fd when
// the request starts with '#'.
//
//export OpRawFdLeak
func OpRawFdLeak(data *C.uint8_t, size C.size_t) C.int {
	if probeLeaky(cin.View(unsafe.Pointer(data), uintptr(size))) != nil {
		return 1
	}
	return 0
}
