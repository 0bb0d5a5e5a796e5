/*
 * mmapsites.c - where mapped memory is held: the stack of every mapping.
 *
 * Mappings are few (each is a syscall), so every counted one is recorded,
 * not sampled: the interposer calls our hook with the return address into
 * mmap's caller, and keeps the interned stack id as the mapping's tag, for
 * its pieces too.  A snapshot is the live bytes and mappings per stack,
 * read from the interposer's table; the diff is grouped by blamed frame.
 */
#include "diag.h"

#include <stdatomic.h>
#include <string.h>

#include "alloc.h"
#include "cgocaller.h"
#include "interpose.h"

__attribute__((noinline))
static int lh_ms_hook(uintptr_t ra)
{
    uintptr_t pcs[LH_SITE_MAX_FRAMES];
    int n = lh_backtrace_from(pcs, LH_SITE_MAX_FRAMES, ra);
    return n > 0 ? lh_cgo_intern(pcs, n) : -1;  /* Go's caller via cgo */
}

void lh_mmapsites_start(void)
{
    lh_backtrace_init();
    lh_mmap_set_hook(lh_ms_hook);
}

struct lh_mmapsnap {
    int n;                      /* stack ids 0..n-1 */
    double *bytes, *count;
    int oom;
};

static void add(int tag, size_t len, void *ud)
{
    lh_mmapsnap *s = ud;
    if (tag < 0 || s->oom)
        return;
    if (tag >= s->n) {
        int n = s->n ? s->n : 64;
        while (n <= tag)
            n *= 2;
        double *b = lh_raw_realloc(s->bytes, (size_t)n * sizeof *b);
        if (b)
            s->bytes = b;
        double *c = b ? lh_raw_realloc(s->count, (size_t)n * sizeof *c)
                      : NULL;
        if (!c) {
            s->oom = 1;
            return;
        }
        s->count = c;
        memset(s->bytes + s->n, 0, (size_t)(n - s->n) * sizeof *b);
        memset(s->count + s->n, 0, (size_t)(n - s->n) * sizeof *c);
        s->n = n;
    }
    s->bytes[tag] += (double)len;
    s->count[tag] += 1;
}

lh_mmapsnap *lh_mmapsites_snapshot(void)
{
    lh_mmapsnap *s = lh_raw_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    lh_mmap_each(add, s);
    if (s->oom) {
        lh_mmapsites_free(s);
        return NULL;
    }
    return s;
}

void lh_mmapsites_free(lh_mmapsnap *s)
{
    if (!s)
        return;
    lh_raw_free(s->bytes);
    lh_raw_free(s->count);
    lh_raw_free(s);
}

int lh_mmapsites_diff(const lh_mmapsnap *a, const lh_mmapsnap *b,
                      lh_site *out, int max)
{
    if (!a || !b || max <= 0 || b->n == 0)
        return 0;
    int n = b->n, m = 0, written = 0;
    int *ids = lh_raw_malloc((size_t)n * sizeof *ids);
    double *db = lh_raw_malloc((size_t)n * sizeof *db);
    double *dc = lh_raw_malloc((size_t)n * sizeof *dc);
    if (ids && db && dc) {
        for (int i = 0; i < n; i++) {
            double gb = b->bytes[i] - (i < a->n ? a->bytes[i] : 0);
            double gc = b->count[i] - (i < a->n ? a->count[i] : 0);
            if (gb <= 0)
                continue;
            ids[m] = i;
            db[m] = gb;
            dc[m] = gc > 0 ? gc : 0;
            m++;
        }
        written = lh_sites_group(ids, db, dc, m, out, max, NULL);
    }
    lh_raw_free(ids);
    lh_raw_free(db);
    lh_raw_free(dc);
    return written;
}
