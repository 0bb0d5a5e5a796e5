/* report_model.c - gates, verdicts and units shared by the renderers. */
#include "report_model.h"

#include <math.h>
#include <string.h>

#include "text.h"

double lh_rep_getn(const lh_json *v, const char *key)
{
    return lh_json_getn(v, key, NAN);
}

const lh_json *lh_rep_stored_baseline(const lh_json *inv)
{
    const lh_json *bl = lh_json_get(inv, "stored_baseline");
    if (bl && bl->type == LH_JOBJ)
        return bl;
    bl = lh_json_get(inv, "baseline");
    return bl && bl->type == LH_JOBJ ? bl : NULL;
}

double lh_rep_first_value(const lh_json *inv)
{
    const lh_json *b = lh_json_get(inv, "baseline");
    if (b && b->type == LH_JNUM)
        return b->num;
    const lh_json *y = lh_json_at(lh_json_first(lh_json_get(inv, "series")),
                                  1);
    return y && y->type == LH_JNUM ? y->num : NAN;
}

const char *lh_rep_status(const lh_json *w)
{
    return lh_json_gets(w, "status", "?");
}

int lh_rep_aborted(const lh_json *w)
{
    const char *st = lh_rep_status(w);
    return strcmp(st, "error") == 0 || strcmp(st, "crashed") == 0 ||
           strcmp(st, "timeout") == 0;
}

/* The gate object's verdict, or -1 when there is no usable one. */
static int explicit_gate(const lh_json *v, lh_buf *reason)
{
    const lh_json *g = lh_json_get(v, "gate");
    const lh_json *ok = lh_json_get(g, "ok");
    if (!ok || ok->type != LH_JBOOL)
        return -1;
    if (reason)
        lh_buf_puts(reason, lh_json_gets(g, "reason", ""));
    return ok->num != 0;
}

int lh_rep_run_gate(const lh_json *report, lh_buf *reason)
{
    int ok = explicit_gate(report, reason);
    if (ok >= 0)
        return ok;
    double code = lh_json_getn(report, "exit_code", 0);
    static const char *const meaning[] = {
        "every invariant holds", "some invariant failed",
        "usage, script or target-load error",
        "a workload crashed or timed out",
    };
    if (reason && code >= 0 && code <= 3)
        lh_buf_printf(reason, "exit status %.0f: %s", code,
                      meaning[(int)code]);
    else if (reason)
        lh_buf_printf(reason, "exit status %.0f", code);
    return code == 0;
}

int lh_rep_case_gate(const lh_json *c, lh_buf *reason)
{
    int ok = explicit_gate(c, reason);
    if (ok >= 0)
        return ok;
    const char *status = lh_json_gets(c, "status", "?");
    const char *want = lh_json_getb(c, "expect_leak", 0) ? "leaks" : "fixed";
    if (reason)
        lh_buf_printf(reason, "expected %s, got %s", want, status);
    return strcmp(status, want) == 0;
}

void lh_rep_abort_message(lh_buf *b, const lh_json *w,
                          const lh_json **detail)
{
    const char *status = lh_rep_status(w);
    const lh_json *d = NULL;
    if (strcmp(status, "error") == 0) {
        d = lh_json_get(w, "error");
        lh_buf_puts(b, lh_json_gets(d, "message", "error"));
    } else if (strcmp(status, "crashed") == 0) {
        d = lh_json_get(w, "crash");
        const char *sig = lh_json_gets(d, "signal_name", NULL);
        if (sig)
            lh_buf_printf(b, "crashed: %s (signal %.0f)", sig,
                          lh_json_getn(d, "signal", 0));
        else if (lh_json_get(d, "exit_code"))
            lh_buf_printf(b, "crashed: exit status %.0f",
                          lh_json_getn(d, "exit_code", 0));
        else
            lh_buf_puts(b, "crashed");
    } else if (strcmp(status, "timeout") == 0) {
        d = lh_json_get(w, "timeout");
        lh_buf_printf(b, "timed out after %gs",
                      lh_json_getn(d, "seconds", 0));
    } else {
        lh_buf_printf(b, "status %s", status);
    }
    const char *phase = lh_json_gets(d, "phase", NULL);
    if (phase)
        lh_buf_printf(b, " in %s", phase);
    /* judged on the samples taken before it (issue 11) */
    const lh_json *pa = lh_json_get(w, "partial");
    if (d && pa && pa->type == LH_JOBJ) {
        int n = 0;
        const lh_json *invs = lh_json_get(w, "invariants");
        for (const lh_json *i = lh_json_first(invs); i; i = i->next)
            if (strcmp(lh_json_gets(i, "status", ""), "fail") == 0)
                lh_buf_printf(b, "%s%s", n++ ? ", " : ", after ",
                              lh_json_gets(i, "metric", "?"));
        lh_buf_printf(b, n ? " failed (judged on %.0f of %.0f samples)" :
                      "; every invariant held on the %.0f of %.0f samples "
                      "before", lh_json_getn(pa, "samples", 0),
                      lh_json_getn(pa, "of", 0));
    }
    if (detail)
        *detail = d;
}

