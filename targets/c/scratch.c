/*
 * scratch.c - a request parser that needs a scratch buffer per call: a
 * hot path that allocates, and its twin that reuses one.  Neither leaks.
 *
 * A request is its bytes; parsing folds them to lower case into the
 * scratch buffer (SCRATCH bytes, the request cut to fit) and checksums
 * it.
 *
 * scratch_parse_alloc mallocs the scratch buffer on every call and frees
 * it before returning: one allocation (SCRATCH B, 264 usable) per call,
 * live memory flat.  Every leak invariant passes; only the allocation
 * rate (heap.allocs, heap.alloc_bytes per iteration) shows the cost.
 *
 * scratch_parse_reuse keeps one buffer per thread, made on its first
 * call (in warmup) and reused: no allocation per call.
 */
#include <stdlib.h>

#include "lh_target.h"

#define SCRATCH 256

static volatile uint64_t checksum;

static void parse(uint8_t *scratch, const uint8_t *data, size_t size)
{
    size_t n = size < SCRATCH ? size : SCRATCH;
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = data[i];
        scratch[i] = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
        h = (h ^ scratch[i]) * 0x100000001b3u;
    }
    checksum += h;
}

LH_EXPORT int scratch_parse_alloc(const uint8_t *data, size_t size)
{
    uint8_t *scratch = malloc(SCRATCH);
    if (!scratch)
        return -1;
    lh_escape(scratch);
    parse(scratch, data, size);
    free(scratch);
    return 0;
}

static _Thread_local uint8_t *kept;

LH_EXPORT int scratch_parse_reuse(const uint8_t *data, size_t size)
{
    if (!kept) {
        kept = malloc(SCRATCH);     /* once per thread, kept for good */
        if (!kept)
            return -1;
    }
    lh_escape(kept);
    parse(kept, data, size);
    return 0;
}
