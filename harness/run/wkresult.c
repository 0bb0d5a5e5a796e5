/*
 * wkresult.c - a judged workload reported: the result object the worker
 * sends the supervisor (series, verdicts, sites, files) and the verdict
 * lines people read.
 */
#include "worker_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "json.h"
#include "latency.h"
#include "text.h"

void wk_fmt_value(char *out, size_t len, double v)
{
    double a = fabs(v);
    if (a >= 1e6 || (a > 0 && a < 0.01))
        snprintf(out, len, "%.3g", v);
    else if (a == floor(a))
        snprintf(out, len, "%.0f", v);
    else
        snprintf(out, len, "%.2f", v);
}

void wk_fmt_p(char *out, size_t len, double p)
{
    if (!isfinite(p))
        snprintf(out, len, "p=n/a");
    else if (p < 0.001)
        snprintf(out, len, "p<0.001");
    else
        snprintf(out, len, "p=%.3f", p);
}


static void json_series(lh_buf *b, worker *wk, int metric)
{
    lh_buf_putc(b, '[');
    for (size_t r = 0; r < wk->nrows; r++) {
        lh_buf_printf(b, "%s[", r ? "," : "");
        lh_json_num(b, wk->x[r]);
        lh_buf_putc(b, ',');
        lh_json_num(b, wk->y[r * wk->probes.n + (size_t)metric]);
        lh_buf_putc(b, ']');
    }
    lh_buf_putc(b, ']');
}

/* ,"tolerance":{...} when the script set one (the gate has defaults). */
/* A rate's allocation sites, per measured iteration (estimates from the
 * sampled stacks or the Go heap profile), for the gate to compare with
 * the baseline's. */
static void json_rate_sites(lh_buf *b, worker *wk, const judged *j)
{
    double iters = wk->nrows ? wk->x[wk->nrows - 1] : 0;
    lh_buf_puts(b, ",\"rate_sites\":[");
    for (int i = 0; iters > 0 && i < j->nsites; i++) {
        const lh_site *st = &j->sites[i];
        lh_buf_puts(b, i ? ",{" : "{");
        lh_json_key(b, "func");
        lh_json_str(b, st->func);
        lh_json_field_str(b, "location", st->location);
        lh_json_field_num(b, "allocs_per_iter", st->count / iters);
        lh_json_field_num(b, "bytes_per_iter", st->bytes / iters);
        lh_buf_putc(b, '}');
    }
    lh_buf_putc(b, ']');
}

static void json_tolerance(lh_buf *b, const lh_invariant *inv)
{
    const lh_tolerance *t[] = { &inv->tol_per_iter, &inv->tol_peak };
    static const char *names[] = { "per_iter", "peak" };
    if (!t[0]->given && !t[1]->given)
        return;
    lh_buf_puts(b, ",\"tolerance\":{");
    int first = 1;
    for (int i = 0; i < 2; i++) {
        if (!t[i]->given)
            continue;
        lh_buf_printf(b, "%s\"%s\":", first ? "" : ",", names[i]);
        lh_json_num(b, t[i]->value);
        lh_buf_printf(b, ",\"%s_is_percent\":%s", names[i],
                      t[i]->is_pct ? "true" : "false");
        first = 0;
    }
    lh_buf_putc(b, '}');
}

