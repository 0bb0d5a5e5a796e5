/*
 * detector.c - samples in, verdict with evidence out.
 *
 * Input: x[i] = measured iterations done at sample i (x[0] = 0 is the
 * baseline, taken after warmup and settle), y[i] = the metric.  Samples
 * whose x or y is not finite are dropped (the count goes into the reason);
 * a non-finite baseline cannot be judged.  With the slack given as a
 * percentage, slack_abs = slack% of |y[0]|, else slack_abs = slack.
 * alpha defaults to 0.001: a clean run must never be flagged, and a real
 * leak is far more significant than that (a steady one judged on the 16
 * tail samples of the default 31 reaches p ~ 4e-8).
 *
 * Building blocks:
 *   Mann-Kendall: S = sum over i<j of sign(y[j] - y[i]);
 *   Var(S) = (n(n-1)(2n+5) - sum over tie groups t(t-1)(2t+5)) / 18.
 *   p = P(S' >= S), one-sided for an upward trend.  For n <= 40 it is
 *   exact: S' over every arrangement of the series' values (ties kept),
 *   counted by inversions with q-multinomial coefficients (mk_exact_p);
 *   the normal approximation is conservative in the far tail at small n
 *   (7 rising samples: exact 1/7! = 2.0e-4, normal 0.0013).  Above 40:
 *   Z = (S - sign(S)) / sqrt(Var), p = 1 - Phi(Z).  Var = 0 (a constant
 *   series) gives p = 1: no evidence of anything.
 *   Theil-Sen: slope = median of the pairwise slopes over pairs with
 *   distinct x.  Sen's interval (Gilbert 1987, 8.7): C = z(1-alpha/2) *
 *   sqrt(Var), lower = the (N-C)/2-th, upper = the ((N+C)/2 + 1)-th of
 *   the N ordered slopes (1-based, interpolated, clamped to [1, N]); Var
 *   is that of S over the same pairs, those with distinct x (Kendall's
 *   variance with ties in x and y), so duplicate x narrow it as they
 *   should.
 *
 * STABLE ("no upward trend beyond slack").  Judged on the TAIL, the last
 * max(ceil(n/2), min(n, 8)) samples, because the first half is allowed to
 * hold a cache filling up, lazy one-time init, pools warming: a leak keeps
 * growing in the second half, a warm-up does not.  Fails iff all of:
 *   (a) Mann-Kendall on the tail y: p < alpha;
 *   (b) Theil-Sen on the tail: the lower CI bound > 0 and the projected
 *       growth slope * (x[n-1] - x[0]) > slack_abs (projected over the
 *       whole measured window, so slack means "tolerated over the run");
 *   (c) the floor rises: floor(last quarter of the tail) - floor(first
 *       quarter of the tail) > slack_abs * span / window, quarters of
 *       q = max(2, tail/4) samples, floor = the quarter's order statistic
 *       of rank 1 + q/4 (its minimum below 4 samples, the second lowest
 *       from 4 to 7: one dip cannot veto a leak), span = the distance in
 *       iterations between the quarters' centres, window = x[n-1] - x[0]:
 *       the floor test gets the share of the slack that its span is of
 *       the window.
 *   verdict: slope = tail Theil-Sen, growth = projected growth,
 *   threshold = slack_abs, p_value = tail Mann-Kendall p, judged = tail.
 * Each guards a different false positive: (a) alone flags any monotone
 * wiggle of one byte; (b) makes the trend robust to outliers and sets its
 * size against slack; (c) rejects a sawtooth (a buffer that fills and is
 * flushed, a GC cycle): what a sawtooth leaves behind is its troughs, and
 * when a quarter holds at least one period they are equal.  (c) compares
 * minima ~3/8 of the window apart (n = 31: samples 15 and 27 of 30), hence
 * its share of the slack.  With the default alpha a tail of fewer than 7
 * samples can never reach p < 0.001 (1/6! = 0.0014), so n < 7 never
 * fails; lh_detect_min_samples gives the minimum and the reason says so.
 * Measured false-positive rates and what the rule cannot tell apart:
 * docs/detector.md.
 *
 * STABLE, growth in steps (judge_steps), when (a)-(c) pass.  A buffer
 * that doubles moves only at each doubling: the tail holds one step and
 * (b) sees a median slope of 0.  Iterations are counted from the first
 * warmup step: a = x_offset + x.  On the planned samples (spec->planned,
 * P; all n when 0): a sample steps when it exceeds every earlier one by
 * more than the slack's share for its phase.  When the tail's last step
 * is at sample L and the tail's highest value exceeds the highest before
 * it by more than slack_abs, the step must be resolved: a buffer grown
 * by a factor <= 2 steps again before 2 a(L); a plateau does not.
 *   - x[n-1] >= target = 2 a(L) - x_offset with no step since: a plateau,
 *     pass ("plateau: ...");
 *   - the samples after P (an extension) raise the highest value by at
 *     least half the rise at L (and their share of the slack), held by
 *     every later sample (a sample's level is the lowest reading from it
 *     on): fail, "grows in steps"; when only the last sample rose so,
 *     unresolved with extend_to one phase later (a transient, such as
 *     threads still exiting when it was taken, must not fail a plateau);
 *   - else unresolved (v->unresolved, extend_to = target): the worker
 *     runs on to target when lh_horizon_reach allows it and judges
 *     again; a run that ends before target stays unresolved, a verdict
 *     of its own (neither pass nor fail).
 * Two more cases set L:
 *   - (a) held and (b) failed only on the interval (CI low <= 0) with no
 *     step above the noise: L is the tail's last new high (above the
 *     slack's share alone), bursts under a sawtooth's swing;
 *   - the last two steps anywhere in the planned run, at samples G1 < G2,
 *     grow alike: r = a(G2) / a(G1) >= 2.5 and their rises' ratio within
 *     [r/2, 2r] (a grower by f > 2; an LRU's or a page cache's last steps
 *     rise alike): L = G2 and target = hi(G2)^2 / lo(G1) - x_offset, a
 *     step being known only to within its phase (lo: the sample before,
 *     hi: its own), when that is beyond 2 a(L).
 * One more, steps under the slack (sub_steps), when none of the above
 * set L: on the planned samples' levels (the lowest reading from a
 * sample on), the tail's last step 1.4 times as high as the one before
 * it (of those a quarter as high) and 1.5 times as far, as a Go map
 * never pruned doubles its buckets: target = 2 a(L) - x_offset, the
 * extension's rise measured from the planned run's last level; short of
 * target the pass stands (extend_to set, not unresolved), as a trend
 * under the slack's does.
 * STABLE, a fill that stopped (judge_filled), when (a)-(c) fail on the
 * planned samples (spec->planned set: a run the worker can extend): the
 * planned tail rose at every sample by more than tol = its rise / 32,
 * then held within tol of its highest for its last max(4, tail/4)
 * samples, from sample E.  target = 2 a(E) - x_offset, and as for a step:
 * a later rise above the highest + tol (+ the slack's share), held by
 * every later sample: fail; x[n-1] >= target: pass; else unresolved
 * (one more phase when only the last sample rose).  Judged on the planned
 * verdict, because the extension's flat samples may pass (a)-(c) before
 * target.  A leak in steps stalls while rising: not a fill.
 * A caller that never extends (the fuzz oracle) gets v->unresolved with
 * fail = 0.
 *
 * STABLE, a robust trend under the slack: (a) and (b)'s interval hold but
 * the growth or the floor's rise is within the slack.  v->creeping, and
 * extend_to = where the tail's slope puts twice the slack on the window:
 * the worker runs on when it may and judges again; when it may not, the
 * pass stands (not unresolved: the slack tolerates what the run saw).  A
 * step left unresolved asks first: its iteration is the one to reach.
 *
 * BASELINE: growth = y[n-1] - y[0]; fails iff growth > slack_abs.  The slope
 * and p over the whole series are evidence only.
 *
 * BOUNDED: peak = max(max y, observed_peak); fails iff peak > max; growth =
 * peak - y[0], threshold = max.
 *
 * MAX_GROWTH: Theil-Sen and Mann-Kendall over the whole series; fails iff
 * the lower CI bound > per_iter and p < alpha (growth is both faster than
 * allowed and significant).  growth = slope, threshold = per_iter.
 *
 * Cost: Mann-Kendall is O(n^2) with no memory; Theil-Sen stores the
 * n(n-1)/2 slopes and picks order statistics by quickselect, O(n^2).  Fine
 * for n <= LH_DETECT_MAX_SAMPLES; the detector runs after measurement.
 */
