/*
 * oracle.c - the oracle's entry points and state (see oracle.h): making it,
 * the fast path around every input, and a trigger's way through
 * confirmation (same input, then distinct inputs) to a finding.  The jobs
 * behind it: measure.c (readings), confirm.c (replays), distinct.c
 * (distinct-input runs), culprit.c (searching the recent inputs),
 * finding_site.c (where it grows), known.c (known-clean inputs, backoff,
 * signatures).
 * How and why: docs/oracle.md.
 */
#include "oracle.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "detector.h"
#include "interpose.h"
#include "oracle_impl.h"

#define DEF_REPS 16
#define MIN_REPS 8              /* below, each half is too short to judge */
#define DEF_EXPENSIVE_EVERY 1000
#define DEF_ALPHA 0.01
#define DEF_GO_HEAP_TRIGGER (256.0 * 1024)
#define DEF_GO_HEAP_MIN_PER_REP 64.0
#define EXTEND_REPS 64          /* inconclusive growth: replay up to this */
#define PROC_MAX_EVERY 512
#define PROC_SHARE 0.02         /* proc reads may cost this share of a step */
#define TIME_EVERY 32           /* inputs between two timed steps */

void lh_oracle_config_defaults(lh_oracle_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->reps = DEF_REPS;
    cfg->expensive_every = DEF_EXPENSIVE_EVERY;
    cfg->ring = DEF_EXPENSIVE_EVERY;
    cfg->alpha = DEF_ALPHA;
    cfg->go_heap_trigger = DEF_GO_HEAP_TRIGGER;
    cfg->go_heap_min_per_rep = DEF_GO_HEAP_MIN_PER_REP;
    cfg->proc_every = 0;
}

static void normalize(lh_oracle_config *c, const lh_oracle_config *in)
{
    lh_oracle_config_defaults(c);
    if (!in)
        return;
    if (in->reps > 0)
        c->reps = in->reps;
    if (c->reps < MIN_REPS)
        c->reps = MIN_REPS;
    if (c->reps > LH_ORACLE_MAX_REPS)
        c->reps = LH_ORACLE_MAX_REPS;
    if (in->expensive_every != 0)
        c->expensive_every = in->expensive_every < 0 ? 0
                                                    : in->expensive_every;
    c->ring = in->ring > 0 ? in->ring
            : c->expensive_every > 0 ? (size_t)c->expensive_every
            : DEF_EXPENSIVE_EVERY;
    if (in->alpha > 0.0 && in->alpha < 1.0)
        c->alpha = in->alpha;
    if (in->go_heap_trigger > 0.0)
        c->go_heap_trigger = in->go_heap_trigger;
    if (in->go_heap_min_per_rep > 0.0)
        c->go_heap_min_per_rep = in->go_heap_min_per_rep;
    if (in->proc_every > 0)
        c->proc_every = in->proc_every;
    c->distinct = in->distinct < 0 ? -1 : 0;
    if (in->known_budget > 0.0 && in->over_budget) {
        c->known_budget = in->known_budget;
        c->over_budget = in->over_budget;
        c->over_budget_ctx = in->over_budget_ctx;
    }
}

/* Inputs between two proc reads: 1 (around every input) while that costs
 * at most PROC_SHARE of a step (an EWMA of its time), else what keeps
 * within that budget, at most PROC_MAX_EVERY. */
static int proc_interval(lh_oracle *o)
{
    if (o->cfg.proc_every > 0)
        return o->cfg.proc_every;
    if (o->step_ns <= 0.0)
        return PROC_MAX_EVERY;
    double budget = PROC_SHARE * o->step_ns;
    if (2.0 * o->proc_cost_ns <= budget)
        return 1;
    double n = ceil(o->proc_cost_ns / budget);
    return n < 2 ? 2 : n > PROC_MAX_EVERY ? PROC_MAX_EVERY : (int)n;
}

/* A sampled proc read after this input: which of fds/threads rose since
 * the last sample (which v becomes). */
