/*
 * prefixalloc.c - a target embedding a prefixed allocator (je_malloc, as a
 * jemalloc built with --with-jemalloc-prefix=je_ exports), for
 * tests/e2e_targets.sh.  Its blocks come from a static arena the malloc
 * interposer never sees: prefixalloc_leak leaks 64 B per call, and
 * heap.live_bytes reads a flat line.  leakhound must refuse heap.* on it.
 */
#include <stddef.h>
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

static _Alignas(16) unsigned char arena[8 << 20];
static size_t used;

EXPORT void *je_malloc(size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size > sizeof arena - used)
        return NULL;
    void *p = arena + used;
    used += size;
    return p;
}

EXPORT void je_free(void *p)
{
    (void)p;            /* a bump arena: nothing comes back */
}

EXPORT int prefixalloc_leak(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return je_malloc(64) != NULL;
}

EXPORT int64_t leakhound_gauge_arena_bytes(void)
{
    return (int64_t)used;
}
