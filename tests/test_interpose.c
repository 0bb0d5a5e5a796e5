/*
 * test_interpose.c - unit tests for harness/probe/interpose.c.
 *
 * Linked with interpose.c and -rdynamic, so the malloc family defined there
 * is what every shared object (libc included) binds to, exactly as in the
 * leakhound worker.  The family is called through pointers obtained from
 * dlsym(RTLD_DEFAULT, ...), the way a dlopen'd library resolves it: the
 * compiler knows nothing about such a pointer, so it cannot fold or drop a
 * malloc/free pair the way it may for a direct call.
 *
 * One line per check, then "N passed, N failed"; exit status 1 on failure.
 * Output is printed while counting is suspended, so stdio's own buffer does
 * not show up in the counters being checked.
 */
#include "interpose.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* No longer declared by glibc's headers; interpose.c still defines it. */
void cfree(void *p);

/* ---- reporting -------------------------------------------------------- */

#include "check.h"

/* ---- counter deltas --------------------------------------------------- */

#define ANY INT64_MIN   /* "don't care" for a total in expect() */

static lh_heap_stats mark(void)
{
    lh_heap_stats s;
    lh_heap_read(&s);
    return s;
}

/* Reads the counters now (before anything prints) and compares the change
 * since *b with the expectation; on mismatch, describes it into why[]. */
static int delta_is(const lh_heap_stats *b, int64_t bytes, int64_t allocs,
                    int64_t tallocs, int64_t tfrees, char *why, size_t n)
{
    lh_heap_stats a = mark();
    int64_t db = a.live_bytes - b->live_bytes;
    int64_t da = a.live_allocs - b->live_allocs;
    int64_t dta = (int64_t)(a.total_allocs - b->total_allocs);
    int64_t dtf = (int64_t)(a.total_frees - b->total_frees);
    int ok = db == bytes && da == allocs
             && (tallocs == ANY || dta == tallocs)
             && (tfrees == ANY || dtf == tfrees);
    if (ok) {
        why[0] = '\0';
    } else {
        char ta[24] = "any", tf[24] = "any";
        if (tallocs != ANY)
            snprintf(ta, sizeof ta, "+%" PRId64, tallocs);
        if (tfrees != ANY)
            snprintf(tf, sizeof tf, "+%" PRId64, tfrees);
        snprintf(why, n,
                 " [got live %+" PRId64 " B %+" PRId64 " blocks, totals +%"
                 PRId64 "/+%" PRId64 "; want %+" PRId64 " B %+" PRId64
                 " blocks, totals %s/%s]",
                 db, da, dta, dtf, bytes, allocs, ta, tf);
    }
    return ok;
}

#define WHY_LEN 256

/* ---- the family, resolved as a library would -------------------------- */

static struct {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t);
    void (*free)(void *);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    void (*cfree)(void *);
} F;

/* glibc's own implementations, for behaviour comparisons only. */
static void (*libc_free)(void *);

static void *resolve(void *handle, const char *name)
{
    void *sym = dlsym(handle, name);
    if (!sym) {
        fprintf(stderr, "dlsym(%s): %s\n", name, dlerror());
        exit(2);
    }
    return sym;
}

static size_t usable(void *p)
{
    return malloc_usable_size(p);   /* glibc's, not interposed */
}

static int aligned(const void *p, size_t a)
{
    return ((uintptr_t)p & (a - 1)) == 0;
}

static void fill(void *p, size_t n, unsigned char seed)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        c[i] = (unsigned char)(seed + i * 7);
}

static int filled(const void *p, size_t n, unsigned char seed)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != (unsigned char)(seed + i * 7))
            return 0;
    return 1;
}

static int all_zero(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i])
            return 0;
    return 1;
}

/* ---- symbol resolution ------------------------------------------------ */

static void *object_base(void *addr)
{
    Dl_info info;
    if (!addr || !dladdr(addr, &info))
        return NULL;
    return info.dli_fbase;
}

static void test_resolution(void)
{
    static const struct {
        const char *name;
        void *ours;
    } family[] = {
        { "malloc", (void *)malloc },
        { "calloc", (void *)calloc },
        { "realloc", (void *)realloc },
        { "reallocarray", (void *)reallocarray },
        { "free", (void *)free },
        { "posix_memalign", (void *)posix_memalign },
        { "aligned_alloc", (void *)aligned_alloc },
        { "memalign", (void *)memalign },
        { "valloc", (void *)valloc },
        { "pvalloc", (void *)pvalloc },
        { "cfree", (void *)cfree },
    };
    void *exe = object_base((void *)test_resolution);

    for (size_t i = 0; i < sizeof family / sizeof family[0]; i++) {
        void *sym = dlsym(RTLD_DEFAULT, family[i].name);
        check(sym == family[i].ours && object_base(sym) == exe,
              "dlsym(RTLD_DEFAULT, \"%s\") is the executable's definition",
              family[i].name);
    }

    void *next = dlsym(RTLD_NEXT, "malloc");
    check(next && next != (void *)malloc && object_base(next) != exe,
          "libc's own malloc (RTLD_NEXT) is hidden behind ours");

    void *mus = dlsym(RTLD_DEFAULT, "malloc_usable_size");
    check(mus && object_base(mus) != exe,
          "malloc_usable_size is not interposed (glibc's)");
}

/* ---- malloc / free ---------------------------------------------------- */

static void test_malloc_free(void)
{
    static const size_t sizes[] = {
        0, 1, 8, 24, 25, 100, 1000, 4096, 65536,
        128 * 1024, 200 * 1000, 1 << 20, 64 << 20,
    };
    char why[WHY_LEN];

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        lh_heap_stats b = mark();
        char *p = F.malloc(n);
        size_t u = usable(p);
        int ok = p && u >= n
                 && delta_is(&b, (int64_t)u, 1, 1, 0, why, sizeof why);
        if (p && n)
            p[n - 1] = 1;   /* the block is really there */
        F.free(p);
        ok = ok && delta_is(&b, 0, 0, 1, 1, why, sizeof why);
        check(ok, "malloc(%zu) counts %zu B, free returns to baseline%s",
              n, u, why);
    }

    /* A batch held at once: the counters are sums, not just last-call. */
    {
        enum { N = 1000 };
        static void *blocks[N];
        lh_heap_stats b = mark();
        int64_t sum = 0;
        for (int i = 0; i < N; i++) {
            blocks[i] = F.malloc((size_t)(i * 37 % 3000));
            sum += (int64_t)usable(blocks[i]);
        }
        int ok = delta_is(&b, sum, N, N, 0, why, sizeof why);
        for (int i = N - 1; i >= 0; i -= 2)
            F.free(blocks[i]);
        for (int i = 0; i < N; i += 2)
            F.free(blocks[i]);
        ok = ok && delta_is(&b, 0, 0, N, N, why, sizeof why);
        check(ok, "1000 live blocks sum exactly, freed out of order%s", why);
    }

    {
        lh_heap_stats b = mark();
        errno = EILSEQ;
        F.free(NULL);
        int ok = errno == EILSEQ && delta_is(&b, 0, 0, 0, 0, why, sizeof why);
        check(ok, "free(NULL) is a no-op and keeps errno%s", why);
    }

    {
        void *p = F.malloc(64);
        errno = EILSEQ;
        F.free(p);
        check(errno == EILSEQ, "free(p) keeps errno");
    }

    {
        static const size_t huge[] = { SIZE_MAX, (size_t)PTRDIFF_MAX + 1,
                                       (size_t)PTRDIFF_MAX };
        for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
            lh_heap_stats b = mark();
            errno = 0;
            void *p = F.malloc(huge[i]);
            int ok = p == NULL && errno == ENOMEM
                     && delta_is(&b, 0, 0, 0, 0, why, sizeof why);
            check(ok, "malloc(%#zx) fails with ENOMEM, nothing counted%s",
                  huge[i], why);
        }
    }
}

