/*
 * worker.c - one workload, start to verdict, in a fresh process.
 *
 * Order of events: load the script, open the target, set up, warm up,
 * settle and take the baseline sample, then run the measured iterations in
 * `samples` phases with a settle and a sample after each, tear down, and
 * judge every invariant on the series.  One-time initialisation belongs in
 * setup and warmup, which are never measured.  The result object and the
 * verdict lines are written by wkresult.c.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "buf.h"
#include "child.h"
#include "clock.h"
#include "json.h"
#include "detector.h"
#include "diagnose.h"
#include "flight.h"
#include "alloc.h"
#include "latency.h"
#include "reslimits.h"
#include "lua_target.h"
#include "lualeak.h"
#include "probes.h"
#include "runner.h"
#include "script.h"
#include "text.h"
#include "workload.h"
#include "worker_impl.h"


/* Spare fds held through the workload for the harness's own writes after
 * it (report files, folded stacks, addr2line): a target that used every
 * fd left must not cost its report.  See lh_fd_reserve. */
#define FD_SPARE 16

static void send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;     /* supervisor gone: nothing to report to */
        }
        p += n;
        len -= (size_t)n;
    }
}

static pid_t worker_pid;

/* One message: the JSON object in m, then a newline (worker.h).  Only from
 * the worker: a copy the target forked behind lh_target_call's back (a
 * raw fork syscall) ends here, silently. */
void wk_send_msg(worker *wk, lh_buf *m)
{
    if (getpid() != worker_pid)
        _exit(0);
    lh_buf_putc(m, '\n');
    send_all(wk->msg_fd, m->data, m->len);
}

void wk_send_verdict(worker *wk, const char *status, const char *metric,
                     const char *text)
{
    lh_buf m = LH_BUF_INIT;
    lh_buf_puts(&m, "{\"type\":\"verdict\"");
    lh_json_field_str(&m, "status", status);
    lh_json_field_str(&m, "metric", metric);
    lh_json_field_str(&m, "text", text);
    lh_buf_putc(&m, '}');
    wk_send_msg(wk, &m);
    lh_buf_free(&m);
}

void wk_send_info(worker *wk, const char *fmt, ...)
{
    lh_buf text = LH_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    lh_buf_vprintf(&text, fmt, ap);
    va_end(ap);
    wk_send_verdict(wk, "info", NULL, lh_buf_str(&text));
    lh_buf_free(&text);
}

static void send_progress(worker *wk, uint64_t done, double rate,
                          const char *text)
{
    lh_buf m = LH_BUF_INIT;
    lh_buf_puts(&m, "{\"type\":\"progress\"");
    lh_json_field_num(&m, "done", (double)done);
    lh_json_field_num(&m, "total", (double)wk->total);
    lh_json_field_num(&m, "rate", rate);
    lh_json_field_str(&m, "text", text);
    lh_buf_putc(&m, '}');
    wk_send_msg(wk, &m);
    lh_buf_free(&m);
}

/* Split "file:line: message\nstack traceback:..." into the two parts. */
static void set_error(worker *wk, const char *text)
{
    lh_buf_reset(&wk->err);
    lh_buf_reset(&wk->traceback);
    const char *tb = strstr(text, "\nstack traceback:");
    if (tb) {
        lh_buf_add(&wk->err, text, (size_t)(tb - text));
        lh_buf_puts(&wk->traceback, tb + 1);
    } else {
        lh_buf_puts(&wk->err, text);
    }
    wk->status = "error";
}

/* ---- sampling -------------------------------------------------------- */

static int settle(worker *wk)
{
    uint32_t phase = wk->flight->phase;
    wk->flight->phase = LH_PHASE_SETTLE;
    /* counters leave out settling and sampling, to the sample's end */
    lh_probes_exclude_begin(&wk->probes);
    int rc = 0;
    if (wk->w.has_settle) {
        lua_getfield(wk->L, wk->wtab, "settle");
        lh_buf e = LH_BUF_INIT;
        if (lh_script_pcall(wk->L, 0, 0, &e) < 0) {
            lh_buf_printf(&e, "%s", "");
            set_error(wk, lh_buf_str(&e));
            rc = -1;
        }
        lh_buf_free(&e);
    } else if (!wk->w.settle_disabled) {
        lh_probes_settle(&wk->probes);
    }
    wk->flight->phase = phase;
    return rc;
}

static void settle_hook(void *ud)
{
    worker *wk = ud;
    lh_probes_settle(&wk->probes);
}

static void take_sample(worker *wk, double x)
{
    size_t n = wk->probes.n;
    double *row = wk->y + wk->nrows * n;
    lh_probes_quiesce(&wk->probes);
    lh_probes_read_all(&wk->probes, row);
    long open, limit;
    if (wk->fd_full_at < 0 && lh_probes_fd_table(&open, &limit) == 1) {
        wk->fd_full_at = (int)wk->nrows;
        wk->fd_full_open = open;
        wk->fd_full_limit = limit;
    }
    if (wk->w.has_goignore && wk->probes.metrics[LH_M_GO_GOROUTINES]
                                  .available) {
        /* goleak-style: known goroutines are not counted at all */
        int64_t g = lh_godiag_count(wk->target);
        if (g >= 0)
            row[LH_M_GO_GOROUTINES] = (double)g;
    }
    lh_probes_exclude_end(&wk->probes);
    wk->x[wk->nrows] = x;
    for (size_t m = 0; m < n; m++)
        if (isfinite(row[m]) && !(row[m] <= wk->peak[m]))
            wk->peak[m] = row[m];
    wk->nrows++;
    wk->flight->samples = (uint32_t)(wk->nrows - 1);
}

/* Steps run inside the Go probe's labeled call (lh_godiag_label_steps). */
static void label_wrap(void *ud, int thread, void (*fn)(void *), void *arg)
{
    (void)ud;
    lh_godiag_call_labeled(thread, fn, arg);
}

/* Progress and peaks.  row: the sample just taken (nothing has run since:
 * its values, not a second read of every probe), or NULL. */