static unsigned proc_compare(lh_oracle *o, double *v)
{
    unsigned rose = 0;
    if (o->proc_have) {
        if (v[W_FDS] > o->proc_last[W_FDS])
            rose |= BIT(W_FDS);
        if (v[W_THREADS] > o->proc_last[W_THREADS]) {
            v[W_THREADS] = lh_or_persist(o, W_THREADS,
                                         o->proc_last[W_THREADS],
                                         v[W_THREADS]);
            if (v[W_THREADS] > o->proc_last[W_THREADS])
                rose |= BIT(W_THREADS);
        }
    }
    o->proc_last[W_FDS] = v[W_FDS];
    o->proc_last[W_THREADS] = v[W_THREADS];
    o->proc_have = 1;
    return rose & o->avail;
}

lh_oracle *lh_oracle_new(const lh_probes *probes, const lh_oracle_config *cfg,
                         lh_oracle_step_fn step, lh_oracle_settle_fn settle,
                         void *ud)
{
    if (!probes || !step)
        return NULL;
    /* Theil-Sen's scratch must not be counted as the target's memory. */
    lh_detector_set_allocator(lh_raw_malloc, lh_raw_free);

    lh_oracle *o = lh_raw_calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->probes = probes;
    normalize(&o->cfg, cfg);
    o->step = step;
    o->settle = settle;
    o->ud = ud;
    o->fd_dir = o->task_dir = -1;
    o->go_floor = INFINITY;
    for (int w = 0; w < W_COUNT; w++)
        if ((size_t)w_index[w] < probes->n &&
            probes->metrics[w_index[w]].available)
            o->avail |= BIT(w);
    for (int i = 0; i <= LH_ORACLE_MAX_REPS; i++)
        o->x[i] = i;

    if (o->avail & PROC_BITS) {
        lh_or_proc_dirs_init(o);
        double best = INFINITY;
        for (int i = 0; i < 5; i++) {
            uint64_t t0 = lh_now_ns();
            lh_or_read_one(o, W_FDS);
            lh_or_read_one(o, W_THREADS);
            double dt = (double)(lh_now_ns() - t0);
            if (dt < best)
                best = dt;
        }
        o->proc_cost_ns = best;
    }

    size_t ring = 0;
    if ((o->avail & BIT(W_GO_HEAP)) && o->cfg.expensive_every > 0)
        ring = o->cfg.ring;
    if ((o->avail & PROC_BITS) && o->cfg.proc_every != 1) {
        size_t need = o->cfg.proc_every > 1 ? (size_t)o->cfg.proc_every
                                            : PROC_MAX_EVERY;
        if (ring < need)
            ring = need;
    }
    if (ring) {
        o->ring = lh_raw_calloc(ring, sizeof *o->ring);
        o->cand = lh_raw_calloc(ring, sizeof *o->cand);
        o->cand_hash = lh_raw_calloc(ring, sizeof *o->cand_hash);
        if (!o->ring || !o->cand || !o->cand_hash) {
            lh_oracle_free(o);
            return NULL;
        }
        o->ring_cap = ring;
    }
    o->proc_every_now = proc_interval(o);
    if (o->cfg.known_budget > 0.0)
        o->rss0 = lh_probes_read(probes, LH_M_PROC_RSS_BYTES);
    lh_heap_stats hs;
    lh_heap_read(&hs);
    o->sites_allocs = hs.total_allocs;
    return o;
}

void lh_oracle_free(lh_oracle *o)
{
    if (!o)
        return;
    if (o->fd_dir >= 0)
        close(o->fd_dir);
    if (o->task_dir >= 0)
        close(o->task_dir);
    for (size_t i = 0; o->ring && i < o->ring_cap; i++)
        lh_raw_free(o->ring[i].data);
    lh_raw_free(o->ring);
    lh_raw_free(o->cand);
    lh_raw_free(o->cand_hash);
    for (size_t i = 0; i < o->nsigs; i++)
        lh_raw_free(o->sigs[i]);
    lh_raw_free(o->sigs);
    lh_raw_free(o->prof[0]);
    lh_raw_free(o->prof[1]);
    lh_heapsites_free(o->heap_snap[0]);
    lh_heapsites_free(o->heap_snap[1]);
    lh_mmapsites_free(o->map_snap[0]);
    lh_mmapsites_free(o->map_snap[1]);
    for (int k = 0; k < 2; k++) {
        lh_fddiag_free(o->fd_snap[k]);
        lh_threaddiag_free(o->thr_snap[k]);
    }
    lh_godiag_free(o->go_snap[0]);
    lh_godiag_free(o->go_snap[1]);
    lh_or_sites_free(o);
    lh_raw_free(o->found);
    lh_raw_free(o->variant);
    lh_raw_free(o);
}

