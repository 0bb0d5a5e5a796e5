/*
 * threads.c - background helpers, one of which is never joined.
 *
 * Every SPAWN_EVERY-th call starts a helper thread.  thread_spawn_leaky's
 * helper waits for a "done" signal that nobody ever sends, and the caller
 * drops its pthread_t, so the thread blocks forever: proc.threads grows by
 * one per SPAWN_EVERY calls (and proc.maps by its stack).  The gate is the
 * call count, not the input, which is exactly the kind of leak a single
 * re-run of one input does not confirm.  thread_spawn_clean's helper
 * checksums the input and is joined before the call returns.
 *
 * Helpers get small stacks so a few thousand leaked threads stay cheap.
 * glibc also allocates each new thread's TLS vector with calloc, so a leaked
 * thread costs a little heap too (heap.live_* grows a bit per thread).
 *
 * The library is linked with -z nodelete: a parked thread's stack holds
 * return addresses into this library, so it must never be unmapped.
 * Gauge: target.threads_parked (helpers blocked forever so far).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lh_target.h"

enum {
    SPAWN_EVERY = 10,
    HELPER_STACK = 64 * 1024,
};

static pthread_mutex_t never_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never_cv = PTHREAD_COND_INITIALIZER;
static int never_done;      /* nobody ever sets it: that is the bug */

static atomic_int_fast64_t parked;
static atomic_uint_fast64_t leaky_calls, clean_calls;

static void *wait_for_done(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&never_mu);
    while (!never_done)
        pthread_cond_wait(&never_cv, &never_mu);
    pthread_mutex_unlock(&never_mu);
    atomic_fetch_sub(&parked, 1);
    return NULL;
}

struct job {
    const uint8_t *data;
    size_t size;
    uint32_t sum;
};

static void *checksum(void *arg)
{
    struct job *j = arg;
    uint32_t s = 0;
    for (size_t i = 0; i < j->size; i++)
        s = s * 31 + j->data[i];
    j->sum = s;
    return NULL;
}

static int spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return -1;
    pthread_attr_setstacksize(&attr, HELPER_STACK);
    int rc = pthread_create(t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

/* Leaks one blocked thread every SPAWN_EVERY calls (the 10th, 20th, ...). */
LH_EXPORT int thread_spawn_leaky(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    if ((atomic_fetch_add(&leaky_calls, 1) + 1) % SPAWN_EVERY != 0)
        return 0;
    /* Counted here, not in the thread, so the gauge never lags the call. */
    atomic_fetch_add(&parked, 1);
    pthread_t t;
    if (spawn(&t, wait_for_done, NULL) != 0)
        atomic_fetch_sub(&parked, 1);
    return 0;               /* deliberate bug: t is neither joined nor told */
}

LH_EXPORT int thread_spawn_clean(const uint8_t *data, size_t size)
{
    if ((atomic_fetch_add(&clean_calls, 1) + 1) % SPAWN_EVERY != 0)
        return 0;
    struct job j = { data, size, 0 };
    pthread_t t;
    if (spawn(&t, checksum, &j) == 0)
        pthread_join(t, NULL);
    lh_escape(&j);
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_threads_parked(void)
{
    return atomic_load(&parked);
}
