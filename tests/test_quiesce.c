/*
 * test_quiesce.c - lh_probes_quiesce (harness/probe/probes.c): before each
 * sample it waits for joined threads to leave the thread count, and waits
 * for nothing when nothing can be leaving (start-up, issue 13: a trivial
 * run must not sleep per sample).
 *
 * nanosleep is wrapped here (the probe layer is linked in whole) to count
 * the waits.  Also the fd table the worker checks at every sample: every
 * open fd counted, the probes' own too.
 * One line per check, then "N passed, N failed".
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "probes.h"

#include "check.h"

static int sleeps;

int nanosleep(const struct timespec *req, struct timespec *rem)
{
    sleeps++;
    return (int)syscall(SYS_nanosleep, req, rem);
}

static long threads_now(void)
{
    char buf[2048];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 20; field++)
        p = strchr(p + 1, ' ');
    return p ? strtol(p + 1, NULL, 10) : -1;
}

/* Open fds now, by listing /proc/self/fd (less the listing's own). */
static long fds_now(void)
{
    DIR *d = opendir("/proc/self/fd");
    long n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n - 1;
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static void *quick(void *arg)
{
    return arg;
}

/* A detached thread that ends a moment after it starts (2 ms), as a
 * thread per call does: still there when a sample comes right after. */
static void *brief(void *arg)
{
    struct timespec ts = { 0, 2000000 };
    syscall(SYS_nanosleep, &ts, NULL);
    return arg;
}

static void *blocked(void *arg)
{
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    return arg;
}

int main(void)
{
    lh_probes p;
    lh_probes_init(&p, NULL);

    check(threads_now() == 1, "one thread to begin with (%ld)",
          threads_now());
    sleeps = 0;
    lh_probes_quiesce(&p);
    lh_probes_quiesce(&p);
    check(sleeps == 0, "one thread: quiesce waits for nothing (%d sleeps)",
          sleeps);

    /* Joined threads: quiesce returns once they have left the count. */
    int settled = 1;
    for (int round = 0; round < 20; round++) {
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            pthread_create(&t[i], NULL, quick, NULL);
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        lh_probes_quiesce(&p);
        if (threads_now() != 1)
            settled = 0;
    }
    check(settled, "four threads joined: the count is back to 1 after "
          "quiesce, 20 rounds out of 20");

    /* A live thread: the first quiesce settles on 2, the next ones find
     * the same count and do not wait. */
    pthread_mutex_lock(&gate);
    pthread_t live;
    pthread_create(&live, NULL, blocked, NULL);
    lh_probes_quiesce(&p);
    check(threads_now() == 2, "a live thread counted (%ld)", threads_now());
    sleeps = 0;
    lh_probes_quiesce(&p);
    lh_probes_quiesce(&p);
    check(sleeps == 0, "the same count as last settled: no wait (%d sleeps)",
          sleeps);
    pthread_mutex_unlock(&gate);
    pthread_join(live, NULL);
    lh_probes_quiesce(&p);
    check(threads_now() == 1, "joined: settled back to one thread (%ld)",
          threads_now());

    /* Detached threads still ending: the count rose above the settled
     * one and does not move for a while; quiesce waits them out (it used
     * to settle on the first unchanged read, 0.5 ms later). */
    int gone = 0;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 8; i++) {
            pthread_t t;
            pthread_create(&t, NULL, brief, NULL);
            pthread_detach(t);
        }
        lh_probes_quiesce(&p);
        gone += threads_now() == 1;
    }
    check(gone == 5, "eight detached threads ending 2 ms later: gone after "
          "quiesce, %d rounds out of 5", gone);

    long nopen, limit;
    int full = lh_probes_fd_table(&nopen, &limit);
    long want = fds_now();
    check(full == 0 && nopen == want && limit > 0,
          "the fd table: every open fd, the probes' own too (%ld of %ld; "
          "listed: %ld)", nopen, limit, want);
    int extra = open("/dev/null", O_RDONLY);
    lh_probes_fd_table(&nopen, &limit);
    check(nopen == want + 1, "... one more opened: %ld", nopen);
    close(extra);
    return check_report();
}
