/*
 * noisyleaks.c - slow leaks beside noise that outweighs them at the end
 * of a run (tests/e2e_noisy_blame.sh).
 *
 * Every call allocates scratch buffers kept in a ring of three, one in
 * sixteen up to 256 KiB: at any moment the ring may hold a large one.
 * request_rare leaks 1 KiB every 500th call, request_small 16 bytes per
 * call; request_clean only churns the ring.  The blame must go to the
 * leaking line, never to the ring's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

static uint64_t seed = 88172645463325252ull;

static uint64_t next_random(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

static void *ring[3];
static unsigned ring_at;

static __attribute__((noinline)) void scratch(void)
{
    size_t size = 1 + next_random() % (next_random() % 16 == 0 ? 262144
                                                                : 2048);
    void *p = malloc(size);                         /* the ring's line */
    memset(p, 1, size < 64 ? size : 64);
    free(ring[ring_at % 3]);
    ring[ring_at++ % 3] = p;
}

struct event {
    struct event *next;
    char body[1016];
};
static struct event *events;
static unsigned calls;

static __attribute__((noinline)) void record_event(const uint8_t *d,
                                                   size_t n)
{
    struct event *e = malloc(sizeof *e);            /* the rare leak */
    memcpy(e->body, d, n < sizeof e->body ? n : sizeof e->body);
    e->next = events;
    events = e;
}

EXPORT int request_rare(const uint8_t *d, size_t n)
{
    scratch();
    if (++calls % 500 == 0)
        record_event(d, n);
    scratch();
    return 0;
}

static void **kept;

EXPORT int request_small(const uint8_t *d, size_t n)
{
    (void)d;
    (void)n;
    scratch();
    void **p = malloc(16);                          /* the small leak */
    p[0] = kept;
    kept = p;
    scratch();
    return 0;
}

EXPORT int request_clean(const uint8_t *d, size_t n)
{
    (void)d;
    (void)n;
    scratch();
    scratch();
    return 0;
}
