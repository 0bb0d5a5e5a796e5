/*
 * sites.c - from items with stacks to sites: grouping by blamed frame,
 * tallies for details, finishing fd and thread sites.
 */
#include "diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* ---- grouping ------------------------------------------------------------ */

/* Distinct stacks symbolized per diff: the rest are noise-sized. */
#define GROUP_MAX_STACKS 256

typedef struct grp_stack {
    int id;
    double bytes, count;
    int site;                   /* index into the merged sites */
} grp_stack;

static int cmp_weight(double ba, double ca, double bb, double cb)
{
    if (ba != bb)
        return ba > bb ? -1 : 1;
    if (ca != cb)
        return ca > cb ? -1 : 1;
    return 0;
}

static int cmp_grp_stack(const void *x, const void *y)
{
    const grp_stack *a = x, *b = y;
    return cmp_weight(a->bytes, a->count, b->bytes, b->count);
}

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

typedef struct site_rank {
    int idx;
    double bytes, count;
} site_rank;

static int cmp_site_rank(const void *x, const void *y)
{
    const site_rank *a = x, *b = y;
    int c = cmp_weight(a->bytes, a->count, b->bytes, b->count);
    return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

int lh_sites_group(const int *ids, const double *bytes, const double *count,
                   int n, lh_site *out, int max, int *group)
{
    if (group)
        for (int i = 0; i < n; i++)
            group[i] = -1;
    if (n <= 0 || max <= 0)
        return 0;
    int *sorted = lh_raw_malloc((size_t)n * sizeof *sorted);
    grp_stack *gs = lh_raw_calloc((size_t)n, sizeof *gs);
    lh_site *sites = NULL;
    site_rank *rank = NULL;
    int ng = 0, ns = 0, written = 0;
    if (!sorted || !gs)
        goto out;
    memcpy(sorted, ids, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_int);
    for (int i = 0; i < n; i++)
        if (i == 0 || sorted[i] != sorted[i - 1])
            gs[ng++].id = sorted[i];
    /* Weights per distinct stack (binary search: ids are sorted). */
    for (int i = 0; i < n; i++) {
        int lo = 0, hi = ng - 1;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (gs[mid].id < ids[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        gs[lo].bytes += bytes ? bytes[i] : 0;
        gs[lo].count += count ? count[i] : 1;
    }
    qsort(gs, (size_t)ng, sizeof *gs, cmp_grp_stack);
    if (ng > GROUP_MAX_STACKS)
        ng = GROUP_MAX_STACKS;

    /* One addr2line per object for everything at once. */
    size_t npcs = 0;
    for (int g = 0; g < ng; g++) {
        int k;
        lh_stack_pcs(gs[g].id, &k);
        npcs += (size_t)k;
    }
    uintptr_t *all = lh_raw_malloc((npcs ? npcs : 1) * sizeof *all);
    if (all) {
        size_t at = 0;
        for (int g = 0; g < ng; g++) {
            int k;
            const uintptr_t *p = lh_stack_pcs(gs[g].id, &k);
            if (p)
                memcpy(all + at, p, (size_t)k * sizeof *p);
            at += p ? (size_t)k : 0;
        }
        lh_symbolize_batch(all, (int)at, 1);
        lh_raw_free(all);
    }

    sites = lh_raw_calloc((size_t)ng, sizeof *sites);
    if (!sites)
        goto out;
    for (int g = 0; g < ng; g++) {
        lh_site tmp;
        int k;
        const uintptr_t *p = lh_stack_pcs(gs[g].id, &k);
        memset(&tmp, 0, sizeof tmp);
        if (p) {
            lh_site_from_stack(&tmp, p, k);
        } else {
            snprintf(tmp.func, sizeof tmp.func, "(not recorded)");
            snprintf(tmp.folded, sizeof tmp.folded, "(not recorded)");
        }
        /* Same blamed frame calling the same library function: one site
         * (the stacks differ only above it, inside the library or by
         * which inlined copy): the heaviest stack's folded stays. */
        int m = 0;
        for (; m < ns; m++)
            if (strcmp(sites[m].func, tmp.func) == 0 &&
                strcmp(sites[m].location, tmp.location) == 0 &&
                strcmp(sites[m].via, tmp.via) == 0)
                break;
        if (m == ns)
            sites[ns++] = tmp;
        sites[m].bytes += gs[g].bytes;
        sites[m].count += gs[g].count;
        gs[g].site = m;
    }
    rank = lh_raw_malloc((size_t)(ns ? ns : 1) * sizeof *rank);
    if (!rank)
        goto out;
    for (int m = 0; m < ns; m++) {
        rank[m].idx = m;
        rank[m].bytes = sites[m].bytes;
        rank[m].count = sites[m].count;
    }
    qsort(rank, (size_t)ns, sizeof *rank, cmp_site_rank);
    written = ns < max ? ns : max;
    int *where = lh_raw_malloc((size_t)(ns ? ns : 1) * sizeof *where);
    if (!where) {
        written = 0;
        goto out;
    }
    for (int m = 0; m < ns; m++)
        where[m] = -1;
    for (int r = 0; r < written; r++) {
        out[r] = sites[rank[r].idx];
        where[rank[r].idx] = r;
    }
    if (group) {
        for (int i = 0; i < n; i++) {
            for (int g = 0; g < ng; g++)
                if (gs[g].id == ids[i]) {
                    group[i] = where[gs[g].site];
                    break;
                }
        }
    }
    lh_raw_free(where);
out:
    lh_raw_free(sorted);
    lh_raw_free(gs);
    lh_raw_free(sites);
    lh_raw_free(rank);
    return written;
}

/* ---- tallies for site details ------------------------------------------ */

int lh_tally_add(lh_tally *t, int nt, const char *name)
{
    int j = 0;
    while (j < nt && strcmp(t[j].name, name) != 0)
        j++;
    if (j == nt)
        snprintf(t[nt++].name, sizeof t->name, "%s", name);
    t[j].n++;
    return nt;
}

static int cmp_tally(const void *x, const void *y)
{
    const lh_tally *a = x, *b = y;
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return strcmp(a->name, b->name);
}

void lh_tally_format(lh_tally *t, int nt, char *out, size_t len)
{
    out[0] = '\0';
    qsort(t, (size_t)nt, sizeof *t, cmp_tally);
    size_t at = 0;
    for (int j = 0; j < nt; j++) {
        char part[300];
        int w = snprintf(part, sizeof part, "%s%s x %d", j ? ", " : "",
                         t[j].name, t[j].n);
        if (w < 0)
            break;
        /* Room for this part and, when more follow, for saying so. */
        size_t tail = j + 1 < nt ? 24 : 0;
        if (j > 0 && at + (size_t)w + tail + 1 > len) {
            snprintf(out + at, len - at, ", ... (+%d more)", nt - j);
            break;
        }
        snprintf(out + at, len - at, "%s", part);
        at = strlen(out);
        if (at + 1 >= len)
            break;
    }
}

void lh_site_describe(lh_site *s, const char *summary,
                      const char *unrecorded)
{
    char ctx[sizeof s->detail];
    snprintf(ctx, sizeof ctx, "%s", s->detail);
    if (strcmp(s->func, "(not recorded)") == 0)
        snprintf(s->func, sizeof s->func, "%s", unrecorded);
    if (ctx[0])
        snprintf(s->detail, sizeof s->detail, "%s; %s", summary, ctx);
    else
        snprintf(s->detail, sizeof s->detail, "%s", summary);
    s->bytes = 0;
}