/* ---- calloc ----------------------------------------------------------- */

/* total_alloc_bytes: usable bytes of every allocation, a realloc's new
 * block included, never lowered by a free (the allocation rate's source). */
static void test_alloc_bytes(void)
{
    lh_heap_stats b = mark();
    char *p = F.malloc(100);
    size_t u1 = usable(p);
    char *q = F.realloc(p, 5000);
    size_t u2 = usable(q);
    F.free(q);
    lh_heap_stats a = mark();
    check(q && a.total_alloc_bytes - b.total_alloc_bytes == u1 + u2,
          "total_alloc_bytes counts malloc and realloc's new block "
          "(+%llu, want +%zu)",
          (unsigned long long)(a.total_alloc_bytes - b.total_alloc_bytes),
          u1 + u2);
    b = mark();
    void *r = lh_raw_malloc(64);
    lh_raw_free(r);
    a = mark();
    check(a.total_alloc_bytes == b.total_alloc_bytes,
          "total_alloc_bytes leaves the harness's raw allocations out");
}

static void test_calloc(void)
{
    char why[WHY_LEN];

    /* Dirty a block first so a recycled chunk would show stale bytes. */
    static const size_t shapes[][2] = {
        { 10, 20 }, { 1, 1000 }, { 3, 4096 }, { 1000, 300 }, { 1, 5 << 20 },
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        size_t n = shapes[i][0], sz = shapes[i][1];
        char *dirty = F.malloc(n * sz);
        memset(dirty, 0xA5, usable(dirty));
        F.free(dirty);

        lh_heap_stats b = mark();
        char *p = F.calloc(n, sz);
        size_t u = usable(p);
        int ok = p && u >= n * sz && all_zero(p, n * sz)
                 && delta_is(&b, (int64_t)u, 1, 1, 0, why, sizeof why);
        F.free(p);
        ok = ok && delta_is(&b, 0, 0, 1, 1, why, sizeof why);
        check(ok, "calloc(%zu, %zu) is zeroed, counts %zu B%s",
              n, sz, u, why);
    }

    {
        lh_heap_stats b = mark();
        void *p = F.calloc(0, 16), *q = F.calloc(16, 0);
        int64_t want = (int64_t)(usable(p) + usable(q));
        int ok = p && q && delta_is(&b, want, 2, 2, 0, why, sizeof why);
        F.free(p);
        F.free(q);
        check(ok, "calloc with a zero count or size is a counted block%s",
              why);
    }

    static const size_t over[][2] = {
        { SIZE_MAX / 2 + 1, 2 }, { (size_t)1 << 33, (size_t)1 << 33 },
        { SIZE_MAX, SIZE_MAX }, { 3, SIZE_MAX / 3 + 1 },
    };
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
        lh_heap_stats b = mark();
        errno = 0;
        void *p = F.calloc(over[i][0], over[i][1]);
        int ok = p == NULL && errno == ENOMEM
                 && delta_is(&b, 0, 0, 0, 0, why, sizeof why);
        check(ok, "calloc(%#zx, %#zx) overflows: NULL, ENOMEM, nothing "
              "counted%s", over[i][0], over[i][1], why);
    }
}

/* ---- realloc / reallocarray ------------------------------------------- */

/* Resizes *p to n and checks the counters moved by exactly the usable
 * difference, with one free and one allocation in the totals. */
static int resize_ok(char **p, size_t n, size_t keep, char *why, size_t wn)
{
    size_t old = usable(*p);
    fill(*p, keep, 3);
    lh_heap_stats b = mark();
    char *q = F.realloc(*p, n);
    if (!q) {
        snprintf(why, wn, " [realloc returned NULL]");
        return 0;
    }
    *p = q;
    int ok = delta_is(&b, (int64_t)usable(q) - (int64_t)old, 0, 1, 1,
                      why, wn);
    if (ok && !filled(q, keep, 3)) {
        snprintf(why, wn, " [contents not preserved]");
        ok = 0;
    }
    return ok;
}

static void test_realloc(void)
{
    char why[WHY_LEN];
    lh_heap_stats start = mark();

    lh_heap_stats b = mark();
    char *p = F.realloc(NULL, 100);
    check(p && delta_is(&b, (int64_t)usable(p), 1, 1, 0, why, sizeof why),
          "realloc(NULL, 100) counts as an allocation%s", why);

    check(resize_ok(&p, 5000, 100, why, sizeof why),
          "realloc grow 100 -> 5000: delta is the usable difference%s", why);
    check(resize_ok(&p, 10, 10, why, sizeof why),
          "realloc shrink 5000 -> 10: delta is the usable difference%s", why);
    check(resize_ok(&p, 10, 10, why, sizeof why),
          "realloc to the same size: counts a free and an allocation%s", why);

    static const size_t huge[] = { (size_t)PTRDIFF_MAX, SIZE_MAX,
                                   SIZE_MAX - 4096 };
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        size_t u = usable(p);
        fill(p, u, 9);
        b = mark();
        errno = 0;
        char *q = F.realloc(p, huge[i]);
        int ok = q == NULL && errno == ENOMEM && usable(p) == u
                 && filled(p, u, 9)
                 && delta_is(&b, 0, 0, 0, 0, why, sizeof why);
        check(ok, "realloc(p, %#zx) fails: NULL, ENOMEM, block intact, "
              "nothing counted%s", huge[i], why);
    }

    size_t u = usable(p);
    b = mark();
    char *q = F.realloc(p, 0);
    check(q == NULL && delta_is(&b, -(int64_t)u, -1, 0, 1, why, sizeof why),
          "realloc(p, 0) frees p, returns NULL, counts a free%s", why);

    /* Blocks served by mmap: grow (mremap), shrink back into the heap. */
    b = mark();
    p = F.malloc(200 * 1000);
    check(p && delta_is(&b, (int64_t)usable(p), 1, 1, 0, why, sizeof why),
          "malloc(200000) (mmap-served) counts %zu B%s", usable(p), why);
    check(resize_ok(&p, 4 << 20, 200 * 1000, why, sizeof why),
          "realloc mmap block 200000 -> 4 MiB%s", why);
    check(resize_ok(&p, 100, 100, why, sizeof why),
          "realloc mmap block 4 MiB -> 100%s", why);
    check(resize_ok(&p, 3 << 20, 100, why, sizeof why),
          "realloc heap block 100 -> 3 MiB%s", why);
    F.free(p);

    check(delta_is(&start, 0, 0, ANY, ANY, why, sizeof why),
          "realloc sequence nets to zero%s", why);
}

