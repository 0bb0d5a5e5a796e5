/*
 * oracle.c - the leak oracle inside a fuzz loop (see oracle.h).
 *
 * Fast path, per input (no allocation, no settle):
 *   - the input is copied into a preallocated ring slot (when a ring is
 *     needed: Go heap checks or sampled proc reads);
 *   - heap.live_bytes/allocs (interposer atomics, ~ns), go.goroutines
 *     (a cgo call, ~2.5 us) and, when cheap enough, proc.fds/threads are
 *     read before and after the step;
 *   - a goroutine or thread rise is re-read for up to 100 us (sched_yield
 *     loop): work that ends just after the call must not trigger.
 *
 * proc.fds and proc.threads come from /proc: counting /proc/self/fd and
 * /proc/self/task through directory fds kept open costs ~6 + ~3 us here
 * (opening them each time, as probes.c does, ~15 + ~22 us).  Read before
 * and after every input that is 12 us per input, 40x a trivial step's
 * cost.  So by default (proc_every 0) they are read around every input
 * only while that costs at most 10% of the step (an EWMA of the measured
 * step time); otherwise once after every Nth input (N from the same 10%
 * budget, at most 64), and a rise since the previous such read replays
 * that window's inputs from the ring, once each, to find the one that
 * rises; it then goes through confirmation like any trigger.
 * Confirmations also judge fds and threads whatever triggered them (an fd
 * opened with fopen, a thread's TLS, first show up as heap growth).
 *
 * Confirmation: the input is replayed `reps` times, the metrics read after
 * each repetition (goroutines and threads once their count stops moving),
 * and a metric's series y[0..reps] confirms a leak iff all of
 *   1. Mann-Kendall one-sided p < alpha (an upward trend);
 *   2. Theil-Sen slope > 0 (growth per repetition);
 *   3. y[reps] - y[0] >= 1 unit (goroutines, fds, threads, allocs),
 *      >= reps bytes (heap.live_bytes: 1 B per repetition on average),
 *      >= go_heap_min_per_rep * reps (Go heap);
 *   4. it scales: both halves of the replays grow (the Go heap: each by at
 *      least half its share of 3.), and the second half by at least a
 *      quarter of the first.
 * Lazy one-time initialisation and a cache warming on the input's key grew
 * on the triggering call and never again (flat: 1 fails); a pool or buffer
 * that fills up within the replays grows in the first half only (4 fails).
 * When a metric grew by the minimum but did not confirm (a leak every 10th
 * call gives one or two steps in 16 replays, and Theil-Sen's median of a
 * lone step is 0), the replays go on to 32, then 64 before deciding.
 * Before judging, goroutines are read again after a settle and threads
 * after lh_probes_quiesce, and the lower reading is kept as the last value:
 * goroutines that were only slow to exit never count.
 *
 * Throughput guards: an (input hash, metric) whose confirmation failed is
 * remembered (4096 entries, 4-way sets) and not confirmed again; after k
 * consecutive failures on a metric only 1 in 2^k of its triggers is
 * confirmed (k <= 10), reset by a new leak on it.  A known leak found
 * again counts as a failure there: re-confirming it is wasted work.
 *
 * Dedup: signature = metric, plus " @ site" when a site is known.  For
 * go.goroutines the site comes from goroutine profiles taken before the
 * replays and after the final settle: the stack whose count grew most, its
 * top non-runtime frame.  For heap.live_bytes/allocs, every allocation's
 * stack is recorded during the replays (heapsites.c, then put back as it
 * was): the site whose live bytes grew most, when it holds at least half
 * the growth ("func file:line", plus "(inlined into ...)").  So two C heap
 * leaks at two sites are two findings.  A metric reported without a site
 * (fds, threads, the Go heap, a heap leak spread over many sites) has its
 * later triggers not replayed (counted as duplicates).
 * One confirmation judges several metrics; the strongest that confirmed
 * (goroutines, fds, threads, heap bytes, heap allocs, Go heap) names the
 * finding and the weaker ones are the same leak seen elsewhere (the FILE
 * behind a leaked fd, a blocked thread's TLS, a goroutine's Go heap): when
 * the strongest is already known, the input is a duplicate, so one leak
 * is reported once.  An input that only grows a weaker metric is a new
 * finding on it.
 *
 * Distinct-input replay.  A map keyed by request content that is never
 * pruned grows on the first sight of a key and never again for it: the
 * replays above see it flat.  So when a trigger rose on the C heap and the
 * same-input replays confirmed nothing, the oracle steps distinct variants
 * of the input -- the same bytes with a counter in the last few -- and
 * reads the heap every DISTINCT_EVERY (128) variants: 4096 variants (32
 * readings), judged as the `run` detector's stable invariant judges a
 * workload (detector.c: Mann-Kendall, Theil-Sen CI and a rising floor over
 * the last half of the readings, slack 1 B, or 1/16 block, per variant).
 * When that grows, the run is extended to 4x as many variants (16,384, 128
 * readings) and must fail the same test again over its last half, with
 * the last quarter growing at least half as much as the first.  A cache
 * that fills up and plateaus -- an LRU of 256, or of a few thousand --
 * is flat over the last half and is rejected; one that holds more than
 * ~14,000 entries looks like a leak within this run (it is reported as
 * one).  C heap sites are recorded over the variants as for a
 * confirmation; the signature says "per distinct input" (a key that only
 * leaks per distinct input is a different finding from one that leaks per
 * call at the same site).  Variants (see variant_layout): the counter
 * overwrites the last 3 or 4 bytes when at least 4 bytes and the first
 * half of the input stay as they were, so gates on a magic prefix (up to 4
 * bytes, or anything in the first half) and on the length still pass;
 * shorter inputs (< 7 bytes) get 4 counter bytes appended instead (their
 * prefix kept, the length not).  Counter digits are printable and never
 * NUL (a key read as a C string keeps all of them).  The counter starts at
 * a hash of the input: the variants of an input are the same in every
 * process, so `repro` in a fresh worker replays exactly what the fuzzer or
 * the minimizer judged (a counter running on across runs made a minimized
 * "KEE" leak in the minimizer -- its appended counter had reached "P..."
 * -- and not in repro), while two inputs that share their kept bytes
 * mostly get disjoint variants.  A distinct run costs
 * 4096 steps (16,384 when it grows), so it is subject to the same
 * known-clean cache and backoff as the replays it follows.  The Go heap
 * needs a settle (a forced GC) per reading, so it is not judged on every
 * trigger but after a culprit search (below).
 *
 * Expensive check, every expensive_every inputs when the Go heap is
 * available: settle, read it, and when it is more than go_heap_trigger
 * above the lowest reading since the last search, search the ring: distinct
 * inputs, most recent first, in batches of 16, each input replayed `reps`
 * times and the batch judged by the settled heap's growth (one settle per
 * batch, ~4 ms).  A batch that grew by go_heap_min_per_rep * reps is split
 * in halves until one input is left, which must then grow again in a
 * second run of `reps` replays with a settle after each, judged as above
 * (with every other metric: a leaked goroutine holds Go heap too).  The
 * members of a batch that did not grow are known clean.  Three known leaks
 * found in one search end it (they explain the growth), and the baseline
 * is taken again after a search.
 *
 * Go heap per distinct input.  When the search above found nothing (no
 * input grows the Go heap again, no known leak explains it), the growth is
 * likely first-sight keys: the ring's distinct inputs are screened the
 * same way with GO_SCREEN_VARIANTS fresh variants each instead of
 * replays (one settle per batch of 16), a batch that grew is split, and
 * the one input left gets a Go distinct run (go_distinct_run: 32 settled
 * readings over 16,384 variants, judge_distinct's final test on the
 * series' running floor, the last quarter growing by itself).  At most
 * GO_DISTINCT_MAX_RUNS runs per search; screened-clean and judged-clean
 * inputs go to the known-clean cache under their own key.
 *
 * Everything the oracle keeps comes from lh_raw_*; the detector's scratch
 * too (lh_oracle_new points it there).
 */
