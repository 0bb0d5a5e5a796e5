/*
 * godiag.c - where a Go target holds its goroutines and its heap.
 *
 * A snapshot asks the target's Go probe for three texts:
 *   - every goroutine's stack as runtime.Stack prints it (the debug=2
 *     goroutine profile: with the state "[chan send]" and "created by",
 *     which the debug=1 profile leaves out); a probe that predates it
 *     gives the debug=1 profile instead (stacks only);
 *   - the heap profile as text (debug=1): per allocation stack, the
 *     objects and bytes in use;
 *   - the same heap profile as gzipped protobuf, only to be written out for
 *     `go tool pprof -base BASE END`;
 *   - when steps are labeled (lh_godiag_label_steps), the debug=1
 *     goroutine profile too, the only text with each goroutine's pprof
 *     labels: per stack and label set, a count.
 * Two snapshots (baseline, end) are diffed per stack: baseline stacks are
 * not blamed, only what they grew by.  A grown goroutine group gets the
 * labels whose count grew on its stack in the debug=1 profiles: which
 * thread's step started them (see attribute).
 *
 * Settle first.  The heap profile's in-use figures are those of the most
 * recent completed GC, not of the moment of the call: without a GC just
 * before, objects freed since the last one still count and recent
 * allocations do not.  leakhound_go_settle() (two GCs, finalizers and
 * exiting goroutines waited for) is what makes both texts mean "retained".
 *
 * A snapshot allocates in the Go heap: the texts and ~650 KiB of gzip
 * state for the protobuf, all garbage for the next settle to collect (the
 * probe makes its one-time tables when it loads), but the Go heap, and
 * RSS, grow to hold it for a while.  So at the baseline: settle, snapshot,
 * settle, sample.  Cost: 2-5 ms on a small heap, plus ~10 ms per 1,000
 * goroutines (printing their stacks stops the world).
 *
 * Sampling: the profile records about one allocation in every
 * runtime.MemProfileRate bytes (the probe sets 4096) with its stack.  The
 * text gives the sampled counts as they are; they are scaled up here as
 * pprof scales its protobuf, each record by 1/(1-exp(-avgsize/rate)).
 *
 * Blame: the innermost frame that is neither the runtime's nor the
 * standard library's, so that a ticker nobody stopped names the function
 * that called time.NewTicker rather than NewTicker; the standard-library
 * frame it happened in goes into the detail.  Heap sites are ordered by
 * bytes, except that stacks made of runtime frames alone come last (see
 * growth_before).  The probe's own stacks are left out.
 *
 * Memory comes from lh_raw_* (never counted by the interposer), and there
 * is no qsort (glibc's may call malloc).
 */
#include "diag.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goprofile.h"
#include "json.h"
#include "alloc.h"

/* ---- the heap profile (debug=1 text) ------------------------------------ */

typedef struct heaprec {
    double objects;         /* in use, estimated (sampling undone) */
    double bytes;
    size_t first;           /* its frames: frames[first..first+nframes) */
    size_t nframes;
    uint64_t key;           /* hash of the frames */
} heaprec;

typedef struct heapprof {
    char *text;             /* the text, cut in place; frames point in */
    lh_goframe *frames;     /* innermost first, per record */
    size_t nframes, fcap;
    heaprec *recs;
    size_t nrecs, rcap;
    int64_t rate;           /* MemProfileRate at the time; 0 unknown */
} heapprof;

struct lh_gosnap {
    lh_goprofile gr;        /* goroutines grouped by stack and state */
    int has_gr;
    heapprof heap;
    int has_heap;
    lh_goprofile lab;       /* the debug=1 profile: goroutines grouped
                             * by stack and pprof labels (read only when
                             * steps are labeled) */
    int has_lab;
    char *pb;               /* gzipped protobuf heap profile */
    size_t pblen;
    char goroot[512];       /* "GOROOT/src/" as the frames print it, or "" */
};


static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

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

static int frames_eq(const lh_goframe *a, const lh_goframe *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].line != b[i].line || strcmp(a[i].func, b[i].func) != 0 ||
            strcmp(a[i].file, b[i].file) != 0)
            return 0;
    return 1;
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

