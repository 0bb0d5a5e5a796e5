/*
 * distinct.c - distinct-input runs.  A map keyed by request content that is
 * never pruned grows on the first sight of a key only, so replaying the same
 * input shows nothing.  Here the oracle steps thousands of variants of the
 * input (the same bytes with a counter in the last few) and judges the heap
 * against the number of variants, as `run` judges a workload's stable
 * invariant: a cache that fills up and plateaus is flat over the tail and
 * rejected.  The counter starts at a hash of the input, so every process
 * (repro, the minimizer) steps the same variants.  C heap and Go heap (one
 * settle per reading).  The Go heap also tries the counter in windows
 * nearer the front (a key field in the middle of a request) and runs the
 * layout that grows most; layout, sizes and tests: docs/oracle.md.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "detector.h"
#include "oracle_impl.h"

#define DISTINCT_ALPHA 0.001    /* the detector's default: thousands of
                                 * clean triggers must never confirm */
#define GO_DISTINCT_EVERY 512   /* Go heap: variants between two settled
                                 * readings ... */
#define GO_DISTINCT_VARIANTS 16384 /* ... in one run: 32 readings, 32
                                 * forced GCs */
#define VARIANT_KEEP 4          /* leading bytes a variant never changes */
#define VARIANT_DIGITS 4        /* counter bytes (base 64: 16.7M variants) */
#define VARIANT_WINDOWS 7       /* windows before the tail one: bytes 4-31 */
#define GO_PICK_VARIANTS 64     /* Go run: variants per layout to pick one */

_Static_assert(GO_DISTINCT_VARIANTS / GO_DISTINCT_EVERY <= DISTINCT_SAMPLES,
               "a Go distinct series must fit the distinct series");

/* Where a variant's counter goes: `digits` bytes at offset `at` of the
 * input (overwritten, length kept), or appended (at == size).  The first
 * max(VARIANT_KEEP, half the input) bytes are never touched, so a gate on
 * a short magic prefix or on the request type still passes; 3 digits at
 * least (262,144 values) so that no run repeats a key. */
static void variant_layout(size_t size, size_t *at, size_t *digits)
{
    size_t keep = size - size / 2;
    if (keep < VARIANT_KEEP)
        keep = VARIANT_KEEP;
    size_t d = size > keep ? size - keep : 0;
    if (d > VARIANT_DIGITS)
        d = VARIANT_DIGITS;
    if (d >= 3) {
        *at = size - d;
        *digits = d;
    } else {
        *at = size;
        *digits = VARIANT_DIGITS;
    }
}

/* The variant layouts of an input of `size` bytes: 0 is variant_layout's
 * (the tail); 1.. put VARIANT_DIGITS digits at byte 4, 8, ... (at most
 * VARIANT_WINDOWS), each window ending before the tail one starts.  A map
 * keyed by a field in the middle (a session id after a type tag) grows with
 * none of the tail's variants; a window inside the field varies it, and
 * leaves the rest, the gates before it included, as it is. */
int lh_or_variant_layouts(size_t size)
{
    size_t at, digits;
    variant_layout(size, &at, &digits);
    int n = 1;
    for (size_t w = VARIANT_KEEP; n <= VARIANT_WINDOWS &&
                                  w + VARIANT_DIGITS <= at;
         w += VARIANT_DIGITS)
        n++;
    return n;
}

static void layout_at(size_t size, int layout, size_t *at, size_t *digits)
{
    variant_layout(size, at, digits);
    if (layout > 0) {
        *at = VARIANT_KEEP + (size_t)(layout - 1) * VARIANT_DIGITS;
        *digits = VARIANT_DIGITS;
    }
}

/* Write the next counter value into o->variant: printable, never NUL, the
 * last byte varying fastest (wrapping at 64^digits). */
void lh_or_next_variant(lh_oracle *o, size_t at, size_t digits)
{
    static const char digit[64] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
    uint64_t c = o->variant_seq++;
    for (size_t i = digits; i-- > 0;) {
        o->variant[at + i] = (uint8_t)digit[c % 64];
        c /= 64;
    }
}

