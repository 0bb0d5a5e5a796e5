/*
 * sizeleak.c - a size-dependent leak, for the growth-feedback benchmark.
 *
 * Records starting with 'C' keep their payload in a 16-slot cache that
 * evicts the oldest entry -- bounded, so not a leak -- except that the
 * eviction skips entries of 1 KiB or more, which then stay forever.  The
 * leak is only reachable with long payloads; no branch on the way tells
 * coverage that longer is better, but retained bytes do.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 16
#define BIG 1024

struct entry {
    struct entry *next;     /* the list of pinned big entries */
    size_t len;
    unsigned char data[];
};

static struct entry *slot[SLOTS];
static unsigned next_slot;
static struct entry *pinned;

__attribute__((visibility("default")))
int size_cache_put(const uint8_t *data, size_t size)
{
    if (size < 2 || data[0] != 'C')
        return 0;
    struct entry *e = malloc(sizeof *e + size - 1);
    if (!e)
        return 0;
    e->len = size - 1;
    memcpy(e->data, data + 1, size - 1);
    struct entry *old = slot[next_slot];
    if (old) {
        if (old->len >= BIG) {
            old->next = pinned;     /* the bug: "too big to drop now" */
            pinned = old;
        } else {
            free(old);
        }
    }
    slot[next_slot] = e;
    next_slot = (next_slot + 1) % SLOTS;
    return 0;
}