#include "detector.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ALPHA 0.001
#define SQRT2 1.41421356237309504880

/* Internal Theil-Sen results, so lh_detect can tell the causes apart. */
enum { TS_OK = 0, TS_NO_X = -1, TS_NO_MEM = -2 };

static void *default_alloc(size_t size) { return malloc(size); }
static void default_free(void *p) { free(p); }

static lh_detector_alloc_fn g_alloc = default_alloc;
static lh_detector_free_fn g_free = default_free;

void lh_detector_set_allocator(lh_detector_alloc_fn alloc,
                               lh_detector_free_fn release)
{
    /* Both or neither: a block must go back to the allocator it came from. */
    if (alloc && release) {
        g_alloc = alloc;
        g_free = release;
    } else {
        g_alloc = default_alloc;
        g_free = default_free;
    }
}

static int sgn(double d) { return (d > 0) - (d < 0); }

/* Upper tail of the standard normal. */
static double norm_sf(double z) { return 0.5 * erfc(z / SQRT2); }

/* z with norm_sf(z) = p, for p in (0, 0.5].  Bisection: called once per
 * verdict, and exact to double precision without a rational approximation
 * to get wrong. */
static double norm_isf(double p)
{
    double lo = 0.0, hi = 40.0;
    for (int i = 0; i < 200 && hi - lo > 1e-12; i++) {
        double mid = 0.5 * (lo + hi);
        if (norm_sf(mid) > p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* Sum over the tie groups of a[0..n) of f(t), t the group's size. */
static double tie_sum(const double *a, size_t n, double (*f)(double))
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        /* Each member of a group of t adds f(t)/t: no sorted copy. */
        double t = 0.0;
        for (size_t j = 0; j < n; j++)
            t += a[j] == a[i];
        if (t > 1.0)
            sum += f(t) / t;
    }
    return sum;
}

static double tie_var(double t) { return t * (t - 1.0) * (2.0 * t + 5.0); }
static double tie_pairs(double t) { return t * (t - 1.0); }
static double tie_triples(double t) { return t * (t - 1.0) * (t - 2.0); }

#define MK_MAXDEG (LH_MK_EXACT_MAX * (LH_MK_EXACT_MAX - 1) / 2)

/* Gaussian binomial [a+t choose t]_q into c[0..a*t]: the arrangements of
 * a and t items by inversions.  Built as the product over i = 1..t of
 * (1 - q^(a+i)) / (1 - q^i); after each i it is [a+i choose i]_q, whose
 * coefficients stay below C(40, 20) < 2^53, so int64 is exact. */
static size_t qbinom(size_t a, size_t t, int64_t *c)
{
    size_t deg = 0;
    c[0] = 1;
    for (size_t i = 1; i <= t; i++) {
        size_t up = a + i, nd = deg + a;
        for (size_t k = deg + 1; k <= deg + up; k++)
            c[k] = 0;
        for (size_t k = deg + up; k >= up; k--)    /* times 1 - q^up */
            c[k] -= c[k - up];
        for (size_t k = i; k <= nd; k++)           /* over 1 - q^i */
            c[k] += c[k - i];
        deg = nd;
    }
    return deg;
}

/* Exact P(S >= s) for the series' tie groups: every arrangement of its
 * values equally likely.  S = P - 2 * inversions, P the untied pairs, and
 * the inversions of a multiset permutation are distributed as the
 * q-multinomial coefficient: the product over groups of
 * [before + t choose t]_q. */
static double mk_exact_p(const double *y, size_t n, double S)
{
    double v[LH_MK_EXACT_MAX];
    for (size_t i = 0; i < n; i++) {        /* insertion sort */
        size_t j = i;
        for (; j > 0 && v[j - 1] > y[i]; j--)
            v[j] = v[j - 1];
        v[j] = y[i];
    }
    double dist[MK_MAXDEG + 1], next[MK_MAXDEG + 1];
    int64_t qb[MK_MAXDEG + LH_MK_EXACT_MAX + 1];
    size_t deg = 0, before = 0;
    double pairs = (double)n * (double)(n - 1) / 2.0;
    dist[0] = 1.0;
    for (size_t i = 0; i < n;) {
        size_t t = 1;
        while (i + t < n && v[i + t] == v[i])
            t++;
        pairs -= (double)t * (double)(t - 1) / 2.0;
        size_t qd = qbinom(before, t, qb);
        for (size_t k = 0; k <= deg + qd; k++)
            next[k] = 0.0;
        for (size_t k = 0; k <= deg; k++)
            for (size_t j = 0; j <= qd; j++)
                next[k + j] += dist[k] * (double)qb[j];
        deg += qd;
        memcpy(dist, next, (deg + 1) * sizeof *dist);
        before += t;
        i += t;
    }
    /* S >= s  <=>  inversions <= (P - s) / 2 */
    double lim = floor((pairs - S) / 2.0 + 1e-9), hit = 0.0, all = 0.0;
    for (size_t k = 0; k <= deg; k++) {
        all += dist[k];
        if ((double)k <= lim)
            hit += dist[k];
    }
    return all > 0.0 ? hit / all : 1.0;
}

void lh_mann_kendall(const double *y, size_t n, double *s, double *var_s,
                     double *p_up)
{
    double S = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            S += sgn(y[j] - y[i]);

    double dn = (double)n;
    double var = (dn * (dn - 1.0) * (2.0 * dn + 5.0) -
                  tie_sum(y, n, tie_var)) / 18.0;
    double p = 1.0;
    if (var > 0.0 && n <= LH_MK_EXACT_MAX) {
        p = mk_exact_p(y, n, S);
    } else if (var > 0.0) {
        double z = S > 0 ? (S - 1.0) / sqrt(var)
                 : S < 0 ? (S + 1.0) / sqrt(var) : 0.0;
        p = norm_sf(z);
    }
    if (s)
        *s = S;
    if (var_s)
        *var_s = var > 0.0 ? var : 0.0;
    if (p_up)
        *p_up = p;
}

/* Var(S) over the pairs with distinct x: Kendall's variance with ties in
 * both x (u) and y (t).  Without ties in x it is Mann-Kendall's. */
static double pair_var(const double *x, const double *y, size_t n)
{
    double dn = (double)n;
    if (n < 3)
        return 0.0;
    double v = (dn * (dn - 1.0) * (2.0 * dn + 5.0) - tie_sum(x, n, tie_var)
                - tie_sum(y, n, tie_var)) / 18.0
             + tie_sum(x, n, tie_triples) * tie_sum(y, n, tie_triples)
                   / (9.0 * dn * (dn - 1.0) * (dn - 2.0))
             + tie_sum(x, n, tie_pairs) * tie_sum(y, n, tie_pairs)
                   / (2.0 * dn * (dn - 1.0));
    return v > 0.0 ? v : 0.0;
}

/* Deterministic pivot choice: a fixed xorshift keeps results reproducible
 * while making sorted or adversarial slope orders harmless. */
static uint64_t pivot_rng(uint64_t *st)
{
    uint64_t v = *st;
    v ^= v << 13;
    v ^= v >> 7;
    v ^= v << 17;
    return *st = v;
}

/* k-th smallest (0-based) of a[0..n), reordering a.  Three-way partition,
 * because slopes of integer-valued metrics repeat a lot (0 above all). */
static double select_kth(double *a, size_t n, size_t k)
{
    uint64_t st = 0x9e3779b97f4a7c15ull;
    size_t lo = 0, hi = n;

    while (hi - lo > 1) {
        double p = a[lo + pivot_rng(&st) % (hi - lo)];
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            double v = a[i];
            if (v < p) {
                a[i++] = a[lt];
                a[lt++] = v;
            } else if (v > p) {
                a[i] = a[--gt];
                a[gt] = v;
            } else {
                i++;
            }
        }
        if (k < lt)
            hi = lt;
        else if (k >= gt)
            lo = gt;
        else
            return p;
    }
    return a[lo];
}

