/* probes.c - reading metrics: interposer counters, /proc/self, Go, gauges. */
#include "probes.h"

#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "interpose.h"
#include "lock.h"

static const struct {
    const char *name;
    const char *unit;
    int cheap;
    double slack;
    int counter;
} builtin[LH_M_BUILTIN_COUNT] = {
    [LH_M_HEAP_LIVE_BYTES] = { "heap.live_bytes", "B", 1, 0, 0 },
    [LH_M_HEAP_LIVE_ALLOCS] = { "heap.live_allocs", "allocs", 1, 0, 0 },
    /* RSS moves with the allocator's caching; only growth well beyond a
     * few arenas' worth means something. */
    [LH_M_PROC_RSS_BYTES] = { "proc.rss_bytes", "B", 1, 8 << 20, 0 },
    [LH_M_PROC_FDS] = { "proc.fds", "fds", 1, 0, 0 },
    [LH_M_PROC_THREADS] = { "proc.threads", "threads", 1, 0, 0 },
    [LH_M_PROC_MAPS] = { "proc.maps", "maps", 0, 8, 0 },
    [LH_M_GO_GOROUTINES] = { "go.goroutines", "goroutines", 1, 0, 0 },
    /* Clean Go code creeps by a few bytes per call while the runtime's
     * own structures warm up; demand growth well above that. */
    [LH_M_GO_HEAP_LIVE_BYTES] = { "go.heap_live_bytes", "B", 0, 256 << 10,
                                  0 },
    [LH_M_GO_HEAP_OBJECTS] = { "go.heap_objects", "objects", 0, 2000, 0 },
    [LH_M_GO_GC_CYCLES] = { "go.gc_cycles", "cycles", 0, 0, 0 },
    [LH_M_MMAP_LIVE_BYTES] = { "mmap.live_bytes", "B", 1, 0, 0 },
    [LH_M_MMAP_LIVE_MAPS] = { "mmap.live_maps", "maps", 1, 0, 0 },
    /* Counters: not cheap, so the fuzz oracle never reads them around an
     * input as if their rise were growth. */
    [LH_M_HEAP_ALLOCS] = { "heap.allocs", "allocs", 0, 0, 1 },
    [LH_M_HEAP_ALLOC_BYTES] = { "heap.alloc_bytes", "B", 0, 0, 1 },
    [LH_M_GO_ALLOCS] = { "go.allocs", "objects", 0, 0, 1 },
    [LH_M_GO_ALLOC_BYTES] = { "go.alloc_bytes", "B", 0, 0, 1 },
    [LH_M_GO_GC_AUTO_CYCLES] = { "go.gc_auto_cycles", "cycles", 0, 0, 1 },
};

/* The Go probe's counters need rates.go's export (older probes lack it). */
static int go_counter(int i)
{
    return i == LH_M_GO_ALLOCS || i == LH_M_GO_ALLOC_BYTES ||
           i == LH_M_GO_GC_AUTO_CYCLES;
}

static void kept_open_all(void);

/* The malloc family is not ours: heap.* would read another allocator. */
static int heap_replaced;

const char *lh_metric_unit(const char *name)
{
    for (int i = 0; i < LH_M_BUILTIN_COUNT; i++)
        if (strcmp(builtin[i].name, name) == 0)
            return builtin[i].unit;
    return "";
}

int lh_metric_is_counter(const char *name)
{
    for (int i = 0; i < LH_M_BUILTIN_COUNT; i++)
        if (strcmp(builtin[i].name, name) == 0)
            return builtin[i].counter;
    return 0;
}

int lh_metric_name_valid(const char *name)
{
    for (int i = 0; i < LH_M_BUILTIN_COUNT; i++)
        if (strcmp(builtin[i].name, name) == 0)
            return 1;
    return strncmp(name, "target.", 7) == 0 && name[7] != '\0';
}

