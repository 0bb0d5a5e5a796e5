/*
 * lockfree.c - a leak in bursts: a lock-free (Treiber) stack whose push
 * loses its node when the compare-and-swap fails, and its clean twin.
 *
 * Both ops push one 64-byte event onto a shared stack, and every 32nd
 * push drains it (atomic exchange of the head with NULL, then free every
 * node: safe without hazard pointers, since nothing pops).  Between
 * reading the head and the compare-and-swap a push fills its node (a
 * checksum of the input): the window in which another thread's push makes
 * the CAS fail.
 *
 *   lockfree_push_leaky   on a failed CAS takes a fresh node and retries:
 *                         the old one is lost (unreachable).  It leaks
 *                         only while two threads contend, so under
 *                         `threads = 2` heap.live_bytes climbs in bursts,
 *                         as the scheduler runs the two threads at once
 *                         or not; with one thread it never leaks.
 *   lockfree_push_clean   retries with the same node: the same contention
 *                         and retries, the stack as deep, nothing lost.
 *
 * Gauges: target.lockfree_retries (failed CAS, both ops),
 * target.lockfree_lost (nodes lost, the leaky op).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lh_target.h"

enum { PAYLOAD = 56, DRAIN_EVERY = 32, FILL_ROUNDS = 4,
       BIG_EVENT = 1024 };

struct node {
    struct node *next;
    uint8_t payload[PAYLOAD];
};

static _Atomic(struct node *) head;
static atomic_uint_fast64_t pushes;
static atomic_int_fast64_t retries, lost;

/* The work between reading the head and publishing the node: a digest
 * of the whole input, so it takes as long as the input is big; a big
 * event's push then sleeps in the window, so the other thread's push
 * lands in it whether the two threads have a core each or share one (a
 * yield only gave way to whatever else the core's queue held: on a busy
 * machine the threads seldom overlapped and the leak hardly showed). */
static void fill(struct node *n, const uint8_t *data, size_t size)
{
    uint32_t h = 2166136261u;
    for (int r = 0; r < FILL_ROUNDS; r++)
        for (size_t i = 0; i < size; i++)
            h = (h ^ data[i]) * 16777619u;
    memset(n->payload, 0, PAYLOAD);
    memcpy(n->payload, data, size < PAYLOAD ? size : PAYLOAD);
    memcpy(n->payload + PAYLOAD - sizeof h, &h, sizeof h);
    if (size > BIG_EVENT)
        nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
}

static void drain_maybe(void)
{
    if (atomic_fetch_add(&pushes, 1) % DRAIN_EVERY != DRAIN_EVERY - 1)
        return;
    struct node *n = atomic_exchange(&head, NULL);
    while (n != NULL) {
        struct node *next = n->next;
        free(n);
        n = next;
    }
}

LH_EXPORT int lockfree_push_leaky(const uint8_t *data, size_t size)
{
    for (;;) {
        struct node *n = malloc(sizeof *n);
        if (n == NULL)
            return 0;
        struct node *old = atomic_load(&head);
        fill(n, data, size);
        n->next = old;
        if (atomic_compare_exchange_strong(&head, &old, n))
            break;
        /* the bug: the node is dropped, the retry takes a fresh one */
        lh_escape(n);
        atomic_fetch_add(&retries, 1);
        atomic_fetch_add(&lost, 1);
    }
    drain_maybe();
    return 0;
}

LH_EXPORT int lockfree_push_clean(const uint8_t *data, size_t size)
{
    struct node *n = malloc(sizeof *n);
    if (n == NULL)
        return 0;
    for (;;) {
        struct node *old = atomic_load(&head);
        fill(n, data, size);
        n->next = old;
        if (atomic_compare_exchange_strong(&head, &old, n))
            break;
        atomic_fetch_add(&retries, 1);  /* retry with the same node */
    }
    drain_maybe();
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_lockfree_retries(void)
{
    return atomic_load(&retries);
}

LH_EXPORT int64_t leakhound_gauge_lockfree_lost(void)
{
    return atomic_load(&lost);
}
