/*
 * heapcache.h - the interposer's per-thread cache of freed small blocks
 * (internal to probe: interpose.c's malloc and free use it).
 *
 * A free of a small block keeps it in the thread's bin for its glibc
 * chunk size, and a later malloc of a size with that chunk size takes it
 * back without calling into glibc: what glibc's tcache does, in front of
 * it, so a hit costs no call.  Cached blocks stay allocated chunks as far
 * as glibc knows, so they are ordinary glibc blocks again once handed
 * out (realloc, malloc_usable_size and __libc_free work on them).
 *
 * Bins are keyed by chunk size (16-byte classes, slot = size / 16, as the
 * header says), and a slot only serves requests whose chunk size
 * (glibc's request2size) is that size: a block's usable size is always
 * right for the request it serves.  Blocks from memalign are ordinary
 * chunks once glibc has split off the leading part; mapped chunks
 * (IS_MMAPPED) are never cached.
 *
 * A thread holds at most LH_HC_CAP blocks in each of its 64 bins,
 * LH_HC_BOUND_BYTES (235 KiB) in all, until it exits, when its bins go
 * back to glibc: a thread that never exits may keep that much.
 *
 * The bins are lists through the blocks' first words, as glibc's: an
 * array of pointers in TLS instead (no block memory read to take one)
 * measured 8% slower on the churn benchmark.
 *
 * Like glibc's tcache, a block freed twice on the same thread is caught
 * (a random key in its second word, then a scan of its bin) and aborts
 * with a message; the next-pointers are mangled with the block's address
 * (glibc's safe-linking) and checked for alignment, so a write after
 * free into a cached block's first word mostly (15 times in 16) aborts
 * rather than handing out a wild pointer.  Not caught, as with glibc's
 * tcache: a double free on another thread than the one caching the
 * block, or after the program overwrote the block's key word.
 *
 * Like glibc's tcache (and malloc, which is not async-signal-safe), the
 * bins are not reentrant: a signal handler that mallocs or frees while
 * its thread is inside malloc or free may corrupt them, as it may
 * corrupt glibc's.  Marking the thread busy around each operation (two
 * stores) made the churn benchmark 9% slower.
 *
 * Same rules as interpose.c: initial-exec TLS, no lock, nothing that
 * calls the public malloc family.
 */
#ifndef LEAKHOUND_HEAPCACHE_H
#define LEAKHOUND_HEAPCACHE_H

#include <stddef.h>
#include <stdint.h>

#define LH_HC_HIDDEN __attribute__((visibility("hidden")))

/* Chunk sizes 32..1040 B (glibc's tcache range): slots 2..65. */
#define LH_HC_SLOTS 66
#define LH_HC_MAX_REQUEST 1032  /* the largest request of chunk 1040 */

/* Blocks kept per bin: as glibc's tcache.  The churn benchmark needs 1
 * (malloc and free alternate); allocating 16 blocks and freeing them
 * (bench/churn.c, churn_batch_op) runs slower than glibc alone at 1,
 * about as fast at 3, 10% faster at 7, no faster at 15. */
#ifndef LH_HC_CAP
#define LH_HC_CAP 7
#endif
/* What a thread may hold: 7 * (32 + 48 + ... + 1040) = 240,128 bytes. */
#define LH_HC_BOUND_BYTES ((size_t)LH_HC_CAP * 16 * (65 * 66 / 2 - 1))

enum {
    LH_HC_UNSET,                /* the thread has not freed yet */
    LH_HC_ON,
    LH_HC_OFF                   /* disabled, or the thread exited */
};

typedef struct lh_hc {
    uintptr_t head[LH_HC_SLOTS]; /* mangled pointer to the first block */
    uint8_t count[LH_HC_SLOTS];
    int state;
} lh_hc;

extern LH_HC_HIDDEN _Thread_local lh_hc lh_hc_tls
    __attribute__((tls_model("initial-exec")));
/* In every cached block's second word (0 once handed out). */
extern LH_HC_HIDDEN uintptr_t lh_hc_key;

/* The process-wide switch, set once at start-up (before it, every
 * thread bypasses the cache): enabled when the chunk header can be read
 * (interpose.c's fast usable-size check) and LEAKHOUND_HEAP_CACHE is not
 * "0".  Returns whether the cache is on. */
LH_HC_HIDDEN int lh_hc_init(int headers_readable);
/* 1 on, 0 off, -1 not decided yet (lh_hc_init not called). */
LH_HC_HIDDEN int lh_hc_mode(void);
/* This thread's bins back to glibc, and the cache off for the thread
 * from now on (its exit: nothing would flush them later). */
LH_HC_HIDDEN void lh_hc_thread_exit(void);
/* A cached block's key found in a block being freed: aborts if it is in
 * its slot's bin (a double free), else returns (a coincidence). */
LH_HC_HIDDEN void lh_hc_check_double(void *p, size_t slot);
LH_HC_HIDDEN _Noreturn void lh_hc_corrupt(void *p);

/* glibc's safe-linking: a pointer stored in a block is xored with the
 * address it is stored at, shifted. */
static inline uintptr_t lh_hc_mangle(void *at, uintptr_t next)
{
    return next ^ ((uintptr_t)at >> 12);
}

/* The slot serving a request of `size` (at most LH_HC_MAX_REQUEST):
 * glibc's request2size, over 16. */
static inline size_t lh_hc_slot_of_request(size_t size)
{
    size_t slot = (size + sizeof(size_t) + 15) >> 4;
    return slot < 2 ? 2 : slot;
}

/* The usable size of a block in `slot` (chunk size less its header). */
static inline size_t lh_hc_usable(size_t slot)
{
    return slot * 16 - sizeof(size_t);
}

/* A block for a request of slot `slot`, or NULL.  The caller has checked
 * that the thread's cache is on. */
static inline void *lh_hc_take(lh_hc *c, size_t slot)
{
    uintptr_t *p = (uintptr_t *)c->head[slot];
    if (p) {
        uintptr_t next = lh_hc_mangle(p, p[0]);
        if (__builtin_expect(next & 15, 0))
            lh_hc_corrupt(p);
        c->head[slot] = next;
        c->count[slot]--;
        p[1] = 0;
    }
    return p;
}

/* Keeps p (a non-mapped chunk of `slot`, checked for a double free) if
 * its bin has room; 0 when full (the caller gives it to glibc). */
static inline int lh_hc_put(lh_hc *c, void *p, size_t slot)
{
    if (c->count[slot] >= LH_HC_CAP)
        return 0;
    uintptr_t *b = p;
    b[0] = lh_hc_mangle(b, c->head[slot]);
    b[1] = lh_hc_key;
    c->head[slot] = (uintptr_t)b;
    c->count[slot]++;
    return 1;
}

#endif
