/*
 * initcount.c - a target that counts its LLVMFuzzerInitialize calls, for
 * tests/e2e_targets.sh: a process opens a target once, however many
 * threads run its workload, so the gauge target.init_calls reads 1.  And
 * a gauge that counts its reads made while a step ran.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

static atomic_int_fast64_t init_calls;

EXPORT int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    atomic_fetch_add(&init_calls, 1);
    return 0;
}

EXPORT int initcount_nop(const uint8_t *data, size_t size)
{
    (void)data;
    return (int)size;
}

EXPORT int64_t leakhound_gauge_init_calls(void)
{
    return atomic_load(&init_calls);
}

/* A gauge that is not thread-safe, as a target's need not be: it counts
 * the reads made while a step was running (the harness must read gauges
 * only with the stepping threads parked). */
static atomic_int in_step;
static atomic_int_fast64_t racing_reads;

EXPORT int initcount_busy(const uint8_t *data, size_t size)
{
    (void)data;
    atomic_fetch_add(&in_step, 1);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec <
           20000);
    atomic_fetch_sub(&in_step, 1);
    return (int)size;
}

EXPORT int64_t leakhound_gauge_racing_reads(void)
{
    if (atomic_load(&in_step) > 0)
        atomic_fetch_add(&racing_reads, 1);
    return atomic_load(&racing_reads);
}