void lh_probes_init(lh_probes *p, lh_target *target)
{
    kept_open_all();
    lh_mmap_init();
    size_t ng = target ? target->ngauges : 0;
    p->target = target;
    p->n = LH_M_BUILTIN_COUNT + ng;
    p->metrics = lh_xcalloc(p->n, sizeof *p->metrics);
    p->excluding = 0;
    memset(p->offset, 0, sizeof p->offset);
    int has_go = target && target->has_go;
    heap_replaced = !lh_heap_interposed();
    for (int i = 0; i < LH_M_BUILTIN_COUNT; i++) {
        lh_metric *m = &p->metrics[i];
        m->name = lh_xstrdup(builtin[i].name);
        m->unit = builtin[i].unit;
        m->cheap = builtin[i].cheap;
        m->default_slack = builtin[i].slack;
        m->counter = builtin[i].counter;
        m->available = strncmp(m->name, "go.", 3) != 0 || has_go;
        if (go_counter(i) && has_go && !target->go.alloc_counters)
            m->available = 0;
        /* heap.* would read a flat line where the allocator is foreign,
         * or where malloc does not reach the interposer (valgrind) */
        if (strncmp(m->name, "heap.", 5) == 0 &&
            ((target && target->allocator) || heap_replaced))
            m->available = 0;
        if (strncmp(m->name, "mmap.", 5) == 0 && target &&
            target->mmap_unknown)
            m->available = 0;
    }
    if (has_go) {
        /* The Go runtime mallocs a few hundred bytes, and may start an OS
         * thread, whenever it grows its pool of threads -- at any time in
         * a run, bounded, and not the target's doing. */
        p->metrics[LH_M_HEAP_LIVE_BYTES].default_slack = 64 << 10;
        p->metrics[LH_M_HEAP_LIVE_ALLOCS].default_slack = 64;
        p->metrics[LH_M_PROC_THREADS].default_slack = 8;
    }
    for (size_t g = 0; g < ng; g++) {
        lh_metric *m = &p->metrics[LH_M_BUILTIN_COUNT + g];
        size_t len = strlen(target->gauges[g].name) + sizeof "target.";
        m->name = lh_xmalloc(len);
        snprintf(m->name, len, "target.%s", target->gauges[g].name);
        m->unit = "";
        m->cheap = 1;
        m->available = 1;
    }
}

int lh_probes_find(const lh_probes *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->metrics[i].name, name) == 0)
            return (int)i;
    return -1;
}

void lh_probes_explain(const lh_probes *p, const char *name, char *buf,
                       size_t len)
{
    const char *lib = p->target ? p->target->path : "(no target)";
    if (strncmp(name, "heap.", 5) == 0 && heap_replaced &&
        lh_probes_find(p, name) >= 0) {
        snprintf(buf, len,
                 "metric '%s' is not available: malloc and free are not "
                 "leakhound's in this process (replaced by a tool such as "
                 "valgrind: give it "
                 "--soname-synonyms=somalloc=nouserintercepts)", name);
    } else if (strncmp(name, "go.", 3) == 0 && p->target &&
               p->target->has_go && lh_probes_find(p, name) >= 0 &&
               go_counter(lh_probes_find(p, name))) {
        snprintf(buf, len,
                 "metric '%s' is not available: target '%s' links an older "
                 "leakhound Go probe without allocation counters (no "
                 "leakhound_go_alloc_counters symbol); rebuild it against "
                 "this leakhound's targets/go/probe", name, lib);
    } else if (strncmp(name, "go.", 3) == 0 &&
               lh_probes_find(p, name) >= 0) {
        snprintf(buf, len,
                 "metric '%s' is not available: target '%s' does not link "
                 "the leakhound Go probe (no leakhound_go_probe_version "
                 "symbol)", name, lib);
    } else if (strncmp(name, "heap.", 5) == 0 && p->target &&
               p->target->allocator) {
        snprintf(buf, len,
                 "metric '%s' is not available: target '%s' runs with "
                 "%s, whose blocks leakhound's malloc interposer cannot "
                 "see (a leak there reads as a flat line); use "
                 "proc.rss_bytes, the allocator's own statistics exported "
                 "as a gauge (leakhound_gauge_NAME), or build the target "
                 "against glibc malloc", name, lib, p->target->allocator);
    } else if (strncmp(name, "mmap.", 5) == 0 && p->target &&
               p->target->mmap_unknown) {
        snprintf(buf, len,
                 "metric '%s' is not available: target '%s' is a Go "
                 "library without a symbol table (stripped), so the Go "
                 "runtime's own mappings (x_cgo_mmap) cannot be told from "
                 "the target's; build it without -s", name, lib);
    } else if (strncmp(name, "target.", 7) == 0) {
        snprintf(buf, len,
                 "metric '%s' is not available: target '%s' exports no "
                 "gauge function leakhound_gauge_%s", name, lib, name + 7);
    } else {
        snprintf(buf, len, "unknown metric '%s'", name);
    }
}

