/*
 * latency.h - per-thread step latency histogram (log-linear buckets,
 * about 3% resolution), merged for p50/p99/max.  No allocation: it is
 * updated on every step.
 */
#ifndef LEAKHOUND_LATENCY_H
#define LEAKHOUND_LATENCY_H

#include <stdint.h>

#define LH_HIST_SUB 32
#define LH_HIST_BUCKETS (64 * LH_HIST_SUB)

typedef struct lh_hist {
    uint64_t count;
    uint64_t max_ns;
    double sum_ns;
    uint32_t bucket[LH_HIST_BUCKETS];
} lh_hist;

void lh_hist_add(lh_hist *h, uint64_t ns);
void lh_hist_merge(lh_hist *into, const lh_hist *from);
/* Value at quantile q in [0,1], in nanoseconds (bucket midpoint). */
double lh_hist_quantile(const lh_hist *h, double q);

#endif