/* Order statistic at a fractional 1-based rank, interpolated between its
 * neighbours and clamped to [1, n]. */
static double rank_value(double *a, size_t n, double rank)
{
    if (rank < 1.0)
        rank = 1.0;
    if (rank > (double)n)
        rank = (double)n;
    size_t k = (size_t)floor(rank);
    double frac = rank - (double)k;
    double v = select_kth(a, n, k - 1);
    if (frac > 0.0 && k < n)
        v += frac * (select_kth(a, n, k) - v);
    return v;
}

static int theil_sen(const double *x, const double *y, size_t n,
                     double alpha, double *slope, double *lo, double *hi)
{
    if (n < 2)
        return TS_NO_X;
    if (n > LH_DETECT_MAX_SAMPLES)
        return TS_NO_MEM;
    if (!(alpha > 0.0 && alpha < 1.0))
        alpha = DEFAULT_ALPHA;

    double *sl = g_alloc(n * (n - 1) / 2 * sizeof *sl);
    if (!sl)
        return TS_NO_MEM;
    size_t N = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (x[j] == x[i])
                continue;
            double v = (y[j] - y[i]) / (x[j] - x[i]);
            if (isfinite(v))
                sl[N++] = v;
        }
    }
    if (N == 0) {
        g_free(sl);
        return TS_NO_X;
    }

    double med = select_kth(sl, N, N / 2);
    if (N % 2 == 0)
        med = 0.5 * (med + select_kth(sl, N, N / 2 - 1));

    double var = pair_var(x, y, n);
    double c = norm_isf(alpha / 2.0) * sqrt(var);
    double dN = (double)N;
    double l = rank_value(sl, N, (dN - c) / 2.0);
    double h = rank_value(sl, N, (dN + c) / 2.0 + 1.0);
    g_free(sl);

    if (slope)
        *slope = med;
    if (lo)
        *lo = l;
    if (hi)
        *hi = h;
    return TS_OK;
}

int lh_theil_sen(const double *x, const double *y, size_t n, double alpha,
                 double *slope, double *lo, double *hi)
{
    return theil_sen(x, y, n, alpha, slope, lo, hi) == TS_OK ? 0 : -1;
}

/* Numbers in reasons: integers as integers (byte and goroutine counts are),
 * otherwise enough digits to read a slope, and %g when huge or tiny. */
static const char *fmt_num(char *buf, size_t len, double v, int sign)
{
    double a = fabs(v);
    const char *plus = sign && v > 0 ? "+" : "";
    if (v == 0.0)
        snprintf(buf, len, "0");
    else if (!isfinite(v) || a >= 1e12 || a < 0.001)
        snprintf(buf, len, "%s%.3g", plus, v);
    else if (v == floor(v))
        snprintf(buf, len, "%s%.0f", plus, v);
    else if (a >= 100.0)
        snprintf(buf, len, "%s%.0f", plus, v);
    else if (a >= 1.0)
        snprintf(buf, len, "%s%.1f", plus, v);
    else
        snprintf(buf, len, "%s%.3g", plus, v);
    return buf;
}

static const char *fmt_p(char *buf, size_t len, double p)
{
    if (p < 0.001)
        snprintf(buf, len, "p<0.001");
    else
        snprintf(buf, len, "p=%.2g", p);
    return buf;
}

