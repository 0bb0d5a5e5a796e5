/*
 * steps.c - memory that grows in steps: one leak and three clean twins
 * that step the same way and then stop.
 *
 * steps_log_append keeps every request (16 bytes) in one append-only
 * buffer grown with realloc to twice its size when full, never trimmed:
 * heap.live_bytes moves only at each doubling (at 16, 32, ... 8192, 16384
 * records), 16 B per call on average.  Vectors, string builders and hash
 * tables grow this way.
 *
 * steps_log4_append is the same log grown by 4 (at 17, 65, 257, 1,025,
 * 4,097, 16,385 records): after 4,097 it next steps at 16,385, past twice
 * its last step.
 *
 * The twins:
 *   steps_lru_put     an LRU of STEPS_LRU_CAP (6000) keys with a hash table
 *                     that doubles as it fills; once full it recycles the
 *                     evicted node, so nothing is allocated any more.
 *   steps_arena_run   an arena grown (doubling) to the largest request
 *                     seen, then reused; the request size is the input's
 *                     first 4 bytes (little-endian), capped at 1 MiB.
 *   steps_ring4_append  the x4 log's growth up to 16,384 records, then a
 *                     ring: the same steps but the last.
 *   steps_ring8_append  the same for steps_log8_append, the log grown by 8
 *                     (at 17, 129, 1,025, 8,193, 65,537 records): its
 *                     growth up to 65,536 records, then a ring.
 *   steps_page_put    a page cache: 64-byte entries in 4 KiB pages, keyed
 *                     by the input's first 2 bytes (little-endian) modulo
 *                     STEPS_PAGE_KEYS (2048); a page is taken when the last
 *                     one is full, so 32 pages hold every key.
 *
 * The ops are for one thread (no locks).  Gauges: target.steps_log_records,
 * target.steps_lru_entries, target.steps_arena_bytes, target.steps_pages,
 * target.steps_ring4_records, target.steps_ring8_records.
 */
#include <stdlib.h>
#include <string.h>

#include "lh_target.h"

/* ---- the leak: an append-only log that doubles ------------------------ */

struct record {
    uint8_t bytes[16];
};

static struct record *log_buf;
static size_t log_len, log_cap;

