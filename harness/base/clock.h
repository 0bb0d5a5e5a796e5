/*
 * clock.h - the one clock: monotonic, for durations, deadlines and rates
 * (never wall time, which jumps).
 */
#ifndef LEAKHOUND_CLOCK_H
#define LEAKHOUND_CLOCK_H

#include <stdint.h>

/* Seconds since an arbitrary fixed point. */
double lh_now(void);

/* The same in nanoseconds, for intervals too short for a double's
 * resolution to be trusted far from the epoch. */
uint64_t lh_now_ns(void);

#endif