static void test_reallocarray(void)
{
    char why[WHY_LEN];

    lh_heap_stats b = mark();
    char *p = F.reallocarray(NULL, 10, 10);
    check(p && delta_is(&b, (int64_t)usable(p), 1, 1, 0, why, sizeof why),
          "reallocarray(NULL, 10, 10) counts as an allocation%s", why);

    size_t old = usable(p);
    fill(p, 100, 5);
    b = mark();
    char *q = F.reallocarray(p, 100, 30);
    int ok = q && filled(q, 100, 5)
             && delta_is(&b, (int64_t)usable(q) - (int64_t)old, 0, 1, 1,
                         why, sizeof why);
    check(ok, "reallocarray grow 100 -> 3000 counts the difference%s", why);
    p = q ? q : p;

    static const size_t over[][2] = {
        { SIZE_MAX / 2, 3 }, { (size_t)1 << 32, (size_t)1 << 32 },
        { SIZE_MAX, 2 },
    };
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
        size_t u = usable(p);
        fill(p, u, 11);
        b = mark();
        errno = 0;
        q = F.reallocarray(p, over[i][0], over[i][1]);
        ok = q == NULL && errno == ENOMEM && usable(p) == u
             && filled(p, u, 11)
             && delta_is(&b, 0, 0, 0, 0, why, sizeof why);
        check(ok, "reallocarray(p, %#zx, %#zx) overflows: NULL, ENOMEM, "
              "block intact, nothing counted%s", over[i][0], over[i][1], why);
    }

    size_t u = usable(p);
    b = mark();
    q = F.reallocarray(p, 0, 8);
    check(q == NULL && delta_is(&b, -(int64_t)u, -1, 0, 1, why, sizeof why),
          "reallocarray(p, 0, 8) frees p like realloc(p, 0)%s", why);
}

/* ---- aligned allocation ----------------------------------------------- */

/* Allocates one block with `fn` (0..4), checks alignment and counters. */
static int aligned_case(int fn, size_t align, size_t size, char *why,
                        size_t wn)
{
    lh_heap_stats b = mark();
    void *p = NULL;
    int rc = 0;
    switch (fn) {
    case 0: rc = F.posix_memalign(&p, align, size); break;
    case 1: p = F.aligned_alloc(align, size); break;
    case 2: p = F.memalign(align, size); break;
    case 3: p = F.valloc(size); break;
    case 4: p = F.pvalloc(size); break;
    }
    if (rc != 0 || !p) {
        snprintf(why, wn, " [rc %d, p %p]", rc, p);
        return 0;
    }
    size_t u = usable(p);
    int ok = u >= size && delta_is(&b, (int64_t)u, 1, 1, 0, why, wn);
    if (ok && !aligned(p, align)) {
        snprintf(why, wn, " [%p not aligned]", p);
        ok = 0;
    }
    memset(p, 0x5A, size);
    F.free(p);
    return ok && delta_is(&b, 0, 0, 1, 1, why, wn);
}

static void test_aligned(void)
{
    static const char *const names[] = {
        "posix_memalign", "aligned_alloc", "memalign",
    };
    static const size_t aligns[] = {
        16, 32, 64, 256, 4096, 65536, 1 << 20,
    };
    static const size_t sizes[] = { 1, 100, 300 * 1000 };
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char why[WHY_LEN];

    for (int fn = 0; fn < 3; fn++)
        for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++)
            for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j++)
                check(aligned_case(fn, aligns[i], sizes[j], why, sizeof why),
                      "%s(align %zu, %zu): aligned and counted exactly%s",
                      names[fn], aligns[i], sizes[j], why);

    check(aligned_case(0, sizeof(void *), 10, why, sizeof why),
          "posix_memalign(align sizeof(void *)) is valid%s", why);
    for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j++) {
        check(aligned_case(3, page, sizes[j], why, sizeof why),
              "valloc(%zu): page-aligned and counted exactly%s",
              sizes[j], why);
        check(aligned_case(4, page, sizes[j], why, sizeof why),
              "pvalloc(%zu): page-aligned and counted exactly%s",
              sizes[j], why);
    }

    {
        void *p = F.pvalloc(1);
        check(p && usable(p) >= page,
              "pvalloc(1) rounds the size up to a page (%zu usable)",
              usable(p));
        F.free(p);
    }

    /* posix_memalign: a power-of-two multiple of sizeof(void *). */
    static const size_t bad[] = {
        0, 1, 2, 4, 12, 24, 48, 100, 3 * sizeof(void *), 4096 + 8,
        SIZE_MAX, SIZE_MAX / 2 + 2,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *sentinel = (void *)0x1234, *p = sentinel;
        lh_heap_stats b = mark();
        errno = EILSEQ;
        int rc = F.posix_memalign(&p, bad[i], 64);
        int ok = rc == EINVAL && p == sentinel && errno == EILSEQ
                 && delta_is(&b, 0, 0, 0, 0, why, sizeof why);
        check(ok, "posix_memalign(align %#zx) is EINVAL, *memptr and errno "
              "untouched, nothing counted%s", bad[i], why);
    }
    {
        void *sentinel = (void *)0x1234, *p = sentinel;
        lh_heap_stats b = mark();
        errno = EILSEQ;
        int rc = F.posix_memalign(&p, 64, SIZE_MAX - 1000);
        int ok = rc == ENOMEM && p == sentinel && errno == EILSEQ
                 && delta_is(&b, 0, 0, 0, 0, why, sizeof why);
        check(ok, "posix_memalign(64, huge) is ENOMEM, *memptr and errno "
              "untouched, nothing counted%s", why);
    }

    /* aligned_alloc as C17 and glibc >= 2.38 (whatever glibc this is):
     * an alignment that is not a power of two is EINVAL, nothing
     * counted; 1 is a power of two. */
    static const size_t odd[] = { 0, 3, 24, 48, 100, 4097, SIZE_MAX };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        lh_heap_stats b = mark();
        errno = 0;
        void *p = F.aligned_alloc(odd[i], 40);
        int ok = p == NULL && errno == EINVAL
                 && delta_is(&b, 0, 0, 0, 0, why, sizeof why);
        check(ok, "aligned_alloc(align %zu) is EINVAL, nothing counted%s",
              odd[i], why);
        F.free(p);
    }
    {
        lh_heap_stats b = mark();
        void *p = F.aligned_alloc(1, 40);
        int ok = p && delta_is(&b, (int64_t)usable(p), 1, 1, 0,
                               why, sizeof why);
        check(ok, "aligned_alloc(align 1, 40) is valid, counted%s", why);
        F.free(p);
    }

    {
        void *p = F.memalign(48, 10);
        check(p && aligned(p, 64),
              "memalign(48) rounds the alignment up to 64");
        F.free(p);
    }

    {
        lh_heap_stats b = mark();
        errno = 0;
        void *p = F.memalign(SIZE_MAX / 2 + 2, 16);
        int e1 = errno;
        errno = 0;
        void *q = F.aligned_alloc(SIZE_MAX / 2 + 2, 16);
        int e2 = errno;
        errno = 0;
        void *r = F.pvalloc(SIZE_MAX);
        int e3 = errno;
        errno = 0;
        void *s = F.valloc(SIZE_MAX);
        int e4 = errno;
        int ok = !p && !q && !r && !s && e1 == EINVAL && e2 == EINVAL
                 && e3 == ENOMEM && e4 == ENOMEM
                 && delta_is(&b, 0, 0, 0, 0, why, sizeof why);
        check(ok, "memalign/aligned_alloc huge alignment (EINVAL) and "
              "pvalloc/valloc huge size (ENOMEM) count nothing%s", why);
    }
}

