/*
 * pagecache.c - a page cache bounded by size, and its leaky twin
 * (tests/e2e_fuzz_bounded.sh).
 *
 * Every call reads a page no one read before (a counter in the key):
 * page_read keeps the last 512 pages of 4 KiB (2 MiB) and frees the
 * oldest; page_read_leaky never frees one.  The bounded cache fills past
 * a confirmation's 64 replays and grows through them like a leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
#define PAGES 512

struct page {
    struct page *next;
    uint64_t key;
    char data[4096];
};

static struct page *newest, *oldest;
static size_t npages;
static uint64_t reads;

static struct page *load(const uint8_t *d, size_t n)
{
    struct page *p = malloc(sizeof *p);
    p->key = reads++;
    p->next = NULL;
    memcpy(p->data, d, n < sizeof p->data ? n : sizeof p->data);
    if (newest)
        newest->next = p;
    else
        oldest = p;
    newest = p;
    npages++;
    return p;
}

EXPORT int page_read(const uint8_t *d, size_t n)
{
    load(d, n);
    while (npages > PAGES) {
        struct page *p = oldest;
        oldest = p->next;
        free(p);
        npages--;
    }
    return 0;
}

EXPORT int page_read_leaky(const uint8_t *d, size_t n)
{
    load(d, n);
    return 0;
}
