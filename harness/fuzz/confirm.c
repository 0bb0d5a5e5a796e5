/*
 * confirm.c - confirmation by replay: a trigger's input is replayed `reps`
 * times and a metric confirms only when it grows with the repetitions
 * (trend, slope, a minimum total, both halves growing), so lazy init, a
 * cache warming up or a plateau never does.  Inconclusive growth is
 * replayed on (up to 64); a confirmed series must keep growing over four
 * times as many replays, or it was a buffer filling up.  Criteria and
 * numbers: docs/oracle.md.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "detector.h"
#include "oracle_impl.h"

/* C heap a Go target must gain in a confirmation (see judge_series). */
#define GO_HEAP_STEPS 4096.0

static verdict judge_series(const lh_oracle *o, int w, const double *y, int n)
{
    verdict j = { J_NO, 0.0, 1.0 };
    /* The first replay of an input may finish work the trigger started --
     * a Go map's incremental growth frees the old buckets on the next
     * write -- so the Go heap is judged from the first replay on. */
    if (w == W_GO_HEAP && n > 8) {
        y++;
        n--;
    }
    int reps = n - 1;
    for (int i = 0; i < n; i++)
        if (!isfinite(y[i]))
            return j;
    lh_mann_kendall(y, (size_t)n, NULL, NULL, &j.p);
    double lo, hi;
    if (lh_theil_sen(o->x, y, (size_t)n, o->cfg.alpha, &j.slope, &lo,
                     &hi) < 0)
        j.slope = 0.0;

    int h = reps / 2;
    double total = y[n - 1] - y[0];
    double g1 = y[h] - y[0], g2 = y[n - 1] - y[h];
    double min_total = 1.0, min_half = 0.0;
    if (w == W_HEAP_BYTES) {
        min_total = reps;
        /* The Go runtime mallocs ~300 B in cgo for each OS thread it
         * starts, under load, at any time: a few such steps over a
         * confirmation are not the target's. */
        if ((o->avail & BIT(W_GOROUTINES)) && min_total < GO_HEAP_STEPS)
            min_total = GO_HEAP_STEPS;
    } else if (w == W_GO_HEAP) {
        min_total = o->cfg.go_heap_min_per_rep * reps;
        min_half = o->cfg.go_heap_min_per_rep * h / 2.0;
    } else if (w == W_THREADS) {
        /* The Go runtime starts OS threads of its own under load and never
         * ends them: a few over a confirmation are not the target's. */
        double slack = o->probes->metrics[LH_M_PROC_THREADS].default_slack;
        if (slack > min_total)
            min_total = slack;
    }
    int scales = g1 > min_half && g2 > min_half && 4.0 * g2 >= g1;
    if (j.p < o->cfg.alpha && j.slope > 0.0 && total >= min_total && scales)
        j.v = J_YES;
    else if (total >= min_total && w != W_GO_HEAP)
        j.v = J_MAYBE;      /* the Go heap is settled per replay: no more */
    return j;
}

/* Last value of a stage: goroutines after a settle, threads after the
 * kernel has let joined threads go, whichever reads lower. */
static void settle_tail(lh_oracle *o, unsigned judge, int n)
{
    /* In-flight goroutines end first (lh_or_drain_goroutines), with the
     * Go heap they held: what stays is judged. */
    if ((judge & (BIT(W_GOROUTINES) | BIT(W_GO_HEAP))) &&
        (o->avail & BIT(W_GOROUTINES)) && o->drain_base > 0 &&
        lh_or_read_one(o, W_GOROUTINES) > o->drain_base) {
        lh_or_drain_goroutines(o, o->drain_base);
        if (judge & BIT(W_GO_HEAP)) {
            lh_or_do_settle(o);
            double h = lh_or_read_go_heap(o);
            double *last = &o->series[W_GO_HEAP][n - 1];
            if (h < *last)
                *last = h;
        }
    }
    if (judge & BIT(W_GOROUTINES)) {
        if (!(judge & BIT(W_GO_HEAP)))      /* else it just settled */
            lh_or_do_settle(o);
        double g = lh_or_read_one(o, W_GOROUTINES);
        double *last = &o->series[W_GOROUTINES][n - 1];
        if (g < *last)
            *last = g;
    }
    if ((judge & BIT(W_THREADS)) &&
        o->series[W_THREADS][n - 1] > o->series[W_THREADS][0]) {
        lh_probes_quiesce(o->probes);
        double t = lh_or_read_one(o, W_THREADS);
        double *last = &o->series[W_THREADS][n - 1];
        if (t < *last)
            *last = t;
    }
}