static void test_cfree(void)
{
    char why[WHY_LEN];
    lh_heap_stats b = mark();
    void *p = F.malloc(77);
    F.cfree(p);
    check(delta_is(&b, 0, 0, 1, 1, why, sizeof why),
          "cfree is a counted free%s", why);
}

/* ---- libc's own callers ---------------------------------------------- */

static void test_libc_callers(void)
{
    char why[WHY_LEN];

    lh_heap_stats b = mark();
    char *s = strdup("leakhound");
    int ok = s && strcmp(s, "leakhound") == 0
             && delta_is(&b, (int64_t)usable(s), 1, 1, 0, why, sizeof why);
    free(s);
    ok = ok && delta_is(&b, 0, 0, 1, 1, why, sizeof why);
    check(ok, "strdup (inside libc) is counted%s", why);

    b = mark();
    s = strndup("abcdefgh", 3);
    ok = s && strcmp(s, "abc") == 0
         && delta_is(&b, (int64_t)usable(s), 1, 1, 0, why, sizeof why);
    free(s);
    ok = ok && delta_is(&b, 0, 0, 1, 1, why, sizeof why);
    check(ok, "strndup (inside libc) is counted%s", why);

    /* asprintf may grow a buffer internally; only the survivor is live. */
    b = mark();
    s = NULL;
    int n = asprintf(&s, "%0*d|%s", 3000, 42, "tail");
    ok = n == 3005 && s
         && delta_is(&b, (int64_t)usable(s), 1, ANY, ANY, why, sizeof why);
    free(s);
    ok = ok && delta_is(&b, 0, 0, ANY, ANY, why, sizeof why);
    check(ok, "asprintf (inside libc) is counted%s", why);

    /* open_memstream grows its buffer with realloc from inside libc, and
     * hands the buffer to the caller at fclose. */
    b = mark();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    for (int i = 0; f && i < 2000; i++)
        fprintf(f, "line %d\n", i);
    if (f)
        fclose(f);
    ok = buf && len > 10000
         && delta_is(&b, (int64_t)usable(buf), 1, ANY, ANY, why, sizeof why);
    free(buf);
    ok = ok && delta_is(&b, 0, 0, ANY, ANY, why, sizeof why);
    check(ok, "open_memstream (libc realloc) is counted%s", why);
}

/* ---- uncounted paths -------------------------------------------------- */

static void test_raw(void)
{
    char why[WHY_LEN];
    lh_heap_stats b = mark();

    char *p = lh_raw_malloc(100);
    char *z = lh_raw_calloc(100, 10);
    p = lh_raw_realloc(p, 300 * 1000);
    char *s = lh_raw_strdup("raw string");
    void *l = lh_lua_alloc(NULL, NULL, 4, 64);
    l = lh_lua_alloc(NULL, l, 64, 4096);
    int ok = p && z && s && l && all_zero(z, 1000)
             && strcmp(s, "raw string") == 0 && usable(p) >= 300 * 1000
             && delta_is(&b, 0, 0, 0, 0, why, sizeof why);
    check(ok, "lh_raw_malloc/calloc/realloc/strdup and lh_lua_alloc are "
          "not counted%s", why);

    void *r = lh_lua_alloc(NULL, l, 4096, 0);
    void *r2 = lh_lua_alloc(NULL, NULL, 4, 0);
    lh_raw_free(p);
    lh_raw_free(z);
    lh_raw_free(s);
    lh_raw_free(NULL);
    check(r == NULL && r2 == NULL
          && delta_is(&b, 0, 0, 0, 0, why, sizeof why),
          "lh_lua_alloc(nsize 0) frees and returns NULL; raw frees are not "
          "counted%s", why);
}

static void test_suspend(void)
{
    char why[WHY_LEN];
    lh_heap_stats b = mark();

    lh_heap_suspend();
    void *p = F.malloc(100);
    F.free(p);
    void *q = F.calloc(1, 50);
    q = F.realloc(q, 5000);
    lh_heap_resume();
    check(delta_is(&b, 0, 0, 0, 0, why, sizeof why),
          "suspended malloc/free/calloc/realloc are not counted%s", why);

    lh_heap_suspend();
    lh_heap_suspend();
    lh_heap_resume();
    void *r = F.malloc(30);
    int ok = delta_is(&b, 0, 0, 0, 0, why, sizeof why);
    lh_heap_resume();
    check(ok, "suspension nests (still suspended after one resume)%s", why);

    void *s = F.malloc(30);
    check(delta_is(&b, (int64_t)usable(s), 1, 1, 0, why, sizeof why),
          "counting resumes after the last resume%s", why);
    F.free(s);

    lh_heap_suspend();
    F.free(q);
    F.free(r);
    lh_heap_resume();
    check(delta_is(&b, 0, 0, 1, 1, why, sizeof why),
          "suspended frees are not counted%s", why);

    lh_heap_resume();     /* unbalanced: must not wrap into "suspended" */
    b = mark();
    s = F.malloc(30);
    F.free(s);
    check(delta_is(&b, 0, 0, 1, 1, why, sizeof why),
          "an unbalanced resume leaves counting on%s", why);
}

/* ---- the hook --------------------------------------------------------- */

/* The hook runs inside malloc, which glibc declares `leaf`: everything it
 * writes is atomic so the compiler re-reads it after each call. */
#define MAX_EVENTS 16
static struct {
    void *_Atomic p;
    _Atomic size_t usable;
    _Atomic int is_free;
    _Atomic size_t usable_now;   /* malloc_usable_size(p) inside the hook */
} events[MAX_EVENTS];
static _Atomic int n_events, hook_depth, hook_max_depth, hook_allocs;

static void recording_hook(void *p, size_t u, int is_free)
{
    int saved_errno = errno;    /* the hook's duty (interpose.h) */
    int depth = atomic_fetch_add(&hook_depth, 1) + 1;
    if (depth > atomic_load(&hook_max_depth))
        atomic_store(&hook_max_depth, depth);
    int i = atomic_fetch_add(&n_events, 1);
    if (i < MAX_EVENTS) {
        events[i].p = p;
        events[i].usable = u;
        events[i].is_free = is_free;
        events[i].usable_now = usable(p);
    }
    /* A hook that allocates: must be neither counted nor hooked. */
    void *x = F.malloc(48);
    x = F.realloc(x, 96);
    F.free(x);
    atomic_fetch_add(&hook_allocs, 1);
    errno = EDOM;
    atomic_fetch_sub(&hook_depth, 1);
    errno = saved_errno;
}

static void hook_reset(void)
{
    atomic_store(&n_events, 0);
    atomic_store(&hook_max_depth, 0);
    memset(events, 0, sizeof events);
}

static int event_is(int i, void *p, size_t u, int is_free)
{
    return i < MAX_EVENTS && events[i].p == p && events[i].usable == u
           && events[i].is_free == is_free && events[i].usable_now == u;
}