static void progress(worker *wk, const double *row)
{
    uint64_t done = lh_runner_done(&wk->runner) - wk->measured_from;
    double el = lh_now() - wk->t_measured;
    double rate = el > 0 ? (double)done / el : 0;
    wk->flight->done = done;
    lh_buf text = LH_BUF_INIT;
    /* cheap probes only: other threads are running */
    for (size_t m = 0; m < wk->probes.n; m++) {
        lh_metric *mt = &wk->probes.metrics[m];
        if (!mt->available || !mt->cheap)
            continue;
        /* A target's gauge need not be thread-safe: while other threads
         * step, the last sample's value (taken with them parked). */
        int shared = m >= LH_M_BUILTIN_COUNT && wk->w.threads > 1;
        if (shared && wk->nrows == 0)
            continue;
        double v = row ? row[m]
                 : shared ? wk->y[(wk->nrows - 1) * wk->probes.n + m]
                 : lh_probes_read(&wk->probes, (int)m);
        if (isfinite(v) && !(v <= wk->peak[m]))
            wk->peak[m] = v;
        if (m == LH_M_PROC_RSS_BYTES || m == LH_M_HEAP_LIVE_ALLOCS)
            continue;
        char val[32];
        wk_fmt_value(val, sizeof val, v);
        lh_buf_printf(&text, "%s%s=%s", text.len ? " " : "", mt->name, val);
    }
    if (wk->flight->phase == LH_PHASE_MEASURE)
        send_progress(wk, done, rate, lh_buf_str(&text));
    lh_buf_free(&text);
}

static void tick(void *ud)
{
    progress(ud, NULL);
}

/* The row of the last sample taken. */
static const double *last_row(const worker *wk)
{
    return wk->y + (wk->nrows - 1) * wk->probes.n;
}

/* ---- the run --------------------------------------------------------- */

/* A target that ran out of fds leaked them, whatever the series looks like
 * once it is flat at the limit: any proc.fds invariant fails when the
 * table filled after the baseline with growth since.  Full already at the
 * baseline, growth cannot be measured: an error. */
static void judge_fd_exhaustion(worker *wk, judged *j)
{
    int k = wk->fd_full_at;
    if (k < 0 || !j->ok || j->metric != LH_M_PROC_FDS)
        return;
    size_t n = wk->probes.n;
    double base = wk->y[LH_M_PROC_FDS], at = wk->y[(size_t)k * n +
                                                    LH_M_PROC_FDS];
    if (k == 0) {
        j->ok = 0;
        j->v.fail = 0;
        snprintf(j->v.reason, sizeof j->v.reason,
                 "the fd table was full at the baseline sample (%ld fds, "
                 "RLIMIT_NOFILE %ld): fd growth cannot be measured",
                 wk->fd_full_open, wk->fd_full_limit);
        return;
    }
    if (!(at > base))
        return;
    snprintf(j->exhausted, sizeof j->exhausted,
             "fd table full at sample %d of %zu (%ld fds, "
             "RLIMIT_NOFILE %ld): %+.0f fds over the baseline", k,
             wk->nrows - 1, wk->fd_full_open, wk->fd_full_limit, at - base);
    size_t len = j->v.fail ? strlen(j->v.reason) : 0;
    snprintf(j->v.reason + len, sizeof j->v.reason - len, "%s%s",
             len ? "; " : "", j->exhausted);
    j->v.fail = 1;
}

/* Stopped near a limit: an invariant on the resource that ran short fails
 * when it grew past its slack since the baseline, whatever the trend test
 * says of the samples taken (as with a full fd table). */
static void judge_limit_stop(worker *wk, judged *j)
{
    int k = wk->stopped_at;
    /* memory: noted on the memory metrics, judged by the detector */
    int mem = wk->stop.metric < 0 && (j->metric == LH_M_PROC_RSS_BYTES ||
                                      j->metric == LH_M_HEAP_LIVE_BYTES ||
                                      j->metric == LH_M_GO_HEAP_LIVE_BYTES);
    if (k < 0 || !j->ok || j->exhausted[0] ||
        (j->metric != wk->stop.metric && !mem))
        return;
    size_t n = wk->probes.n;
    double base = wk->y[j->metric];
    double at = wk->y[(size_t)k * n + (size_t)j->metric];
    double slack = j->inv->spec.slack;
    if (j->inv->spec.slack_is_pct)
        slack = fabs(base) * slack / 100;
    char text[256];
    lh_limit_describe(&wk->stop, text, sizeof text);
    snprintf(j->exhausted, sizeof j->exhausted, "stopped at sample %d of "
             "%d: %s", k, wk->w.samples, text);
    if (mem || !(at - base > slack))
        return;
    /* the reason is short: what ran short, not the numbers */
    size_t len = j->v.fail ? strlen(j->v.reason) : 0;
    snprintf(j->v.reason + len, sizeof j->v.reason - len, "%sstopped at "
             "sample %d of %d: %s at %d%% of %s, %+.0f over the baseline",
             len ? "; " : "", k, wk->w.samples, wk->stop.resource,
             (int)(100 * wk->stop.used / wk->stop.limit),
             wk->stop.limit_name, at - base);
    j->v.fail = 1;
}

/* Every invariant judged on the samples so far, without sites. */
static int judge_so_far(worker *wk, judged *js)
{
    int any = 0;
    size_t n = wk->probes.n;
    double *col = lh_raw_calloc(wk->nrows, sizeof *col);
    for (int i = 0; i < wk->w.ninvariants; i++) {
        judged *j = &js[i];
        memset(j, 0, sizeof *j);
        j->inv = &wk->w.inv[i];
        j->metric = wk->metric_of[i];
        for (size_t r = 0; r < wk->nrows; r++)
            col[r] = wk->y[r * n + (size_t)j->metric];
        j->ok = lh_detect(&j->inv->spec, wk->x, col, wk->nrows,
                          wk->peak[j->metric], &j->v) == 0;
        judge_fd_exhaustion(wk, j);
        judge_limit_stop(wk, j);
        any |= j->ok && j->v.fail;
    }
    lh_raw_free(col);
    return any;
}

/* A worker that hangs or dies (often because its leak ran it out of fds,
 * threads or memory) cannot report: after each sample, once there are
 * enough to judge, the verdicts so far go to the supervisor, which keeps
 * the last and reports it with the timeout or crash (worker.h).  Costs
 * O(n^2) per judgement: after 128 samples, every 32nd, after 1024 every
 * 256th. */