/* Appends to the verdict's reason; truncation is harmless (one line for a
 * human), so it is clipped rather than reported. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void reason_add(lh_verdict *v, const char *fmt, ...)
{
    size_t used = strlen(v->reason);
    if (used + 1 >= sizeof v->reason)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->reason + used, sizeof v->reason - used, fmt, ap);
    va_end(ap);
}

static double mean_of(const double *a, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i];
    return s / (double)n;
}

/* The smallest p a window of m samples can reach (strictly increasing, no
 * ties), to say so when a window is too short to ever fail: 1/m! where
 * the test is exact. */
static double min_p(size_t m)
{
    double dm = (double)m;
    if (m < 2)
        return 1.0;
    if (m <= LH_MK_EXACT_MAX) {
        double p = 1.0;
        for (size_t k = 2; k <= m; k++)
            p /= (double)k;
        return p;
    }
    double s = dm * (dm - 1.0) / 2.0;
    double var = dm * (dm - 1.0) * (2.0 * dm + 5.0) / 18.0;
    return norm_sf((s - 1.0) / sqrt(var));
}

/* The samples stable judges: the last max(ceil(n/2), min(n, 8)). */
static size_t stable_tail(size_t n)
{
    size_t half = (n + 1) / 2;
    return half > 8 ? half : (n < 8 ? n : 8);
}

/* The binomial's lower tail P(B(m, 1/2) < k): the chance that fewer than
 * k of m phase rates fall below the true median. */
static double binom_half_below(size_t m, size_t k)
{
    double term = pow(0.5, (double)m), sum = 0;
    for (size_t j = 0; j < k && j <= m; j++) {
        sum += term;
        term = term * (double)(m - j) / (double)(j + 1);
    }
    return sum;
}

/* The largest k (1-based) with P(B(m, 1/2) < k) <= alpha / 2: the
 * interval [r_(k), r_(m+1-k)] covers the median at 1 - alpha.  0 when
 * even [min, max] does not reach that level. */
static size_t median_ci_rank(size_t m, double alpha)
{
    size_t k = 0;
    while (k + 1 <= (m + 1) / 2 && binom_half_below(m, k + 1) <= alpha / 2)
        k++;
    return k;
}

int lh_rate_interval(double *r, size_t n, double alpha, double *median,
                     double *lo, double *hi)
{
    if (n < 1)
        return -1;
    *median = rank_value(r, n, 0.5 * (double)(n - 1) + 1.0);
    size_t k = median_ci_rank(n, alpha);
    if (k == 0)
        k = 1;      /* too few phases: [min, max], said by min_samples */
    *lo = select_kth(r, n, k - 1);
    *hi = select_kth(r, n, n - k);
    return 0;
}

size_t lh_detect_min_samples(const lh_inv_spec *spec)
{
    double alpha = spec->alpha == 0.0 ? DEFAULT_ALPHA : spec->alpha;
    if (spec->kind == LH_INV_RATE && spec->alpha == 0.0)
        alpha = LH_RATE_ALPHA;
    if (!(alpha > 0.0 && alpha < 1.0))
        return 0;
    if (spec->kind == LH_INV_RATE) {
        /* phases enough for the median's interval to reach 1 - alpha */
        for (size_t n = 4; n <= LH_DETECT_MAX_SAMPLES; n++)
            if (median_ci_rank(n - 1, alpha) > 0)
                return n;
        return 0;
    }
    if (spec->kind != LH_INV_STABLE && spec->kind != LH_INV_MAX_GROWTH)
        return 4;
    /* min_p falls as the window grows; the judged window grows with n. */
    for (size_t n = 4; n <= LH_DETECT_MAX_SAMPLES; n++) {
        size_t m = spec->kind == LH_INV_STABLE ? stable_tail(n) : n;
        if (min_p(m) < alpha)
            return n;
    }
    return 0;
}

/* The k-th smallest (0-based) of f(a, i) for i < q, f a sample or a
 * difference of neighbours.  O(q^2) and no memory. */
static double kth_by(const double *a, size_t q, size_t k,
                     double (*f)(const double *, size_t))
{
    for (size_t i = 0; i < q; i++) {
        double v = f(a, i);
        size_t less = 0, eq = 0;
        for (size_t j = 0; j < q; j++) {
            double w = f(a, j);
            less += w < v;
            eq += w == v;
        }
        if (less <= k && k < less + eq)
            return v;
    }
    return f(a, 0);
}

static double at(const double *a, size_t i) { return a[i]; }
static double absdiff(const double *a, size_t i)
{
    return fabs(a[i + 1] - a[i]);
}

/* The floor of a window of q samples: its order statistic of rank
 * 1 + q/4, the lowest once the lowest quarter is set aside, so that one
 * low outlier (a dip) in a quarter of 4 or more cannot hide a rising
 * floor. */
static double floor_of(const double *a, size_t q)
{
    return kth_by(a, q, q / 4, at);
}

/* The level of sample i of n: its lowest reading from it on. */
static double level_at(const double *y, size_t i, size_t n)
{
    double lo = y[i];
    while (++i < n)
        if (y[i] < lo)
            lo = y[i];
    return lo;
}

/* Steps under the slack, for judge_steps: a Go map never pruned doubles
 * its buckets, so its heap steps at doubling intervals by doubling
 * heights, each below the slack at the planned length (and the sample
 * taken while it doubles reads the old buckets too).  On the planned
 * samples' levels (a sample's level: the lowest reading from it to P), a
 * step rises above the last by h (the slack's share, or the noise).  The
 * last step, in the tail, and the one before it at least a quarter as
 * high (the heap's creep between doublings makes small ones): the last
 * 1.4 times as high (the creep blunts a doubling) and 1.5 times as far
 * (a(i) = off + x[i]; an LRU's or an arena's last steps rise alike).
 * Sets *s1, *s2 and their rises.  O(P^2), as Theil-Sen. */
static int sub_steps(const double *x, const double *y, size_t P, size_t t0,
                     double off, double slack, double noise, size_t *s1,
                     size_t *s2, double rise[2])
{
    double window = x[P - 1] - x[0];
    *s1 = *s2 = 0;
    rise[0] = rise[1] = 0.0;
    for (int pass = 0; pass < 2; pass++) {
        double base = level_at(y, 0, P);
        for (size_t i = 1; i < P && (pass == 0 || i < *s2); i++) {
            double h = window > 0 ? slack * (x[i] - x[i - 1]) / window : 0;
            double lvl = level_at(y, i, P);
            if (h < noise)
                h = noise;
            if (!(lvl > base + h))
                continue;
            if (pass == 0) {
                *s2 = i;
                rise[1] = lvl - base;
            } else if (lvl - base >= 0.25 * rise[1]) {
                *s1 = i;
                rise[0] = lvl - base;
            }
            base = lvl;
        }
    }
    return *s1 > 0 && *s2 > t0 && rise[1] >= 1.4 * rise[0] &&
           off + x[*s1] > 0 && (off + x[*s2]) / (off + x[*s1]) >= 1.5;
}