static int baseline_failed(const lh_json *inv)
{
    return strcmp(lh_json_gets(lh_rep_stored_baseline(inv), "status", ""),
                  "fail") == 0;
}

int lh_rep_workload_gate(const lh_json *w, lh_buf *reason)
{
    int ok = explicit_gate(w, reason);
    if (ok >= 0)
        return ok;
    const char *status = lh_rep_status(w);
    const lh_json *expect = lh_json_get(w, "expect");
    if (expect && expect->type == LH_JOBJ) {
        const char *want = lh_json_gets(expect, "status", "?");
        ok = lh_json_getb(expect, "met", 0);
        if (reason && ok)
            lh_buf_printf(reason, "expected %s, and it was", want);
        else if (reason)
            lh_buf_printf(reason, "expected %s, got %s", want, status);
    } else {
        ok = strcmp(status, "pass") == 0;
        if (reason)
            lh_buf_puts(reason, ok ? "every invariant holds" :
                        strcmp(status, "fail") == 0 ? "an invariant failed" :
                        strcmp(status, "error") == 0 ? "the workload errored" :
                        strcmp(status, "unresolved") == 0 ?
                            "a step the run did not go far enough to judge "
                            "(unresolved)" :
                        strcmp(status, "crashed") == 0 ? "the worker crashed" :
                        strcmp(status, "timeout") == 0 ?
                            "the worker timed out" : status);
    }
    /* A creeping regression against the stored baseline fails the gate
     * even when the invariant's own threshold was not crossed. */
    const lh_json *invs = lh_json_get(w, "invariants");
    for (const lh_json *inv = lh_json_first(invs); inv; inv = inv->next) {
        if (baseline_failed(inv)) {
            if (reason && ok) {
                lh_buf_reset(reason);
                lh_buf_printf(reason, "%s grew past its stored baseline",
                              lh_json_gets(inv, "metric", "?"));
            }
            ok = 0;
            break;
        }
    }
    return ok;
}

static int expected_to_fail_on(const lh_json *w, const char *metric)
{
    const lh_json *metrics = lh_json_get(lh_json_get(w, "expect"), "metrics");
    for (const lh_json *m = lh_json_first(metrics); m; m = m->next)
        if (m->type == LH_JSTR && strcmp(m->str, metric) == 0)
            return 1;
    return 0;
}

lh_inv_verdict lh_rep_inv_verdict(const lh_json *w, const lh_json *inv,
                                  int workload_gate_ok, lh_buf *why)
{
    const char *status = lh_json_gets(inv, "status", "?");
    const char *metric = lh_json_gets(inv, "metric", "?");
    const char *reason = lh_json_gets(inv, "reason", "");
    /* unresolved: not judged, which a gate must not pass either */
    int failed = strcmp(status, "fail") == 0 ||
                 strcmp(status, "error") == 0 ||
                 strcmp(status, "unresolved") == 0;
    if (baseline_failed(inv)) {
        if (why) {
            const lh_json *bl = lh_rep_stored_baseline(inv);
            lh_buf_printf(why, "grew past the stored baseline: %s",
                          lh_json_gets(bl, "reason", "no reason given"));
        }
        return LH_INV_FAIL;
    }
    if (failed && !workload_gate_ok) {
        if (why)
            lh_buf_puts(why, reason);
        return LH_INV_FAIL;
    }
    if (failed) {
        if (why)
            lh_buf_printf(why, "failed as expected: %s", reason);
        return LH_INV_EXPECTED_FAIL;
    }
    if (!workload_gate_ok && expected_to_fail_on(w, metric)) {
        if (why)
            lh_buf_printf(why, "expected to fail on %s, but it passed: %s",
                          metric, reason);
        return LH_INV_FAIL;
    }
    if (why)
        lh_buf_puts(why, reason);
    return LH_INV_PASS;
}

const char *lh_rep_verdict_word(const lh_json *inv, lh_inv_verdict v)
{
    const char *status = lh_json_gets(inv, "status", "?");
    if (v == LH_INV_EXPECTED_FAIL)
        return strcmp(status, "unresolved") == 0 ? "unresolved as expected"
                                                 : "failed as expected";
    if (v == LH_INV_PASS)
        return strcmp(status, "pass") == 0 ? "pass" : status;
    if (strcmp(status, "pass") == 0)
        return baseline_failed(inv) ? "baseline fail" : "passed, not expected";
    return status;
}