static void send_interim(worker *wk)
{
    size_t k = wk->nrows - 1;
    if (wk->nrows < wk->min_rows ||
        (k > 128 && k % (k > 1024 ? 256 : 32) != 0))
        return;
    int nj = wk->w.ninvariants;
    judged *js = lh_raw_calloc((size_t)nj, sizeof *js);
    int any = judge_so_far(wk, js);
    lh_buf extra = LH_BUF_INIT;
    lh_buf_printf(&extra, ",\"partial\":{\"samples\":%zu,\"of\":%d,"
                  "\"judged_from\":%zu,\"iterations\":", k, wk->w.samples,
                  wk->min_rows - 1);
    lh_json_num(&extra, wk->x[k]);
    lh_buf_puts(&extra, ",\"lines\":[");
    for (int i = 0; i < nj; i++) {
        lh_buf line = LH_BUF_INIT;
        const char *st = wk_format_verdict(wk, &js[i], &line);
        lh_buf_puts(&extra, i ? ",{" : "{");
        lh_json_key(&extra, "status");
        lh_json_str(&extra, st);
        lh_json_field_str(&extra, "metric", js[i].inv->metric);
        lh_json_field_str(&extra, "text", lh_buf_str(&line));
        lh_buf_putc(&extra, '}');
        lh_buf_free(&line);
    }
    /* the first sample each failing invariant failed at */
    lh_buf_puts(&extra, "],\"first_fail\":[");
    int first = 1;
    for (int i = 0; i < nj; i++) {
        if (!(js[i].ok && js[i].v.fail)) {
            wk->first_fail[i] = 0;
            continue;
        }
        if (!wk->first_fail[i])
            wk->first_fail[i] = (int)k;
        size_t r = (size_t)wk->first_fail[i];
        lh_buf_puts(&extra, first ? "{" : ",{");
        lh_json_key(&extra, "metric");
        lh_json_str(&extra, js[i].inv->metric);
        lh_json_field_str(&extra, "kind", js[i].inv->kind_name);
        lh_json_field_num(&extra, "sample", (double)r);
        lh_json_field_num(&extra, "iterations", wk->x[r]);
        lh_buf_putc(&extra, '}');
        first = 0;
    }
    lh_buf_puts(&extra, "]}");
    const char *status = wk->status;
    wk->status = any ? "fail" : "pass";
    wk_emit_result(wk, js, nj, "interim", lh_buf_str(&extra));
    wk->status = status;
    lh_buf_free(&extra);
    lh_raw_free(js);
}

/* After sample k: stop the measured phase when a resource is near its
 * limit (reslimits.h), once there are samples enough to judge. */
static int near_limit(worker *wk, int k)
{
    if (wk->nrows < wk->min_rows || k >= wk->w.samples)
        return 0;
    size_t n = wk->probes.n;
    const double *row = wk->y + (wk->nrows - 1) * n;
    if (!lh_limits_check(row, row - n, &wk->stop))
        return 0;
    wk->stopped_at = k;
    char text[256];
    lh_limit_describe(&wk->stop, text, sizeof text);
    wk_send_info(wk, "stopped at sample %d of %d, at %.0f iterations: %s; "
              "judged on the samples taken", k, wk->w.samples, wk->x[k],
              text);
    return 1;
}

/* The next phase ends at iteration upto, unless a resource growing as it
 * did would reach its limit before samples enough are taken: then the
 * phases shrink to fit the samples still needed (and one more) in what
 * is left, so the early stop above has a series to judge. */
static uint64_t limit_phase(worker *wk, uint64_t planned, uint64_t upto)
{
    size_t k = wk->nrows - 1;
    if (k < 1 || wk->w.duration > 0 || upto <= planned)
        return upto;
    size_t n = wk->probes.n;
    const double *row = wk->y + k * n;
    lh_limit_hit hit;
    double left = lh_limits_headroom(row, row - n, wk->x[k] - wk->x[k - 1],
                                     &hit);
    size_t need = wk->min_rows > wk->nrows ? wk->min_rows - wk->nrows : 0;
    double fit = left / (double)(need + 1);
    if (!(fit < (double)(upto - planned)))
        return upto;
    if (fit < 1)
        fit = 1;
    if (!wk->shrunk) {
        wk->shrunk = 1;
        wk_send_info(wk, "phases shortened from sample %zu: %s (%.0f of "
                  "%s %.0f) would reach %d%% in ~%.0f iterations", k + 1,
                  hit.resource, hit.used, hit.limit_name, hit.limit,
                  (int)(100 * LH_LIMIT_NEAR), left);
    }
    return planned + (uint64_t)fit;
}

static void add_default_invariants(worker *wk)
{
    lh_workload *w = &wk->w;
    lh_workload_add(w, "stable", "heap.live_bytes");
    /* Not for a stripped Go target, whose runtime's mappings would be
     * counted as its own (the metric is unavailable there). */
    if (wk->probes.metrics[LH_M_MMAP_LIVE_BYTES].available)
        lh_workload_add(w, "stable", "mmap.live_bytes");
    lh_workload_add(w, "stable", "proc.fds");
    lh_workload_add(w, "stable", "proc.threads");
    if (wk->target && wk->target->has_go) {
        lh_workload_add(w, "stable", "go.goroutines");
        lh_workload_add(w, "stable", "go.heap_live_bytes");
    }
}

/* Map invariants to metrics; an invariant on an absent metric is a
 * configuration error, never a silent pass. */
static int resolve_invariants(worker *wk, int *metric_of)
{
    for (int i = 0; i < wk->w.ninvariants; i++) {
        lh_invariant *inv = &wk->w.inv[i];
        int m = lh_probes_find(&wk->probes, inv->metric);
        if (m < 0 || !wk->probes.metrics[m].available) {
            char why[1024];
            lh_probes_explain(&wk->probes, inv->metric, why, sizeof why);
            lh_buf b = LH_BUF_INIT;
            lh_buf_printf(&b, "%s: workload '%s': invariant %s(%s): %s%s",
                          wk->w.source, wk->w.name, inv->kind_name,
                          inv->metric, why, wk->w.has_invariants ? "" :
                          " (a default invariant: the workload declares "
                          "none, so declare its invariants)");
            set_error(wk, lh_buf_str(&b));
            lh_buf_free(&b);
            return -1;
        }
        metric_of[i] = m;
        if (inv->spec.alpha <= 0)
            inv->spec.alpha = inv->spec.kind == LH_INV_RATE ? LH_RATE_ALPHA
                                                            : 0.001;
        if (!inv->slack_given)
            inv->spec.slack = wk->probes.metrics[m].default_slack;
    }
    return 0;
}

