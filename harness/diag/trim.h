/*
 * trim.h - which frames of a stack are the harness's own: the one answer
 * for the heap sampler, the fd and thread recorders and blame.
 *
 * Three kinds of evidence, one predicate:
 *  - return addresses learnt by calibration: the allocator's frames
 *    above a malloc call, whatever inlining made of them (by address, so
 *    it holds for a stripped binary too; heapsites.c);
 *  - an interposed function's own return address: everything above it
 *    is the interposer;
 *  - at symbolization, names: lh_* and the functions the interposer
 *    defines, in the executable only (fuzz drivers link the target into
 *    the executable, so the object alone cannot tell).
 * Nothing here allocates or locks: it runs inside the hooks.
 */
#ifndef LEAKHOUND_TRIM_H
#define LEAKHOUND_TRIM_H

#include <stdint.h>

/* How far into a stack the harness's leading frames may reach. */
#define LH_TRIM_SCAN 24

/* Remember pcs[0..n) (return addresses) as the harness's.  One thread at
 * a time; readers may run meanwhile. */
void lh_trim_learn(const uintptr_t *pcs, int n);

/* How many leading frames of pcs (innermost first) are the harness's:
 * those above ra when ra (a return address into the target, 0: none) is
 * among the first LH_TRIM_SCAN, else the run of learnt ones. */
int lh_trim_leading(const uintptr_t *pcs, int n, uintptr_t ra);

/* Whether a symbolized frame is the harness's: pc learnt, or func (NULL:
 * unknown) named as the harness's and in_main (in the executable). */
int lh_trim_frame(uintptr_t pc, int in_main, const char *func);

#endif
