/*
 * render.c - a glyph render cache that holds its bitmaps in mapped pages,
 * not in malloc'd blocks.
 *
 * A request is tag[4] payload.  A DRAW request renders its payload into a
 * fresh anonymous 4 KiB page (mmap) and caches it in one of RENDER_SLOTS
 * slots, chosen by a hash of the payload.  Other requests (TEXT, NOOP, ...)
 * are checksummed and map nothing.
 *
 * render_draw_leaky overwrites the slot without unmapping the page that
 * was there: one page (4,096 B, 1 mapping) leaks per DRAW request, replays
 * of the same input included.  The pages stay mapped but unreferenced; no
 * malloc counter moves, and proc.maps stays flat because the kernel merges
 * adjacent anonymous mappings.  Only mapped memory shows it.
 *
 * render_draw_ring is the fixed version: it unmaps the slot's old page
 * before storing the new one, so it maps and unmaps as much as the leaky
 * op does, and its cache plateaus at RENDER_SLOTS pages (256 KiB).
 *
 * Gauge: target.render_slots_used (slots holding a page, either op).
 */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "lh_target.h"

#define RENDER_SLOTS 64
#define PAGE 4096

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static void *slots[RENDER_SLOTS];
static int64_t used;
static volatile uint64_t checksum;

static uint64_t hash(const uint8_t *d, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        h ^= d[i];
        h *= 0x100000001b3u;
    }
    return h;
}

/* The "bitmap": the payload repeated over the page. */
static void *render(const uint8_t *payload, size_t n)
{
    uint8_t *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return NULL;
    for (size_t i = 0; i < PAGE; i++)
        page[i] = n ? payload[i % n] : (uint8_t)i;
    return page;
}

static int is_draw(const uint8_t *data, size_t size)
{
    return size >= 4 && memcmp(data, "DRAW", 4) == 0;
}

static void other(const uint8_t *data, size_t size)
{
    checksum += hash(data, size);
}

LH_EXPORT int render_draw_leaky(const uint8_t *data, size_t size)
{
    if (!is_draw(data, size)) {
        other(data, size);
        return 0;
    }
    void *page = render(data + 4, size - 4);
    if (!page)
        return 0;
    size_t k = hash(data + 4, size - 4) % RENDER_SLOTS;
    pthread_mutex_lock(&mu);
    if (!slots[k])
        used++;
    slots[k] = page;            /* the old page is never unmapped */
    pthread_mutex_unlock(&mu);
    return 0;
}

LH_EXPORT int render_draw_ring(const uint8_t *data, size_t size)
{
    if (!is_draw(data, size)) {
        other(data, size);
        return 0;
    }
    void *page = render(data + 4, size - 4);
    if (!page)
        return 0;
    size_t k = hash(data + 4, size - 4) % RENDER_SLOTS;
    pthread_mutex_lock(&mu);
    void *old = slots[k];
    if (!old)
        used++;
    slots[k] = page;
    pthread_mutex_unlock(&mu);
    if (old)
        munmap(old, PAGE);
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_render_slots_used(void)
{
    pthread_mutex_lock(&mu);
    int64_t n = used;
    pthread_mutex_unlock(&mu);
    return n;
}
