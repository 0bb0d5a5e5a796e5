/* probes.c - reading metrics: interposer counters, /proc/self, Go, gauges. */
#include "probes.h"

#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "interpose.h"

static const struct {
    const char *name;
    const char *unit;
    int cheap;
    double slack;
} builtin[LH_M_BUILTIN_COUNT] = {
    [LH_M_HEAP_LIVE_BYTES] = { "heap.live_bytes", "B", 1, 0 },
    [LH_M_HEAP_LIVE_ALLOCS] = { "heap.live_allocs", "allocs", 1, 0 },
    /* RSS moves with the allocator's caching; only growth well beyond a
     * few arenas' worth means something. */
    [LH_M_PROC_RSS_BYTES] = { "proc.rss_bytes", "B", 1, 8 << 20 },
    [LH_M_PROC_FDS] = { "proc.fds", "fds", 1, 0 },
    [LH_M_PROC_THREADS] = { "proc.threads", "threads", 1, 0 },
    [LH_M_PROC_MAPS] = { "proc.maps", "maps", 0, 8 },
    [LH_M_GO_GOROUTINES] = { "go.goroutines", "goroutines", 1, 0 },
    /* Clean Go code creeps by a few bytes per call while the runtime's
     * own structures warm up; demand growth well above that. */
    [LH_M_GO_HEAP_LIVE_BYTES] = { "go.heap_live_bytes", "B", 0, 256 << 10 },
    [LH_M_GO_HEAP_OBJECTS] = { "go.heap_objects", "objects", 0, 2000 },
    [LH_M_GO_GC_CYCLES] = { "go.gc_cycles", "cycles", 0, 0 },
};

const char *lh_metric_unit(const char *name)
{
    for (int i = 0; i < LH_M_BUILTIN_COUNT; i++)
        if (strcmp(builtin[i].name, name) == 0)
            return builtin[i].unit;
    return "";
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
    size_t ng = target ? target->ngauges : 0;
    p->target = target;
    p->n = LH_M_BUILTIN_COUNT + ng;
    p->metrics = lh_raw_calloc(p->n, sizeof *p->metrics);
    int has_go = target && target->has_go;
    for (int i = 0; i < LH_M_BUILTIN_COUNT; i++) {
        lh_metric *m = &p->metrics[i];
        m->name = lh_raw_strdup(builtin[i].name);
        m->unit = builtin[i].unit;
        m->cheap = builtin[i].cheap;
        m->default_slack = builtin[i].slack;
        m->available = strncmp(m->name, "go.", 3) != 0 || has_go;
        /* heap.* would read a flat line where the allocator is foreign */
        if (strncmp(m->name, "heap.", 5) == 0 && target &&
            target->allocator)
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
        m->name = lh_raw_malloc(len);
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
    if (strncmp(name, "go.", 3) == 0 && lh_probes_find(p, name) >= 0) {
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

/* /proc readers use raw open/read into stack buffers: no allocation, so they
 * can run in the middle of a measurement without disturbing the heap. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

static double read_rss(void)
{
    char buf[256];
    if (read_small("/proc/self/statm", buf, sizeof buf) < 0)
        return NAN;
    unsigned long size, resident;
    if (sscanf(buf, "%lu %lu", &size, &resident) != 2)
        return NAN;
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static double read_threads(void)
{
    char buf[2048];
    if (read_small("/proc/self/stat", buf, sizeof buf) < 0)
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

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static double read_fds(void)
{
    int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NAN;
    char buf[8192] __attribute__((aligned(8)));
    long count = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            if (d->d_name[0] != '.')
                count++;
            off += d->d_reclen;
        }
    }
    close(fd);
    return (double)(count - 1);     /* not the directory fd itself */
}

static double read_maps(void)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NAN;
    char buf[16384];
    long lines = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    close(fd);
    return (double)lines;
}

double lh_probes_read(const lh_probes *p, int index)
{
    if (index < 0 || (size_t)index >= p->n || !p->metrics[index].available)
        return NAN;
    lh_heap_stats hs;
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

void lh_probes_quiesce(const lh_probes *p)
{
    (void)p;
    /* pthread_join returns once the kernel clears the thread's tid, a
     * moment before the thread leaves the process's thread count: wait
     * (briefly, bounded) for the count to stop moving. */
    double last = read_threads();
    for (int i = 0; i < 50; i++) {
        struct timespec ts = { 0, 500000 };
        nanosleep(&ts, NULL);
        double now = read_threads();
        if (now == last)
            break;
        last = now;
    }
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
