/*
 * withjemalloc.c - a target linked with the system's -ljemalloc, for
 * tests/e2e_targets.sh (built when libjemalloc-dev is installed):
 * jemalloc_leak leaks 64 B of mallocx per call, which heap.* cannot see.
 */
#include <stddef.h>
#include <stdint.h>

#include <jemalloc/jemalloc.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT int jemalloc_leak(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return mallocx(64, 0) != NULL;
}