static int call_optional(worker *wk, const char *field, uint32_t phase)
{
    if (lua_getfield(wk->L, wk->wtab, field) != LUA_TFUNCTION) {
        lua_pop(wk->L, 1);
        return 0;
    }
    wk->flight->phase = phase;
    lh_buf e = LH_BUF_INIT;
    int rc = lh_script_pcall(wk->L, 0, 0, &e);
    if (rc < 0)
        set_error(wk, lh_buf_str(&e));
    lh_buf_free(&e);
    return rc;
}

/* The x the measured run must reach for every stable invariant's last
 * step to be told from growth in steps, or its trend under the slack from
 * a leak (lh_verdict.extend_to); 0: none.  Sets why to the metric that
 * asks for the most, and *creeping when that is a trend under the slack. */
static double horizon(worker *wk, const int *metric_of, const char **why,
                      int *creeping)
{
    double until = 0;
    size_t n = wk->probes.n;
    double *col = lh_raw_calloc(wk->nrows, sizeof *col);
    for (int i = 0; i < wk->w.ninvariants; i++) {
        lh_invariant *inv = &wk->w.inv[i];
        if (inv->spec.kind != LH_INV_STABLE)
            continue;
        for (size_t r = 0; r < wk->nrows; r++)
            col[r] = wk->y[r * n + (size_t)metric_of[i]];
        lh_verdict v;
        if (lh_detect(&inv->spec, wk->x, col, wk->nrows, INFINITY, &v) == 0
            && v.extend_to > until) {
            until = v.extend_to;
            *why = inv->metric;
            *creeping = v.creeping;
        }
    }
    lh_raw_free(col);
    return until;
}

/* Iterations the time left before the workload's timeout allows, at the
 * measured phase's pace (its settles included), keeping a quarter of it
 * for judging and the report. */
static double time_budget(worker *wk, double done)
{
    double now = lh_now(), spent = now - wk->t_measured;
    if (!(wk->timeout > 0) || !(spent > 0) || !(done > 0))
        return INFINITY;
    double left = 0.75 * (wk->t_start + wk->timeout - now);
    return left > 0 ? left * done / spent : 0;
}

/* One more measured phase past the planned run: len iterations, a pause
 * of `pause` seconds (goroutines in flight end), the settle, a sample.
 * 0; -1: the steps failed (e says why); -2: the settle failed. */
static int measure_phase(worker *wk, uint64_t len, double pause, lh_buf *e)
{
    if (lh_runner_phase(&wk->runner, len, 0, 1, e) < 0)
        return -1;
    if (pause > 0) {
        struct timespec ts = { (time_t)pause,
                               (long)((pause - floor(pause)) * 1e9) };
        nanosleep(&ts, NULL);
    }
    if (settle(wk) < 0)
        return -2;
    take_sample(wk, (double)(lh_runner_done(&wk->runner) -
                             wk->measured_from));
    progress(wk, last_row(wk));
    wk->flight->phase = LH_PHASE_MEASURE;
    return 0;
}

/* The adaptive horizon (README, "How a verdict is decided"): when a
 * stable invariant's judged window ends in a step that the run has not
 * been taken far enough to resolve, keep measuring up to the iteration
 * that resolves it, when lh_horizon_reach allows (the workload's
 * `horizon`, its timeout).  Otherwise the verdict stays unresolved and
 * this says why.  Iteration runs only. */
static int extend(worker *wk, const int *metric_of, lh_buf *e)
{
    lh_workload *w = &wk->w;
    for (int i = 0; i < w->ninvariants; i++) {
        w->inv[i].spec.planned = wk->planned_rows;
        w->inv[i].spec.x_offset = (double)w->warmup;
    }
    const char *why = NULL;
    int creeping = 0;
    double until = horizon(wk, metric_of, &why, &creeping);
    if (until <= 0)
        return 0;
    /* what was seen, and what going on would tell */
    const char *seen = creeping ? "grows within its slack"
                                : "stepped and may step again";
    const char *tell = creeping ? "a leak from a slow fill"
                                : "a plateau from growth in steps";
    double from = wk->x[wk->nrows - 1];
    if (w->duration > 0) {
        wk_send_info(wk, "%s %s: a duration run is not extended to "
                     "iteration %.0f to tell %s", why, seen, ceil(until),
                     tell);
        return 0;
    }
    double cap = w->horizon * (double)w->iterations + (double)w->warmup;
    double budget = time_budget(wk, from);
    if (lh_horizon_reach(until, from, (double)w->iterations,
                         (double)w->warmup, w->horizon, budget) <= 0) {
        if (until > cap)
            wk_send_info(wk, "%s %s: iteration %.0f would tell %s, past "
                         "horizon = %g (%.0f): not extended", why, seen,
                         ceil(until), tell, w->horizon, cap);
        else
            wk_send_info(wk, "%s %s: iteration %.0f would tell %s, but "
                         "the timeout (%gs) leaves time for about %.0f "
                         "more: not extended", why, seen, ceil(until), tell,
                         wk->timeout, budget);
        return 0;
    }
    uint64_t len = (uint64_t)ceil((until - from) / w->samples);
    uint64_t base = (uint64_t)w->iterations / (uint64_t)w->samples;
    if (len < base)
        len = base;
    wk_send_info(wk, "%s %s: measuring on to iteration %.0f to tell %s "
              "(at most %.0f)", why, seen, until, tell, cap);
    wk->total = (uint64_t)ceil(until);
    /* A trend under the slack is judged again on as many new samples as
     * the run planned, spread up to `until`, whatever they show on the
     * way: stopping at the first that fails would judge the old samples'
     * slope over a longer window, not new evidence. */
    int fixed = creeping;
    if (fixed)
        len = (uint64_t)ceil((until - from) / w->samples);
    while (until > 0 && wk->nrows < 2 * wk->planned_rows &&
           wk->x[wk->nrows - 1] < until) {
        int rc = measure_phase(wk, len, 0, e);
        if (rc < 0)
            return rc;
        if (!fixed)
            until = horizon(wk, metric_of, &why, &creeping);
    }
    wk_send_info(wk, "measured %.0f iterations, %.0f beyond the %ld planned",
              wk->x[wk->nrows - 1], wk->x[wk->nrows - 1] - from,
              w->iterations);
    return 0;
}

