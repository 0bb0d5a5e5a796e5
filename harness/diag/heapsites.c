/*
 * heapsites.c - where the C heap is held: sampled allocation stacks.
 *
 * The interposer calls our hook after a counted allocation that is to be
 * sampled and before a counted free of what may be a sample.  Sampling is
 * by bytes, as in tcmalloc and Go's runtime.MemProfile: each thread counts
 * down the bytes allocated until its next sample (in the interposer,
 * lh_heap_sample_in), the gaps being exponentially distributed with mean
 * sample_bytes.  An allocation of s bytes is then sampled with probability
 * p = 1 - exp(-s / sample_bytes) whatever the allocation pattern (a fixed
 * stride could beat in step with a loop and always pick the same site),
 * and each sample stands for 1/p allocations and s/p bytes -- pprof's
 * unsampling, which is unbiased for every size.
 *
 * Costs.  The interposer makes the sampling decisions (interpose.h): an
 * unsampled allocation costs one thread-local subtraction there, an unsampled
 * free one load from our 64 KiB counting filter of the addresses of live
 * samples; neither calls the hook nor writes anything shared (with the hook
 * set but nothing sampled, the churn op, ~25 cycles a malloc/free pair, takes
 * ~8% more CPU than counting alone: those few instructions, most of them the
 * free's).  A sample costs a stack capture (lh_backtrace: the frames shared
 * with the thread's previous capture cost a load each), a compare with the
 * thread's last sampled stack (interning only when it differs), its weight
 * (cached by block size), and its shard's spinlock (below); a free whose
 * address passes the filter takes its thread's shard lock to find and drop
 * its sample.  Together ~100-150 ns a sample on the churn op (bench/churn.c),
 * one per ~250 of its mallocs at the default 64 KiB.
 *
 * Snapshot: estimated live bytes and allocations per interned stack.  The
 * diff of two snapshots is grouped by blamed frame (lh_sites_group).
 */
#include "diag.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgocaller.h"
#include "interpose.h"
#include "lock.h"
#include "stacks.h"
#include "trim.h"

#define IE_TLS __attribute__((tls_model("initial-exec")))

/* Frames the interposer and this file put above the allocating call;
 * captured on top of the LH_SITE_MAX_FRAMES kept. */
#define HS_EXTRA 16

/* ---- per-thread sampling state ------------------------------------------- */

/* xorshift state; 0 until the thread's first slow path. */
static _Thread_local uint64_t hs_rng IE_TLS;
/* Set while this thread calibrates (see calibrate()). */
static _Thread_local int hs_calibrating IE_TLS;
/* This thread's last sampled stack and its id: a loop allocating at one
 * site is sampled at the same stack again and again, and a compare is
 * cheaper than hashing and the interning lock. */
static _Thread_local struct {
    int n, id;
    uintptr_t pcs[LH_SITE_MAX_FRAMES];
    /* The whole capture it was made from (nraw frames; 0: not to be
     * reused, as when a cgo call appended Go frames the C stack does not
     * show): the same capture again is the same stack, without trimming
     * or classifying its frames. */
    int nraw;
    uintptr_t raw[LH_SITE_MAX_FRAMES + HS_EXTRA];
} hs_last IE_TLS;

/* 1 / P(sampled) of the block sizes this thread sampled last, at the
 * mean in wmean (an allocation loop has few sizes; glibc's usable sizes
 * are 16 apart): the same double expm1 and a division would give, for
 * one load and a compare. */
#define HS_WSLOTS 64
static _Thread_local struct {
    uint64_t mean;
    size_t usable[HS_WSLOTS];
    double wc[HS_WSLOTS];
} hs_weight IE_TLS;

/* Read on every sample, written once a run: a line of their own, apart
 * from the lock and what is written under it (two threads sampling would
 * otherwise pull the line from each other at every sample). */
static struct {
    _Alignas(64) _Atomic uint64_t mean; /* sample_bytes; 0: every one */
    atomic_int ready;                   /* calibrated: samples count */
} hs_conf;
static atomic_int hs_started;             /* calibrated */
static atomic_int hs_on;                  /* the hook is installed */
static _Atomic uint64_t hs_seed_ctr;

/* ---- shards: live samples and per-stack sums -------------------------- */

