/*
 * oracle_impl.h - what the pieces of the oracle share: its state and the
 * functions one piece calls in another.  Not an interface: only
 * harness/fuzz/{oracle,measure,confirm,distinct,culprit,finding_site,
 * clean_sites,known}.c include it.  How the oracle works: docs/oracle.md.
 *
 * Everything the oracle keeps comes from lh_raw_*, the detector's scratch
 * too (lh_oracle_new points it there): judging must not show up as a leak.
 */
#ifndef LEAKHOUND_ORACLE_IMPL_H
#define LEAKHOUND_ORACLE_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"
#include "oracle.h"
#include "probes.h"

/* Watched metrics, in the order a finding prefers them (strongest
 * evidence first: a goroutine names its stack, an fd is never noise). */
enum {
    W_GOROUTINES,
    W_FDS,
    W_THREADS,
    W_HEAP_BYTES,
    W_HEAP_ALLOCS,
    W_GO_HEAP,
    W_MMAP,                     /* mmap.live_bytes: the target's mappings */
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
    [W_MMAP] = LH_M_MMAP_LIVE_BYTES,
};

#define FAILED_SETS 1024        /* known-clean cache: 4096 entries, */
#define FAILED_WAYS 4           /* 4-way sets */
#define DISTINCT_EVERY 128      /* distinct variants between two readings */
#define DISTINCT_FIRST 4096     /* variants in a distinct run ... */
#define DISTINCT_EXTEND 4       /* ... times this when it grew */
#define DISTINCT_SAMPLES (DISTINCT_FIRST * DISTINCT_EXTEND / DISTINCT_EVERY)
#define GO_DISTINCT_KEY W_COUNT /* known-clean key: Go heap per distinct
                                 * input */

_Static_assert(DISTINCT_SAMPLES <= LH_ORACLE_MAX_REPS,
               "a distinct series must fit a finding's series");

enum { J_NO, J_MAYBE, J_YES };

typedef struct verdict {
    int v;                      /* J_NO, J_MAYBE (grew, not convincingly),
                                 * J_YES */
    double slope, p;
} verdict;

#define TG_SITES 4              /* sites a trigger's growth is split into */

typedef struct clean_site {
    uint64_t key;               /* the allocation stack */
    int cls;                    /* log2 of the bytes one block grew by */
} clean_site;

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
    double drain_base;          /* goroutines before a confirmation */
    int drain_futile;           /* its wait saw none end: no more waits */
    int inflight;               /* goroutines ended in one: pace (confirm.c) */
    double go_floor;            /* fewest goroutines seen (measure.c) */

    /* backoff and known-clean inputs */
    unsigned fails[W_COUNT];
    uint64_t tick[W_COUNT];
    uint64_t failed[FAILED_SETS][FAILED_WAYS];
    uint8_t failed_next[FAILED_SETS];

    /* C heap growth known clean by site and size class (clean_sites.c) */
    int sites_on;               /* recording sites on the fast path */
    uint64_t sites_inputs;      /* inputs in the allocation-rate window */
    uint64_t sites_allocs;      /* total allocations at its start */
    lh_heapsnap *sites_base;    /* sites at the last look */
    struct {
        uint64_t key;
        double grew;            /* bytes */
        int cls, same_block;
    } tg[TG_SITES];             /* the last trigger's growth by site */
    int ntg;
    int sites_pending;          /* the trigger being confirmed was looked
                                 * up: learn from its verdict */
    clean_site *clean;
    size_t nclean, cleancap;

    /* reported signatures */
    char **sigs;
    size_t nsigs, sigcap;

    /* the last confirmation */
    double x[LH_ORACLE_MAX_REPS + 1];
    double series[W_COUNT][LH_ORACLE_MAX_REPS + 1];
    int nseries;
    int every;                  /* replays between two readings (paced) */
    unsigned lazy;              /* judged metrics read at checkpoints only
                                 * (confirm.c) ... */
    unsigned moved;             /* ... and those that moved at one */
    verdict res[W_COUNT];
    char *prof[2];              /* goroutine profiles: before, after */
    size_t prof_len[2], prof_cap[2];
    int prof_ok;
    int verifying;              /* in lh_oracle_confirm: a sustained heap
                                 * or mapped series gets the long run */
    unsigned bounded;           /* metrics the long run turned down */
    lh_heapsnap *heap_snap[2];  /* C heap sites: before, after */
    int heap_rec;               /* recording for this confirmation */
    int heap_was_on;            /* ... and it was on before, at rate */
    size_t heap_prev_rate;
    lh_mmapsnap *map_snap[2];   /* mapping sites: before, after */
    lh_fdsnap *fd_snap[2];      /* fds and where they were opened */
    lh_threadsnap *thr_snap[2]; /* threads and where they were created */
    lh_gosnap *go_snap[2];      /* Go heap profiles around replays that
                                 * judge the Go heap: before, after */
    int64_t go_rate_prev;       /* the sampling rate to put back; 0: none */

    /* the last distinct-input run */
    uint8_t *variant;           /* the input with its counter */
    size_t variant_cap;
    uint64_t variant_seq;       /* the next counter value */
    uint64_t screen_round;      /* Go screening: fresh keys each time */
    int devery;                 /* variants between two readings */
    size_t dat;                 /* where the run's counter went */
    char dsite[160 + 256 + 64]; /* Go heap site of the last Go run */
    double dx[DISTINCT_SAMPLES + 1];            /* variants at reading i */
    double dseries[W_COUNT][DISTINCT_SAMPLES + 1];
    int dn;
    verdict dres[W_COUNT];

    /* known leaks still leaking (known.c) */
    double rss0;                /* RSS when the oracle started */
    int known_leaking;          /* a known signature confirmed again */

    uint8_t *found;             /* the finding's input */
    size_t found_cap;
    double last_delta[3];
    lh_oracle_stats stats;
};