#define DRAIN_MAX 2.0         /* seconds in-flight goroutines get to end
                               * once the steps stop (goleak retries for
                               * about as long) */

/* Goroutines now, counted as the samples count them. */
static double goroutines_now(worker *wk)
{
    if (wk->w.has_goignore) {
        int64_t g = lh_godiag_count(wk->target);
        if (g >= 0)
            return (double)g;
    }
    return wk->target && wk->target->go.goroutines
               ? (double)wk->target->go.goroutines() : NAN;
}

/* Whether a Go invariant (goroutines, Go heap) fails on the samples so
 * far. */
static int go_fails(worker *wk, const int *metric_of)
{
    size_t n = wk->probes.n;
    int fails = 0;
    double *col = lh_raw_calloc(wk->nrows, sizeof *col);
    for (int i = 0; col && i < wk->w.ninvariants && !fails; i++) {
        lh_invariant *inv = &wk->w.inv[i];
        if (strncmp(inv->metric, "go.goroutines", 13) != 0 &&
            strncmp(inv->metric, "go.heap_", 8) != 0)
            continue;
        for (size_t r = 0; r < wk->nrows; r++)
            col[r] = wk->y[r * n + (size_t)metric_of[i]];
        lh_verdict v;
        fails = lh_detect(&inv->spec, wk->x, col, wk->nrows, INFINITY,
                          &v) == 0 && v.fail;
    }
    lh_raw_free(col);
    return fails;
}

/*
 * In-flight goroutines (README, "Goroutines that end later").  A step that
 * starts goroutines ending some time later (a flush after 200 ms) grows
 * go.goroutines, and the Go heap by their structs and timers, over a run
 * shorter than their lifetime: every one is still running at every
 * sample, as a leak's would be.  When a Go invariant fails with goroutines
 * above the baseline, the steps stop and the count is watched for
 * DRAIN_MAX: a leak's goroutines stay; in-flight ones end.  When at least
 * half of them end, the run goes on for as many phases as it planned,
 * each followed by a wait as long as that took (and a quarter more), so
 * that in-flight goroutines end before their sample, and every invariant
 * is judged on the longer series, whose judged half those phases are: a
 * leak among them still grows there and fails.
 */
static int drain(worker *wk, const int *metric_of, lh_buf *e)
{
    lh_workload *w = &wk->w;
    if (!wk->target || !wk->target->has_go || w->duration > 0 ||
        !wk->probes.metrics[LH_M_GO_GOROUTINES].available ||
        wk->nrows < 2 || wk->stopped_at >= 0)
        return 0;               /* stopped near a limit: no more steps */
    size_t n = wk->probes.n;
    double g0 = wk->y[LH_M_GO_GOROUTINES];
    double g1 = wk->y[(wk->nrows - 1) * n + LH_M_GO_GOROUTINES];
    if (!(g1 >= g0 + 1) || !go_fails(wk, metric_of))
        return 0;
    double t0 = lh_now(), took = -1, g = g1;
    while (lh_now() - t0 < DRAIN_MAX) {
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        g = goroutines_now(wk);
        if (g <= g0 + (g1 - g0) / 2) {
            took = lh_now() - t0;
            break;
        }
    }
    if (took < 0)
        return 0;               /* they stay: judged as they are */
    double pace = 1.25 * took + 0.005;
    double spent = t0 - wk->t_measured;
    double per = spent / (double)(wk->nrows - 1) + pace;
    double left = wk->timeout > 0
                      ? 0.75 * (wk->t_start + wk->timeout - lh_now())
                      : INFINITY;
    if (per * w->samples > left) {
        wk_send_info(wk, "go.goroutines: %.0f of %.0f goroutines ended "
                     "within %.0f ms of the last step (in flight), but "
                     "the timeout (%gs) leaves no time to measure on with "
                     "that wait: judged as they are", g1 - g, g1 - g0,
                     1000 * took, wk->timeout);
        return 0;
    }
    wk_send_info(wk, "go.goroutines: %.0f of %.0f goroutines ended within "
                 "%.0f ms of the last step (in flight): measuring %d more "
                 "phases, each followed by a %.0f ms wait", g1 - g, g1 - g0,
                 1000 * took, w->samples, 1000 * pace);
    uint64_t len = (uint64_t)w->iterations / (uint64_t)w->samples;
    if (len < 1)
        len = 1;
    wk->total += len * (uint64_t)w->samples;
    for (int k = 0; k < w->samples; k++) {
        int rc = measure_phase(wk, len, pace, e);
        if (rc < 0)
            return rc;
    }
    /* the paced phases are the run now: its judged half, and where steps
     * are looked for */
    wk->planned_rows = wk->nrows;
    return 0;
}

#define CONFIRM_SHARE 0.5     /* sampled sites holding less of a failing
                               * heap invariant's growth get a second look */
#define CONFIRM_SAMPLES 32.0  /* so does growth of fewer sampling periods */

/* Whether a failing heap invariant's growth is mostly unexplained by the
 * sampled sites: sampling at 64 KiB misses most of a slow leak.  *rate:
 * its growth per iteration, in bytes (heap.live_bytes) or in blocks
 * times CONFIRM_BLOCK. */
