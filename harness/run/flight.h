/*
 * flight.h - the flight recorder: what each worker thread is doing, in
 * shared memory the supervisor can read after the worker died.
 *
 * Before every step a thread copies its input here, so a crash or a hang
 * is reported with the input in flight without the worker having to say
 * anything (it cannot: it is dead or stuck).
 */
#ifndef LEAKHOUND_FLIGHT_H
#define LEAKHOUND_FLIGHT_H

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
    LH_PHASE_DONE,
};

typedef struct lh_flight_slot {
    volatile uint32_t busy;         /* 1 while the step runs */
    volatile uint32_t len;          /* full input length */
    volatile uint64_t iter;         /* iteration index of the input */
    uint8_t data[LH_FLIGHT_INPUT_MAX];
} lh_flight_slot;

typedef struct lh_flight {
    volatile uint32_t phase;
    volatile uint32_t nthreads;
    volatile uint64_t done;         /* measured iterations completed */
    lh_flight_slot slot[LH_FLIGHT_THREADS];
} lh_flight;

/* Create a zeroed recorder in a memfd; *fd receives the descriptor (not
 * close-on-exec, so a worker inherits it).  NULL on failure. */
lh_flight *lh_flight_create(int *fd);

/* Map an inherited recorder. NULL on failure. */
lh_flight *lh_flight_map(int fd);

const char *lh_phase_name(uint32_t phase);

#endif