void lh_probes_settle(const lh_probes *p)
{
    if (p->target && p->target->has_go)
        p->target->go.settle();
}

/* ---- kept /proc fds ------------------------------------------------- */

static const char *const kept_path[LH_PROC_NFILES] = {
    [LH_PROC_FD_DIR] = "/proc/self/fd",
    [LH_PROC_TASK_DIR] = "/proc/self/task",
    [LH_PROC_STAT] = "/proc/self/stat",
    [LH_PROC_STATM] = "/proc/self/statm",
    [LH_PROC_MAPS] = "/proc/self/maps",
};

typedef struct kept_fd {
    int fd;                 /* -1: not open */
    pid_t pid;              /* whose /proc/self it is */
    uint64_t dev, ino;
} kept_fd;

#define RESERVE_MAX 64

static kept_fd kept[LH_PROC_NFILES] = {
    { -1, 0, 0, 0 }, { -1, 0, 0, 0 }, { -1, 0, 0, 0 }, { -1, 0, 0, 0 },
    { -1, 0, 0, 0 },
};
static kept_fd reserve[RESERVE_MAX];
static int nreserve;
static lh_spinlock kept_lock;

static int raw_close(int fd)
{
    return (int)syscall(SYS_close, fd);
}

static int same_file(const kept_fd *k)
{
    struct stat st;
    return fstat(k->fd, &st) == 0 &&
           (uint64_t)st.st_dev == k->dev && (uint64_t)st.st_ino == k->ino;
}

/* Open path into k (raw: no interposer records it, nothing allocates). */
static int kept_open(kept_fd *k, const char *path, int flags)
{
    struct stat st;
    k->fd = (int)syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC);
    if (k->fd < 0)
        return -1;
    if (fstat(k->fd, &st) < 0) {
        raw_close(k->fd);
        k->fd = -1;
        return -1;
    }
    k->pid = getpid();
    k->dev = (uint64_t)st.st_dev;
    k->ino = (uint64_t)st.st_ino;
    return 0;
}

/* The kept fd of f, reopened when it is not ours any more; lock held.
 * A number the target reused is its fd now: only forget it. */
static int kept_get(lh_proc_file f)
{
    kept_fd *k = &kept[f];
    if (k->fd >= 0 && k->pid == getpid() && same_file(k))
        return k->fd;
    if (k->fd >= 0 && k->pid != getpid())
        raw_close(k->fd);       /* the parent's, inherited by a fork */
    int dir = f == LH_PROC_FD_DIR || f == LH_PROC_TASK_DIR;
    kept_open(k, kept_path[f], O_RDONLY | (dir ? O_DIRECTORY : 0));
    return k->fd;
}

static void kept_open_all(void)
{
    static int registered;
    lh_spin_lock(&kept_lock);
    if (!registered++) {
        /* held across fork; below fddiag (20) and threaddiag (30), whose
         * locks the listers' callbacks take */
        lh_heap_suspend();
        lh_lock_across_fork(&kept_lock, 5);
        lh_heap_resume();
    }
    for (int f = 0; f < LH_PROC_NFILES; f++)
        kept_get((lh_proc_file)f);
    lh_spin_unlock(&kept_lock);
}

