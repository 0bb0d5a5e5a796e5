/*
 * gatetarget.c - a small library for the merge-gate tests, built twice:
 * with -DGATE_LEAKY (the leak is in) and without (the leak is fixed).
 *
 * gate_record keeps a copy of every record that starts with '!' on a
 * list nobody frees in the leaky build: reachable growth that only some
 * inputs trigger, as a fuzzer would find it.  gate_cache_put keeps one
 * entry per distinct key, so its memory plateaus at the number of keys
 * the workload cycles through: clean, but its peak moves with the key
 * space (what a stored baseline must notice).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

struct node {
    struct node *next;
    size_t len;
    unsigned char data[];
};

#ifdef GATE_LEAKY
static struct node *kept;
#endif

EXPORT int gate_record(const uint8_t *data, size_t size)
{
    struct node *n = malloc(sizeof *n + size);
    if (!n)
        return 0;
    n->len = size;
    memcpy(n->data, data, size);
#ifdef GATE_LEAKY
    if (size && data[0] == '!') {
        n->next = kept;
        kept = n;
        return 0;
    }
#endif
    free(n);
    return 0;
}

#define BUCKETS 4096

static struct node *table[BUCKETS];

static unsigned hash(const uint8_t *p, size_t n)
{
    unsigned h = 2166136261u;
    while (n--)
        h = (h ^ *p++) * 16777619u;
    return h % BUCKETS;
}

EXPORT int gate_cache_put(const uint8_t *data, size_t size)
{
    unsigned h = hash(data, size);
    for (struct node *e = table[h]; e; e = e->next)
        if (e->len == size && memcmp(e->data, data, size) == 0)
            return 0;
    struct node *n = malloc(sizeof *n + size);
    if (!n)
        return 0;
    n->len = size;
    memcpy(n->data, data, size);
    n->next = table[h];
    table[h] = n;
    return 0;
}