/*
 * Lazy proc reads.  Listing /proc/self/fd and /proc/self/task (with the
 * yields of a quiet read) after every replay was a quarter of a clean
 * replay's cost, and an fd or thread count almost never moves.  A series
 * that ends where it started never confirms (its total is under the one
 * unit judge_series asks of fds and threads), whatever it did in between.
 * So fds, and threads without a Go runtime (whose own threads come and
 * go), are read only at checkpoints: replays 1, 2, 4, 8, ... and the last
 * of each stage.  While every checkpoint reads the starting count, the
 * series holds that count (exact at the checkpoints, the verdict the same
 * as from reads after every replay).  A count that moved at one stops the
 * pass; lh_or_replay_judge replays again, that metric read after every
 * replay.
 */
static int checkpoint(int n, int last)
{
    return n == last || (n & (n - 1)) == 0;
}

/* Replay number n of the input and record the judged metrics after it
 * (the Go heap after a settle).  0; 1 when a lazily read metric moved
 * (o->moved); -1 when the step failed. */
static int replay_once(lh_oracle *o, const uint8_t *data, size_t size,
                       unsigned judge, int n, int last)
{
    double v[W_COUNT] = { 0 };      /* metrics not judged stay 0 */
    unsigned lazy = judge & o->lazy;
    if (o->step(o->ud, data, size) < 0)
        return -1;
    if (judge & BIT(W_GO_HEAP))
        lh_or_do_settle(o);
    if (lazy && checkpoint(n, last))
        lh_or_read_point(o, judge, v);
    else
        lh_or_read_point(o, judge & ~lazy, v);
    for (int w = 0; w < W_COUNT; w++) {
        if (!(lazy & BIT(w)))
            o->series[w][n] = v[w];
        else if (!checkpoint(n, last) || v[w] == o->series[w][0])
            o->series[w][n] = o->series[w][0];
        else
            o->moved |= BIT(w);
    }
    return o->moved ? 1 : 0;
}

/*
 * A bounded structure larger than the replays grows through all of them
 * like a leak: a page cache of 256 pages (1 MiB) still filling, a batch
 * flushed every 1,000 calls, a thread per call still exiting at the
 * reading.  So a heap or mapped-memory series that sustained is replayed
 * on, LONG_REPS times, read every LONG_EVERY, and judged as `run` judges
 * stable (the detector, slack 1 B or 1/16 block per replay; the last
 * quarter at least half the first, as the distinct run): a cache that
 * fills flattens, a sawtooth keeps its troughs, a leak goes on.  A leak
 * past LONG_BUDGET on the way is one: it ends there, confirmed.  The
 * readings are cheap (no /proc); the replays record allocation sites as
 * the others do.  Only in lh_oracle_confirm (repro, the verification of
 * what `fuzz` found, minimize, regression replays), and not when a
 * goroutine, fd or thread confirmed too.
 */
#define LONG_REPS 4096
#define LONG_EVERY 128
#define LONG_BUDGET (256.0 * 1048576.0)

static int long_run(lh_oracle *o, const uint8_t *data, size_t size,
                    unsigned yes)
{
    enum { R = LONG_REPS / LONG_EVERY, NW = 3 };
    static const int ws[NW] = { W_HEAP_BYTES, W_HEAP_ALLOCS, W_MMAP };
    double x[R + 1], y[NW][R + 1];
    int n = 1, over = 0;
    x[0] = 0;
    for (int k = 0; k < NW; k++)
        y[k][0] = (yes & BIT(ws[k])) ? lh_or_read_one(o, ws[k]) : 0;
    for (int r = 1; r <= R && !over; r++) {
        for (int i = 0; i < LONG_EVERY; i++)
            if (o->step(o->ud, data, size) < 0)
                return -1;
        x[r] = (double)r * LONG_EVERY;
        for (int k = 0; k < NW; k++) {
            if (!(yes & BIT(ws[k])))
                continue;
            y[k][r] = lh_or_read_one(o, ws[k]);
            double unit = ws[k] == W_HEAP_ALLOCS ? 64.0 : 1.0;
            over |= (y[k][r] - y[k][0]) * unit > LONG_BUDGET;
        }
        n = r + 1;
    }
    if (over)
        return 0;
    for (int k = 0; k < NW; k++) {
        int w = ws[k];
        if (!(yes & BIT(w)))
            continue;
        lh_inv_spec spec = {
            .kind = LH_INV_STABLE, .alpha = 0.001,
            .slack = (w == W_HEAP_ALLOCS ? 1.0 / 16.0 : 1.0) * x[n - 1],
        };
        lh_verdict v;
        int q = (n - 1) / 4;
        double first = y[k][q] - y[k][0];
        double last = y[k][n - 1] - y[k][n - 1 - q];
        if (lh_detect(&spec, x, y[k], (size_t)n, y[k][n - 1], &v) < 0 ||
            !v.fail || !(last > 0.0 && last >= 0.5 * first)) {
            o->res[w].v = J_NO;     /* bounded: filled, or came back */
            o->bounded |= BIT(w);
        }
    }
    return 0;
}

