/* baseline.c - comparing a run with a stored baseline, and storing one. */
#include "baseline.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "file.h"

/* A workload is baselined when it ran and every invariant passed: a
 * failing or expected-to-fail workload has nothing stable to compare. */
static int baselined(const lh_json *w)
{
    const char *st = lh_json_gets(w, "status", "");
    return strcmp(st, "pass") == 0;
}

/* A workload's key: its name, or "name (script)" when another script of
 * the run declares the same name (the demo suite repeats some). */
static void wl_key(const lh_json *report, const lh_json *w, char *out,
                   size_t len)
{
    const char *name = lh_json_gets(w, "name", "");
    int same = 0;
    for (const lh_json *e = lh_json_first(lh_json_get(report, "workloads"));
         e; e = e->next)
        same += strcmp(lh_json_gets(e, "name", ""), name) == 0;
    if (same > 1)
        snprintf(out, len, "%s (%s)", name, lh_json_gets(w, "script", "?"));
    else
        snprintf(out, len, "%s", name);
}

/* "metric kind", with "#2", "#3" for repeats within the workload. */
static void inv_key(const lh_json *w, const lh_json *inv, char *out,
                   size_t len)
{
    const char *m = lh_json_gets(inv, "metric", "?");
    const char *k = lh_json_gets(inv, "kind", "?");
    int nth = 0;
    for (const lh_json *e = lh_json_first(lh_json_get(w, "invariants"));
         e && e != inv->next; e = e->next)
        if (strcmp(lh_json_gets(e, "metric", ""), m) == 0 &&
            strcmp(lh_json_gets(e, "kind", ""), k) == 0)
            nth++;
    if (nth > 1)
        snprintf(out, len, "%s %s#%d", m, k, nth);
    else
        snprintf(out, len, "%s %s", m, k);
}

/* The invariant's own allowance, in its unit: what it already forgives. */
static double allowance(const lh_json *inv)
{
    const char *kind = lh_json_gets(inv, "kind", "");
    double threshold = lh_json_getn(inv, "threshold", 0);
    if (strcmp(kind, "stable") == 0 || strcmp(kind, "baseline") == 0)
        return isfinite(threshold) ? fabs(threshold) : 0;
    if (lh_json_getb(inv, "slack_is_percent", 0))
        return 0;
    return fabs(lh_json_getn(inv, "slack", 0));
}

/* Allowed rise of a value stored as base: the invariant's tolerance for
 * name, or the default percentage; never below floor unless the script
 * gave an absolute tolerance. */
static double allowed_rise(const lh_json *inv, const char *name,
                           double dflt_pct, double base, double floor,
                           char *how, size_t howlen)
{
    const lh_json *tol = lh_json_get(inv, "tolerance");
    const lh_json *v = lh_json_get(tol, name);
    char pctkey[64];
    snprintf(pctkey, sizeof pctkey, "%s_is_percent", name);
    if (v && v->type == LH_JNUM) {
        if (!lh_json_getb(tol, pctkey, 0)) {
            snprintf(how, howlen, "tolerance %g", v->num);
            return v->num;
        }
        snprintf(how, howlen, "tolerance %g%%", v->num);
        return fmax(v->num / 100 * fabs(base), floor);
    }
    snprintf(how, howlen, "default tolerance %g%%", dflt_pct);
    return fmax(dflt_pct / 100 * fabs(base), floor);
}

static const char *fmt_rate(char *buf, size_t len, double v)
{
    snprintf(buf, len, "%.4g", v);
    return buf;
}

/* A site's allocations per iteration in a rate_sites list (0: absent). */
static double site_rate(const lh_json *sites, const lh_json *site)
{
    const char *f = lh_json_gets(site, "func", "");
    const char *l = lh_json_gets(site, "location", "");
    for (const lh_json *s = lh_json_first(sites); s; s = s->next)
        if (strcmp(lh_json_gets(s, "func", ""), f) == 0 &&
            strcmp(lh_json_gets(s, "location", ""), l) == 0)
            return lh_json_getn(s, "allocs_per_iter", 0);
    return 0;
}

/* The sites whose allocations per iteration grew against the stored
 * ones, as "grew_sites" into b, most growth first; the first is returned
 * (NULL: none).  The counts are estimates from sampled stacks: a site
 * must grow by a tenth of an allocation per iteration, and by a fifth of
 * what it had, to be named. */
