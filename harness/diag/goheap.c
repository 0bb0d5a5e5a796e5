/*
 * goheap.c - the Go heap profile: parsing its text, and the allocation
 * stacks whose in-use bytes grew between two snapshots.
 *
 * Sampling: the profile records about one allocation in every
 * runtime.MemProfileRate bytes (the probe sets 4096) with its stack.  The
 * text gives the sampled counts as they are; they are scaled up here as
 * pprof scales its protobuf, each record by 1/(1-exp(-avgsize/rate)).
 *
 * Sites are ordered by bytes, except that stacks made of runtime frames
 * alone come last (see growth_before).  Stacks that blame one function of
 * the target's own are one site (see merge_own).
 */
#include "godiag_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* ---- the heap profile (debug=1 text) ----------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t frames_key(const lh_goframe *f, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h = fnv(h, f[i].func, strlen(f[i].func) + 1);
        h = fnv(h, f[i].file, strlen(f[i].file) + 1);
        h = fnv(h, &f[i].line, sizeof f[i].line);
    }
    return h;
}

/* pprof's scaleHeapSample: a record of objects of one size was sampled
 * with probability 1-exp(-size/rate) per object. */
static void unsample(double *objects, double *bytes, int64_t rate)
{
    if (*objects <= 0 || *bytes <= 0) {
        *objects = *bytes = 0;
        return;
    }
    if (rate <= 1)                  /* every allocation, or unknown */
        return;
    double scale = 1 / (1 - exp(-(*bytes / *objects) / (double)rate));
    *objects *= scale;
    *bytes *= scale;
}

void lh_go_heap_free(heapprof *h)
{
    lh_raw_free(h->text);
    lh_raw_free(h->frames);
    lh_raw_free(h->recs);
    memset(h, 0, sizeof *h);
}

/* The probe's leakhound_go_call_labeled, around a labeled step. */
#define LABELED_CALL "leakhound.dev/probe.leakhound_go_call_labeled"

static int labeled_call_glue(const lh_goframe *f)
{
    return starts(f->func, "leakhound.dev/probe.") ||
           strcmp(f->func, "runtime.cgocall") == 0 ||
           strcmp(f->func, "runtime.systemstack_switch") == 0;
}

/* A Go stack does not end where C called in when C was itself called from
 * Go: an op called inside a labeled step has the probe's wrapper and the
 * cgo glue around it below runtime.cgocallback.  Cut them, so that a
 * site's stack reads the same labeled or not and in_probe does not take
 * the target's allocations for the probe's. */
static size_t without_labeled_call(const lh_goframe *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!starts(f[i].func, LABELED_CALL))
            continue;
        while (i > 0 && labeled_call_glue(&f[i - 1]))
            i--;
        return i;
    }
    return n;
}

/*
 * "heap profile: N: M [A: B] @ heap/2*RATE" then records
 *     IN_OBJECTS: IN_BYTES [ALLOC_OBJECTS: ALLOC_BYTES] @ 0xPC ...
 *     #\t0xPC\tfunc+0xOFF\tfile:LINE        (one per frame, runtime's top
 *                                            frames left out by pprof)
 * separated by blank lines, then "# runtime.MemStats" and "# Name = N"
 * lines, which end the last record.  Takes text (lh_raw_malloc'd, len
 * bytes plus a NUL) over; 0, or -1 (h empty) when out of memory or when no
 * header was found.
 */
int lh_go_heap_parse(heapprof *h, char *text, size_t len)
{
    memset(h, 0, sizeof *h);
    h->text = text;
    text[len] = '\0';
    long cur = -1;
    int header = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *q;
        if (starts(line, "heap profile: ")) {
            header = 1;
            if ((q = strstr(line, "@ heap/")) != NULL)
                h->rate = strtoll(q + strlen("@ heap/"), NULL, 10) / 2;
            cur = -1;
        } else if (*line >= '0' && *line <= '9' && strstr(line, " @")) {
            char *end;
            double objects = strtod(line, &end);
            double bytes = *end == ':' ? strtod(end + 1, NULL) : 0;
            /* "[alloc_objects: alloc_bytes]" follows */
            double aobjects = 0, abytes = 0;
            if ((q = strchr(line, '[')) != NULL) {
                aobjects = strtod(q + 1, &end);
                abytes = *end == ':' ? strtod(end + 1, NULL) : 0;
            }
            if (lh_grow((void **)&h->recs, &h->rcap, h->nrecs + 1,
                     sizeof *h->recs) < 0)
                goto fail;
            h->recs[h->nrecs] = (heaprec){ objects, bytes, aobjects, abytes,
                                           h->nframes, 0, 0 };
            cur = (long)h->nrecs++;
        } else if (line[0] == '#' && line[1] == '\t' && cur >= 0) {
            if (lh_grow((void **)&h->frames, &h->fcap, h->nframes + 1,
                     sizeof *h->frames) < 0)
                goto fail;
            lh_goframe_parse(line + 1, &h->frames[h->nframes++]);
            h->recs[cur].nframes++;
        } else {
            cur = -1;                   /* blank line, MemStats, ... */
        }
        line = nl ? nl + 1 : NULL;
    }
    if (!header)
        goto fail;
    for (size_t i = 0; i < h->nrecs; i++) {
        heaprec *r = &h->recs[i];
        r->nframes = without_labeled_call(h->frames + r->first, r->nframes);
        r->key = frames_key(h->frames + r->first, r->nframes);
        unsample(&r->objects, &r->bytes, h->rate);
        unsample(&r->aobjects, &r->abytes, h->rate);
    }
    return 0;
