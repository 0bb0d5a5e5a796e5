/*
 * cache.c - two key caches: one that grows with every distinct key, and its
 * bounded twin; and a front end that picks one of them by the key's prefix.
 *
 * cache_put_unbounded interns every key it sees in a hash table that is never
 * pruned: the heap grows by one node (plus the amortised bucket array) per
 * distinct key, forever.  Nothing is unreachable, so LeakSanitizer and
 * valgrind report nothing; only growth shows it.
 *
 * cache_put_lru is the fixed version: an LRU cache of LRU_CAPACITY entries.
 * Once full, a miss evicts the least recently used entry and recycles its
 * node, so the heap fills up and then stays exactly flat (no malloc/free per
 * call at the plateau, which also keeps a multi-threaded load test free of
 * in-flight allocation noise).
 *
 * cache_put_gated is the leak as services write it: only some requests are
 * kept forever.  A key starting with the 4 bytes "KEEP" is interned in the
 * unbounded table, any other key goes to the LRU.  So it is clean on keys
 * without the prefix (the seed corpus, corpora/cache), and replaying one
 * "KEEP..." key grows nothing after its first call: only distinct KEEP
 * keys do.
 *
 * The input is the key (any bytes, empty included).  Both caches are
 * guarded by a mutex, so the ops are safe to call from several threads.
 * Gauges: target.cache_unbounded_entries, target.cache_lru_entries.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lh_target.h"

/* FNV-1a: cheap and good enough to spread short keys. */
static uint64_t hash_key(const uint8_t *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++) {
        h ^= key[i];
        h *= 0x100000001b3u;
    }
    return h;
}

static void copy_key(uint8_t *dst, const uint8_t *src, size_t len)
{
    if (len > 0)            /* src may be NULL for an empty input */
        memcpy(dst, src, len);
}

/* ---- unbounded: the leak ---------------------------------------------- */

struct unode {
    struct unode *next;
    uint64_t hash;
    uint64_t hits;
    size_t len;
    uint8_t key[];
};

static pthread_mutex_t unb_mu = PTHREAD_MUTEX_INITIALIZER;
static struct unode **unb_buckets;
static size_t unb_nbuckets;
static int64_t unb_count;