/*
 * A thread records its samples in its shard (threads are dealt shards in
 * turn at their first sample), each under its own lock on lines of its
 * own: two threads sampling at once neither wait for each other nor pull
 * the same lines back and forth, as they did around one lock (a third of
 * the time of `threads = 2` on an allocation-bound op).  A free looks in
 * its own thread's shard first, then in the others: a block freed by the
 * thread that made it (the common case) takes one uncontended lock.  The
 * sums of a stack are the sums over shards, added up by a snapshot.
 */
#define HS_SHARDS 4

/* Per interned stack: estimated live bytes and allocations, and bytes
 * and allocations made since recording started (never lowered by a free:
 * the allocation rate's sites).  One line holds all four. */
typedef struct hs_stat {
    double bytes, count, abytes, acount;
} hs_stat;

/* Live samples: address -> stack and weights.  Linear probing with
 * backward-shift deletion, so no tombstones pile up. */
typedef struct hs_live {
    uintptr_t p;                /* 0: empty */
    int id;
    double wbytes, wcount;
} hs_live;

typedef struct hs_shard {
    _Alignas(64) lh_spinlock lock;
    hs_live *tab;
    size_t cap, used;
    hs_stat *stat;              /* by stack id, nstat of them */
    int nstat;
} hs_shard;

static hs_shard hs_shards[HS_SHARDS];
static atomic_uint hs_shard_next;
/* This thread's shard + 1; 0 until its first sample. */
static _Thread_local unsigned hs_my_shard IE_TLS;

static hs_shard *my_shard(void)
{
    if (!hs_my_shard)
        hs_my_shard = atomic_fetch_add_explicit(&hs_shard_next, 1,
                                                memory_order_relaxed) %
                          HS_SHARDS + 1;
    return &hs_shards[hs_my_shard - 1];
}

/* Counting filter over the addresses of live samples: a free looks here
 * first, and only takes a lock when its bucket is non-zero.  Raised and
 * lowered atomically (shards update it concurrently); read without a lock
 * (a block's sample is recorded before malloc returns it, so any thread
 * that can free it sees the count).  A bucket that reaches 255 stays
 * there (it can no longer be decremented exactly); that only costs
 * lookups. */
static _Atomic uint8_t hs_filter[1u << LH_HEAP_FILTER_BITS];

static void filter_raise(uintptr_t p)
{
    _Atomic uint8_t *b = &hs_filter[lh_heap_filter_slot((void *)p)];
    uint8_t v = atomic_load_explicit(b, memory_order_relaxed);
    while (v < 255 && !atomic_compare_exchange_weak_explicit(
                          b, &v, (uint8_t)(v + 1), memory_order_relaxed,
                          memory_order_relaxed))
        ;
}

static void filter_lower(uintptr_t p)
{
    _Atomic uint8_t *b = &hs_filter[lh_heap_filter_slot((void *)p)];
    uint8_t v = atomic_load_explicit(b, memory_order_relaxed);
    while (v > 0 && v < 255 && !atomic_compare_exchange_weak_explicit(
                                   b, &v, (uint8_t)(v - 1),
                                   memory_order_relaxed,
                                   memory_order_relaxed))
        ;
}

static inline size_t live_slot(uintptr_t p, size_t cap)
{
    return (size_t)(((uint64_t)p * 0x9e3779b97f4a7c15ull) >> 17) &
           (cap - 1);
}

/* ---- random gaps --------------------------------------------------------- */

static uint64_t next_rand(void)
{
    uint64_t x = hs_rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    hs_rng = x;
    return x;
}

static void seed_thread(void)
{
    /* splitmix64 of a global counter and the thread's TLS address: each
     * thread its own sequence, never 0. */
    uint64_t z = atomic_fetch_add(&hs_seed_ctr, 1) * 0x9e3779b97f4a7c15ull +
                 (uint64_t)(uintptr_t)&hs_rng;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    hs_rng = z ? z : 1;
}

/* An exponentially distributed gap with the configured mean (>= 1). */
static int64_t next_gap(void)
{
    uint64_t mean = atomic_load_explicit(&hs_conf.mean, memory_order_relaxed);
    if (mean == 0)
        return 0;
    /* u in (0, 1]: 53 random bits, never 0, so log is finite. */
    double u = (double)((next_rand() >> 11) + 1) * (1.0 / 9007199254740992.0);
    double g = -log(u) * (double)mean;
    if (g < 1)
        g = 1;
    if (g > 1e15)
        g = 1e15;
    return (int64_t)g;
}