int lh_proc_own_fd(int fd)
{
    if (fd < 0)
        return 0;
    /* a number the target closed and reused is the target's */
    for (int f = 0; f < LH_PROC_NFILES; f++)
        if (kept[f].fd == fd)
            return kept[f].pid == getpid() && same_file(&kept[f]);
    for (int i = 0; i < nreserve; i++)
        if (reserve[i].fd == fd)
            return reserve[i].pid == getpid() && same_file(&reserve[i]);
    return 0;
}

int lh_fd_reserve(int n)
{
    if (n > RESERVE_MAX)
        n = RESERVE_MAX;
    lh_spin_lock(&kept_lock);
    int rc = 0;
    while (nreserve < n) {
        if (kept_open(&reserve[nreserve], "/dev/null", O_RDONLY) < 0) {
            rc = -1;
            break;
        }
        nreserve++;
    }
    lh_spin_unlock(&kept_lock);
    return rc;
}

void lh_fd_release(void)
{
    lh_spin_lock(&kept_lock);
    for (int i = 0; i < nreserve; i++)
        if (reserve[i].pid == getpid() && same_file(&reserve[i]))
            raw_close(reserve[i].fd);
    nreserve = 0;
    lh_spin_unlock(&kept_lock);
}

/* ---- /proc readers: into stack buffers, no allocation ----------------- */

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

long lh_proc_list(int dirfd, lh_proc_entry_fn *fn, void *ud)
{
    if (dirfd < 0 || syscall(SYS_lseek, dirfd, 0L, SEEK_SET) < 0)
        return -1;
    char buf[8192] __attribute__((aligned(8)));
    long count = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, dirfd, buf, sizeof buf);
        if (n < 0)
            return -1;
        if (n == 0)
            return count;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] < '0' || d->d_name[0] > '9')
                continue;
            count++;
            long num = strtol(d->d_name, NULL, 10);
            if (fn && fn(dirfd, num, d->d_name, ud))
                return count;
        }
    }
}

long lh_proc_list_self(lh_proc_file dir, lh_proc_entry_fn *fn, void *ud)
{
    lh_spin_lock(&kept_lock);
    long n = lh_proc_list(kept_get(dir), fn, ud);
    lh_spin_unlock(&kept_lock);
    return n;
}