static void test_hook(void)
{
    char why[WHY_LEN];

    lh_heap_set_hook(recording_hook, NULL);

    hook_reset();
    lh_heap_stats b = mark();
    errno = ERANGE;
    void *p = F.malloc(100);
    int e = errno;
    size_t u = usable(p);
    int ok = atomic_load(&n_events) == 1 && event_is(0, p, u, 0)
             && delta_is(&b, (int64_t)u, 1, 1, 0, why, sizeof why);
    check(ok, "hook called once after malloc with (p, usable, 0)%s", why);
    check(atomic_load(&hook_max_depth) == 1,
          "allocation inside the hook does not re-enter the hook");
    check(e == ERANGE, "errno unchanged by malloc with a hook that keeps "
          "it");

    hook_reset();
    b = mark();
    F.free(p);
    ok = atomic_load(&n_events) == 1 && event_is(0, p, u, 1)
         && delta_is(&b, -(int64_t)u, -1, 0, 1, why, sizeof why);
    check(ok, "hook called once before free with (p, usable, 1), block "
          "still valid%s", why);

    p = F.malloc(100);
    u = usable(p);
    hook_reset();
    void *q = F.realloc(p, 10000);
    size_t uq = usable(q);
    ok = atomic_load(&n_events) == 2 && event_is(0, p, u, 1)
         && event_is(1, q, uq, 0);
    check(ok, "realloc: hook sees free(old) then alloc(new)");

    hook_reset();
    b = mark();
    void *r = F.realloc(q, (size_t)PTRDIFF_MAX);
    ok = r == NULL && atomic_load(&n_events) == 2 && event_is(0, q, uq, 1)
         && event_is(1, q, uq, 0)
         && delta_is(&b, 0, 0, 0, 0, why, sizeof why);
    check(ok, "failed realloc: hook sees the block freed then live again, "
          "counters unchanged%s", why);

    hook_reset();
    r = F.realloc(q, 0);
    ok = r == NULL && atomic_load(&n_events) == 1 && event_is(0, q, uq, 1);
    check(ok, "realloc(p, 0): hook sees one free");

    /* Every allocating entry point reports exactly one allocation. */
    {
        void *blk[8] = { 0 };
        int rc;
        hook_reset();
        blk[0] = F.calloc(3, 7);
        rc = F.posix_memalign(&blk[1], 64, 10);
        blk[2] = F.aligned_alloc(128, 10);
        blk[3] = F.memalign(256, 10);
        blk[4] = F.valloc(10);
        blk[5] = F.pvalloc(10);
        blk[6] = F.reallocarray(NULL, 4, 4);
        blk[7] = F.realloc(NULL, 9);
        ok = rc == 0 && atomic_load(&n_events) == 8;
        for (int i = 0; ok && i < 8; i++)
            ok = event_is(i, blk[i], usable(blk[i]), 0);
        check(ok, "calloc, posix_memalign, aligned_alloc, memalign, valloc, "
              "pvalloc, reallocarray, realloc(NULL) each hook once");
        size_t ub[8];
        for (int i = 0; i < 8; i++)
            ub[i] = usable(blk[i]);
        hook_reset();
        for (int i = 0; i < 8; i++)
            F.free(blk[i]);
        ok = atomic_load(&n_events) == 8;
        for (int i = 0; ok && i < 8; i++)
            ok = event_is(i, blk[i], ub[i], 1);
        check(ok, "their frees each hook once");
    }

    hook_reset();
    F.free(NULL);
    p = F.malloc(SIZE_MAX);
    q = F.calloc(SIZE_MAX, 2);
    r = F.reallocarray(NULL, SIZE_MAX, 2);
    check(atomic_load(&n_events) == 0 && !p && !q && !r,
          "no hook for free(NULL) or failed allocations");

    hook_reset();
    lh_heap_suspend();
    p = F.malloc(10);
    F.free(p);
    lh_heap_resume();
    p = lh_raw_malloc(10);
    lh_raw_free(p);
    check(atomic_load(&n_events) == 0,
          "no hook while suspended or for lh_raw_*");

    lh_heap_set_hook(NULL, NULL);
    hook_reset();
    p = F.malloc(10);
    F.free(p);
    check(atomic_load(&n_events) == 0, "no hook after setting it to NULL");
}

/* ---- threads ---------------------------------------------------------- */

enum { THREADS = 8, ITERS = 100 * 1000, KEEP_EVERY = 1000, RING = 8 };

typedef struct {
    int id;
    int64_t allocs, frees;      /* counted operations this thread made */
    int nkept;
    void *kept[ITERS / KEEP_EVERY + 1];
} worker;

static _Atomic int start_flag;
static _Atomic uint64_t hook_alloc_events, hook_free_events;

static void counting_hook(void *p, size_t u, int is_free)
{
    (void)p;
    (void)u;
    atomic_fetch_add_explicit(is_free ? &hook_free_events
                                      : &hook_alloc_events,
                              1, memory_order_relaxed);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    void *ring[RING] = { 0 };
    uint32_t x = 2463534242u + (uint32_t)w->id * 7919u;

    while (!atomic_load(&start_flag))
        ;
    for (int i = 0; i < ITERS; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t n = 1 + x % 1024;
        if (i % 4999 == 0)
            n = 140 * 1000;          /* now and then an mmap-sized block */

        /* Free the ring slot's previous occupant (or keep it), so frees
         * are interleaved with allocations rather than paired. */
        int slot = i % RING;
        if (ring[slot]) {
            if (i % KEEP_EVERY == 0) {
                w->kept[w->nkept++] = ring[slot];
            } else {
                F.free(ring[slot]);
                w->frees++;
            }
            ring[slot] = NULL;
        }
        void *p;
        switch (i % 16) {
        case 3: p = F.calloc(1, n); break;
        case 7: p = F.memalign(64, n); break;
        case 11:
            p = F.malloc(n);
            w->allocs++;
            p = F.realloc(p, n * 2);   /* one free + one allocation */
            w->frees++;
            break;
        default: p = F.malloc(n); break;
        }
        w->allocs++;
        ((char *)p)[0] = (char)i;
        ring[slot] = p;
    }
    for (int s = 0; s < RING; s++) {
        if (ring[s]) {
            F.free(ring[s]);
            w->frees++;
        }
    }
    return NULL;
}

static void test_threads(void)
{
    static worker workers[THREADS];
    pthread_t tids[THREADS];
    char why[WHY_LEN];

    atomic_store(&hook_alloc_events, 0);
    atomic_store(&hook_free_events, 0);
    lh_heap_set_hook(counting_hook, NULL);

    /* Thread creation allocates (the new thread's DTV) on this thread:
     * keep it out of the counters being checked. */
    lh_heap_stats b = mark();
    lh_heap_suspend();
    for (int t = 0; t < THREADS; t++) {
        workers[t].id = t;
        pthread_create(&tids[t], NULL, worker_main, &workers[t]);
    }
    lh_heap_resume();
    atomic_store(&start_flag, 1);
    lh_heap_suspend();
    for (int t = 0; t < THREADS; t++)
        pthread_join(tids[t], NULL);
    lh_heap_resume();
    lh_heap_set_hook(NULL, NULL);

    int64_t kept = 0, kept_bytes = 0, allocs = 0, frees = 0;
    for (int t = 0; t < THREADS; t++) {
        allocs += workers[t].allocs;
        frees += workers[t].frees;
        kept += workers[t].nkept;
        for (int k = 0; k < workers[t].nkept; k++)
            kept_bytes += (int64_t)usable(workers[t].kept[k]);
    }
    int ok = kept > 0 && delta_is(&b, kept_bytes, kept, allocs, frees,
                                  why, sizeof why);
    check(ok, "%d threads x %d iterations: exactly %" PRId64 " blocks, %"
          PRId64 " B live; %" PRId64 " allocs, %" PRId64 " frees%s",
          THREADS, ITERS, kept, kept_bytes, allocs, frees, why);
    check(atomic_load(&hook_alloc_events) == (uint64_t)allocs
          && atomic_load(&hook_free_events) == (uint64_t)frees,
          "hook saw every counted event across threads (%" PRIu64
          " allocs, %" PRIu64 " frees)", atomic_load(&hook_alloc_events),
          atomic_load(&hook_free_events));

    /* Freed on another thread than the one that allocated them. */
    for (int t = 0; t < THREADS; t++)
        for (int k = 0; k < workers[t].nkept; k++)
            F.free(workers[t].kept[k]);
    check(delta_is(&b, 0, 0, allocs, frees + kept, why, sizeof why),
          "kept blocks freed from the main thread: back to baseline%s", why);
}