/* ---- tables -------------------------------------------------------------- */

static int live_grow(hs_shard *sh)
{
    size_t cap = lh_next_cap(sh->cap, 0, 4096, sizeof(hs_live));
    hs_live *t = cap ? lh_raw_calloc(cap, sizeof *t) : NULL;
    if (!t)
        return -1;
    for (size_t i = 0; i < sh->cap; i++) {
        if (!sh->tab[i].p)
            continue;
        size_t j = live_slot(sh->tab[i].p, cap);
        while (t[j].p)
            j = (j + 1) & (cap - 1);
        t[j] = sh->tab[i];
    }
    lh_raw_free(sh->tab);
    sh->tab = t;
    sh->cap = cap;
    return 0;
}

static int stats_grow(hs_shard *sh, int id)
{
    if (id < sh->nstat)
        return 0;
    int n = sh->nstat ? sh->nstat : 1024;
    while (n <= id) {
        if (n > INT_MAX / 2)
            return -1;
        n *= 2;
    }
    hs_stat *a = lh_raw_realloc(sh->stat, (size_t)n * sizeof *a);
    if (!a)
        return -1;
    memset(a + sh->nstat, 0, (size_t)(n - sh->nstat) * sizeof *a);
    sh->stat = a;
    sh->nstat = n;
    return 0;
}

/* Under sh->lock. */
static void live_add(hs_shard *sh, uintptr_t p, int id, double wb,
                     double wc)
{
    if ((sh->used + 1) * 2 > sh->cap && live_grow(sh) < 0)
        return;
    if (stats_grow(sh, id) < 0)
        return;
    size_t j = live_slot(p, sh->cap);
    while (sh->tab[j].p && sh->tab[j].p != p)
        j = (j + 1) & (sh->cap - 1);
    if (sh->tab[j].p == p) {
        /* A block freed behind our back (never by the interposer) and
         * handed out again: its old sample is gone.  (Had another
         * thread's shard recorded it, that entry stays until a block at
         * the address is freed again.) */
        sh->stat[sh->tab[j].id].bytes -= sh->tab[j].wbytes;
        sh->stat[sh->tab[j].id].count -= sh->tab[j].wcount;
    } else {
        sh->used++;
        filter_raise(p);
    }
    sh->tab[j].p = p;
    sh->tab[j].id = id;
    sh->tab[j].wbytes = wb;
    sh->tab[j].wcount = wc;
    hs_stat *st = &sh->stat[id];
    st->bytes += wb;
    st->count += wc;
    st->abytes += wb;
    st->acount += wc;
}

/* Under sh->lock: 1 when p was a live sample of this shard. */
static int live_remove(hs_shard *sh, uintptr_t p)
{
    if (!sh->cap)
        return 0;
    hs_live *tab = sh->tab;
    size_t mask = sh->cap - 1, j = live_slot(p, sh->cap);
    while (tab[j].p && tab[j].p != p)
        j = (j + 1) & mask;
    if (!tab[j].p)
        return 0;               /* another shard's, or a false positive */
    sh->stat[tab[j].id].bytes -= tab[j].wbytes;
    sh->stat[tab[j].id].count -= tab[j].wcount;
    filter_lower(p);
    sh->used--;
    /* Backward shift: pull later members of the probe run into the hole
     * unless they already sit at or after their home slot. */
    size_t hole = j;
    for (size_t k = (j + 1) & mask; tab[k].p; k = (k + 1) & mask) {
        size_t home = live_slot(tab[k].p, sh->cap);
        if (((k - home) & mask) >= ((k - hole) & mask)) {
            tab[hole] = tab[k];
            hole = k;
        }
    }
    tab[hole].p = 0;
    return 1;
}

/* ---- calibration --------------------------------------------------------- */

/* The stack of calibrate_one's caller, to find where its call into the
 * allocator shows up in a stack captured from the hook. */
static uintptr_t cal_ref[4];
static int cal_nref;

/* Called from the sampled path while calibrating: every frame above the
 * return address into calibrate_one belongs to the interposer. */