const lh_json *lh_rep_worst_invariant(const lh_json *w, int gate_ok)
{
    const lh_json *invs = lh_json_get(w, "invariants");
    const lh_json *expected = NULL, *errored = NULL;
    for (const lh_json *inv = lh_json_first(invs); inv; inv = inv->next) {
        lh_inv_verdict v = lh_rep_inv_verdict(w, inv, gate_ok, NULL);
        if (v == LH_INV_FAIL)
            return inv;
        if (v == LH_INV_EXPECTED_FAIL && !expected)
            expected = inv;
        if (!errored && strcmp(lh_json_gets(inv, "status", ""), "error") == 0)
            errored = inv;
    }
    if (expected)
        return expected;
    if (errored)
        return errored;
    return lh_json_first(invs);
}

void lh_rep_repro(lh_buf *b, const lh_json *w)
{
    const char *repro = lh_json_gets(w, "repro", NULL);
    if (repro && *repro) {
        lh_buf_puts(b, repro);
        return;
    }
    const char *script = lh_json_gets(w, "script", "SCRIPT");
    const char *name = lh_json_gets(w, "name", "");
    lh_buf_puts(b, "build/leakhound run ");
    lh_shell_quote(b, script);
    /* A script that failed to load is named by its path: no --workload. */
    if (*name && strcmp(name, script) != 0) {
        lh_buf_puts(b, " --workload '");
        for (const char *p = name; *p; p++) {
            if (*p == '\'')
                lh_buf_puts(b, "'\\''");
            else
                lh_buf_putc(b, *p);
        }
        lh_buf_putc(b, '\'');
    }
}

void lh_rep_num(lh_buf *b, double v)
{
    if (isnan(v)) {
        lh_buf_puts(b, "n/a");
    } else if (isinf(v)) {
        lh_buf_puts(b, v > 0 ? "inf" : "-inf");
    } else if (fabs(v) >= 1000 && fabs(v) < 1e15) {
        lh_buf_printf(b, "%.0f", v);    /* big counts read best whole */
    } else if (v == floor(v)) {
        lh_buf_printf(b, "%.0f", v);
    } else {
        lh_buf_printf(b, "%.3g", v);
    }
}

void lh_rep_qty(lh_buf *b, double v, const char *unit)
{
    if (!unit)
        unit = "";
    if (strcmp(unit, "B") == 0 && !isnan(v) && fabs(v) >= 1024) {
        static const char *const scaled[] = { "KiB", "MiB", "GiB", "TiB" };
        int k = 0;
        v /= 1024;
        while (fabs(v) >= 1024 && k < 3) {
            v /= 1024;
            k++;
        }
        lh_buf_printf(b, "%.3g %s", v, scaled[k]);
        return;
    }
    lh_rep_num(b, v);
    if (*unit && !isnan(v))
        lh_buf_printf(b, " %s", unit);
}

void lh_rep_rate(lh_buf *b, double v, const char *unit)
{
    if (isnan(v)) {
        lh_buf_puts(b, "n/a");
        return;
    }
    if (v >= 0)
        lh_buf_putc(b, '+');
    lh_rep_qty(b, v, unit);
    lh_buf_puts(b, "/iter");
}

void lh_rep_pvalue(lh_buf *b, double p)
{
    if (isnan(p))
        lh_buf_puts(b, "p=n/a");
    else if (p < 0.001)
        lh_buf_puts(b, "p<0.001");
    else
        lh_buf_printf(b, "p=%.3g", p);
}

void lh_rep_site_amount(lh_buf *b, const lh_json *site, const char *unit,
                        double *value)
{
    double bytes = lh_json_getn(site, "bytes", 0);
    double count = lh_json_getn(site, "count", 0);
    if (!unit)
        unit = "";
    /* Counted metrics (allocs, fds, goroutines, objects...) are explained
     * by counts; bytes and the unitless target gauges by bytes. */
    int by_bytes = strcmp(unit, "B") == 0 || (!*unit && bytes > 0);
    double v = by_bytes ? bytes : count;
    if (value)
        *value = v;
    lh_buf_putc(b, '+');
    lh_rep_qty(b, v, by_bytes ? "B" : unit);
}

double lh_rep_sites_total(const lh_json *sites, const char *unit)
{
    double total = 0;
    for (const lh_json *s = lh_json_first(sites); s; s = s->next) {
        lh_buf scratch = LH_BUF_INIT;
        double v;
        lh_rep_site_amount(&scratch, s, unit, &v);
        total += v > 0 ? v : 0;
        lh_buf_free(&scratch);
    }
    return total;
}
