/*
 * probes.h - the metrics a workload can put invariants on.
 *
 *   heap.live_bytes, heap.live_allocs     the interposer (exact)
 *   proc.rss_bytes, proc.fds, proc.threads, proc.maps    /proc/self
 *   go.goroutines, go.heap_live_bytes, go.heap_objects, go.gc_cycles
 *                                         the Go probe, when linked
 *   target.NAME                           the target's gauges
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
    LH_M_BUILTIN_COUNT,     /* target gauges follow */
};

typedef struct lh_metric {
    char *name;
    const char *unit;       /* "B", "fds", "goroutines", ... */
    int available;          /* 0: known but absent (no Go probe) */
    int cheap;              /* cheap enough to read around every input */
    double default_slack;   /* absolute slack for stable/baseline */
} lh_metric;

typedef struct lh_probes {
    lh_target *target;      /* may be NULL */
    size_t n;
    lh_metric *metrics;
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

/* Read one metric now (no settle). */
double lh_probes_read(const lh_probes *p, int index);

/* Entries of an open /proc directory (/proc/self/fd, /proc/self/task),
 * not counting "." and "..", or -1.  Rewinds dirfd first, so a caller may
 * keep it open and count again, several times faster than opening it each
 * time (the fuzz oracle does; a kept fd counts among /proc/self/fd's
 * entries).  No allocation: it runs in the middle of measurements. */
long lh_proc_count_entries(int dirfd);

/* Unit of a metric name (also for names not in a table). */
const char *lh_metric_unit(const char *name);

/* Is name a builtin metric name or of the form target.NAME? */
int lh_metric_name_valid(const char *name);

#endif
