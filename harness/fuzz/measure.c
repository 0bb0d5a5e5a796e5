/*
 * measure.c - the oracle's readings of its watched metrics.
 *
 * The fast path reads heap.live_bytes/allocs and mmap.live_bytes
 * (interposer atomics),
 * go.goroutines (a cgo call) and, when cheap enough, proc.fds/threads
 * before and after every input, without allocating.  proc.fds and
 * proc.threads are counted through /proc directory fds kept open (several
 * times cheaper than lh_probes_read's open per read), reopened after a
 * fork.  A goroutine or thread count is re-read until it stops moving:
 * work that ends just after the call must not count.
 */
#include <fcntl.h>
#include <time.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "clock.h"
#include "interpose.h"
#include "oracle_impl.h"

#define PERSIST_NS 100000       /* re-read window for a goroutine/thread rise */
#define QUIET_NS 1000000        /* per replay: wait for counts to stop moving */

const char *lh_or_metric_name(const lh_oracle *o, int w)
{
    return o->probes->metrics[w_index[w]].name;
}

void lh_or_do_settle(lh_oracle *o)
{
    if (o->settle)
        o->settle(o->ud);
    else
        lh_probes_settle(o->probes);
}

/* The kept directory fds are open fds like any other: the counts are
 * lh_probes_read's plus the probes' own kept fds, a constant. */
static void open_proc_dirs(lh_oracle *o)
{
    if (o->fd_dir >= 0)
        close(o->fd_dir);
    if (o->task_dir >= 0)
        close(o->task_dir);
    o->fd_dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    o->task_dir = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    o->dirs_pid = getpid();
}

/* A fork server (AFL++) forks after the oracle was made: a directory fd
 * opened in the parent would keep counting the parent.  fork() runs this
 * in the child; the next read reopens. */
static atomic_int forked;

static void after_fork_in_child(void)
{
    forked = 1;
}

/* Open the kept directory fds, and have a fork mark them stale. */
void lh_or_proc_dirs_init(lh_oracle *o)
{
    static int registered;
    if (!registered++)
        pthread_atfork(NULL, NULL, after_fork_in_child);
    open_proc_dirs(o);
}

/* One watched metric: fds and threads through the kept directories
 * (reopened in a forked child), the others from the probes. */
double lh_or_read_one(lh_oracle *o, int w)
{
    long n;
    if (forked && (w == W_FDS || w == W_THREADS) && o->fd_dir >= 0 &&
        o->dirs_pid != getpid())
        open_proc_dirs(o);
    switch (w) {
    case W_FDS:
        if ((n = lh_proc_list(o->fd_dir, NULL, NULL)) >= 0)
            return (double)n;
        break;
    case W_THREADS:
        if ((n = lh_proc_list(o->task_dir, NULL, NULL)) >= 0)
            return (double)n;
        break;
    default:
        break;
    }
    return lh_probes_read(o->probes, w_index[w]);
}

/*
 * In-flight goroutines (README, "Goroutines that end later"): a step that
 * starts a goroutine ending some time after the call (a flush 300 ms
 * later) grows go.goroutines, and the Go heap by its stack and timer, over
 * replays far shorter than that lifetime, as a leak would.  Before the
 * count that ends a stage is judged, the oracle waits while goroutines
 * above `base` end: while the count keeps falling, until none ended
 * within DRAIN_FIRST, nothing more ended for DRAIN_QUIET after some did,
 * or DRAIN_MAX (`run` waits as long; goleak retries about as long).  A
 * leak's goroutines never end: the wait costs DRAIN_FIRST, once per
 * confirmation (o->drain_futile).  o->go_floor is the lowest count seen:
 * a confirmation first lets earlier inputs' goroutines end toward it.
 * Returns the count at the end.
 */
#define DRAIN_MAX 2.0
#define DRAIN_FIRST 0.5
#define DRAIN_QUIET 0.25

