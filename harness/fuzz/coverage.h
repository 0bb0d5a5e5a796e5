/*
 * coverage.h - an input's coverage is its own run's: the engine's inline
 * 8-bit counters saved before the oracle's first replay within an input
 * and put back after it, so confirmation replays, distinct variants and
 * culprit searches (run inside one input) add no feature of their own.
 */
#ifndef LEAKHOUND_COVERAGE_H
#define LEAKHOUND_COVERAGE_H

#include <stddef.h>

/* Find the counters of every loaded object (its __sancov_cntrs section,
 * what the instrumentation hands libFuzzer): after the target is loaded.
 * Their total size in bytes, 0 when none. */
size_t lh_cov_find(void);

/* Save them; put the saved values back. */
void lh_cov_save(void);
void lh_cov_restore(void);

#endif
