/*
 * churn.c - the allocator-bound op of ci/bench's interposer figures: each
 * call makes 1,000 malloc/free pairs of 16..512 bytes (the same sequence
 * every call) and keeps nothing, so the time is malloc's and whatever
 * counts it.
 */
#include <stdlib.h>

#include "lh_target.h"

LH_EXPORT int churn_op(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    uint32_t x = 12345;
    for (int i = 0; i < 1000; i++) {
        x = x * 1103515245u + 12345u;
        void *p = malloc(16 + (x >> 16) % 497);
        lh_escape(p);
        free(p);
    }
    return 0;
}