double lh_or_drain_goroutines(lh_oracle *o, double base)
{
    double g = lh_or_read_one(o, W_GOROUTINES);
    if (!(o->avail & BIT(W_GOROUTINES)) || !(g > base) || o->drain_futile) {
        if (g < o->go_floor)
            o->go_floor = g;
        return g;
    }
    double t0 = lh_now(), fell_at = -1.0, low = g;
    while (g > 0 && lh_now() - t0 < DRAIN_MAX &&
           !(fell_at < 0 && lh_now() - t0 > DRAIN_FIRST) &&
           !(fell_at >= 0 && lh_now() - fell_at > DRAIN_QUIET)) {
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        g = lh_or_read_one(o, W_GOROUTINES);
        if (g < low) {
            low = g;
            fell_at = lh_now();
        }
    }
    o->stats.drain_waits++;
    if (fell_at < 0)
        o->drain_futile = 1;
    else
        o->inflight = 1;
    if (low < o->go_floor)
        o->go_floor = low;
    return low;
}

/* Heap first: nothing after it may allocate, but nothing should run
 * between it and the step either. */
void lh_or_read_metrics(lh_oracle *o, unsigned mask, double *v)
{
    if (mask & HEAP_BITS) {
        lh_heap_stats hs;
        lh_heap_read(&hs);
        v[W_HEAP_BYTES] = (double)hs.live_bytes;
        v[W_HEAP_ALLOCS] = (double)hs.live_allocs;
    }
    if (mask & BIT(W_MMAP)) {
        lh_mmap_stats ms;
        lh_mmap_read(&ms);
        v[W_MMAP] = (double)ms.live_bytes;
    }
    for (int w = W_GOROUTINES; w <= W_THREADS; w++)
        if (mask & BIT(w))
            v[w] = lh_or_read_one(o, w);
    if (mask & BIT(W_GO_HEAP))
        v[W_GO_HEAP] = lh_probes_read(o->probes, LH_M_GO_HEAP_LIVE_BYTES);
}

/* A goroutine or thread that finished its work may still be counted for a
 * moment: re-read for up to PERSIST_NS and keep only a rise that stays. */
double lh_or_persist(lh_oracle *o, int w, double before, double after)
{
    uint64_t t0 = lh_now_ns();
    /* The last read is always taken after the window: a thread preempted
     * in here must not cut it short. */
    for (int done = 0; after > before && !done;) {
        done = lh_now_ns() - t0 >= PERSIST_NS;
        sched_yield();
        after = lh_or_read_one(o, w);
    }
    return after;
}

/* During replays: read until the count stops moving (three equal reads),
 * bounded by QUIET_NS.  Stragglers are caught by the settle at the end.
 * A thread count of 1 cannot move: no other thread exists to leave or to
 * start one (as lh_probes_quiesce). */
static double quiet(lh_oracle *o, int w)
{
    double last = lh_or_read_one(o, w);
    if (w == W_THREADS && last == 1)
        return last;
    int same = 0;
    uint64_t t0 = lh_now_ns();
    while (same < 2 && lh_now_ns() - t0 < QUIET_NS) {
        sched_yield();
        double v = lh_or_read_one(o, w);
        if (v == last) {
            same++;
        } else {
            same = 0;
            last = v;
        }
    }
    return last;
}

/* A replay's reading: goroutines and threads once they stop moving. */
void lh_or_read_point(lh_oracle *o, unsigned mask, double *v)
{
    lh_or_read_metrics(o, mask & ~(BIT(W_GOROUTINES) | BIT(W_THREADS)), v);
    if (mask & BIT(W_GOROUTINES))
        v[W_GOROUTINES] = quiet(o, W_GOROUTINES);
    if (mask & BIT(W_THREADS))
        v[W_THREADS] = quiet(o, W_THREADS);
}

double lh_or_read_go_heap(lh_oracle *o)
{
    return lh_probes_read(o->probes, LH_M_GO_HEAP_LIVE_BYTES);
}
