/*
 * interpose.c - exact heap accounting by interposing the malloc family.
 *
 * The leakhound executable is linked with --export-dynamic, so the
 * definitions below win symbol lookup for every shared object, libc
 * included (strdup, fopen, ... call malloc through the PLT).  Each entry
 * point forwards to glibc's exported __libc_* implementation and, unless
 * the calling thread is suspended, adjusts three global counters.
 *
 * Rules this file keeps, because breaking any of them deadlocks or
 * recurses inside malloc:
 *   - nothing here calls the public malloc family (only __libc_* and
 *     malloc_usable_size, which never allocate);
 *   - thread-local state is initial-exec TLS, so reading it is a plain
 *     %fs-relative load and never goes through __tls_get_addr (which may
 *     allocate, and would then re-enter malloc);
 *   - counters are lock-free atomics with relaxed ordering: malloc may run
 *     in signal handlers of careless targets and under any lock a target
 *     holds, so it must not take one itself.
 *
 * Must be compiled with -fno-builtin, otherwise the compiler may recognise
 * the forwarding and size logic as the builtins they implement and fold a
 * call to malloc inside malloc.
 */
#include "interpose.h"

#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
 * Counters.  live_allocs is not stored: it is total_allocs - total_frees,
 * which saves one locked instruction per call.  Each counter, and the hook
 * pointer that every call reads, sits on its own 128-byte block: 64 is the
 * line size, but Intel's adjacent-line prefetcher moves lines in pairs, so
 * 64 would still let a writer of one counter evict the hook pointer.
 */
#define LH_LINE 128

static struct {
    _Alignas(LH_LINE) _Atomic int64_t v;
} live_bytes;

static struct {
    _Alignas(LH_LINE) _Atomic uint64_t v;
} total_allocs, total_frees;

static struct {
    _Alignas(LH_LINE) _Atomic(lh_alloc_hook) fn;
} alloc_hook;

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

static inline lh_alloc_hook current_hook(void)
{
    /* Acquire pairs with the release in lh_heap_set_hook, so whatever the
     * hook's owner set up before installing it is visible to the hook. */
    return atomic_load_explicit(&alloc_hook.fn, memory_order_acquire);
}

/* Kept out of line: the hook is the rare case and must not bloat the
 * forwarding functions. */
__attribute__((noinline, cold))
/* Inline and without an errno save: it runs on every counted call while
 * a hook is set.  free promises (since glibc 2.33) not to change errno, so
 * the hook must preserve it itself (heapsites.c does, on its slow paths). */
static inline void run_hook(lh_alloc_hook hook, void *p, size_t usable,
                            int is_free)
{
    quiet_depth++;
    hook(p, usable, is_free);
    quiet_depth--;
}

static inline void note_alloc(void *p)
{
    size_t usable = malloc_usable_size(p);
    atomic_fetch_add_explicit(&live_bytes.v, (int64_t)usable,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&total_allocs.v, 1, memory_order_relaxed);
    lh_alloc_hook hook = current_hook();
    if (hook)
        run_hook(hook, p, usable, 0);
}

/* Called before the block is released: the usable size must be read while
 * the chunk is still ours, and the hook must see the free before another
 * thread can be handed the same address. */
static inline void note_free(void *p)
{
    size_t usable = malloc_usable_size(p);
    lh_alloc_hook hook = current_hook();
    if (hook)
        run_hook(hook, p, usable, 1);
    atomic_fetch_sub_explicit(&live_bytes.v, (int64_t)usable,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&total_frees.v, 1, memory_order_relaxed);
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

    size_t old_usable = malloc_usable_size(p);
    lh_alloc_hook hook = current_hook();
    if (hook)
        run_hook(hook, p, old_usable, 1);

    void *q = __libc_realloc(p, size);
    if (q) {
        /* A resize is a free of the old block plus an allocation of the
         * new one, in the totals as for the hook; live_allocs (the
         * difference) does not move. */
        size_t new_usable = malloc_usable_size(q);
        atomic_fetch_add_explicit(&live_bytes.v,
                                  (int64_t)new_usable - (int64_t)old_usable,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&total_allocs.v, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&total_frees.v, 1, memory_order_relaxed);
        if (hook)
            run_hook(hook, q, new_usable, 0);
    } else if (size == 0) {
        /* glibc's realloc(p, 0) frees p and returns NULL. */
        atomic_fetch_sub_explicit(&live_bytes.v, (int64_t)old_usable,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&total_frees.v, 1, memory_order_relaxed);
    } else if (hook) {
        run_hook(hook, p, old_usable, 0);
    }
    return q;
}

/* ---- the interposed family ------------------------------------------- */

LH_EXPORT void *malloc(size_t size)
{
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
    if (p && counting())
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
    /* Frees first: a block whose free we see was allocated before, so
     * under concurrent traffic live_allocs errs high rather than going
     * transiently negative. */
    uint64_t frees = atomic_load_explicit(&total_frees.v,
                                          memory_order_relaxed);
    uint64_t allocs = atomic_load_explicit(&total_allocs.v,
                                           memory_order_relaxed);
    out->live_bytes = atomic_load_explicit(&live_bytes.v,
                                           memory_order_relaxed);
    out->live_allocs = (int64_t)(allocs - frees);
    out->total_allocs = allocs;
    out->total_frees = frees;
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

void lh_heap_set_hook(lh_alloc_hook hook)
{
    atomic_store_explicit(&alloc_hook.fn, hook, memory_order_release);
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