int lh_oracle_run(lh_oracle *o, const uint8_t *data, size_t size,
                  lh_finding *out)
{
    o->stats.inputs++;
    if (o->ring_cap)
        lh_or_ring_push(o, data, size);

    /* Which proc read this input gets: around it (1), after it against the
     * last sample (2), none (0).  Sampled reads need a baseline first: taken
     * before this step after a start or a replay. */
    int proc = 0;
    if (o->avail & PROC_BITS) {
        /* proc_every_now follows the step's time: set when it is timed */
        if (o->proc_every_now > 1 && !o->proc_have) {
            lh_or_read_metrics(o, o->avail & PROC_BITS, o->proc_last);
            o->proc_have = 1;
            o->proc_window = 0;
        }
        o->proc_window++;
        proc = o->proc_every_now <= 1 ? 1
             : o->proc_window >= (size_t)o->proc_every_now ? 2 : 0;
    }
    unsigned fast = o->avail & (HEAP_BITS | BIT(W_GOROUTINES) |
                                BIT(W_MMAP));
    unsigned around = fast | (proc == 1 ? o->avail & PROC_BITS : 0);
    unsigned after_mask = around | (proc == 2 ? o->avail & PROC_BITS : 0);

    /* The step's time feeds the proc budget only: one step in TIME_EVERY
     * is timed (two clock reads are a few percent of a small op), and the
     * interval between proc reads is worked out again then, not on every
     * input (a division and a ceil). */
    double b[W_COUNT] = { 0 }, a[W_COUNT] = { 0 };
    int timed = o->stats.inputs % TIME_EVERY == 1;
    lh_or_read_metrics(o, around, b);
    uint64_t t0 = timed ? lh_now_ns() : 0;
    int rc = o->step(o->ud, data, size);
    double dt = timed ? (double)(lh_now_ns() - t0) : 0.0;
    lh_or_read_metrics(o, after_mask, a);
    if (timed) {
        o->step_ns = o->step_ns > 0.0 ? o->step_ns + (dt - o->step_ns) / 8.0
                                      : dt;
        if (o->avail & PROC_BITS)
            o->proc_every_now = proc_interval(o);
    }

    if (around & BIT(W_GOROUTINES))
        a[W_GOROUTINES] = lh_or_persist(o, W_GOROUTINES, b[W_GOROUTINES],
                                        a[W_GOROUTINES]);
    if (around & BIT(W_THREADS))
        a[W_THREADS] = lh_or_persist(o, W_THREADS, b[W_THREADS], a[W_THREADS]);
    unsigned rose = 0;
    for (int w = 0; w < W_COUNT; w++)
        if ((around & BIT(w)) && a[w] > b[w])
            rose |= BIT(w);
    o->last_delta[0] = a[W_HEAP_BYTES] - b[W_HEAP_BYTES] +
                       a[W_MMAP] - b[W_MMAP];
    o->last_delta[1] = a[W_GOROUTINES] - b[W_GOROUTINES];
    o->last_delta[2] = proc == 1 ? a[W_FDS] - b[W_FDS] + a[W_THREADS] -
                                   b[W_THREADS]
                                 : 0.0;
    if (rc < 0)
        return -1;

    /* Compare the sample now, before a confirmation moves the counts; the
     * window is searched after it. */
    unsigned proc_rose = 0;
    size_t window = o->proc_window;
    if (proc == 2)
        proc_rose = proc_compare(o, a);
    if (proc != 0)
        o->proc_window = 0;
    if (proc == 1) {
        o->proc_last[W_FDS] = a[W_FDS];
        o->proc_last[W_THREADS] = a[W_THREADS];
        o->proc_have = 1;
    }

    int found = 0;
    int looked = 0;
    if (rose) {
        o->stats.triggers++;
        /* C heap growth where it was judged clean before, by site and size
         * class (an arena at a new high-water mark): not again. */
        if ((rose & HEAP_BITS) && o->sites_on) {
            looked = 1;
            if (lh_or_sites_known_clean(o, data, size,
                                        a[W_HEAP_BYTES] - b[W_HEAP_BYTES])) {
                rose &= ~HEAP_BITS;
                looked = 0;
            }
        }
        if (rose) {
            o->sites_pending = looked;
            found = lh_or_on_trigger(o, data, size, rose, 1, out);
            if (o->sites_pending)
                lh_or_sites_learn(o, 0);
            o->sites_pending = 0;
        } else {
            lh_or_sites_learn(o, 0);
        }
    }
    lh_or_sites_tick(o);
    if (found == 0 && proc_rose)
        found = lh_or_proc_search(o, window, proc_rose, out);
    if (found == 0 && o->cfg.expensive_every > 0 &&
        (o->avail & BIT(W_GO_HEAP)) &&
        ++o->since_expensive >= (uint64_t)o->cfg.expensive_every) {
        o->since_expensive = 0;
        found = lh_or_expensive_check(o, out);
    }
    return found;
}

