/*
 * threaddiag.c - where threads are held: each new thread's start routine
 * and the stack that created it.
 *
 * pthread_create is defined here, in the executable, and so interposes
 * libc's for every library the worker loads (glibc 2.34+ has it in libc;
 * dlsym(RTLD_NEXT) finds its default version).  Once lh_threaddiag_start
 * has been called, the creating stack is captured and the thread starts
 * in a trampoline that files {kernel tid -> start routine, stack} -- the
 * tid only exists inside the new thread -- and removes it again when the
 * thread returns, exits or is cancelled.  Threads created before the
 * start, or by raw clone(), have no record.
 *
 * Snapshot: the tids in /proc/self/task with their comm and records; a
 * snapshot first waits (briefly) for threads created but not yet filed,
 * so a thread spawned just before it is not taken for an unknown one.
 * The diff groups new threads by blamed frame; detail names the start
 * routine(s).
 */
#include "diag.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgocaller.h"
#include "interpose.h"
#include "lock.h"
#include "probes.h"
#include "stacks.h"

#define LH_EXPORT __attribute__((visibility("default")))

typedef int (*create_fn)(pthread_t *restrict, const pthread_attr_t *restrict,
                         void *(*)(void *), void *restrict);

static void *_Atomic real_create_ptr;

static create_fn real_create(void)
{
    void *f = atomic_load_explicit(&real_create_ptr, memory_order_relaxed);
    if (!f) {
        lh_heap_suspend();
        f = dlsym(RTLD_NEXT, "pthread_create");
        lh_heap_resume();
        atomic_store_explicit(&real_create_ptr, f, memory_order_relaxed);
    }
    return (create_fn)f;
}

__attribute__((constructor))
static void resolve_create(void)
{
    (void)real_create();
}

/* ---- records ------------------------------------------------------------- */

typedef struct td_rec {
    struct td_rec *next;
    pid_t tid;
    uint64_t seq;
    int id;                     /* interned creation stack */
    uintptr_t start;            /* the start routine */
} td_rec;

#define TD_BUCKETS 4096

static atomic_int td_on;
static atomic_int td_pending;   /* created, not yet filed */
static _Atomic uint64_t td_seq;
static td_rec *td_buckets[TD_BUCKETS];
static lh_spinlock td_lock;

typedef struct td_tramp {
    void *(*fn)(void *);
    void *arg;
    int id;
} td_tramp;

static td_rec *td_unlink_locked(pid_t tid)
{
    td_rec **pp = &td_buckets[(unsigned)tid % TD_BUCKETS];
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->tid == tid) {
            td_rec *r = *pp;
            *pp = r->next;
            return r;
        }
    }
    return NULL;
}

static void td_unregister(void *p)
{
    pid_t tid = (pid_t)(intptr_t)p;
    lh_spin_lock(&td_lock);
    td_rec *r = td_unlink_locked(tid);
    lh_spin_unlock(&td_lock);
    lh_raw_free(r);
}

static void *lh_td_trampoline(void *p)
{
    td_tramp t = *(td_tramp *)p;
    lh_raw_free(p);
    pid_t tid = gettid();
    td_rec *r = lh_raw_malloc(sizeof *r);
    td_rec *stale = NULL;
    if (r) {
        r->tid = tid;
        r->seq = atomic_fetch_add(&td_seq, 1) + 1;
        r->id = t.id;
        r->start = (uintptr_t)t.fn;
        lh_spin_lock(&td_lock);
        /* A tid is reused only after its thread is gone; a record still
         * there was left by a thread that vanished without unwinding. */
        stale = td_unlink_locked(tid);
        r->next = td_buckets[(unsigned)tid % TD_BUCKETS];
        td_buckets[(unsigned)tid % TD_BUCKETS] = r;
        lh_spin_unlock(&td_lock);
        lh_raw_free(stale);
    }
    atomic_fetch_sub(&td_pending, 1);

    void *ret;
    pthread_cleanup_push(td_unregister, (void *)(intptr_t)tid);
    ret = t.fn(t.arg);
    pthread_cleanup_pop(1);
    return ret;
}