fail:
    lh_go_heap_free(h);
    return -1;
}

/* ---- sites that grew --------------------------------------------------- */

/* In-use objects and bytes per stack: one profile lists a stack once per
 * object size. */
typedef struct stack_sum {
    long rep;               /* a record with that stack; -1: empty slot */
    double objects, bytes;
    double aobjects, abytes;
} stack_sum;

typedef struct sum_table {
    stack_sum *slot;
    size_t mask;
} sum_table;

static stack_sum *sum_find(const sum_table *t, const heapprof *h,
                           const heaprec *r, const heapprof *rh)
{
    for (size_t i = r->key & t->mask;; i = (i + 1) & t->mask) {
        stack_sum *s = &t->slot[i];
        if (s->rep < 0)
            return s;
        const heaprec *o = &h->recs[s->rep];
        if (o->key == r->key && o->nframes == r->nframes &&
            frames_eq(h->frames + o->first, rh->frames + r->first,
                      r->nframes))
            return s;
    }
}

static int sum_stacks(sum_table *t, const heapprof *h)
{
    size_t n = h->nrecs;
    size_t cap = lh_next_cap(8, n < SIZE_MAX / 2 ? 2 * n : SIZE_MAX, 0,
                             sizeof *t->slot);
    t->slot = cap ? lh_raw_malloc(cap * sizeof *t->slot) : NULL;
    if (!t->slot)
        return -1;
    for (size_t i = 0; i < cap; i++)
        t->slot[i].rep = -1;
    t->mask = cap - 1;
    for (size_t i = 0; i < h->nrecs; i++) {
        stack_sum *s = sum_find(t, h, &h->recs[i], h);
        if (s->rep < 0)
            *s = (stack_sum){ (long)i, 0, 0, 0, 0 };
        s->objects += h->recs[i].objects;
        s->bytes += h->recs[i].bytes;
        s->aobjects += h->recs[i].aobjects;
        s->abytes += h->recs[i].abytes;
    }
    return 0;
}

typedef struct growth {
    long rec;               /* in the end profile */
    int runtime_only;       /* no frame of the program's to show */
    double objects, bytes;
    double order;           /* larger first: bytes, or objects */
    const lh_goframe *blame, *inner;    /* lh_go_pick's */
    int own;                /* blame is the target's own code */
    long leader;            /* the rec of the site it counts in; -1: its
                             * own */
} growth;

/* Stacks with a frame of the program's first: a runtime-only stack
 * (goroutine structs from runtime.malg, which the profile records without
 * a caller) says how much, not where, even when it is the largest.  Then
 * more bytes first; ties by record order (deterministic). */
static int growth_before(const growth *x, const growth *y)
{
    if (x->runtime_only != y->runtime_only)
        return x->runtime_only < y->runtime_only;
    if (x->order != y->order)
        return x->order > y->order;
    return x->rec < y->rec;
}

static void sort_growth(growth *g, size_t n)
{
    /* Shell sort (Ciura's gaps): no allocation. */
    static const size_t gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
    for (size_t gi = 0; gi < sizeof gaps / sizeof gaps[0]; gi++) {
        size_t gap = gaps[gi];
        for (size_t i = gap; i < n; i++) {
            growth v = g[i];
            size_t j = i;
            for (; j >= gap && growth_before(&v, &g[j - gap]); j -= gap)
                g[j] = g[j - gap];
            g[j] = v;
        }
    }
}

/* Same function in the same file, the line aside (as signatures). */
static int same_function(const lh_goframe *a, const lh_goframe *b)
{
    return strcmp(a->func, b->func) == 0 && strcmp(a->file, b->file) == 0;
}

