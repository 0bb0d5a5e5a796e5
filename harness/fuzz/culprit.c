/*
 * culprit.c - which recent input grew a metric.  Growth seen only now and
 * then (fds and threads read every Nth input, the Go heap after a forced GC
 * every expensive_every inputs) is not the last input's doing: the recent
 * inputs are kept in a ring and replayed to find the one that grows, so a
 * finding is always an input that grows memory.  The Go heap is searched by
 * group testing (batches replayed, one settle each, a batch that grew split
 * in halves); when no input grows it again, the ring is screened with
 * distinct variants for a map keyed by content.  Details: docs/oracle.md.
 */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "oracle_impl.h"

#define SEARCH_BATCH 16         /* culprit search: inputs per settled batch */
#define SEARCH_MAX_DUPS 3       /* known leaks found before a search gives up:
                                 * they explain the growth */
#define GO_SCREEN_VARIANTS 16   /* Go screening: variants per candidate */
#define GO_DISTINCT_MAX_RUNS 4  /* full Go distinct runs per search */

/* ---- ring of recent inputs ---------------------------------------------- */

/* Keep a copy of the input, in place of the oldest. */
void lh_or_ring_push(lh_oracle *o, const uint8_t *data, size_t size)
{
    ring_slot *s = &o->ring[o->ring_head];
    if (size > s->cap) {
        size_t cap = lh_next_cap(32, size, 0, 1);
        uint8_t *n = cap ? lh_raw_realloc(s->data, cap) : NULL;
        if (!n) {
            /* Out of memory: keep the ring's order with an empty input
             * rather than lose track of which slot is which. */
            size = 0;
        } else {
            s->data = n;
            s->cap = cap;
        }
    }
    if (size)
        memcpy(s->data, data, size);
    s->size = size;
    if (++o->ring_head == o->ring_cap)     /* no division on every input */
        o->ring_head = 0;
    if (o->ring_len < o->ring_cap)
        o->ring_len++;
}

/* The i-th most recent input (0: the latest). */
static const ring_slot *ring_at(const lh_oracle *o, size_t i)
{
    return &o->ring[(o->ring_head + o->ring_cap - 1 - i) % o->ring_cap];
}

/* ---- candidates from the ring ------------------------------------------- */

/* Distinct ring inputs among the `window` most recent, most recent first,
 * into o->cand / o->cand_hash, skipping those known clean for every metric
 * in `mask`.  Returns their number. */
static size_t candidates(lh_oracle *o, size_t window, unsigned mask)
{
    size_t nc = 0;
    if (window > o->ring_len)
        window = o->ring_len;
    for (size_t i = 0; i < window; i++) {
        const ring_slot *s = ring_at(o, i);
        uint64_t h = lh_or_hash_input(s->data, s->size);
        int dup = 0;
        for (size_t j = 0; j < nc && !dup; j++)
            dup = o->cand_hash[j] == h;
        int clean = 1;
        for (int w = 0; w <= GO_DISTINCT_KEY; w++)
            if ((mask & BIT(w)) && !lh_or_failed_has(o, h, w))
                clean = 0;
        if (dup || clean)
            continue;
        o->cand[nc] = i;
        o->cand_hash[nc++] = h;
    }
    return nc;
}

/* ---- sampled proc reads: search the window ------------------------------ */

/* fds/threads rose (rose) over the last `window` inputs: replay each once
 * and confirm the first that rises again. */