/* Growth in steps, when the usual rule passed (see the top of the file):
 * fails, resolves as a plateau, or asks for a longer run (extend_to). */
static void judge_steps(const double *x, const double *y, size_t n,
                        size_t planned, double off, double slack,
                        int vetoed, lh_verdict *v)
{
    size_t P = planned >= 2 && planned <= n ? planned : n;
    size_t t0 = P - stable_tail(P);
    double window = x[P - 1] - x[0];
    double before = y[0], env = y[0], last_rise = 0.0, rec_rise = 0.0;
    size_t last = 0, rec = 0;
    double g_rise[2] = { 0, 0 };    /* the last two steps anywhere */
    size_t g_at[2] = { 0, 0 };
    /* A step stands out of the noise: 4 x the median change between
     * neighbours in the tail (0 for a counter that moves only in steps;
     * ~3.8 sd for white noise). */
    double noise = P - t0 >= 3
        ? 4.0 * kth_by(y + t0, P - t0 - 1, (P - t0 - 1) / 2, absdiff) : 0;
    for (size_t i = 1; i < P; i++) {
        double h = window > 0 ? slack * (x[i] - x[i - 1]) / window : 0;
        if (h < noise)
            h = noise;
        if (y[i] > env + h) {
            g_at[0] = g_at[1];
            g_rise[0] = g_rise[1];
            g_at[1] = i;
            g_rise[1] = y[i] - env;
        }
        if (i > t0 && y[i] > env + h) {
            last = i;
            last_rise = y[i] - env;
        }
        if (i > t0 && y[i] > env + (window > 0 ? slack * (x[i] - x[i - 1])
                                                   / window : 0)) {
            rec = i;
            rec_rise = y[i] - env;
        }
        if (y[i] > env)
            env = y[i];
        if (i == t0)
            before = env;
    }
    /* A significant trend vetoed only by the slope's interval, with no
     * step above the noise (bursts smaller than a sawtooth's swing): its
     * last new high is the step to resolve. */
    if (!last && vetoed) {
        last = rec;
        last_rise = rec_rise;
    }
    double target = 0.0;
    if (last && env - before > slack)
        target = 2.0 * (off + x[last]) - off;
    /* A grower by a factor f > 2 steps again only at f times its last
     * step, and may not step in the judged half at all.  Its last two
     * steps tell f: their positions and their rises grow by about the
     * same factor (a plateau's last steps, an LRU's index or a page
     * cache's pages, do not: their rises stay alike).  A step is known
     * to within its phase, so the next is expected by at most
     * hi(last)^2 / lo(previous). */
    size_t g1 = g_at[0], g2 = g_at[1];
    double lo1 = g1 ? off + x[g1 - 1] : 0.0, hi2 = off + x[g2];
    if (g1 && lo1 > 0 && g_rise[0] > 0) {
        double r = hi2 / (off + x[g1]), q = g_rise[1] / g_rise[0];
        double geo = hi2 * hi2 / lo1 - off;
        if (r >= 2.5 && q >= 0.5 * r && q <= 2.0 * r && geo > target) {
            target = geo;
            last = g2;
            last_rise = g_rise[1];
        }
    }
    /* Steps under the slack (sub_steps): the run goes on to 2 a(last)
     * like any step's, where a bounded map is a plateau and a map never
     * pruned stepped again.  Not reached, the pass stands: the slack
     * tolerates what the run saw (as for a trend under it). */
    size_t s1, s2;
    double s_rise[2];
    int sub = !(target > 0.0) &&
              sub_steps(x, y, P, t0, off, slack, noise, &s1, &s2, s_rise);
    if (sub) {
        target = 2.0 * (off + x[s2]) - off;
        last = s2;
        last_rise = s_rise[1];
    }
    if (!(target > 0.0))
        return;

    /* An extension's sample steps again only when the samples after it
     * hold the rise: its level is the lowest reading from it on.  A leak
     * never gives back what it holds; a sample taken while threads were
     * still exiting or a burst was in flight does.  A rise at the last
     * sample alone asks for one more phase (lone). */
    double at = x[last];
    double ref = env;   /* steps under the slack: from the level the
                         * planned run ended at, not from a peak a
                         * doubling map held for a moment */
    if (sub)
        ref = level_at(y, P - 1, n);
    double top = ref, again = 0.0, lone = 0.0, held = INFINITY;
    for (size_t i = n; i-- > P;) {
        if (y[i] < held)
            held = y[i];
        double h = window > 0 ? slack * (x[i] - x[P - 1]) / window : 0;
        if (held - ref >= 0.5 * last_rise && held - ref > noise &&
            held - ref > h) {
            if (i == n - 1)
                lone = x[i];
            else
                again = x[i];
        }
        if (i < n - 1 && held > top)
            top = held;
    }
    if (again > 0.0)
        lone = 0.0;
    char b1[32], b2[32], b3[32], b4[32], b5[32], kx[32];
    char rest[sizeof v->reason];
    snprintf(kx, sizeof kx, "%.2gx", (target + off) / (off + at));
    snprintf(rest, sizeof rest, "%s", v->reason);
    v->reason[0] = '\0';
    if (again > 0.0) {
        double span = x[n - 1] - x[t0];
        v->fail = 1;
        v->slope = span > 0 ? (top - y[t0]) / span : 0.0;
        v->growth = top - (sub ? y[0] : before);
        v->threshold = slack;
        reason_add(v, "grows in steps: +%s by iteration %s, +%s more by "
                   "%s, before %s (%s): not a plateau",
                   fmt_num(b1, sizeof b1, last_rise, 0),
                   fmt_num(b2, sizeof b2, at, 0),
                   fmt_num(b3, sizeof b3, top - ref, 0),
                   fmt_num(b4, sizeof b4, again, 0), kx,
                   fmt_num(b5, sizeof b5, target, 0));
    } else if (lone > 0.0 && !sub) {
        double phase = n >= 2 ? x[n - 1] - x[n - 2] : 1.0;
        v->extend_to = x[n - 1] + (phase > 1.0 ? phase : 1.0);
        v->unresolved = 1;
        reason_add(v, "unresolved: stepped +%s by iteration %s, and the "
                   "last sample (iteration %s) rose again, which no later "
                   "sample confirms: raise iterations to at least %.0f; %s",
                   fmt_num(b1, sizeof b1, last_rise, 0),
                   fmt_num(b2, sizeof b2, at, 0),
                   fmt_num(b3, sizeof b3, lone, 0), ceil(v->extend_to),
                   rest);
    } else if (x[n - 1] >= target && !(lone > 0.0)) {
        reason_add(v, "plateau: last step +%s by iteration %s, none "
                   "up to %s (%s: %s); %s",
                   fmt_num(b1, sizeof b1, last_rise, 0),
                   fmt_num(b2, sizeof b2, at, 0),
                   fmt_num(b3, sizeof b3, x[n - 1], 0), kx,
                   fmt_num(b4, sizeof b4, target, 0), rest);
    } else if (sub) {
        char b6[32];
        v->extend_to = lone > 0.0 ? x[n - 1] + (x[n - 1] - x[n - 2])
                                  : target;
        reason_add(v, "steps under the slack: +%s by iteration %s, +%s by "
                   "%s, never given back: a plateau is told only at %s "
                   "(%s), the run ended at %s; %s",
                   fmt_num(b1, sizeof b1, s_rise[0], 0),
                   fmt_num(b2, sizeof b2, x[s1], 0),
                   fmt_num(b3, sizeof b3, last_rise, 0),
                   fmt_num(b4, sizeof b4, at, 0),
                   fmt_num(b5, sizeof b5, ceil(target), 0), kx,
                   fmt_num(b6, sizeof b6, x[n - 1], 0), rest);
    } else {
        char b6[32];
        v->extend_to = target;
        v->unresolved = 1;
        reason_add(v, "unresolved: stepped +%s by iteration %s, a plateau "
                   "is told only at %s (%s), the run ended at %s: raise "
                   "iterations to at least %.0f, or set a plateau bound; %s",
                   fmt_num(b1, sizeof b1, last_rise, 0),
                   fmt_num(b2, sizeof b2, at, 0),
                   fmt_num(b3, sizeof b3, ceil(target), 0), kx,
                   fmt_num(b6, sizeof b6, x[n - 1], 0), ceil(target), rest);
    }
}