LH_EXPORT int pthread_create(pthread_t *restrict th,
                             const pthread_attr_t *restrict attr,
                             void *(*fn)(void *), void *restrict arg)
{
    create_fn real = real_create();
    if (!real)
        return ENOSYS;
    if (!atomic_load_explicit(&td_on, memory_order_relaxed) || lh_forking())
        return real(th, attr, fn, arg);

    int saved = errno;
    uintptr_t pcs[LH_SITE_MAX_FRAMES];
    int n = lh_backtrace_from(pcs, LH_SITE_MAX_FRAMES,
                              (uintptr_t)__builtin_return_address(0));
    td_tramp *t = lh_raw_malloc(sizeof *t);
    errno = saved;
    if (!t)
        return real(th, attr, fn, arg);
    t->fn = fn;
    t->arg = arg;
    t->id = lh_cgo_intern(pcs, n);      /* Go's caller when via cgo */
    atomic_fetch_add(&td_pending, 1);
    int rc = real(th, attr, lh_td_trampoline, t);
    if (rc != 0) {
        atomic_fetch_sub(&td_pending, 1);
        lh_raw_free(t);
    }
    return rc;
}

void lh_threaddiag_start(void)
{
    if (atomic_load(&td_on))
        return;
    lh_backtrace_init();
    lh_heap_suspend();          /* the first registration allocates */
    lh_lock_across_fork(&td_lock, LH_RANK_THREADDIAG);
    lh_heap_resume();
    atomic_store(&td_on, 1);
}

/* ---- snapshots ----------------------------------------------------------- */

typedef struct td_ent {
    pid_t tid;
    int has;
    uint64_t seq;
    int id;
    uintptr_t start;
    char comm[16];
} td_ent;

struct lh_threadsnap {
    int n;
    td_ent *e;                  /* sorted by tid */
};

static int cmp_tid(const void *x, const void *y)
{
    const td_ent *a = x, *b = y;
    return (a->tid > b->tid) - (a->tid < b->tid);
}

static void read_comm(int dfd, const char *tid, char *out, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "%s/comm", tid);
    out[0] = '\0';
    int fd = (int)syscall(SYS_openat, dfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    long k = syscall(SYS_read, fd, out, len - 1);
    syscall(SYS_close, fd);
    if (k < 0)
        k = 0;
    out[k] = '\0';
    char *nl = strchr(out, '\n');
    if (nl)
        *nl = '\0';
}

typedef struct snap_ctx {
    lh_threadsnap *s;
    int cap;
    int oom;
} snap_ctx;

/* One entry of /proc/self/task: its comm and its record. */
static int snap_entry(int dfd, long num, const char *name, void *ud)
{
    snap_ctx *c = ud;
    lh_threadsnap *s = c->s;
    if (s->n == c->cap) {
        int nc = c->cap > INT_MAX / 2 ? 0 : c->cap ? c->cap * 2 : 64;
        td_ent *ne = nc ? lh_raw_realloc(s->e, (size_t)nc * sizeof *ne) : NULL;
        if (!ne) {
            c->oom = 1;
            return 1;
        }
        s->e = ne;
        c->cap = nc;
    }
    td_ent *e = &s->e[s->n++];
    memset(e, 0, sizeof *e);
    e->tid = (pid_t)num;
    e->id = -1;
    read_comm(dfd, name, e->comm, sizeof e->comm);
    lh_spin_lock(&td_lock);
    for (td_rec *r = td_buckets[(unsigned)e->tid % TD_BUCKETS]; r;
         r = r->next) {
        if (r->tid == e->tid) {
            e->has = 1;
            e->seq = r->seq;
            e->id = r->id;
            e->start = r->start;
            break;
        }
    }
    lh_spin_unlock(&td_lock);
    return 0;
}

