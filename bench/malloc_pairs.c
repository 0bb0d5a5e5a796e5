/*
 * malloc_pairs.c - ns per malloc/free pair through the interposer, with
 * counting alone and with allocation sites recorded (at the default
 * sampling period).  A microbenchmark for ci/bench.
 *
 *     bench-malloc-pairs [PAIRS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "diag.h"
#include "workload.h"     /* the default sampling period */

#define LH_SAMPLE_BYTES LH_DEFAULT_SAMPLE_BYTES

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A few frames deep, as in a real program: the unwinder has work. */
__attribute__((noinline)) static void *leaf(size_t n)
{
    return malloc(n);
}

__attribute__((noinline)) static void *mid(size_t n)
{
    void *p = leaf(n);
    __asm__ volatile("" : : "r"(p) : "memory");
    return p;
}

__attribute__((noinline)) static double run(long pairs)
{
    uint32_t x = 12345;
    double t0 = now();
    for (long i = 0; i < pairs; i++) {
        x = x * 1103515245u + 12345u;
        size_t n = 16 + (x >> 16) % 497;    /* 16..512 bytes */
        free(mid(n));
    }
    return (now() - t0) * 1e9 / (double)pairs;
}

int main(int argc, char **argv)
{
    long pairs = argc > 1 ? atol(argv[1]) : 5000000;
    run(pairs / 10);                        /* warm up */
    double counting = run(pairs);
    lh_heapsites_start(LH_SAMPLE_BYTES);
    run(pairs / 10);
    double sites = run(pairs);
    printf("counting only:                 %.1f ns per malloc/free pair\n",
           counting);
    printf("sites recorded (every %d B):   %.1f ns per malloc/free pair "
           "(%.2fx)\n", LH_SAMPLE_BYTES, sites, sites / counting);
    return 0;
}
