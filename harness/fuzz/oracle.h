/*
 * oracle.h - the leak oracle inside a fuzz loop.
 *
 * Around every input the oracle reads the cheap probes (heap.live_bytes,
 * heap.live_allocs, go.goroutines, proc.fds, proc.threads).  A positive
 * delta triggers confirmation: the same input is replayed `reps` times in
 * process, the metric read after each repetition, and the leak is confirmed
 * only when the metric grows with the repetitions (a Mann-Kendall trend and
 * a positive Theil-Sen slope over the repetitions, and total growth of at
 * least one unit per few repetitions).  So a cache warming up, lazy
 * one-time initialisation or a plateau is never reported: replaying the
 * same input does not grow them again.
 *
 * A map keyed by request content and never pruned grows once per distinct
 * key: replaying the same input does not grow it again.  So when the same
 * input does not grow the C heap (heap.live_bytes, heap.live_allocs), the
 * oracle replays thousands of distinct variants of it (the input with a
 * counter in its last few bytes) and confirms a leak when the heap keeps
 * growing with the number of variants through the tail half of a long run
 * (a "distinct-input" finding); a cache that fills up and plateaus does
 * not.
 *
 * Expensive probes (the Go heap after a forced GC) run every
 * `expensive_every` inputs; when the Go heap grew by more than
 * `go_heap_trigger` since the last check, the recent inputs kept in a ring
 * buffer are replayed to find the culprit, so the finding is always an
 * input that grows memory, never just the last one executed.  When none
 * grows again on replay, the ring's inputs are screened with distinct
 * variants and the likeliest gets a distinct run on the Go heap (settled
 * readings), so a Go map keyed by content is found too; Go variants also
 * put the counter in windows nearer the front, for a map keyed by a field
 * in the middle of the input.
 *
 * The oracle knows nothing of Lua or of fuzzing engines: the caller gives
 * it a step function and a settle function.  How it works, its costs and
 * its files: docs/oracle.md.
 */
#ifndef LEAKHOUND_ORACLE_H
#define LEAKHOUND_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "probes.h"

#define LH_ORACLE_MAX_REPS 256

/* Runs the workload's step once on an input: 0, or -1 when it failed. */
typedef int (*lh_oracle_step_fn)(void *ud, const uint8_t *data, size_t size);
/* Lets the runtime settle (Go: forced GC) before an expensive read. */
typedef void (*lh_oracle_settle_fn)(void *ud);

typedef struct lh_oracle_config {
    int reps;                   /* confirmation repetitions (default 16) */
    int expensive_every;        /* K (default 1000); negative disables */
    size_t ring;                /* recent inputs kept (default K) */
    double alpha;               /* trend significance (default 0.01) */
    double go_heap_trigger;     /* Go heap growth that starts a culprit
                                 * search (default 256 KiB) */
    double go_heap_min_per_rep; /* confirmed Go heap growth per rep
                                 * (default 64 B) */
    int proc_every;             /* read proc.fds and proc.threads around
                                 * every input (1) or after every Nth,
                                 * searching the ring when they rose; 0
                                 * (default): chosen from the measured cost
                                 * of the reads and of the step */
    int distinct;               /* distinct-input replay of C heap triggers
                                 * and Go heap growth that same-input
                                 * replay rejects: 0 (default) on,
                                 * negative off */
    double known_budget;        /* bytes the process's RSS may grow from
                                 * lh_oracle_new while leaks of known
                                 * signatures keep leaking in it; 0
                                 * (default): no limit */
    void (*over_budget)(void *ctx, double held);   /* called past it (a
                                 * fuzz driver exits for a restart) */
    void *over_budget_ctx;
} lh_oracle_config;

/* Fill cfg with the defaults.  In a cfg given to lh_oracle_new, zero (or a
 * value out of range) means the default for every field, so
 * `lh_oracle_config cfg = { 0 }` is the defaults; reps below 8 are raised
 * to 8 (each half of the replays is judged on its own). */
void lh_oracle_config_defaults(lh_oracle_config *cfg);