#define GREW_MAX 8
static const lh_json *grew_sites(lh_buf *b, const lh_json *now,
                                 const lh_json *stored, double *from,
                                 double *to)
{
    const lh_json *pick[GREW_MAX];
    double growth[GREW_MAX];
    int n = 0;
    for (const lh_json *s = lh_json_first(now); s; s = s->next) {
        double was = site_rate(stored, s);
        double g = lh_json_getn(s, "allocs_per_iter", 0) - was;
        if (!(g >= 0.1 && g > 0.2 * was))
            continue;
        if (n == GREW_MAX && growth[n - 1] >= g)
            continue;
        int k = n < GREW_MAX ? n++ : GREW_MAX - 1;
        for (; k > 0 && growth[k - 1] < g; k--) {
            pick[k] = pick[k - 1];
            growth[k] = growth[k - 1];
        }
        pick[k] = s;
        growth[k] = g;
    }
    lh_buf_puts(b, ",\"grew_sites\":[");
    for (int i = 0; i < n; i++) {
        lh_buf_puts(b, i ? ",{" : "{");
        lh_json_key(b, "func");
        lh_json_str(b, lh_json_gets(pick[i], "func", ""));
        lh_json_field_str(b, "location", lh_json_gets(pick[i], "location",
                                                      ""));
        lh_json_field_num(b, "before_per_iter", site_rate(stored, pick[i]));
        lh_json_field_num(b, "after_per_iter",
                          lh_json_getn(pick[i], "allocs_per_iter", 0));
        lh_buf_putc(b, '}');
    }
    lh_buf_putc(b, ']');
    if (!n)
        return NULL;
    *from = site_rate(stored, pick[0]);
    *to = lh_json_getn(pick[0], "allocs_per_iter", 0);
    return pick[0];
}

/* A rate against its stored rate, benchstat-like: before and after per
 * iteration with their intervals, and the change. */
static void compare_rate(lh_json *inv, const lh_json *stored, int *failed)
{
    const char *metric = lh_json_gets(inv, "metric", "?");
    const char *unit = lh_json_gets(inv, "unit", "");
    double before = lh_json_getn(stored, "growth_per_iter", NAN);
    double b_lo = lh_json_getn(stored, "rate_lo", before);
    double b_hi = lh_json_getn(stored, "rate_hi", before);
    double after = lh_json_getn(inv, "growth_per_iter", NAN);
    double a_lo = lh_json_getn(inv, "slope_lo", after);
    double a_hi = lh_json_getn(inv, "slope_hi", after);
    double floor = strcmp(unit, "B") == 0 ? LH_BASELINE_RATE_FLOOR_BYTES
                                          : LH_BASELINE_RATE_FLOOR;
    /* GC cycles come a few per phase, whole: one more per phase */
    double iters = lh_json_getn(stored, "iterations", 0);
    double phases = lh_json_getn(inv, "judged_samples", 0);
    if (strcmp(unit, "cycles") == 0 && iters > 0 && phases > 0)
        floor = phases / iters;
    char how[64];
    double tol = allowed_rise(inv, "per_iter", LH_BASELINE_RATE_PCT, before,
                              floor, how, sizeof how);
    int bad = isfinite(before) && isfinite(a_lo) && a_lo > before + tol;
    char s1[32], s2[32], s3[32], s4[32], s5[32], s6[32], s7[32];
    char change[48];
    if (before != 0 && isfinite(before) && isfinite(after))
        snprintf(change, sizeof change, "%+.1f%%",
                 (after - before) / fabs(before) * 100);
    else
        snprintf(change, sizeof change, "%+.4g %s/iter", after - before,
                 unit);
    lh_buf sites = LH_BUF_INIT;
    double s_from = 0, s_to = 0;
    const lh_json *top = grew_sites(&sites, lh_json_get(inv, "rate_sites"),
                                    lh_json_get(stored, "sites"), &s_from,
                                    &s_to);
    char reason[768];
    snprintf(reason, sizeof reason, "%s per iteration: before %s (CI "
             "%s..%s), after %s (CI %s..%s) %s/iter, %s; %s (%s allows "
             "+%s)", metric, fmt_rate(s1, sizeof s1, before),
             fmt_rate(s2, sizeof s2, b_lo), fmt_rate(s3, sizeof s3, b_hi),
             fmt_rate(s4, sizeof s4, after), fmt_rate(s5, sizeof s5, a_lo),
             fmt_rate(s6, sizeof s6, a_hi), unit, change,
             bad ? "rose beyond the tolerance" : "within the baseline",
             how, fmt_rate(s7, sizeof s7, tol));
    if (bad && top) {
        size_t used = strlen(reason);
        snprintf(reason + used, sizeof reason - used, "; more allocations "
                 "at %s (%s): %.2g -> %.2g per iteration",
                 lh_json_gets(top, "func", "?"),
                 lh_json_gets(top, "location", "?"), s_from, s_to);
    }
    if (bad)
        (*failed)++;
    lh_buf b = LH_BUF_INIT;
    lh_buf_printf(&b, "{\"status\":\"%s\"", bad ? "fail" : "pass");
    lh_json_field_str(&b, "reason", reason);
    lh_json_field_num(&b, "growth_per_iter", before);
    lh_json_field_num(&b, "rate_lo", b_lo);
    lh_json_field_num(&b, "rate_hi", b_hi);
    lh_buf_add(&b, sites.data, sites.len);
    lh_buf_free(&sites);
    lh_buf_puts(&b, ",\"tolerance\":{\"per_iter\":");
    lh_json_num(&b, tol);
    lh_buf_puts(&b, "}}");
    lh_json_set(inv, "stored_baseline", lh_json_from(&b));
    lh_buf_free(&b);
}