/* Double the bucket array; on failure keep the old one (just slower). */
static void unb_grow(void)
{
    size_t n = unb_nbuckets ? unb_nbuckets * 2 : 64;
    struct unode **b = calloc(n, sizeof *b);
    if (b == NULL)
        return;
    for (size_t i = 0; i < unb_nbuckets; i++) {
        struct unode *e = unb_buckets[i];
        while (e != NULL) {
            struct unode *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(unb_buckets);
    unb_buckets = b;
    unb_nbuckets = n;
}

/* Intern the key for good: nothing ever evicts. */
static void unb_intern(const uint8_t *data, size_t size)
{
    uint64_t h = hash_key(data, size);

    pthread_mutex_lock(&unb_mu);
    if (unb_nbuckets == 0)
        unb_grow();
    if (unb_nbuckets == 0)
        goto out;
    struct unode **slot = &unb_buckets[h & (unb_nbuckets - 1)];
    for (struct unode *e = *slot; e != NULL; e = e->next) {
        if (e->hash == h && e->len == size &&
            (size == 0 || memcmp(e->key, data, size) == 0)) {
            e->hits++;
            goto out;
        }
    }
    /* First sight of this key: interned for good (nothing ever evicts). */
    struct unode *e = malloc(sizeof *e + size);
    if (e == NULL)
        goto out;
    e->hash = h;
    e->hits = 1;
    e->len = size;
    copy_key(e->key, data, size);
    e->next = *slot;
    *slot = e;
    if (++unb_count > (int64_t)unb_nbuckets)
        unb_grow();
out:
    pthread_mutex_unlock(&unb_mu);
}

LH_EXPORT int cache_put_unbounded(const uint8_t *data, size_t size)
{
    unb_intern(data, size);
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_cache_unbounded_entries(void)
{
    pthread_mutex_lock(&unb_mu);
    int64_t n = unb_count;
    pthread_mutex_unlock(&unb_mu);
    return n;
}

/* ---- LRU: the clean twin ---------------------------------------------- */

enum {
    LRU_CAPACITY = 256,
    LRU_BUCKETS = 512,      /* power of two, load factor <= 0.5 */
    KEY_ROUND = 16,         /* key room is rounded up so nodes recycle */
};

struct lnode {
    struct lnode *hnext;            /* hash chain */
    struct lnode *prev, *next;      /* recency list, most recent first */
    uint64_t hash;
    uint64_t hits;
    size_t len;
    size_t cap;                     /* room in key[] */
    uint8_t key[];
};

static pthread_mutex_t lru_mu = PTHREAD_MUTEX_INITIALIZER;
/* Static, so the index itself never shows up as heap. */
static struct lnode *lru_buckets[LRU_BUCKETS];
static struct lnode *lru_head, *lru_tail;
static int64_t lru_count;

static void lru_unlink(struct lnode *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        lru_head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        lru_tail = e->prev;
}

static void lru_push_front(struct lnode *e)
{
    e->prev = NULL;
    e->next = lru_head;
    if (lru_head != NULL)
        lru_head->prev = e;
    lru_head = e;
    if (lru_tail == NULL)
        lru_tail = e;
}

static void lru_unhash(struct lnode *e)
{
    struct lnode **p = &lru_buckets[e->hash & (LRU_BUCKETS - 1)];
    while (*p != e)
        p = &(*p)->hnext;
    *p = e->hnext;
}

/* Take the least recently used node out of the cache, to be reused. */
static struct lnode *lru_evict(void)
{
    struct lnode *e = lru_tail;
    lru_unlink(e);
    lru_unhash(e);
    lru_count--;
    return e;
}

static void lru_put(const uint8_t *data, size_t size)
{
    uint64_t h = hash_key(data, size);
    struct lnode **slot = &lru_buckets[h & (LRU_BUCKETS - 1)];

    pthread_mutex_lock(&lru_mu);
    for (struct lnode *e = *slot; e != NULL; e = e->hnext) {
        if (e->hash == h && e->len == size &&
            (size == 0 || memcmp(e->key, data, size) == 0)) {
            e->hits++;
            lru_unlink(e);
            lru_push_front(e);
            goto out;
        }
    }

    size_t cap = (size + KEY_ROUND - 1) / KEY_ROUND * KEY_ROUND;
    if (cap == 0)
        cap = KEY_ROUND;
    struct lnode *e = NULL;
    if (lru_count >= LRU_CAPACITY) {
        e = lru_evict();
        if (e->cap < size) {
            /* The recycled node is too small for this key: resize it. */
            struct lnode *bigger = realloc(e, sizeof *e + cap);
            if (bigger == NULL) {
                free(e);
                goto out;
            }
            e = bigger;
            e->cap = cap;
        }
    } else {
        e = malloc(sizeof *e + cap);
        if (e == NULL)
            goto out;
        e->cap = cap;
    }
    e->hash = h;
    e->hits = 1;
    e->len = size;
    copy_key(e->key, data, size);
    e->hnext = *slot;
    *slot = e;
    lru_push_front(e);
    lru_count++;
out:
    pthread_mutex_unlock(&lru_mu);
}

LH_EXPORT int cache_put_lru(const uint8_t *data, size_t size)
{
    lru_put(data, size);
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_cache_lru_entries(void)
{
    pthread_mutex_lock(&lru_mu);
    int64_t n = lru_count;
    pthread_mutex_unlock(&lru_mu);
    return n;
}

/* ---- gated: some keys are kept forever ---------------------------------- */

LH_EXPORT int cache_put_gated(const uint8_t *data, size_t size)
{
    /* A memcmp against a constant: a fuzzer with compare tracing
     * (libFuzzer, AFL++ with compare splitting) finds the prefix fast. */
    if (size >= 4 && memcmp(data, "KEEP", 4) == 0)
        unb_intern(data, size);
    else
        lru_put(data, size);
    return 0;
}
