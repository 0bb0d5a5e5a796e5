// Command cstrings builds libcstrings.so: C strings made with C.CString and
// handed to C code that does not take ownership.
//
// C.CString copies into memory from C malloc, which the Go runtime neither
// tracks nor collects: the leak shows in the harness's malloc counters
// (heap.live_bytes, heap.live_allocs) and in no Go metric.
package main

/*
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// audit_log reads the line and keeps nothing; the caller still owns it.
static size_t audit_bytes;
static void audit_log(const char *line) { audit_bytes += strlen(line); }
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
	line := C.CString(auditLine(cin.View(unsafe.Pointer(data), uintptr(size))))
	C.audit_log(line)
	return 0
}

// OpCStringClean frees the C copy once C is done with it.
//
//export OpCStringClean
func OpCStringClean(data *C.uint8_t, size C.size_t) C.int {
	line := C.CString(auditLine(cin.View(unsafe.Pointer(data), uintptr(size))))
	defer C.free(unsafe.Pointer(line))
	C.audit_log(line)
	return 0
}