static void json_invariant(lh_buf *b, worker *wk, judged *j)
{
    lh_invariant *inv = j->inv;
    const char *unit = lh_metric_unit(inv->metric);
    lh_buf_putc(b, '{');
    lh_json_key(b, "metric");
    lh_json_str(b, inv->metric);
    lh_json_field_str(b, "kind", inv->kind_name);
    lh_json_field_str(b, "status", wk_judged_status(j));
    lh_json_field_str(b, "unit", unit);
    static const char *keys[] = {
        "growth_per_iter", "slope_lo", "slope_hi", "p_value", "growth",
        "threshold", "baseline", "final", "peak",
    };
    double vals[] = {
        j->v.slope, j->v.slope_lo, j->v.slope_hi, j->v.p_value, j->v.growth,
        j->v.threshold, j->v.baseline, j->v.final, j->v.peak,
    };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        lh_json_field_num(b, keys[i], j->ok ? vals[i] : NAN);
    lh_json_field_num(b, "slack", inv->spec.slack);
    lh_buf_printf(b, ",\"slack_is_percent\":%s",
                  inv->spec.slack_is_pct ? "true" : "false");
    if (inv->spec.kind == LH_INV_BOUNDED || inv->spec.kind == LH_INV_RATE)
        lh_json_field_num(b, "max", inv->spec.max);
    if (inv->spec.kind == LH_INV_RATE) {
        /* per iteration: the phases' median and its interval, and the
         * whole run's (growth_per_iter, slope_lo/hi repeat the first) */
        lh_json_field_num(b, "rate_per_iter", j->ok ? j->v.slope : NAN);
        lh_json_field_num(b, "rate_lo", j->ok ? j->v.slope_lo : NAN);
        lh_json_field_num(b, "rate_hi", j->ok ? j->v.slope_hi : NAN);
        lh_json_field_num(b, "rate_run", j->ok ? j->v.growth : NAN);
        lh_json_field_num(b, "rate_level", 1 - inv->spec.alpha);
    }
    if (inv->spec.kind == LH_INV_MAX_GROWTH)
        lh_json_field_num(b, "per_iter", inv->spec.per_iter);
    lh_json_field_num(b, "alpha", inv->spec.alpha);
    json_tolerance(b, inv);
    lh_json_field_num(b, "samples", (double)wk->nrows);
    lh_json_field_num(b, "judged_samples", (double)j->v.judged);
    lh_json_field_str(b, "reason", j->v.reason);
    if (inv->spec.kind == LH_INV_RATE)
        json_rate_sites(b, wk, j);
    lh_buf_puts(b, ",\"sites\":[");
    for (int i = 0; j->v.fail && i < j->nsites; i++) {
        const lh_site *st = &j->sites[i];
        lh_buf_puts(b, i ? ",{" : "{");
        lh_json_key(b, "func");
        lh_json_str(b, st->func);
        lh_json_field_str(b, "location", st->location);
        lh_json_field_str(b, "detail", st->detail);
        if (st->via[0])
            lh_json_field_str(b, "via", st->via);
        lh_json_field_num(b, "bytes", st->bytes);
        lh_json_field_num(b, "count", st->count);
        lh_json_field_str(b, "stack", st->folded);
        if (st->labels[0]) {
            lh_buf_putc(b, ',');
            lh_json_key(b, "labels");
            lh_buf_puts(b, st->labels);     /* a JSON object already */
        }
        lh_buf_putc(b, '}');
    }
    lh_buf_puts(b, "],\"files\":[");
    int first = 1;
    for (size_t at = 0; at < j->files.len;) {
        const char *p = j->files.data + at;     /* NUL-terminated paths */
        lh_buf_puts(b, first ? "" : ",");
        lh_json_str(b, p);
        first = 0;
        at += strlen(p) + 1;
    }
    lh_buf_putc(b, ']');
    if (j->file_errors.len) {
        lh_buf_puts(b, ",\"file_errors\":[");
        const char *e = lh_buf_str(&j->file_errors);
        for (first = 1; *e; first = 0) {
            size_t n = strcspn(e, "\n");
            lh_buf_puts(b, first ? "" : ",");
            lh_json_strn(b, e, n);
            e += n + (e[n] ? 1 : 0);
        }
        lh_buf_putc(b, ']');
    }
    lh_buf_putc(b, ',');
    lh_json_key(b, "series");
    if (j->metric >= 0)
        json_series(b, wk, j->metric);
    else
        lh_buf_puts(b, "[]");
    lh_buf_putc(b, '}');
}

/* The sites under a failing verdict line: where it is held. */
void wk_site_lines(worker *wk, judged *j)
{
    double total = 0;
    /* bytes, unless the metric counts goroutines, fds or threads */
    int bytes = strcmp(j->inv->metric, "go.goroutines") != 0 &&
                strcmp(j->inv->metric, "proc.fds") != 0 &&
                strcmp(j->inv->metric, "proc.threads") != 0 &&
                strcmp(j->inv->metric, "heap.live_allocs") != 0 &&
                strcmp(j->inv->metric, "go.heap_objects") != 0;
    for (int i = 0; i < j->nsites; i++)
        total += bytes ? j->sites[i].bytes : j->sites[i].count;
    for (int i = 0; i < j->nsites && i < 3; i++) {
        const lh_site *st = &j->sites[i];
        double v = bytes ? st->bytes : st->count;
        wk_send_info(wk, "%+.0f %s  %3.0f%%  %s%s%s%s%s%s", v,
            bytes ? "B" : lh_metric_unit(j->inv->metric),
            total > 0 ? 100 * v / total : 0, st->func,
            st->location[0] ? " (" : "", st->location,
            st->location[0] ? ")" : "", st->detail[0] ? "  " : "",
            st->detail);
    }
}

/* An invariant's status: error, fail, unresolved (stable: a step the run
 * did not go far enough to tell from growth) or pass. */
const char *wk_judged_status(const judged *j)
{
    return !j->ok ? "error" : j->v.fail ? "fail"
         : j->v.unresolved ? "unresolved" : "pass";
}

