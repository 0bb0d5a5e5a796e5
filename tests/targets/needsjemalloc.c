/*
 * needsjemalloc.c - a target linked against libjemalloc-fake.so (see
 * fakejemalloc.c), for tests/e2e_targets.sh.
 */
#include <stddef.h>
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

int fakejemalloc_version(void);

EXPORT int needsjemalloc_nop(const uint8_t *data, size_t size)
{
    (void)data;
    return (int)size + fakejemalloc_version();
}