/*
 * A function of the target's own holds what it allocated through every
 * library function it called: time.After's timer, its channel and the
 * runtime's timer heap; a metrics library's histogram, its buckets and its
 * map entry.  Each is a stack of its own in the profile, none of them the
 * larger part of the growth, yet the leak is the function's.  So stacks
 * that blame one own function (at any line) are one site, named after the
 * heaviest of them (g is sorted) and sorted by their sum; the others get
 * its rec as leader and are not sites of their own.
 */
static void merge_own(growth *g, size_t n, int allocs)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; g[i].own && j < i; j++) {
            if (g[j].leader < 0 && g[j].own &&
                same_function(g[j].blame, g[i].blame)) {
                g[i].leader = g[j].rec;
                g[j].objects += g[i].objects;
                g[j].bytes += g[i].bytes;
                g[j].order = allocs ? g[j].objects : g[j].bytes;
                break;
            }
        }
    }
    sort_growth(g, n);
}

/* The part of a site that one stack holds, for the merged detail. */
static double part_of(const growth *x, int allocs)
{
    return allocs ? x->objects : x->bytes;
}

/* A merged site's detail: where each of its stacks allocated, heaviest
 * first, with its share of the site -- the first with the library path
 * from the function, the others by the innermost frame (what fits):
 * "allocated in time.After → time.NewTimer sleep.go:87 (60%);
 * time.NewTimer sleep.go:88 (40%)". */
static void merged_detail(lh_site *s, const growth *g, size_t n,
                          const growth *lead, const heapprof *h, int allocs)
{
    double total = part_of(lead, allocs), alone = total;
    for (size_t i = 0; i < n; i++)
        if (g[i].leader == lead->rec)
            alone -= part_of(&g[i], allocs);
    snprintf(s->detail, sizeof s->detail, "allocated in ");
    for (size_t i = 0; i < n; i++) {
        if (&g[i] != lead && g[i].leader != lead->rec)
            continue;
        const heaprec *r = &h->recs[g[i].rec];
        char path[224], entry[240];
        path[0] = '\0';
        if (&g[i] == lead)
            lh_go_path(path, sizeof path, h->frames + r->first, r->nframes,
                       g[i].blame, g[i].inner);
        if (!*path)
            lh_goframe_format(g[i].inner, path, sizeof path);
        double part = &g[i] == lead ? alone : part_of(&g[i], allocs);
        snprintf(entry, sizeof entry, "%s%s (%.0f%%)",
                 &g[i] == lead ? "" : "; ", path,
                 total > 0 ? 100.0 * part / total : 0.0);
        if (strlen(s->detail) + strlen(entry) + sizeof "; …" >
            sizeof s->detail) {
            lh_go_append(s->detail, sizeof s->detail, "; …");
            break;
        }
        lh_go_append(s->detail, sizeof s->detail, "%s", entry);
    }
}

static void heap_detail(lh_site *s, const lh_goframe *f, size_t n,
                        const lh_goframe *blame, const lh_goframe *inner)
{
    if (blame && lh_goframe_is_runtime(blame)) {
        /* pprof prints the runtime's frames only when there is nothing
         * else: allocated on the system stack, where the profile loses
         * the caller. */
        if (strcmp(blame->func, "runtime.malg") == 0)
            snprintf(s->detail, sizeof s->detail,
                     "goroutine structs (runtime.malg); the profile does "
                     "not record who started them: see the goroutine "
                     "sites");
        else
            snprintf(s->detail, sizeof s->detail,
                     "allocated inside the runtime; the profile does not "
                     "record its caller");
        return;
    }
    char path[224];
    lh_go_path(path, sizeof path, f, n, blame, inner);
    if (*path)
        snprintf(s->detail, sizeof s->detail, "allocated in %s", path);
}

/* 1 when one of the stack's frames is a function named in funcs
 * (NULL-terminated). */
static int passes_through(const lh_goframe *f, size_t n,
                          const char *const *funcs)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; funcs[k]; k++)
            if (strcmp(f[i].func, funcs[k]) == 0)
                return 1;
    return 0;
}

/* Stacks whose in-use bytes grew, or (allocs) whose allocation count
 * grew, from a to b; only those through one of the functions in through
 * when it is not NULL. */
