/*
 * lh_target.h - what every bundled C target shares.
 *
 * Targets are built with -fvisibility=hidden, so only what is marked
 * LH_EXPORT (the ops and the leakhound_gauge_* functions) is in the dynamic
 * symbol table; everything else stays private to its library.
 */
#ifndef LH_TARGET_H
#define LH_TARGET_H

#include <stddef.h>
#include <stdint.h>

#define LH_EXPORT __attribute__((visibility("default")))

/*
 * Tell the compiler that the block at p escapes and is read.  Without it,
 * clang -O1 and gcc -O2 delete a malloc/free pair (or a malloc whose pointer
 * is dropped) whose memory is never observably used, and the "leak" or the
 * "clean twin" would not allocate at all.  The empty asm costs nothing.
 */
static inline void lh_escape(const void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

#endif
