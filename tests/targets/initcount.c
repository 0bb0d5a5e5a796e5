/*
 * initcount.c - a target that counts its LLVMFuzzerInitialize calls, for
 * tests/e2e_targets.sh: a process opens a target once, however many
 * threads run its workload, so the gauge target.init_calls reads 1.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

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