static int heap_growth(const lh_gosnap *a, const lh_gosnap *b, lh_site *out,
                       int max, int allocs, const char *const *through)
{
    if (!a || !b || !a->has_heap || !b->has_heap || max <= 0)
        return 0;
    const heapprof *ha = &a->heap, *hb = &b->heap;
    sum_table ta = { 0 }, tb = { 0 };
    growth *g = NULL;
    int k = 0;
    if (sum_stacks(&ta, ha) < 0 || sum_stacks(&tb, hb) < 0)
        goto done;
    g = lh_raw_malloc((hb->nrecs + 1) * sizeof *g);
    if (!g)
        goto done;
    size_t n = 0;
    for (size_t i = 0; i < hb->nrecs; i++) {
        const heaprec *r = &hb->recs[i];
        stack_sum *sb = sum_find(&tb, hb, r, hb);
        if (sb->rep != (long)i ||       /* the stack's first record only */
            lh_go_in_probe(hb->frames + r->first, r->nframes) ||
            (through &&
             !passes_through(hb->frames + r->first, r->nframes, through)))
            continue;
        stack_sum *sa = sum_find(&ta, ha, r, hb);
        double objects, bytes;
        if (allocs) {
            objects = sb->aobjects - (sa->rep >= 0 ? sa->aobjects : 0);
            bytes = sb->abytes - (sa->rep >= 0 ? sa->abytes : 0);
            if (objects < 0.5)
                continue;
        } else {
            objects = sb->objects - (sa->rep >= 0 ? sa->objects : 0);
            bytes = sb->bytes - (sa->rep >= 0 ? sa->bytes : 0);
            if (bytes <= 0)
                continue;
        }
        const lh_goframe *f = hb->frames + r->first;
        size_t j = 0;
        while (j < r->nframes && lh_goframe_is_runtime(&f[j]))
            j++;
        growth *x = &g[n++];
        *x = (growth){ (long)i, j == r->nframes, objects, bytes,
                       allocs ? objects : bytes, NULL, NULL, 0, -1 };
        x->own = lh_go_pick(f, r->nframes, b->goroot, b->mods, &x->blame,
                            &x->inner);
    }
    sort_growth(g, n);
    merge_own(g, n, allocs);
    for (size_t i = 0; i < n && k < max; i++) {
        if (g[i].leader >= 0)
            continue;           /* counted in its function's site */
        const heaprec *r = &hb->recs[g[i].rec];
        const lh_goframe *f = hb->frames + r->first;
        const lh_goframe *blame = g[i].blame, *inner = g[i].inner;
        int own = g[i].own;
        /* Made on a goroutine with no frame of the target's own (a
         * connection's buffers, on net/http's goroutines): who started
         * such goroutines, when the runtime kept it. */
        const lh_goframe *from = NULL, *via, *af;
        size_t an;
        if (!own && r->nframes && !lh_goframe_is_runtime(blame) &&
            !lh_go_started_from(b, &f[r->nframes - 1], &from, &via, &af,
                                &an))
            from = NULL;
        lh_site *s = &out[k++];
        lh_go_fill_site(s, f, r->nframes, from ? from : blame);
        heap_detail(s, f, r->nframes, blame, inner);
        for (size_t j = i + 1; own && j < n; j++)
            if (g[j].leader == g[i].rec) {
                merged_detail(s, g, n, &g[i], hb, allocs);
                break;
            }
        if (from) {
            /* "allocated in ROOT → … → INNER file:line on a goroutine
             * started via A → … → B" */
            const lh_goframe *root = &f[r->nframes - 1];
            char where[224];
            lh_goframe_format(inner, where, sizeof where);
            snprintf(s->detail, sizeof s->detail, "allocated in %s%s%s",
                     inner == root ? "" : root->func,
                     inner == root ? "" : inner + 1 == root ? " → "
                                                            : " → … → ",
                     where);
            char path[224];
            lh_go_path(path, sizeof path, af, an, from, via);
            char *end = strrchr(path, ' ');
            if (end && via != from && strchr(end, ':'))
                *end = '\0';           /* names only, as goroutines.c */
            lh_go_append(s->detail, sizeof s->detail, " on a goroutine "
                         "started via %s", path);
        }
        s->bytes = g[i].bytes;
        s->count = g[i].objects > 0 ? g[i].objects : 0;
    }
done:
    lh_raw_free(ta.slot);
    lh_raw_free(tb.slot);
    lh_raw_free(g);
    return k;
}

int lh_godiag_heap(const lh_gosnap *a, const lh_gosnap *b, lh_site *out,
                   int max)
{
    return heap_growth(a, b, out, max, 0, NULL);
}

int lh_godiag_heap_through(const lh_gosnap *a, const lh_gosnap *b,
                           const char *const *funcs, lh_site *out, int max)
{
    return heap_growth(a, b, out, max, 0, funcs);
}

int lh_godiag_heap_allocs(const lh_gosnap *a, const lh_gosnap *b,
                          lh_site *out, int max)
{
    return heap_growth(a, b, out, max, 1, NULL);
}