/* The verdict line into *out; its status. */
const char *wk_format_verdict(worker *wk, judged *j, lh_buf *out)
{
    lh_invariant *inv = j->inv;
    const char *unit = lh_metric_unit(inv->metric);
    char a[48], p[32], t[48];
    const char *tag = !j->ok ? "ERROR" : j->v.fail ? "FAIL"
                    : j->v.unresolved ? "UNRESOLVED" : "pass";
    lh_buf_printf(out, "%-5s %s  %s  %s  ", tag, wk->w.name, inv->metric,
                  inv->kind_name);
    if (!j->ok) {
        lh_buf_puts(out, j->v.reason);
    } else if (inv->spec.kind == LH_INV_STABLE ||
               inv->spec.kind == LH_INV_MAX_GROWTH) {
        wk_fmt_value(a, sizeof a, j->v.slope);
        wk_fmt_p(p, sizeof p, j->v.p_value);
        lh_buf_printf(out, "%s%s %s/iter (%s, %zu samples)",
                      j->v.slope >= 0 ? "+" : "", a, *unit ? unit : "units",
                      p, wk->nrows);
        wk_fmt_value(t, sizeof t, j->v.threshold);
        if (inv->spec.kind == LH_INV_MAX_GROWTH)
            lh_buf_printf(out, " limit %s/iter", t);
        /* growth in steps: what the extension showed, or could not */
        const char *r = j->v.reason;
        if (strncmp(r, "grows in steps", 14) == 0 ||
            strncmp(r, "plateau: last step", 18) == 0 ||
            strncmp(r, "unresolved", 10) == 0)
            lh_buf_printf(out, "; %.*s", (int)strcspn(r, ";"), r);
    } else if (inv->spec.kind == LH_INV_RATE) {
        char lo[48], hi[48];
        wk_fmt_value(a, sizeof a, j->v.slope);
        wk_fmt_value(lo, sizeof lo, j->v.slope_lo);
        wk_fmt_value(hi, sizeof hi, j->v.slope_hi);
        wk_fmt_value(t, sizeof t, j->v.threshold);
        lh_buf_printf(out, "%s %s/iter (CI %s..%s, %zu phases) max %s/iter",
                      a, *unit ? unit : "units", lo, hi, j->v.judged, t);
    } else if (inv->spec.kind == LH_INV_BASELINE) {
        wk_fmt_value(a, sizeof a, j->v.growth);
        wk_fmt_value(t, sizeof t, j->v.threshold);
        lh_buf_printf(out, "%s%s %s over baseline (slack %s)",
                      j->v.growth >= 0 ? "+" : "", a, unit, t);
    } else {
        wk_fmt_value(a, sizeof a, j->v.peak);
        wk_fmt_value(t, sizeof t, j->v.threshold);
        lh_buf_printf(out, "peak %s %s (max %s)", a, unit, t);
    }
    if (j->ok && j->exhausted[0])
        lh_buf_printf(out, "; %s", j->exhausted);
    return wk_judged_status(j);
}

void wk_verdict_line(worker *wk, judged *j)
{
    lh_buf line = LH_BUF_INIT;
    const char *status = wk_format_verdict(wk, j, &line);
    wk_send_verdict(wk, status, j->inv->metric, lh_buf_str(&line));
    lh_buf_free(&line);
}

/* The result (type "result"), or an interim one the supervisor keeps in
 * case the worker dies ("interim": no Go profile); extra: more members,
 * each after a comma. */