static void compare_one(lh_json *inv, const lh_json *stored, int *failed)
{
    lh_buf b = LH_BUF_INIT;
    const char *metric = lh_json_gets(inv, "metric", "?");
    const char *unit = lh_json_gets(inv, "unit", "");
    if (!stored) {
        lh_buf_puts(&b, "{\"status\":\"new\",\"reason\":\"no stored "
                    "baseline for this invariant\"}");
        lh_json_set(inv, "stored_baseline", lh_json_from(&b));
        lh_buf_free(&b);
        return;
    }
    if (strcmp(lh_json_gets(inv, "kind", ""), "rate") == 0) {
        compare_rate(inv, stored, failed);
        return;
    }
    double base_slope = lh_json_getn(stored, "growth_per_iter", NAN);
    double base_peak = lh_json_getn(stored, "peak", NAN);
    double slope = lh_json_getn(inv, "growth_per_iter", NAN);
    /* the lower end of the slope's interval: a rise the run cannot
     * explain as noise */
    double slope_lo = lh_json_getn(inv, "slope_lo", slope);
    double peak = lh_json_getn(inv, "peak", NAN);
    double iters = lh_json_getn(stored, "iterations", 0);
    double allow = allowance(inv);
    char how_slope[64], how_peak[64];
    double tol_slope = allowed_rise(inv, "per_iter",
                                    LH_BASELINE_PER_ITER_PCT, base_slope,
                                    iters > 0 ? allow / iters : 0,
                                    how_slope, sizeof how_slope);
    double tol_peak = allowed_rise(inv, "peak", LH_BASELINE_PEAK_PCT,
                                   base_peak, allow, how_peak,
                                   sizeof how_peak);
    int slope_bad = isfinite(base_slope) && isfinite(slope_lo) &&
                    slope_lo > base_slope + tol_slope;
    int peak_bad = isfinite(base_peak) && isfinite(peak) &&
                   peak > base_peak + tol_peak;
    char reason[512];
    if (slope_bad)
        snprintf(reason, sizeof reason, "%s growth per iteration rose "
                 "from %.4g to %.4g %s (at least %.4g; %s allows +%.4g)",
                 metric, base_slope, slope, unit, slope_lo, how_slope,
                 tol_slope);
    else if (peak_bad)
        snprintf(reason, sizeof reason, "%s peak rose from %.6g to %.6g "
                 "%s (%+.1f%%; %s allows +%.6g)", metric, base_peak, peak,
                 unit, base_peak != 0 ? (peak - base_peak) / fabs(base_peak)
                 * 100 : 0.0, how_peak, tol_peak);
    else
        snprintf(reason, sizeof reason, "within the baseline: growth "
                 "%.4g (stored %.4g), peak %.6g (stored %.6g)", slope,
                 base_slope, peak, base_peak);
    if (slope_bad || peak_bad)
        (*failed)++;
    lh_buf_printf(&b, "{\"status\":\"%s\"",
                  slope_bad || peak_bad ? "fail" : "pass");
    lh_json_field_str(&b, "reason", reason);
    lh_json_field_num(&b, "growth_per_iter", base_slope);
    lh_json_field_num(&b, "peak", base_peak);
    lh_buf_puts(&b, ",\"tolerance\":{\"per_iter\":");
    lh_json_num(&b, tol_slope);
    lh_json_field_num(&b, "peak", tol_peak);
    lh_buf_puts(&b, "}}");
    lh_json_set(inv, "stored_baseline", lh_json_from(&b));
    lh_buf_free(&b);
}