/* Step k fresh variants; -1 when the step fails on one (the variant is
 * the oracle's own input: the run ends unconfirmed, nothing is reported). */
static int step_variants(lh_oracle *o, size_t at, size_t digits,
                         size_t len, int k)
{
    for (int i = 0; i < k; i++) {
        lh_or_next_variant(o, at, digits);
        if (o->step(o->ud, o->variant, len) < 0)
            return -1;
    }
    o->stats.distinct_steps += (uint64_t)k;
    return 0;
}

/* The detector's stable test on the readings so far (x: variants run),
 * slack 1 B or 1/16 block per variant.  At the end of the extended run the
 * growth must also be sustained: the last quarter at least half of the
 * first (a cache of ~10,000 entries still filling over the tail's start
 * passes the trend test, not this); the Go heap's last quarter must grow
 * faster than the slack on its own (see inside). */
static verdict judge_distinct(const lh_oracle *o, int w, const double *y,
                              int n, int final)
{
    verdict j = { J_NO, 0.0, 1.0 };
    /* The Go heap: half the per-replay minimum, so a 100 B entry shows
     * while the creep of clean Go code (~10 B a call, see DESIGN.md)
     * does not. */
    double per = w == W_HEAP_BYTES ? 1.0
               : w == W_GO_HEAP ? o->cfg.go_heap_min_per_rep / 2.0
               : 1.0 / 16.0;
    lh_inv_spec spec = {
        .kind = LH_INV_STABLE, .slack = per * o->dx[n - 1],
        .alpha = DISTINCT_ALPHA,
    };
    lh_verdict v;
    if (lh_detect(&spec, o->dx, y, (size_t)n, y[n - 1], &v) < 0 || !v.fail)
        return j;
    j.slope = v.slope;
    j.p = v.p_value;
    if (final) {
        int q = (n - 1) / 4;
        double first = y[q] - y[0], last = y[n - 1] - y[n - 1 - q];
        if (w == W_GO_HEAP) {
            /* Not against the first quarter: a Go map doubling its
             * buckets is a step of the whole map's size, in either
             * quarter.  The last quarter's robust slope must beat the
             * slack on its own: a cache that has filled up is flat
             * there. */
            double lo, hi;
            if (lh_theil_sen(o->dx + n - 1 - q, y + n - 1 - q,
                             (size_t)q + 1, o->cfg.alpha, &last, &lo,
                             &hi) < 0 || !(last > per))
                return j;
        } else if (!(last > 0.0 && last >= 0.5 * first)) {
            return j;
        }
    }
    j.v = J_YES;
    return j;
}

/* Copy data into o->variant with room for its counter, which starts at
 * seq; *at, *digits from the layout (lh_or_variant_layouts), *len the
 * variants' length (the input's, or more when the counter is appended). */
int lh_or_variant_begin(lh_oracle *o, const uint8_t *data, size_t size,
                        uint64_t seq, int layout, size_t *at,
                        size_t *digits, size_t *len)
{
    layout_at(size, layout, at, digits);
    *len = *at + *digits > size ? *at + *digits : size;
    if (*len > o->variant_cap) {
        uint8_t *n = lh_raw_realloc(o->variant, *len);
        if (!n)
            return -1;
        o->variant = n;
        o->variant_cap = *len;
    }
    if (size)
        memcpy(o->variant, data, size);
    o->variant_seq = seq;
    return 0;
}

/* The x of a distinct run's readings: variants run at reading i. */
static void distinct_x(lh_oracle *o, int every)
{
    o->devery = every;
    for (int i = 0; i <= DISTINCT_SAMPLES; i++)
        o->dx[i] = (double)i * every;
}

/* Step distinct variants of data, reading the C heap metrics in `judge`
 * every DISTINCT_EVERY, and judge them into o->dres (docs/oracle.md).
 * Allocation sites are recorded along.  A variant the step fails on ends
 * the run unconfirmed: the variants are the oracle's inputs, and the input
 * it was given must not be blamed for them (the engine finds such an input
 * on its own). */