/* A fill that stopped, when the usual rule failed (see the top of the
 * file): the planned run's tail rose at every sample, then held flat
 * for its last quarter (at least 4 samples) at its highest.  A cache
 * that fills past the middle of the run (an LRU of 8,000 entries in
 * 10,000 iterations) looks so; a leak never stops, and one in steps
 * stays flat between them (it does not rise at every sample first).
 * Like a step, the stop must be resolved: a plateau holds to twice the
 * iteration it was reached at.  Only on a run that can be extended
 * (spec->planned set: the worker's). */
static int judge_filled(const double *x, const double *y, size_t n,
                        size_t planned, double off, double slack,
                        lh_verdict *v)
{
    size_t P = planned;
    if (P < 8 || P > n)
        return 0;
    size_t t0 = P - stable_tail(P);
    size_t q = (P - t0) / 4 > 4 ? (P - t0) / 4 : 4;
    double top = y[t0];
    for (size_t i = t0; i < P; i++)
        if (y[i] > top)
            top = y[i];
    double rise = top - y[t0];
    double window = x[P - 1] - x[0];
    /* flat: within 1/32 of the tail's rise (a leak rising evenly moves
     * 1/15 of it per phase) and the slack's share */
    double tol = rise / 32;
    size_t e = P - 1;           /* the first sample of the flat end */
    while (e > t0 && top - y[e - 1] <= tol)
        e--;
    if (P - e < q || e - t0 < 3 || !(rise > slack))
        return 0;
    for (size_t i = t0 + 1; i <= e; i++)
        if (!(y[i] > y[i - 1] + tol))
            return 0;           /* stalled while rising: steps */
    double target = 2.0 * (off + x[e]) - off;
    double again = 0.0, lone = 0.0, held = INFINITY;
    for (size_t i = n; i-- > P;) {
        if (y[i] < held)
            held = y[i];
        double h = window > 0 ? slack * (x[i] - x[P - 1]) / window : 0;
        if (held > top + tol + h) {
            if (i == n - 1)
                lone = x[i];
            else
                again = x[i];
        }
    }
    char b1[32], b2[32], b3[32];
    char rest[sizeof v->reason];
    snprintf(rest, sizeof rest, "%s", v->reason);
    v->reason[0] = '\0';
    if (again > 0.0) {
        double span = x[n - 1] - x[t0];
        v->fail = 1;
        v->slope = span > 0 ? (held - y[t0]) / span : 0.0;
        v->growth = held - y[t0];
        v->threshold = slack;
        reason_add(v, "grew, held flat at %s from iteration %s, grew "
                   "again by %s: not a plateau",
                   fmt_num(b1, sizeof b1, top, 0),
                   fmt_num(b2, sizeof b2, x[e], 0),
                   fmt_num(b3, sizeof b3, again, 0));
        return 1;
    }
    v->fail = 0;
    if (lone == 0.0 && x[n - 1] >= target) {
        reason_add(v, "plateau: filled by iteration %s, flat to %s (2x: "
                   "%s); %s", fmt_num(b1, sizeof b1, x[e], 0),
                   fmt_num(b2, sizeof b2, x[n - 1], 0),
                   fmt_num(b3, sizeof b3, target, 0), rest);
        return 1;
    }
    v->unresolved = 1;
    v->extend_to = lone > 0.0 && x[n - 1] >= target
                   ? x[n - 1] + (x[n - 1] - x[n - 2]) : target;
    reason_add(v, "unresolved: grew, then held flat from iteration %s: a "
               "cache filling up is told from a leak only at %s, the run "
               "ended at %s: raise iterations to at least %.0f, or set a "
               "plateau bound; %s", fmt_num(b1, sizeof b1, x[e], 0),
               fmt_num(b2, sizeof b2, ceil(target), 0),
               fmt_num(b3, sizeof b3, x[n - 1], 0),
               ceil(v->extend_to), rest);
    return 1;
}

