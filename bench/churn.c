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

/* The same sizes in 63 batches of 16: 16 blocks allocated, then freed in
 * the order they came (a list built and dropped).  Only a cache that
 * keeps several blocks of a size helps here: the interposer's heap cache
 * cap (probe/heapcache.h) was chosen on it. */
LH_EXPORT int churn_batch_op(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    uint32_t x = 12345;
    void *batch[16];
    for (int i = 0; i < 1000; i += 16) {
        for (int j = 0; j < 16; j++) {
            x = x * 1103515245u + 12345u;
            batch[j] = malloc(16 + (x >> 16) % 497);
            lh_escape(batch[j]);
        }
        for (int j = 0; j < 16; j++)
            free(batch[j]);
    }
    return 0;
}