#define CONFIRM_BLOCK 64.0
static int sites_unexplained(worker *wk, double *rate)
{
    judged js[LH_MAX_INVARIANTS];
    int want = 0;
    if (!judge_so_far(wk, js))
        return 0;
    lh_site *sites = lh_xcalloc(LH_DIAG_SITES, sizeof *sites);
    size_t n = wk->probes.n, last = wk->nrows - 1;
    for (int i = 0; i < wk->w.ninvariants && !want; i++) {
        judged *j = &js[i];
        const char *m = j->inv->metric;
        int bytes = strcmp(m, "heap.live_bytes") == 0;
        if (!j->ok || !j->v.fail ||
            (!bytes && strcmp(m, "heap.live_allocs") != 0))
            continue;
        double growth = wk->y[last * n + (size_t)j->metric] -
                        wk->y[(size_t)j->metric];
        double held = 0;
        int ns = lh_diagnosis_sites(wk->diag, m, sites, LH_DIAG_SITES);
        for (int k = 0; k < ns; k++)
            held += bytes ? sites[k].bytes : sites[k].count;
        /* growth of a few sampling periods rests on a few samples, the
         * noise's as much as the leak's: a ring of scratch buffers that
         * held a large one at the end reads as half of a slow leak */
        int few = bytes && wk->w.sample_bytes > 0 &&
                  growth < CONFIRM_SAMPLES * (double)wk->w.sample_bytes;
        want = growth > 0 && (held < CONFIRM_SHARE * growth || few);
        *rate = j->v.slope * (bytes ? 1.0 : CONFIRM_BLOCK);
        if (want && held < CONFIRM_SHARE * growth)
            wk_send_info(wk, "%s: the sampled sites hold %.0f%% of its growth: "
                      "recording every allocation for a few more steps",
                      m, 100 * held / growth);
        else if (want)
            wk_send_info(wk, "%s: its growth is %.0f sampling periods: "
                      "recording every allocation for a few more steps",
                      m, growth / (double)wk->w.sample_bytes);
    }
    lh_raw_free(sites);
    return want;
}

/* The confirmation window: when a failing heap invariant's sites are
 * mostly missing, record every allocation (as the fuzz oracle's
 * confirmation does) after the measured phase and outside the samples
 * judged, in LH_DIAG_CONF_MARKS equal parts, each ended by a snapshot
 * (diagnose.c keeps what is still held at the marks of the second half).
 * Its length: one sample's steps, or more for a slow leak, enough for
 * CONFIRM_GROWTH at the rate judged (a leak of 1 KiB every 500th call
 * must happen in it more than once, or the noise beside it is all the
 * window shows), at most the measured iterations and what the timeout
 * leaves. */
#define CONFIRM_GROWTH 65536.0
static void confirm_sites(worker *wk)
{
    lh_workload *w = &wk->w;
    /* Not past a limit: more steps of a leak that used up its fds or
     * threads would block, or crash, in what is only a second look. */
    if (!wk->diag || wk->nrows < wk->min_rows || wk->stopped_at >= 0 ||
        wk->fd_full_at >= 0)
        return;
    /* Reading the sites symbolizes them: the diagnosis's time, not the
     * workload's (the supervisor bounds that phase on its own). */
    uint32_t was = wk->flight->phase;
    wk->flight->phase = LH_PHASE_DIAGNOSE;
    double rate = 0;
    if (!sites_unexplained(wk, &rate)) {
        wk->flight->phase = was;
        return;
    }
    double want = (double)w->iterations / (double)w->samples;
    if (rate > 0 && CONFIRM_GROWTH / rate > want)
        want = CONFIRM_GROWTH / rate;
    double most = (double)w->iterations;
    double budget = time_budget(wk, wk->x[wk->nrows - 1]);
    if (budget < most)
        most = budget;
    if (want > most)
        want = most;
    uint64_t len = (uint64_t)ceil(want / LH_DIAG_CONF_MARKS);
    double secs = w->duration > 0
                  ? w->duration / w->samples / LH_DIAG_CONF_MARKS : 0;
    if (len < 100 / LH_DIAG_CONF_MARKS)
        len = 100 / LH_DIAG_CONF_MARKS;
    lh_buf e = LH_BUF_INIT;
    wk->measured_until = lh_runner_done(&wk->runner);
    wk->t_until = lh_now();
    lh_diagnosis_confirm_begin(wk->diag);
    for (int k = 0; k < LH_DIAG_CONF_MARKS; k++) {
        if (lh_runner_phase(&wk->runner, len, secs, 0, &e) < 0) {
            wk_send_info(wk, "confirmation window: %s", lh_buf_str(&e));
            break;
        }
        settle(wk);
        lh_diagnosis_confirm_mark(wk->diag);
    }
    lh_diagnosis_confirm_end(wk->diag);
    lh_buf_free(&e);
    wk->flight->phase = was;
}

static int measure(worker *wk, const int *metric_of)
{
    lh_workload *w = &wk->w;
    lh_buf e = LH_BUF_INIT;
    int rc = -1;

    wk->flight->phase = LH_PHASE_WARMUP;
    if (w->warmup > 0 &&
        lh_runner_phase(&wk->runner, (uint64_t)w->warmup, 0, 0, &e) < 0)
        goto failed;

    if (settle(wk) < 0)
        goto out;
    wk->measured_from = lh_runner_done(&wk->runner);
    if (wk->diag) {
        /* snapshot after a settle (the Go heap profile is as of the last
         * GC), then settle again so the snapshot's own garbage is gone
         * before the baseline sample */
        lh_diagnosis_baseline(wk->diag);
        if (settle(wk) < 0)
            goto out;
    }
    take_sample(wk, 0);
    wk->t_measured = lh_now();
    wk->flight->phase = LH_PHASE_MEASURE;
    wk->total = (uint64_t)w->iterations;
    uint64_t planned = 0;
    for (int k = 1; k <= w->samples; k++) {
        uint64_t upto = (uint64_t)w->iterations * (uint64_t)k /
                        (uint64_t)w->samples;
        double secs = w->duration > 0 ? w->duration / w->samples : 0;
        upto = limit_phase(wk, planned, upto);
        if (lh_runner_phase(&wk->runner, upto - planned, secs, 1, &e) < 0)
            goto failed;
        planned = upto;
        if (settle(wk) < 0)
            goto out;
        take_sample(wk, (double)(lh_runner_done(&wk->runner) -
                                 wk->measured_from));
        progress(wk, last_row(wk));
        send_interim(wk);
        if (near_limit(wk, k))
            break;
        wk->flight->phase = LH_PHASE_MEASURE;
    }
    wk->planned_rows = wk->nrows;
    int xrc = drain(wk, metric_of, &e);
    if (xrc == 0)
        xrc = extend(wk, metric_of, &e);
    if (xrc == -1)
        goto failed;
    if (xrc < 0)
        goto out;
    lh_diagnosis_end(wk->diag);
    confirm_sites(wk);
    rc = 0;
    goto out;
failed:
    {
        /* a step failed (out of memory, often): nothing is judged */
        lh_buf b = LH_BUF_INIT;
        size_t k = wk->nrows ? wk->nrows - 1 : 0;
        lh_buf_printf(&b, "%s; no verdict: a step failed in the measured "
                      "phase after %zu of %d samples", lh_buf_str(&e), k,
                      w->samples);
        if (wk->nrows < wk->min_rows)
            lh_buf_printf(&b, ", before the %zu needed to judge",
                          wk->min_rows - 1);
        set_error(wk, lh_buf_str(&b));
        lh_buf_free(&b);
    }
out:
    lh_buf_free(&e);
    return rc;
}