/* ---- per-thread counters: exit, fork, realloc totals ------------------ */

/* Counters are per thread, summed when read; a thread's counts must
 * outlive it, whoever takes over its counter block. */
#define WAVES 3
#define WAVE_THREADS 40         /* more than one chunk of blocks */
#define SHORT_ALLOCS 300

typedef struct {
    int id;
    void *kept;                 /* allocated here, freed by main */
    size_t kept_usable;
    int64_t allocs, frees;
    uint64_t alloc_bytes;
} short_lived;

static pthread_key_t late_key;

/* Runs at thread exit, in a later destructor round than the
 * interposer's own (its key was made first): the thread's counters have
 * been given back, and this free must still be counted. */
static void late_free(void *p)
{
    F.free(p);
}

static void *short_main(void *arg)
{
    short_lived *w = arg;
    void *ring[8] = { 0 };
    for (int i = 0; i < SHORT_ALLOCS; i++) {
        size_t n = 1 + (size_t)((i * 37 + w->id * 11) % 700);
        void *p = i % 5 == 0 ? F.calloc(1, n) : F.malloc(n);
        w->allocs++;
        w->alloc_bytes += usable(p);
        if (ring[i % 8]) {
            F.free(ring[i % 8]);
            w->frees++;
        }
        ring[i % 8] = p;
    }
    for (int i = 0; i < 8; i++) {
        F.free(ring[i]);
        w->frees++;
    }
    w->kept = F.malloc(64 + (size_t)w->id);
    w->kept_usable = usable(w->kept);
    w->allocs++;
    w->alloc_bytes += w->kept_usable;
    void *late = F.malloc(48);
    w->allocs++;
    w->alloc_bytes += usable(late);
    w->frees++;                 /* by late_free, at exit */
    pthread_setspecific(late_key, late);
    return NULL;
}

static int totals_is(const lh_heap_stats *b, uint64_t alloc_bytes,
                     char *why, size_t n)
{
    lh_heap_stats a = mark();
    uint64_t d = a.total_alloc_bytes - b->total_alloc_bytes;
    if (d == alloc_bytes) {
        why[0] = '\0';
        return 1;
    }
    snprintf(why, n, " [total_alloc_bytes +%" PRIu64 ", want +%" PRIu64 "]",
             d, alloc_bytes);
    return 0;
}

static void test_thread_exit(void)
{
    static short_lived w[WAVES][WAVE_THREADS];
    pthread_t tids[WAVE_THREADS];
    char why[WHY_LEN], why2[WHY_LEN];

    pthread_key_create(&late_key, late_free);
    int owned0, made0, owned, made;
    lh_heap_blocks(&owned0, &made0);
    lh_heap_stats b = mark();
    int64_t allocs = 0, frees = 0, kept = 0, kept_bytes = 0;
    uint64_t alloc_bytes = 0;
    for (int v = 0; v < WAVES; v++) {
        /* Creating and joining allocate on this thread (the new
         * thread's DTV): not counted. */
        lh_heap_suspend();
        for (int t = 0; t < WAVE_THREADS; t++) {
            w[v][t].id = v * WAVE_THREADS + t;
            pthread_create(&tids[t], NULL, short_main, &w[v][t]);
        }
        for (int t = 0; t < WAVE_THREADS; t++)
            pthread_join(tids[t], NULL);
        lh_heap_resume();
        for (int t = 0; t < WAVE_THREADS; t++) {
            allocs += w[v][t].allocs;
            frees += w[v][t].frees;
            alloc_bytes += w[v][t].alloc_bytes;
            kept++;
            kept_bytes += (int64_t)w[v][t].kept_usable;
        }
    }
    int ok = delta_is(&b, kept_bytes, kept, allocs, frees, why, sizeof why);
    int ok2 = totals_is(&b, alloc_bytes, why2, sizeof why2);
    lh_heap_blocks(&owned, &made);
    check(owned == owned0 && made <= made0 + WAVE_THREADS,
          "exited threads gave their counter blocks back (%d held, %d "
          "before; %d made for %d threads in waves of %d)", owned, owned0,
          made, WAVES * WAVE_THREADS, WAVE_THREADS);
    check(ok && ok2, "%d waves of %d threads that exited (one free each "
          "from a later key destructor): their %" PRId64 " allocs, %"
          PRId64 " frees, %" PRId64 " live blocks still counted%s%s",
          WAVES, WAVE_THREADS, allocs, frees, kept, why, why2);

    for (int v = 0; v < WAVES; v++)
        for (int t = 0; t < WAVE_THREADS; t++)
            F.free(w[v][t].kept);
    check(delta_is(&b, 0, 0, allocs, frees + kept, why, sizeof why),
          "their blocks freed by main after they exited: back to "
          "baseline%s", why);
    pthread_key_delete(late_key);
}

static void test_realloc_totals(void)
{
    char why[WHY_LEN], why2[WHY_LEN];
    lh_heap_stats b = mark();
    char *p = F.malloc(100);
    size_t u1 = usable(p);
    char *q = F.realloc(p, 5000);
    size_t u2 = usable(q);
    int ok = q && delta_is(&b, (int64_t)u2, 1, 2, 1, why, sizeof why) &&
             totals_is(&b, u1 + u2, why2, sizeof why2);
    check(ok, "malloc(100) then realloc to 5000: +%zu B allocated in all "
          "(both blocks), live %zu%s%s", u1 + u2, u2, why, ok ? "" : why2);

    lh_heap_stats c = mark();
    errno = 0;
    char *r = F.realloc(q, SIZE_MAX / 2);
    ok = !r && delta_is(&c, 0, 0, 0, 0, why, sizeof why) &&
         totals_is(&c, 0, why2, sizeof why2);
    check(ok, "a failed realloc changes no total%s%s", why, ok ? "" : why2);

    r = F.realloc(q, 0);
    ok = delta_is(&b, 0, 0, 2, 2, why, sizeof why) &&
         totals_is(&b, u1 + u2, why2, sizeof why2);
    check(ok, "realloc(p, 0) frees: back to baseline, nothing more "
          "allocated%s%s", why, ok ? "" : why2);
    F.free(r);
}

/* A thread that holds blocks and is parked while main forks. */
static int park_ready[2], park_go[2];
static void *held[16];

static void *parked_main(void *arg)
{
    for (int i = 0; i < 16; i++)
        held[i] = F.malloc(200);
    char c;
    if (write(park_ready[1], "r", 1) != 1 || read(park_go[0], &c, 1) != 1)
        return arg;
    for (int i = 0; i < 16; i++)
        F.free(held[i]);
    return arg;
}