#include "oracle.h"

#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

#include "detector.h"
#include "diag.h"
#include "goprofile.h"
#include "interpose.h"
#include "clock.h"

/* Watched metrics, in the order a finding prefers them (strongest
 * evidence first: a goroutine names its stack, an fd is never noise). */
enum {
    W_GOROUTINES,
    W_FDS,
    W_THREADS,
    W_HEAP_BYTES,
    W_HEAP_ALLOCS,
    W_GO_HEAP,
    W_COUNT
};

#define BIT(w) (1u << (w))
#define PROC_BITS (BIT(W_FDS) | BIT(W_THREADS))
#define HEAP_BITS (BIT(W_HEAP_BYTES) | BIT(W_HEAP_ALLOCS))

static const int w_index[W_COUNT] = {
    [W_GOROUTINES] = LH_M_GO_GOROUTINES,
    [W_FDS] = LH_M_PROC_FDS,
    [W_THREADS] = LH_M_PROC_THREADS,
    [W_HEAP_BYTES] = LH_M_HEAP_LIVE_BYTES,
    [W_HEAP_ALLOCS] = LH_M_HEAP_LIVE_ALLOCS,
    [W_GO_HEAP] = LH_M_GO_HEAP_LIVE_BYTES,
};

#define DEF_REPS 16
#define MIN_REPS 8              /* below, each half is too short to judge */
#define DEF_EXPENSIVE_EVERY 1000
#define DEF_ALPHA 0.01
#define DEF_GO_HEAP_TRIGGER (256.0 * 1024)
#define DEF_GO_HEAP_MIN_PER_REP 64.0
#define EXTEND_REPS 64          /* inconclusive growth: replay up to this */
#define PERSIST_NS 100000       /* re-read window for a goroutine/thread rise */
#define QUIET_NS 1000000        /* per replay: wait for counts to stop moving */
#define PROC_MAX_EVERY 512
#define PROC_SHARE 0.1          /* proc reads may cost this share of a step */
#define MAX_BACKOFF 10          /* confirm 1 in 2^10 triggers at most */
#define FAILED_SETS 1024
#define FAILED_WAYS 4
#define SEARCH_BATCH 16         /* culprit search: inputs per settled batch */
#define SEARCH_MAX_DUPS 3       /* known leaks found before a search gives up:
                                 * they explain the growth */
#define HEAP_SITE_SHARE 0.5     /* a C heap site must hold this share of the
                                 * growth to be named */
#define DISTINCT_EVERY 128      /* distinct variants between two readings */
#define DISTINCT_FIRST 4096     /* variants in a distinct run ... */
#define DISTINCT_EXTEND 4       /* ... times this when it grew */
#define DISTINCT_SAMPLES (DISTINCT_FIRST * DISTINCT_EXTEND / DISTINCT_EVERY)
#define DISTINCT_ALPHA 0.001    /* the detector's default: thousands of
                                 * clean triggers must never confirm */
#define GO_DISTINCT_EVERY 512   /* Go heap: variants between two settled
                                 * readings ... */
#define GO_DISTINCT_VARIANTS 16384 /* ... in one run: 32 readings, 32
                                 * forced GCs */
#define GO_SCREEN_VARIANTS 16   /* Go screening: variants per candidate */
#define GO_DISTINCT_MAX_RUNS 4  /* full Go distinct runs per search */
#define GO_DISTINCT_KEY W_COUNT /* known-clean key: Go heap per distinct
                                 * input */
#define VARIANT_KEEP 4          /* leading bytes a variant never changes */
#define VARIANT_DIGITS 4        /* counter bytes (base 64: 16.7M variants) */

_Static_assert(GO_DISTINCT_VARIANTS / GO_DISTINCT_EVERY <= DISTINCT_SAMPLES,
               "a Go distinct series must fit the distinct series");
_Static_assert(DISTINCT_SAMPLES <= LH_ORACLE_MAX_REPS,
               "a distinct series must fit a finding's series");

enum { J_NO, J_MAYBE, J_YES };

typedef struct verdict {
    int v;                      /* J_NO, J_MAYBE (grew, not convincingly),
                                 * J_YES */
    double slope, p;
} verdict;

typedef struct ring_slot {
    uint8_t *data;
    size_t size, cap;
} ring_slot;

struct lh_oracle {
    const lh_probes *probes;
    lh_oracle_config cfg;
    lh_oracle_step_fn step;
    lh_oracle_settle_fn settle;
    void *ud;
    unsigned avail;             /* watched metrics the target provides */

    /* proc.fds / proc.threads */
    int fd_dir, task_dir;       /* /proc/self/fd and /task, kept open */
    pid_t dirs_pid;             /* the process they were opened in */
    double proc_cost_ns;        /* one read of both */
    double step_ns;             /* EWMA of the step's duration */
    size_t proc_window;         /* inputs since the last proc sample */
    double proc_last[W_COUNT];  /* that sample (W_FDS, W_THREADS) */
    int proc_have;              /* proc_last is a valid baseline */
    int proc_every_now;

    /* recent inputs, for culprit searches */
    ring_slot *ring;
    size_t ring_cap, ring_len, ring_head;
    size_t *cand;               /* search scratch: ring positions */
    uint64_t *cand_hash;

    /* Go heap check */
    uint64_t since_expensive;
    double go_base;
    int go_have_base;

    /* backoff and known-clean inputs */
    unsigned fails[W_COUNT];
    uint64_t tick[W_COUNT];
    uint64_t failed[FAILED_SETS][FAILED_WAYS];
    uint8_t failed_next[FAILED_SETS];

    /* reported signatures */
    char **sigs;
    size_t nsigs, sigcap;