void lh_or_distinct_run(lh_oracle *o, const uint8_t *data, size_t size,
                        unsigned judge)
{
    memset(o->dres, 0, sizeof o->dres);
    o->dn = 0;
    judge &= o->avail & HEAP_BITS;
    if (!judge || o->cfg.distinct < 0)
        return;
    size_t at, digits, len;
    if (lh_or_variant_begin(o, data, size, lh_or_hash_input(data, size) >> 8,
                            0, &at, &digits, &len) < 0)
        return;
    o->dat = at;
    distinct_x(o, DISTINCT_EVERY);
    o->stats.distinct_runs++;
    o->proc_have = 0;               /* the variants may move fds too */

    lh_or_heap_sites_begin(o, judge);
    double v[W_COUNT] = { 0 };
    lh_or_read_metrics(o, judge, v);
    for (int w = 0; w < W_COUNT; w++)
        o->dseries[w][0] = v[w];
    int n = 1, target = DISTINCT_FIRST / DISTINCT_EVERY;
    unsigned growing = judge;
    for (;;) {
        for (; n <= target; n++) {
            if (step_variants(o, at, digits, len, DISTINCT_EVERY) < 0) {
                memset(o->dres, 0, sizeof o->dres);
                goto out;
            }
            lh_or_read_metrics(o, judge, v);
            for (int w = 0; w < W_COUNT; w++)
                o->dseries[w][n] = v[w];
        }
        o->dn = n;
        int final = target == DISTINCT_SAMPLES;
        unsigned yes = 0;
        for (int w = 0; w < W_COUNT; w++) {
            if (!(growing & BIT(w)))
                continue;
            o->dres[w] = judge_distinct(o, w, o->dseries[w], n, final);
            if (o->dres[w].v == J_YES)
                yes |= BIT(w);
            else
                o->dres[w].v = J_NO;
        }
        growing = yes;
        if (!growing || final)
            break;
        target = DISTINCT_SAMPLES;
    }
out:
    lh_or_heap_sites_end(o);
}

unsigned lh_or_distinct_mask(const lh_oracle *o)
{
    unsigned yes = 0;
    for (int w = 0; w < W_COUNT; w++)
        if (o->dres[w].v == J_YES)
            yes |= BIT(w);
    return yes;
}

/* After lh_or_distinct_run: heap.live_bytes, else heap.live_allocs, when
 * it confirmed; after lh_or_go_distinct_run: the Go heap; with its site and
 * signature.  -1 when none did. */
int lh_or_pick_distinct(lh_oracle *o, char *site, size_t sitelen,
                        char *sig, size_t siglen)
{
    for (int w = W_HEAP_BYTES; w <= W_GO_HEAP; w++) {
        if (o->dres[w].v != J_YES)
            continue;
        const double *y = o->dseries[w];
        if (w == W_GO_HEAP)
            snprintf(site, sitelen, "%s", o->dsite);
        else
            lh_or_heap_site(o, w, y[o->dn - 1] - y[0], site, sitelen);
        lh_or_make_sig(o, w, 1, site, sig, siglen);
        return w;
    }
    return -1;
}

/* Step GO_DISTINCT_VARIANTS distinct variants of data, settling and
 * reading the Go heap every GO_DISTINCT_EVERY (32 forced GCs), and judge
 * the series as the extended C heap run is judged (judge_distinct, final)
 * into o->dres[W_GO_HEAP].  One stage, not two as for the C heap: each
 * reading costs a GC, and 32 of them over 16,384 variants reject a cache
 * of up to ~12,000 entries, flat over the last quarter.  The
 * counter starts elsewhere than the C run's (lh_oracle_confirm runs both
 * on one input: the Go run must not replay keys the C run made).  A
 * variant the step fails on ends the run unconfirmed. */
/* The layout whose GO_PICK_VARIANTS variants grow the settled Go heap
 * most (0 when none grows more than the tail's); its own counters, apart
 * from the run's. */
