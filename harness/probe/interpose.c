/*
 * interpose.c - exact heap accounting by interposing the malloc family;
 * mapped memory (mmap, munmap, mremap) at the end of the file.
 *
 * The leakhound executable is linked with --export-dynamic, so the
 * definitions below win symbol lookup for every shared object, libc
 * included (strdup, fopen, ... call malloc through the PLT).  Each entry
 * point forwards to glibc's exported __libc_* implementation and, unless
 * the calling thread is suspended, adds to the calling thread's counters.
 *
 * Rules this file keeps, because breaking any of them deadlocks or
 * recurses inside malloc:
 *   - nothing here calls the public malloc family (only __libc_* and
 *     malloc_usable_size, which never allocate);
 *   - thread-local state is initial-exec TLS, so reading it is a plain
 *     %fs-relative load and never goes through __tls_get_addr (which may
 *     allocate, and would then re-enter malloc);
 *   - counters are per-thread, written by their thread alone without a
 *     lock prefix, and attaching a thread to its counters is lock-free:
 *     malloc may run in signal handlers of careless targets and under any
 *     lock a target holds, so it must not take one itself.
 *
 * Must be compiled with -fno-builtin (probe/meson.build builds this file
 * alone so), otherwise the compiler may recognise the forwarding and size
 * logic as the builtins they implement and fold a call to malloc inside
 * malloc.  Nothing else needs it: memcpy and friends never allocate.
 */
#include "interpose.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "heapcache.h"
#include "lock.h"

/* Exported so interposition survives a -fvisibility=hidden build: a hidden
 * malloc would silently stop being what dlopen'd libraries bind to. */
#define LH_EXPORT __attribute__((visibility("default")))

/* glibc's real allocator.  These are public GLIBC_2.2.5 symbols; calling
 * them bypasses symbol lookup, so they reach glibc even though the
 * executable's malloc hides libc's. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);

/* Removed from glibc's headers in 2.26 but still exported as a compat
 * symbol; old binaries calling it must not free behind our back. */
void cfree(void *p);

/*
 * Counters.  Each thread writes its own block of counters and nobody else
 * writes it, so an update is a plain add to a line no other core wants: no
 * lock prefix, no line bouncing between threads.  lh_heap_read sums every
 * block.  live_bytes and live_allocs are not stored: they are the
 * differences of the totals, so malloc and free make two adds each.  A
 * block freed on another thread than the one that allocated it shows up
 * as one block's alloc and another's free; only the sum means anything.
 *
 * On x86-64 the add is one `add` to memory: an instruction is never split
 * by a signal, so a handler that mallocs on the same thread cannot lose
 * an update (a load, add, store in C could).  Elsewhere it is a relaxed
 * atomic add: its own line, uncontended, but a locked instruction.
 *
 * Blocks live in chunks mapped with the raw syscall and are never
 * unmapped; chunks form a push-only list (lock-free: CAS on the head), so
 * attaching, reading, fork and signal handlers never wait for a lock.  A
 * thread takes a free block at its first counted call (CAS on `owned`)
 * and gives it back from a pthread key destructor when it exits; the next
 * thread to attach takes it over, counts and all, so a dead thread's
 * counts are never lost and never need folding anywhere.  What a thread
 * allocates or frees after its destructor ran (other keys' destructors,
 * in later rounds) goes to one shared block with locked adds.  A thread
 * whose destructor cannot be registered keeps its block for good (exact,
 * a block wasted).  After fork the child's copies of the other threads'
 * blocks keep their counts (their memory is in the child too) and stay
 * owned; nothing runs their destructors.
 */
#define LH_LINE 128

/* The rare paths out of malloc and free.  (Not preserve_most, which
 * would spare the fast paths a register save or two: under valgrind it
 * corrupted the usable sizes returned through it.) */
#define LH_SLOW __attribute__((noinline, cold))

typedef struct tc_block {
    _Alignas(LH_LINE) uint64_t allocs;  /* written by the owner only */
    uint64_t frees;
    uint64_t alloc_bytes;
    uint64_t free_bytes;
    int owned;                  /* __atomic: 1 while a thread has it */
} tc_block;

#define TC_CHUNK_BLOCKS 31      /* with the header: 32 lines of 128 B */

/* Blocks are handed out in order, so a read sums only the first `used`
 * (one or two in a process with one or two threads: a read costs a few
 * loads, as the fuzz oracle's two per input need). */
typedef struct tc_chunk {
    _Alignas(LH_LINE) struct tc_chunk *next;
    int used;                   /* __atomic: blocks ever handed out */
    tc_block b[TC_CHUNK_BLOCKS];
} tc_chunk;

static tc_chunk *tc_head;       /* __atomic; push only */

/* Counts of threads past their destructor; locked adds (rare). */
static tc_block tc_late;

static _Thread_local tc_block *tc_mine
    __attribute__((tls_model("initial-exec")));
/* 1 once this thread's destructor has run. */
static _Thread_local int tc_exited
    __attribute__((tls_model("initial-exec")));

/* 0 not yet, 1 being created, 2 ready, 3 failed (no destructors). */
static int tc_key_state;
static pthread_key_t tc_key;

/* Read by every call, written rarely: a line of its own. */
static struct {
    _Alignas(LH_LINE) _Atomic(lh_alloc_hook) fn;
    const _Atomic uint8_t *_Atomic filter;
} alloc_hook;