typedef struct lh_finding {
    char metric[64];            /* e.g. "heap.live_bytes" */
    int distinct;               /* 0: grows when the same input is replayed;
                                 * 1: grows with the number of distinct
                                 * variants of the input (a map keyed by
                                 * content that is never pruned) */
    char unit[16];
    char signature[512];        /* metric plus where it grows, for dedup */
    char site[384];             /* where, when known: goroutine stack top,
                                 * C heap allocation site */
    double growth_per_rep;      /* Theil-Sen slope over the repetitions
                                 * (distinct: per distinct input) */
    double p_value;             /* Mann-Kendall p over the repetitions
                                 * (distinct: over the tail half) */
    int reps;                   /* repetitions; distinct: readings after
                                 * the first, one every `every` variants */
    int every;                  /* distinct: variants between readings;
                                 * same: replays between readings (> 1
                                 * when paced for in-flight goroutines) */
    long variants;              /* distinct: variants run (reps * every) */
    long variant_at;            /* distinct: byte offset of the counter (4
                                 * digits; == size: appended) */
    double series[LH_ORACLE_MAX_REPS + 1];  /* value before rep 1..reps
                                 * (distinct: after i * every variants) */
    const uint8_t *input;       /* the leaking input (oracle-owned copy,
                                 * valid until the next call) */
    size_t size;
} lh_finding;

typedef struct lh_oracle_stats {
    uint64_t inputs;            /* inputs run through lh_oracle_run */
    uint64_t triggers;          /* positive deltas seen */
    uint64_t confirmations;     /* confirmation replays run */
    uint64_t distinct_runs;     /* distinct-input replays run */
    uint64_t distinct_steps;    /* steps they took */
    uint64_t confirmed;         /* leaks confirmed (incl. duplicates) */
    uint64_t duplicates;        /* confirmed leaks with a known signature,
                                 * and triggers not replayed because their
                                 * metric is reported without a site */
    uint64_t expensive_checks;  /* Go heap checks */
    uint64_t culprit_searches;  /* ring replays (Go heap, sampled fds and
                                 * threads) */
    uint64_t skipped;           /* triggers not confirmed: the input is
                                 * known clean for that metric, or the
                                 * metric is backed off */
    uint64_t clean_sites;       /* C heap triggers not confirmed: their
                                 * growth is at sites and size classes
                                 * already judged clean */
    uint64_t drain_waits;       /* waits for in-flight goroutines to end */
    uint64_t ttl_idles;         /* idles before a C heap leak is verified */
    int proc_every;             /* current fds/threads read interval */
} lh_oracle_stats;

typedef struct lh_oracle lh_oracle;

/* probes: the worker's probe table (its target decides which metrics are
 * available).  cfg may be NULL for the defaults.  Points the detector's
 * scratch allocator at lh_raw_* (judging must not show up as a leak). */
lh_oracle *lh_oracle_new(const lh_probes *probes, const lh_oracle_config *cfg,
                         lh_oracle_step_fn step, lh_oracle_settle_fn settle,
                         void *ud);
void lh_oracle_free(lh_oracle *o);

/* Run one input under the oracle.  Returns 1 when a NEW leak (a signature
 * not reported before by this oracle) was confirmed and *out describes it,
 * 0 when nothing new was found, -1 when the step failed. */
int lh_oracle_run(lh_oracle *o, const uint8_t *data, size_t size,
                  lh_finding *out);

/* Replay one input `reps` times (0: the configured number) on every
 * watched metric, the Go heap included (with a settle per repetition), and
 * judge; when nothing grew that way, run its distinct variants on the C
 * heap, then on the Go heap (as lh_oracle_run does).  For repro and
 * minimize.  Returns 1 when it leaks (out filled
 * with the strongest finding), 0 when not, -1 when the step failed.
 * Growth that does not convince after `reps` is replayed on to 64 reps.
 * Signatures are not recorded: lh_oracle_run still reports this leak. */
int lh_oracle_confirm(lh_oracle *o, const uint8_t *data, size_t size,
                      int reps, lh_finding *out);

/* Deltas of the last lh_oracle_run's single step, for coverage feedback
 * (retained bytes: heap and mapped; goroutines; fds + threads). */
void lh_oracle_last_delta(const lh_oracle *o, double *heap_bytes,
                          double *goroutines, double *handles);

/* After lh_oracle_confirm: the metrics that grew with the repetitions
 * but not over the long run after them (a bounded structure larger than
 * the replays), as a count; their names, ", "-separated, in buf. */
int lh_oracle_bounded(const lh_oracle *o, char *buf, size_t len);

/* After lh_oracle_confirm: the series of the k-th watched metric (k from
 * 0), its name in *metric; returns its length, or -1 past the last. */
int lh_oracle_series(const lh_oracle *o, int k, const char **metric,
                     const double **y);

void lh_oracle_get_stats(const lh_oracle *o, lh_oracle_stats *out);

/* A signature found elsewhere (an earlier engine run, a filed case): a
 * confirmation that signs so is a duplicate, and known leaking. */
void lh_oracle_add_known(lh_oracle *o, const char *signature);

#endif
