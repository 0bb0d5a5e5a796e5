/*
 * detector.h - turns a series of samples into a leak verdict.
 *
 * The detector knows nothing of Lua, probes or processes: it takes numbers
 * and returns a verdict with its evidence. Every decision uses robust
 * statistics (Mann-Kendall trend test, Theil-Sen slope with Sen's
 * confidence interval), never first-versus-last.
 */
#ifndef LEAKHOUND_DETECTOR_H
#define LEAKHOUND_DETECTOR_H

#include <stddef.h>

/* Longest series lh_detect and lh_theil_sen accept.  Theil-Sen keeps all
 * n(n-1)/2 pairwise slopes (64 MiB at this size); the schedule takes ~31. */
#define LH_DETECT_MAX_SAMPLES 4096

typedef enum lh_inv_kind {
    LH_INV_STABLE,      /* no upward trend in the last half of samples */
    LH_INV_BASELINE,    /* final value back within slack of the baseline */
    LH_INV_BOUNDED,     /* never above max */
    LH_INV_MAX_GROWTH,  /* growth per iteration at most per_iter */
    LH_INV_RATE,        /* a cumulative counter's increase per iteration
                           (allocations per op) at most max */
} lh_inv_kind;

typedef struct lh_inv_spec {
    lh_inv_kind kind;
    double slack;       /* tolerated growth (stable, baseline) */
    int slack_is_pct;   /* slack is a percentage of the baseline value */
    double max;         /* bounded, rate */
    double per_iter;    /* max_growth */
    double alpha;       /* significance level; 0 means the default, 0.001
                           (rate: 0.01, its interval is at 99%) */
    /* stable, growth in steps (see detector.c): */
    size_t planned;     /* samples of the planned run, baseline included;
                           later ones extend it (0: all n are planned) */
    double x_offset;    /* iterations run before x = 0 (the warmup) */
} lh_inv_spec;

typedef struct lh_verdict {
    int fail;           /* 1 when the invariant is violated */
    double slope;       /* Theil-Sen growth per iteration (judged window) */
    double slope_lo;    /* lower bound of its confidence interval */
    double slope_hi;    /* upper bound */
    double p_value;     /* one-sided Mann-Kendall p for an upward trend */
    double growth;      /* growth the verdict compared with the threshold */
    double threshold;   /* the limit it was compared with (same units) */
    double baseline;    /* first sample (taken before measured iterations) */
    double final;       /* last sample */
    double peak;        /* highest sample or observed peak */
    size_t judged;      /* number of samples in the judged window */
    double extend_to;   /* stable: x the run must reach to tell a plateau
                           from growth in steps (0: nothing unresolved);
                           steps under the slack ask for it with neither
                           unresolved nor creeping: not reached, the pass
                           stands */
    int unresolved;     /* stable: the run ended before extend_to: neither
                           pass nor fail (fail is 0) */
    int creeping;       /* stable: extend_to is asked by a significant,
                           robust trend whose growth is within the slack
                           (a slow leak or a cache still filling): the
                           iteration where its pace puts twice the slack on
                           the run.  Not reached, the pass stands. */
    char reason[256];   /* one line: why it passed or failed */
} lh_verdict;

/* Mann-Kendall S, its tie-corrected variance and the one-sided p-value for
 * an upward trend: exact (the permutation distribution of S given the
 * ties) for n <= LH_MK_EXACT_MAX, else the normal approximation with
 * continuity correction. */
#define LH_MK_EXACT_MAX 40
void lh_mann_kendall(const double *y, size_t n, double *s, double *var_s,
                     double *p_up);

/* Theil-Sen slope of y over x (median of pairwise slopes) and Sen's
 * two-sided confidence interval at level 1 - alpha (alpha outside (0, 1)
 * means 0.001).  Pairs with equal x or a non-finite slope are skipped, and
 * the interval's Var(S) counts only pairs with distinct x (Kendall's
 * variance with ties in both x and y).
 * Returns 0 on success, -1 when fewer than two distinct x exist, when n
 * exceeds LH_DETECT_MAX_SAMPLES or when the slope array cannot be
 * allocated. */
int lh_theil_sen(const double *x, const double *y, size_t n, double alpha,
                 double *slope, double *lo, double *hi);

/* Default alpha of a rate invariant: its median's interval is at 99%. */
#define LH_RATE_ALPHA 0.01

/* RATE: the series is a cumulative counter (allocations since start);
 * each phase's rate is r_i = (y[i] - y[i-1]) / (x[i] - x[i-1]).  The
 * verdict's slope is the median of the r_i, slope_lo/slope_hi its
 * distribution-free confidence interval at level 1 - alpha (order
 * statistics of the binomial, as benchstat does), growth the rate over
 * the whole run ((y[n-1] - y[0]) / (x[n-1] - x[0]), go test -benchmem's
 * allocs/op).  Fails when slope_lo > max: the rate is above max beyond
 * the phases' noise.  lh_rate_interval exposes the interval: the median of
 * r[0..n) and its bounds (r is reordered); -1 when n < 1. */
int lh_rate_interval(double *r, size_t n, double alpha, double *median,
                     double *lo, double *hi);

/* Judge one invariant.  x[i] is the number of measured iterations done when
 * sample i was taken (x[0] = 0 is the baseline, taken after warmup and
 * settle); y[i] the metric value.  observed_peak is the highest value seen
 * between samples (pass y's maximum when unknown).  Returns 0, or -1 when the
 * series cannot be judged, with out->reason saying why: n < 4 (or fewer than
 * 4 finite samples), n > LH_DETECT_MAX_SAMPLES, a non-finite baseline
 * sample, alpha outside [0, 1), x without two distinct values (stable,
 * max_growth only) or no memory.
 * Non-finite samples after the baseline are dropped and counted in reason.
 * The algorithm is described at the top of detector.c. */
int lh_detect(const lh_inv_spec *spec, const double *x, const double *y,
              size_t n, double observed_peak, lh_verdict *out);

/* The fewest samples (n for lh_detect, baseline included) under which
 * spec can fail at all: below it even a strictly rising series cannot
 * reach p < alpha in the trend test its kind uses.  4 for kinds without
 * a trend test; 0 when alpha is invalid or no n up to
 * LH_DETECT_MAX_SAMPLES suffices. */
size_t lh_detect_min_samples(const lh_inv_spec *spec);

/* The adaptive horizon: how far (x, measured iterations) a run of
 * `iterations` after `warmup`, now at x = at, is taken to resolve a step
 * that asks for x = need (lh_verdict.extend_to).  need itself when it
 * lies within factor x iterations + warmup (the workload's `horizon`,
 * LH_HORIZON_DEFAULT) and within `budget` more iterations (what the time
 * left allows; INFINITY: no limit); else 0: not extended, since a run
 * stopped short of need cannot tell anything more (unresolved).
 * docs/detector.md says why the default is 10. */
#define LH_HORIZON_DEFAULT 10
double lh_horizon_reach(double need, double at, double iterations,
                        double warmup, double factor, double budget);

/* The detector's only heap use is scratch (the pairwise slopes and a copy
 * of the series), freed before each call returns.  It uses malloc/free
 * unless told otherwise; the worker, whose malloc is interposed and
 * counted, can pass lh_raw_malloc/lh_raw_free.  NULL restores the default.
 * Not thread-safe: set it once at start-up. */
typedef void *(*lh_detector_alloc_fn)(size_t size);
typedef void (*lh_detector_free_fn)(void *p);
void lh_detector_set_allocator(lh_detector_alloc_fn alloc,
                               lh_detector_free_fn release);

#endif
