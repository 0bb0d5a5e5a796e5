/*
 * test_rates.c - allocation rates: the detector's rate verdict (median of
 * the phases' rates and its distribution-free interval) and the gate's
 * comparison of a rate with a stored baseline (tolerance, floor, the
 * sites whose allocations grew).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "check.h"
#include "detector.h"
#include "json.h"

#define N 21    /* a baseline and 20 phases of 300 iterations */

/* A cumulative counter: rate[i] per iteration over phase i. */
static void series(double *x, double *y, const double *rate)
{
    x[0] = 0;
    y[0] = 1000;
    for (int i = 1; i < N; i++) {
        x[i] = 300.0 * i;
        y[i] = y[i - 1] + 300.0 * rate[i - 1];
    }
}

static void test_detect_rate(void)
{
    double x[N], y[N], r[N - 1];
    lh_inv_spec spec = { .kind = LH_INV_RATE, .max = 0.5 };
    lh_verdict v;

    for (int i = 0; i < N - 1; i++)
        r[i] = 1;
    series(x, y, r);
    int rc = lh_detect(&spec, x, y, N, NAN, &v);
    check(rc == 0 && v.fail && v.slope == 1 && v.slope_lo == 1 &&
          v.slope_hi == 1 && v.growth == 1 && v.judged == N - 1,
          "one allocation per iteration, exactly: 1 (CI 1..1) > max 0.5 "
          "fails (%s)", v.reason);
    spec.max = 1;
    lh_detect(&spec, x, y, N, NAN, &v);
    check(!v.fail, "... and passes max 1 (at most, not under)");

    /* Noise around 2 per iteration, and one phase where the runtime did
     * a burst of its own: the median and its interval ignore it, the
     * whole run's rate does not. */
    for (int i = 0; i < N - 1; i++)
        r[i] = 2 + ((i * 7) % 5 - 2) * 0.01;
    r[9] = 40;
    series(x, y, r);
    spec.max = 1.9;
    lh_detect(&spec, x, y, N, NAN, &v);
    check(fabs(v.slope - 2) < 0.011 && v.slope_lo >= 1.98 &&
          v.slope_hi <= 2.02 && v.slope_lo <= v.slope &&
          v.slope <= v.slope_hi && v.fail,
          "noisy 2/iter with one burst: median %.3f CI %.3f..%.3f, "
          "fails max 1.9", v.slope, v.slope_lo, v.slope_hi);
    check(v.growth > 3.8, "the whole run's rate keeps the burst (%.2f)",
          v.growth);
    spec.max = 2.01;
    lh_detect(&spec, x, y, N, NAN, &v);
    check(!v.fail, "... and passes max 2.01: the interval's low end is "
          "not above it (%s)", v.reason);

    /* A flat counter: nothing allocated. */
    for (int i = 0; i < N; i++)
        y[i] = 5000;
    spec.max = 0;
    lh_detect(&spec, x, y, N, NAN, &v);
    check(!v.fail && v.slope == 0 && v.slope_hi == 0,
          "no allocation: 0 (CI 0..0) passes max 0");

    /* The interval is at 99% by default: 8 phases reach it, 7 do not. */
    spec.alpha = 0;
    check(lh_detect_min_samples(&spec) == 9,
          "min samples at the default 99%%: 9 (8 phases), got %zu",
          lh_detect_min_samples(&spec));
    spec.alpha = 0.05;
    check(lh_detect_min_samples(&spec) == 7,
          "min samples at 95%%: 7 (6 phases), got %zu",
          lh_detect_min_samples(&spec));
}

static void test_interval(void)
{
    /* Order statistics of the binomial: with 20 phases at 99%, the
     * interval runs from the 4th to the 17th smallest. */
    double r[20];
    for (int i = 0; i < 20; i++)
        r[i] = 20 - i;                  /* 1..20, reversed */
    double med, lo, hi;
    lh_rate_interval(r, 20, 0.01, &med, &lo, &hi);
    check(med == 10.5 && lo == 4 && hi == 17,
          "20 rates 1..20 at 99%%: median 10.5, CI 4..17 (got %g, %g..%g)",
          med, lo, hi);
}

/* ---- the gate ------------------------------------------------------- */

static lh_json *parse(const char *text)
{
    char err[256];
    lh_json *j = lh_json_parse(text, strlen(text), err, sizeof err);
    if (!j) {
        fprintf(stderr, "bad test JSON: %s\n%s\n", err, text);
        exit(2);
    }
    return j;
}

/* A report of one passing workload with one rate invariant. */
static lh_json *report(const char *metric, const char *unit, double rate,
                       double lo, double hi, const char *sites)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"workloads\":[{\"name\":\"w\",\"status\":\"pass\","
             "\"iterations\":6000,\"invariants\":[{\"metric\":\"%s\","
             "\"kind\":\"rate\",\"unit\":\"%s\",\"growth_per_iter\":%g,"
             "\"slope_lo\":%g,\"slope_hi\":%g,\"peak\":1e6,"
             "\"judged_samples\":20,"
             "\"rate_sites\":%s}]}]}", metric, unit, rate, lo, hi, sites);
    return parse(text);
}