static void heap_free(heapprof *h)
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
static int heap_parse(heapprof *h, char *text, size_t len)
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
            if (lh_grow((void **)&h->recs, &h->rcap, h->nrecs + 1,
                     sizeof *h->recs) < 0)
                goto fail;
            h->recs[h->nrecs] = (heaprec){ objects, bytes, h->nframes, 0, 0 };
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
    }
    return 0;
fail:
    heap_free(h);
    return -1;
}

/* ---- asking the probe -------------------------------------------------- */

enum what { GOROUTINE_STACKS, GOROUTINE_PROFILE, HEAP_TEXT, HEAP_PROTO };

static int64_t call_probe(const lh_go_probe *go, enum what w, char *buf,
                          int64_t cap)
{
    switch (w) {
    case GOROUTINE_STACKS:
        return go->goroutine_stacks(buf, cap);
    case GOROUTINE_PROFILE:
        return go->goroutine_profile(buf, cap);
    case HEAP_TEXT:
        return go->heap_profile(buf, cap, 1);
    case HEAP_PROTO:
        return go->heap_profile(buf, cap, 0);
    }
    return -1;
}

/* Last length seen per kind: a hint for the first buffer. */
static size_t last_len[HEAP_PROTO + 1];

/* A first buffer that most likely fits: rendering all goroutines' stacks
 * stops the world for ~10 ms per 1,000 goroutines, so a second rendering
 * because the buffer was short is worth avoiding. */
static int64_t first_guess(const lh_go_probe *go, enum what w)
{
    int64_t cap = 256 << 10;
    int64_t last = (int64_t)__atomic_load_n(&last_len[w], __ATOMIC_RELAXED);
    if (last + last / 4 > cap)
        cap = last + last / 4;
    if ((w == GOROUTINE_STACKS || w == GOROUTINE_PROFILE) && go->goroutines) {
        int64_t n = go->goroutines();
        if (w == GOROUTINE_STACKS && n * 512 > cap)
            cap = n * 512;                  /* ~200-2,000 B per stack */
    }
    return cap;
}

/* The probe renders its text afresh on every call and returns the whole
 * length, so a text that grew since the previous call does not fit:
 * retry with room for the new length until one does.  The result has a
 * NUL after its *len bytes. */
static char *fetch(const lh_go_probe *go, enum what w, size_t *len)
{
    int64_t cap = first_guess(go, w);
    for (int tries = 0; tries < 8; tries++) {
        char *buf = lh_raw_malloc((size_t)cap + 1);
        if (!buf)
            return NULL;
        int64_t n = call_probe(go, w, buf, cap);
        if (n >= 0 && n <= cap) {
            buf[n] = '\0';
            *len = (size_t)n;
            __atomic_store_n(&last_len[w], (size_t)n, __ATOMIC_RELAXED);
            return buf;
        }
        lh_raw_free(buf);
        if (n < 0)
            return NULL;
        cap = n + n / 4 + 4096;
    }
    return NULL;
}

/* ---- standard library or not ------------------------------------------- */

/* GOROOT/src as the frames print it, from a runtime frame's file
 * ("/usr/lib/go-1.19/src/runtime/proc.go" -> "/usr/lib/go-1.19/src/").
 * Not found when the runtime's frames are all hidden, or with -trimpath
 * (relative paths): then is_std falls back on package paths. */
static int goroot_from(char *out, size_t len, const lh_goframe *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *at;
        if (!starts(f[i].func, "runtime.") || f[i].file[0] != '/' ||
            (at = strstr(f[i].file, "/src/runtime/")) == NULL)
            continue;
        size_t k = (size_t)(at - f[i].file) + strlen("/src/");
        if (k >= len)
            continue;
        memcpy(out, f[i].file, k);
        out[k] = '\0';
        return 1;
    }
    return 0;
}