static void calibrate_record(const uintptr_t *raw, int n)
{
    for (int i = 0; i + cal_nref <= n; i++) {
        int match = 1;
        /* raw[i] is the return address into calibrate_one; the frames
         * after it must be calibrate_one's callers. */
        for (int k = 1; k < cal_nref && match; k++)
            match = i + k < n && raw[i + k] == cal_ref[k];
        if (!match)
            continue;
        lh_trim_learn(raw, i);
        return;
    }
}

/* ---- the hook ------------------------------------------------------------ */

/* The sampled path (names start with lh_ so symbolization can tell them
 * from the target even where calibration could not). */
static void lh_hs_sample(void *p, size_t usable, uint64_t mean);

/* errno is kept here, not only around the whole hook by the interposer:
 * the fast paths never touch it, so the interposer need not pay for
 * saving it on every call. */
__attribute__((noinline))
static void lh_hs_alloc_slow(void *p, size_t usable)
{
    int *err = &errno;          /* one call to find it, not two */
    int saved = *err;
    uint64_t mean = atomic_load_explicit(&hs_conf.mean, memory_order_relaxed);
    if (!hs_calibrating) {
        if (hs_rng == 0) {
            /* First slow path of this thread: the countdown was never
             * drawn.  Draw it as if it had started before this block. */
            seed_thread();
            int64_t left = next_gap() - (int64_t)usable;
            if (left > 0) {
                lh_heap_sample_in(left);
                return;
            }
        }
        lh_heap_sample_in(next_gap());
        if (!atomic_load_explicit(&hs_conf.ready, memory_order_acquire) ||
            lh_forking())
            return;
    }
    lh_hs_sample(p, usable, mean);
    *err = saved;
}

/* The interned id of a captured stack, trimmed of our frames and
 * extended with a cgo call's Go frames; -1 when it cannot be interned. */
static int stack_id(const uintptr_t *raw, int n)
{
    if (hs_last.nraw == n && n > 0 &&
        memcmp(hs_last.raw, raw, (size_t)n * sizeof *raw) == 0)
        return hs_last.id;
    int k = lh_trim_leading(raw, n, 0);
    int depth = n - k;
    if (depth > LH_SITE_MAX_FRAMES)
        depth = LH_SITE_MAX_FRAMES;
    /* Made by a cgo call (C.CString): the Go caller's stack appended, from
     * a call back into Go (no lock of ours held). */
    uintptr_t ext[LH_SITE_MAX_FRAMES];
    const uintptr_t *st = raw + k;
    int g = lh_cgo_extend(raw + k, depth, ext, LH_SITE_MAX_FRAMES);
    if (g > 0) {
        st = ext;
        depth = g;
    }
    int id;
    if (hs_last.n == depth && depth > 0 &&
        memcmp(hs_last.pcs, st, (size_t)depth * sizeof *st) == 0) {
        id = hs_last.id;
    } else {
        hs_last.nraw = 0;
        id = lh_stack_intern(st, depth);
        if (id < 0)
            return -1;
        hs_last.n = depth;
        hs_last.id = id;
        memcpy(hs_last.pcs, st, (size_t)depth * sizeof *st);
    }
    /* The same capture is the same stack, unless Go frames were added
     * that the C stack does not show. */
    hs_last.nraw = g > 0 ? 0 : n;
    memcpy(hs_last.raw, raw, (size_t)hs_last.nraw * sizeof *raw);
    return id;
}

/* Records one sample: the stack, its weights, the live entry. */
__attribute__((always_inline))
static inline void lh_hs_sample(void *p, size_t usable, uint64_t mean)
{
    uintptr_t raw[LH_SITE_MAX_FRAMES + HS_EXTRA];
    int n = lh_backtrace(raw, LH_SITE_MAX_FRAMES + HS_EXTRA, 0);
    if (hs_calibrating) {
        calibrate_record(raw, n);
        return;
    }
    int id = stack_id(raw, n);
    if (id < 0)
        return;

    double wb, wc;
    if (mean == 0) {
        wc = 1;
    } else {
        size_t w = (usable >> 4) % HS_WSLOTS;
        if (hs_weight.mean != mean) {
            memset(hs_weight.usable, 0, sizeof hs_weight.usable);
            hs_weight.mean = mean;
        }
        if (hs_weight.usable[w] == usable && usable) {
            wc = hs_weight.wc[w];
        } else {
            double prob = -expm1(-(double)usable / (double)mean);
            wc = prob > 0 ? 1 / prob : 1;
            hs_weight.usable[w] = usable;
            hs_weight.wc[w] = wc;
        }
    }
    wb = (double)usable * wc;
    hs_shard *sh = my_shard();
    lh_spin_lock(&sh->lock);
    live_add(sh, (uintptr_t)p, id, wb, wc);
    lh_spin_unlock(&sh->lock);
}