/* In the child: only this thread is left.  Its counts, the vanished
 * thread's and the parent's up to the fork must all carry over. */
static int fork_child(const lh_heap_stats *at_fork)
{
    char why[WHY_LEN];
    int ok = delta_is(at_fork, 0, 0, 0, 0, why, sizeof why);
    size_t held_bytes = 0;
    for (int i = 0; i < 16; i++)
        held_bytes += usable(held[i]);
    void *p = F.malloc(1000);
    ok = ok && delta_is(at_fork, (int64_t)usable(p), 1, 1, 0, why,
                        sizeof why);
    /* Blocks of the thread that does not exist here. */
    for (int i = 0; i < 16; i++)
        F.free(held[i]);
    F.free(p);
    ok = ok && delta_is(at_fork, -(int64_t)held_bytes, -16, 1, 17, why,
                        sizeof why);
    /* A thread of the child's own, that exits. */
    lh_heap_suspend();
    pthread_t t;
    short_lived w = { .id = 1 };
    pthread_key_create(&late_key, late_free);
    pthread_create(&t, NULL, short_main, &w);
    pthread_join(t, NULL);
    lh_heap_resume();
    F.free(w.kept);
    ok = ok && delta_is(at_fork, -(int64_t)held_bytes, -16,
                        1 + w.allocs, 18 + w.frees, why, sizeof why);
    if (!ok)
        fprintf(stderr, "child:%s\n", why);
    return ok;
}

static void test_fork(void)
{
    pthread_t t;
    if (pipe(park_ready) != 0 || pipe(park_go) != 0) {
        check(0, "pipe: %s", strerror(errno));
        return;
    }
    lh_heap_suspend();
    pthread_create(&t, NULL, parked_main, NULL);
    lh_heap_resume();
    char c;
    if (read(park_ready[0], &c, 1) != 1) {
        check(0, "parked thread did not start");
        return;
    }
    lh_heap_stats at_fork = mark();
    int64_t held_bytes = 0;
    for (int i = 0; i < 16; i++)
        held_bytes += (int64_t)usable(held[i]);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fork_child(&at_fork) ? 0 : 1);
    int status = 0;
    waitpid(pid, &status, 0);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "fork with a thread holding blocks: the child counts the "
          "parent's and its own exactly (status %d)", status);

    char why[WHY_LEN];
    if (write(park_go[1], "g", 1) != 1)
        check(0, "write: %s", strerror(errno));
    lh_heap_suspend();
    pthread_join(t, NULL);
    lh_heap_resume();
    check(delta_is(&at_fork, -held_bytes, -16, 0, 16, why, sizeof why),
          "parent: the parked thread's frees counted after the fork%s", why);
    close(park_ready[0]);
    close(park_ready[1]);
    close(park_go[0]);
    close(park_go[1]);
}

/* ---- mapped memory ---------------------------------------------------- */

static struct {
    void *(*mmap)(void *, size_t, int, int, int, off_t);
    int (*munmap)(void *, size_t);
    void *(*mremap)(void *, size_t, size_t, int, ...);
} M;

static lh_mmap_stats mmark(void)
{
    lh_mmap_stats s;
    lh_mmap_read(&s);
    return s;
}

static int mdelta_is(const lh_mmap_stats *b, int64_t bytes, int64_t maps,
                     char *why, size_t n)
{
    lh_mmap_stats a = mmark();
    int64_t db = a.live_bytes - b->live_bytes;
    int64_t dm = a.live_maps - b->live_maps;
    int ok = db == bytes && dm == maps;
    if (ok)
        why[0] = '\0';
    else
        snprintf(why, n, " [got %+" PRId64 " B %+" PRId64 " maps; want %+"
                 PRId64 " B %+" PRId64 " maps]", db, dm, bytes, maps);
    return ok;
}

#define PG 4096
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW (PROT_READ | PROT_WRITE)

static int tag_seen, tag_len;

static void each_tag(int tag, size_t len, void *ud)
{
    (void)ud;
    if (tag == 42) {
        tag_seen++;
        tag_len += (int)len;
    }
}

static uintptr_t hook_ra;

static int tag_hook(uintptr_t ra)
{
    hook_ra = ra;
    return 42;
}

__attribute__((noinline))
static void *map_from_ignored(size_t n)
{
    /* Not a tail call: the return address must be in here. */
    void *volatile p = M.mmap(NULL, n, RW, ANON, -1, 0);
    return p;
}


static void *mt_worker(void *arg)
{
    void *keep[10];
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        void *p = M.mmap(NULL, PG, RW, ANON, -1, 0);
        if (i < 10)
            keep[i] = p;
        else
            M.munmap(p, PG);
    }
    return keep[0] == MAP_FAILED ? NULL : keep[9];
}

