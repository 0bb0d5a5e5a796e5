/*
 * flight.h - the flight recorder: what each worker thread is doing, in
 * shared memory the supervisor can read after the worker died.
 *
 * Before every step a thread copies its input here, so a crash or a hang
 * is reported with the input in flight without the worker having to say
 * anything (it cannot: it is dead or stuck).  The fields are atomics
 * (lock-free, so they work across processes): the supervisor reads them
 * while the worker's threads write.
 */
#ifndef LEAKHOUND_FLIGHT_H
#define LEAKHOUND_FLIGHT_H

#include <stdatomic.h>
#include <stdint.h>

#define LH_FLIGHT_THREADS 64
#define LH_FLIGHT_INPUT_MAX 65536

enum {
    LH_PHASE_START,
    LH_PHASE_SETUP,
    LH_PHASE_WARMUP,
    LH_PHASE_MEASURE,
    LH_PHASE_SETTLE,
    LH_PHASE_TEARDOWN,
    LH_PHASE_DIAGNOSE,              /* judging, sites and symbols: not the
                                       workload's time (own bound) */
    LH_PHASE_DONE,
};

typedef struct lh_flight_slot {
    _Atomic uint32_t busy;          /* 1 while the step runs; set after
                                       the input is in data */
    _Atomic uint32_t len;           /* full input length */
    _Atomic uint64_t iter;          /* iteration index of the input */
    uint8_t data[LH_FLIGHT_INPUT_MAX];
} lh_flight_slot;

typedef struct lh_flight {
    _Atomic uint32_t phase;
    _Atomic uint32_t nthreads;
    _Atomic uint64_t done;          /* measured iterations completed */
    _Atomic uint32_t samples;       /* samples taken after the baseline */
    _Atomic uint32_t planned;       /* the workload's `samples` */
    _Atomic uint32_t needed;        /* samples every invariant needs to be
                                       judged (0: not known yet) */
    lh_flight_slot slot[LH_FLIGHT_THREADS];
} lh_flight;

_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LONG_LOCK_FREE == 2 &&
               ATOMIC_LLONG_LOCK_FREE == 2,
               "the flight recorder is shared between processes");

/* Create a zeroed recorder in a memfd; *fd receives the descriptor (not
 * close-on-exec, so a worker inherits it).  NULL on failure. */
lh_flight *lh_flight_create(int *fd);

/* Map an inherited recorder. NULL on failure. */
lh_flight *lh_flight_map(int fd);

const char *lh_phase_name(uint32_t phase);

#endif