void wk_emit_result(worker *wk, judged *js, int nj, const char *type,
                    const char *extra)
{
    lh_buf b = LH_BUF_INIT;
    int final = strcmp(type, "result") == 0;
    lh_buf_printf(&b, "{\"type\":\"%s\",\"result\":{", type);
    lh_json_key(&b, "name");
    lh_json_str(&b, wk->w.name);
    lh_json_field_str(&b, "status", wk->status);
    if (wk->target)
        lh_json_field_str(&b, "target_file", wk->target->real);
    lh_buf_printf(&b, ",\"index\":%d,\"threads\":%d,\"warmup\":%ld,"
                  "\"samples\":%d,", wk->w.index, wk->w.threads,
                  wk->w.warmup, wk->w.samples);
    uint64_t done = !wk->runner_ready ? 0
                    : (wk->measured_until ? wk->measured_until
                                          : lh_runner_done(&wk->runner)) -
                      wk->measured_from;
    double secs = wk->t_measured <= 0 ? 0
                  : (wk->measured_until ? wk->t_until : lh_now()) -
                    wk->t_measured;
    lh_json_key(&b, "iterations");
    lh_json_num(&b, (double)done);
    if (wk->w.iterations > 0)   /* below iterations: the run was extended */
        lh_json_field_num(&b, "planned_iterations",
                          (double)wk->w.iterations);
    lh_json_field_num(&b, "seconds", secs);
    lh_json_field_num(&b, "rate", secs > 0 ? (double)done / secs : 0);
    if (wk->runner_ready) {
        lh_hist h;
        lh_runner_latency(&wk->runner, &h);
        lh_buf_puts(&b, ",\"latency_us\":{");
        lh_json_key(&b, "p50");
        lh_json_num(&b, lh_hist_quantile(&h, 0.5) / 1e3);
        lh_json_field_num(&b, "p99", lh_hist_quantile(&h, 0.99) / 1e3);
        lh_json_field_num(&b, "max", (double)h.max_ns / 1e3);
        lh_json_field_num(&b, "mean",
                          h.count ? h.sum_ns / (double)h.count / 1e3 : 0);
        lh_buf_putc(&b, '}');
    }
    if (wk->err.len) {
        lh_buf_puts(&b, ",\"error\":{");
        lh_json_key(&b, "message");
        lh_json_str(&b, lh_buf_str(&wk->err));
        lh_json_field_str(&b, "traceback", lh_buf_str(&wk->traceback));
        lh_buf_putc(&b, '}');
    }
    if (wk->nrows > 0) {
        /* every available metric's series, for plots and diagnosis */
        lh_buf_puts(&b, ",\"metrics\":{");
        int first = 1;
        for (size_t m = 0; m < wk->probes.n; m++) {
            lh_metric *mt = &wk->probes.metrics[m];
            if (!mt->available)
                continue;
            lh_buf_printf(&b, "%s", first ? "" : ",");
            first = 0;
            lh_json_key(&b, mt->name);
            lh_buf_putc(&b, '{');
            lh_json_key(&b, "unit");
            lh_json_str(&b, mt->unit);
            lh_json_field_num(&b, "peak", wk->peak[m]);
            lh_buf_putc(&b, ',');
            lh_json_key(&b, "series");
            json_series(&b, wk, (int)m);
            lh_buf_putc(&b, '}');
        }
        lh_buf_putc(&b, '}');
    }
    lh_buf_puts(&b, ",\"invariants\":[");
    for (int i = 0; i < nj; i++) {
        if (i)
            lh_buf_putc(&b, ',');
        json_invariant(&b, wk, &js[i]);
    }
    lh_buf_putc(&b, ']');
    /* For a goroutine leak, the grouped goroutine profile says where. */
    int go_failed = 0;
    for (int i = 0; i < nj; i++)
        go_failed |= js[i].ok && js[i].v.fail &&
                     strncmp(js[i].inv->metric, "go.goroutines", 13) == 0;
    if (final && go_failed && wk->target &&
        wk->target->go.goroutine_profile) {
        int64_t need = wk->target->go.goroutine_profile(NULL, 0);
        if (need > 0 && need < (64 << 20)) {
            char *prof = lh_xmalloc((size_t)need + 1);
            int64_t got = wk->target->go.goroutine_profile(prof, need + 1);
            if (got > need)
                got = need;
            lh_buf_putc(&b, ',');
            lh_json_key(&b, "goroutine_profile");
            lh_json_strn(&b, prof, (size_t)(got > 0 ? got : 0));
            lh_raw_free(prof);
        }
    }
    if (wk->stopped_at >= 0) {
        char text[256];
        lh_limit_describe(&wk->stop, text, sizeof text);
        lh_buf_printf(&b, ",\"stopped\":{\"sample\":%d,\"of\":%d",
                      wk->stopped_at, wk->w.samples);
        lh_json_field_str(&b, "resource", wk->stop.resource);
        lh_json_field_str(&b, "limit_name", wk->stop.limit_name);
        lh_json_field_num(&b, "used", wk->stop.used);
        lh_json_field_num(&b, "limit", wk->stop.limit);
        lh_json_field_str(&b, "text", text);
        lh_buf_putc(&b, '}');
    }
    if (extra)
        lh_buf_puts(&b, extra);
    lh_buf_puts(&b, "}}");
    wk_send_msg(wk, &b);
    lh_buf_free(&b);
}

/* A load test's throughput and latency, as a line under its verdicts. */
void wk_load_line(worker *wk)
{
    lh_hist h;
    lh_runner_latency(&wk->runner, &h);
    uint64_t done = lh_runner_done(&wk->runner) - wk->measured_from;
    double secs = lh_now() - wk->t_measured;
    wk_send_info(wk, "load: %d threads, %llu iterations, %.0f it/s, "
        "step latency p50 %.1f us, p99 %.1f us, max %.1f us",
        wk->w.threads, (unsigned long long)done,
        secs > 0 ? (double)done / secs : 0, lh_hist_quantile(&h, 0.5) / 1e3,
        lh_hist_quantile(&h, 0.99) / 1e3, (double)h.max_ns / 1e3);
}
