/*
 * cgocaller.h - the Go caller of a C allocation made through cgo
 * (C.CString, C.malloc, a C library called from Go): where the C stack
 * meets a cgo call stub, the stack of the goroutine that made the call.
 */
#ifndef LEAKHOUND_CGOCALLER_H
#define LEAKHOUND_CGOCALLER_H

#include <stdint.h>

#include "diag.h"

/* Between the C frames and the Go frames of an extended stack; never a
 * return address (address 0 after the -1 that names a call). */
#define LH_CGO_MARK ((uintptr_t)1)

/* c[0..n) is an allocation's C stack, innermost first.  When the thread
 * is inside a cgo call of a Go target whose probe can say so -- the
 * innermost frame in that target's Go code or stubs is a cgo stub --
 * writes to out the C frames up to the stub, LH_CGO_MARK, then the Go
 * stack of the goroutine that made the call (asked of the probe, a call
 * back into Go), and returns the depth (<= max); else 0.  For the
 * sampled slow path of the allocation hook: call it holding no lock. */
int lh_cgo_extend(const uintptr_t *c, int n, uintptr_t *out, int max);

/* lh_stack_intern of the stack, extended by lh_cgo_extend when it was
 * made inside a cgo call: for the fd, thread and mapping recorders, which
 * record every event (each a syscall already).  Call it holding no lock. */
int lh_cgo_intern(const uintptr_t *pcs, int n);

/* A site for a stack lh_cgo_extend made: blamed on the first frame of
 * the Go target's own code (gosite.c's rule), the C function called from
 * Go in the detail, the Go and C frames in the folded stack.  0 (s
 * untouched) for any other stack. */
int lh_cgo_site(lh_site *s, const uintptr_t *pcs, int n);

#endif