__attribute__((noinline))
static void lh_hs_free_slow(void *p)
{
    if (lh_forking())
        return;     /* its entry goes stale: live_add copes */
    int *err = &errno;
    int saved = *err;
    hs_shard *mine = my_shard();
    lh_spin_lock(&mine->lock);
    int found = live_remove(mine, (uintptr_t)p);
    lh_spin_unlock(&mine->lock);
    for (int i = 0; i < HS_SHARDS && !found; i++) {
        hs_shard *sh = &hs_shards[i];
        if (sh == mine)
            continue;
        lh_spin_lock(&sh->lock);
        found = live_remove(sh, (uintptr_t)p);
        lh_spin_unlock(&sh->lock);
    }
    *err = saved;
}

/* Called only when the interposer's countdown ran out (an allocation) or
 * the filter may hold p (a free). */
static void lh_hs_hook(void *p, size_t usable, int is_free)
{
    if (is_free)
        lh_hs_free_slow(p);
    else
        lh_hs_alloc_slow(p, usable);
}

/*
 * Calibration: which frames of a captured stack are ours.  Every entry
 * point of the malloc family is called once from calibrate_one with
 * sampling forced; the frames captured above the return address into
 * calibrate_one (the hook, run_hook, malloc ... -- whatever inlining made
 * of them) are the ones to drop from every sample.  Done by address, so
 * it holds for a stripped binary too.
 */
typedef void *(*malloc_fn)(size_t);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void *(*reallocarray_fn)(void *, size_t, size_t);
typedef int (*posix_memalign_fn)(void **, size_t, size_t);
typedef void *(*memalign_fn)(size_t, size_t);
typedef void (*free_fn)(void *);

__attribute__((noinline))
static void calibrate_one(int kind)
{
    /* Volatile pointers: the compiler may neither fold these calls nor
     * drop an allocation whose result is unused. */
    malloc_fn volatile m = malloc;
    calloc_fn volatile c = calloc;
    realloc_fn volatile r = realloc;
    reallocarray_fn volatile ra = reallocarray;
    posix_memalign_fn volatile pm = posix_memalign;
    memalign_fn volatile al = aligned_alloc;
    memalign_fn volatile ml = memalign;
    malloc_fn volatile va = valloc;
    malloc_fn volatile pv = pvalloc;
    free_fn volatile f = free;

    uintptr_t ref[4];
    cal_nref = lh_backtrace(ref, 4, 0);
    memcpy(cal_ref, ref, sizeof ref);
    lh_heap_sample_in(0);

    void *p = NULL, *q = NULL;
    switch (kind) {
    case 0:
        p = m(40);
        break;
    case 1:
        p = c(2, 40);
        break;
    case 2:
        p = r(NULL, 40);
        break;
    case 3:
        q = m(40);
        lh_heap_sample_in(0);
        p = r(q, 4000);
        if (!p)
            p = q;
        break;
    case 4:
        /* A failing realloc reports the old block allocated again. */
        p = m(40);
        lh_heap_sample_in(0);
        q = r(p, SIZE_MAX / 4);
        if (q)
            p = q;
        break;
    case 5:
        p = ra(NULL, 2, 20);
        break;
    case 6:
        q = m(40);
        lh_heap_sample_in(0);
        p = ra(q, 2, 2000);
        if (!p)
            p = q;
        break;
    case 7:
        if (pm(&p, 64, 40) != 0)
            p = NULL;
        break;
    case 8:
        p = al(64, 64);
        break;
    case 9:
        p = ml(64, 40);
        break;
    case 10:
        p = va(40);
        break;
    case 11:
        p = pv(40);
        break;
    default:
        break;
    }
    lh_heap_sample_in(0);
    f(p);
}