static void find_goroot(lh_gosnap *s)
{
    s->goroot[0] = '\0';
    if (s->has_heap &&
        goroot_from(s->goroot, sizeof s->goroot, s->heap.frames,
                    s->heap.nframes))
        return;
    for (size_t i = 0; s->has_gr && i < s->gr.ngroups; i++) {
        const lh_gogroup *g = &s->gr.groups[i];
        if (goroot_from(s->goroot, sizeof s->goroot, g->frames, g->nframes) ||
            goroot_from(s->goroot, sizeof s->goroot, &g->created_by, 1))
            return;
    }
}

/* The standard library's: its file is under GOROOT/src when we know where
 * that is (which also covers time.startTimer, whose code is the
 * runtime's); else Go's own rule for standard import paths, no dot in the
 * first path element -- except main, the program itself. */
static int is_std(const lh_goframe *f, const char *goroot)
{
    if (*goroot)
        return starts(f->file, goroot);
    const char *fn = f->func;
    if (!*fn || starts(fn, "main."))
        return 0;
    const char *slash = strchr(fn, '/');
    const char *dot = strchr(fn, '.');
    return !slash || !dot || dot > slash;
}

/* The frame to blame (*blame) and the innermost frame outside the runtime
 * (*inner): the first frame that is neither the runtime's nor the
 * standard library's; failing that, the first outside the runtime;
 * failing that, the top frame.  NULL for no frames. */
static void pick(const lh_goframe *f, size_t n, const char *goroot,
                 const lh_goframe **blame, const lh_goframe **inner)
{
    *blame = *inner = n ? &f[0] : NULL;
    size_t i = 0;
    while (i < n && lh_goframe_is_runtime(&f[i]))
        i++;
    if (i == n)
        return;
    *blame = *inner = &f[i];
    for (; i < n; i++)
        if (!lh_goframe_is_runtime(&f[i]) && !is_std(&f[i], goroot)) {
            *blame = &f[i];
            return;
        }
}

/* ---- filling sites ------------------------------------------------------ */

/* "goroutines/lookup.go:30": the last two path components are enough to
 * find the file and short enough to read. */
static void format_location(char *buf, size_t len, const lh_goframe *f)
{
    const char *file = f->file, *p = file + strlen(file);
    int slashes = 0;
    while (p > file && !(p[-1] == '/' && ++slashes == 2))
        p--;
    if (!*file)
        buf[0] = '\0';
    else if (f->line > 0)
        snprintf(buf, len, "%s:%d", p, f->line);
    else
        snprintf(buf, len, "%s", p);
}

/* Root first, ';'-separated.  When the stack does not fit, the root's end
 * is dropped: the innermost frames are the ones that name the leak. */
static void fold(char *out, size_t len, const lh_goframe *f, size_t n)
{
    size_t keep = 0, need = 0;
    while (keep < n) {
        size_t k = strlen(*f[keep].func ? f[keep].func : "?") + (keep > 0);
        if (need + k >= len)
            break;
        need += k;
        keep++;
    }
    size_t at = 0;
    for (size_t i = keep; i-- > 0;) {
        const char *fn = *f[i].func ? f[i].func : "?";
        size_t k = strlen(fn);
        if (at)
            out[at++] = ';';
        memcpy(out + at, fn, k);
        at += k;
    }
    out[at] = '\0';
}

/* Appends to a fixed buffer, truncating. */
__attribute__((format(printf, 3, 4)))
static void append(char *buf, size_t len, const char *fmt, ...)
{
    size_t at = strlen(buf);
    if (at + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + at, len - at, fmt, ap);
    va_end(ap);
}

static void fill_common(lh_site *s, const lh_goframe *f, size_t n,
                        const lh_goframe *blame)
{
    memset(s, 0, sizeof *s);
    if (blame) {
        snprintf(s->func, sizeof s->func, "%s",
                 *blame->func ? blame->func : "?");
        format_location(s->location, sizeof s->location, blame);
    }
    fold(s->folded, sizeof s->folded, f, n);
}

/* ---- labeled steps ------------------------------------------------------ */

#define LABEL_WORKLOAD "leakhound.workload"
#define LABEL_THREAD "leakhound.thread"
#define MAX_LABELED_THREADS 256

