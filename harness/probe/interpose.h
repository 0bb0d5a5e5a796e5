/*
 * interpose.h - exact heap accounting by interposing the malloc family.
 *
 * interpose.c defines malloc, calloc, realloc, reallocarray, free,
 * posix_memalign, aligned_alloc, memalign, valloc and pvalloc in the
 * leakhound executable (linked with --export-dynamic), so every library the
 * worker dlopens allocates through them.  Each call forwards to glibc's
 * __libc_* entry points and updates lock-free counters.  Sizes are counted as
 * malloc_usable_size() of the block, which is what the allocator really
 * holds; malloc_usable_size keeps glibc's semantics.
 *
 * The harness and every lua_State allocate through lh_raw_* (base/alloc.h,
 * never counted), so the counters describe the target alone.
 */
#ifndef LEAKHOUND_INTERPOSE_H
#define LEAKHOUND_INTERPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

typedef struct lh_heap_stats {
    int64_t live_bytes;     /* bytes in blocks allocated and not freed */
    int64_t live_allocs;    /* number of such blocks */
    uint64_t total_allocs;  /* allocations since start */
    uint64_t total_frees;   /* frees since start */
} lh_heap_stats;
/* A successful realloc of a live block counts as one free plus one
 * allocation (live_allocs unchanged, live_bytes by the size difference);
 * realloc(NULL, n) is an allocation, realloc(p, 0) a free, and a failed
 * call of any kind changes nothing.  live_allocs is total_allocs minus
 * total_frees. */

/* A consistent-enough snapshot (each counter read atomically). */
void lh_heap_read(lh_heap_stats *out);

/* Per-thread, nestable: while suspended, this thread's malloc-family calls
 * are not counted (both allocation and free).  For harness code that calls
 * libc functions which allocate and free internally (opendir, ...).
 * No header is kept per block, so a block allocated while suspended and
 * freed while counting (or the reverse) skews the counters: keep both ends
 * on the same side (opendir and closedir both suspended).  Resuming more
 * often than suspending is ignored. */
void lh_heap_suspend(void);
void lh_heap_resume(void);

/* Allocation-site attribution (diag/heapsites.c): when set, called
 * after each counted allocation and before each counted free.
 *  - usable is malloc_usable_size(p), the amount counted.
 *  - A realloc reports the old block's free before glibc runs (its address
 *    may be reused at once) and the new block's allocation after; if the
 *    realloc fails, the old block is reported allocated again.
 *  - While the hook runs, this thread is suspended: its own malloc calls
 *    are neither counted nor hooked (use lh_raw_* for memory it keeps).
 *  - The hook must leave errno as it found it (it runs inside free, which
 *    does not change errno); it is not saved around the call, which runs
 *    on every counted allocation.  NULL removes it; setting is atomic
 *    (release), and the hook may still run on other threads briefly after
 *    it has been replaced.
 *  - glibc declares malloc/free `leaf`: state the hook writes must not be
 *    relied on by code in the same file as the malloc call unless it is
 *    atomic or volatile. */
typedef void (*lh_alloc_hook)(void *p, size_t usable, int is_free);
void lh_heap_set_hook(lh_alloc_hook hook);

/* 1 when a malloc and a free through the public symbols reach the
 * counters; 0 when something replaced them in the executable (valgrind
 * does, unless given --soname-synonyms=somalloc=nouserintercepts). */
int lh_heap_interposed(void);

#endif
