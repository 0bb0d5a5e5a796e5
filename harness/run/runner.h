/*
 * runner.h - drives a workload's step function on N threads, wrk-style:
 * each thread has its own lua_State loaded from the same script.  Work is
 * done in phases (warmup, then one phase per sample) separated by
 * barriers, so the worker samples the probes with every thread paused.
 */
#ifndef LEAKHOUND_RUNNER_H
#define LEAKHOUND_RUNNER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <lua.h>

#include "buf.h"
#include "flight.h"
#include "latency.h"

typedef struct lh_runner lh_runner;

typedef struct lh_rthread {
    lh_runner *runner;
    int index;
    lua_State *L;           /* thread 0 uses the worker's main state */
    int base;               /* stack slot of the traceback handler */
    int inputs_kind;        /* 0 none, 1 list, 2 generator */
    lua_Integer ninputs;
    uint64_t k;             /* steps this thread has run */
    _Atomic uint64_t done;  /* steps completed, read by the progress tick */
    lh_hist hist;
    lh_buf err;
    pthread_t tid;
} lh_rthread;

/* Called by thread 0 between steps, about every interval. */
typedef void (*lh_tick_fn)(void *ud);

/* Runs fn(arg), the step, for thread `thread`, inside whatever context the
 * caller wants around each step (the worker: pprof labels, so that a Go
 * target's goroutines say which thread's step started them).  fn returns
 * normally: a step's Lua error is caught inside it. */
typedef void (*lh_wrap_fn)(void *ud, int thread, void (*fn)(void *),
                           void *arg);

struct lh_runner {
    int nthreads;
    lh_rthread *threads;
    lh_flight *flight;
    const char *script;
    int workload_index;
    uint64_t seed;
    pthread_barrier_t go, end;
    /* current phase, set by the coordinator before releasing "go" */
    int quit;
    int record_latency;
    uint64_t quota[LH_FLIGHT_THREADS];
    double deadline;        /* monotonic seconds; 0 = quota mode */
    atomic_int abort;       /* a step failed: everyone stops */
    lh_tick_fn tick;
    void *tick_ud;
    lh_wrap_fn wrap;        /* NULL: steps run as they are */
    void *wrap_ud;
    double tick_interval;
};

/* Prepare the runner: thread 0 is the workload table at stack top of L
 * (the main state); threads 1..n-1 load the script in their own states.
 * -1 with a message in err. */
int lh_runner_init(lh_runner *r, lua_State *L, int nthreads,
                   const char *script, int workload_index, uint64_t seed,
                   lh_flight *flight, lh_buf *err);

/* Call the workload's optional init(thread_index) in every thread. */
int lh_runner_init_threads(lh_runner *r, lh_buf *err);

/* Run `iterations` steps spread over the threads, or until `seconds`
 * elapse when seconds > 0.  Returns -1 when a step failed (message in
 * err), else 0. */
int lh_runner_phase(lh_runner *r, uint64_t iterations, double seconds,
                    int record_latency, lh_buf *err);

/* Total steps completed. */
uint64_t lh_runner_done(const lh_runner *r);

/* Merged latency of the measured phases. */
void lh_runner_latency(const lh_runner *r, lh_hist *out);

/* Stop threads and close their states (not thread 0's). */
void lh_runner_finish(lh_runner *r);

#endif
