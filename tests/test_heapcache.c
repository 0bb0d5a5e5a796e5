/*
 * test_heapcache.c - the interposer's per-thread heap cache
 * (harness/probe/heapcache.c): blocks it hands out have the right size
 * and alignment, the counters stay exact through it, exiting threads give
 * their blocks back to glibc, a double free aborts with a message, fork
 * children keep working, and LEAKHOUND_HEAP_CACHE=0 turns it off.
 *
 * Linked like test_interpose.c (the interposer exported, the family
 * called through dlsym'd pointers).  Reads the cache's bins through
 * heapcache.h to check that the paths under test really used the cache.
 * The aborting cases run in a child (this binary again, with a mode
 * argument) through lh_child_run.
 *
 *     test-heapcache [double-free|double-free-full|write-after-free|off]
 */
#include "interpose.h"
#include "heapcache.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "child.h"

static struct {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    void *(*memalign)(size_t, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
} F;

static void *resolve(const char *name)
{
    void *sym = dlsym(RTLD_DEFAULT, name);
    if (!sym) {
        fprintf(stderr, "dlsym(%s): %s\n", name, dlerror());
        exit(2);
    }
    return sym;
}

static lh_heap_stats mark(void)
{
    lh_heap_stats s;
    lh_heap_read(&s);
    return s;
}

/* glibc's usable size for a request it serves from a non-mapped chunk. */
static size_t usable_for(size_t n)
{
    size_t chunk = (n + sizeof(size_t) + 15) & ~(size_t)15;
    return (chunk < 32 ? 32 : chunk) - sizeof(size_t);
}

static size_t cached(size_t slot)
{
    return lh_hc_tls.count[slot];
}

static size_t cached_all(void)
{
    size_t n = 0;
    for (size_t s = 0; s < LH_HC_SLOTS; s++)
        n += lh_hc_tls.count[s];
    return n;
}

/* Every slot's bin full, of blocks dirtied with `byte`. */
static void fill_bins(unsigned char byte)
{
    static void *b[LH_HC_CAP];
    for (size_t n = 0; n <= LH_HC_MAX_REQUEST; n += 16) {
        for (int i = 0; i < LH_HC_CAP; i++) {
            b[i] = F.malloc(n);
            memset(b[i], byte, malloc_usable_size(b[i]));
        }
        for (int i = 0; i < LH_HC_CAP; i++)
            F.free(b[i]);
    }
}

/* ---- sizes and alignment of blocks from the cache -------------------- */

static void test_sizes(void)
{
    /* Every request size the cache serves: free a block, take one. */
    int bad = 0, hits = 0;
    size_t bad_n = 0, bad_u = 0;
    for (size_t n = 0; n <= LH_HC_MAX_REQUEST + 40; n++) {
        void *p = F.malloc(n);
        size_t slot = malloc_usable_size(p) / 16 + 1;
        size_t before = slot < LH_HC_SLOTS ? cached(slot) : 0;
        F.free(p);
        hits += slot < LH_HC_SLOTS && cached(slot) == before + 1;
        void *q = F.malloc(n);
        size_t u = malloc_usable_size(q);
        if (u != usable_for(n) || ((uintptr_t)q & 15)) {
            bad++;
            bad_n = n;
            bad_u = u;
        }
        F.free(q);
    }
    check(hits > 0 && lh_hc_mode() == 1, "freed small blocks go to the "
          "cache (%d of the requests up to %d B)", hits, LH_HC_MAX_REQUEST);
    check(bad == 0, "malloc(n), n = 0..%d: usable size is glibc's for n "
          "and 16-aligned, from the cache or not (%d wrong; last: n %zu "
          "usable %zu)", LH_HC_MAX_REQUEST + 40, bad, bad_n, bad_u);

    /* Bins full of blocks of every class: each request takes the right
     * class, not a bigger or smaller neighbour. */
    fill_bins(0xa5);
    bad = 0;
    size_t all = cached_all();
    for (size_t n = 0; n <= LH_HC_MAX_REQUEST; n += 7) {
        void *q = F.malloc(n);
        if (malloc_usable_size(q) != usable_for(n))
            bad++;
        F.free(q);
    }
    check(all == (LH_HC_SLOTS - 2) * (size_t)LH_HC_CAP && bad == 0,
          "with every bin full (%zu blocks) each request is served from "
          "its own class (%d wrong)", all, bad);

    /* memalign'd blocks are ordinary chunks once freed: cached, then
     * served to malloc with the right size. */
    static const size_t aligns[] = { 32, 64, 256, 4096 };
    bad = 0;
    hits = 0;
    for (size_t a = 0; a < sizeof aligns / sizeof *aligns; a++)
        for (size_t n = 1; n <= 1000; n += 111) {
            size_t slot = usable_for(n) / 16 + 1;
            /* Empty the bin so the freed block is on top. */
            void *drain[LH_HC_CAP];
            int nd = 0;
            while (cached(slot))
                drain[nd++] = F.malloc(n);
            void *p = F.memalign(aligns[a], n);
            size_t pu = malloc_usable_size(p);
            F.free(p);
            int in = cached(slot) == 1;
            hits += in;
            void *q = F.malloc(n);
            if (((uintptr_t)p & (aligns[a] - 1)) ||
                (in && (q != p || malloc_usable_size(q) != pu)) ||
                malloc_usable_size(q) < n)
                bad++;
            F.free(q);
            while (nd)
                F.free(drain[--nd]);
        }
    check(bad == 0 && hits > 0, "memalign'd blocks: cached when freed "
          "(%d times), then served with glibc's usable size (%d wrong)",
          hits, bad);

    /* calloc never returns a cached block's old bytes. */
    fill_bins(0xa5);
    bad = 0;
    for (size_t n = 1; n <= LH_HC_MAX_REQUEST; n += 13) {
        unsigned char *p = F.calloc(1, n);
        for (size_t i = 0; i < n; i++)
            bad += p[i] != 0;
        F.free(p);
    }
    check(bad == 0, "calloc over bins full of dirty blocks: all zero");

    /* realloc of blocks from the cache, across classes and to a mapped
     * size, keeps the bytes. */
    bad = 0;
    for (size_t n = 1; n <= 1000; n += 97) {
        unsigned char *p = F.malloc(n);
        size_t have = n;
        for (size_t i = 0; i < have; i++)
            p[i] = (unsigned char)(i * 7 + n);
        static const size_t to[] = { 3, 200, 1032, 5000, 300000, 40 };
        for (size_t k = 0; k < sizeof to / sizeof *to; k++) {
            size_t keep = have < to[k] ? have : to[k];
            p = F.realloc(p, to[k]);
            for (size_t i = 0; i < keep; i++)
                bad += p[i] != (unsigned char)(i * 7 + n);
            for (size_t i = 0; i < to[k]; i++)
                p[i] = (unsigned char)(i * 7 + n);
            have = to[k];
        }
        F.free(p);
    }
    check(bad == 0, "realloc of cached blocks to other classes and a "
          "mapped size keeps the contents");
}

/* ---- counters exact through the cache --------------------------------- */

enum { LIVE = 512 };

static void test_counters(void)
{
    static void *live[LIVE];
    static size_t live_u[LIVE];
    lh_heap_stats b = mark();
    int64_t bytes = 0, blocks = 0;
    uint64_t allocs = 0, frees = 0, alloc_bytes = 0;
    uint32_t x = 42;
    for (int i = 0; i < 60000; i++) {
        x = x * 1103515245u + 12345u;
        int k = (int)((x >> 8) % LIVE);
        if (live[k]) {
            bytes -= (int64_t)live_u[k];
            blocks--;
            frees++;
            if ((x >> 4) % 7 == 0) {
                /* realloc: a free and an allocation */
                size_t n = (x >> 12) % 1200;
                void *q = F.realloc(live[k], n ? n : 1);
                live[k] = q;
            } else {
                F.free(live[k]);
                live[k] = NULL;
                continue;
            }
        } else {
            size_t n = (x >> 12) % 1100;
            switch ((x >> 4) % 8) {
            case 0: live[k] = F.calloc(1, n); break;
            case 1: live[k] = F.memalign(64, n); break;
            case 2: live[k] = F.malloc(200000 + n); break;  /* mapped */
            case 3: {
                void *p = NULL;
                live[k] = F.posix_memalign(&p, 32, n) ? NULL : p;
                break;
            }
            default: live[k] = F.malloc(n); break;
            }
        }
        live_u[k] = malloc_usable_size(live[k]);
        bytes += (int64_t)live_u[k];
        blocks++;
        allocs++;
        alloc_bytes += live_u[k];
    }
    lh_heap_stats a = mark();
    int ok = a.live_bytes - b.live_bytes == bytes &&
             a.live_allocs - b.live_allocs == blocks &&
             a.total_allocs - b.total_allocs == allocs &&
             a.total_frees - b.total_frees == frees &&
             a.total_alloc_bytes - b.total_alloc_bytes == alloc_bytes;
    check(ok, "60000 mixed calls (malloc, calloc, realloc across classes, "
          "memalign, posix_memalign, mapped sizes), the cache on: live %+"
          PRId64 " B %+" PRId64 " blocks, totals +%" PRIu64 "/+%" PRIu64
          " (want %+" PRId64 " %+" PRId64 " +%" PRIu64 "/+%" PRIu64 ")",
          a.live_bytes - b.live_bytes, a.live_allocs - b.live_allocs,
          a.total_allocs - b.total_allocs, a.total_frees - b.total_frees,
          bytes, blocks, allocs, frees);
    for (int k = 0; k < LIVE; k++)
        F.free(live[k]);
    a = mark();
    check(a.live_bytes == b.live_bytes && a.live_allocs == b.live_allocs,
          "all freed (many into the cache): live back to baseline (%+"
          PRId64 " B, %+" PRId64 " blocks)", a.live_bytes - b.live_bytes,
          a.live_allocs - b.live_allocs);
}

/* ---- thread exit ------------------------------------------------------ */

enum { SHORT_THREADS = 60 };

static void *fill_main(void *arg)
{
    fill_bins(0x5a);
    *(size_t *)arg = cached_all();
    return NULL;
}

static void test_thread_exit(void)
{
    size_t held[SHORT_THREADS];
    lh_heap_stats b = mark();
    size_t base = mallinfo2().uordblks;
    for (int t = 0; t < SHORT_THREADS; t++) {
        /* Creating a thread allocates on this one (its DTV): not the
         * cache's doing, not counted. */
        pthread_t tid;
        lh_heap_suspend();
        pthread_create(&tid, NULL, fill_main, &held[t]);
        pthread_join(tid, NULL);
        lh_heap_resume();
    }
    long grown = (long)(mallinfo2().uordblks - base);
    int full = 1;
    for (int t = 0; t < SHORT_THREADS; t++)
        full &= held[t] == (LH_HC_SLOTS - 2) * (size_t)LH_HC_CAP;
    lh_heap_stats a = mark();
    check(full, "%d short threads each exited with every bin full "
          "(%zu blocks, at most %zu B)", SHORT_THREADS,
          (LH_HC_SLOTS - 2) * (size_t)LH_HC_CAP, LH_HC_BOUND_BYTES);
    /* Without the flush: SHORT_THREADS * LH_HC_BOUND_BYTES in use. */
    check(grown < (long)LH_HC_BOUND_BYTES, "their cached blocks went back "
          "to glibc at exit: mallinfo2().uordblks %+ld B (%d threads' bins "
          "hold %zu B)", grown, SHORT_THREADS,
          SHORT_THREADS * LH_HC_BOUND_BYTES);
    check(a.live_bytes == b.live_bytes && a.live_allocs == b.live_allocs,
          "and the counters never saw the cache (live %+" PRId64 " B)",
          a.live_bytes - b.live_bytes);
}

/* ---- fork ------------------------------------------------------------- */

static void test_fork(void)
{
    fill_bins(0x11);
    size_t parent_held = cached_all();
    pid_t pid = fork();
    if (pid == 0) {
        /* The child's copy of the bins: take every block, use, free. */
        lh_heap_stats b = mark();
        static void *p[LH_HC_CAP * 70];
        int n = 0, ok = cached_all() == parent_held;
        for (size_t s = 0; s <= LH_HC_MAX_REQUEST; s += 16)
            for (int i = 0; i < LH_HC_CAP; i++) {
                p[n] = F.malloc(s);
                memset(p[n], 0x22, s);
                n++;
            }
        ok = ok && cached_all() == 0;
        for (int i = 0; i < n; i++)
            F.free(p[i]);
        lh_heap_stats a = mark();
        ok = ok && a.live_bytes == b.live_bytes &&
             a.total_allocs - b.total_allocs == (uint64_t)n;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a fork child "
          "takes the bins it inherited (%zu blocks) and counts them "
          "(status %d)", parent_held, status);
    check(cached_all() == parent_held, "the parent's bins are its own "
          "(%zu blocks)", cached_all());
}

/* ---- what must abort, in a child -------------------------------------- */

static char self[4096];

/* Runs this binary in `mode`; its stderr in *log (static buffer). */
static lh_child_result run_mode(const char *mode, const char *env,
                                char *log, size_t len)
{
    char path[] = "/tmp/test-heapcache-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0)
        close(fd);
    char *argv[] = { self, (char *)mode, NULL };
    char *envv[] = { (char *)env, NULL };
    lh_child_result r = lh_child_run(argv, env ? envv : NULL, 20, path);
    log[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(log, 1, len - 1, f);
        log[n] = '\0';
        fclose(f);
    }
    unlink(path);
    return r;
}

static int aborted(lh_child_result r)
{
    return r.end == LH_CHILD_SIGNALLED && r.code == SIGABRT;
}

static void test_aborts(void)
{
    char log[4096];
    lh_child_result r = run_mode("double-free", NULL, log, sizeof log);
    check(aborted(r) && strstr(log, "leakhound: free(): double free "
                               "detected"),
          "a double free aborts with a message (end %d code %d: %s)",
          r.end, r.code, log);

    r = run_mode("double-free-full", NULL, log, sizeof log);
    check(aborted(r) && strstr(log, "double free detected"),
          "so does one whose bin filled up in between (end %d code %d)",
          r.end, r.code);

    r = run_mode("write-after-free", NULL, log, sizeof log);
    check(aborted(r) && strstr(log, "leakhound: malloc(): corrupted"),
          "a cached block overwritten after free aborts the malloc that "
          "would follow it (end %d code %d: %s)", r.end, r.code, log);

    /* Off: glibc's tcache catches the same double free. */
    r = run_mode("double-free", "LEAKHOUND_HEAP_CACHE=0", log, sizeof log);
    check(aborted(r) && strstr(log, "double free") &&
          !strstr(log, "leakhound"), "LEAKHOUND_HEAP_CACHE=0: glibc "
          "catches it instead (end %d code %d: %s)", r.end, r.code, log);

    r = run_mode("off", "LEAKHOUND_HEAP_CACHE=0", log, sizeof log);
    check(r.end == LH_CHILD_EXITED && r.code == 0,
          "LEAKHOUND_HEAP_CACHE=0: nothing is cached, counters exact "
          "(end %d code %d: %s)", r.end, r.code, log);
}

static int child_mode(const char *mode)
{
    if (strcmp(mode, "double-free") == 0) {
        char *p = F.malloc(100);
        F.free(p);
        F.free(p);
        return 0;               /* not reached */
    }
    if (strcmp(mode, "double-free-full") == 0) {
        void *p = F.malloc(200), *q[LH_HC_CAP];
        for (int i = 0; i < LH_HC_CAP; i++)
            q[i] = F.malloc(200);
        F.free(p);
        for (int i = 0; i < LH_HC_CAP; i++)
            F.free(q[i]);
        F.free(p);
        return 0;
    }
    if (strcmp(mode, "write-after-free") == 0) {
        uintptr_t *p = F.malloc(100);
        F.free(p);
        p[0] = ((uintptr_t)p >> 12) ^ 0x1008;   /* unaligned once unmangled */
        void *q = F.malloc(100);
        void *r = F.malloc(100);
        printf("%p %p\n", q, r);
        return 0;
    }
    if (strcmp(mode, "off") == 0) {
        lh_heap_stats b = mark();
        for (size_t n = 0; n < 2000; n += 3) {
            F.free(F.malloc(n));
            F.malloc(n);        /* kept: 667 live blocks */
        }
        lh_heap_stats a = mark();
        int ok = lh_hc_mode() == 0 && cached_all() == 0 &&
                 lh_hc_tls.state != LH_HC_ON &&
                 a.live_allocs - b.live_allocs == 667;
        if (!ok)
            fprintf(stderr, "mode %d, %zu cached, live %+" PRId64 "\n",
                    lh_hc_mode(), cached_all(),
                    a.live_allocs - b.live_allocs);
        return ok ? 0 : 1;
    }
    fprintf(stderr, "test-heapcache: unknown mode %s\n", mode);
    return 2;
}

int main(int argc, char **argv)
{
    F.malloc = (void *(*)(size_t))resolve("malloc");
    F.calloc = (void *(*)(size_t, size_t))resolve("calloc");
    F.realloc = (void *(*)(void *, size_t))resolve("realloc");
    F.free = (void (*)(void *))resolve("free");
    F.memalign = (void *(*)(size_t, size_t))resolve("memalign");
    F.posix_memalign = (int (*)(void **, size_t, size_t))
        resolve("posix_memalign");
    if (argc > 1)
        return child_mode(argv[1]);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';

    lh_heap_stats start = mark();
    test_sizes();
    test_counters();
    test_thread_exit();
    test_fork();
    test_aborts();
    lh_heap_stats end = mark();
    check(end.live_allocs == start.live_allocs, "whole run nets to zero "
          "live blocks (%+" PRId64 ")", end.live_allocs - start.live_allocs);
    return check_report();
}