/* Bytes until this thread's next allocation hook (lh_heap_sample_in). */
static _Thread_local int64_t sample_left
    __attribute__((tls_model("initial-exec")));

/* Usable size: 1 when the chunk header may be read directly (checked at
 * start-up against malloc_usable_size, see usable_init). */
static int fast_usable;

/*
 * Per-thread "do not count" depth.  lh_heap_suspend raises it, and so does
 * running the hook, which is how an allocation made inside the hook is
 * neither counted nor hooked again.  One variable keeps the fast path to a
 * single TLS load.
 */
static _Thread_local unsigned quiet_depth
    __attribute__((tls_model("initial-exec")));

/* ---- accounting ------------------------------------------------------ */

static inline int counting(void)
{
    return __builtin_expect(quiet_depth == 0, 1);
}

static inline void tc_add(uint64_t *c, uint64_t v)
{
#if defined(__x86_64__)
    __asm__ volatile("addq %1, %0" : "+m"(*c) : "er"(v));
#else
    __atomic_fetch_add(c, v, __ATOMIC_RELAXED);
#endif
}

/* The key destructor, at thread exit: the block, counts and all, goes
 * back for the next thread; this thread counts in tc_late from now on. */
static void tc_release(void *b)
{
    tc_block *blk = b;
    lh_hc_thread_exit();
    if (tc_mine == blk) {
        tc_mine = NULL;
        tc_exited = 1;
    }
    __atomic_store_n(&blk->owned, 0, __ATOMIC_RELEASE);
}

/* Arms this thread's destructor.  The key is made by the first thread to
 * attach (pthread_key_create does not allocate).  A key past glibc's
 * first 32 would make pthread_setspecific calloc (and glibc free it at
 * thread exit, behind the counters): such a key is not used. */