static int judge_stable(const double *x, const double *y, size_t n,
                        double alpha, double slack, const lh_inv_spec *spec,
                        lh_verdict *v)
{
    size_t tail = stable_tail(n);
    size_t t0 = n - tail;
    const double *tx = x + t0, *ty = y + t0;
    char b1[32], b2[32], b3[32], bp[32];

    int rc = theil_sen(tx, ty, tail, alpha, &v->slope, &v->slope_lo,
                       &v->slope_hi);
    if (rc != TS_OK)
        return rc;
    lh_mann_kendall(ty, tail, NULL, NULL, &v->p_value);

    size_t q = tail / 4 > 2 ? tail / 4 : 2;
    double rise = floor_of(ty + tail - q, q) - floor_of(ty, q);
    /* slack is tolerated growth over the whole window; the floor test
     * spans only the distance between the quarters, so it gets the same
     * share of the slack. */
    double window = x[n - 1] - x[0];
    double span = mean_of(tx + tail - q, q) - mean_of(tx, q);
    double floor_slack = window > 0 && span > 0 && span < window
                             ? slack * span / window : slack;
    v->judged = tail;
    v->growth = v->slope * (x[n - 1] - x[0]);
    v->threshold = slack;

    int trend = v->p_value < alpha;
    int robust = v->slope_lo > 0.0;
    int big = v->growth > slack;
    int floor_up = rise > floor_slack;
    v->fail = trend && robust && big && floor_up;

    fmt_p(bp, sizeof bp, v->p_value);
    if (v->fail) {
        reason_add(v, "upward trend %s/iter (%s) over last %zu samples; "
                   "floor %s > slack %s",
                   fmt_num(b1, sizeof b1, v->slope, 1), bp, tail,
                   fmt_num(b2, sizeof b2, rise, 1),
                   fmt_num(b3, sizeof b3, floor_slack, 0));
    } else if (!trend) {
        reason_add(v, "no significant trend (%s) over last %zu samples",
                   bp, tail);
        if (min_p(tail) >= alpha)
            reason_add(v, "; %zu samples cannot reach p<%g", tail, alpha);
    } else if (!robust) {
        reason_add(v, "trend not robust: slope %s/iter, CI low %s <= 0 "
                   "(%s) over last %zu samples",
                   fmt_num(b1, sizeof b1, v->slope, 1),
                   fmt_num(b2, sizeof b2, v->slope_lo, 1), bp, tail);
    } else if (!big) {
        reason_add(v, "growth %s over window <= slack %s "
                   "(trend %s/iter, %s)",
                   fmt_num(b1, sizeof b1, v->growth, 1),
                   fmt_num(b2, sizeof b2, slack, 0),
                   fmt_num(b3, sizeof b3, v->slope, 1), bp);
    } else {
        reason_add(v, "plateau: floor rose %s <= slack %s "
                   "(trend %s/iter, %s)",
                   fmt_num(b1, sizeof b1, rise, 0),
                   fmt_num(b2, sizeof b2, floor_slack, 0),
                   fmt_num(b3, sizeof b3, v->slope, 1), bp);
    }
    /* A fill that stopped is resolved on the planned run's verdict: an
     * extension's flat samples may pass the usual rule before it reaches
     * the iteration that tells a plateau. */
    int planned_fail = v->fail;
    if (spec->planned >= 8 && spec->planned < n) {
        lh_inv_spec ps = *spec;
        ps.planned = 0;
        lh_verdict pv;
        memset(&pv, 0, sizeof pv);
        planned_fail = judge_stable(x, y, spec->planned, alpha, slack, &ps,
                                    &pv) == TS_OK && pv.fail;
    }
    if (planned_fail &&
        judge_filled(x, y, n, spec->planned, spec->x_offset, slack, v))
        return TS_OK;
    if (!v->fail)
        judge_steps(x, y, n, spec->planned, spec->x_offset, slack,
                    trend && !robust, v);
    /* A robust trend that passed on the slack (its growth, or its
     * floor's rise, within it): a slow leak the run was too short to push
     * past the slack, or a cache still filling.  The run is asked to go
     * on to where that pace puts twice the slack on the window, and the
     * longer series is judged again (a leak then fails, a cache that
     * filled is flat in the judged half).  Not reached, the pass stands:
     * the slack tolerates what this run saw. */
    if (!v->fail && !v->unresolved && trend && robust && v->slope > 0 &&
        slack > 0) {
        double need = x[0] + 2.0 * slack / v->slope;
        if (need > x[n - 1] && need > v->extend_to) {
            v->extend_to = need;
            v->creeping = 1;
        }
    }
    return TS_OK;
}

static int judge_max_growth(const lh_inv_spec *spec, const double *x,
                            const double *y, size_t n, double alpha,
                            lh_verdict *v)
{
    char b1[32], b2[32], b3[32], bp[32];
    int rc = theil_sen(x, y, n, alpha, &v->slope, &v->slope_lo,
                       &v->slope_hi);
    if (rc != TS_OK)
        return rc;
    lh_mann_kendall(y, n, NULL, NULL, &v->p_value);
    v->judged = n;
    v->growth = v->slope;
    v->threshold = spec->per_iter;

    int trend = v->p_value < alpha;
    int fast = v->slope_lo > spec->per_iter;
    v->fail = trend && fast;

    fmt_p(bp, sizeof bp, v->p_value);
    fmt_num(b1, sizeof b1, v->slope, 1);
    fmt_num(b2, sizeof b2, spec->per_iter, 0);
    fmt_num(b3, sizeof b3, v->slope_lo, 1);
    if (v->fail)
        reason_add(v, "growth %s/iter > %s/iter (CI low %s, %s)",
                   b1, b2, b3, bp);
    else if (!trend)
        reason_add(v, "no significant trend (%s); slope %s/iter",
                   bp, b1);
    else
        reason_add(v, "growth %s/iter, CI low %s <= %s/iter (%s)",
                   b1, b3, b2, bp);
    return TS_OK;
}

static int judge_rate(const lh_inv_spec *spec, const double *x,
                      const double *y, size_t n, double alpha,
                      lh_verdict *v)
{
    char b1[32], b2[32], b3[32], b4[32], b5[32];
    double *r = g_alloc(n * sizeof *r);
    if (!r)
        return TS_NO_MEM;
    size_t m = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[i - 1])
            r[m++] = (y[i] - y[i - 1]) / (x[i] - x[i - 1]);
    if (m < 1 || !(x[n - 1] > x[0])) {
        g_free(r);
        return TS_NO_X;
    }
    lh_rate_interval(r, m, alpha, &v->slope, &v->slope_lo, &v->slope_hi);
    g_free(r);
    lh_mann_kendall(y, n, NULL, NULL, &v->p_value);
    v->judged = m;
    v->growth = (y[n - 1] - y[0]) / (x[n - 1] - x[0]);
    v->threshold = spec->max;
    v->fail = v->slope_lo > spec->max;
    /* rates as %.4g: 2.01 allocations per iteration is not 2.0 */
    snprintf(b1, sizeof b1, "%.4g", v->slope);
    snprintf(b2, sizeof b2, "%.4g", v->slope_lo);
    snprintf(b3, sizeof b3, "%.4g", v->slope_hi);
    snprintf(b4, sizeof b4, "%.4g", spec->max);
    snprintf(b5, sizeof b5, "%.4g", v->growth);
    reason_add(v, "%s/iter (%g%% CI %s..%s over %zu phases; whole run %s)"
               " %s max %s/iter", b1, 100 * (1 - alpha), b2, b3, m, b5,
               v->fail ? ">" : "<=", b4);
    return TS_OK;
}