static void test_mmap(void)
{
    char why[WHY_LEN];
    lh_mmap_stats b = mmark();

    char *p = M.mmap(NULL, 3 * PG, RW, ANON, -1, 0);
    check(p != MAP_FAILED && mdelta_is(&b, 3 * PG, 1, why, sizeof why),
          "mmap 3 pages counts 12288 B in 1 mapping%s", why);
    M.munmap(p, 3 * PG);
    check(mdelta_is(&b, 0, 0, why, sizeof why), "munmap of it: back%s", why);

    p = M.mmap(NULL, 100, RW, ANON, -1, 0);
    check(mdelta_is(&b, PG, 1, why, sizeof why),
          "mmap of 100 B counts a whole page%s", why);
    M.munmap(p, 100);
    check(mdelta_is(&b, 0, 0, why, sizeof why),
          "munmap of 100 B unmaps the page%s", why);

    /* Partial unmaps: a hole splits a mapping in two. */
    p = M.mmap(NULL, 4 * PG, RW, ANON, -1, 0);
    M.munmap(p + PG, PG);
    check(mdelta_is(&b, 3 * PG, 2, why, sizeof why),
          "a hole in the middle: 3 pages left in 2 pieces%s", why);
    M.munmap(p, PG);
    check(mdelta_is(&b, 2 * PG, 1, why, sizeof why),
          "unmapping the first piece: 2 pages left%s", why);
    M.munmap(p + 3 * PG, PG);
    check(mdelta_is(&b, PG, 1, why, sizeof why),
          "unmapping the tail of the last piece: 1 page left%s", why);
    M.munmap(p + 2 * PG, PG);
    check(mdelta_is(&b, 0, 0, why, sizeof why),
          "and its last page: back%s", why);

    p = M.mmap(NULL, 4 * PG, RW, ANON, -1, 0);
    M.munmap(p + PG, PG);
    M.munmap(p, 4 * PG);
    check(mdelta_is(&b, 0, 0, why, sizeof why),
          "one munmap over two pieces and the hole between: back%s", why);

    /* MAP_FIXED replaces what was there. */
    p = M.mmap(NULL, 4 * PG, RW, ANON, -1, 0);
    char *q = M.mmap(p + PG, PG, RW, ANON | MAP_FIXED, -1, 0);
    check(q == p + PG && mdelta_is(&b, 4 * PG, 3, why, sizeof why),
          "MAP_FIXED over one page of 4: still 4 pages, in 3 mappings%s",
          why);
    M.munmap(p, 4 * PG);
    check(mdelta_is(&b, 0, 0, why, sizeof why),
          "unmapping all of it: back%s", why);

    /* mremap: grown (maybe moved), shrunk, moved with MREMAP_FIXED. */
    p = M.mmap(NULL, PG, RW, ANON, -1, 0);
    p[0] = 7;
    q = M.mremap(p, PG, 3 * PG, MREMAP_MAYMOVE);
    check(q != MAP_FAILED && q[0] == 7 &&
          mdelta_is(&b, 3 * PG, 1, why, sizeof why),
          "mremap 1 -> 3 pages: 12288 B, 1 mapping%s", why);
    p = M.mremap(q, 3 * PG, PG, 0);
    check(p == q && mdelta_is(&b, PG, 1, why, sizeof why),
          "mremap 3 -> 1 page: 4096 B%s", why);
    char *dst = M.mmap(NULL, 2 * PG, RW, ANON, -1, 0);
    q = M.mremap(p, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    check(q == dst && mdelta_is(&b, 2 * PG, 2, why, sizeof why),
          "mremap onto the first of 2 pages of another mapping: the moved "
          "page and the one left%s", why);
    /* dst's second page is still mapped and counted: */
    M.munmap(dst, 2 * PG);
    check(mdelta_is(&b, 0, 0, why, sizeof why),
          "unmapping the destination's range: back%s", why);

    /* A shared file mapping (memfd) counts like any other. */
    int fd = memfd_create("lh-test", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, 2 * PG) == 0) {
        p = M.mmap(NULL, 2 * PG, RW, MAP_SHARED, fd, 0);
        check(mdelta_is(&b, 2 * PG, 1, why, sizeof why),
              "a memfd mapping counts%s", why);
        M.munmap(p, 2 * PG);
        check(mdelta_is(&b, 0, 0, why, sizeof why),
              "and unmapping it: back%s", why);
    }
    if (fd >= 0)
        close(fd);

    /* Not the target's: glibc's own mappings, the harness's, suspended
     * threads'. */
    void *big = F.malloc(4 << 20);
    check(mdelta_is(&b, 0, 0, why, sizeof why),
          "malloc(4 MiB) (glibc maps it internally) is not mapped memory%s",
          why);
    F.free(big);
    pthread_t t;
    pthread_create(&t, NULL, mt_worker, NULL);
    void *kept;
    pthread_join(t, &kept);
    check(mdelta_is(&b, 10 * PG, 10, why, sizeof why),
          "a thread (stack mapped by glibc) keeping 10 of 1000 pages: 10 "
          "pages%s", why);
    lh_heap_suspend();
    p = M.mmap(NULL, PG, RW, ANON, -1, 0);
    lh_heap_resume();
    check(mdelta_is(&b, 10 * PG, 10, why, sizeof why),
          "a suspended thread's mmap is not counted%s", why);
    M.munmap(p, PG);
    q = lh_raw_mmap(NULL, PG, RW, ANON, -1, 0);
    check(mdelta_is(&b, 10 * PG, 10, why, sizeof why),
          "lh_raw_mmap is not counted%s", why);
    lh_raw_munmap(q, PG);

    /* The hook's tag stays with a mapping and its pieces. */
    lh_mmap_set_hook(tag_hook);
    p = M.mmap(NULL, 3 * PG, RW, ANON, -1, 0);
    lh_mmap_set_hook(NULL);
    M.munmap(p + PG, PG);
    tag_seen = tag_len = 0;
    lh_mmap_each(each_tag, NULL);
    check(tag_seen == 2 && tag_len == 2 * PG,
          "the hook's tag is kept by both pieces of a split mapping "
          "(%d pieces, %d B)", tag_seen, tag_len);
    M.munmap(p, 3 * PG);

    /* A caller told to be ignored (the Go runtime's x_cgo_mmap). */
    lh_mmap_stats c = mmark();
    lh_mmap_set_hook(tag_hook);
    void *g1 = map_from_ignored(PG);
    lh_mmap_set_hook(NULL);
    check(mdelta_is(&c, PG, 1, why, sizeof why),
          "before it is ignored, a caller's mapping counts%s", why);
    lh_mmap_ignore_caller(hook_ra, hook_ra + 1);
    check(mdelta_is(&c, 0, 0, why, sizeof why),
          "ignoring the caller drops what it mapped before%s", why);
    void *g2 = map_from_ignored(PG);
    check(mdelta_is(&c, 0, 0, why, sizeof why),
          "and what it maps after%s", why);
    M.munmap(g1, PG);
    M.munmap(g2, PG);
    check(mdelta_is(&c, 0, 0, why, sizeof why),
          "unmapping them changes nothing%s", why);

    /* Threads at once: 4 x (1000 mapped, 990 unmapped). */
    lh_mmap_stats d = mmark();
    pthread_t ts[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&ts[i], NULL, mt_worker, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(ts[i], NULL);
    check(mdelta_is(&d, 40 * PG, 40, why, sizeof why),
          "4 threads mapping and unmapping at once keep 40 pages%s", why);
}

/* ---- main ------------------------------------------------------------- */

int main(void)
{
    char why[WHY_LEN];

    F.malloc = (void *(*)(size_t))resolve(RTLD_DEFAULT, "malloc");
    F.calloc = (void *(*)(size_t, size_t))resolve(RTLD_DEFAULT, "calloc");
    F.realloc = (void *(*)(void *, size_t))resolve(RTLD_DEFAULT, "realloc");
    F.reallocarray = (void *(*)(void *, size_t, size_t))
        resolve(RTLD_DEFAULT, "reallocarray");
    F.free = (void (*)(void *))resolve(RTLD_DEFAULT, "free");
    F.posix_memalign = (int (*)(void **, size_t, size_t))
        resolve(RTLD_DEFAULT, "posix_memalign");
    F.aligned_alloc = (void *(*)(size_t, size_t))
        resolve(RTLD_DEFAULT, "aligned_alloc");
    F.memalign = (void *(*)(size_t, size_t))resolve(RTLD_DEFAULT, "memalign");
    F.valloc = (void *(*)(size_t))resolve(RTLD_DEFAULT, "valloc");
    F.pvalloc = (void *(*)(size_t))resolve(RTLD_DEFAULT, "pvalloc");
    F.cfree = (void (*)(void *))resolve(RTLD_DEFAULT, "cfree");
    libc_free = (void (*)(void *))resolve(RTLD_NEXT, "free");
    M.mmap = (void *(*)(void *, size_t, int, int, int, off_t))
        resolve(RTLD_DEFAULT, "mmap");
    M.munmap = (int (*)(void *, size_t))resolve(RTLD_DEFAULT, "munmap");
    M.mremap = (void *(*)(void *, size_t, size_t, int, ...))
        resolve(RTLD_DEFAULT, "mremap");
    lh_mmap_init();

    lh_heap_stats start = mark();

    test_resolution();
    test_malloc_free();
    test_alloc_bytes();
    test_calloc();
    test_realloc();
    test_reallocarray();
    test_aligned();
    test_cfree();
    test_libc_callers();
    test_raw();
    test_suspend();
    test_hook();
    test_threads();
    test_thread_exit();
    test_realloc_totals();
    test_fork();
    test_mmap();

    check(delta_is(&start, 0, 0, ANY, ANY, why, sizeof why),
          "whole run nets to zero live blocks and bytes%s", why);

    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