static struct {
    lh_target *target;      /* NULL: steps are not labeled */
    int n;
    int64_t set[MAX_LABELED_THREADS];
} labeled;

int lh_godiag_label_steps(lh_target *t, const char *workload, int nthreads)
{
    if (!t || !t->has_go || !t->go.label_set || !t->go.call_labeled ||
        !t->go.goroutine_stacks || !t->go.goroutine_profile ||
        nthreads < 1 || nthreads > MAX_LABELED_THREADS)
        return -1;
    for (int i = 0; i < nthreads; i++) {
        /* "key\0value\0key\0value\0"; %c of 0 writes the NUL */
        char kv[600];
        int n = snprintf(kv, sizeof kv, "%s%c%.500s%c%s%c%d", LABEL_WORKLOAD,
                         0, workload, 0, LABEL_THREAD, 0, i);
        if (n < 0 || (size_t)n >= sizeof kv)
            return -1;
        int64_t set = t->go.label_set(kv, n + 1);
        if (set < 0)
            return -1;
        labeled.set[i] = set;
    }
    labeled.n = nthreads;
    labeled.target = t;
    return 0;
}

void lh_godiag_call_labeled(int thread, void (*fn)(void *), void *arg)
{
    if (labeled.target && thread >= 0 && thread < labeled.n)
        labeled.target->go.call_labeled(labeled.set[thread], fn, arg);
    else
        fn(arg);
}

/* ---- snapshots ---------------------------------------------------------- */

lh_gosnap *lh_godiag_snapshot(lh_target *t)
{
    if (!t || !t->has_go)
        return NULL;
    const lh_go_probe *go = &t->go;
    lh_gosnap *s = lh_raw_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    char *text;
    size_t len;

    enum what gw = go->goroutine_stacks ? GOROUTINE_STACKS
                                        : GOROUTINE_PROFILE;
    if ((go->goroutine_stacks || go->goroutine_profile) &&
        (text = fetch(go, gw, &len)) != NULL) {
        s->has_gr = lh_goprofile_parse(&s->gr, text, len) == 0;
        lh_raw_free(text);
    }
    /* The stacks text has no labels; the debug=1 profile has them per
     * stack.  Another pass over every goroutine (~1 ms per 1,000), so only
     * when steps are labeled. */
    if (labeled.target == t && gw == GOROUTINE_STACKS &&
        go->goroutine_profile &&
        (text = fetch(go, GOROUTINE_PROFILE, &len)) != NULL) {
        s->has_lab = lh_goprofile_parse(&s->lab, text, len) == 0;
        lh_raw_free(text);
    }
    if (go->heap_profile) {
        if ((text = fetch(go, HEAP_TEXT, &len)) != NULL)
            s->has_heap = heap_parse(&s->heap, text, len) == 0;
        s->pb = fetch(go, HEAP_PROTO, &s->pblen);
    }
    if (!s->has_gr && !s->has_heap && !s->pb) {
        lh_godiag_free(s);
        return NULL;
    }
    find_goroot(s);
    return s;
}

void lh_godiag_free(lh_gosnap *s)
{
    if (!s)
        return;
    if (s->has_gr)
        lh_goprofile_free(&s->gr);
    if (s->has_lab)
        lh_goprofile_free(&s->lab);
    if (s->has_heap)
        heap_free(&s->heap);
    lh_raw_free(s->pb);
    lh_raw_free(s);
}

int lh_godiag_write_heap_profile(const lh_gosnap *s, const char *path)
{
    if (!s || !s->pb) {
        errno = ENODATA;
        return -1;
    }
    return lh_write_atomic(path, s->pb, s->pblen);
}

/* The probe's own work -- rendering these very profiles, settling -- is
 * never the target's leak, though its one-time allocations (pprof's
 * tables, a crc32 table for gzip) first show up between two snapshots. */
static int in_probe(const lh_goframe *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (starts(f[i].func, "leakhound.dev/probe."))
            return 1;
    return 0;
}

/* ---- goroutines --------------------------------------------------------- */

static const lh_goignore *ignore_rules;