static const char *const jtype_names[] = {
    "null", "a boolean", "a number", "a string", "an array", "an object",
};

static const char *type_name(const lh_json *v)
{
    return jtype_names[v->type];
}

/* One field of the file: must be of type want (or null when nullable). */
static int check_field(const lh_json *obj, const char *key, lh_jtype want,
                       int nullable, int required, const char *where,
                       const char *path, lh_buf *err)
{
    const lh_json *v = lh_json_get(obj, key);
    if (!v && !required)
        return 0;
    if (v && (v->type == want || (nullable && v->type == LH_JNULL)))
        return 0;
    lh_buf_printf(err, "%s: %s\"%s\": %s %s%s, got %s", path, where, key,
                  v ? "expected" : "missing: expected", jtype_names[want],
                  nullable ? " or null" : "", v ? type_name(v) : "nothing");
    return -1;
}

lh_json *lh_baseline_load(const char *path, lh_buf *err)
{
    char why[4600];
    lh_json *base = lh_json_load(path, why, sizeof why);
    if (!base) {
        lh_buf_printf(err, "%s", why);
        return NULL;
    }
    if (base->type != LH_JOBJ) {
        lh_buf_printf(err, "%s: not a leakhound baseline (not a JSON "
                      "object)", path);
        goto bad;
    }
    if (check_field(base, "schema", LH_JNUM, 0, 1, "", path, err) < 0 ||
        check_field(base, "workloads", LH_JOBJ, 0, 1, "", path, err) < 0)
        goto bad;
    double schema = lh_json_getn(base, "schema", 0);
    if (schema != LH_BASELINE_SCHEMA) {
        lh_buf_printf(err, "%s: \"schema\": version %g, this leakhound "
                      "reads version %d (write a new one with "
                      "--update-baseline)", path, schema,
                      LH_BASELINE_SCHEMA);
        goto bad;
    }
    for (const lh_json *w = lh_json_first(lh_json_get(base, "workloads")); w;
         w = w->next) {
        lh_buf where = LH_BUF_INIT;
        int bad = 0;
        lh_buf_puts(&where, "workloads.");
        lh_json_str(&where, w->key);
        if (w->type != LH_JOBJ) {
            lh_buf_printf(err, "%s: %s: expected an object, got %s", path,
                          lh_buf_str(&where), type_name(w));
            bad = 1;
        }
        lh_buf_putc(&where, '.');
        bad = bad ||
              check_field(w, "script", LH_JSTR, 1, 0, lh_buf_str(&where),
                          path, err) < 0 ||
              check_field(w, "invariants", LH_JOBJ, 0, 1,
                          lh_buf_str(&where), path, err) < 0;
        for (const lh_json *inv = lh_json_first(lh_json_get(w,
                                                            "invariants"));
             inv && !bad; inv = inv->next) {
            size_t mark = where.len;
            lh_buf_puts(&where, "invariants.");
            lh_json_str(&where, inv->key);
            if (inv->type != LH_JOBJ) {
                lh_buf_printf(err, "%s: %s: expected an object, got %s",
                              path, lh_buf_str(&where), type_name(inv));
                bad = 1;
                break;
            }
            lh_buf_putc(&where, '.');
            static const char *nums[] = {
                "growth_per_iter", "peak", "baseline", "rate_lo", "rate_hi",
            };
            for (size_t i = 0; i < 5 && !bad; i++)
                bad = check_field(inv, nums[i], LH_JNUM, 1, 0,
                                  lh_buf_str(&where), path, err) < 0;
            bad = bad ||
                  check_field(inv, "sites", LH_JARR, 0, 0,
                              lh_buf_str(&where), path, err) < 0 ||
                  check_field(inv, "iterations", LH_JNUM, 0, 0,
                              lh_buf_str(&where), path, err) < 0 ||
                  check_field(inv, "unit", LH_JSTR, 0, 0,
                              lh_buf_str(&where), path, err) < 0;
            where.len = mark;
            where.data[mark] = '\0';
        }
        lh_buf_free(&where);
        if (bad)
            goto bad;
    }
    return base;
bad:
    lh_json_free(base);
    return NULL;
}

