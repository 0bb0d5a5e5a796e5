/*
 * stacks.c - interned call stacks: the same pcs always get the same id.
 *
 * id -> stack goes through fixed chunks that never move, so readers need
 * no lock; pcs -> id is an open-addressing index under a spinlock (only
 * taken on a sampled path).
 */
#include "diag.h"

#include <stdatomic.h>
#include <string.h>

#include "alloc.h"
#include "lock.h"
#include "stacks.h"
#define STK_CHUNK 1024
#define STK_CHUNKS 1024

typedef struct stk {
    uint64_t hash;
    int n;
    uintptr_t pcs[];
} stk;

typedef _Atomic(stk *) stk_slot;

static _Atomic(stk_slot *) stk_chunks[STK_CHUNKS];
static int stk_count;
static int *stk_index;          /* id + 1; 0 = empty */
static size_t stk_index_cap;
static lh_spinlock stk_lock;

/* fork() while another thread interns would leave the child's lock held
 * forever: hold it across fork.  The callers (the sampler, the fd and
 * thread recorders) keep away on the forking thread (lh_forking). */
void lh_stacks_init(void)
{
    lh_lock_across_fork(&stk_lock, LH_RANK_STACKS);
}

/* Four independent multiply chains: a 30-frame stack hashes in a few
 * dozen cycles instead of one long dependency chain. */
static uint64_t hash_pcs(const uintptr_t *pcs, int n)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t h[4] = { (uint64_t)n, 0x243f6a8885a308d3ull,
                      0x13198a2e03707344ull, 0xa4093822299f31d0ull };
    int i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; j++)
            h[j] = (h[j] ^ (uint64_t)pcs[i + j]) * k;
    for (; i < n; i++)
        h[0] = (h[0] ^ (uint64_t)pcs[i]) * k;
    uint64_t r = h[0] ^ (h[1] >> 17) ^ (h[2] << 13) ^ (h[3] >> 29);
    r ^= h[1] ^ h[2] ^ h[3];
    r *= k;
    return r ^ (r >> 32);
}

static stk *stk_get(int id)
{
    if (id < 0 || id >= STK_CHUNK * STK_CHUNKS)
        return NULL;
    stk_slot *c = atomic_load_explicit(&stk_chunks[id / STK_CHUNK],
                                       memory_order_acquire);
    if (!c)
        return NULL;
    return atomic_load_explicit(&c[id % STK_CHUNK], memory_order_acquire);
}

/* Doubles the index; under stk_lock. */
static int stk_index_grow(void)
{
    size_t cap = lh_next_cap(stk_index_cap, 0, 4096, sizeof(int));
    int *idx = cap ? lh_raw_calloc(cap, sizeof *idx) : NULL;
    if (!idx)
        return -1;
    for (size_t i = 0; i < stk_index_cap; i++) {
        if (!stk_index[i])
            continue;
        stk *s = stk_get(stk_index[i] - 1);
        size_t h = (size_t)s->hash & (cap - 1);
        while (idx[h])
            h = (h + 1) & (cap - 1);
        idx[h] = stk_index[i];
    }
    lh_raw_free(stk_index);
    stk_index = idx;
    stk_index_cap = cap;
    return 0;
}

int lh_stack_intern(const uintptr_t *pcs, int n)
{
    if (n < 0)
        return -1;
    if (n > LH_SITE_MAX_FRAMES)
        n = LH_SITE_MAX_FRAMES;
    uint64_t h = hash_pcs(pcs, n);
    int id = -1;
    lh_spin_lock(&stk_lock);
    if ((size_t)(stk_count + 1) * 2 > stk_index_cap &&
        stk_index_grow() < 0)
        goto out;
    size_t mask = stk_index_cap - 1, i = (size_t)h & mask;
    for (; stk_index[i]; i = (i + 1) & mask) {
        stk *s = stk_get(stk_index[i] - 1);
        if (s->hash == h && s->n == n &&
            memcmp(s->pcs, pcs, (size_t)n * sizeof *pcs) == 0) {
            id = stk_index[i] - 1;
            goto out;
        }
    }
    if (stk_count >= STK_CHUNK * STK_CHUNKS)
        goto out;
    int nid = stk_count;
    stk_slot *c = atomic_load_explicit(&stk_chunks[nid / STK_CHUNK],
                                       memory_order_relaxed);
    if (!c) {
        c = lh_raw_calloc(STK_CHUNK, sizeof *c);
        if (!c)
            goto out;
        atomic_store_explicit(&stk_chunks[nid / STK_CHUNK], c,
                              memory_order_release);
    }
    stk *s = lh_raw_malloc(sizeof *s + (size_t)n * sizeof *pcs);
    if (!s)
        goto out;
    s->hash = h;
    s->n = n;
    if (n)
        memcpy(s->pcs, pcs, (size_t)n * sizeof *pcs);
    atomic_store_explicit(&c[nid % STK_CHUNK], s, memory_order_release);
    stk_index[i] = nid + 1;
    stk_count++;
    id = nid;
out:
    lh_spin_unlock(&stk_lock);
    return id;
}

const uintptr_t *lh_stack_pcs(int id, int *n)
{
    stk *s = stk_get(id);
    *n = s ? s->n : 0;
    return s ? s->pcs : NULL;
}
