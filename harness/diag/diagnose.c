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
    lh_heapsnap *conf[2];   /* the confirmation window, every allocation */
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
    if (!d || d->conf[0])
        return;
    lh_heapsites_start(0);
    d->conf[0] = lh_heapsites_snapshot();
}

void lh_diagnosis_confirm_end(lh_diagnosis *d)
{
    if (!d || !d->conf[0] || d->conf[1])
        return;
    d->conf[1] = lh_heapsites_snapshot();
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
    if (prefix(metric, "heap.") && d->conf[0] && d->conf[1]) {
        int n = lh_heapsites_diff(d->conf[0], d->conf[1], out, max);
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
