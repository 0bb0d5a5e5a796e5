/*
 * interpose.h - exact heap accounting by interposing the malloc family,
 * and exact mapped-memory accounting by interposing mmap and friends.
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
