/*
 * diagnose.h - the worker's use of diag.h: start the recorders, snapshot
 * at the baseline and at the end, and name the sites behind a failing
 * invariant's metric.
 */
#ifndef LEAKHOUND_DIAGNOSE_H
#define LEAKHOUND_DIAGNOSE_H

#include "buf.h"
#include "diag.h"
#include "target.h"

#define LH_DIAG_SITES 8

typedef struct lh_diagnosis lh_diagnosis;

/* Start recording (heap sampling every sample_bytes, fd and thread
 * creation sites).  target may be NULL. */
lh_diagnosis *lh_diagnosis_new(lh_target *target, size_t sample_bytes);

/* Snapshots; call right after the settle of the baseline sample and of
 * the last sample (the Go heap profile is as of the last GC). */
void lh_diagnosis_baseline(lh_diagnosis *d);
void lh_diagnosis_end(lh_diagnosis *d);

/* A second, targeted look at the C heap, after lh_diagnosis_end: record
 * every allocation (sampling rate 0) from confirm_begin to confirm_end,
 * then restore the sampling.  confirm_mark snapshots the window (at most
 * LH_DIAG_CONF_MARKS times; the last mark is its end).  Once taken,
 * heap.* sites come from this window when it shows any (exact, where
 * sampling may have missed a slow leak): what grew from its start to its
 * last mark and is still held at the marks of its second half; else from
 * the baseline/end snapshots. */
#define LH_DIAG_CONF_MARKS 6
void lh_diagnosis_confirm_begin(lh_diagnosis *d);
void lh_diagnosis_confirm_mark(lh_diagnosis *d);
void lh_diagnosis_confirm_end(lh_diagnosis *d);

/* Sites behind the growth of metric, largest first.  Returns how many. */
int lh_diagnosis_sites(lh_diagnosis *d, const char *metric, lh_site *out,
                       int max);

/* Files viewers open: DIR/<metric>.folded (flame graphs) and, for Go heap
 * metrics, DIR/go-heap-{base,end}.pb.gz (go tool pprof -base).  Their
 * paths are appended to paths, each NUL-terminated (a workload's name,
 * and so DIR, may hold any character but NUL); those that could not be
 * written go to errors, one "PATH: why" line each.  Returns the number of
 * files written. */
int lh_diagnosis_write(lh_diagnosis *d, const char *dir, const char *metric,
                       const lh_site *sites, int n, lh_buf *paths,
                       lh_buf *errors);

#endif
