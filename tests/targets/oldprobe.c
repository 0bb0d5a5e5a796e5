/*
 * oldprobe.c - a target exporting the Go probe's entry points as a probe
 * from before allocation counters did (no leakhound_go_alloc_counters),
 * for tests/e2e_rates.sh: a rate on go.allocs must be an error saying the
 * probe is older, never a flat line that passes.  Stubs: one goroutine,
 * an empty heap.
 */
#include <stddef.h>
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT int64_t leakhound_go_probe_version(void) { return 2; }
EXPORT int64_t leakhound_go_goroutines(void) { return 1; }
EXPORT void leakhound_go_settle(void) {}

EXPORT void leakhound_go_memstats(int64_t *out)
{
    out[0] = out[1] = out[2] = 0;
}

EXPORT int oldprobe_nop(const uint8_t *data, size_t size)
{
    (void)data;
    return (int)size;
}
