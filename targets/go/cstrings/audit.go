package main

/*
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// spool_write appends a line to a spool file and leaves closing to the
// caller.
static void spool_write(FILE *f, const char *line) { if (f) fputs(line, f); }

// audit_log reads the line and keeps nothing; the caller still owns it.
static size_t audit_bytes;
static void audit_log(const char *line) { audit_bytes += strlen(line); }
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// lineSize fixes the audit line's length so each leak is the same size
// (lineSize+1 bytes requested from malloc) whatever the input.
const lineSize = 255

// auditLine formats the request as a fixed-width line; %q keeps NUL bytes
// in the input from cutting the C string short.
func auditLine(in []byte) string {
	if len(in) > 64 {
		in = in[:64]
	}
	return fmt.Sprintf("%-*.*s", lineSize, lineSize, fmt.Sprintf("audit: %d %q", len(in), in))
}

// auditLeaky logs the request through C and never frees the C copy: the
// site of the leak, one call below the exported op.
func auditLeaky(in []byte) {
	line := C.CString(auditLine(in))
	C.audit_log(line)
}

// auditClean frees the C copy once C is done with it.
func auditClean(in []byte) {
	line := C.CString(auditLine(in))
	defer C.free(unsafe.Pointer(line))
	C.audit_log(line)
}

// spoolPath is where spooled audit lines go (discarded).
var spoolPath = C.CString("/dev/null")

var spoolMode = C.CString("a")

// spoolLeaky opens the spool through C for each line and never closes it:
// an fd (and stdio's buffer) per call, opened in C, called from here.
func spoolLeaky(in []byte) {
	f := C.fopen(spoolPath, spoolMode)
	line := C.CString(auditLine(in))
	defer C.free(unsafe.Pointer(line))
	C.spool_write(f, line)
}

// spoolClean closes it.
func spoolClean(in []byte) {
	f := C.fopen(spoolPath, spoolMode)
	if f != nil {
		defer C.fclose(f)
	}
	line := C.CString(auditLine(in))
	defer C.free(unsafe.Pointer(line))
	C.spool_write(f, line)
}