static int go_pick_layout(lh_oracle *o, const uint8_t *data, size_t size,
                          uint64_t h)
{
    int nl = lh_or_variant_layouts(size), best = 0;
    if (nl < 2)
        return 0;
    double best_growth = 0.0;
    lh_or_do_settle(o);
    double level = lh_or_read_go_heap(o);
    for (int l = 0; l < nl; l++) {
        size_t at, digits, len;
        uint64_t seq = lh_or_mix64(h ^ (0x70 + (uint64_t)l)) >> 8;
        if (lh_or_variant_begin(o, data, size, seq, l, &at, &digits,
                                &len) < 0 ||
            step_variants(o, at, digits, len, GO_PICK_VARIANTS) < 0)
            return 0;
        lh_or_do_settle(o);
        double v = lh_or_read_go_heap(o);
        if (v - level > best_growth) {
            best_growth = v - level;
            best = l;
        }
        level = v;
    }
    return best;
}

void lh_or_go_distinct_run(lh_oracle *o, const uint8_t *data, size_t size)
{
    memset(o->dres, 0, sizeof o->dres);
    o->dn = 0;
    o->dsite[0] = '\0';
    if (!(o->avail & BIT(W_GO_HEAP)) || o->cfg.distinct < 0)
        return;
    size_t at, digits, len;
    uint64_t h = lh_or_hash_input(data, size);
    int layout = go_pick_layout(o, data, size, h);
    uint64_t seq = lh_or_mix64(h ^ 0x60) >> 8;
    if (lh_or_variant_begin(o, data, size, seq, layout, &at, &digits,
                            &len) < 0)
        return;
    o->dat = at;
    distinct_x(o, GO_DISTINCT_EVERY);
    o->stats.distinct_runs++;
    o->proc_have = 0;

    double *y = o->dseries[W_GO_HEAP];
    /* In-flight goroutines (lh_or_drain_goroutines) hold Go heap: earlier
     * ones end before the first reading, the run's own before the last. */
    o->drain_futile = 0;
    double g0 = lh_or_drain_goroutines(o, o->go_floor);
    lh_or_do_settle(o);
    y[0] = lh_or_read_go_heap(o);
    lh_gosnap *snap[2] = { lh_godiag_snapshot(o->probes->target), NULL };
    int n = 1, target = GO_DISTINCT_VARIANTS / GO_DISTINCT_EVERY;
    for (; n <= target; n++) {
        if (step_variants(o, at, digits, len, GO_DISTINCT_EVERY) < 0) {
            memset(o->dres, 0, sizeof o->dres);
            goto out;
        }
        lh_or_do_settle(o);
        y[n] = lh_or_read_go_heap(o);
    }
    o->dn = n;
    if (o->avail & BIT(W_GOROUTINES)) {
        o->drain_futile = 0;
        uint64_t waits = o->stats.drain_waits;
        lh_or_drain_goroutines(o, g0);
        if (o->stats.drain_waits != waits) {
            lh_or_do_settle(o);
            double last = lh_or_read_go_heap(o);
            if (last < y[n - 1])
                y[n - 1] = last;
        }
    }
    /* Judged on the floor the heap never goes below again: a Go map that
     * grows keeps its old buckets until the writes after it have moved
     * them (~2x the map for a while), a bump a reading may or may not
     * catch; with small entries it swamps the trend.  The floor of a
     * cache that plateaus stays flat; the series reported is the raw one. */
    double low[DISTINCT_SAMPLES + 1];
    low[n - 1] = y[n - 1];
    for (int i = n - 2; i >= 0; i--)
        low[i] = y[i] < low[i + 1] ? y[i] : low[i + 1];
    o->dres[W_GO_HEAP] = judge_distinct(o, W_GO_HEAP, low, n, 1);
    if (o->dres[W_GO_HEAP].v != J_YES) {
        o->dres[W_GO_HEAP].v = J_NO;
        goto out;
    }
    /* The heap profile is as of the last completed GC but one. */
    lh_or_do_settle(o);
    snap[1] = lh_godiag_snapshot(o->probes->target);
    lh_or_go_heap_site(snap[0], snap[1], y[n - 1] - y[0], o->dsite,
                       sizeof o->dsite);
out:
    lh_godiag_free(snap[0]);
    lh_godiag_free(snap[1]);
}