void lh_godiag_set_ignore(const lh_goignore *rules)
{
    ignore_rules = rules;
}

static int named(const char *func, const char (*names)[128], int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(func, names[i]) == 0)
            return 1;
    return 0;
}

static int ignored(const lh_gogroup *g)
{
    const lh_goignore *r = ignore_rules;
    if (!r)
        return 0;
    const lh_goframe *top = lh_gogroup_top(g);
    if (top && named(top->func, r->top, r->ntop))
        return 1;
    for (size_t i = 0; i < g->nframes; i++)
        if (named(g->frames[i].func, r->any, r->nany))
            return 1;
    return named(g->created_by.func, r->creator, r->ncreator);
}

int64_t lh_godiag_count(lh_target *t)
{
    if (!t || !t->has_go || !t->go.goroutine_stacks)
        return -1;
    size_t len;
    char *text = fetch(&t->go, GOROUTINE_STACKS, &len);
    if (!text)
        return -1;
    lh_goprofile p;
    int64_t n = -1;
    if (lh_goprofile_parse(&p, text, len) == 0) {
        n = 0;
        for (size_t i = 0; i < p.ngroups; i++)
            if (!ignored(&p.groups[i]) &&
                !in_probe(p.groups[i].frames, p.groups[i].nframes))
                n += p.groups[i].count;
        lh_goprofile_free(&p);
    }
    lh_raw_free(text);
    return n;
}

/* ---- which step started them ------------------------------------------ */

/* Does the debug=1 group h print the stack of the debug=2 group g?  pprof
 * leaves out the runtime's frames at the top unless nothing else is left
 * (printStackRecord), and keeps at most 32 PCs; runtime.Stack prints it
 * all.  Groups that share a stack but differ in state or creator all
 * match: the profile cannot tell them apart. */
static int prints_stack(const lh_gogroup *h, const lh_gogroup *g)
{
    size_t skip = 0;
    while (skip < g->nframes && starts(g->frames[skip].func, "runtime."))
        skip++;
    if (skip == g->nframes)
        skip = 0;
    size_t n = g->nframes - skip;
    if (h->nframes > n || (h->nframes < n && h->nframes < 32))
        return 0;
    return frames_eq(h->frames, g->frames + skip, h->nframes);
}

#define MAX_LABEL_SETS 128
#define LABELS_PER_SET 8

typedef struct label_count {
    const char *labels;     /* the "# labels:" text; "" for none */
    int64_t n;              /* goroutines, end minus baseline */
} label_count;

/* Add sign * the goroutines of p's groups on g's stack to c, per label
 * set.  Returns the new number of entries. */
