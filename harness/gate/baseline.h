/*
 * baseline.h - stored baselines: growth per iteration and peak of every
 * invariant of the workloads that passed, so a run whose invariants still
 * pass but whose growth or peak crept up fails the gate.
 *
 * The file (JSON) maps workload name -> invariant key ("metric kind") ->
 * the values of the run that wrote it.  Tolerances come from the
 * invariant's `tolerance` option, else the defaults below.
 */
#ifndef LEAKHOUND_BASELINE_H
#define LEAKHOUND_BASELINE_H

#include "buf.h"
#include "json.h"

/* Defaults: growth per iteration may rise by 50% of the stored value and
 * peak by 25%, each at least by the invariant's own allowance (its slack
 * spread over the run for growth, its slack for peak) so that noise in a
 * flat metric never trips them. */
#define LH_BASELINE_PER_ITER_PCT 50.0
#define LH_BASELINE_PEAK_PCT 25.0

/* A rate invariant (leak.rate) is compared on its rate alone (a counter's
 * peak only says how long the run was): it may rise by 10% of the stored
 * rate, and at least by half a unit per iteration (8 B for a rate in
 * bytes, the smallest block; for GC cycles, one per phase) so that a rate
 * of 0 does not fail on noise.
 * It fails when the lower end of the run's interval is above that. */
#define LH_BASELINE_RATE_PCT 10.0
#define LH_BASELINE_RATE_FLOOR 0.5
#define LH_BASELINE_RATE_FLOOR_BYTES 8.0

/* The schema version lh_baseline_update writes and the only one read. */
#define LH_BASELINE_SCHEMA 1

/* Read and validate a baseline file: its schema version and the type of
 * every field it holds.  Returns the document, or NULL with
 * "PATH:L:C: what" or "PATH: FIELD: what" in err. */
lh_json *lh_baseline_load(const char *path, lh_buf *err);

/* Annotate every invariant of the passing workloads in report with a
 * "baseline" object (status pass/fail/new, stored values, tolerances,
 * reason), against base (from lh_baseline_load).  Returns how many
 * failed.  compared: invariants that had a stored entry. */
int lh_baseline_compare(lh_json *report, const lh_json *base,
                        int *compared);

/* Write the baseline of report's passing workloads to path, keeping the
 * entries of workloads this run did not include (path, when it exists,
 * must pass lh_baseline_load).  Returns how many workloads were written,
 * or -1 (err says why). */
int lh_baseline_update(const lh_json *report, const char *path, lh_buf *err);

#endif
