/*
 * gocgo.c - where the Go targets' cgo call stubs and Go code lie, for the
 * allocation hook (diag/cgocaller.c) to tell, from a C stack alone, that
 * the thread is inside a cgo call made by a goroutine.
 *
 * Published once per target when it is opened (target.c), read from the
 * malloc hook on any thread: a fixed array of slots filled in order, each
 * complete before the count that covers it is raised (release/acquire).
 */
#include "target.h"

#include <stdatomic.h>

#define GOCGO_MAX 4

typedef struct published {
    lh_target *t;
    lh_cgo_range text;          /* the Go code */
    lh_cgo_range span;          /* first stub's lo to last stub's hi */
    const lh_cgo_range *stubs;  /* sorted by lo */
    size_t n;
} published;

static published slots[GOCGO_MAX];
static atomic_int nslots;

void lh_gocgo_publish(lh_target *t, lh_cgo_range text,
                      const lh_cgo_range *stubs, size_t n)
{
    /* Targets are opened under target.c's registry lock: one writer. */
    int k = atomic_load_explicit(&nslots, memory_order_relaxed);
    if (k >= GOCGO_MAX || n == 0)
        return;
    lh_cgo_range span = { stubs[0].lo, stubs[0].hi };
    for (size_t i = 1; i < n; i++)
        if (stubs[i].hi > span.hi)
            span.hi = stubs[i].hi;
    slots[k] = (published){ t, text, span, stubs, n };
    atomic_store_explicit(&nslots, k + 1, memory_order_release);
}

int lh_gocgo_any(void)
{
    return atomic_load_explicit(&nslots, memory_order_acquire) > 0;
}

int lh_gocgo_classify(uintptr_t addr, lh_target **owner)
{
    int k = atomic_load_explicit(&nslots, memory_order_acquire);
    for (int i = 0; i < k; i++) {
        const published *p = &slots[i];
        if (addr >= p->text.lo && addr < p->text.hi)
            return -1;
        if (addr < p->span.lo || addr >= p->span.hi)
            continue;
        size_t lo = 0, hi = p->n;          /* last stub with lo <= addr */
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (p->stubs[mid].lo <= addr)
                lo = mid;
            else
                hi = mid;
        }
        if (addr >= p->stubs[lo].lo && addr < p->stubs[lo].hi) {
            if (owner)
                *owner = p->t;
            return 1;
        }
    }
    return 0;
}