static lh_json *stored(const char *metric, double rate, const char *sites)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"schema\":1,\"workloads\":{\"w\":{\"invariants\":{"
             "\"%s rate\":{\"growth_per_iter\":%g,\"rate_lo\":%g,"
             "\"rate_hi\":%g,\"peak\":10,\"iterations\":6000,"
             "\"sites\":%s}}}}}", metric, rate, rate, rate, sites);
    return parse(text);
}

static const lh_json *verdict(const lh_json *rep)
{
    const lh_json *w = lh_json_first(lh_json_get(rep, "workloads"));
    return lh_json_get(lh_json_first(lh_json_get(w, "invariants")),
                       "stored_baseline");
}

/* Compare; the verdict's status, reason into why. */
static const char *compare(lh_json *rep, lh_json *base, int *failed,
                           const char **why)
{
    int compared;
    *failed = lh_baseline_compare(rep, base, &compared);
    const lh_json *v = verdict(rep);
    *why = lh_json_gets(v, "reason", "");
    return lh_json_gets(v, "status", "?");
}

static void test_gate(void)
{
    const char *why;
    int failed;
    static const char *site_now =
        "[{\"func\":\"parse_alloc\",\"location\":\"p.c:39\","
        "\"allocs_per_iter\":0.93,\"bytes_per_iter\":245},"
        "{\"func\":\"other\",\"location\":\"o.c:1\","
        "\"allocs_per_iter\":0.5,\"bytes_per_iter\":8}]";
    static const char *site_before =
        "[{\"func\":\"other\",\"location\":\"o.c:1\","
        "\"allocs_per_iter\":0.48,\"bytes_per_iter\":8}]";

    lh_json *rep = report("heap.allocs", "allocs", 1, 1, 1, site_now);
    lh_json *base = stored("heap.allocs", 0, site_before);
    const char *st = compare(rep, base, &failed, &why);
    check(strcmp(st, "fail") == 0 && failed == 1,
          "0 -> 1 alloc/iter fails the gate although the peak is far "
          "above the stored one's (only the rate counts)");
    check(strstr(why, "heap.allocs per iteration: before 0 (CI 0..0), "
                 "after 1 (CI 1..1) allocs/iter") != NULL,
          "the reason says before and after with their intervals: %s",
          why);
    check(strstr(why, "more allocations at parse_alloc (p.c:39): 0 -> "
                 "0.93") != NULL,
          "... and names the site that started to allocate");
    const lh_json *grew = lh_json_get(verdict(rep), "grew_sites");
    check(grew && lh_json_at(grew, 0) && !lh_json_at(grew, 1),
          "the site that kept its rate (0.48 -> 0.5) is not named");
    lh_json_free(rep);

    /* Noise under the floor (half an allocation per iteration). */
    rep = report("heap.allocs", "allocs", 0.3, 0.2, 0.4, "[]");
    st = compare(rep, base, &failed, &why);
    check(strcmp(st, "pass") == 0 && failed == 0,
          "0 -> 0.3 alloc/iter stays under the 0.5 floor: %s", why);
    lh_json_free(rep);
    lh_json_free(base);

    /* 10% of the stored rate; judged on the interval's low end. */
    base = stored("go.allocs", 10, "[]");
    rep = report("go.allocs", "objects", 11.5, 10.9, 12, "[]");
    st = compare(rep, base, &failed, &why);
    check(strcmp(st, "pass") == 0,
          "10 -> 11.5 with CI low 10.9: within 10%% (+1): %s", why);
    lh_json_free(rep);
    rep = report("go.allocs", "objects", 11.5, 11.2, 12, "[]");
    st = compare(rep, base, &failed, &why);
    check(strcmp(st, "fail") == 0 && strstr(why, "+15.0%") != NULL,
          "10 -> 11.5 with CI low 11.2: beyond 10%%, +15%%: %s", why);
    lh_json_free(rep);
    lh_json_free(base);

    /* Bytes: the floor is the smallest block, 8 B per iteration. */
    base = stored("heap.alloc_bytes", 0, "[]");
    rep = report("heap.alloc_bytes", "B", 6, 5, 7, "[]");
    st = compare(rep, base, &failed, &why);
    check(strcmp(st, "pass") == 0, "0 -> 6 B/iter: under the 8 B floor");
    lh_json_free(rep);
    rep = report("heap.alloc_bytes", "B", 264, 264, 264, "[]");
    st = compare(rep, base, &failed, &why);
    check(strcmp(st, "fail") == 0, "0 -> 264 B/iter fails");
    lh_json_free(rep);
    lh_json_free(base);

    /* GC cycles: one more per phase (20 phases of 300 iterations). */
    base = stored("go.gc_auto_cycles", 0.001, "[]");
    rep = report("go.gc_auto_cycles", "cycles", 0.01, 0.0067, 0.011,
                 "[]");
    st = compare(rep, base, &failed, &why);
    check(strcmp(st, "fail") == 0,
          "3 GCs a phase, was one in 3 phases: fails: %s", why);
    lh_json_free(rep);
    rep = report("go.gc_auto_cycles", "cycles", 0.0033, 0.002, 0.0034,
                 "[]");
    st = compare(rep, base, &failed, &why);
    check(strcmp(st, "pass") == 0,
          "1 GC a phase, was one in 3: within one more per phase: %s",
          why);
    lh_json_free(rep);
    lh_json_free(base);
}

int main(void)
{
    test_detect_rate();
    test_interval();
    test_gate();
    return check_report();
}