    /* the last confirmation */
    double x[LH_ORACLE_MAX_REPS + 1];
    double series[W_COUNT][LH_ORACLE_MAX_REPS + 1];
    int nseries;
    verdict res[W_COUNT];
    char *prof[2];              /* goroutine profiles: before, after */
    size_t prof_len[2], prof_cap[2];
    int prof_ok;
    lh_heapsnap *heap_snap[2];  /* C heap sites: before, after */
    int heap_rec;               /* recording for this confirmation */
    int heap_was_on;            /* ... and it was on before, at rate */
    size_t heap_prev_rate;

    /* the last distinct-input run */
    uint8_t *variant;           /* the input with its counter */
    size_t variant_cap;
    uint64_t variant_seq;       /* the next counter value */
    uint64_t screen_round;      /* Go screening: fresh keys each time */
    int devery;                 /* variants between two readings */
    char dsite[160 + 256 + 64]; /* Go heap site of the last Go run */
    double dx[DISTINCT_SAMPLES + 1];            /* variants at reading i */
    double dseries[W_COUNT][DISTINCT_SAMPLES + 1];
    int dn;
    verdict dres[W_COUNT];

    uint8_t *found;             /* the finding's input */
    size_t found_cap;
    double last_delta[3];
    lh_oracle_stats stats;
};

/* ---- small helpers ------------------------------------------------------ */

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

/* Eight bytes at a time: only run on triggers and searches, but an input
 * may be large. */
static uint64_t hash_input(const uint8_t *d, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, d + i, 8);
        h = mix64(h ^ w);
    }
    uint64_t w = 0;
    if (n > i)
        memcpy(&w, d + i, n - i);
    h = mix64(h ^ w ^ 0xff);
    return h ? h : 1;
}

static const char *metric_name(const lh_oracle *o, int w)
{
    return o->probes->metrics[w_index[w]].name;
}

static void do_settle(lh_oracle *o)
{
    if (o->settle)
        o->settle(o->ud);
    else
        lh_probes_settle(o->probes);
}

/* ---- reading the metrics ------------------------------------------------ */

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Entries of a kept-open /proc directory, -1 on error.  Stack buffer only:
 * it runs in the middle of measurements. */
static long count_entries(int fd)
{
    if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0)
        return -1;
    char buf[4096] __attribute__((aligned(8)));
    long count = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n < 0)
            return -1;
        if (n == 0)
            return count;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            if (d->d_name[0] != '.')
                count++;
            off += d->d_reclen;
        }
    }
}

/* The kept directory fds are open fds like any other, so the counts equal
 * lh_probes_read's (which opens and discounts its own). */
static void open_proc_dirs(lh_oracle *o)
{
    if (o->fd_dir >= 0)
        close(o->fd_dir);
    if (o->task_dir >= 0)
        close(o->task_dir);
    o->fd_dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    o->task_dir = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    o->dirs_pid = getpid();
}

/* A fork server (AFL++) forks after the oracle was made: a directory fd
 * opened in the parent would keep counting the parent.  fork() runs this
 * in the child; the next read reopens. */
static volatile int forked;

static void after_fork_in_child(void)
{
    forked = 1;
}

static double read_one(lh_oracle *o, int w)
{
    long n;
    if (forked && (w == W_FDS || w == W_THREADS) && o->fd_dir >= 0 &&
        o->dirs_pid != getpid())
        open_proc_dirs(o);
    switch (w) {
    case W_FDS:
        if ((n = count_entries(o->fd_dir)) >= 0)
            return (double)n;
        break;
    case W_THREADS:
        if ((n = count_entries(o->task_dir)) >= 0)
            return (double)n;
        break;
    default:
        break;
    }
    return lh_probes_read(o->probes, w_index[w]);
}

/* Heap first: nothing after it may allocate, but nothing should run
 * between it and the step either. */
static void read_metrics(lh_oracle *o, unsigned mask, double *v)
{
    if (mask & HEAP_BITS) {
        lh_heap_stats hs;
        lh_heap_read(&hs);
        v[W_HEAP_BYTES] = (double)hs.live_bytes;
        v[W_HEAP_ALLOCS] = (double)hs.live_allocs;
    }
    for (int w = W_GOROUTINES; w <= W_THREADS; w++)
        if (mask & BIT(w))
            v[w] = read_one(o, w);
    if (mask & BIT(W_GO_HEAP))
        v[W_GO_HEAP] = lh_probes_read(o->probes, LH_M_GO_HEAP_LIVE_BYTES);
}

/* A goroutine or thread that finished its work may still be counted for a
 * moment: re-read for up to PERSIST_NS and keep only a rise that stays. */
static double persist(lh_oracle *o, int w, double before, double after)
{
    uint64_t t0 = lh_now_ns();
    /* The last read is always taken after the window: a thread preempted
     * in here must not cut it short. */
    for (int done = 0; after > before && !done;) {
        done = lh_now_ns() - t0 >= PERSIST_NS;
        sched_yield();
        after = read_one(o, w);
    }
    return after;
}

/* During replays: read until the count stops moving (three equal reads),
 * bounded by QUIET_NS.  Stragglers are caught by the settle at the end. */
static double quiet(lh_oracle *o, int w)
{
    double last = read_one(o, w);
    int same = 0;
    uint64_t t0 = lh_now_ns();
    while (same < 2 && lh_now_ns() - t0 < QUIET_NS) {
        sched_yield();
        double v = read_one(o, w);
        if (v == last) {
            same++;
        } else {
            same = 0;
            last = v;
        }
    }
    return last;
}

static void read_point(lh_oracle *o, unsigned mask, double *v)
{
    read_metrics(o, mask & ~(BIT(W_GOROUTINES) | BIT(W_THREADS)), v);
    if (mask & BIT(W_GOROUTINES))
        v[W_GOROUTINES] = quiet(o, W_GOROUTINES);
    if (mask & BIT(W_THREADS))
        v[W_THREADS] = quiet(o, W_THREADS);
}

/* ---- ring of recent inputs ---------------------------------------------- */

