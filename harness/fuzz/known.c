/*
 * known.c - what the oracle remembers so that it does not pay twice: inputs
 * known clean for a metric (an (input hash, metric) whose confirmation
 * failed, in a 4-way set-associative cache), the backoff of metrics whose
 * triggers keep failing, and the signatures of the leaks already reported.
 * Signatures leave out line numbers and code offsets, so moving code keeps
 * a known leak known.  And what a known leak still leaking costs: the
 * process keeps every byte it leaks, so past a budget the caller is told
 * (a fuzz driver exits, and the engine restarts with a fresh heap).
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "oracle_impl.h"

#define MAX_BACKOFF 10          /* confirm 1 in 2^10 triggers at most */

uint64_t lh_or_mix64(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

/* Eight bytes at a time: only run on triggers and searches, but an input
 * may be large. */
uint64_t lh_or_hash_input(const uint8_t *d, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, d + i, 8);
        h = lh_or_mix64(h ^ w);
    }
    uint64_t w = 0;
    if (n > i)
        memcpy(&w, d + i, n - i);
    h = lh_or_mix64(h ^ w ^ 0xff);
    return h ? h : 1;
}

static uint64_t failed_key(uint64_t h, int w)
{
    uint64_t k = lh_or_mix64(h ^ ((uint64_t)(w + 1) *
                                  0x9e3779b97f4a7c15ull));
    return k ? k : 1;
}

int lh_or_failed_has(const lh_oracle *o, uint64_t h, int w)
{
    uint64_t k = failed_key(h, w);
    const uint64_t *set = o->failed[k % FAILED_SETS];
    for (int i = 0; i < FAILED_WAYS; i++)
        if (set[i] == k)
            return 1;
    return 0;
}

void lh_or_failed_put(lh_oracle *o, uint64_t h, int w)
{
    if (lh_or_failed_has(o, h, w))
        return;
    uint64_t k = failed_key(h, w);
    size_t s = k % FAILED_SETS;
    o->failed[s][o->failed_next[s]++ % FAILED_WAYS] = k;
}

/* After k consecutive failures, 1 in 2^k triggers gets through: the
 * counter restarts at 1 on each failure, so the next 2^k - 1 are skipped. */
int lh_or_gate_pass(lh_oracle *o, int w)
{
    if (o->fails[w] == 0)
        return 1;
    return o->tick[w]++ % (1ull << o->fails[w]) == 0;
}

void lh_or_backoff_fail(lh_oracle *o, int w)
{
    if (o->fails[w] < MAX_BACKOFF)
        o->fails[w]++;
    o->tick[w] = 1;
}

static void backoff_reset(lh_oracle *o, int w)
{
    o->fails[w] = 0;
    o->tick[w] = 0;
}

/* The signature names functions and files (and the library function the
 * user's code called: "f users.c → sqlite3_prepare_v2", finding_site.c)
 * but not line numbers or code offsets, so an edit that only moves code
 * keeps a known leak known (and `nightly` does not file it again).  A
 * heap leak is one leak whether its bytes or its blocks confirmed it: both
 * sign as heap.live_bytes, also across processes (the known signatures a
 * restarted engine loads). */
void lh_or_make_sig(const lh_oracle *o, int w, int distinct,
                    const char *site, char *buf, size_t len)
{
    if (w == W_HEAP_ALLOCS)
        w = W_HEAP_BYTES;
    size_t n = (size_t)snprintf(buf, len, "%s%s", lh_or_metric_name(o, w),
                                distinct ? " per distinct input" : "");
    if (!*site || n + 4 >= len)
        return;
    n += (size_t)snprintf(buf + n, len - n, " @ ");
    for (const char *p = site; *p && n + 1 < len; p++) {
        if (*p == ':' && p[1] >= '0' && p[1] <= '9') {
            while (p[1] >= '0' && p[1] <= '9')
                p++;
            continue;
        }
        if (p[0] == '+' && p[1] == '0' && p[2] == 'x') {
            p += 2;
            while (strchr("0123456789abcdefABCDEF", p[1]) && p[1])
                p++;
            continue;
        }
        buf[n++] = *p;
    }
    buf[n] = '\0';
}

int lh_or_sig_known(const lh_oracle *o, const char *sig)
{
    for (size_t i = 0; i < o->nsigs; i++)
        if (strcmp(o->sigs[i], sig) == 0)
            return 1;
    return 0;
}

/* Reported without a site: every later finding on it is a duplicate. */
int lh_or_metric_known(const lh_oracle *o, int w)
{
    char sig[128];
    lh_or_make_sig(o, w, 0, "", sig, sizeof sig);
    return lh_or_sig_known(o, sig);
}

static void sig_add(lh_oracle *o, const char *sig)
{
    if (lh_or_sig_known(o, sig))
        return;
    if (lh_grow((void **)&o->sigs, &o->sigcap, o->nsigs + 1,
                sizeof *o->sigs) < 0)
        return;
    char *s = lh_raw_strdup(sig);
    if (s)
        o->sigs[o->nsigs++] = s;
}

/* A confirmation found `chosen` (from lh_or_pick; -1: nothing): record a new
 * signature (heap.live_allocs with heap.live_bytes) and fill *out.
 * Returns 1 when new, 0 when nothing or a duplicate. */
int lh_or_report(lh_oracle *o, int chosen, int distinct, const char *site,
                 const char *sig, const uint8_t *data, size_t size,
                 lh_finding *out)
{
    if (chosen < 0)
        return 0;
    o->stats.confirmed++;
    if (lh_or_sig_known(o, sig)) {
        o->stats.duplicates++;
        lh_or_known_check(o, 1);
        return 0;
    }
    sig_add(o, sig);
    const verdict *res = distinct ? o->dres : o->res;
    if (chosen == W_HEAP_BYTES && res[W_HEAP_ALLOCS].v == J_YES) {
        /* The same leak counted in blocks, at the same site. */
        char alt[sizeof out->signature];
        lh_or_make_sig(o, W_HEAP_ALLOCS, distinct, site, alt, sizeof alt);
        sig_add(o, alt);
    }
    backoff_reset(o, chosen);
    if (chosen == W_HEAP_BYTES)
        backoff_reset(o, W_HEAP_ALLOCS);
    lh_or_fill_finding(o, out, chosen, distinct, site, sig, data, size);
    return 1;
}

void lh_oracle_add_known(lh_oracle *o, const char *signature)
{
    sig_add(o, signature);
}

/*
 * A known leak grew again (known), or memory rose on an input after one
 * did: the growth stays in this process whether or not it is confirmed
 * (backoff skips most triggers), so from the first known leak on every
 * trigger compares the RSS with the oracle's start.  Past the budget, the
 * caller's hook decides; RSS, not the heap, because that is what runs out
 * (Go's heap and mappings included).  One /proc read per trigger.
 */
void lh_or_known_check(lh_oracle *o, int known)
{
    if (o->cfg.known_budget <= 0.0 || !(known || o->known_leaking))
        return;
    o->known_leaking = 1;
    double held = lh_probes_read(o->probes, LH_M_PROC_RSS_BYTES) - o->rss0;
    if (held > o->cfg.known_budget)
        o->cfg.over_budget(o->cfg.over_budget_ctx, held);
}