/*
 * A bounded buffer that is still filling during the replays (a ring of the
 * last N requests, a pool growing to its cap) grows like a leak until it
 * is full.  So a series that confirmed must keep growing over four times
 * as many repetitions, the last third at least half as fast as the first;
 * then, for the heap and mapped memory, over LONG_REPS (long_run).
 */
static int sustain(lh_oracle *o, const uint8_t *data, size_t size,
                   unsigned judge, int *np)
{
    int n = *np;
    unsigned yes = 0;
    for (int w = 0; w < W_COUNT; w++)
        if ((judge & BIT(w)) && o->res[w].v == J_YES)
            yes |= BIT(w);
    if (!yes)
        return 0;
    int ext = 4 * (n - 1) < LH_ORACLE_MAX_REPS ? 4 * (n - 1)
                                                : LH_ORACLE_MAX_REPS;
    for (; n <= ext; n++) {
        int rc = replay_once(o, data, size, judge, n, ext);
        if (rc != 0) {
            *np = o->nseries = n;
            return rc;
        }
    }
    settle_tail(o, judge, n);
    int third = (n - 1) / 3;
    for (int w = 0; w < W_COUNT; w++) {
        if (!(yes & BIT(w)))
            continue;
        const double *y = o->series[w];
        o->res[w] = judge_series(o, w, y, n);
        int from = w == W_GO_HEAP ? 1 : 0;     /* as judge_series */
        double first = y[from + third] - y[from];
        double last = y[n - 1] - y[n - 1 - third];
        if (o->res[w].v == J_YES && !(last >= 0.5 * first && last > 0))
            o->res[w].v = J_NO;     /* it filled up and stopped */
    }
    *np = n;
    unsigned longer = 0;
    for (int w = 0; w < W_COUNT; w++)
        if ((yes & BIT(w)) && o->res[w].v == J_YES)
            longer |= BIT(w);
    /* A goroutine, fd or thread that confirmed names the finding (and
     * 4,096 more of them would exhaust the process): no long run.  Nor
     * while fuzzing: a known leak confirmed again would leak 4,096 times
     * more (--known-budget); what the engine reports, `fuzz` verifies
     * with repro, which has it. */
    if (!o->verifying || (longer & (PROC_BITS | BIT(W_GOROUTINES))))
        return 0;
    longer &= HEAP_BITS | BIT(W_MMAP);
    return longer ? long_run(o, data, size, longer) : 0;
}

/*
 * In-flight goroutines ended when a stage drained (o->inflight): every
 * reading of the series was inflated by them, the drained last one only
 * was not, so a leak among them (every 10th call parks a goroutine) can
 * neither confirm nor be told apart.  The series is measured again, paced:
 * PACED_CHUNKS chunks of `reps` replays, each followed by a drain and a
 * settle before its reading, as `run` paces its phases.  The long run is
 * not needed: the chunks are longer than any stage.
 */
#define PACED_CHUNKS 8

static int paced_series(lh_oracle *o, const uint8_t *data, size_t size,
                        unsigned judge, int reps)
{
    double v[W_COUNT] = { 0 };
    o->drain_futile = 0;
    lh_or_drain_goroutines(o, o->go_floor);
    lh_or_do_settle(o);
    o->drain_base = lh_or_read_one(o, W_GOROUTINES);
    o->prof_ok = (judge & BIT(W_GOROUTINES)) &&
                 lh_or_capture_profile(o, 0) == 0;
    lh_or_read_point(o, judge, v);
    for (int w = 0; w < W_COUNT; w++)
        o->series[w][0] = v[w];
    for (int c = 1; c <= PACED_CHUNKS; c++) {
        for (int r = 0; r < reps; r++)
            if (o->step(o->ud, data, size) < 0)
                return -1;
        o->drain_futile = 0;
        lh_or_drain_goroutines(o, o->drain_base);
        lh_or_do_settle(o);
        lh_or_read_point(o, judge, v);
        for (int w = 0; w < W_COUNT; w++)
            o->series[w][c] = v[w];
    }
    int n = PACED_CHUNKS + 1;
    for (int w = 0; w < W_COUNT; w++) {
        if (!(judge & BIT(w)))
            continue;
        o->res[w] = judge_series(o, w, o->series[w], n);
        if (o->res[w].v == J_MAYBE)
            o->res[w].v = J_NO;
    }
    o->nseries = n;
    o->every = reps;
    return 0;
}