static void ring_push(lh_oracle *o, const uint8_t *data, size_t size)
{
    ring_slot *s = &o->ring[o->ring_head];
    if (size > s->cap) {
        size_t cap = 64;
        while (cap < size)
            cap *= 2;
        uint8_t *n = lh_raw_realloc(s->data, cap);
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
    o->ring_head = (o->ring_head + 1) % o->ring_cap;
    if (o->ring_len < o->ring_cap)
        o->ring_len++;
}

/* The i-th most recent input (0: the latest). */
static const ring_slot *ring_at(const lh_oracle *o, size_t i)
{
    return &o->ring[(o->ring_head + o->ring_cap - 1 - i) % o->ring_cap];
}

/* ---- known-clean inputs, backoff, signatures ---------------------------- */

static uint64_t failed_key(uint64_t h, int w)
{
    uint64_t k = mix64(h ^ ((uint64_t)(w + 1) * 0x9e3779b97f4a7c15ull));
    return k ? k : 1;
}

static int failed_has(const lh_oracle *o, uint64_t h, int w)
{
    uint64_t k = failed_key(h, w);
    const uint64_t *set = o->failed[k % FAILED_SETS];
    for (int i = 0; i < FAILED_WAYS; i++)
        if (set[i] == k)
            return 1;
    return 0;
}

static void failed_put(lh_oracle *o, uint64_t h, int w)
{
    if (failed_has(o, h, w))
        return;
    uint64_t k = failed_key(h, w);
    size_t s = k % FAILED_SETS;
    o->failed[s][o->failed_next[s]++ % FAILED_WAYS] = k;
}

/* After k consecutive failures, 1 in 2^k triggers gets through: the
 * counter restarts at 1 on each failure, so the next 2^k - 1 are skipped. */
static int gate_pass(lh_oracle *o, int w)
{
    if (o->fails[w] == 0)
        return 1;
    return o->tick[w]++ % (1ull << o->fails[w]) == 0;
}

static void backoff_fail(lh_oracle *o, int w)
{
    if (o->fails[w] < MAX_BACKOFF)
        o->fails[w]++;
    o->tick[w] = 1;
}

static void backoff_reset(lh_oracle *o, int w)
{
    o->fails[w] = 0;
    o->tick[w] = 0;
}

/* The signature names functions and files but not line numbers or code
 * offsets, so an edit that only moves code keeps a known leak known (and
 * `nightly` does not file it again).  A heap leak is one leak whether its
 * bytes or its blocks confirmed it: both sign as heap.live_bytes, also
 * across processes (the known signatures a restarted engine loads). */
static void make_sig(const lh_oracle *o, int w, int distinct,
                     const char *site, char *buf, size_t len)
{
    if (w == W_HEAP_ALLOCS)
        w = W_HEAP_BYTES;
    size_t n = (size_t)snprintf(buf, len, "%s%s", metric_name(o, w),
                                distinct ? " per distinct input" : "");
    if (!*site || n + 4 >= len)
        return;
    n += (size_t)snprintf(buf + n, len - n, " @ ");
    for (const char *p = site; *p && n + 1 < len; p++) {
        if (*p == ':' && p[1] >= '0' && p[1] <= '9') {
            while (p[1] >= '0' && p[1] <= '9')
                p++;
            continue;
        }
        if (p[0] == '+' && p[1] == '0' && p[2] == 'x') {
            p += 2;
            while (strchr("0123456789abcdefABCDEF", p[1]) && p[1])
                p++;
            continue;
        }
        buf[n++] = *p;
    }
    buf[n] = '\0';
}

static int sig_known(const lh_oracle *o, const char *sig)
{
    for (size_t i = 0; i < o->nsigs; i++)
        if (strcmp(o->sigs[i], sig) == 0)
            return 1;
    return 0;
}

/* Reported without a site: every later finding on it is a duplicate. */
static int metric_known(const lh_oracle *o, int w)
{
    char sig[128];
    make_sig(o, w, 0, "", sig, sizeof sig);
    return sig_known(o, sig);
}

static void sig_add(lh_oracle *o, const char *sig)
{
    if (sig_known(o, sig))
        return;
    if (o->nsigs == o->sigcap) {
        size_t cap = o->sigcap ? o->sigcap * 2 : 16;
        char **n = lh_raw_realloc(o->sigs, cap * sizeof *n);
        if (!n)
            return;
        o->sigs = n;
        o->sigcap = cap;
    }
    char *s = lh_raw_strdup(sig);
    if (s)
        o->sigs[o->nsigs++] = s;
}

/* ---- goroutine sites ---------------------------------------------------- */

static int capture_profile(lh_oracle *o, int which)
{
    const lh_target *t = o->probes->target;
    if (!t || !t->has_go || !t->go.goroutine_profile)
        return -1;
    for (int tries = 0; tries < 4; tries++) {
        int64_t need = t->go.goroutine_profile(o->prof[which],
                                               (int64_t)o->prof_cap[which]);
        if (need < 0)
            return -1;
        if ((size_t)need < o->prof_cap[which]) {
            o->prof_len[which] = (size_t)need;
            return 0;
        }
        /* Room for goroutines started between the two calls. */
        size_t cap = (size_t)need + (size_t)need / 4 + 4096;
        char *n = lh_raw_realloc(o->prof[which], cap);
        if (!n)
            return -1;
        o->prof[which] = n;
        o->prof_cap[which] = cap;
    }
    return -1;
}

/* The site of a confirmed goroutine leak: the stack that grew most between
 * the profile taken before the replays and one taken now (after the final
 * settle).  "" when either profile is missing. */
static void goroutine_site(lh_oracle *o, char *site, size_t len)
{
    site[0] = '\0';
    if (!o->prof_ok || capture_profile(o, 1) < 0)
        return;
    lh_goprofile before, after;
    if (lh_goprofile_parse(&before, o->prof[0], o->prof_len[0]) < 0)
        return;
    if (lh_goprofile_parse(&after, o->prof[1], o->prof_len[1]) == 0) {
        lh_gogroup_delta *d;
        if (lh_goprofile_diff(&before, &after, &d) > 0)
            lh_gogroup_site(d[0].group, site, len);
        lh_raw_free(d);
        lh_goprofile_free(&after);
    }
    lh_goprofile_free(&before);
}

/* ---- C heap sites ------------------------------------------------------- */

/*
 * While a confirmation judges the C heap, every allocation is recorded with
 * its stack (heapsites.c at rate 0), between snapshots taken before the
 * first reading and after the last.  Outside confirmations recording is
 * as it was: when nobody had started it, it is stopped again, so the
 * interposer runs without a hook and the fuzzing hot path costs what it
 * did.  Replays are a few dozen steps, so recording everything is cheap
 * there, and exact: the site's bytes compare with the measured growth.
 */
static void heap_sites_begin(lh_oracle *o, unsigned judge)
{
    for (int k = 0; k < 2; k++) {
        lh_heapsites_free(o->heap_snap[k]);
        o->heap_snap[k] = NULL;
    }
    o->heap_rec = (judge & HEAP_BITS) != 0;
    if (!o->heap_rec)
        return;
    o->heap_was_on = lh_heapsites_recording(&o->heap_prev_rate);
    lh_heapsites_start(0);
    o->heap_snap[0] = lh_heapsites_snapshot();
}

static void heap_sites_end(lh_oracle *o)
{
    if (!o->heap_rec)
        return;
    o->heap_rec = 0;
    o->heap_snap[1] = lh_heapsites_snapshot();
    if (o->heap_was_on)
        lh_heapsites_start(o->heap_prev_rate);
    else
        lh_heapsites_stop();
}

/* "dir/file.c:12" -> "file.c:12", as goroutine sites name files. */
static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* "func file:line", or the func alone when there is no location (no
 * symbols: both are lib.so+0x...); then " (inlined into G file:line)"
 * when the compiler inlined it, since a static helper shared by two ops
 * (record.c's parse) says little on its own. */
static void format_heap_site(const lh_site *st, char *site, size_t len)
{
    const char *loc = base_name(st->location);
    int llen = (int)strlen(loc);
    if (llen > 2 && strcmp(loc + llen - 2, ":?") == 0)
        llen -= 2;              /* no line: the file alone, as for Go */
    int n;
    if (!llen || strcmp(st->location, st->func) == 0)
        n = snprintf(site, len, "%s", st->func);
    else
        n = snprintf(site, len, "%s %.*s", st->func, llen, loc);
    static const char inl[] = "inlined into ";
    if (n < 0 || (size_t)n >= len ||
        strncmp(st->detail, inl, sizeof inl - 1) != 0)
        return;
    /* detail is "inlined into G (path:line)"; C++ names hold parentheses,
     * so the location is the last pair. */
    const char *g = st->detail + sizeof inl - 1;
    const char *paren = strrchr(g, '(');
    if (!paren || paren == g || paren[-1] != ' ')
        return;
    int glen = (int)(paren - 1 - g);
    const char *gloc = base_name(paren + 1);
    const char *close = strrchr(gloc, ')');
    llen = close ? (int)(close - gloc) : (int)strlen(gloc);
    if (llen > 2 && strncmp(gloc + llen - 2, ":?", 2) == 0)
        llen -= 2;
    else if (llen == 1 && *gloc == '?')
        llen = 0;
    snprintf(site + n, len - (size_t)n, " (inlined into %.*s%s%.*s)", glen,
             g, llen ? " " : "", llen, gloc);
}

/* The site of a confirmed C heap leak (w: which heap metric, growth: its
 * growth over the replays): the allocation site whose live bytes grew most
 * over the replays, when it holds at least HEAP_SITE_SHARE of the growth.  Less, and it
 * is not the culprit but one of several, or the growth happened where
 * recording did not see it (another thread): "". */
static void heap_site(lh_oracle *o, int w, double growth, char *site,
                      size_t len)
{
    site[0] = '\0';
    if (!o->heap_snap[0] || !o->heap_snap[1])
        return;
    lh_site *top = lh_raw_malloc(sizeof *top);     /* ~5 KiB */
    if (!top)
        return;
    if (lh_heapsites_diff(o->heap_snap[0], o->heap_snap[1], top, 1) == 1) {
        double held = w == W_HEAP_BYTES ? top->bytes : top->count;
        if (growth > 0.0 && held >= HEAP_SITE_SHARE * growth)
            format_heap_site(top, site, len);
    }
    lh_raw_free(top);
}

/* ---- confirmation ------------------------------------------------------- */

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
    } else if (w == W_GO_HEAP) {
        min_total = o->cfg.go_heap_min_per_rep * reps;
        min_half = o->cfg.go_heap_min_per_rep * h / 2.0;
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
    if (judge & BIT(W_GOROUTINES)) {
        if (!(judge & BIT(W_GO_HEAP)))      /* else it just settled */
            do_settle(o);
        double g = read_one(o, W_GOROUTINES);
        double *last = &o->series[W_GOROUTINES][n - 1];
        if (g < *last)
            *last = g;
    }
    if ((judge & BIT(W_THREADS)) &&
        o->series[W_THREADS][n - 1] > o->series[W_THREADS][0]) {
        lh_probes_quiesce(o->probes);
        double t = read_one(o, W_THREADS);
        double *last = &o->series[W_THREADS][n - 1];
        if (t < *last)
            *last = t;
    }
}

/* Replay number n of the input and record the judged metrics after it
 * (the Go heap after a settle).  -1 when the step failed. */
static int replay_once(lh_oracle *o, const uint8_t *data, size_t size,
                       unsigned judge, int n)
{
    double v[W_COUNT] = { 0 };      /* metrics not judged stay 0 */
    if (o->step(o->ud, data, size) < 0)
        return -1;
    if (judge & BIT(W_GO_HEAP))
        do_settle(o);
    read_point(o, judge, v);
    for (int w = 0; w < W_COUNT; w++)
        o->series[w][n] = v[w];
    return 0;
}

/*
 * A bounded buffer that is still filling during the replays (a ring of the
 * last N requests, a pool growing to its cap) grows like a leak until it
 * is full.  So a series that confirmed must keep growing over four times
 * as many repetitions, the last third at least half as fast as the first.
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
        if (replay_once(o, data, size, judge, n) < 0) {
            *np = o->nseries = n;
            return -1;
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
        do_settle(o);
    if (judge & BIT(W_GO_HEAP)) {
        /* The first reading must be as settled as the later ones, which
         * each follow a settle: sync.Pool victim caches and objects freed
         * by finalizers need more than one GC cycle to go.  Settle until
         * the heap stops shrinking (bounded). */
        double prev = read_one(o, W_GO_HEAP);
        for (int i = 0; i < 4; i++) {
            do_settle(o);
            double now = read_one(o, W_GO_HEAP);
            if (!(now < prev))
                break;
            prev = now;
        }
    }
    o->prof_ok = (judge & BIT(W_GOROUTINES)) && capture_profile(o, 0) == 0;
    read_point(o, judge, v);
    for (int w = 0; w < W_COUNT; w++)
        o->series[w][0] = v[w];

    int n = 1, target = reps;
    for (;;) {
        for (; n <= target; n++) {
            if (replay_once(o, data, size, judge, n) < 0) {
                o->nseries = n;
                return -1;
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
    if (sustain(o, data, size, judge, &n) < 0)
        return -1;
    o->nseries = n;
    return 0;
}

/* Replay data, reading the metrics in `judge` before the first and after
 * each repetition, and judge each series into o->res.  Starts with reps,
 * doubles up to max_reps while a metric grew without confirming.  C heap
 * allocation sites are recorded along when the heap is judged.  Returns
 * 0, or -1 when a step failed. */
static int replay_judge(lh_oracle *o, const uint8_t *data, size_t size,
                        unsigned judge, int reps, int max_reps)
{
    /* Before the first settle: recording's own start-up (calibration,
     * once per process) must not land in a series. */
    heap_sites_begin(o, judge);
    int rc = replay_series(o, data, size, judge, reps, max_reps);
    heap_sites_end(o);
    return rc;
}

static void fill_finding(lh_oracle *o, lh_finding *out, int w, int distinct,
                         const char *site, const char *sig,
                         const uint8_t *data, size_t size)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    out->distinct = distinct;
    snprintf(out->metric, sizeof out->metric, "%s", metric_name(o, w));
    snprintf(out->unit, sizeof out->unit, "%s",
             o->probes->metrics[w_index[w]].unit);
    snprintf(out->signature, sizeof out->signature, "%s", sig);
    snprintf(out->site, sizeof out->site, "%s", site);
    const verdict *res = distinct ? o->dres : o->res;
    int n = distinct ? o->dn : o->nseries;
    out->growth_per_rep = res[w].slope;
    out->p_value = res[w].p;
    out->reps = n - 1;
    out->every = distinct ? o->devery : 1;
    out->variants = distinct ? (long)(n - 1) * o->devery : 0;
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

/* The strongest confirmed metric in o->res among `among` (heap.live_allocs
 * folds into heap.live_bytes), with its site and signature; -1 when none
 * confirmed.  The weaker ones confirmed with it are the same leak seen
 * through other metrics (a thread's TLS, the FILE behind an fd): when the
 * strongest is known, the input is a duplicate, whatever else grew. */
static int pick(lh_oracle *o, unsigned among, char *site, size_t sitelen,
                char *sig, size_t siglen)
{
    for (int w = 0; w < W_COUNT; w++) {
        if (!(among & BIT(w)) || o->res[w].v != J_YES)
            continue;
        site[0] = '\0';
        if (w == W_GOROUTINES)
            goroutine_site(o, site, sitelen);
        else if ((w == W_HEAP_BYTES || w == W_HEAP_ALLOCS) &&
                 o->nseries >= 2)
            heap_site(o, w, o->series[w][o->nseries - 1] - o->series[w][0],
                      site, sitelen);
        make_sig(o, w, 0, site, sig, siglen);
        return w;
    }
    return -1;
}

static unsigned confirmed_mask(const lh_oracle *o, unsigned among)
{
    unsigned yes = 0;
    for (int w = 0; w < W_COUNT; w++)
        if ((among & BIT(w)) && o->res[w].v == J_YES)
            yes |= BIT(w);
    return yes;
}

/* A confirmation found `chosen` (from pick; -1: nothing): record a new
 * signature (heap.live_allocs with heap.live_bytes) and fill *out.
 * Returns 1 when new, 0 when nothing or a duplicate. */
static int report(lh_oracle *o, int chosen, int distinct, const char *site,
                  const char *sig, const uint8_t *data, size_t size,
                  lh_finding *out)
{
    if (chosen < 0)
        return 0;
    o->stats.confirmed++;
    if (sig_known(o, sig)) {
        o->stats.duplicates++;
        return 0;
    }
    sig_add(o, sig);
    const verdict *res = distinct ? o->dres : o->res;
    if (chosen == W_HEAP_BYTES && res[W_HEAP_ALLOCS].v == J_YES) {
        /* The same leak counted in blocks, at the same site. */
        char alt[sizeof out->signature];
        make_sig(o, W_HEAP_ALLOCS, distinct, site, alt, sizeof alt);
        sig_add(o, alt);
    }
    backoff_reset(o, chosen);
    if (chosen == W_HEAP_BYTES)
        backoff_reset(o, W_HEAP_ALLOCS);
    fill_finding(o, out, chosen, distinct, site, sig, data, size);
    return 1;
}

/* ---- distinct-input replay --------------------------------------------- */

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

/* Write the next counter value into o->variant: printable, never NUL, the
 * last byte varying fastest (wrapping at 64^digits). */
static void next_variant(lh_oracle *o, size_t at, size_t digits)
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
        next_variant(o, at, digits);
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
 * seq; *at, *digits from variant_layout, *len the variants' length. */
static int variant_begin(lh_oracle *o, const uint8_t *data, size_t size,
                         uint64_t seq, size_t *at, size_t *digits,
                         size_t *len)
{
    variant_layout(size, at, digits);
    *len = *at + *digits;
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
 * every DISTINCT_EVERY, and judge them into o->dres (see the top of the
 * file).  Allocation sites are recorded along.  A variant the step fails
 * on ends the run unconfirmed: the variants are the oracle's inputs, and
 * the input it was given must not be blamed for them (the engine finds
 * such an input on its own). */
static void distinct_run(lh_oracle *o, const uint8_t *data, size_t size,
                         unsigned judge)
{
    memset(o->dres, 0, sizeof o->dres);
    o->dn = 0;
    judge &= o->avail & HEAP_BITS;
    if (!judge || o->cfg.distinct < 0)
        return;
    size_t at, digits, len;
    if (variant_begin(o, data, size, hash_input(data, size) >> 8, &at,
                      &digits, &len) < 0)
        return;
    distinct_x(o, DISTINCT_EVERY);
    o->stats.distinct_runs++;
    o->proc_have = 0;               /* the variants may move fds too */

    heap_sites_begin(o, judge);
    double v[W_COUNT] = { 0 };
    read_metrics(o, judge, v);
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
            read_metrics(o, judge, v);
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
    heap_sites_end(o);
}

static unsigned distinct_mask(const lh_oracle *o)
{
    unsigned yes = 0;
    for (int w = 0; w < W_COUNT; w++)
        if (o->dres[w].v == J_YES)
            yes |= BIT(w);
    return yes;
}

/* After distinct_run: heap.live_bytes, else heap.live_allocs, when it
 * confirmed; after go_distinct_run: the Go heap; with its site and
 * signature.  -1 when none did. */
static int pick_distinct(lh_oracle *o, char *site, size_t sitelen,
                         char *sig, size_t siglen)
{
    for (int w = W_HEAP_BYTES; w <= W_GO_HEAP; w++) {
        if (o->dres[w].v != J_YES)
            continue;
        const double *y = o->dseries[w];
        if (w == W_GO_HEAP)
            snprintf(site, sitelen, "%s", o->dsite);
        else
            heap_site(o, w, y[o->dn - 1] - y[0], site, sitelen);
        make_sig(o, w, 1, site, sig, siglen);
        return w;
    }
    return -1;
}

/* Confirm the metrics in trig for one input (from lh_oracle_run or a proc
 * window search), with the known-clean cache, backoff (when gated) and
 * dedup.  1: a new leak in *out; 0: none; -1: a step failed. */
static int on_trigger(lh_oracle *o, const uint8_t *data, size_t size,
                      unsigned trig, int gated, lh_finding *out)
{
    uint64_t h = hash_input(data, size);
    unsigned todo = 0, known = 0;
    for (int w = 0; w < W_COUNT; w++) {
        if (!(trig & BIT(w)))
            continue;
        if (metric_known(o, w))
            known |= BIT(w);
        else if (!failed_has(o, h, w) && (!gated || gate_pass(o, w)))
            todo |= BIT(w);
    }
    if (!todo) {
        if (known)
            o->stats.duplicates++;
        else
            o->stats.skipped++;
        return 0;
    }

    /* Judge fds and threads too (they may be read only every Nth input),
     * both heap metrics when one rose, and known metrics that rose: one
     * replay reads them all, and a known leak explains weaker growth. */
    unsigned judge = todo | known | (o->avail & PROC_BITS);
    if (todo & HEAP_BITS)
        judge |= o->avail & HEAP_BITS;
    int max_reps = o->cfg.reps > EXTEND_REPS ? o->cfg.reps : EXTEND_REPS;
    if (replay_judge(o, data, size, judge, o->cfg.reps, max_reps) < 0)
        return -1;

    char site[sizeof out->site], sig[sizeof out->signature];
    int chosen = pick(o, judge, site, sizeof site, sig, sizeof sig);
    int distinct = 0;
    unsigned yes = confirmed_mask(o, judge);
    if (chosen < 0 && (todo & HEAP_BITS)) {
        /* Flat on replay: maybe it grows once per distinct key. */
        distinct_run(o, data, size, judge);
        chosen = pick_distinct(o, site, sizeof site, sig, sizeof sig);
        distinct = chosen >= 0;
        yes = distinct_mask(o);
    }
    int found = report(o, chosen, distinct, site, sig, data, size, out);
    for (int w = 0; w < W_COUNT; w++) {
        if (!(todo & BIT(w)))
            continue;
        /* Not a leak, or one already known: either way confirming this
         * input on this metric again is wasted. */
        if (!found || !(yes & BIT(w))) {
            backoff_fail(o, w);
            failed_put(o, h, w);
        }
    }
    return found;
}

/* ---- sampled proc reads: search the window ------------------------------ */

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
        uint64_t h = hash_input(s->data, s->size);
        int dup = 0;
        for (size_t j = 0; j < nc && !dup; j++)
            dup = o->cand_hash[j] == h;
        int clean = 1;
        for (int w = 0; w <= GO_DISTINCT_KEY; w++)
            if ((mask & BIT(w)) && !failed_has(o, h, w))
                clean = 0;
        if (dup || clean)
            continue;
        o->cand[nc] = i;
        o->cand_hash[nc++] = h;
    }
    return nc;
}

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
        read_metrics(o, rose, b);
        if (o->step(o->ud, s->data, s->size) < 0)
            return -1;
        read_metrics(o, rose, a);
        unsigned up = 0;
        if ((rose & BIT(W_FDS)) && a[W_FDS] > b[W_FDS])
            up |= BIT(W_FDS);
        if ((rose & BIT(W_THREADS)) &&
            persist(o, W_THREADS, b[W_THREADS], a[W_THREADS]) >
                b[W_THREADS])
            up |= BIT(W_THREADS);
        if (!up)
            continue;
        int rc = on_trigger(o, s->data, s->size, up, 0, out);
        if (rc != 0)
            return rc;
    }
    return 0;
}

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
            v[W_THREADS] = persist(o, W_THREADS, o->proc_last[W_THREADS],
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

/* fds/threads rose over the last `window` inputs: gate, search, and take
 * the baseline again (the replays moved the counts). */
static int proc_search(lh_oracle *o, size_t window, unsigned rose,
                       lh_finding *out)
{
    o->stats.triggers++;
    unsigned todo = 0, known = 0;
    for (int w = W_FDS; w <= W_THREADS; w++) {
        if (!(rose & BIT(w)))
            continue;
        if (metric_known(o, w))
            known |= BIT(w);
        else if (gate_pass(o, w))
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
                backoff_fail(o, w);
    o->proc_have = 0;
    return rc;
}

/* ---- the expensive check: Go heap and culprit search -------------------- */

static double read_go_heap(lh_oracle *o)
{
    return lh_probes_read(o->probes, LH_M_GO_HEAP_LIVE_BYTES);
}

/* Replay candidates [at, at+k) `reps` times each; the settled Go heap's
 * growth since *level, which becomes the new level. */
static int batch(lh_oracle *o, size_t at, size_t k, double *level,
                 double *growth)
{
    for (size_t c = at; c < at + k; c++) {
        const ring_slot *s = ring_at(o, o->cand[c]);
        for (int r = 0; r < o->cfg.reps; r++)
            if (o->step(o->ud, s->data, s->size) < 0)
                return -1;
    }
    do_settle(o);
    double v = read_go_heap(o);
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
    if (replay_judge(o, s->data, s->size, judge, o->cfg.reps,
                     o->cfg.reps) < 0)
        return -1;
    *level = o->series[W_GO_HEAP][o->nseries - 1];
    char site[sizeof out->site], sig[sizeof out->signature];
    int chosen = o->res[W_GO_HEAP].v == J_YES
               ? pick(o, judge, site, sizeof site, sig, sizeof sig) : -1;
    int found = report(o, chosen, 0, site, sig, s->data, s->size, out);
    if (!found) {
        failed_put(o, o->cand_hash[c], W_GO_HEAP);
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
            failed_put(o, o->cand_hash[c], W_GO_HEAP);
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

/* ---- Go heap per distinct input ---------------------------------------- */

/* The Go heap site that grew most between two heap profiles (pprof's,
 * sampled: an estimate), when it holds HEAP_SITE_SHARE of the growth. */
static void go_heap_site(lh_oracle *o, const lh_gosnap *a,
                         const lh_gosnap *b, double growth)
{
    o->dsite[0] = '\0';
    if (!a || !b || growth <= 0.0)
        return;
    lh_site *top = lh_raw_malloc(sizeof *top);
    if (!top)
        return;
    if (lh_godiag_heap(a, b, top, 1) == 1 &&
        top->bytes >= HEAP_SITE_SHARE * growth)
        format_heap_site(top, o->dsite, sizeof o->dsite);
    lh_raw_free(top);
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
static void go_distinct_run(lh_oracle *o, const uint8_t *data, size_t size)
{
    memset(o->dres, 0, sizeof o->dres);
    o->dn = 0;
    o->dsite[0] = '\0';
    if (!(o->avail & BIT(W_GO_HEAP)) || o->cfg.distinct < 0)
        return;
    size_t at, digits, len;
    uint64_t seq = mix64(hash_input(data, size) ^ 0x60) >> 8;
    if (variant_begin(o, data, size, seq, &at, &digits, &len) < 0)
        return;
    distinct_x(o, GO_DISTINCT_EVERY);
    o->stats.distinct_runs++;
    o->proc_have = 0;

    double *y = o->dseries[W_GO_HEAP];
    do_settle(o);
    y[0] = read_go_heap(o);
    lh_gosnap *snap[2] = { lh_godiag_snapshot(o->probes->target), NULL };
    int n = 1, target = GO_DISTINCT_VARIANTS / GO_DISTINCT_EVERY;
    for (; n <= target; n++) {
        if (step_variants(o, at, digits, len, GO_DISTINCT_EVERY) < 0) {
            memset(o->dres, 0, sizeof o->dres);
            goto out;
        }
        do_settle(o);
        y[n] = read_go_heap(o);
    }
    o->dn = n;
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
    do_settle(o);
    snap[1] = lh_godiag_snapshot(o->probes->target);
    go_heap_site(o, snap[0], snap[1], y[n - 1] - y[0]);
out:
    lh_godiag_free(snap[0]);
    lh_godiag_free(snap[1]);
}

/* Screening: GO_SCREEN_VARIANTS fresh variants of each candidate in
 * [at, at+k), then one settle: the Go heap's growth since *level, which
 * becomes the new level.  Fresh: each screening round starts the counters
 * elsewhere, or a second look at an input would replay the keys of the
 * first and see nothing. */
static int screen_batch(lh_oracle *o, size_t at, size_t k, double *level,
                        double *growth)
{
    o->screen_round++;
    for (size_t c = at; c < at + k; c++) {
        const ring_slot *s = ring_at(o, o->cand[c]);
        size_t va, vd, len;
        uint64_t seq = mix64(o->cand_hash[c] ^ o->screen_round) >> 8;
        if (variant_begin(o, s->data, s->size, seq, &va, &vd, &len) < 0)
            return -1;
        for (int i = 0; i < GO_SCREEN_VARIANTS; i++) {
            next_variant(o, va, vd);
            if (o->step(o->ud, o->variant, len) < 0)
                break;          /* not this input's failure: next one */
        }
        o->stats.distinct_steps += GO_SCREEN_VARIANTS;
    }
    do_settle(o);
    double v = read_go_heap(o);
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
            failed_put(o, o->cand_hash[c], GO_DISTINCT_KEY);
        return 0;
    }
    if (k == 1) {
        const ring_slot *s = ring_at(o, o->cand[at]);
        (*runs)++;
        go_distinct_run(o, s->data, s->size);
        char site[sizeof out->site], sig[sizeof out->signature];
        int chosen = pick_distinct(o, site, sizeof site, sig, sizeof sig);
        int found = report(o, chosen, 1, site, sig, s->data, s->size, out);
        if (!found)
            failed_put(o, o->cand_hash[at], GO_DISTINCT_KEY);
        do_settle(o);
        *level = read_go_heap(o);
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
 * GCs; the backoff of expensive_check covers it all. */
static int go_distinct_search(lh_oracle *o, lh_finding *out)
{
    if (o->cfg.distinct < 0)
        return 0;
    size_t nc = candidates(o, o->ring_len, BIT(GO_DISTINCT_KEY));
    do_settle(o);
    double level = read_go_heap(o);
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
    do_settle(o);
    double level = read_go_heap(o);
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

static int expensive_check(lh_oracle *o, lh_finding *out)
{
    o->stats.expensive_checks++;
    do_settle(o);
    double h = read_go_heap(o);
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

    o->stats.triggers++;
    int rc = 0;
    if (metric_known(o, W_GO_HEAP)) {
        o->stats.duplicates++;
    } else if (!gate_pass(o, W_GO_HEAP)) {
        o->stats.skipped++;
    } else {
        rc = culprit_search(o, out);
        if (rc == 0)
            backoff_fail(o, W_GO_HEAP);
    }
    if (rc >= 0) {
        /* Whatever happened, this growth has been dealt with. */
        do_settle(o);
        o->go_base = read_go_heap(o);
    }
    return rc;
}

/* ---- API ---------------------------------------------------------------- */

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
    for (int w = 0; w < W_COUNT; w++)
        if ((size_t)w_index[w] < probes->n &&
            probes->metrics[w_index[w]].available)
            o->avail |= BIT(w);
    for (int i = 0; i <= LH_ORACLE_MAX_REPS; i++)
        o->x[i] = i;

    if (o->avail & PROC_BITS) {
        static int registered;
        if (!registered++)
            pthread_atfork(NULL, NULL, after_fork_in_child);
        open_proc_dirs(o);
        double best = INFINITY;
        for (int i = 0; i < 5; i++) {
            uint64_t t0 = lh_now_ns();
            read_one(o, W_FDS);
            read_one(o, W_THREADS);
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
    lh_raw_free(o->found);
    lh_raw_free(o->variant);
    lh_raw_free(o);
}

int lh_oracle_run(lh_oracle *o, const uint8_t *data, size_t size,
                  lh_finding *out)
{
    o->stats.inputs++;
    if (o->ring_cap)
        ring_push(o, data, size);

    /* Which proc read this input gets: around it (1), after it against the
     * last sample (2), none (0).  Sampled reads need a baseline first: taken
     * before this step after a start or a replay. */
    int proc = 0;
    if (o->avail & PROC_BITS) {
        o->proc_every_now = proc_interval(o);
        if (o->proc_every_now > 1 && !o->proc_have) {
            read_metrics(o, o->avail & PROC_BITS, o->proc_last);
            o->proc_have = 1;
            o->proc_window = 0;
        }
        o->proc_window++;
        proc = o->proc_every_now <= 1 ? 1
             : o->proc_window >= (size_t)o->proc_every_now ? 2 : 0;
    }
    unsigned fast = o->avail & (HEAP_BITS | BIT(W_GOROUTINES));
    unsigned around = fast | (proc == 1 ? o->avail & PROC_BITS : 0);
    unsigned after_mask = around | (proc == 2 ? o->avail & PROC_BITS : 0);

    double b[W_COUNT] = { 0 }, a[W_COUNT] = { 0 };
    read_metrics(o, around, b);
    uint64_t t0 = lh_now_ns();
    int rc = o->step(o->ud, data, size);
    double dt = (double)(lh_now_ns() - t0);
    read_metrics(o, after_mask, a);
    o->step_ns = o->step_ns > 0.0 ? o->step_ns + (dt - o->step_ns) / 16.0
                                  : dt;

    if (around & BIT(W_GOROUTINES))
        a[W_GOROUTINES] = persist(o, W_GOROUTINES, b[W_GOROUTINES],
                                  a[W_GOROUTINES]);
    if (around & BIT(W_THREADS))
        a[W_THREADS] = persist(o, W_THREADS, b[W_THREADS], a[W_THREADS]);
    unsigned rose = 0;
    for (int w = 0; w < W_COUNT; w++)
        if ((around & BIT(w)) && a[w] > b[w])
            rose |= BIT(w);
    o->last_delta[0] = a[W_HEAP_BYTES] - b[W_HEAP_BYTES];
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
    if (rose) {
        o->stats.triggers++;
        found = on_trigger(o, data, size, rose, 1, out);
    }
    if (found == 0 && proc_rose)
        found = proc_search(o, window, proc_rose, out);
    if (found == 0 && o->cfg.expensive_every > 0 &&
        (o->avail & BIT(W_GO_HEAP)) &&
        ++o->since_expensive >= (uint64_t)o->cfg.expensive_every) {
        o->since_expensive = 0;
        found = expensive_check(o, out);
    }
    return found;
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
    if (replay_judge(o, data, size, o->avail, reps, max_reps) < 0)
        return -1;
    char site[sizeof out->site], sig[sizeof out->signature];
    int w = pick(o, o->avail, site, sizeof site, sig, sizeof sig);
    int distinct = 0;
    if (w < 0 && (o->avail & HEAP_BITS)) {
        distinct_run(o, data, size, o->avail);
        w = pick_distinct(o, site, sizeof site, sig, sizeof sig);
        distinct = w >= 0;
    }
    if (w < 0 && (o->avail & BIT(W_GO_HEAP))) {
        go_distinct_run(o, data, size);
        w = pick_distinct(o, site, sizeof site, sig, sizeof sig);
        distinct = w >= 0;
    }
    if (w < 0)
        return 0;
    fill_finding(o, out, w, distinct, site, sig, data, size);
    return 1;
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
            *metric = metric_name(o, w);
            *y = o->series[w];
            return o->nseries;
        }
    }
    return -1;
}