int lh_baseline_compare(lh_json *report, const lh_json *base, int *compared)
{
    *compared = 0;
    const lh_json *stored_wl = lh_json_get(base, "workloads");
    int failed = 0;
    for (lh_json *w = (lh_json *)lh_json_first(lh_json_get(report,
                                                            "workloads"));
         w; w = w->next) {
        if (!baselined(w))
            continue;
        char key[4400];
        wl_key(report, w, key, sizeof key);
        const lh_json *sw = lh_json_get(stored_wl, key);
        const lh_json *sinv = lh_json_get(sw, "invariants");
        for (lh_json *inv = (lh_json *)lh_json_first(
                 lh_json_get(w, "invariants"));
             inv; inv = inv->next) {
            char key[300];
            inv_key(w, inv, key, sizeof key);
            const lh_json *stored = lh_json_get(sinv, key);
            if (stored)
                (*compared)++;
            compare_one(inv, stored, &failed);
        }
    }
    return failed;
}

static void workload_entry(lh_buf *b, const lh_json *w)
{
    lh_buf_puts(b, "{\"script\":");
    lh_json_str(b, lh_json_gets(w, "script", NULL));
    lh_buf_puts(b, ",\"invariants\":{");
    int first = 1;
    for (const lh_json *inv = lh_json_first(lh_json_get(w, "invariants"));
         inv; inv = inv->next) {
        char key[300];
        inv_key(w, inv, key, sizeof key);
        lh_buf_puts(b, first ? "" : ",");
        first = 0;
        lh_json_key(b, key);
        lh_buf_puts(b, "{\"growth_per_iter\":");
        lh_json_num(b, lh_json_getn(inv, "growth_per_iter", NAN));
        lh_json_field_num(b, "peak", lh_json_getn(inv, "peak", NAN));
        lh_json_field_num(b, "baseline", lh_json_getn(inv, "baseline", NAN));
        lh_json_field_num(b, "iterations", lh_json_getn(w, "iterations", 0));
        if (strcmp(lh_json_gets(inv, "kind", ""), "rate") == 0) {
            lh_json_field_num(b, "rate_lo", lh_json_getn(inv, "slope_lo",
                                                         NAN));
            lh_json_field_num(b, "rate_hi", lh_json_getn(inv, "slope_hi",
                                                         NAN));
            const lh_json *rs = lh_json_get(inv, "rate_sites");
            if (rs && rs->type == LH_JARR) {
                lh_buf_puts(b, ",\"sites\":");
                lh_json_write(b, rs);
            }
        }
        lh_json_field_str(b, "unit", lh_json_gets(inv, "unit", ""));
        lh_buf_putc(b, '}');
    }
    lh_buf_puts(b, "}}");
}

int lh_baseline_update(const lh_json *report, const char *path, lh_buf *err)
{
    lh_json *old = NULL;
    if (access(path, F_OK) == 0) {
        old = lh_baseline_load(path, err);
        if (!old) {
            lh_buf_puts(err, " (not overwritten; fix or remove it)");
            return -1;
        }
    }
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    lh_buf b = LH_BUF_INIT;
    lh_buf_printf(&b, "{\"leakhound\":\"" LH_VERSION "\",\"schema\":1,"
                  "\"updated\":\"%s\",\"workloads\":{", now);
    int n = 0, first = 1;
    const lh_json *wls = lh_json_get(report, "workloads");
    for (const lh_json *w = lh_json_first(wls); w; w = w->next) {
        if (!baselined(w))
            continue;
        lh_buf_puts(&b, first ? "\n" : ",\n");
        first = 0;
        char key[4400];
        wl_key(report, w, key, sizeof key);
        lh_json_key(&b, key);
        workload_entry(&b, w);
        n++;
    }
    /* keep what this run did not measure */
    for (const lh_json *e = lh_json_first(lh_json_get(old, "workloads"));
         e; e = e->next) {
        int ran = 0;
        for (const lh_json *w = lh_json_first(wls); w && !ran; w = w->next) {
            char key[4400];
            wl_key(report, w, key, sizeof key);
            ran = strcmp(key, e->key) == 0 && baselined(w);
        }
        if (ran)
            continue;
        lh_buf_puts(&b, first ? "\n" : ",\n");
        first = 0;
        lh_json_key(&b, e->key);
        lh_json_write(&b, e);
    }
    lh_buf_puts(&b, "\n}}\n");
    lh_json_free(old);
    int rc = lh_write_atomic(path, b.data, b.len);
    if (rc < 0)
        lh_buf_printf(err, "cannot write %s: %s", path, strerror(errno));
    lh_buf_free(&b);
    return rc < 0 ? -1 : n;
}
