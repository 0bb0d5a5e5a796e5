/*
 * latefill.c - a cache that fills past the middle of the run
 * (tests/e2e_late_fill.sh).
 *
 * Each call inserts a new key.  lru_insert evicts the oldest entry past
 * LATEFILL_ENTRIES (8,000: full at 80% of a default run); map_insert
 * never evicts: the map never pruned.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
#define LATEFILL_ENTRIES 8000

struct entry {
    struct entry *next;
    char key[48];
};

/* a FIFO of entries: the oldest first */
struct list {
    struct entry *head, *tail;
    size_t n;
};

static struct list lru, map;

static void push(struct list *l, const uint8_t *d, size_t n)
{
    struct entry *e = calloc(1, sizeof *e);
    memcpy(e->key, d, n < sizeof e->key ? n : sizeof e->key);
    if (l->tail)
        l->tail->next = e;
    else
        l->head = e;
    l->tail = e;
    l->n++;
}

EXPORT int lru_insert(const uint8_t *d, size_t n)
{
    push(&lru, d, n);
    while (lru.n > LATEFILL_ENTRIES) {
        struct entry *old = lru.head;
        lru.head = old->next;
        free(old);
        lru.n--;
    }
    return 0;
}

EXPORT int map_insert(const uint8_t *d, size_t n)
{
    push(&map, d, n);
    return 0;
}
