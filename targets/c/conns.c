/*
 * conns.c - an HTTP-style client whose response bodies are never closed.
 *
 * Each call "connects": a pipe (2 fds) and a reader thread that waits for
 * the body's end, as a client's connection does.  conn_get_leaky never
 * closes the body, so both fds and the thread stay: +2 fds and +1 thread
 * per call.  Like a client out of connections, a call that cannot get one
 * (the pool of CONN_POOL is used up, or pipe or pthread_create fails: out
 * of fds or threads) waits forever for one to be freed; none ever is.
 * conn_get_clean closes the body: the reader sees EOF, is joined, and the
 * read end is closed (the same fds and threads come and go).
 *
 * conn_limit_fds (for setup) lowers the soft RLIMIT_NOFILE, so a workload
 * runs under a limit of its own.
 *
 * Linked with -z nodelete: parked readers return into this library.
 * Gauge: target.conns_open (bodies open now).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lh_target.h"

enum {
    CONN_POOL = 600,
    READER_STACK = 64 * 1024,
};

static atomic_int_fast64_t open_conns;
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;

/* Reads the body to its end (EOF), as a client's reader does. */
static void *reader(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[64];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0 && !(n < 0 && errno == EINTR))
            return NULL;
    }
}

/* No connection to be had: wait for one to be freed (never, here). */
static int wait_for_conn(void)
{
    pthread_mutex_lock(&pool_mu);
    for (;;)
        pthread_cond_wait(&pool_cv, &pool_mu);
    return 0;
}

static int get(const uint8_t *data, size_t size, int leaky)
{
    int p[2];
    if (atomic_load(&open_conns) >= CONN_POOL || pipe(p) < 0)
        return wait_for_conn();
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, READER_STACK);
    pthread_t t;
    int rc = pthread_create(&t, &a, reader, (void *)(intptr_t)p[0]);
    pthread_attr_destroy(&a);
    if (rc != 0) {
        close(p[0]);
        close(p[1]);
        return wait_for_conn();
    }
    atomic_fetch_add(&open_conns, 1);
    if (size > 0) {
        ssize_t n = write(p[1], data, size < 512 ? size : 512);
        (void)n;
    }
    if (leaky) {
        /* deliberate bug: the body is never closed */
        pthread_detach(t);
        return 0;
    }
    close(p[1]);
    pthread_join(t, NULL);
    close(p[0]);
    atomic_fetch_sub(&open_conns, 1);
    return 0;
}

LH_EXPORT int conn_get_leaky(const uint8_t *data, size_t size)
{
    return get(data, size, 1);
}

LH_EXPORT int conn_get_clean(const uint8_t *data, size_t size)
{
    return get(data, size, 0);
}

/* Setup, not a step: the soft RLIMIT_NOFILE becomes the decimal number in
 * the input, as for a service configured with a low limit. */
LH_EXPORT int conn_limit_fds(const uint8_t *data, size_t size)
{
    char buf[32];
    size_t n = size < sizeof buf - 1 ? size : sizeof buf - 1;
    memcpy(buf, data, n);
    buf[n] = '\0';
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    rl.rlim_cur = strtoul(buf, NULL, 10);
    return setrlimit(RLIMIT_NOFILE, &rl);
}

LH_EXPORT int64_t leakhound_gauge_conns_open(void)
{
    return atomic_load(&open_conns);
}
