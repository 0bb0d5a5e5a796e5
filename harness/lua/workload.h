/*
 * workload.h - a workload's configuration, read from its Lua table.
 *
 * The functions (setup, step, ...) stay in Lua; this is everything the C
 * side needs to schedule and judge the run.
 */
#ifndef LEAKHOUND_WORKLOAD_H
#define LEAKHOUND_WORKLOAD_H

#include <lua.h>

#include "buf.h"
#include "detector.h"
#include "diag.h"

#define LH_MAX_INVARIANTS 64

/* How far a value may rise against a stored baseline: absolute, or a
 * percentage of the baseline's value.  given = 0: the gate's default. */
typedef struct lh_tolerance {
    int given;
    double value;
    int is_pct;
} lh_tolerance;

typedef struct lh_invariant {
    char metric[128];
    const char *kind_name;      /* "stable", "baseline", ... */
    int slack_given;            /* otherwise the metric's default */
    lh_inv_spec spec;
    lh_tolerance tol_per_iter;  /* growth per iteration vs the baseline */
    lh_tolerance tol_peak;      /* peak vs the baseline */
} lh_invariant;

typedef struct lh_workload {
    char name[256];
    char source[512];           /* script:line of the declaration */
    char target[4096];          /* target library path, "" if none */
    char corpus[4096];          /* inputs = leak.corpus(dir): the seeds;
                                   such a workload is fuzzable */
    char expect[16];            /* "", "clean", "fail", ... */
    char expect_metrics[512];   /* comma-separated, for expect = fail */
    int index;                  /* 1-based position in the script */
    long warmup;
    long iterations;            /* 0 with duration */
    double duration;            /* seconds, 0 with iterations */
    int threads;
    int samples;                /* capped at iterations */
    int samples_given;
    int samples_capped;         /* more were asked for than iterations */
    double timeout;             /* seconds */
    double horizon;             /* a run may be extended to horizon x
                                   iterations + warmup (detector.h) */
    int has_settle;             /* settle function given */
    int settle_disabled;        /* settle = false */
    int has_invariants;         /* invariants given (else defaults) */
    int diagnose;               /* record where growth is held (default) */
    long sample_bytes;          /* heap sampling period in bytes */
    int has_goignore;           /* ignore_goroutines given */
    lh_goignore goignore;
    lh_notmine not_mine;        /* more code that is not the user's */
    int ninvariants;
    lh_invariant inv[LH_MAX_INVARIANTS];
} lh_workload;

#define LH_DEFAULT_WARMUP 100
#define LH_DEFAULT_ITERATIONS 10000
#define LH_DEFAULT_SAMPLES 30
#define LH_DEFAULT_TIMEOUT 300.0
/* One heap sample per 64 KiB allocated on average (Go's MemProfileRate is
 * 512 KiB, tcmalloc's 2 MiB): a slow leak the samples miss gets the
 * worker's second look at every allocation (worker.c, sites_unexplained),
 * and at 16 KiB the samples cost `threads = 2` on an allocation-bound op
 * a sixth of its iterations/s (README, Benchmarks > Interposer). */
#define LH_DEFAULT_SAMPLE_BYTES 65536

/* Read the workload table at idx.  -1 with a message on bad content. */
int lh_workload_read(lua_State *L, int idx, lh_workload *w, lh_buf *err);

/* An invariant that can never fail is a configuration error: -1 with a
 * message naming the workload, samples and the minimum, when too few
 * samples are taken for some invariant's trend test to reach p < alpha
 * (without invariants: the defaults').  lh_workload_read calls it. */
int lh_workload_check_samples(const lh_workload *w, lh_buf *err);

/* Add an invariant (used for the defaults). */
void lh_workload_add(lh_workload *w, const char *kind, const char *metric);

#endif
