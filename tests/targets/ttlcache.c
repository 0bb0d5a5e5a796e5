/*
 * ttlcache.c - a cache whose entries expire 20 ms after insertion, expiry
 * done lazily on later calls (tests/e2e_fuzz_ttl.sh).  A confirmation
 * replays an input thousands of times within milliseconds: nothing
 * expires during it, the heap grows as with a leak.  ttl_put_leaky never
 * frees an entry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

struct ent {
    struct ent *next;
    double at;              /* inserted, seconds */
    char *v;
};

static struct ent *head;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int put(const uint8_t *d, size_t n, int expire)
{
    double t = now();
    struct ent *e = malloc(sizeof *e);
    if (!e)
        return -1;
    e->v = malloc(n + 50);
    if (!e->v) {
        free(e);
        return -1;
    }
    memcpy(e->v, d, n);
    e->at = t;
    e->next = head;
    head = e;
    for (struct ent **pp = &head; expire && *pp;) {
        struct ent *x = *pp;
        if (t - x->at > 0.02) {
            *pp = x->next;
            free(x->v);
            free(x);
        } else {
            pp = &x->next;
        }
    }
    return 0;
}

EXPORT int ttl_put(const uint8_t *d, size_t n)
{
    return put(d, n, 1);
}

EXPORT int ttl_put_leaky(const uint8_t *d, size_t n)
{
    return put(d, n, 0);
}