static int run(worker *wk)
{
    lua_State *L = wk->L;
    lh_workload *w = &wk->w;
    char err[2048];

    lh_buf le = LH_BUF_INIT;    /* not wk->err: set_error resets it */
    if (lh_script_load(L, wk->script, &le) < 0) {
        set_error(wk, lh_buf_str(&le));
        lh_buf_free(&le);
        return -1;
    }
    lh_buf_free(&le);
    lh_script_workload(L, wk->index);
    if (!lua_istable(L, -1)) {
        lh_buf b = LH_BUF_INIT;
        lh_buf_printf(&b, "%s: workload #%d is not declared when the "
                      "script runs in the worker (declarations must not "
                      "depend on run-time state)", wk->script, wk->index);
        set_error(wk, lh_buf_str(&b));
        lh_buf_free(&b);
        return -1;
    }
    wk->wtab = lua_gettop(L);
    lh_buf e = LH_BUF_INIT;
    if (lh_workload_read(L, wk->wtab, w, &e) < 0) {
        set_error(wk, lh_buf_str(&e));
        lh_buf_free(&e);
        return -1;
    }
    lh_buf_free(&e);

    wk->flight->phase = LH_PHASE_SETUP;
    lua_getfield(L, wk->wtab, "target");
    if (!lua_isnil(L, -1)) {
        wk->target = lh_lua_totarget(L, -1, err, sizeof err);
        if (!wk->target) {
            lh_buf b = LH_BUF_INIT;
            lh_buf_printf(&b, "%s: workload '%s': %s", w->source, w->name,
                          err);
            set_error(wk, lh_buf_str(&b));
            lh_buf_free(&b);
            lua_pop(L, 1);
            return -1;
        }
    }
    lua_pop(L, 1);
    lh_probes_init(&wk->probes, wk->target);
    wk->fd_full_at = -1;
    lh_fd_reserve(FD_SPARE);
    lh_limits_init();
    if (!w->has_invariants)
        add_default_invariants(wk);
    int *metric_of = wk->metric_of;
    if (resolve_invariants(wk, metric_of) < 0)
        return -1;
    wk->stopped_at = -1;
    wk->min_rows = 4;
    for (int i = 0; i < w->ninvariants; i++) {
        size_t need = lh_detect_min_samples(&w->inv[i].spec);
        if (need == 0)
            need = (size_t)w->samples + 2;  /* never enough */
        if (need > wk->min_rows)
            wk->min_rows = need;
    }
    wk->flight->planned = (uint32_t)w->samples;
    wk->flight->needed = (uint32_t)(wk->min_rows - 1);
    lh_lua_set_settle(L, settle_hook, wk);
    /* Record from before setup, so blocks allocated in setup and warmup
     * and freed later are known to the heap sampler. */
    if (w->diagnose)
        wk->diag = lh_diagnosis_new(wk->target, (size_t)w->sample_bytes);
    if (w->has_goignore)
        lh_godiag_set_ignore(&w->goignore);
    lh_blame_set_not_mine(&w->not_mine);

    /* room to measure on after in-flight goroutines (drain), then to
     * extend as much again */
    size_t rows = 4 * ((size_t)w->samples + 1);
    wk->x = lh_xcalloc(rows, sizeof *wk->x);
    wk->y = lh_xcalloc(rows * wk->probes.n, sizeof *wk->y);
    wk->peak = lh_xcalloc(wk->probes.n, sizeof *wk->peak);
    for (size_t m = 0; m < wk->probes.n; m++)
        wk->peak[m] = -INFINITY;

    if (call_optional(wk, "setup", LH_PHASE_SETUP) < 0)
        return -1;
    lua_settop(L, wk->wtab);
    e = (lh_buf)LH_BUF_INIT;
    if (lh_runner_init(&wk->runner, L, w->threads, wk->script, wk->index,
                       wk->seed, wk->flight, &e) < 0) {
        set_error(wk, lh_buf_str(&e));
        lh_buf_free(&e);
        return -1;
    }
    wk->runner_ready = 1;
    wk->runner.tick = tick;
    wk->runner.tick_ud = wk;
    /* With several threads running one Go target, a grown goroutine group
     * should say which thread's step started it: label each step.  The
     * labeled call costs about what the first call into Go of a step
     * would have, so it is cheap; a single thread needs no telling. */
    if (wk->diag && w->threads > 1 && wk->target && wk->target->has_go &&
        lh_godiag_label_steps(wk->target, w->name, w->threads) == 0)
        wk->runner.wrap = label_wrap;
    if (lh_runner_init_threads(&wk->runner, &e) < 0) {
        set_error(wk, lh_buf_str(&e));
        lh_buf_free(&e);
        return -1;
    }
    lh_buf_free(&e);

    int measured = measure(wk, metric_of);
    lh_runner_finish(&wk->runner);
    if (measured < 0)
        return -1;
    if (call_optional(wk, "teardown", LH_PHASE_TEARDOWN) < 0)
        return -1;
    wk->flight->phase = LH_PHASE_DIAGNOSE;     /* the workload's time ends */
    lh_fd_release();        /* the harness writes from here on */

    /* A target the steps opened may have brought an allocator heap.*
     * cannot see (resolve_invariants checked the workload's own). */
    lh_target *foreign = lh_target_foreign();
    judged js[LH_MAX_INVARIANTS];
    int any_fail = 0, any_unresolved = 0;
    for (int i = 0; i < w->ninvariants; i++) {
        judged *j = &js[i];
        memset(j, 0, sizeof *j);
        j->inv = &w->inv[i];
        j->metric = metric_of[i];
        if (foreign && strncmp(j->inv->metric, "heap.", 5) == 0) {
            char why[1024];
            lh_probes only = { .target = foreign };
            lh_probes_explain(&only, j->inv->metric, why, sizeof why);
            lh_buf b = LH_BUF_INIT;
            lh_buf_printf(&b, "%s: workload '%s': invariant %s(%s): %s",
                          w->source, w->name, j->inv->kind_name,
                          j->inv->metric, why);
            set_error(wk, lh_buf_str(&b));
            snprintf(j->v.reason, sizeof j->v.reason, "cannot be measured: "
                     "target '%s' runs with %s", foreign->path,
                     foreign->allocator);
            wk_verdict_line(wk, j);
            wk_send_info(wk, "%s", lh_buf_str(&b));
            lh_buf_free(&b);
            continue;
        }
        size_t n = wk->probes.n;
        double *col = lh_xcalloc(wk->nrows, sizeof *col);
        for (size_t r = 0; r < wk->nrows; r++)
            col[r] = wk->y[r * n + (size_t)j->metric];
        j->ok = lh_detect(&j->inv->spec, wk->x, col, wk->nrows,
                          wk->peak[j->metric], &j->v) == 0;
        lh_raw_free(col);
        judge_fd_exhaustion(wk, j);
        judge_limit_stop(wk, j);
        any_fail |= j->ok && j->v.fail;
        any_unresolved |= j->ok && j->v.unresolved;
        if (!j->ok)
            wk->status = "error";
        wk_verdict_line(wk, j);
        /* a rate's sites are wanted passing too: the gate compares them
         * with the baseline's, to name the sites that allocate more */
        int rate = j->inv->spec.kind == LH_INV_RATE;
        if (j->ok && (j->v.fail || rate) && wk->diag) {
            j->sites = lh_xcalloc(LH_DIAG_SITES, sizeof *j->sites);
            j->nsites = lh_diagnosis_sites(wk->diag, j->inv->metric,
                                           j->sites, LH_DIAG_SITES);
        }
        if (j->ok && j->v.fail && wk->diag) {
            wk_site_lines(wk, j);
            if (wk->report_dir && j->nsites > 0) {
                char safe[256];
                lh_safe_name(safe, sizeof safe, w->name);
                lh_buf dir = LH_BUF_INIT;
                lh_buf_printf(&dir, "%s/%s", wk->report_dir, safe);
                lh_diagnosis_write(wk->diag, lh_buf_str(&dir),
                                   j->inv->metric, j->sites, j->nsites,
                                   &j->files, &j->file_errors);
                const char *e = lh_buf_str(&j->file_errors);
                for (size_t n; *e; e += n + (e[n] ? 1 : 0)) {
                    n = strcspn(e, "\n");
                    wk_send_info(wk, "NOT WRITTEN (sites): %.*s", (int)n, e);
                }
                lh_buf_free(&dir);
            }
        }
    }
    wk->flight->phase = LH_PHASE_DONE;
    if (!wk->status)
        wk->status = any_fail ? "fail"
                   : any_unresolved ? "unresolved" : "pass";
    if (w->threads > 1)
        wk_load_line(wk);
    wk_emit_result(wk, js, w->ninvariants, "result", NULL);
    for (int i = 0; i < w->ninvariants; i++) {
        lh_raw_free(js[i].sites);
        lh_buf_free(&js[i].files);
    }
    return 0;
}