static int count_labels(label_count *c, int nc, const lh_goprofile *p,
                        const lh_gogroup *g, int sign)
{
    for (size_t i = 0; i < p->ngroups; i++) {
        const lh_gogroup *h = &p->groups[i];
        if (!prints_stack(h, g))
            continue;
        int k = 0;
        while (k < nc && strcmp(c[k].labels, h->labels) != 0)
            k++;
        if (k == nc) {
            if (nc == MAX_LABEL_SETS)
                continue;
            c[nc++] = (label_count){ h->labels, 0 };
        }
        c[k].n += sign * h->count;
    }
    return nc;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static size_t utf8(unsigned long c, char *o)
{
    if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        c = 0xfffd;
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xc0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3f));
        o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | c >> 18);
    o[1] = (char)(0x80 | (c >> 12 & 0x3f));
    o[2] = (char)(0x80 | (c >> 6 & 0x3f));
    o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* The Go-quoted string at *pp (pprof prints label keys and values with
 * %q: strconv.Quote's escapes, which JSON does not all share) into out,
 * cut to fit len; *pp moves past it.  -1 when *pp is not at one. */
static int unquote(const char **pp, char *out, size_t len)
{
    const char *p = *pp;
    size_t k = 0;
    int full = 0;
    if (*p++ != '"')
        return -1;
    while (*p && *p != '"') {
        unsigned long c = (unsigned char)*p++;
        int rune = 0;
        if (c == '\\' && *p) {
            char e = *p++;
            switch (e) {
            case 'a': c = '\a'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'v': c = '\v'; break;
            case 'x': case 'u': case 'U': {
                int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                c = 0;
                for (int i = 0; i < digits && hexval(*p) >= 0; i++)
                    c = c * 16 + (unsigned long)hexval(*p++);
                rune = e != 'x';
                break;
            }
            default:
                c = (unsigned char)e;      /* \\ and \" */
            }
        }
        char enc[4];
        size_t m = rune ? utf8(c, enc) : (enc[0] = (char)c, 1);
        if (!full && k + m < len) {
            memcpy(out + k, enc, m);
            k += m;
        } else {
            full = 1;
        }
    }
    if (*p != '"')
        return -1;
    if (full) {             /* no half character at the cut */
        size_t lead = k;
        while (lead > 0 && ((unsigned char)out[lead - 1] & 0xc0) == 0x80)
            lead--;
        if (lead > 0 && (unsigned char)out[lead - 1] >= 0xc0) {
            unsigned char c = (unsigned char)out[lead - 1];
            size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (k - (lead - 1) < want)
                k = lead - 1;
        }
    }
    out[k] = '\0';
    *pp = p + 1;
    return 0;
}

typedef struct label {
    char key[64];
    char value[256];        /* a workload's name fits */
} label;

/* '{"k1":"v1", "k2":"v2"}' (pprof's labelMap.String) into at most max
 * pairs.  Returns how many. */
static int parse_labels(const char *s, label *out, int max)
{
    int n = 0;
    if (*s++ != '{')
        return 0;
    while (n < max) {
        while (*s == ' ' || *s == ',')
            s++;
        if (unquote(&s, out[n].key, sizeof out[n].key) < 0 || *s++ != ':' ||
            unquote(&s, out[n].value, sizeof out[n].value) < 0)
            break;
        n++;
    }
    return n;
}

static int all_digits(const char *s)
{
    size_t n = strspn(s, "0123456789");
    return n > 0 && n < 10 && s[n] == '\0';
}

/* Distinct values of one key, for a site whose goroutines came from
 * several label sets: numbers in order with runs cut short ("0-3,5": the
 * threads), other values in order, ','-joined. */
static void join_values(const char **v, int n, char *out, size_t len)
{
    int numeric = 1;
    for (int i = 0; i < n; i++)
        numeric &= all_digits(v[i]);
    for (int i = 1; i < n; i++) {           /* insertion sort: n is small */
        const char *x = v[i];
        int j = i;
        for (; j > 0 && (numeric ? atol(v[j - 1]) > atol(x)
                                 : strcmp(v[j - 1], x) > 0); j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        int j = i;
        while (numeric && j + 1 < n && atol(v[j + 1]) == atol(v[j]) + 1)
            j++;
        append(out, len, "%s%s", i ? "," : "", v[i]);
        if (j > i + 1)
            append(out, len, "-%s", v[j]);
        else if (j == i + 1)
            append(out, len, ",%s", v[j]);
        i = j;
    }
}

/* Fill s->labels with the labels of the goroutines counted in c (n > 0)
 * as one JSON object, a key's distinct values joined (join_values), keys
 * that do not fit left out.  The threads of leakhound's label sets go
 * into threads, their number into *nthreads; returns the goroutines that
 * came from no step of the harness (no leakhound.thread label). */
static int64_t merge_labels(const label_count *c, int nc, lh_site *s,
                            char *threads, size_t tlen, int *nthreads)
{
    int64_t other = 0;
    label *all = lh_raw_malloc(MAX_LABEL_SETS * LABELS_PER_SET *
                               sizeof *all);
    const char *vals[MAX_LABEL_SETS];
    int na = 0;
    *nthreads = 0;
    threads[0] = '\0';
    snprintf(s->labels, sizeof s->labels, "{}");
    if (!all)
        return 0;
    for (int k = 0; k < nc; k++) {
        if (c[k].n <= 0)
            continue;
        int m = parse_labels(c[k].labels, all + na, LABELS_PER_SET);
        int step = 0;
        for (int j = na; j < na + m; j++)
            step |= strcmp(all[j].key, LABEL_THREAD) == 0;
        if (!step)
            other += c[k].n;
        na += m;
    }
    lh_buf obj = LH_BUF_INIT, pair = LH_BUF_INIT;
    lh_buf_putc(&obj, '{');
    for (int i = 0; i < na; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(all[j].key, all[i].key) == 0;
        if (seen)
            continue;
        int nv = 0;
        for (int j = i; j < na; j++) {
            if (strcmp(all[j].key, all[i].key) != 0)
                continue;
            int dup = 0;
            for (int v = 0; v < nv && !dup; v++)
                dup = strcmp(vals[v], all[j].value) == 0;
            if (!dup && nv < MAX_LABEL_SETS)
                vals[nv++] = all[j].value;
        }
        char joined[sizeof s->labels];
        join_values(vals, nv, joined, sizeof joined);
        if (strcmp(all[i].key, LABEL_THREAD) == 0) {
            snprintf(threads, tlen, "%s", joined);
            *nthreads = nv;
        }
        lh_buf_reset(&pair);
        if (obj.len > 1)
            lh_buf_putc(&pair, ',');
        lh_json_key(&pair, all[i].key);
        lh_json_str(&pair, joined);
        if (obj.len + pair.len + 1 < sizeof s->labels)
            lh_buf_add(&obj, pair.data, pair.len);
    }
    lh_buf_putc(&obj, '}');
    snprintf(s->labels, sizeof s->labels, "%s", lh_buf_str(&obj));
    lh_buf_free(&obj);
    lh_buf_free(&pair);
    lh_raw_free(all);
    return other;
}

/* Which steps started the goroutines g grew by: their labels, from the
 * debug=1 profiles of both snapshots, into s->labels, and "(step of
 * thread 2)" or "(not attributable to a step)" after the detail. */
static void attribute(const lh_gosnap *a, const lh_gosnap *b,
                      const lh_gogroup *g, lh_site *s)
{
    label_count c[MAX_LABEL_SETS];
    int nc = count_labels(c, 0, &b->lab, g, 1);
    nc = count_labels(c, nc, &a->lab, g, -1);
    int grew = 0;
    for (int k = 0; k < nc; k++)
        grew |= c[k].n > 0;
    if (!grew)              /* taken apart from the stacks: not seen */
        return;
    char threads[128];
    int nthreads;
    int64_t other = merge_labels(c, nc, s, threads, sizeof threads,
                                 &nthreads);
    const char *sp = *s->detail ? " " : "";
    if (nthreads == 0)
        append(s->detail, sizeof s->detail,
               "%s(not attributable to a step)", sp);
    else if (other > 0)
        append(s->detail, sizeof s->detail,
               "%s(step%s of thread%s %s; %lld not attributable to a "
               "step)", sp, nthreads > 1 ? "s" : "", nthreads > 1 ? "s" : "",
               threads, (long long)other);
    else
        append(s->detail, sizeof s->detail, "%s(step%s of thread%s %s)",
               sp, nthreads > 1 ? "s" : "", nthreads > 1 ? "s" : "",
               threads);
}

int lh_godiag_goroutines(const lh_gosnap *a, const lh_gosnap *b,
                         lh_site *out, int max)
{
    if (!a || !b || !a->has_gr || !b->has_gr || max <= 0)
        return 0;
    lh_gogroup_delta *d;
    long n = lh_goprofile_diff(&a->gr, &b->gr, &d);
    if (n <= 0)
        return 0;
    int k = 0;
    for (long i = 0; i < n && k < max; i++) {
        const lh_gogroup *g = d[i].group;
        if (in_probe(g->frames, g->nframes) || ignored(g))
            continue;
        const lh_goframe *blame, *inner;
        pick(g->frames, g->nframes, b->goroot, &blame, &inner);
        lh_site *s = &out[k++];
        fill_common(s, g->frames, g->nframes, blame);
        s->count = (double)(d[i].after - d[i].before);
        /* "semacquire in sync.(*WaitGroup).Wait waitgroup.go:139; created
         * by main.main main.go:24": how it is stuck, where in the library
         * when that is not the blamed frame, and who started it. */
        char where[256] = "";
        if (inner && inner != blame)
            lh_goframe_format(inner, where, sizeof where);
        if (*g->state)
            append(s->detail, sizeof s->detail, "%s", g->state);
        if (*where)
            append(s->detail, sizeof s->detail, "%sin %s",
                   *s->detail ? " " : "", where);
        if (*g->created_by.func) {
            char by[256];
            lh_goframe_format(&g->created_by, by, sizeof by);
            append(s->detail, sizeof s->detail, "%screated by %s",
                   *s->detail ? "; " : "", by);
        }
        if (labeled.target && a->has_lab && b->has_lab)
            attribute(a, b, g, s);
    }
    lh_raw_free(d);
    return k;
}

/* ---- heap --------------------------------------------------------------- */

/* In-use objects and bytes per stack: one profile lists a stack once per
 * object size. */
typedef struct stack_sum {
    long rep;               /* a record with that stack; -1: empty slot */
    double objects, bytes;
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
    size_t cap = 16;
    while (cap < 2 * h->nrecs)
        cap *= 2;
    t->slot = lh_raw_malloc(cap * sizeof *t->slot);
    if (!t->slot)
        return -1;
    for (size_t i = 0; i < cap; i++)
        t->slot[i].rep = -1;
    t->mask = cap - 1;
    for (size_t i = 0; i < h->nrecs; i++) {
        stack_sum *s = sum_find(t, h, &h->recs[i], h);
        if (s->rep < 0)
            *s = (stack_sum){ (long)i, 0, 0 };
        s->objects += h->recs[i].objects;
        s->bytes += h->recs[i].bytes;
    }
    return 0;
}

typedef struct growth {
    long rec;               /* in the end profile */
    int runtime_only;       /* no frame of the program's to show */
    double objects, bytes;
} growth;

/* Stacks with a frame of the program's first: a runtime-only stack
 * (goroutine structs from runtime.malg, which the profile records without
 * a caller) says how much, not where, even when it is the largest.  Then
 * more bytes first; ties by record order (deterministic). */
static int growth_before(const growth *x, const growth *y)
{
    if (x->runtime_only != y->runtime_only)
        return x->runtime_only < y->runtime_only;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes;
    return x->rec < y->rec;
}

static void heap_detail(lh_site *s, const lh_goframe *blame,
                        const lh_goframe *inner)
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
    if (inner && inner != blame) {
        char where[224];
        lh_goframe_format(inner, where, sizeof where);
        snprintf(s->detail, sizeof s->detail, "allocated in %s", where);
    }
}

int lh_godiag_heap(const lh_gosnap *a, const lh_gosnap *b, lh_site *out,
                   int max)
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
            in_probe(hb->frames + r->first, r->nframes))
            continue;
        stack_sum *sa = sum_find(&ta, ha, r, hb);
        double objects = sb->objects - (sa->rep >= 0 ? sa->objects : 0);
        double bytes = sb->bytes - (sa->rep >= 0 ? sa->bytes : 0);
        if (bytes <= 0)
            continue;
        const lh_goframe *f = hb->frames + r->first;
        size_t j = 0;
        while (j < r->nframes && lh_goframe_is_runtime(&f[j]))
            j++;
        g[n++] = (growth){ (long)i, j == r->nframes, objects, bytes };
    }
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
    for (size_t i = 0; i < n && k < max; i++) {
        const heaprec *r = &hb->recs[g[i].rec];
        const lh_goframe *f = hb->frames + r->first;
        const lh_goframe *blame, *inner;
        pick(f, r->nframes, b->goroot, &blame, &inner);
        lh_site *s = &out[k++];
        fill_common(s, f, r->nframes, blame);
        heap_detail(s, blame, inner);
        s->bytes = g[i].bytes;
        s->count = g[i].objects > 0 ? g[i].objects : 0;
    }
done:
    lh_raw_free(ta.slot);
    lh_raw_free(tb.slot);
    lh_raw_free(g);
    return k;
}