static int replay_series(lh_oracle *o, const uint8_t *data, size_t size,
                         unsigned judge, int reps, int max_reps)
{
    int go_rt = (judge & (BIT(W_GOROUTINES) | BIT(W_GO_HEAP))) != 0;
    double v[W_COUNT] = { 0 };      /* metrics not judged stay 0 */

    o->stats.confirmations++;
    o->proc_have = 0;               /* replays moved fds and threads */
    memset(o->res, 0, sizeof o->res);
    if (go_rt)
        lh_or_do_settle(o);
    o->drain_futile = 0;
    o->inflight = 0;
    o->every = 1;
    o->drain_base = 0.0;
    if (go_rt && (o->avail & BIT(W_GOROUTINES))) {
        /* earlier inputs' in-flight goroutines must not end during the
         * series, or they hide this input's */
        uint64_t waits = o->stats.drain_waits;
        lh_or_drain_goroutines(o, o->go_floor);
        if (o->stats.drain_waits != waits)
            lh_or_do_settle(o);
        o->drain_futile = 0;
        o->drain_base = lh_or_read_one(o, W_GOROUTINES);
    }
    if (judge & BIT(W_GO_HEAP)) {
        /* The first reading must be as settled as the later ones, which
         * each follow a settle: sync.Pool victim caches and objects freed
         * by finalizers need more than one GC cycle to go.  Settle until
         * the heap stops shrinking (bounded). */
        double prev = lh_or_read_one(o, W_GO_HEAP);
        for (int i = 0; i < 4; i++) {
            lh_or_do_settle(o);
            double now = lh_or_read_one(o, W_GO_HEAP);
            if (!(now < prev))
                break;
            prev = now;
        }
    }
    o->prof_ok = (judge & BIT(W_GOROUTINES)) &&
                 lh_or_capture_profile(o, 0) == 0;
    lh_or_read_point(o, judge, v);
    for (int w = 0; w < W_COUNT; w++)
        o->series[w][0] = v[w];
    /* fds too: Go opens them unseen, and the object holding a leaked one
     * (an *os.File) names its site (lh_or_proc_site) */
    if (judge & (BIT(W_GO_HEAP) | BIT(W_FDS)))
        lh_or_go_snap_begin(o);

    int n = 1, target = reps;
    for (;;) {
        for (; n <= target; n++) {
            int rc = replay_once(o, data, size, judge, n, target);
            if (rc != 0) {
                o->nseries = n;
                return rc;
            }
        }
        settle_tail(o, judge, n);
        int maybe = 0;
        for (int w = 0; w < W_COUNT; w++) {
            if (!(judge & BIT(w)))
                continue;
            o->res[w] = judge_series(o, w, o->series[w], n);
            maybe |= o->res[w].v == J_MAYBE;
        }
        if (!maybe || target >= max_reps)
            break;
        target = target * 2 < max_reps ? target * 2 : max_reps;
    }
    if (o->inflight && (judge & (BIT(W_GOROUTINES) | BIT(W_GO_HEAP))))
        return paced_series(o, data, size, judge, reps);
    int rc = sustain(o, data, size, judge, &n);
    if (rc != 0)
        return rc;
    o->nseries = n;
    return 0;
}

/* Replay data, reading the metrics in `judge` before the first and after
 * each repetition, and judge each series into o->res.  Starts with reps,
 * doubles up to max_reps while a metric grew without confirming.  C and Go
 * heap allocation sites are recorded along when the heap is judged.  Returns
 * 0, or -1 when a step failed. */
int lh_or_replay_judge(lh_oracle *o, const uint8_t *data, size_t size,
                       unsigned judge, int reps, int max_reps)
{
    o->lazy = judge & PROC_BITS;
    if (o->avail & BIT(W_GOROUTINES))
        o->lazy &= ~BIT(W_THREADS);
    int rc;
    do {
        o->moved = 0;
        /* Before the first settle: recording's own start-up (calibration,
         * once per process) must not land in a series. */
        lh_or_heap_sites_begin(o, judge);
        rc = replay_series(o, data, size, judge, reps, max_reps);
        lh_or_heap_sites_end(o);
        lh_or_go_snap_end(o, rc == 0 && (o->res[W_GO_HEAP].v == J_YES ||
                                         o->res[W_FDS].v == J_YES));
        if (rc == 1) {
            o->lazy &= ~o->moved;   /* again, read after every replay */
            o->stats.confirmations--;       /* the same one */
        }
    } while (rc == 1);
    return rc;
}

