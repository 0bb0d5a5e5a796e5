/*
 * probes.h - the metrics a workload can put invariants on.
 *
 *   heap.live_bytes, heap.live_allocs     the interposer (exact)
 *   mmap.live_bytes, mmap.live_maps       the interposer: the target's own
 *                                         mappings (exact)
 *   proc.rss_bytes, proc.fds, proc.threads, proc.maps    /proc/self
 *   go.goroutines, go.heap_live_bytes, go.heap_objects, go.gc_cycles
 *                                         the Go probe, when linked
 *   target.NAME                           the target's gauges
 *
 * Counters (cumulative: work done since start, judged as a rate per
 * iteration by leak.rate, never as a level):
 *   heap.allocs, heap.alloc_bytes         the interposer's totals
 *   go.allocs, go.alloc_bytes, go.gc_auto_cycles
 *                                         the Go probe's runtime/metrics
 *                                         (rates.go), when it has them
 *
 * Probes know nothing of Lua or of the detector.
 */
#ifndef LEAKHOUND_PROBES_H
#define LEAKHOUND_PROBES_H

#include <stddef.h>

#include "target.h"

enum {
    LH_M_HEAP_LIVE_BYTES,
    LH_M_HEAP_LIVE_ALLOCS,
    LH_M_PROC_RSS_BYTES,
    LH_M_PROC_FDS,
    LH_M_PROC_THREADS,
    LH_M_PROC_MAPS,
    LH_M_GO_GOROUTINES,
    LH_M_GO_HEAP_LIVE_BYTES,
    LH_M_GO_HEAP_OBJECTS,
    LH_M_GO_GC_CYCLES,
    LH_M_MMAP_LIVE_BYTES,
    LH_M_MMAP_LIVE_MAPS,
    LH_M_HEAP_ALLOCS,
    LH_M_HEAP_ALLOC_BYTES,
    LH_M_GO_ALLOCS,
    LH_M_GO_ALLOC_BYTES,
    LH_M_GO_GC_AUTO_CYCLES,
    LH_M_BUILTIN_COUNT,     /* target gauges follow */
};

typedef struct lh_metric {
    char *name;
    const char *unit;       /* "B", "fds", "goroutines", ... */
    int available;          /* 0: known but absent (no Go probe) */
    int cheap;              /* cheap enough to read around every input */
    double default_slack;   /* absolute slack for stable/baseline */
    int counter;            /* cumulative: judged as a rate (leak.rate) */
} lh_metric;

typedef struct lh_probes {
    lh_target *target;      /* may be NULL */
    size_t n;
    lh_metric *metrics;
    /* Counters leave out the work done while the harness settles and
     * samples (a forced GC, the probes' own reads): see
     * lh_probes_exclude_begin. */
    int excluding;
    double held[LH_M_BUILTIN_COUNT];    /* raw counters at its begin */
    double offset[LH_M_BUILTIN_COUNT];  /* excluded so far */
} lh_probes;

/* Builds the metric table for a target (NULL: builtins only). */
void lh_probes_init(lh_probes *p, lh_target *target);

/* Index of a metric by name, or -1. */
int lh_probes_find(const lh_probes *p, const char *name);

/* Why a known metric is unavailable, or why a name is unknown. */
void lh_probes_explain(const lh_probes *p, const char *name, char *buf,
                       size_t len);

/* Let the runtime settle before sampling (Go: forced GC). */
void lh_probes_settle(const lh_probes *p);

/* Wait (bounded) for transient process state to clear: threads that
 * were joined but are still leaving the thread count. */
void lh_probes_quiesce(const lh_probes *p);

/* Read every available metric into out[0..n) (unavailable ones: NaN). */
void lh_probes_read_all(const lh_probes *p, double *out);

/* Between a phase's last step and the sample after it, the harness
 * settles (Go: runtime.GC twice) and reads probes, which allocate: not
 * the workload's work.  From begin to end the counter metrics read their
 * value at begin, and what they count meanwhile is subtracted for good.
 * begin while excluding is a no-op. */
void lh_probes_exclude_begin(lh_probes *p);
void lh_probes_exclude_end(lh_probes *p);

/* Is name a counter metric (heap.allocs, go.alloc_bytes, ...)? */
int lh_metric_is_counter(const char *name);

/* Read one metric now (no settle). */
double lh_probes_read(const lh_probes *p, int index);

/* ---- /proc/self through fds opened in advance ----------------------
 *
 * A target that has used every fd (EMFILE) must still be measured: the
 * probes keep /proc/self/fd, /task, /stat, /statm and /maps open from
 * lh_probes_init on (raw syscalls, O_CLOEXEC) and read them with
 * lseek/getdents64 and pread.  A kept fd is checked at each use (device and
 * inode, process id) and reopened when the target closed or reused its
 * number, or after a fork.  The probes' own fds are not counted in
 * proc.fds. */
typedef enum lh_proc_file {
    LH_PROC_FD_DIR,         /* /proc/self/fd */
    LH_PROC_TASK_DIR,       /* /proc/self/task */
    LH_PROC_STAT,
    LH_PROC_STATM,
    LH_PROC_MAPS,
    LH_PROC_NFILES,
} lh_proc_file;

/* Called for each numeric entry of a /proc directory (an fd number, a
 * tid) with the directory's fd, the value and the name; nonzero stops the
 * listing. */
typedef int lh_proc_entry_fn(int dirfd, long num, const char *name,
                             void *ud);

/* The one lister of /proc directories: rewinds dirfd and calls fn (NULL:
 * just count) for each numeric entry.  The number of entries visited, or
 * -1.  Raw syscalls, no allocation: it runs in the middle of measurements.
 * A caller may keep dirfd open and list it again (a kept fd counts among
 * /proc/self/fd's entries); one thread at a time per dirfd. */
long lh_proc_list(int dirfd, lh_proc_entry_fn *fn, void *ud);

/* lh_proc_list on a kept directory (LH_PROC_FD_DIR, LH_PROC_TASK_DIR),
 * under the probes' lock: fn may call lh_proc_own_fd but no other probe
 * function.  -1 when the directory cannot be opened. */
long lh_proc_list_self(lh_proc_file dir, lh_proc_entry_fn *fn, void *ud);

/* Is fd one of the probes' own (kept /proc fds, reserved spares)? */
int lh_proc_own_fd(int fd);

/* Spare fds for the harness's own writes after a target exhausted its fds
 * (report files, folded stacks, addr2line's pipes): n dups of /dev/null
 * (at most 64), held from before the workload, not counted in proc.fds,
 * closed by lh_fd_release before the harness writes.  0, or -1. */
int lh_fd_reserve(int n);
void lh_fd_release(void);

/* The fd table now: *open fds (all of them), *limit (RLIMIT_NOFILE soft
 * limit, -1: none).  1 when it is full (the next open fails with EMFILE),
 * 0 when not, -1 when it cannot be read. */
int lh_probes_fd_table(long *open, long *limit);

/* Unit of a metric name (also for names not in a table). */
const char *lh_metric_unit(const char *name);

/* Is name a builtin metric name or of the form target.NAME? */
int lh_metric_name_valid(const char *name);

#endif