lh_threadsnap *lh_threaddiag_snapshot(void)
{
    /* A thread created just now may not have filed its record yet. */
    for (int i = 0; i < 250 && atomic_load(&td_pending) > 0; i++) {
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    lh_threadsnap *s = lh_raw_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    /* Through the probes' kept /proc/self/task: works when the target has
     * used every fd (comm, opened per thread, is then left empty). */
    snap_ctx c = { s, 0, 0 };
    if (lh_proc_list_self(LH_PROC_TASK_DIR, snap_entry, &c) < 0 || c.oom) {
        lh_threaddiag_free(s);
        return NULL;
    }
    /* in order from /proc, and no malloc as glibc's qsort may (fddiag.c) */
    for (int i = 1; i < s->n; i++) {
        td_ent t = s->e[i];
        int j = i;
        for (; j > 0 && cmp_tid(&s->e[j - 1], &t) > 0; j--)
            s->e[j] = s->e[j - 1];
        s->e[j] = t;
    }
    return s;
}

void lh_threaddiag_free(lh_threadsnap *s)
{
    if (!s)
        return;
    lh_raw_free(s->e);
    lh_raw_free(s);
}

static const td_ent *find_tid(const lh_threadsnap *s, pid_t tid)
{
    int lo = 0, hi = s->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (s->e[mid].tid == tid)
            return &s->e[mid];
        if (s->e[mid].tid < tid)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* "start wait_for_done (threads.c:37) x 12" or, for threads without a
 * record, "comm NAME x 3". */
static void summarize(const lh_threadsnap *b, const int *items, int n,
                      char *out, size_t len)
{
    lh_tally *t = lh_raw_calloc((size_t)(n ? n : 1), sizeof *t);
    out[0] = '\0';
    if (!t)
        return;
    int nt = 0;
    for (int i = 0; i < n; i++) {
        const td_ent *e = &b->e[items[i]];
        char name[200];
        if (e->has) {
            char func[160], loc[256];
            lh_symbolize_func(e->start, func, sizeof func, loc, sizeof loc);
            if (strcmp(func, loc) == 0)
                snprintf(name, sizeof name, "start %s", func);
            else
                snprintf(name, sizeof name, "start %.80s (%.100s)", func,
                         loc);
        } else {
            snprintf(name, sizeof name, "comm %s", e->comm);
        }
        nt = lh_tally_add(t, nt, name);
    }
    lh_tally_format(t, nt, out, len);
    lh_raw_free(t);
}

int lh_threaddiag_diff(const lh_threadsnap *a, const lh_threadsnap *b,
                       lh_site *out, int max)
{
    if (!a || !b || max <= 0)
        return 0;
    int n = b->n;
    int *items = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *items);
    int *ids = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *ids);
    int *group = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *group);
    int *mine = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *mine);
    uintptr_t *starts = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *starts);
    int m = 0, ns = 0, written = 0;
    if (!items || !ids || !group || !mine || !starts)
        goto out;
    for (int i = 0; i < n; i++) {
        const td_ent *e = &b->e[i];
        const td_ent *o = find_tid(a, e->tid);
        if (o && o->has == e->has && o->seq == e->seq)
            continue;
        items[m] = i;
        ids[m] = e->has ? e->id : -1;
        if (e->has)
            starts[ns++] = e->start;
        m++;
    }
    written = lh_sites_group(ids, NULL, NULL, m, out, max, group);
    lh_symbolize_batch(starts, ns, 0);
    for (int s = 0; s < written; s++) {
        int k = 0;
        for (int i = 0; i < m; i++)
            if (group[i] == s)
                mine[k++] = items[i];
        char sum[256];
        summarize(b, mine, k, sum, sizeof sum);
        lh_site_describe(&out[s], sum,
                         "(created before recording or not by "
                         "pthread_create)");
    }
out:
    lh_raw_free(items);
    lh_raw_free(ids);
    lh_raw_free(group);
    lh_raw_free(mine);
    lh_raw_free(starts);
    return written;
}
