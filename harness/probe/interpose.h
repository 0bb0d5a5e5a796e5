/*
 * interpose.h - exact heap accounting by interposing the malloc family,
 * and exact mapped-memory accounting by interposing mmap and friends.
 *
 * interpose.c defines malloc, calloc, realloc, reallocarray, free,
 * posix_memalign, aligned_alloc, memalign, valloc and pvalloc in the
 * leakhound executable (linked with --export-dynamic), so every library the
 * worker dlopens allocates through them.  Each call forwards to glibc's
 * __libc_* entry points and adds to the calling thread's own counters
 * (no lock, no shared write; reads sum all threads').  Sizes are counted as
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
    uint64_t total_alloc_bytes; /* usable bytes allocated since start (a
                                   realloc counts its new block's) */
} lh_heap_stats;
/* A successful realloc of a live block counts as one free plus one
 * allocation (live_allocs unchanged, live_bytes by the size difference);
 * realloc(NULL, n) is an allocation, realloc(p, 0) a free, and a failed
 * call of any kind changes nothing (total_alloc_bytes grows by the new
 * block's usable size).  live_allocs is total_allocs minus total_frees;
 * the counts of a thread that exited stay in every total. */

/* A consistent-enough snapshot: each counter read atomically, frees
 * before allocations, exact whenever no other thread is allocating. */
void lh_heap_read(lh_heap_stats *out);

/* Per-thread counter blocks: held by live threads, and ever handed out
 * (an exited thread's block goes to the next new thread).  For tests. */
void lh_heap_blocks(int *owned, int *made);

/* Per-thread, nestable: while suspended, this thread's malloc-family calls
 * are not counted (both allocation and free).  For harness code that calls
 * libc functions which allocate and free internally (opendir, ...).
 * No header is kept per block, so a block allocated while suspended and
 * freed while counting (or the reverse) skews the counters: keep both ends
 * on the same side (opendir and closedir both suspended).  Resuming more
 * often than suspending is ignored. */
void lh_heap_suspend(void);
void lh_heap_resume(void);

/* Allocation-site attribution (diag/heapsites.c): a sampling hook.  The
 * interposer makes the sampling decisions itself, from thread-local state
 * and a filter only the hook's owner writes, so an unsampled call neither
 * calls anything nor writes anything shared:
 *  - after a counted allocation, the hook is called when this thread's
 *    countdown of bytes (lh_heap_sample_in) has run out, i.e. is <= 0
 *    once the block's usable size is subtracted: a thread that never sets
 *    it has the hook called for every allocation;
 *  - before a counted free, it is called when filter is NULL, or when
 *    filter[lh_heap_filter_slot(p)] is non-zero (the owner's count of
 *    live samples hashing there: it must be raised before the sampled
 *    block can reach another thread, i.e. inside the hook).  A free
 *    loads the filter alone, not the hook, until the filter holds p:
 *    the one load and test of an unsampled free.
 *  - usable is malloc_usable_size(p), the amount counted.
 *  - A realloc reports the old block's free before glibc runs (its address
 *    may be reused at once) and the new block's allocation after; if the
 *    realloc fails, the old block is offered as an allocation again (to
 *    the countdown, as any allocation).
 *  - While the hook runs, this thread is suspended: its own malloc calls
 *    are neither counted nor hooked (use lh_raw_* for memory it keeps).
 *  - The hook must leave errno as it found it (it runs inside free, which
 *    does not change errno); it is not saved around the call.  NULL
 *    removes it; setting is atomic (release), and the hook may still run
 *    on other threads briefly after it has been replaced.
 *  - glibc declares malloc/free `leaf`: state the hook writes must not be
 *    relied on by code in the same file as the malloc call unless it is
 *    atomic or volatile. */
typedef void (*lh_alloc_hook)(void *p, size_t usable, int is_free);
#define LH_HEAP_FILTER_BITS 16
void lh_heap_set_hook(lh_alloc_hook hook, const _Atomic uint8_t *filter);

/* This thread's next allocation hook after `bytes` more usable bytes
 * (the hook calls it to draw its next gap; 0: at the next allocation). */
void lh_heap_sample_in(int64_t bytes);

/* Bits 4..35 of the address (blocks are 16-byte aligned), hashed by a
 * 32-bit multiply: the fewest instructions on every free. */
static inline size_t lh_heap_filter_slot(const void *p)
{
    return (size_t)(((uint32_t)((uintptr_t)p >> 4) * 0x9e3779b1u) >>
                    (32 - LH_HEAP_FILTER_BITS));
}

/* 1 when a malloc and a free through the public symbols reach the
 * counters; 0 when something replaced them in the executable (valgrind
 * does, unless given --soname-synonyms=somalloc=nouserintercepts). */
int lh_heap_interposed(void);

/* ---- mapped memory ---------------------------------------------------
 *
 * mmap, mmap64, munmap and mremap are interposed too.  Every mapping the
 * target makes itself is kept (start -> length, pages) until it is
 * unmapped, in whole or in part, replaced by a MAP_FIXED mapping, or moved
 * by mremap (which keeps its owner).  glibc's own mappings (malloc's large
 * blocks, thread stacks, loaded libraries) never reach the interposer;
 * the harness maps through lh_raw_mmap; a thread suspended with
 * lh_heap_suspend makes no counted mapping, though its unmaps of counted
 * ones still count.  SysV shared memory attached by the target (shmat,
 * shmdt: shm.c) is counted as mappings too. */
typedef struct lh_mmap_stats {
    int64_t live_bytes;     /* bytes in the target's live mappings */
    int64_t live_maps;      /* number of them (a split one is two) */
    uint64_t total_maps;    /* mappings counted since start */
    uint64_t total_unmaps;
} lh_mmap_stats;

/* Registers the table's lock across fork; call once before mapping. */
void lh_mmap_init(void);
void lh_mmap_read(lh_mmap_stats *out);

/* Called for each counted mapping (with this thread suspended), ra the
 * return address into the caller of mmap; returns a tag kept with the
 * mapping and its pieces (diag: an interned stack id), -1 for none. */
typedef int (*lh_map_hook)(uintptr_t ra);
void lh_mmap_set_hook(lh_map_hook hook);

/* Mappings made by a caller whose return address lies in [lo, hi) are
 * not the target's (the Go runtime maps its heap through libc's mmap in a
 * cgo build, via x_cgo_mmap); those already counted are dropped.  0, or
 * -1 when the (small) list is full. */
int lh_mmap_ignore_caller(uintptr_t lo, uintptr_t hi);

/* fn(tag, length) for every live counted mapping, under the table's lock:
 * fn must not map or unmap.  Returns how many. */
int lh_mmap_each(void (*fn)(int tag, size_t len, void *ud), void *ud);

/* For other calls that map or unmap (shm.c: shmat, shmdt), accounted in
 * the same table.  lh_mmap_counted: whether a new mapping by the caller
 * at ra is the target's, and its tag (runs the hook: call it before
 * locking).  The rest run under lh_mmap_lock, held across the syscall so
 * that the table changes in the order the kernel's mappings do:
 * note_map counts [start, start + len) for ra (replacing whatever the
 * table had there), note_unmap forgets a range, len_at is the length of
 * the counted mapping starting at start (0: none). */
int lh_mmap_counted(uintptr_t ra, int *tag);
void lh_mmap_lock(void);
void lh_mmap_unlock(void);
void lh_mmap_note_map(uintptr_t start, size_t len, uintptr_t ra, int tag);
void lh_mmap_note_unmap(uintptr_t lo, size_t len);
size_t lh_mmap_len_at(uintptr_t start);

#endif