/* The strongest confirmed metric in o->res among `among` (heap.live_allocs
 * folds into heap.live_bytes), with its site and signature; -1 when none
 * confirmed.  The weaker ones confirmed with it are the same leak seen
 * through other metrics (a thread's TLS, the FILE behind an fd): when the
 * strongest is known, the input is a duplicate, whatever else grew. */
int lh_or_pick(lh_oracle *o, unsigned among, char *site, size_t sitelen,
               char *sig, size_t siglen)
{
    for (int w = 0; w < W_COUNT; w++) {
        if (!(among & BIT(w)) || o->res[w].v != J_YES)
            continue;
        site[0] = '\0';
        if (w == W_GOROUTINES)
            lh_or_goroutine_site(o, site, sitelen);
        else if ((w == W_HEAP_BYTES || w == W_HEAP_ALLOCS) &&
                 o->nseries >= 2)
            lh_or_heap_site(o, w,
                            o->series[w][o->nseries - 1] - o->series[w][0],
                            site, sitelen);
        else if (w == W_GO_HEAP && o->nseries >= 2)
            /* from the first replay on, as judge_series */
            lh_or_go_heap_site(o->go_snap[0], o->go_snap[1],
                               o->series[w][o->nseries - 1] -
                               o->series[w][o->nseries > 8], site,
                               sitelen);
        else if (w == W_MMAP && o->nseries >= 2)
            lh_or_mmap_site(o, o->series[w][o->nseries - 1] -
                               o->series[w][0], site, sitelen);
        else if ((w == W_FDS || w == W_THREADS) && o->nseries >= 2)
            lh_or_proc_site(o, w, o->series[w][o->nseries - 1] -
                               o->series[w][0], site, sitelen);
        lh_or_make_sig(o, w, 0, site, sig, siglen);
        return w;
    }
    return -1;
}

unsigned lh_or_confirmed_mask(const lh_oracle *o, unsigned among)
{
    unsigned yes = 0;
    for (int w = 0; w < W_COUNT; w++)
        if ((among & BIT(w)) && o->res[w].v == J_YES)
            yes |= BIT(w);
    return yes;
}

/*
 * Entries that expire: a TTL cache dropping entries 20 ms old on a later
 * call grows through replays that take a few milliseconds, as a leak
 * does.  So a C heap growth that confirmed (same input or distinct) is
 * given time before it is reported: the oracle idles IDLE_FIRST, doubling
 * up to IDLE_MAX in all, stepping the input once after each idle (lazy
 * expiry runs on a call) and reading the metric.  When the live amount
 * has come back to within a quarter of the confirmed growth above the
 * series' start, it was given back: not a leak.  A leak keeps it: the
 * cost, IDLE_MAX, is paid once per new finding (not for a known
 * signature), and a clean expiring op only until its sites are learned
 * clean (clean_sites.c).  1: given back (the verdicts set to J_NO).
 */
#define IDLE_FIRST 0.025
#define IDLE_MAX 1.0

int lh_or_given_back(lh_oracle *o, const uint8_t *data, size_t size,
                     int chosen, int distinct, const char *sig)
{
    if ((chosen != W_HEAP_BYTES && chosen != W_HEAP_ALLOCS) ||
        lh_or_sig_known(o, sig))
        return 0;
    const double *y = distinct ? o->dseries[chosen] : o->series[chosen];
    int n = distinct ? o->dn : o->nseries;
    if (n < 2 || !(y[n - 1] > y[0]))
        return 0;
    double start = y[0], grown = y[n - 1] - y[0];
    o->stats.ttl_idles++;
    double idle = IDLE_FIRST, spent = 0.0;
    while (spent + idle <= IDLE_MAX) {
        struct timespec ts = { (time_t)idle,
                               (long)((idle - floor(idle)) * 1e9) };
        nanosleep(&ts, NULL);
        spent += idle;
        idle *= 2;
        if (o->step(o->ud, data, size) < 0)
            return 0;
        if (lh_or_read_one(o, chosen) - start <= grown / 4) {
            verdict *res = distinct ? o->dres : o->res;
            res[W_HEAP_BYTES].v = res[W_HEAP_ALLOCS].v = J_NO;
            return 1;
        }
    }
    return 0;
}