#define CALIBRATE_KINDS 12

void lh_heapsites_start(size_t sample_bytes)
{
    atomic_store(&hs_conf.mean, (uint64_t)sample_bytes);
    if (atomic_exchange(&hs_started, 1)) {
        /* Calibrated before: (re)install the hook.  This thread's gap was
         * drawn at the old rate -- switching to "every allocation" must
         * not leave the next 64 KiB unrecorded -- so draw it again; other
         * threads take the new rate at their next sample. */
        lh_heap_sample_in(hs_rng ? next_gap() : 0);
        if (!atomic_exchange(&hs_on, 1))
            lh_heap_set_hook(lh_hs_hook, hs_filter);
        return;
    }
    lh_backtrace_init();
    lh_heap_suspend();          /* the first registration allocates */
    for (int i = 0; i < HS_SHARDS; i++)    /* in order: see stop */
        lh_lock_across_fork(&hs_shards[i].lock, LH_RANK_HEAPSITES);
    lh_heap_resume();
    lh_heap_set_hook(lh_hs_hook, hs_filter);
    hs_calibrating = 1;
    for (int k = 0; k < CALIBRATE_KINDS; k++)
        calibrate_one(k);
    hs_calibrating = 0;
    lh_heap_sample_in(0);
    hs_rng = 0;
    atomic_store(&hs_on, 1);
    atomic_store_explicit(&hs_conf.ready, 1, memory_order_release);
}

int lh_heapsites_recording(size_t *sample_bytes)
{
    if (sample_bytes)
        *sample_bytes = (size_t)atomic_load(&hs_conf.mean);
    return atomic_load(&hs_on);
}

void lh_heapsites_stop(void)
{
    if (!atomic_exchange(&hs_on, 0))
        return;
    lh_heap_set_hook(NULL, NULL);
    /* Blocks freed from now on are not seen: their samples must go now,
     * or they would count as live at the next start.  A hook still
     * running on another thread may add one after this; it is dropped
     * when its block is freed while recording, or its address reused. */
    /* Every shard held at once, taken in the order fork takes them. */
    for (int i = 0; i < HS_SHARDS; i++) {
        hs_shard *sh = &hs_shards[i];
        lh_spin_lock(&sh->lock);
        if (sh->tab)
            memset(sh->tab, 0, sh->cap * sizeof *sh->tab);
        sh->used = 0;
        if (sh->nstat)
            memset(sh->stat, 0, (size_t)sh->nstat * sizeof *sh->stat);
    }
    for (size_t i = 0; i < sizeof hs_filter / sizeof *hs_filter; i++)
        atomic_store_explicit(&hs_filter[i], 0, memory_order_relaxed);
    for (int i = HS_SHARDS; i-- > 0;)
        lh_spin_unlock(&hs_shards[i].lock);
}

/* ---- snapshots ----------------------------------------------------------- */

struct lh_heapsnap {
    int n;
    double *bytes;
    double *count;
    double *abytes;         /* allocated since recording started */
    double *acount;
};

/* The largest stack count of a shard. */
static int shards_nstat(void)
{
    int n = 0;
    for (int i = 0; i < HS_SHARDS; i++) {
        lh_spin_lock(&hs_shards[i].lock);
        if (hs_shards[i].nstat > n)
            n = hs_shards[i].nstat;
        lh_spin_unlock(&hs_shards[i].lock);
    }
    return n;
}

/* The sums over shards into s (n stacks); 0 when a shard outgrew n
 * meanwhile (a stack interned since: the caller tries again, larger). */
static int shards_sum(lh_heapsnap *s, int n)
{
    for (int k = 0; k < n; k++)
        s->bytes[k] = s->count[k] = s->abytes[k] = s->acount[k] = 0;
    for (int i = 0; i < HS_SHARDS; i++) {
        hs_shard *sh = &hs_shards[i];
        lh_spin_lock(&sh->lock);
        int m = sh->nstat;
        for (int k = 0; k < m && k < n; k++) {
            s->bytes[k] += sh->stat[k].bytes;
            s->count[k] += sh->stat[k].count;
            s->abytes[k] += sh->stat[k].abytes;
            s->acount[k] += sh->stat[k].acount;
        }
        lh_spin_unlock(&sh->lock);
        if (m > n)
            return 0;
    }
    return 1;
}