/* Evidence only for baseline and bounded: their decision does not depend
 * on it, so a degenerate x leaves the slope at 0 instead of failing. */
static int whole_series_evidence(const double *x, const double *y, size_t n,
                                 double alpha, lh_verdict *v)
{
    int rc = theil_sen(x, y, n, alpha, &v->slope, &v->slope_lo,
                       &v->slope_hi);
    if (rc == TS_NO_X)
        v->slope = v->slope_lo = v->slope_hi = 0.0;
    lh_mann_kendall(y, n, NULL, NULL, &v->p_value);
    v->judged = n;
    return rc == TS_NO_MEM ? rc : TS_OK;
}

int lh_detect(const lh_inv_spec *spec, const double *x, const double *y,
              size_t n, double observed_peak, lh_verdict *out)
{
    char b1[32], b2[32], b3[32], b4[32];

    if (!out)
        return -1;
    memset(out, 0, sizeof *out);
    out->p_value = 1.0;
    if (!spec || !x || !y) {
        reason_add(out, "no spec or samples");
        return -1;
    }
    if (n < 4) {
        reason_add(out, "too few samples to judge (%zu, need 4)", n);
        return -1;
    }
    if (n > LH_DETECT_MAX_SAMPLES) {
        reason_add(out, "too many samples (%zu > %d)", n,
                   LH_DETECT_MAX_SAMPLES);
        return -1;
    }
    if (!isfinite(x[0]) || !isfinite(y[0])) {
        reason_add(out, "baseline sample is not finite");
        return -1;
    }
    double alpha = spec->alpha == 0.0 ? DEFAULT_ALPHA : spec->alpha;
    if (spec->kind == LH_INV_RATE && spec->alpha == 0.0)
        alpha = LH_RATE_ALPHA;
    if (!(alpha > 0.0 && alpha < 1.0)) {
        reason_add(out, "alpha %g is not in (0, 1)", spec->alpha);
        return -1;
    }

    /* A sample that failed to read (NaN) says nothing about growth;
     * dropping it keeps the rest of the evidence usable. */
    double *fx = g_alloc(2 * n * sizeof *fx);
    if (!fx) {
        reason_add(out, "out of memory");
        return -1;
    }
    double *fy = fx + n;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(x[i]) && isfinite(y[i])) {
            fx[m] = x[i];
            fy[m++] = y[i];
        }
    }
    size_t dropped = n - m;
    /* the planned samples, counted among the finite ones */
    lh_inv_spec st = *spec;
    if (spec->planned > 0 && spec->planned < n) {
        st.planned = 0;
        for (size_t i = 0; i < spec->planned; i++)
            st.planned += isfinite(x[i]) && isfinite(y[i]);
    }
    if (m < 4) {
        reason_add(out, "too few finite samples to judge (%zu of %zu)",
                   m, n);
        g_free(fx);
        return -1;
    }

    out->baseline = fy[0];
    out->final = fy[m - 1];
    out->peak = fy[0];
    for (size_t i = 1; i < m; i++)
        if (fy[i] > out->peak)
            out->peak = fy[i];
    if (isfinite(observed_peak) && observed_peak > out->peak)
        out->peak = observed_peak;

    double slack = spec->slack_is_pct ? spec->slack / 100.0 * fabs(fy[0])
                                      : spec->slack;
    int rc = TS_OK;
    switch (spec->kind) {
    case LH_INV_STABLE:
        rc = judge_stable(fx, fy, m, alpha, slack, &st, out);
        break;
    case LH_INV_MAX_GROWTH:
        rc = judge_max_growth(spec, fx, fy, m, alpha, out);
        break;
    case LH_INV_RATE:
        rc = judge_rate(spec, fx, fy, m, alpha, out);
        break;
    case LH_INV_BASELINE:
        rc = whole_series_evidence(fx, fy, m, alpha, out);
        if (rc != TS_OK)
            break;
        out->growth = out->final - out->baseline;
        out->threshold = slack;
        out->fail = out->growth > slack;
        reason_add(out, "%s: %s -> %s (%s %s slack %s",
                   out->fail ? "did not return to baseline"
                             : "back to baseline",
                   fmt_num(b1, sizeof b1, out->baseline, 0),
                   fmt_num(b2, sizeof b2, out->final, 0),
                   fmt_num(b3, sizeof b3, out->growth, 1),
                   out->fail ? ">" : "<=",
                   fmt_num(b4, sizeof b4, slack, 0));
        if (spec->slack_is_pct)
            reason_add(out, " = %s%%",
                       fmt_num(b1, sizeof b1, spec->slack, 0));
        reason_add(out, ")");
        break;
    case LH_INV_BOUNDED:
        rc = whole_series_evidence(fx, fy, m, alpha, out);
        if (rc != TS_OK)
            break;
        out->growth = out->peak - out->baseline;
        out->threshold = spec->max;
        out->fail = out->peak > spec->max;
        reason_add(out, "peak %s %s max %s",
                   fmt_num(b1, sizeof b1, out->peak, 0),
                   out->fail ? ">" : "<=",
                   fmt_num(b2, sizeof b2, spec->max, 0));
        break;
    default:
        reason_add(out, "unknown invariant kind %d", (int)spec->kind);
        g_free(fx);
        return -1;
    }
    g_free(fx);

    if (rc != TS_OK) {
        out->fail = 0;
        out->reason[0] = '\0';
        reason_add(out, rc == TS_NO_MEM ? "out of memory"
                        : "x has fewer than two distinct values");
        return -1;
    }
    if (dropped)
        reason_add(out, " (%zu non-finite samples ignored)", dropped);
    return 0;
}

double lh_horizon_reach(double need, double at, double iterations,
                        double warmup, double factor, double budget)
{
    if (!(need > at) || !(factor >= 1.0))
        return 0.0;
    if (need > factor * iterations + warmup)
        return 0.0;
    if (!(need - at <= budget))
        return 0.0;
    return need;
}
