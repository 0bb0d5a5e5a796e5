/* diagnose.c - diagnosis in the worker: which source explains which metric. */
#include "diagnose.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "file.h"

struct lh_diagnosis {
    lh_target *target;
    lh_heapsnap *heap[2];
    lh_heapsnap *conf[1 + LH_DIAG_CONF_MARKS]; /* the confirmation
                             * window, every allocation: its start, then
                             * one snapshot per mark */
    int nconf;
    size_t sample_bytes;
    lh_mmapsnap *map[2];
    lh_gosnap *go[2];
    lh_fdsnap *fd[2];
    lh_threadsnap *thr[2];
};

lh_diagnosis *lh_diagnosis_new(lh_target *target, size_t sample_bytes)
{
    lh_diagnosis *d = lh_raw_calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->target = target;
    d->sample_bytes = sample_bytes;
    lh_heapsites_start(sample_bytes);
    lh_mmapsites_start();
    lh_fddiag_start();
    lh_threaddiag_start();
    return d;
}

static void snapshot(lh_diagnosis *d, int k)
{
    d->heap[k] = lh_heapsites_snapshot();
    d->map[k] = lh_mmapsites_snapshot();
    if (d->target && d->target->has_go)
        d->go[k] = lh_godiag_snapshot(d->target);
    d->fd[k] = lh_fddiag_snapshot();
    d->thr[k] = lh_threaddiag_snapshot();
}

void lh_diagnosis_baseline(lh_diagnosis *d)
{
    if (d)
        snapshot(d, 0);
}

void lh_diagnosis_end(lh_diagnosis *d)
{
    if (d)
        snapshot(d, 1);
}

static int prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

void lh_diagnosis_confirm_begin(lh_diagnosis *d)
{
    if (!d || d->nconf)
        return;
    lh_heapsites_start(0);
    d->conf[0] = lh_heapsites_snapshot();
    d->nconf = d->conf[0] ? 1 : 0;
}

void lh_diagnosis_confirm_mark(lh_diagnosis *d)
{
    if (!d || !d->nconf || d->nconf > LH_DIAG_CONF_MARKS)
        return;
    lh_heapsnap *s = lh_heapsites_snapshot();
    if (s)
        d->conf[d->nconf++] = s;
}

void lh_diagnosis_confirm_end(lh_diagnosis *d)
{
    if (!d || !d->nconf)
        return;
    lh_heapsites_start(d->sample_bytes);
}

/*
 * Go opens its fds with raw syscalls, never through the libc calls the
 * interposer records, so a Go fd leak has no recorded site.  An fd that
 * leaks in Go is held by a Go object still reachable (an unreachable
 * *os.File or net.Conn is closed by its finalizer), and the Go heap
 * profile says where that object was made: os.newFile or net.newFD, called
 * from the target's own code.  The unrecorded fds are blamed there, split
 * by the objects each site holds.  Fds of raw syscall.Open calls hold no
 * object and stay unrecorded.
 */
static const char *const go_fd_makers[] = { "os.newFile", "net.newFD",
                                            NULL };

static int go_held_fds(lh_diagnosis *d, lh_site *out, int n, int max)
{
    int u = 0;
    while (u < n && strcmp(out[u].func, LH_FD_UNRECORDED) != 0)
        u++;
    if (u == n || !d->go[0] || !d->go[1])
        return n;
    int room = max - (n - 1);
    lh_site *g = lh_raw_calloc((size_t)room, sizeof *g);
    int k = g ? lh_godiag_heap_through(d->go[0], d->go[1], go_fd_makers, g,
                                       room) : 0;
    double objects = 0;
    for (int i = 0; i < k; i++)
        objects += g[i].count;
    if (k <= 0 || objects <= 0) {
        lh_raw_free(g);
        return n;
    }
    lh_site un = out[u];
    memmove(&out[u + k], &out[u + 1], (size_t)(n - u - 1) * sizeof *out);
    for (int i = 0; i < k; i++) {
        lh_site *s = &out[u + i];
        *s = g[i];
        s->count = un.count * g[i].count / objects;
        s->bytes = 0;
        snprintf(s->detail, sizeof s->detail, "%s; held by Go objects %s",
                 un.detail, g[i].detail);
    }
    lh_raw_free(g);
    return n - 1 + k;
}

static int same_site(const lh_site *a, const lh_site *b)
{
    return strcmp(a->func, b->func) == 0 &&
           strcmp(a->location, b->location) == 0 &&
           strcmp(a->detail, b->detail) == 0 && strcmp(a->via, b->via) == 0;
}

#define CONF_SITES 64

/* The confirmation window's sites: what grew from its start to its end,
 * each site counted for no more than it held at each mark of the
 * window's second half.  What a leak holds it holds at every later mark;
 * a block that lives across a few calls (a ring of scratch buffers, a
 * request in flight) is held at the end by chance, and at all of four
 * marks far less often: blamed on it, a slow leak's growth went to the
 * noise beside it. */