static int parse_args(worker *wk, int argc, char **argv)
{
    wk->msg_fd = -1;
    int flight_fd = -1;
    for (int i = 0; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--script") == 0)
            wk->script = v;
        else if (strcmp(k, "--index") == 0)
            wk->index = atoi(v);
        else if (strcmp(k, "--seed") == 0)
            wk->seed = strtoull(v, NULL, 10);
        else if (strcmp(k, "--msg-fd") == 0)
            wk->msg_fd = atoi(v);
        else if (strcmp(k, "--flight-fd") == 0)
            flight_fd = atoi(v);
        else if (strcmp(k, "--report-dir") == 0)
            wk->report_dir = v;
        else if (strcmp(k, "--timeout") == 0)
            wk->timeout = strtod(v, NULL);
    }
    if (!wk->script || wk->index < 1 || wk->msg_fd < 0 || flight_fd < 0)
        return -1;
    /* what the target execs must not hold the supervisor's pipe open */
    fcntl(wk->msg_fd, F_SETFD, FD_CLOEXEC);
    fcntl(flight_fd, F_SETFD, FD_CLOEXEC);
    wk->flight = lh_flight_map(flight_fd);
    return wk->flight ? 0 : -1;
}

int lh_worker_main(int argc, char **argv)
{
    static worker wk;
    if (parse_args(&wk, argc, argv) < 0) {
        fputs("leakhound: the worker is started by 'leakhound run'\n",
              stderr);
        return 2;
    }
    worker_pid = getpid();
    wk.t_start = lh_now();
    wk.stopped_at = -1;
    /* whatever the target starts, a setsid() daemon too, goes when the
     * workload ends or the supervisor dies; the supervisor ends what is
     * left when the worker itself is killed */
    lh_child_adopt_descendants();
    wk.L = lh_script_new(LH_SCRIPT_WORKER);
    if (!wk.L) {
        fputs("leakhound: cannot create a Lua state\n", stderr);
        return 2;
    }
    if (run(&wk) < 0) {
        if (!wk.w.name[0])
            snprintf(wk.w.name, sizeof wk.w.name, "#%d", wk.index);
        lh_buf line = LH_BUF_INIT;
        lh_buf_printf(&line, "%-5s %s  %s", "ERROR", wk.w.name,
                      lh_buf_str(&wk.err));
        wk_send_verdict(&wk, "error", NULL, lh_buf_str(&line));
        lh_buf_free(&line);
        wk_emit_result(&wk, NULL, 0, "result", NULL);
    }
    /* Exit without running destructors: a Go runtime may be loaded, and
     * target threads may still be blocked (that may be the leak). */
    fflush(NULL);
    lh_child_kill_descendants();
    _exit(0);
}