/* A kept /proc file's content from offset 0. */
static ssize_t read_kept(lh_proc_file f, char *buf, size_t cap)
{
    lh_spin_lock(&kept_lock);
    ssize_t n = pread(kept_get(f), buf, cap - 1, 0);
    lh_spin_unlock(&kept_lock);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

static double read_rss(void)
{
    char buf[256];
    if (read_kept(LH_PROC_STATM, buf, sizeof buf) < 0)
        return NAN;
    unsigned long size, resident;
    if (sscanf(buf, "%lu %lu", &size, &resident) != 2)
        return NAN;
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static double read_threads(void)
{
    char buf[2048];
    if (read_kept(LH_PROC_STAT, buf, sizeof buf) < 0)
        return NAN;
    /* The command name may contain spaces and parentheses: fields are
     * counted from the last ')'. num_threads is field 20. */
    char *p = strrchr(buf, ')');
    if (!p)
        return NAN;
    p += 2;
    for (int field = 3; field < 20 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? strtod(p, NULL) : NAN;
}

/* Open fds, all and the probes' own (still ours: checked). */
static int count_fds(long *all, long *own)
{
    lh_spin_lock(&kept_lock);
    *all = lh_proc_list(kept_get(LH_PROC_FD_DIR), NULL, NULL);
    *own = 0;
    pid_t me = getpid();
    for (int f = 0; f < LH_PROC_NFILES; f++)
        *own += kept[f].fd >= 0 && kept[f].pid == me &&
                same_file(&kept[f]);
    for (int i = 0; i < nreserve; i++)
        *own += reserve[i].pid == me && same_file(&reserve[i]);
    lh_spin_unlock(&kept_lock);
    return *all < 0 ? -1 : 0;
}

static double read_fds(void)
{
    long all, own;
    if (count_fds(&all, &own) < 0)
        return NAN;
    return (double)(all - own);
}

int lh_probes_fd_table(long *open, long *limit)
{
    struct rlimit rl;
    *limit = -1;
    /* the whole table, ours too: no need to tell which are ours */
    lh_spin_lock(&kept_lock);
    *open = lh_proc_list(kept_get(LH_PROC_FD_DIR), NULL, NULL);
    lh_spin_unlock(&kept_lock);
    if (*open < 0)
        return -1;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return 0;
    *limit = (long)rl.rlim_cur;
    return *open >= *limit;
}

static double read_maps(void)
{
    char buf[16384];
    long lines = 0;
    off_t at = 0;
    ssize_t n;
    lh_spin_lock(&kept_lock);
    int fd = kept_get(LH_PROC_MAPS);
    while ((n = pread(fd, buf, sizeof buf, at)) > 0) {
        at += n;
        for (ssize_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    }
    lh_spin_unlock(&kept_lock);
    return n < 0 ? NAN : (double)lines;
}

/* A counter's raw value (NaN when unavailable or not provided). */
static double read_counter(const lh_probes *p, int index)
{
    if (!p->metrics[index].available)
        return NAN;
    if (index == LH_M_HEAP_ALLOCS || index == LH_M_HEAP_ALLOC_BYTES) {
        lh_heap_stats hs;
        lh_heap_read(&hs);
        return (double)(index == LH_M_HEAP_ALLOCS ? hs.total_allocs
                                                  : hs.total_alloc_bytes);
    }
    int64_t go[3] = { -1, -1, -1 };
    p->target->go.alloc_counters(go);
    int64_t v = go[index - LH_M_GO_ALLOCS];
    return v < 0 ? NAN : (double)v;
}

/* Only the interposer's counters are excluded: the Go runtime counts a
 * small-object span's free slots as allocated when a P takes it and gives
 * them back when the span is released (at GC), so its counts are exact
 * only right after a GC -- at the sample, not before the settle.  What the
 * settle itself allocates in Go (a few objects) stays in the phase. */
void lh_probes_exclude_begin(lh_probes *p)
{
    if (p->excluding)
        return;
    for (int i = LH_M_HEAP_ALLOCS; i <= LH_M_HEAP_ALLOC_BYTES; i++)
        p->held[i] = read_counter(p, i);
    p->excluding = 1;
}

void lh_probes_exclude_end(lh_probes *p)
{
    if (!p->excluding)
        return;
    for (int i = LH_M_HEAP_ALLOCS; i <= LH_M_HEAP_ALLOC_BYTES; i++) {
        double now = read_counter(p, i);
        if (isfinite(now) && isfinite(p->held[i]))
            p->offset[i] += now - p->held[i];
    }
    p->excluding = 0;
}

double lh_probes_read(const lh_probes *p, int index)
{
    if (index < 0 || (size_t)index >= p->n || !p->metrics[index].available)
        return NAN;
    lh_heap_stats hs;
    lh_mmap_stats ms;
    int64_t go[3];
    switch (index) {
    case LH_M_HEAP_LIVE_BYTES:
        lh_heap_read(&hs);
        return (double)hs.live_bytes;
    case LH_M_HEAP_LIVE_ALLOCS:
        lh_heap_read(&hs);
        return (double)hs.live_allocs;
    case LH_M_PROC_RSS_BYTES:
        return read_rss();
    case LH_M_PROC_FDS:
        return read_fds();
    case LH_M_PROC_THREADS:
        return read_threads();
    case LH_M_PROC_MAPS:
        return read_maps();
    case LH_M_MMAP_LIVE_BYTES:
        lh_mmap_read(&ms);
        return (double)ms.live_bytes;
    case LH_M_MMAP_LIVE_MAPS:
        lh_mmap_read(&ms);
        return (double)ms.live_maps;
    case LH_M_HEAP_ALLOCS:
    case LH_M_HEAP_ALLOC_BYTES:
    case LH_M_GO_ALLOCS:
    case LH_M_GO_ALLOC_BYTES:
    case LH_M_GO_GC_AUTO_CYCLES:
        if (p->excluding && !go_counter(index))
            return p->held[index] - p->offset[index];
        return read_counter(p, index) - p->offset[index];
    case LH_M_GO_GOROUTINES:
        return (double)p->target->go.goroutines();
    case LH_M_GO_HEAP_LIVE_BYTES:
    case LH_M_GO_HEAP_OBJECTS:
    case LH_M_GO_GC_CYCLES:
        p->target->go.memstats(go);
        return (double)go[index - LH_M_GO_HEAP_LIVE_BYTES];
    default:
        return (double)p->target->gauges[index - LH_M_BUILTIN_COUNT].fn();
    }
}

/* The thread count the last quiesce settled on (-1: none yet). */
static double quiet_threads = -1;

#define QUIET_ROSE 20           /* unchanged reads, 0.5 ms apart, to settle
                                 * on a count that rose: 10 ms */
#define QUIET_MAX 200           /* reads at most: 100 ms */

void lh_probes_quiesce(const lh_probes *p)
{
    /* pthread_join returns once the kernel clears the thread's tid, a
     * moment before the thread leaves the process's thread count: wait
     * (briefly, bounded) for the count to stop moving.  A thread still
     * leaving makes the count read high, and one moving down may still
     * be moving: a count equal to the last settled one needs no wait
     * (each sample of a run would sleep 0.5 ms for nothing), and neither
     * does a count of 1: no other thread exists, none can be leaving. */
    double last = read_threads();
    if (last == quiet_threads || last == 1) {
        quiet_threads = last;
        return;
    }
    /* A count above the last settled one may be threads started and about
     * to end (a detached thread per call) that a loaded machine has not
     * run yet: one unchanged read 0.5 ms later proved nothing (a sample
     * read 27 such threads, and their TLS on the heap, as growth).  Above
     * it, the count must hold for QUIET_ROSE reads; at most QUIET_MAX.
     * Not with a Go runtime, whose own threads come and go (its slack on
     * proc.threads covers them) and would cost the wait at every sample. */
    int rose = !(p && p->target && p->target->has_go) ? QUIET_ROSE : 1;
    int need = last > quiet_threads ? rose : 1, same = 0;
    for (int i = 0; i < QUIET_MAX && same < need; i++) {
        struct timespec ts = { 0, 500000 };
        nanosleep(&ts, NULL);
        double now = read_threads();
        if (now == last) {
            same++;
            continue;
        }
        last = now;
        same = 0;
        if (now == 1)
            break;
        need = now > quiet_threads ? rose : 1;
    }
    quiet_threads = last;
}

void lh_probes_read_all(const lh_probes *p, double *out)
{
    /* Heap first, before the other probes' syscalls can allocate anything
     * in a library, and Go memstats once for its three metrics. */
    lh_heap_stats hs;
    lh_heap_read(&hs);
    out[LH_M_HEAP_LIVE_BYTES] = (double)hs.live_bytes;
    out[LH_M_HEAP_LIVE_ALLOCS] = (double)hs.live_allocs;
    for (size_t i = LH_M_PROC_RSS_BYTES; i < p->n; i++) {
        if (i >= LH_M_GO_HEAP_LIVE_BYTES && i <= LH_M_GO_GC_CYCLES)
            continue;
        out[i] = lh_probes_read(p, (int)i);
    }
    if (p->target && p->target->has_go) {
        int64_t go[3];
        p->target->go.memstats(go);
        out[LH_M_GO_HEAP_LIVE_BYTES] = (double)go[0];
        out[LH_M_GO_HEAP_OBJECTS] = (double)go[1];
        out[LH_M_GO_GC_CYCLES] = (double)go[2];
    } else {
        out[LH_M_GO_HEAP_LIVE_BYTES] = NAN;
        out[LH_M_GO_HEAP_OBJECTS] = NAN;
        out[LH_M_GO_GC_CYCLES] = NAN;
    }
}