static int proc_window_search(lh_oracle *o, size_t window, unsigned rose,
                              lh_finding *out)
{
    o->stats.culprit_searches++;
    size_t nc = candidates(o, window, rose);
    for (size_t c = 0; c < nc; c++) {
        const ring_slot *s = ring_at(o, o->cand[c]);
        double b[W_COUNT], a[W_COUNT];
        lh_or_read_metrics(o, rose, b);
        if (o->step(o->ud, s->data, s->size) < 0)
            return -1;
        lh_or_read_metrics(o, rose, a);
        unsigned up = 0;
        if ((rose & BIT(W_FDS)) && a[W_FDS] > b[W_FDS])
            up |= BIT(W_FDS);
        if ((rose & BIT(W_THREADS)) &&
            lh_or_persist(o, W_THREADS, b[W_THREADS], a[W_THREADS]) >
                b[W_THREADS])
            up |= BIT(W_THREADS);
        if (!up)
            continue;
        int rc = lh_or_on_trigger(o, s->data, s->size, up, 0, out);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* fds/threads rose over the last `window` inputs: gate, search, and take
 * the baseline again (the replays moved the counts). */
int lh_or_proc_search(lh_oracle *o, size_t window, unsigned rose,
                      lh_finding *out)
{
    o->stats.triggers++;
    unsigned todo = 0, known = 0;
    for (int w = W_FDS; w <= W_THREADS; w++) {
        if (!(rose & BIT(w)))
            continue;
        if (lh_or_metric_known(o, w))
            known |= BIT(w);
        else if (lh_or_gate_pass(o, w))
            todo |= BIT(w);
    }
    if (!todo) {
        if (known)
            o->stats.duplicates++;
        else
            o->stats.skipped++;
        return 0;
    }
    uint64_t confirmations = o->stats.confirmations;
    int rc = proc_window_search(o, window, todo, out);
    /* No input rose again: a failed search (a confirmation that ran has
     * done its own accounting). */
    if (rc == 0 && o->stats.confirmations == confirmations)
        for (int w = W_FDS; w <= W_THREADS; w++)
            if (todo & BIT(w))
                lh_or_backoff_fail(o, w);
    o->proc_have = 0;
    return rc;
}

/* ---- the Go heap: replays, then distinct variants ----------------------- */

/* A batch's in-flight goroutines (lh_or_drain_goroutines) hold Go heap:
 * when it grew by `min` with goroutines above g (the count before the
 * batch), they end and the heap is read again. */
static double go_batch_end(lh_oracle *o, double g, double level,
                           double min)
{
    lh_or_do_settle(o);
    double v = lh_or_read_go_heap(o);
    if (v - level >= min && (o->avail & BIT(W_GOROUTINES)) &&
        lh_or_read_one(o, W_GOROUTINES) > g) {
        o->drain_futile = 0;
        lh_or_drain_goroutines(o, g);
        lh_or_do_settle(o);
        v = lh_or_read_go_heap(o);
    }
    return v;
}

/* Replay candidates [at, at+k) `reps` times each; the settled Go heap's
 * growth since *level, which becomes the new level. */
static int batch(lh_oracle *o, size_t at, size_t k, double *level,
                 double *growth)
{
    double g = lh_or_read_one(o, W_GOROUTINES);
    for (size_t c = at; c < at + k; c++) {
        const ring_slot *s = ring_at(o, o->cand[c]);
        for (int r = 0; r < o->cfg.reps; r++)
            if (o->step(o->ud, s->data, s->size) < 0)
                return -1;
    }
    double v = go_batch_end(o, g, *level,
                            o->cfg.go_heap_min_per_rep * o->cfg.reps);
    *growth = v - *level;
    *level = v;
    return 0;
}

/* One candidate grew in a batch: it must grow again, replay by replay.
 * The other metrics are judged along (a leaked goroutine holds Go heap:
 * it is reported as the goroutine).  1: a new finding; 0: not confirmed or
 * a duplicate (*dups counts those). */
static int confirm_go_heap(lh_oracle *o, size_t c, double *level, int *dups,
                           lh_finding *out)
{
    const ring_slot *s = ring_at(o, o->cand[c]);
    unsigned judge = o->avail;
    if (lh_or_replay_judge(o, s->data, s->size, judge, o->cfg.reps,
                           o->cfg.reps) < 0)
        return -1;
    *level = o->series[W_GO_HEAP][o->nseries - 1];
    char site[sizeof out->site], sig[sizeof out->signature];
    int chosen = o->res[W_GO_HEAP].v == J_YES
               ? lh_or_pick(o, judge, site, sizeof site, sig, sizeof sig) : -1;
    int found = lh_or_report(o, chosen, 0, site, sig, s->data, s->size, out);
    if (!found) {
        lh_or_failed_put(o, o->cand_hash[c], W_GO_HEAP);
        *dups += chosen >= 0;
    }
    return found;
}

/* Group testing over candidates [at, at+k): a batch that grew is split
 * until a single input is left. */
static int search_range(lh_oracle *o, size_t at, size_t k, double *level,
                        int *dups, lh_finding *out)
{
    double growth;
    if (*dups >= SEARCH_MAX_DUPS)
        return 0;
    if (batch(o, at, k, level, &growth) < 0)
        return -1;
    if (growth < o->cfg.go_heap_min_per_rep * o->cfg.reps) {
        /* Each was replayed `reps` times: none grows the minimum. */
        for (size_t c = at; c < at + k; c++)
            lh_or_failed_put(o, o->cand_hash[c], W_GO_HEAP);
        return 0;
    }
    if (k == 1)
        return confirm_go_heap(o, at, level, dups, out);
    size_t half = k / 2;
    int rc = search_range(o, at, half, level, dups, out);
    if (rc != 0)
        return rc;
    return search_range(o, at + half, k - half, level, dups, out);
}

/* Screening: GO_SCREEN_VARIANTS fresh variants of each candidate in
 * [at, at+k) in each of its layouts (the tail and windows nearer the
 * front: lh_or_variant_layouts), then one settle: the Go heap's growth
 * since *level, which becomes the new level.  Fresh: each screening round
 * starts the counters elsewhere, or a second look at an input would replay
 * the keys of the first and see nothing. */
static int screen_batch(lh_oracle *o, size_t at, size_t k, double *level,
                        double *growth)
{
    o->screen_round++;
    double g = lh_or_read_one(o, W_GOROUTINES);
    for (size_t c = at; c < at + k; c++) {
        const ring_slot *s = ring_at(o, o->cand[c]);
        int nl = lh_or_variant_layouts(s->size);
        for (int l = 0; l < nl; l++) {
            size_t va, vd, len;
            uint64_t seq = lh_or_mix64(o->cand_hash[c] ^ o->screen_round ^
                                       ((uint64_t)l << 56)) >> 8;
            if (lh_or_variant_begin(o, s->data, s->size, seq, l, &va, &vd,
                                    &len) < 0)
                return -1;
            for (int i = 0; i < GO_SCREEN_VARIANTS; i++) {
                lh_or_next_variant(o, va, vd);
                if (o->step(o->ud, o->variant, len) < 0)
                    break;      /* not this input's failure: next one */
            }
            o->stats.distinct_steps += GO_SCREEN_VARIANTS;
        }
    }
    double v = go_batch_end(o, g, *level,
                            o->cfg.go_heap_min_per_rep * GO_SCREEN_VARIANTS);
    *growth = v - *level;
    *level = v;
    return 0;
}

/* Group testing with distinct variants over candidates [at, at+k): a
 * batch that grew by go_heap_min_per_rep per variant of one member is
 * split until one input is left, which must then pass a full Go distinct
 * run.  The screening only picks; the run judges.  At most
 * GO_DISTINCT_MAX_RUNS full runs (*runs) per search. */
static int go_distinct_range(lh_oracle *o, size_t at, size_t k,
                             double *level, int *runs, lh_finding *out)
{
    if (*runs >= GO_DISTINCT_MAX_RUNS)
        return 0;
    double growth;
    if (screen_batch(o, at, k, level, &growth) < 0)
        return 0;
    if (growth < o->cfg.go_heap_min_per_rep * GO_SCREEN_VARIANTS) {
        for (size_t c = at; c < at + k; c++)
            lh_or_failed_put(o, o->cand_hash[c], GO_DISTINCT_KEY);
        return 0;
    }
    if (k == 1) {
        const ring_slot *s = ring_at(o, o->cand[at]);
        (*runs)++;
        lh_or_go_distinct_run(o, s->data, s->size);
        char site[sizeof out->site], sig[sizeof out->signature];
        int chosen = lh_or_pick_distinct(o, site, sizeof site, sig,
                                         sizeof sig);
        int found = lh_or_report(o, chosen, 1, site, sig, s->data, s->size,
                                 out);
        if (!found)
            lh_or_failed_put(o, o->cand_hash[at], GO_DISTINCT_KEY);
        lh_or_do_settle(o);
        *level = lh_or_read_go_heap(o);
        return found;
    }
    size_t half = k / 2;
    int rc = go_distinct_range(o, at, half, level, runs, out);
    if (rc != 0)
        return rc;
    return go_distinct_range(o, at + half, k - half, level, runs, out);
}

/* The Go heap grew and no input grows it again when replayed: a map keyed
 * by request content grows on the first sight of a key only.  Screen the
 * ring's distinct inputs (most recent first) in batches with fresh
 * variants, as culprit_search does with replays.  Cost: 16 variants per
 * candidate and a settle per batch of 16 (~16,000 steps and 63 GCs for a
 * full ring of 1000), plus at most 4 full runs of 16,384 steps and 33
 * GCs; the backoff of lh_or_expensive_check covers it all. */
static int go_distinct_search(lh_oracle *o, lh_finding *out)
{
    if (o->cfg.distinct < 0)
        return 0;
    size_t nc = candidates(o, o->ring_len, BIT(GO_DISTINCT_KEY));
    lh_or_do_settle(o);
    double level = lh_or_read_go_heap(o);
    int runs = 0;
    for (size_t at = 0; at < nc; at += SEARCH_BATCH) {
        size_t k = nc - at < SEARCH_BATCH ? nc - at : SEARCH_BATCH;
        int rc = go_distinct_range(o, at, k, &level, &runs, out);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int culprit_search(lh_oracle *o, lh_finding *out)
{
    o->stats.culprit_searches++;
    o->proc_have = 0;
    size_t nc = candidates(o, o->ring_len, BIT(W_GO_HEAP));
    lh_or_do_settle(o);
    double level = lh_or_read_go_heap(o);
    int dups = 0;
    for (size_t at = 0; at < nc; at += SEARCH_BATCH) {
        size_t k = nc - at < SEARCH_BATCH ? nc - at : SEARCH_BATCH;
        int rc = search_range(o, at, k, &level, &dups, out);
        if (rc != 0)
            return rc;
    }
    /* Known leaks explain the growth; else nothing grows on replay. */
    return dups ? 0 : go_distinct_search(o, out);
}

int lh_or_expensive_check(lh_oracle *o, lh_finding *out)
{
    o->stats.expensive_checks++;
    lh_or_do_settle(o);
    double h = lh_or_read_go_heap(o);
    if (!isfinite(h))
        return 0;
    /* Against the lowest reading since the last search: a leak too slow
     * to beat the trigger in one interval still adds up. */
    if (!o->go_have_base || h < o->go_base) {
        o->go_base = h;
        o->go_have_base = 1;
        return 0;
    }
    if (h - o->go_base <= o->cfg.go_heap_trigger)
        return 0;
    if ((o->avail & BIT(W_GOROUTINES)) &&
        lh_or_read_one(o, W_GOROUTINES) > o->go_floor) {
        /* in-flight goroutines hold it? (lh_or_drain_goroutines) */
        o->drain_futile = 0;
        lh_or_drain_goroutines(o, o->go_floor);
        lh_or_do_settle(o);
        h = lh_or_read_go_heap(o);
        if (h - o->go_base <= o->cfg.go_heap_trigger)
            return 0;
    }

    o->stats.triggers++;
    int rc = 0;
    if (lh_or_metric_known(o, W_GO_HEAP)) {
        o->stats.duplicates++;
    } else if (!lh_or_gate_pass(o, W_GO_HEAP)) {
        o->stats.skipped++;
    } else {
        rc = culprit_search(o, out);
        if (rc == 0)
            lh_or_backoff_fail(o, W_GO_HEAP);
    }
    if (rc >= 0) {
        /* Whatever happened, this growth has been dealt with. */
        lh_or_do_settle(o);
        o->go_base = lh_or_read_go_heap(o);
    }
    return rc;
}