lh_heapsnap *lh_heapsites_snapshot(void)
{
    if (!atomic_load(&hs_started))
        return NULL;
    for (int tries = 0; tries < 8; tries++) {
        lh_heapsnap *s = lh_raw_calloc(1, sizeof *s);
        if (!s)
            return NULL;
        int n = shards_nstat();
        size_t len = (size_t)(n ? n : 1);
        s->bytes = lh_raw_malloc(len * sizeof *s->bytes);
        s->count = lh_raw_malloc(len * sizeof *s->count);
        s->abytes = lh_raw_malloc(len * sizeof *s->abytes);
        s->acount = lh_raw_malloc(len * sizeof *s->acount);
        if (!s->bytes || !s->count || !s->abytes || !s->acount) {
            lh_heapsites_free(s);
            return NULL;
        }
        s->n = n;
        if (shards_sum(s, n))
            return s;
        lh_heapsites_free(s);
    }
    return NULL;
}

void lh_heapsites_free(lh_heapsnap *s)
{
    if (!s)
        return;
    lh_raw_free(s->bytes);
    lh_raw_free(s->count);
    lh_raw_free(s->abytes);
    lh_raw_free(s->acount);
    lh_raw_free(s);
}

/* Most allocations first (lh_sites_group sorts by bytes); few sites, an
 * insertion sort. */
static void sort_by_count(lh_site *s, int n)
{
    for (int i = 1; i < n; i++) {
        lh_site v = s[i];
        int j = i;
        for (; j > 0 && s[j - 1].count < v.count; j--)
            s[j] = s[j - 1];
        s[j] = v;
    }
}

/* Sites whose live (or, allocs, allocated) bytes or count grew. */
static int snap_diff(const lh_heapsnap *a, const lh_heapsnap *b,
                     lh_site *out, int max, int allocs)
{
    if (!a || !b || max <= 0)
        return 0;
    int n = b->n, m = 0;
    int *ids = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *ids);
    double *db = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *db);
    double *dc = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *dc);
    int written = 0;
    if (!ids || !db || !dc)
        goto out;
    for (int i = 0; i < n; i++) {
        const double *bb = allocs ? b->abytes : b->bytes;
        const double *bc = allocs ? b->acount : b->count;
        const double *ab = allocs ? a->abytes : a->bytes;
        const double *ac = allocs ? a->acount : a->count;
        double gb = bb[i] - (i < a->n ? ab[i] : 0);
        double gc = bc[i] - (i < a->n ? ac[i] : 0);
        /* Sums of doubles: anything under a byte (an allocation) is
         * rounding. */
        if (allocs ? gc < 0.5 : gb < 0.5)
            continue;
        ids[m] = i;
        db[m] = gb;
        dc[m] = gc > 0 ? gc : 0;
        m++;
    }
    written = lh_sites_group(ids, db, dc, m, out, max, NULL);
    if (allocs)
        sort_by_count(out, written);
out:
    lh_raw_free(ids);
    lh_raw_free(db);
    lh_raw_free(dc);
    return written;
}

int lh_heapsites_diff(const lh_heapsnap *a, const lh_heapsnap *b,
                      lh_site *out, int max)
{
    return snap_diff(a, b, out, max, 0);
}

int lh_heapsites_diff_stacks(const lh_heapsnap *a, const lh_heapsnap *b,
                             int *ids, double *bytes, double *count,
                             int max)
{
    if (!a || !b)
        return 0;
    int m = 0;
    for (int i = 0; i < b->n; i++) {
        double gb = b->bytes[i] - (i < a->n ? a->bytes[i] : 0);
        double gc = b->count[i] - (i < a->n ? a->count[i] : 0);
        if (gb < 0.5)           /* as snap_diff: under a byte is rounding */
            continue;
        if (m < max) {
            ids[m] = i;
            bytes[m] = gb;
            count[m] = gc > 0 ? gc : 0;
        }
        m++;
    }
    return m;
}

int lh_heapsites_alloc_diff(const lh_heapsnap *a, const lh_heapsnap *b,
                            lh_site *out, int max)
{
    return snap_diff(a, b, out, max, 1);
}
