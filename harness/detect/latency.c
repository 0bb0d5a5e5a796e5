/* latency.c - log-linear latency histogram. */
#include "latency.h"

/* Bucket = (power of two, linear sub-bucket within it). */
static unsigned bucket_of(uint64_t ns)
{
    if (ns < LH_HIST_SUB)
        return (unsigned)ns;
    unsigned msb = 63 - (unsigned)__builtin_clzll(ns);
    unsigned shift = msb - 5;   /* LH_HIST_SUB == 1 << 5 */
    unsigned sub = (unsigned)(ns >> shift) & (LH_HIST_SUB - 1);
    unsigned b = (shift + 1) * LH_HIST_SUB + sub;
    return b < LH_HIST_BUCKETS ? b : LH_HIST_BUCKETS - 1;
}

static double bucket_mid(unsigned b)
{
    if (b < LH_HIST_SUB)
        return b;
    unsigned shift = b / LH_HIST_SUB - 1;
    unsigned sub = b % LH_HIST_SUB;
    double lo = (double)((uint64_t)(LH_HIST_SUB + sub) << shift);
    return lo + (double)(1ULL << shift) / 2;
}

void lh_hist_add(lh_hist *h, uint64_t ns)
{
    h->bucket[bucket_of(ns)]++;
    h->count++;
    h->sum_ns += (double)ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

void lh_hist_merge(lh_hist *into, const lh_hist *from)
{
    for (unsigned i = 0; i < LH_HIST_BUCKETS; i++)
        into->bucket[i] += from->bucket[i];
    into->count += from->count;
    into->sum_ns += from->sum_ns;
    if (from->max_ns > into->max_ns)
        into->max_ns = from->max_ns;
}

double lh_hist_quantile(const lh_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)(h->count - 1)) + 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < LH_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            double mid = bucket_mid(i);
            return mid > (double)h->max_ns ? (double)h->max_ns : mid;
        }
    }
    return (double)h->max_ns;
}