/* Confirm the metrics in trig for one input (from lh_oracle_run or a proc
 * window search), with the known-clean cache, backoff (when gated) and
 * dedup.  1: a new leak in *out; 0: none; -1: a step failed. */
int lh_or_on_trigger(lh_oracle *o, const uint8_t *data, size_t size,
                     unsigned trig, int gated, lh_finding *out)
{
    uint64_t h = lh_or_hash_input(data, size);
    unsigned todo = 0, known = 0;
    for (int w = 0; w < W_COUNT; w++) {
        if (!(trig & BIT(w)))
            continue;
        if (lh_or_metric_known(o, w))
            known |= BIT(w);
        else if (!lh_or_failed_has(o, h, w) &&
                 (!gated || lh_or_gate_pass(o, w)))
            todo |= BIT(w);
    }
    if (!todo) {
        if (known)
            o->stats.duplicates++;
        else
            o->stats.skipped++;
        lh_or_known_check(o, known != 0);
        return 0;
    }

    /* Judge fds and threads too (they may be read only every Nth input),
     * both heap metrics when one rose, and known metrics that rose: one
     * replay reads them all, and a known leak explains weaker growth. */
    unsigned judge = todo | known | (o->avail & PROC_BITS);
    if (todo & HEAP_BITS)
        judge |= o->avail & HEAP_BITS;
    int max_reps = o->cfg.reps > EXTEND_REPS ? o->cfg.reps : EXTEND_REPS;
    if (lh_or_replay_judge(o, data, size, judge, o->cfg.reps, max_reps) < 0)
        return -1;

    char site[sizeof out->site], sig[sizeof out->signature];
    int chosen = lh_or_pick(o, judge, site, sizeof site, sig, sizeof sig);
    int distinct = 0, distinct_ran = 0;
    unsigned yes = lh_or_confirmed_mask(o, judge);
    if (chosen < 0 && (todo & HEAP_BITS)) {
        /* Flat on replay: maybe it grows once per distinct key. */
        distinct_ran = o->cfg.distinct >= 0;
        lh_or_distinct_run(o, data, size, judge);
        chosen = lh_or_pick_distinct(o, site, sizeof site, sig, sizeof sig);
        distinct = chosen >= 0;
        yes = lh_or_distinct_mask(o);
    }
    int gave_back = lh_or_given_back(o, data, size, chosen, distinct, sig);
    if (gave_back) {
        chosen = -1;
        yes &= ~HEAP_BITS;
    }
    int found = lh_or_report(o, chosen, distinct, site, sig, data, size, out);
    if (o->sites_pending && (todo & HEAP_BITS)) {
        /* Judged on the C heap: same input flat, and (distinct) no growth
         * with distinct variants either; or the growth given back. */
        lh_or_sites_learn(o, !(yes & HEAP_BITS) &&
                                 (distinct_ran || gave_back));
        o->sites_pending = 0;
    }
    for (int w = 0; w < W_COUNT; w++) {
        if (!(todo & BIT(w)))
            continue;
        /* Not a leak, or one already known: either way confirming this
         * input on this metric again is wasted. */
        if (!found || !(yes & BIT(w))) {
            lh_or_backoff_fail(o, w);
            lh_or_failed_put(o, h, w);
        }
    }
    return found;
}