static void tc_arm(tc_block *b)
{
    int st = __atomic_load_n(&tc_key_state, __ATOMIC_ACQUIRE);
    if (st == 0) {
        int zero = 0;
        if (__atomic_compare_exchange_n(&tc_key_state, &zero, 1, 0,
                                        __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            st = pthread_key_create(&tc_key, tc_release) == 0 &&
                 tc_key < 32 ? 2 : 3;
            __atomic_store_n(&tc_key_state, st, __ATOMIC_RELEASE);
        } else {
            st = zero;
        }
    }
    if (st == 2)
        pthread_setspecific(tc_key, b);
}

/* A block given back by an exited thread, else a fresh one.  A fresh
 * block is claimed by its owned flag first and counted in `used` after:
 * `used` may briefly lag (a reader misses a block that holds nothing
 * yet), never lead. */
static tc_block *tc_take(void)
{
    tc_chunk *head = __atomic_load_n(&tc_head, __ATOMIC_ACQUIRE);
    for (int fresh = 0; fresh < 2; fresh++)
        for (tc_chunk *c = head; c; c = c->next) {
            int used = __atomic_load_n(&c->used, __ATOMIC_ACQUIRE);
            int lo = fresh ? used : 0, hi = fresh ? TC_CHUNK_BLOCKS : used;
            for (int i = lo; i < hi; i++) {
                int zero = 0;
                if (__atomic_load_n(&c->b[i].owned, __ATOMIC_RELAXED) ||
                    !__atomic_compare_exchange_n(&c->b[i].owned, &zero, 1, 0,
                                                 __ATOMIC_ACQUIRE,
                                                 __ATOMIC_RELAXED))
                    continue;
                /* Raise used past i (others may be raising it too). */
                int u = __atomic_load_n(&c->used, __ATOMIC_RELAXED);
                while (u < i + 1 &&
                       !__atomic_compare_exchange_n(&c->used, &u, i + 1, 1,
                                                    __ATOMIC_RELEASE,
                                                    __ATOMIC_RELAXED))
                    ;
                return &c->b[i];
            }
        }
    /* Every argument as wide as the kernel reads it: syscall() is
     * variadic. */
    tc_chunk *c = (tc_chunk *)syscall(SYS_mmap, (void *)NULL,
                                      (size_t)sizeof *c,
                                      (long)(PROT_READ | PROT_WRITE),
                                      (long)(MAP_PRIVATE | MAP_ANONYMOUS),
                                      (long)-1, (long)0);
    if (c == MAP_FAILED)
        return NULL;
    c->b[0].owned = 1;
    c->used = 1;
    c->next = __atomic_load_n(&tc_head, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&tc_head, &c->next, c, 1,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
    return &c->b[0];
}

/* This thread's block, taken (and its destructor armed) at the first
 * call; NULL past the destructor or without memory for a block. */
static tc_block *tc_attach(void)
{
    tc_block *b = tc_mine;
    if (b || tc_exited)
        return b;
    int saved = errno;
    b = tc_take();
    if (b && tc_mine) {
        /* A signal handler attached this thread meanwhile. */
        __atomic_store_n(&b->owned, 0, __ATOMIC_RELEASE);
        b = tc_mine;
    } else if (b) {
        tc_mine = b;
        tc_arm(b);
    }
    errno = saved;
    return b;
}

/* The slow path of the first counted call on a thread. */
LH_SLOW
static void tc_count_slow(int is_free, uint64_t bytes)
{
    tc_block *b = tc_attach();
    if (b) {
        tc_add(is_free ? &b->frees : &b->allocs, 1);
        tc_add(is_free ? &b->free_bytes : &b->alloc_bytes, bytes);
    } else {
        /* Past the destructor, or no memory for a block. */
        __atomic_fetch_add(is_free ? &tc_late.frees : &tc_late.allocs, 1,
                           __ATOMIC_RELAXED);
        __atomic_fetch_add(is_free ? &tc_late.free_bytes
                                   : &tc_late.alloc_bytes,
                           bytes, __ATOMIC_RELAXED);
    }
}

static inline void count_alloc(size_t usable)
{
    tc_block *b = tc_mine;
    if (__builtin_expect(b == NULL, 0)) {
        tc_count_slow(0, usable);
        return;
    }
    tc_add(&b->allocs, 1);
    tc_add(&b->alloc_bytes, usable);
}

static inline void count_free(size_t usable)
{
    tc_block *b = tc_mine;
    if (__builtin_expect(b == NULL, 0)) {
        tc_count_slow(1, usable);
        return;
    }
    tc_add(&b->frees, 1);
    tc_add(&b->free_bytes, usable);
}

/*
 * malloc_usable_size of a block from __libc_malloc and friends, from the
 * chunk header glibc keeps in the word before it: the chunk size (low 3
 * bits are flags) less the header, less one more word for a block mapped
 * on its own (IS_MMAPPED, bit 1), as glibc's musable() computes it for a
 * live chunk.  malloc_usable_size itself is a call through the PLT and
 * checks we do not need on every malloc and free.  usable_init compares
 * the two on blocks of many sizes, mapped ones included, at start-up, and
 * keeps the library call if they ever differ (another allocator, memory
 * tagging, a changed layout).
 */
LH_SLOW
static size_t usable_slow(void *p)
{
    return malloc_usable_size(p);
}

static inline size_t usable_size(void *p)
{
    if (__builtin_expect(fast_usable, 1)) {
        size_t h = ((const size_t *)p)[-1];
        return (h & ~(size_t)7) - ((h & 2) ? 2 : 1) * sizeof(size_t);
    }
    return usable_slow(p);
}

__attribute__((constructor))
static void usable_init(void)
{
    static const size_t sizes[] = { 0, 1, 8, 24, 25, 100, 512, 1000, 4096,
                                    70000, 200000, 1 << 20, 4 << 20 };
    /* First without touching a header: glibc's smallest chunk holds 3
     * words.  Under valgrind __libc_malloc is valgrind's, which reports
     * the size asked for, and reading before a block is an error. */
    void *p = __libc_malloc(1);
    int ok = p && malloc_usable_size(p) == 3 * sizeof(size_t);
    __libc_free(p);
    fast_usable = ok;
    for (size_t i = 0; ok && i < sizeof sizes / sizeof *sizes; i++) {
        void *q = __libc_memalign(64, sizes[i]);
        p = __libc_malloc(sizes[i]);
        ok = p && q && usable_size(p) == malloc_usable_size(p) &&
             usable_size(q) == malloc_usable_size(q);
        __libc_free(p);
        __libc_free(q);
    }
    fast_usable = ok;
    lh_hc_init(ok);
}

static inline lh_alloc_hook current_hook(void)
{
    /* Acquire pairs with the release in lh_heap_set_hook, so whatever the
     * hook's owner set up before installing it is visible to the hook. */
    return atomic_load_explicit(&alloc_hook.fn, memory_order_acquire);
}

/* Without an errno save: it runs on every sampled call while a hook is
 * set.  free promises (since glibc 2.33) not to change errno, so
 * the hook must preserve it itself (heapsites.c does, on its slow paths). */
LH_SLOW
static void run_hook(lh_alloc_hook hook, void *p, size_t usable,
                     int is_free)
{
    quiet_depth++;
    hook(p, usable, is_free);
    quiet_depth--;
}

/* The hook for an allocation, when this thread's countdown runs out. */
static inline void hook_alloc(lh_alloc_hook hook, void *p, size_t usable)
{
    sample_left -= (int64_t)usable;
    if (__builtin_expect(sample_left <= 0, 0))
        run_hook(hook, p, usable, 0);
}

/* The hook for a free, when the owner's filter may hold p: the filter
 * alone is loaded on every free (non-NULL exactly while a hook is set),
 * the hook only when the filter holds p's slot. */
static inline void hook_free(void *p, size_t usable)
{
    const _Atomic uint8_t *f = atomic_load_explicit(&alloc_hook.filter,
                                                    memory_order_acquire);
    if (f && __builtin_expect(atomic_load_explicit(&f[lh_heap_filter_slot(p)],
                                                   memory_order_relaxed) != 0,
                              0)) {
        lh_alloc_hook hook = current_hook();
        if (hook)
            run_hook(hook, p, usable, 1);
    }
}

static inline void note_alloc_sized(void *p, size_t usable)
{
    count_alloc(usable);
    lh_alloc_hook hook = current_hook();
    if (hook)
        hook_alloc(hook, p, usable);
}

static inline void note_alloc(void *p)
{
    note_alloc_sized(p, usable_size(p));
}

/* Called before the block is released: the usable size must be read while
 * the chunk is still ours, and the hook must see the free before another
 * thread can be handed the same address. */
static inline void note_free_sized(void *p, size_t usable)
{
    hook_free(p, usable);
    count_free(usable);
}

static inline void note_free(void *p)
{
    note_free_sized(p, usable_size(p));
}

/* Every allocating entry point ends here.  NULL (failure) counts nothing. */
static inline void *counted(void *p)
{
    if (p && counting())
        note_alloc(p);
    return p;
}

/*
 * realloc is the one call that frees and allocates at once.  The hook sees
 * the old block's free before glibc may recycle its address; if glibc then
 * fails, the old block is still live and the hook is told so again (the
 * counters, updated only afterwards, never move on failure).
 */
static void *counted_realloc(void *p, size_t size)
{
    if (!p)
        return counted(__libc_realloc(NULL, size));
    if (!counting())
        return __libc_realloc(p, size);

    size_t old_usable = usable_size(p);
    hook_free(p, old_usable);
    lh_alloc_hook hook = current_hook();

    void *q = __libc_realloc(p, size);
    if (q) {
        /* A resize is a free of the old block plus an allocation of the
         * new one, in the totals as for the hook; live_allocs (the
         * difference) does not move. */
        size_t new_usable = usable_size(q);
        count_free(old_usable);
        count_alloc(new_usable);
        if (hook)
            hook_alloc(hook, q, new_usable);
    } else if (size == 0) {
        /* glibc's realloc(p, 0) frees p and returns NULL. */
        count_free(old_usable);
    } else if (hook) {
        hook_alloc(hook, p, old_usable);
    }
    return q;
}

/* ---- the heap cache (heapcache.h) ------------------------------------
 *
 * malloc of a small size takes a block from the thread's cache when its
 * bin has one, free of a small chunk keeps it there: a hit never calls
 * glibc.  Counting and the hook are the same as for a block from glibc:
 * the cache is invisible to both (a cached block is freed as far as they
 * know).  calloc, realloc and the aligned family always go to glibc. */

/* A thread's first free: the cache goes on once the process-wide switch
 * is set and the thread's exit can flush its bins (the counters' key
 * destructor, tc_release: the thread is attached here if it was not). */
LH_SLOW
static int hc_start(lh_hc *c)
{
    int mode = lh_hc_mode();
    if (mode < 0)
        return 0;               /* before start-up: decide later */
    int armed = mode == 1 && tc_attach() &&
                __atomic_load_n(&tc_key_state, __ATOMIC_ACQUIRE) == 2;
    c->state = armed ? LH_HC_ON : LH_HC_OFF;
    return armed;
}

/* free through the cache: 0 when p is not for it (not small, mapped, or
 * the cache is off), and then nothing has been done. */
static inline int hc_free(void *p)
{
    lh_hc *c = &lh_hc_tls;
    int st = c->state;
    if (__builtin_expect(st != LH_HC_ON, 0) &&
        (st != LH_HC_UNSET || !hc_start(c)))
        return 0;               /* off (no call: valgrind's every free) */
    size_t h = ((const size_t *)p)[-1];     /* fast_usable is on */
    size_t slot = h >> 4;                   /* sizes are 16-byte multiples */
    if (slot >= LH_HC_SLOTS || (h & 2))     /* large, or IS_MMAPPED */
        return 0;
    if (__builtin_expect(((const uintptr_t *)p)[1] == lh_hc_key, 0))
        lh_hc_check_double(p, slot);        /* aborts on a double free */
    if (counting())
        note_free_sized(p, lh_hc_usable(slot));
    if (!lh_hc_put(c, p, slot))
        __libc_free(p);
    return 1;
}

/* ---- the interposed family ------------------------------------------- */

LH_EXPORT void *malloc(size_t size)
{
    lh_hc *c = &lh_hc_tls;
    if (size <= LH_HC_MAX_REQUEST && c->state == LH_HC_ON) {
        size_t slot = lh_hc_slot_of_request(size);
        void *p = lh_hc_take(c, slot);
        if (p) {
            if (counting())
                note_alloc_sized(p, lh_hc_usable(slot));
            return p;
        }
    }
    return counted(__libc_malloc(size));
}

LH_EXPORT void *calloc(size_t n, size_t size)
{
    /* __libc_calloc checks n * size for overflow (NULL, ENOMEM). */
    return counted(__libc_calloc(n, size));
}

LH_EXPORT void *realloc(void *p, size_t size)
{
    return counted_realloc(p, size);
}

LH_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    size_t bytes;
    /* As glibc: overflow is ENOMEM and leaves p alone; n * size == 0
     * reaches realloc and frees p. */
    if (__builtin_mul_overflow(n, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return counted_realloc(p, bytes);
}

LH_EXPORT void free(void *p)
{
    if (!p || hc_free(p))
        return;
    if (counting())
        note_free(p);
    __libc_free(p);
}

LH_EXPORT void cfree(void *p)
{
    free(p);
}

LH_EXPORT int posix_memalign(void **memptr, size_t alignment, size_t size)
{
    /* glibc's test: a power-of-two multiple of sizeof(void *).  (x & (x-1))
     * is also 0 for x == 0, hence the explicit check. */
    size_t words = alignment / sizeof(void *);
    if (alignment % sizeof(void *) != 0 || (words & (words - 1)) != 0
        || alignment == 0)
        return EINVAL;

    /* posix_memalign reports through its return value; keep errno as the
     * caller left it even though __libc_memalign sets it on failure. */
    int saved_errno = errno;
    void *p = __libc_memalign(alignment, size);
    errno = saved_errno;
    if (!p)
        return ENOMEM;
    *memptr = counted(p);
    return 0;
}

/* C17 and glibc >= 2.38: an alignment that is not a power of two is
 * EINVAL (glibc 2.36 rounded it up, as memalign does).  Do the same on
 * every glibc, so a target sees one behaviour under the harness. */
LH_EXPORT void *aligned_alloc(size_t alignment, size_t size)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    return counted(__libc_memalign(alignment, size));
}

LH_EXPORT void *memalign(size_t alignment, size_t size)
{
    return counted(__libc_memalign(alignment, size));
}

LH_EXPORT void *valloc(size_t size)
{
    return counted(__libc_valloc(size));
}

/* glibc's own pvalloc is memalign of whole pages; done here through
 * __libc_memalign because valgrind aborts on __libc_pvalloc (and the
 * heap-site calibration calls every entry point). */
LH_EXPORT void *pvalloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), bytes;
    if (__builtin_add_overflow(size, page - 1, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return counted(__libc_memalign(page, bytes & ~(page - 1)));
}

/* ---- counters, suspension, hook -------------------------------------- */

void lh_heap_read(lh_heap_stats *out)
{
    /* Frees first, all blocks, then allocations: a block whose free we
     * see was allocated before, so under concurrent traffic live counts
     * err high rather than going transiently negative. */
    uint64_t frees = __atomic_load_n(&tc_late.frees, __ATOMIC_RELAXED);
    uint64_t free_bytes = __atomic_load_n(&tc_late.free_bytes,
                                          __ATOMIC_RELAXED);
    tc_chunk *head = __atomic_load_n(&tc_head, __ATOMIC_ACQUIRE);
    for (tc_chunk *c = head; c; c = c->next)
        for (int i = 0, n = __atomic_load_n(&c->used, __ATOMIC_ACQUIRE);
             i < n; i++) {
            frees += __atomic_load_n(&c->b[i].frees, __ATOMIC_RELAXED);
            free_bytes += __atomic_load_n(&c->b[i].free_bytes,
                                          __ATOMIC_RELAXED);
        }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint64_t allocs = __atomic_load_n(&tc_late.allocs, __ATOMIC_RELAXED);
    uint64_t alloc_bytes = __atomic_load_n(&tc_late.alloc_bytes,
                                           __ATOMIC_RELAXED);
    /* From the same head: a chunk pushed since holds nothing yet that
     * the frees above could have seen. */
    for (tc_chunk *c = head; c; c = c->next)
        for (int i = 0, n = __atomic_load_n(&c->used, __ATOMIC_ACQUIRE);
             i < n; i++) {
            allocs += __atomic_load_n(&c->b[i].allocs, __ATOMIC_RELAXED);
            alloc_bytes += __atomic_load_n(&c->b[i].alloc_bytes,
                                           __ATOMIC_RELAXED);
        }
    out->live_bytes = (int64_t)(alloc_bytes - free_bytes);
    out->live_allocs = (int64_t)(allocs - frees);
    out->total_allocs = allocs;
    out->total_frees = frees;
    out->total_alloc_bytes = alloc_bytes;
}

void lh_heap_blocks(int *owned, int *made)
{
    *owned = *made = 0;
    for (tc_chunk *c = __atomic_load_n(&tc_head, __ATOMIC_ACQUIRE); c;
         c = c->next)
        for (int i = 0, n = __atomic_load_n(&c->used, __ATOMIC_ACQUIRE);
             i < n; i++) {
            (*made)++;
            *owned += __atomic_load_n(&c->b[i].owned, __ATOMIC_RELAXED);
        }
}

void lh_heap_suspend(void)
{
    quiet_depth++;
}

void lh_heap_resume(void)
{
    /* An unbalanced resume must not wrap the depth, which would silently
     * stop counting on this thread for good. */
    if (quiet_depth > 0)
        quiet_depth--;
}

/* The filter of a hook set without one: every free is its business. */
static _Atomic uint8_t every_free[1u << LH_HEAP_FILTER_BITS];

void lh_heap_set_hook(lh_alloc_hook hook, const _Atomic uint8_t *filter)
{
    /* A free loads the filter alone (hook_free), so it is non-NULL
     * exactly while a hook is set: set after the hook, cleared before
     * it.  (A free that sees the old filter and the new hook only calls
     * the new hook for more or fewer frees, as it would have a moment
     * earlier or later.) */
    if (hook && !filter) {
        if (!atomic_load_explicit(&every_free[0], memory_order_relaxed))
            for (size_t i = 0; i < sizeof every_free; i++)
                atomic_store_explicit(&every_free[i], 1,
                                      memory_order_relaxed);
        filter = every_free;
    }
    if (!hook)
        atomic_store_explicit(&alloc_hook.filter, NULL,
                              memory_order_release);
    atomic_store_explicit(&alloc_hook.fn, hook, memory_order_release);
    if (hook)
        atomic_store_explicit(&alloc_hook.filter, filter,
                              memory_order_release);
}

void lh_heap_sample_in(int64_t bytes)
{
    sample_left = bytes;
}

int lh_heap_interposed(void)
{
    /* Through volatile pointers: the pair must really be called. */
    void *(*volatile m)(size_t) = malloc;
    void (*volatile f)(void *) = free;
    unsigned depth = quiet_depth;
    quiet_depth = 0;
    lh_heap_stats a, b, c;
    lh_heap_read(&a);
    void *p = m(1);
    lh_heap_read(&b);
    f(p);
    lh_heap_read(&c);
    quiet_depth = depth;
    return b.total_allocs != a.total_allocs &&
           c.total_frees != b.total_frees;
}

/* ---- mapped memory ----------------------------------------------------
 *
 * mmap, mmap64, munmap and mremap are interposed like malloc: calls from
 * the target (and any library but libc itself: glibc's malloc, pthread
 * stacks and the dynamic loader map through internal aliases that never
 * reach these) go to the raw syscalls, and each live mapping the target
 * made is kept in a table, start address -> length, so that an munmap of
 * part of one, of several at once, a MAP_FIXED over one or an mremap is
 * accounted exactly.  The harness maps through lh_raw_mmap (alloc.h).
 *
 * The table is open-addressed by start address, grown by raw mmap (never
 * malloc), under a spinlock (held across the syscall where the order of
 * updates matters, see mapped()).  An exact munmap of a whole mapping is
 * one lookup; anything else scans the table.  The hook runs outside it.
 */
typedef struct map_ent {
    uintptr_t start;            /* 0: empty */
    size_t len;
    uintptr_t ra;               /* the caller of mmap */
    int tag;                    /* from the hook (a stack id), or -1 */
} map_ent;

static map_ent *mt_tab;
static size_t mt_cap, mt_used;
static lh_spinlock mt_lock;
static _Atomic int64_t mt_bytes;
static _Atomic uint64_t mt_maps, mt_unmaps;
static _Atomic(lh_map_hook) map_hook;

/* Callers whose mappings are not the target's (the Go runtime's
 * x_cgo_mmap): [lo, hi) ranges, set rarely, read on every mmap. */
#define MT_IGNORE_MAX 8
static _Atomic uintptr_t mt_ignore[MT_IGNORE_MAX][2];
static atomic_int mt_nignore;

static size_t page_round(size_t n)
{
    static _Atomic size_t page_size;
    size_t page = atomic_load_explicit(&page_size, memory_order_relaxed);
    if (!page) {
        page = (size_t)getauxval(AT_PAGESZ);
        if (!page)
            page = 4096;
        atomic_store_explicit(&page_size, page, memory_order_relaxed);
    }
    return n > SIZE_MAX - page ? 0 : (n + page - 1) & ~(page - 1);
}

static void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
                      off_t off)
{
    long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    return (void *)r;   /* syscall() returns -1 and sets errno: MAP_FAILED */
}

static int sys_munmap(void *addr, size_t len)
{
    return (int)syscall(SYS_munmap, addr, len);
}

static inline size_t mt_slot(uintptr_t p, size_t cap)
{
    return (size_t)((((uint64_t)p >> 12) * 0x9e3779b97f4a7c15ull) >> 20) &
           (cap - 1);
}

/* Under mt_lock. */
static int mt_grow(void)
{
    size_t cap = mt_cap ? mt_cap * 2 : 4096;
    map_ent *t = sys_mmap(NULL, cap * sizeof *t, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return -1;
    for (size_t i = 0; i < mt_cap; i++) {
        if (!mt_tab[i].start)
            continue;
        size_t j = mt_slot(mt_tab[i].start, cap);
        while (t[j].start)
            j = (j + 1) & (cap - 1);
        t[j] = mt_tab[i];
    }
    if (mt_tab)
        sys_munmap(mt_tab, mt_cap * sizeof *mt_tab);
    mt_tab = t;
    mt_cap = cap;
    return 0;
}

/* Under mt_lock.  A start already there is a mapping unmapped behind our
 * back (a raw syscall): replaced. */
static void mt_put(uintptr_t start, size_t len, uintptr_t ra, int tag)
{
    if ((mt_used + 1) * 4 > mt_cap * 3 && mt_grow() < 0)
        return;                 /* not tracked, not counted */
    size_t j = mt_slot(start, mt_cap);
    while (mt_tab[j].start && mt_tab[j].start != start)
        j = (j + 1) & (mt_cap - 1);
    if (mt_tab[j].start) {
        atomic_fetch_sub_explicit(&mt_bytes, (int64_t)mt_tab[j].len,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&mt_unmaps, 1, memory_order_relaxed);
    } else {
        mt_used++;
    }
    mt_tab[j] = (map_ent){ start, len, ra, tag };
    atomic_fetch_add_explicit(&mt_bytes, (int64_t)len, memory_order_relaxed);
    atomic_fetch_add_explicit(&mt_maps, 1, memory_order_relaxed);
}

/* Under mt_lock: drop slot j (backward-shift deletion). */
static void mt_del_slot(size_t j)
{
    size_t mask = mt_cap - 1, hole = j;
    mt_used--;
    for (size_t k = (j + 1) & mask; mt_tab[k].start; k = (k + 1) & mask) {
        size_t home = mt_slot(mt_tab[k].start, mt_cap);
        if (((k - home) & mask) >= ((k - hole) & mask)) {
            mt_tab[hole] = mt_tab[k];
            hole = k;
        }
    }
    mt_tab[hole].start = 0;
}

/* Under mt_lock: [lo, hi) is no longer mapped.  Mappings inside it go,
 * mappings straddling it keep their parts outside (a hole in the middle
 * splits one in two).  The first entry that overlapped is copied to *was
 * (may be NULL; its start 0 when none did). */
static void mt_remove(uintptr_t lo, uintptr_t hi, map_ent *was)
{
    if (was)
        was->start = 0;
    if (!mt_used || hi <= lo)
        return;
    size_t j = mt_slot(lo, mt_cap);
    while (mt_tab[j].start && mt_tab[j].start != lo)
        j = (j + 1) & (mt_cap - 1);
    if (mt_tab[j].start == lo && mt_tab[j].len == hi - lo) {
        if (was)
            *was = mt_tab[j];
        atomic_fetch_sub_explicit(&mt_bytes, (int64_t)(hi - lo),
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&mt_unmaps, 1, memory_order_relaxed);
        mt_del_slot(j);
        return;
    }
    /* The slow way: every entry.  Pieces to put back are collected first
     * (a put may move entries the scan has yet to see). */
    map_ent keep[2 * 8];
    int nkeep = 0, again = 1;
    while (again) {
        again = 0;
        for (size_t i = 0; i < mt_cap; i++) {
            map_ent e = mt_tab[i];
            if (!e.start || e.start >= hi || e.start + e.len <= lo)
                continue;
            if (was && !was->start)
                *was = e;
            if (nkeep + 2 > (int)(sizeof keep / sizeof *keep)) {
                again = 1;      /* flush and go round again */
                break;
            }
            if (e.start < lo)
                keep[nkeep++] = (map_ent){ e.start, lo - e.start, e.ra,
                                           e.tag };
            if (e.start + e.len > hi)
                keep[nkeep++] = (map_ent){ hi, e.start + e.len - hi, e.ra,
                                           e.tag };
            atomic_fetch_sub_explicit(&mt_bytes, (int64_t)e.len,
                                      memory_order_relaxed);
            atomic_fetch_add_explicit(&mt_unmaps, 1, memory_order_relaxed);
            mt_del_slot(i);
            i--;                /* the shift may have moved one into i */
        }
        for (int k = 0; k < nkeep; k++) {
            /* A piece is the rest of a mapping, not a new one. */
            mt_put(keep[k].start, keep[k].len, keep[k].ra, keep[k].tag);
            atomic_fetch_sub_explicit(&mt_maps, 1, memory_order_relaxed);
            atomic_fetch_sub_explicit(&mt_unmaps, 1, memory_order_relaxed);
        }
        nkeep = 0;
    }
}

static int map_ignored(uintptr_t ra)
{
    int n = atomic_load_explicit(&mt_nignore, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (ra >= atomic_load_explicit(&mt_ignore[i][0],
                                       memory_order_relaxed) &&
            ra < atomic_load_explicit(&mt_ignore[i][1],
                                      memory_order_relaxed))
            return 1;
    return 0;
}

/* Whether a new mapping made by the caller at ra is the target's, and
 * its tag from the hook. */
static int map_counted(uintptr_t ra, int *tag)
{
    *tag = -1;
    if (!counting() || lh_forking() || map_ignored(ra))
        return 0;
    lh_map_hook hook = atomic_load_explicit(&map_hook, memory_order_acquire);
    if (hook) {
        int saved = errno;
        quiet_depth++;
        *tag = hook(ra);
        quiet_depth--;
        errno = saved;
    }
    return 1;
}

/*
 * Table updates are ordered with the syscalls that make them true: an
 * munmap, an mremap or a MAP_FIXED holds the lock across its syscall, so
 * an address the kernel frees and hands to another thread's mmap at once
 * is dropped from the table before that thread can put it back in.
 */
static void *mapped(void *addr, size_t len, int prot, int flags, int fd,
                    off_t off, uintptr_t ra)
{
    if (lh_forking())
        return sys_mmap(addr, len, prot, flags, fd, off);
    int tag = -1;
    int count = map_counted(ra, &tag);
    void *p;
    if (!(flags & MAP_FIXED)) {
        p = sys_mmap(addr, len, prot, flags, fd, off);
        if (p == MAP_FAILED || !count)
            return p;
        lh_spin_lock(&mt_lock);
    } else {
        lh_spin_lock(&mt_lock);
        p = sys_mmap(addr, len, prot, flags, fd, off);
        if (p != MAP_FAILED)    /* it replaced whatever was there */
            mt_remove((uintptr_t)p, (uintptr_t)p + page_round(len), NULL);
    }
    if (p != MAP_FAILED && count)
        mt_put((uintptr_t)p, page_round(len), ra, tag);
    lh_spin_unlock(&mt_lock);
    return p;
}

/* Both symbols by name: with _FILE_OFFSET_BITS=64 the headers rename a
 * definition of mmap to mmap64. */
LH_EXPORT void *lh_if_mmap(void *addr, size_t len, int prot, int flags,
                           int fd, off_t off) __asm__("mmap");
LH_EXPORT void *lh_if_mmap64(void *addr, size_t len, int prot, int flags,
                             int fd, off_t off) __asm__("mmap64");

LH_EXPORT void *lh_if_mmap(void *addr, size_t len, int prot, int flags,
                           int fd, off_t off)
{
    return mapped(addr, len, prot, flags, fd, off,
                  (uintptr_t)__builtin_return_address(0));
}

LH_EXPORT void *lh_if_mmap64(void *addr, size_t len, int prot, int flags,
                             int fd, off_t off)
{
    return mapped(addr, len, prot, flags, fd, off,
                  (uintptr_t)__builtin_return_address(0));
}

LH_EXPORT int munmap(void *addr, size_t len)
{
    if (lh_forking())
        return sys_munmap(addr, len);
    lh_spin_lock(&mt_lock);
    int rc = sys_munmap(addr, len);
    if (rc == 0)
        mt_remove((uintptr_t)addr, (uintptr_t)addr + page_round(len), NULL);
    lh_spin_unlock(&mt_lock);
    return rc;
}

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

/* A mapping moved or resized keeps its owner and tag; one the table does
 * not hold stays untracked (whoever made it). */
LH_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags,
                       ...)
{
    void *want = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        want = va_arg(ap, void *);
        va_end(ap);
    }
    if (lh_forking())
        return (void *)syscall(SYS_mremap, old, old_len, new_len, flags,
                               want);
    lh_spin_lock(&mt_lock);
    void *q = (void *)syscall(SYS_mremap, old, old_len, new_len, flags,
                              want);
    if (q == MAP_FAILED) {
        lh_spin_unlock(&mt_lock);
        return q;
    }
    uintptr_t o = (uintptr_t)old;
    size_t on = page_round(old_len), nn = page_round(new_len);
    map_ent was;
    if (old_len == 0 || (flags & MREMAP_DONTUNMAP)) {
        /* A second mapping of old's pages; old stays. */
        was.start = 0;
        for (size_t i = 0; mt_used && i < mt_cap && !was.start; i++)
            if (mt_tab[i].start && mt_tab[i].start <= o &&
                o < mt_tab[i].start + mt_tab[i].len)
                was = mt_tab[i];
    } else {
        mt_remove(o, o + on, &was);
    }
    if (flags & MREMAP_FIXED)
        mt_remove((uintptr_t)q, (uintptr_t)q + nn, NULL);
    if (was.start)
        mt_put((uintptr_t)q, nn, was.ra, was.tag);
    lh_spin_unlock(&mt_lock);
    return q;
}

void lh_mmap_init(void)
{
    static atomic_int done;
    if (atomic_exchange(&done, 1))
        return;
    lh_heap_suspend();          /* the first registration allocates */
    lh_lock_across_fork(&mt_lock, 3);
    lh_heap_resume();
}

void lh_mmap_read(lh_mmap_stats *out)
{
    uint64_t unmaps = atomic_load_explicit(&mt_unmaps, memory_order_relaxed);
    uint64_t maps = atomic_load_explicit(&mt_maps, memory_order_relaxed);
    out->live_bytes = atomic_load_explicit(&mt_bytes, memory_order_relaxed);
    out->live_maps = (int64_t)(maps - unmaps);
    out->total_maps = maps;
    out->total_unmaps = unmaps;
}

void lh_mmap_set_hook(lh_map_hook hook)
{
    atomic_store_explicit(&map_hook, hook, memory_order_release);
}

int lh_mmap_ignore_caller(uintptr_t lo, uintptr_t hi)
{
    lh_spin_lock(&mt_lock);
    int n = atomic_load_explicit(&mt_nignore, memory_order_relaxed);
    if (n >= MT_IGNORE_MAX) {
        lh_spin_unlock(&mt_lock);
        return -1;
    }
    atomic_store_explicit(&mt_ignore[n][0], lo, memory_order_relaxed);
    atomic_store_explicit(&mt_ignore[n][1], hi, memory_order_relaxed);
    atomic_store_explicit(&mt_nignore, n + 1, memory_order_release);
    /* What that caller mapped before it was known goes too. */
    for (size_t i = 0; mt_used && i < mt_cap; i++) {
        if (!mt_tab[i].start || mt_tab[i].ra < lo || mt_tab[i].ra >= hi)
            continue;
        atomic_fetch_sub_explicit(&mt_bytes, (int64_t)mt_tab[i].len,
                                  memory_order_relaxed);
        atomic_fetch_sub_explicit(&mt_maps, 1, memory_order_relaxed);
        mt_del_slot(i);
        i--;
    }
    lh_spin_unlock(&mt_lock);
    return 0;
}

int lh_mmap_each(void (*fn)(int tag, size_t len, void *ud), void *ud)
{
    int n = 0;
    lh_spin_lock(&mt_lock);
    for (size_t i = 0; mt_used && i < mt_cap; i++)
        if (mt_tab[i].start) {
            fn(mt_tab[i].tag, mt_tab[i].len, ud);
            n++;
        }
    lh_spin_unlock(&mt_lock);
    return n;
}

/* ---- for other calls that map (probe/shm.c) --------------------------- */

int lh_mmap_counted(uintptr_t ra, int *tag)
{
    return map_counted(ra, tag);
}

void lh_mmap_lock(void) { lh_spin_lock(&mt_lock); }
void lh_mmap_unlock(void) { lh_spin_unlock(&mt_lock); }

void lh_mmap_note_map(uintptr_t start, size_t len, uintptr_t ra, int tag)
{
    mt_remove(start, start + page_round(len), NULL);
    mt_put(start, page_round(len), ra, tag);
}

void lh_mmap_note_unmap(uintptr_t lo, size_t len)
{
    mt_remove(lo, lo + page_round(len), NULL);
}

size_t lh_mmap_len_at(uintptr_t start)
{
    if (!mt_used)
        return 0;
    size_t j = mt_slot(start, mt_cap);
    while (mt_tab[j].start && mt_tab[j].start != start)
        j = (j + 1) & (mt_cap - 1);
    return mt_tab[j].start ? mt_tab[j].len : 0;
}