/* oracle.c: a trigger's way through confirmation, and findings */
int lh_or_on_trigger(lh_oracle *o, const uint8_t *data, size_t size,
                     unsigned trig, int gated, lh_finding *out);
void lh_or_fill_finding(lh_oracle *o, lh_finding *out, int w, int distinct,
                        const char *site, const char *sig,
                        const uint8_t *data, size_t size);

/* measure.c: reading the watched metrics */
const char *lh_or_metric_name(const lh_oracle *o, int w);
void lh_or_do_settle(lh_oracle *o);
void lh_or_proc_dirs_init(lh_oracle *o);
double lh_or_read_one(lh_oracle *o, int w);
void lh_or_read_metrics(lh_oracle *o, unsigned mask, double *v);
double lh_or_persist(lh_oracle *o, int w, double before, double after);
void lh_or_read_point(lh_oracle *o, unsigned mask, double *v);
double lh_or_read_go_heap(lh_oracle *o);
/* Wait (bounded) while goroutines above base end: in-flight ones. */
double lh_or_drain_goroutines(lh_oracle *o, double base);

/* confirm.c: same-input replays */
int lh_or_replay_judge(lh_oracle *o, const uint8_t *data, size_t size,
                       unsigned judge, int reps, int max_reps);
int lh_or_pick(lh_oracle *o, unsigned among, char *site, size_t sitelen,
               char *sig, size_t siglen);
unsigned lh_or_confirmed_mask(const lh_oracle *o, unsigned among);
int lh_or_given_back(lh_oracle *o, const uint8_t *data, size_t size,
                     int chosen, int distinct, const char *sig);

/* distinct.c: distinct-input runs (C heap, Go heap) */
int lh_or_variant_layouts(size_t size);
void lh_or_next_variant(lh_oracle *o, size_t at, size_t digits);
int lh_or_variant_begin(lh_oracle *o, const uint8_t *data, size_t size,
                        uint64_t seq, int layout, size_t *at,
                        size_t *digits, size_t *len);
void lh_or_distinct_run(lh_oracle *o, const uint8_t *data, size_t size,
                        unsigned judge);
unsigned lh_or_distinct_mask(const lh_oracle *o);
int lh_or_pick_distinct(lh_oracle *o, char *site, size_t sitelen,
                        char *sig, size_t siglen);
void lh_or_go_distinct_run(lh_oracle *o, const uint8_t *data, size_t size);

/* culprit.c: the ring of recent inputs and the searches over it */
void lh_or_ring_push(lh_oracle *o, const uint8_t *data, size_t size);
int lh_or_proc_search(lh_oracle *o, size_t window, unsigned rose,
                      lh_finding *out);
int lh_or_expensive_check(lh_oracle *o, lh_finding *out);

/* finding_site.c: where a confirmed leak grows */
int lh_or_capture_profile(lh_oracle *o, int which);
void lh_or_goroutine_site(lh_oracle *o, char *site, size_t len);
void lh_or_heap_sites_begin(lh_oracle *o, unsigned judge);
void lh_or_heap_sites_end(lh_oracle *o);
void lh_or_heap_site(lh_oracle *o, int w, double growth, char *site,
                     size_t len);
void lh_or_mmap_site(lh_oracle *o, double growth, char *site, size_t len);
/* The site of a confirmed fd or thread leak (w: W_FDS or W_THREADS). */
void lh_or_proc_site(lh_oracle *o, int w, double growth, char *site,
                     size_t len);
void lh_or_go_heap_site(const lh_gosnap *a, const lh_gosnap *b,
                        double growth, char *site, size_t len);
/* Go heap profiles around a confirmation's replays (o->go_snap), every
 * allocation recorded in between: before the first replay (settled), and
 * after the last when `confirmed`; the sampling rate is put back. */
void lh_or_go_snap_begin(lh_oracle *o);
void lh_or_go_snap_end(lh_oracle *o, int confirmed);

/* clean_sites.c: C heap growth known clean by site and size class */
void lh_or_sites_tick(lh_oracle *o);
int lh_or_sites_explain(lh_oracle *o, double growth);
int lh_or_sites_known_clean(lh_oracle *o, const uint8_t *data, size_t size,
                            double growth);
void lh_or_sites_learn(lh_oracle *o, int clean);
void lh_or_sites_free(lh_oracle *o);

/* known.c: known-clean inputs, backoff, signatures */
uint64_t lh_or_mix64(uint64_t h);
uint64_t lh_or_hash_input(const uint8_t *d, size_t n);
int lh_or_failed_has(const lh_oracle *o, uint64_t h, int w);
void lh_or_failed_put(lh_oracle *o, uint64_t h, int w);
int lh_or_gate_pass(lh_oracle *o, int w);
void lh_or_backoff_fail(lh_oracle *o, int w);
void lh_or_make_sig(const lh_oracle *o, int w, int distinct,
                    const char *site, char *buf, size_t len);
int lh_or_metric_known(const lh_oracle *o, int w);
int lh_or_report(lh_oracle *o, int chosen, int distinct, const char *site,
                 const char *sig, const uint8_t *data, size_t size,
                 lh_finding *out);
void lh_or_known_check(lh_oracle *o, int known);
int lh_or_sig_known(const lh_oracle *o, const char *sig);

#endif