void lh_or_fill_finding(lh_oracle *o, lh_finding *out, int w, int distinct,
                        const char *site, const char *sig,
                        const uint8_t *data, size_t size)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    out->distinct = distinct;
    snprintf(out->metric, sizeof out->metric, "%s", lh_or_metric_name(o, w));
    snprintf(out->unit, sizeof out->unit, "%s",
             o->probes->metrics[w_index[w]].unit);
    snprintf(out->signature, sizeof out->signature, "%s", sig);
    snprintf(out->site, sizeof out->site, "%s", site);
    const verdict *res = distinct ? o->dres : o->res;
    int n = distinct ? o->dn : o->nseries;
    out->every = distinct ? o->devery : o->every > 1 ? o->every : 1;
    out->growth_per_rep = distinct ? res[w].slope
                                   : res[w].slope / out->every;
    out->p_value = res[w].p;
    out->reps = n - 1;
    out->variants = distinct ? (long)(n - 1) * o->devery : 0;
    out->variant_at = distinct ? (long)o->dat : 0;
    memcpy(out->series, distinct ? o->dseries[w] : o->series[w],
           (size_t)n * sizeof(double));
    if (size > o->found_cap) {
        uint8_t *n = lh_raw_realloc(o->found, size);
        if (n) {
            o->found = n;
            o->found_cap = size;
        } else {
            size = 0;       /* the evidence stands without the bytes */
        }
    }
    if (size)
        memcpy(o->found, data, size);
    out->input = o->found;
    out->size = size;
}

int lh_oracle_confirm(lh_oracle *o, const uint8_t *data, size_t size,
                      int reps, lh_finding *out)
{
    if (reps <= 0)
        reps = o->cfg.reps;
    if (reps < MIN_REPS)
        reps = MIN_REPS;
    if (reps > LH_ORACLE_MAX_REPS)
        reps = LH_ORACLE_MAX_REPS;
    int max_reps = reps > EXTEND_REPS ? reps : EXTEND_REPS;
    o->verifying = 1;
    o->bounded = 0;
    int rc = lh_or_replay_judge(o, data, size, o->avail, reps, max_reps);
    o->verifying = 0;
    if (rc < 0)
        return -1;
    char site[sizeof out->site], sig[sizeof out->signature];
    int w = lh_or_pick(o, o->avail, site, sizeof site, sig, sizeof sig);
    int distinct = 0;
    if (w < 0 && (o->avail & HEAP_BITS)) {
        lh_or_distinct_run(o, data, size, o->avail);
        w = lh_or_pick_distinct(o, site, sizeof site, sig, sizeof sig);
        distinct = w >= 0;
    }
    if (w < 0 && (o->avail & BIT(W_GO_HEAP))) {
        lh_or_go_distinct_run(o, data, size);
        w = lh_or_pick_distinct(o, site, sizeof site, sig, sizeof sig);
        distinct = w >= 0;
    }
    if (w < 0 || lh_or_given_back(o, data, size, w, distinct, sig))
        return 0;
    lh_or_fill_finding(o, out, w, distinct, site, sig, data, size);
    return 1;
}

int lh_oracle_bounded(const lh_oracle *o, char *buf, size_t len)
{
    int n = 0;
    size_t at = 0;
    if (len)
        buf[0] = '\0';
    for (int w = 0; w < W_COUNT; w++) {
        if (!(o->bounded & BIT(w)))
            continue;
        if (at < len)
            at += (size_t)snprintf(buf + at, len - at, "%s%s", n ? ", " : "",
                                   lh_or_metric_name(o, w));
        n++;
    }
    return n;
}

void lh_oracle_last_delta(const lh_oracle *o, double *heap_bytes,
                          double *goroutines, double *handles)
{
    if (heap_bytes)
        *heap_bytes = o->last_delta[0];
    if (goroutines)
        *goroutines = o->last_delta[1];
    if (handles)
        *handles = o->last_delta[2];
}

void lh_oracle_get_stats(const lh_oracle *o, lh_oracle_stats *out)
{
    *out = o->stats;
    out->proc_every = o->proc_every_now;
}

int lh_oracle_series(const lh_oracle *o, int k, const char **metric,
                     const double **y)
{
    for (int w = 0; w < W_COUNT; w++) {
        if (!(o->avail & BIT(w)))
            continue;
        if (k-- == 0) {
            *metric = lh_or_metric_name(o, w);
            *y = o->series[w];
            return o->nseries;
        }
    }
    return -1;
}
