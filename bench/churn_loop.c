/*
 * churn_loop.c - the plain baseline of ci/bench's interposer figures: the
 * loop any harness-less driver would be.  dlopen LIB, call OP CALLS times
 * with an empty input, split over THREADS threads; no leakhound at all.
 *
 *     bench-churn-loop LIB OP CALLS [THREADS]
 *
 * Prints the calls per second of the loop alone (threads started to
 * threads joined), to set against the `rate` of a leakhound report.
 * Built a second time with the interposer linked in (CHURN_COUNTED:
 * bench-churn-loop-counted), where a fifth argument `sites` also records
 * allocation sites at the default rate (`sites=BYTES`: one sample per
 * BYTES on average): the interposer's own cost,
 * without the rest of `leakhound run`.  And a third time (CHURN_FORWARD:
 * bench-churn-loop-forward) with a malloc and free that only forward to
 * glibc's: the floor of any interposer that calls glibc's allocator for
 * every block (leakhound's does not when its heap cache has the block).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef CHURN_COUNTED
#include "diag.h"
#include "workload.h"     /* the default sampling period */
#endif

#ifdef CHURN_FORWARD
extern void *__libc_malloc(size_t size);
extern void __libc_free(void *p);

__attribute__((visibility("default"))) void *malloc(size_t size)
{
    return __libc_malloc(size);
}

__attribute__((visibility("default"))) void free(void *p)
{
    __libc_free(p);
}
#endif

typedef int (*op_fn)(const uint8_t *, size_t);
static op_fn op;
static long calls_each;

static void *loop(void *arg)
{
    for (long i = 0; i < calls_each; i++)
        op((const uint8_t *)"", 0);
    return arg;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s LIB OP CALLS [THREADS]\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW);
    op = lib ? (op_fn)(uintptr_t)dlsym(lib, argv[2]) : NULL;
    if (!op) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
#ifdef CHURN_COUNTED
    if (argc > 5 && strncmp(argv[5], "sites", 5) == 0)
        lh_heapsites_start(argv[5][5] == '=' ? strtoul(argv[5] + 6, NULL, 10)
                                             : LH_DEFAULT_SAMPLE_BYTES);
#endif
    int threads = argc > 4 ? atoi(argv[4]) : 1;
    if (threads < 1 || threads > 64)
        threads = 1;
    calls_each = atol(argv[3]) / threads;
    pthread_t t[64];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 1; i < threads; i++)
        pthread_create(&t[i], NULL, loop, NULL);
    loop(NULL);
    for (int i = 1; i < threads; i++)
        pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("%.0f calls/s\n", (double)(calls_each * threads) / secs);
    return 0;
}
