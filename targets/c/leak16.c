/*
 * leak16.c - the detector's sanity workload: exactly one 16-byte malloc per
 * call that is never freed.
 *
 * leak16 pushes a 16-byte block onto a global lock-free list (the block is
 * its own list node), so the pointer escapes and no compiler can delete the
 * malloc: heap.live_allocs grows by exactly 1 per call and heap.live_bytes
 * by the block's usable size (24 bytes on glibc x86-64, since the harness
 * counts malloc_usable_size).  The blocks stay reachable: LeakSanitizer is
 * silent, growth is not.  leak16_clean allocates the same block and frees it.
 * Gauge: target.leak16_blocks (blocks held so far).
 *
 * leak16_slow keeps a 16-byte block on every 10th call only (1.6 B/iter,
 * below what heap sampling at 16 KiB sees in a run) on a list of its own;
 * leak16_slow_clean allocates the same blocks and frees them.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lh_target.h"

struct block {
    struct block *next;
    uint8_t tag[8];         /* first bytes of the input, for a debugger */
};

_Static_assert(sizeof(struct block) == 16, "leak16 must allocate 16 bytes");

static _Atomic(struct block *) held;
static atomic_int_fast64_t nheld;

static void fill(struct block *b, const uint8_t *data, size_t size)
{
    memset(b->tag, 0, sizeof b->tag);
    if (size > 0)
        memcpy(b->tag, data, size < sizeof b->tag ? size : sizeof b->tag);
}

LH_EXPORT int leak16(const uint8_t *data, size_t size)
{
    struct block *b = malloc(16);
    if (b == NULL)
        return 0;
    fill(b, data, size);
    b->next = atomic_load(&held);
    while (!atomic_compare_exchange_weak(&held, &b->next, b))
        ;
    atomic_fetch_add(&nheld, 1);
    return 0;
}

LH_EXPORT int leak16_clean(const uint8_t *data, size_t size)
{
    struct block *b = malloc(16);
    if (b == NULL)
        return 0;
    fill(b, data, size);
    lh_escape(b);
    free(b);
    return 0;
}

static _Atomic(struct block *) slow_held;
static atomic_uint_fast64_t slow_calls;

LH_EXPORT int leak16_slow(const uint8_t *data, size_t size)
{
    if (atomic_fetch_add(&slow_calls, 1) % 10 != 9)
        return 0;
    struct block *b = malloc(16);
    if (b == NULL)
        return 0;
    fill(b, data, size);
    b->next = atomic_load(&slow_held);
    while (!atomic_compare_exchange_weak(&slow_held, &b->next, b))
        ;
    return 0;
}

LH_EXPORT int leak16_slow_clean(const uint8_t *data, size_t size)
{
    if (atomic_fetch_add(&slow_calls, 1) % 10 != 9)
        return 0;
    struct block *b = malloc(16);
    if (b == NULL)
        return 0;
    fill(b, data, size);
    lh_escape(b);
    free(b);
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_leak16_blocks(void)
{
    return atomic_load(&nheld);
}