static int confirmed_sites(lh_diagnosis *d, lh_site *out, int max)
{
    lh_site *all = lh_raw_calloc(2 * CONF_SITES, sizeof *all);
    if (!all)
        return lh_heapsites_diff(d->conf[0], d->conf[d->nconf - 1], out,
                                 max);
    lh_site *mark = all + CONF_SITES;
    int n = lh_heapsites_diff(d->conf[0], d->conf[d->nconf - 1], all,
                              CONF_SITES);
    if (n > CONF_SITES)
        n = CONF_SITES;
    for (int k = d->nconf / 2; k < d->nconf - 1; k++) {
        int m = lh_heapsites_diff(d->conf[0], d->conf[k], mark, CONF_SITES);
        if (m > CONF_SITES)
            m = CONF_SITES;
        for (int i = 0; i < n; i++) {
            double b = 0, c = 0;
            for (int j = 0; j < m; j++)
                if (same_site(&all[i], &mark[j])) {
                    b = mark[j].bytes;
                    c = mark[j].count;
                    break;
                }
            if (b < all[i].bytes)
                all[i].bytes = b;
            if (c < all[i].count)
                all[i].count = c;
        }
    }
    /* the held sites, most bytes first (few: an insertion sort) */
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (!(all[i].bytes >= 0.5))
            continue;
        int at = kept < max ? kept : max;
        while (at > 0 && out[at - 1].bytes < all[i].bytes)
            at--;
        if (at >= max)
            continue;
        int last = kept < max ? kept : max - 1;
        memmove(&out[at + 1], &out[at], (size_t)(last - at) * sizeof *out);
        out[at] = all[i];
        if (kept < max)
            kept++;
    }
    lh_raw_free(all);
    return kept;
}

int lh_diagnosis_sites(lh_diagnosis *d, const char *metric, lh_site *out,
                       int max)
{
    if (!d)
        return 0;
    /* allocation rates: sites by allocations made, not held */
    if (strcmp(metric, "heap.allocs") == 0 ||
        strcmp(metric, "heap.alloc_bytes") == 0) {
        if (d->heap[0] && d->heap[1])
            return lh_heapsites_alloc_diff(d->heap[0], d->heap[1], out, max);
        return 0;
    }
    if (strcmp(metric, "go.allocs") == 0 ||
        strcmp(metric, "go.alloc_bytes") == 0 ||
        strcmp(metric, "go.gc_auto_cycles") == 0) {
        if (d->go[0] && d->go[1])
            return lh_godiag_heap_allocs(d->go[0], d->go[1], out, max);
        return 0;
    }
    if (strcmp(metric, "go.goroutines") == 0) {
        if (d->go[0] && d->go[1])
            return lh_godiag_goroutines(d->go[0], d->go[1], out, max);
        return 0;
    }
    if (prefix(metric, "go.heap_")) {
        if (d->go[0] && d->go[1])
            return lh_godiag_heap(d->go[0], d->go[1], out, max);
        return 0;
    }
    if (prefix(metric, "mmap.")) {
        if (d->map[0] && d->map[1])
            return lh_mmapsites_diff(d->map[0], d->map[1], out, max);
        return 0;
    }
    if (strcmp(metric, "proc.fds") == 0) {
        if (d->fd[0] && d->fd[1])
            return go_held_fds(d, out,
                               lh_fddiag_diff(d->fd[0], d->fd[1], out, max),
                               max);
        return 0;
    }
    if (strcmp(metric, "proc.threads") == 0) {
        if (d->thr[0] && d->thr[1])
            return lh_threaddiag_diff(d->thr[0], d->thr[1], out, max);
        return 0;
    }
    /* proc.rss_bytes, proc.maps and target gauges: a Go target holds its
     * memory in the Go heap, a C target in malloc'd blocks. */
    if (!prefix(metric, "heap.") && d->go[0] && d->go[1]) {
        int n = lh_godiag_heap(d->go[0], d->go[1], out, max);
        if (n > 0)
            return n;
    }
    if (prefix(metric, "heap.") && d->nconf >= 2) {
        int n = confirmed_sites(d, out, max);
        if (n > 0)
            return n;
    }
    if (d->heap[0] && d->heap[1]) {
        int n = lh_heapsites_diff(d->heap[0], d->heap[1], out, max);
        if (n > 0 || prefix(metric, "heap."))
            return n;
    }
    /* No heap growth behind it: memory the target mapped itself. */
    if (d->map[0] && d->map[1])
        return lh_mmapsites_diff(d->map[0], d->map[1], out, max);
    return 0;
}

int lh_diagnosis_write(lh_diagnosis *d, const char *dir, const char *metric,
                       const lh_site *sites, int n, lh_buf *paths,
                       lh_buf *errors)
{
    if (!d)
        return 0;
    if (lh_mkdir_p(dir) < 0) {
        lh_buf_printf(errors, "%s: %s\n", dir, strerror(errno));
        return 0;
    }
    int files = 0;
    lh_buf path = LH_BUF_INIT, text = LH_BUF_INIT;
    lh_buf_printf(&path, "%s/%s.folded", dir, metric);
    int bytes = prefix(metric, "heap.") || prefix(metric, "go.heap_") ||
                strcmp(metric, "mmap.live_bytes") == 0;
    for (int i = 0; i < n; i++)
        lh_buf_printf(&text, "%s %.0f\n",
                      sites[i].folded[0] ? sites[i].folded : sites[i].func,
                      bytes ? sites[i].bytes : sites[i].count);
    if (n > 0 && lh_write_atomic(lh_buf_str(&path), text.data, text.len) == 0) {
        lh_buf_add(paths, path.data, path.len + 1);
        files++;
    } else if (n > 0) {
        lh_buf_printf(errors, "%s: %s\n", lh_buf_str(&path),
                      strerror(errno));
    }
    if (prefix(metric, "go.heap_") && d->go[0] && d->go[1]) {
        static const char *names[] = { "go-heap-base.pb.gz",
                                       "go-heap-end.pb.gz" };
        for (int k = 0; k < 2; k++) {
            lh_buf_reset(&path);
            lh_buf_printf(&path, "%s/%s", dir, names[k]);
            if (lh_godiag_write_heap_profile(d->go[k], lh_buf_str(&path)) ==
                0) {
                lh_buf_add(paths, path.data, path.len + 1);
                files++;
            } else {
                lh_buf_printf(errors, "%s: cannot write the profile\n",
                              lh_buf_str(&path));
            }
        }
    }
    lh_buf_free(&path);
    lh_buf_free(&text);
    return files;
}