LH_EXPORT int steps_log_append(const uint8_t *data, size_t size)
{
    if (log_len == log_cap) {
        size_t cap = log_cap ? 2 * log_cap : 16;
        struct record *b = realloc(log_buf, cap * sizeof *b);
        if (b == NULL)
            return 0;
        log_buf = b;
        log_cap = cap;
    }
    struct record *r = &log_buf[log_len++];
    memset(r, 0, sizeof *r);
    if (size > 0)
        memcpy(r->bytes, data, size < sizeof r->bytes ? size
                                                     : sizeof r->bytes);
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_steps_log_records(void)
{
    return (int64_t)log_len;
}

/* ---- the leak by x4, and its twin: a ring grown x4 up to 16384 --------- */

/* Grow *buf of *cap records by 4 (16 first) up to max records (0: no
 * limit); 0 when there is no room left. */
static int grow4(struct record **buf, size_t *cap, size_t max)
{
    size_t want = *cap ? 4 * *cap : 16;
    if (max && want > max)
        return 0;
    struct record *b = realloc(*buf, want * sizeof *b);
    if (b == NULL)
        return 0;
    *buf = b;
    *cap = want;
    return 1;
}

static void put_record(struct record *r, const uint8_t *data, size_t size)
{
    memset(r, 0, sizeof *r);
    if (size > 0)
        memcpy(r->bytes, data, size < sizeof r->bytes ? size
                                                     : sizeof r->bytes);
}

static struct record *log4_buf, *ring4_buf;
static size_t log4_len, log4_cap, ring4_len, ring4_cap;

LH_EXPORT int steps_log4_append(const uint8_t *data, size_t size)
{
    if (log4_len == log4_cap && !grow4(&log4_buf, &log4_cap, 0))
        return 0;
    put_record(&log4_buf[log4_len++], data, size);
    return 0;
}

/* The same growth (at calls 17, 65, 257, 1,025 and 4,097) up to 16,384
 * records, then the oldest is overwritten: no step at 16,385. */
LH_EXPORT int steps_ring4_append(const uint8_t *data, size_t size)
{
    enum { RING4_MAX = 16384 };
    if (ring4_len == ring4_cap && !grow4(&ring4_buf, &ring4_cap, RING4_MAX)
        && ring4_cap == 0)
        return 0;
    put_record(&ring4_buf[ring4_len++ % ring4_cap], data, size);
    if (ring4_len == 2 * RING4_MAX)
        ring4_len = RING4_MAX;
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_steps_ring4_records(void)
{
    return (int64_t)(ring4_len < ring4_cap ? ring4_len : ring4_cap);
}

/* ---- the leak by x8, and its twin: a ring grown x8 up to 65536 --------- */

/* Grow *buf of *cap records by 8 (16 first) up to max records (0: no
 * limit); 0 when there is no room left. */
static int grow8(struct record **buf, size_t *cap, size_t max)
{
    size_t want = *cap ? 8 * *cap : 16;
    if (max && want > max)
        return 0;
    struct record *b = realloc(*buf, want * sizeof *b);
    if (b == NULL)
        return 0;
    *buf = b;
    *cap = want;
    return 1;
}

static struct record *log8_buf, *ring8_buf;
static size_t log8_len, log8_cap, ring8_len, ring8_cap;

/* Steps at calls 17, 129, 1,025, 8,193, 65,537... */
LH_EXPORT int steps_log8_append(const uint8_t *data, size_t size)
{
    if (log8_len == log8_cap && !grow8(&log8_buf, &log8_cap, 0))
        return 0;
    put_record(&log8_buf[log8_len++], data, size);
    return 0;
}

/* The same growth up to 65,536 records (its last step at call 8,193),
 * then the oldest is overwritten: no step at 65,537. */
LH_EXPORT int steps_ring8_append(const uint8_t *data, size_t size)
{
    enum { RING8_MAX = 65536 };
    if (ring8_len == ring8_cap && !grow8(&ring8_buf, &ring8_cap, RING8_MAX)
        && ring8_cap == 0)
        return 0;
    put_record(&ring8_buf[ring8_len++ % ring8_cap], data, size);
    if (ring8_len == 2 * RING8_MAX)
        ring8_len = RING8_MAX;
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_steps_ring8_records(void)
{
    return (int64_t)(ring8_len < ring8_cap ? ring8_len : ring8_cap);
}

/* ---- twin 1: a bounded LRU whose index doubles while it fills ---------- */

enum { STEPS_LRU_CAP = 6000, KEY_MAX = 32 };

struct lnode {
    struct lnode *hnext, *prev, *next;
    uint64_t hash;
    size_t len;
    uint8_t key[KEY_MAX];
};

static struct lnode **lru_tab;
static size_t lru_nb;
static struct lnode *lru_head, *lru_tail;
static int64_t lru_count;

static uint64_t hash_key(const uint8_t *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++) {
        h ^= key[i];
        h *= 0x100000001b3u;
    }
    return h;
}

/* Double the index (64 buckets first); on failure keep the old one. */
static void lru_rehash(void)
{
    size_t nb = lru_nb ? 2 * lru_nb : 64;
    struct lnode **t = calloc(nb, sizeof *t);
    if (t == NULL)
        return;
    for (size_t i = 0; i < lru_nb; i++) {
        for (struct lnode *e = lru_tab[i], *nx; e != NULL; e = nx) {
            nx = e->hnext;
            e->hnext = t[e->hash & (nb - 1)];
            t[e->hash & (nb - 1)] = e;
        }
    }
    free(lru_tab);
    lru_tab = t;
    lru_nb = nb;
}

static void lru_unlink(struct lnode *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        lru_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        lru_tail = e->prev;
}

static void lru_front(struct lnode *e)
{
    e->prev = NULL;
    e->next = lru_head;
    if (lru_head)
        lru_head->prev = e;
    lru_head = e;
    if (!lru_tail)
        lru_tail = e;
}

static void lru_unhash(struct lnode *e)
{
    struct lnode **p = &lru_tab[e->hash & (lru_nb - 1)];
    while (*p != e)
        p = &(*p)->hnext;
    *p = e->hnext;
}

LH_EXPORT int steps_lru_put(const uint8_t *data, size_t size)
{
    if (size > KEY_MAX)
        size = KEY_MAX;
    if (lru_nb == 0 || lru_count >= (int64_t)lru_nb)
        lru_rehash();
    if (lru_nb == 0)
        return 0;
    uint64_t h = hash_key(data, size);
    for (struct lnode *e = lru_tab[h & (lru_nb - 1)]; e; e = e->hnext) {
        if (e->hash == h && e->len == size &&
            (size == 0 || memcmp(e->key, data, size) == 0)) {
            lru_unlink(e);
            lru_front(e);
            return 0;
        }
    }
    struct lnode *e;
    if (lru_count >= STEPS_LRU_CAP) {
        e = lru_tail;               /* recycle the least recently used */
        lru_unlink(e);
        lru_unhash(e);
        lru_count--;
    } else if ((e = malloc(sizeof *e)) == NULL) {
        return 0;
    }
    e->hash = h;
    e->len = size;
    if (size > 0)
        memcpy(e->key, data, size);
    e->hnext = lru_tab[h & (lru_nb - 1)];
    lru_tab[h & (lru_nb - 1)] = e;
    lru_front(e);
    lru_count++;
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_steps_lru_entries(void)
{
    return lru_count;
}

/* ---- twin 2: an arena that grows to its largest request ---------------- */

static uint8_t *arena;
static size_t arena_cap;

LH_EXPORT int steps_arena_run(const uint8_t *data, size_t size)
{
    uint32_t want = 0;
    for (size_t i = 0; i < 4 && i < size; i++)
        want |= (uint32_t)data[i] << (8 * i);
    if (want > (1u << 20))
        want = 1u << 20;
    if (want > arena_cap) {
        size_t cap = arena_cap ? arena_cap : 4096;
        while (cap < want)
            cap *= 2;
        uint8_t *a = realloc(arena, cap);
        if (a == NULL)
            return 0;
        arena = a;
        arena_cap = cap;
    }
    if (arena != NULL && want > 0) {
        memset(arena, 0xa5, want);  /* the request's scratch work */
        lh_escape(arena);
    }
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_steps_arena_bytes(void)
{
    return (int64_t)arena_cap;
}

/* ---- twin 3: a page cache over a bounded key set ----------------------- */

enum {
    STEPS_PAGE_KEYS = 2048,
    PAGE_SIZE_B = 4096,
    ENTRY_SIZE = 64,
    PER_PAGE = PAGE_SIZE_B / ENTRY_SIZE,
    MAX_PAGES = STEPS_PAGE_KEYS / PER_PAGE,
};

/* The index is static, so only pages show up as heap. */
static uint8_t *pages[MAX_PAGES];
static int npages;
static uint32_t slot_of[STEPS_PAGE_KEYS];   /* slot + 1; 0: not cached */
static uint32_t nslots;

LH_EXPORT int steps_page_put(const uint8_t *data, size_t size)
{
    uint32_t key = 0;
    for (size_t i = 0; i < 2 && i < size; i++)
        key |= (uint32_t)data[i] << (8 * i);
    key %= STEPS_PAGE_KEYS;
    if (slot_of[key] == 0) {
        if (nslots == (uint32_t)npages * PER_PAGE) {
            uint8_t *p = malloc(PAGE_SIZE_B);
            if (p == NULL)
                return 0;
            pages[npages++] = p;
        }
        slot_of[key] = ++nslots;
    }
    uint32_t s = slot_of[key] - 1;
    uint8_t *entry = pages[s / PER_PAGE] +
                     (size_t)(s % PER_PAGE) * ENTRY_SIZE;
    memset(entry, 0, ENTRY_SIZE);
    memcpy(entry, data, size < ENTRY_SIZE ? size : ENTRY_SIZE);
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_steps_pages(void)
{
    return npages;
}
