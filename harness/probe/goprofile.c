/*
 * goprofile.c - parse, diff and name Go goroutine profiles (debug=1 and 2).
 *
 * The text is copied once and cut in place: every string in the result
 * points into that copy, so a profile is three allocations (text, frames,
 * groups) however many goroutines it lists.  No qsort: glibc's may call
 * malloc, which the interposer would count.
 */
#include "goprofile.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "alloc.h"

static const lh_goframe no_frame = { "", "", 0 };

/* ---- small string helpers (lines are NUL-terminated in place) ---------- */

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static char *skip_ws(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Cut the next whitespace-separated token off *s. */
static char *token(char **s)
{
    char *t = skip_ws(*s);
    char *e = t;
    while (*e && *e != ' ' && *e != '\t')
        e++;
    if (*e)
        *e++ = '\0';
    *s = e;
    return t;
}

static void rtrim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* "path/file.go:123" -> file "path/file.go", line 123 (in place). */
static void split_file_line(char *s, lh_goframe *f)
{
    rtrim(s);
    char *colon = strrchr(s, ':');
    f->file = s;
    f->line = 0;
    if (colon && colon[1] >= '0' && colon[1] <= '9') {
        *colon = '\0';
        f->line = atoi(colon + 1);
    }
}

/* ---- parsing ------------------------------------------------------------ */

typedef struct parser {
    lh_goprofile *p;
    size_t gcap, fcap, nframes, scap, mcap;
    size_t *start;          /* first frame of each group, by index */
    unsigned char *merge;   /* debug=2 groups: one goroutine each, merged
                             * by stack once the keys are known */
    int cur;                /* group receiving frames, -1 between groups */
    char *pending;          /* debug=2: function line waiting for its file */
    int pending_creator;
    int in_ancestors;       /* debug=2: frames go to the group's ancestors */
} parser;

static int new_group(parser *ps, int64_t count, int from_debug2)
{
    lh_goprofile *p = ps->p;
    if (lh_grow((void **)&p->groups, &ps->gcap, p->ngroups + 1,
             sizeof *p->groups) < 0)
        return -1;
    if (lh_grow((void **)&ps->start, &ps->scap, p->ngroups + 1,
             sizeof *ps->start) < 0 ||
        lh_grow((void **)&ps->merge, &ps->mcap, p->ngroups + 1, 1) < 0)
        return -1;
    lh_gogroup *g = &p->groups[p->ngroups];
    memset(g, 0, sizeof *g);
    g->count = count;
    g->created_by = no_frame;
    g->labels = "";
    g->state = "";
    ps->start[p->ngroups] = ps->nframes;
    ps->merge[p->ngroups] = (unsigned char)from_debug2;
    ps->cur = (int)p->ngroups++;
    ps->pending = NULL;
    ps->pending_creator = 0;
    ps->in_ancestors = 0;
    return 0;
}

static int add_frame(parser *ps, const lh_goframe *f)
{
    if (ps->cur < 0)
        return 0;
    if (lh_grow((void **)&ps->p->frames_, &ps->fcap, ps->nframes + 1,
             sizeof *ps->p->frames_) < 0)
        return -1;
    ps->p->frames_[ps->nframes++] = *f;
    if (ps->in_ancestors)
        ps->p->groups[ps->cur].nancestors++;
    else
        ps->p->groups[ps->cur].nframes++;
    return 0;
}

void lh_goframe_parse(char *s, lh_goframe *f)
{
    *f = no_frame;
    (void)token(&s);                        /* the PC */
    char *fn = token(&s);
    if (*fn) {
        char *plus = strrchr(fn, '+');
        if (plus && plus[1] == '0' && plus[2] == 'x')
            *plus = '\0';
        f->func = fn;
        split_file_line(skip_ws(s), f);
    }
}

static int debug1_frame(parser *ps, char *s)
{
    lh_goframe f;
    lh_goframe_parse(s, &f);
    return add_frame(ps, &f);
}

/* debug=2 function line: "pkg.(*T).method(0xc000010000, {0x1, 0x2})" ->
 * "pkg.(*T).method"; the argument list is the last parenthesis. */
static char *strip_args(char *s)
{
    rtrim(s);
    size_t n = strlen(s);
    char *open = strrchr(s, '(');
    if (n && s[n - 1] == ')' && open && open != s)
        *open = '\0';
    return s;
}

/* debug=2 location line: "\t/path/file.go:LINE +0xOFF". */
static int debug2_location(parser *ps, char *s)
{
    if (!ps->pending)
        return 0;
    lh_goframe f = no_frame;
    f.func = ps->pending;
    s = skip_ws(s);
    rtrim(s);
    char *off = strstr(s, " +0x");
    if (off)
        *off = '\0';
    split_file_line(s, &f);
    ps->pending = NULL;
    if (ps->pending_creator) {
        ps->pending_creator = 0;
        if (ps->cur >= 0 && !ps->in_ancestors)
            ps->p->groups[ps->cur].created_by = f;
        return 0;
    }
    return add_frame(ps, &f);
}

/* "chan send, 5 minutes]:" -> "chan send".  The wait time and "locked to
 * thread" are cut so that one leak's goroutines stay one group as they
 * age (states themselves have no ", ": "chan send (nil chan)"). */
static int debug2_state(parser *ps, char *s)
{
    char *end = strrchr(s, ']');
    if (end)
        *end = '\0';
    char *comma = strstr(s, ", ");
    if (comma)
        *comma = '\0';
    ps->p->groups[ps->cur].state = s;
    return 0;
}

static int parse_line(parser *ps, char *s)
{
    lh_goprofile *p = ps->p;
    char *q;

    if (*s == '\0') {                       /* a blank line ends a group */
        ps->cur = -1;
        ps->pending = NULL;
        ps->in_ancestors = 0;
        return 0;
    }
    if (starts(s, "[originating from goroutine ")) {
        ps->in_ancestors = ps->cur >= 0;
        ps->pending = NULL;
        return 0;
    }
    if ((q = strstr(s, " profile: total ")) != NULL && !strchr(s, '\t')) {
        p->total = strtoll(q + strlen(" profile: total "), NULL, 10);
        ps->cur = -1;
        return 0;
    }
    if (*s >= '0' && *s <= '9') {           /* debug=1 "COUNT @ 0x..." */
        char *end;
        long long n = strtoll(s, &end, 10);
        if (starts(end, " @"))
            return new_group(ps, n, 0);
        return 0;
    }
    if (starts(s, "# labels: ")) {
        if (ps->cur >= 0)
            p->groups[ps->cur].labels = s + strlen("# labels: ");
        return 0;
    }
    if (s[0] == '#' && (s[1] == '\t' || s[1] == ' '))
        return debug1_frame(ps, s + 1);
    if (starts(s, "goroutine ") && strchr(s, '[')) {  /* debug=2 header */
        rtrim(s);
        if (s[strlen(s) - 1] != ':')
            return 0;
        if (new_group(ps, 1, 1) < 0)
            return -1;
        return debug2_state(ps, strchr(s, '[') + 1);
    }
    if (ps->cur < 0)
        return 0;
    if (*s == '\t' || *s == ' ')
        return debug2_location(ps, s);
    if (starts(s, "...")) {                 /* "...additional frames
                                             * elided..." */
        ps->pending = NULL;
        return 0;
    }
    if (starts(s, "created by ")) {
        s += strlen("created by ");
        rtrim(s);
        if ((q = strstr(s, " in goroutine ")) != NULL)   /* Go >= 1.21 */
            *q = '\0';
        ps->pending = s;
        ps->pending_creator = 1;
        return 0;
    }
    ps->pending = strip_args(s);
    ps->pending_creator = 0;
    return 0;
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t frame_hash(uint64_t h, const lh_goframe *f)
{
    h = fnv(h, f->func, strlen(f->func) + 1);
    h = fnv(h, f->file, strlen(f->file) + 1);
    return fnv(h, (const char *)&f->line, sizeof f->line);
}

static uint64_t group_key(const lh_gogroup *g)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < g->nframes; i++)
        h = frame_hash(h, &g->frames[i]);
    h = fnv(h, "\n", 1);                    /* frames end, creator starts */
    h = frame_hash(h, &g->created_by);
    return fnv(h, g->state, strlen(g->state) + 1);
}

static int frame_eq(const lh_goframe *a, const lh_goframe *b)
{
    return a->line == b->line && strcmp(a->func, b->func) == 0 &&
           strcmp(a->file, b->file) == 0;
}

int lh_gogroup_same_stack(const lh_gogroup *a, const lh_gogroup *b)
{
    if (a->key != b->key || a->nframes != b->nframes ||
        !frame_eq(&a->created_by, &b->created_by) ||
        strcmp(a->state, b->state) != 0)
        return 0;
    for (size_t i = 0; i < a->nframes; i++)
        if (!frame_eq(&a->frames[i], &b->frames[i]))
            return 0;
    return 1;
}

/* ---- a hash table of stacks (open addressing, keyed by group key) ------- */

typedef struct stack_slot {
    long rep;               /* representative group, -1: empty */
    int64_t sum;            /* goroutines on that stack */
} stack_slot;

typedef struct stack_table {
    stack_slot *slot;
    size_t mask;
} stack_table;

static int table_init(stack_table *t, size_t n)
{
    size_t cap = lh_next_cap(8, n < SIZE_MAX / 2 ? 2 * n : SIZE_MAX, 0,
                             sizeof *t->slot);
    t->slot = cap ? lh_raw_malloc(cap * sizeof *t->slot) : NULL;
    if (!t->slot)
        return -1;
    for (size_t i = 0; i < cap; i++)
        t->slot[i].rep = -1;
    t->mask = cap - 1;
    return 0;
}

/* The slot of g's stack among groups[], an empty one if absent. */
static stack_slot *table_find(const stack_table *t, const lh_gogroup *groups,
                              const lh_gogroup *g)
{
    for (size_t i = g->key & t->mask;; i = (i + 1) & t->mask) {
        stack_slot *s = &t->slot[i];
        if (s->rep < 0 || lh_gogroup_same_stack(&groups[s->rep], g))
            return s;
    }
}

/* debug=2 lists one goroutine per block: fold equal stacks into one group
 * with a count, as debug=1 prints them. */
static int merge_debug2(parser *ps)
{
    lh_goprofile *p = ps->p;
    stack_table t;
    if (table_init(&t, p->ngroups) < 0)
        return -1;
    size_t out = 0;
    for (size_t i = 0; i < p->ngroups; i++) {
        if (!ps->merge[i]) {
            p->groups[out++] = p->groups[i];
            continue;
        }
        stack_slot *s = table_find(&t, p->groups, &p->groups[i]);
        if (s->rep >= 0) {
            p->groups[s->rep].count += p->groups[i].count;
            continue;
        }
        p->groups[out] = p->groups[i];
        /* Later groups compare against the kept copy at its new index. */
        s->rep = (long)out++;
    }
    p->ngroups = out;
    lh_raw_free(t.slot);
    return 0;
}

int lh_goprofile_parse(lh_goprofile *p, const char *text, size_t len)
{
    memset(p, 0, sizeof *p);
    p->total = -1;
    p->text_ = lh_raw_malloc(len + 1);
    if (!p->text_)
        return -1;
    memcpy(p->text_, text, len);
    p->text_[len] = '\0';

    parser ps = { .p = p, .cur = -1 };
    int rc = 0;
    int any_debug2 = 0;
    for (char *line = p->text_; line && rc == 0;) {
        char *nl = memchr(line, '\n', (size_t)(p->text_ + len - line));
        if (nl)
            *nl = '\0';
        size_t before = p->ngroups;
        rc = parse_line(&ps, line);
        if (p->ngroups != before && ps.merge[p->ngroups - 1])
            any_debug2 = 1;
        line = nl ? nl + 1 : NULL;
        if (line && line >= p->text_ + len)
            line = NULL;
    }
    if (rc == 0) {
        for (size_t i = 0; i < p->ngroups; i++) {
            /* No frame anywhere: no frames array either. */
            p->groups[i].frames = p->frames_ ? p->frames_ + ps.start[i]
                                             : &no_frame;
            p->groups[i].ancestors = p->groups[i].frames +
                                     p->groups[i].nframes;
            p->groups[i].key = group_key(&p->groups[i]);
        }
        if (any_debug2)
            rc = merge_debug2(&ps);
    }
    lh_raw_free(ps.start);
    lh_raw_free(ps.merge);
    if (rc == 0 && p->total < 0 && p->ngroups == 0)
        rc = -1;
    if (rc < 0)
        lh_goprofile_free(p);
    return rc;
}

void lh_goprofile_free(lh_goprofile *p)
{
    lh_raw_free(p->text_);
    lh_raw_free(p->frames_);
    lh_raw_free(p->groups);
    memset(p, 0, sizeof *p);
    p->total = -1;
}

/* ---- diff --------------------------------------------------------------- */

/* Sums goroutines per stack into t (rep: index into groups). */
static int sum_stacks(stack_table *t, const lh_goprofile *p, long *order,
                      size_t *norder)
{
    if (table_init(t, p->ngroups) < 0)
        return -1;
    for (size_t i = 0; i < p->ngroups; i++) {
        stack_slot *s = table_find(t, p->groups, &p->groups[i]);
        if (s->rep < 0) {
            s->rep = (long)i;
            s->sum = 0;
            if (order)
                order[(*norder)++] = (long)i;
        }
        s->sum += p->groups[i].count;
    }
    return 0;
}

/* Larger growth first; equal growth in profile order (a total order, so
 * the unstable shell sort below is deterministic). */
static int delta_before(const lh_gogroup_delta *a, const lh_gogroup_delta *b)
{
    int64_t da = a->after - a->before, db = b->after - b->before;
    if (da != db)
        return da > db;
    return a->group < b->group;
}

long lh_goprofile_diff(const lh_goprofile *before, const lh_goprofile *after,
                       lh_gogroup_delta **out)
{
    *out = NULL;
    stack_table tb = { 0 }, ta = { 0 };
    long *order = NULL;
    size_t norder = 0;
    long n = -1;

    order = lh_raw_malloc((after->ngroups + 1) * sizeof *order);
    if (!order || sum_stacks(&tb, before, NULL, NULL) < 0 ||
        sum_stacks(&ta, after, order, &norder) < 0)
        goto done;

    lh_gogroup_delta *d = lh_raw_malloc((norder + 1) * sizeof *d);
    if (!d)
        goto done;
    n = 0;
    for (size_t i = 0; i < norder; i++) {
        const lh_gogroup *g = &after->groups[order[i]];
        int64_t a = table_find(&ta, after->groups, g)->sum;
        stack_slot *sb = table_find(&tb, before->groups, g);
        int64_t b = sb->rep >= 0 ? sb->sum : 0;
        if (a > b)
            d[n++] = (lh_gogroup_delta){ g, b, a };
    }
    /* Shell sort (Ciura's gaps): no allocation, fine for thousands. */
    static const size_t gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
    for (size_t gi = 0; gi < sizeof gaps / sizeof gaps[0]; gi++) {
        size_t gap = gaps[gi];
        for (size_t i = gap; i < (size_t)n; i++) {
            lh_gogroup_delta v = d[i];
            size_t j = i;
            for (; j >= gap && delta_before(&v, &d[j - gap]); j -= gap)
                d[j] = d[j - gap];
            d[j] = v;
        }
    }
    if (n > 0)
        *out = d;
    else
        lh_raw_free(d);
done:
    lh_raw_free(tb.slot);
    lh_raw_free(ta.slot);
    lh_raw_free(order);
    return n;
}

/* ---- naming ------------------------------------------------------------- */

int lh_goframe_is_runtime(const lh_goframe *f)
{
    const char *fn = f->func;
    if (!fn || !*fn)
        return 1;
    if (starts(fn, "runtime.") || starts(fn, "runtime/") ||
        starts(fn, "internal/") || starts(fn, "_cgo_") ||
        starts(fn, "_cgoexp_"))
        return 1;
    /* Functions the runtime provides to a package by linkname, such as
     * sync.runtime_SemacquireMutex: the package's name, the runtime's
     * code; and the cgo glue cmd/cgo generates in the package that calls
     * C (main._Cfunc_CString, main._cgo_cmalloc). */
    const char *slash = strrchr(fn, '/');
    const char *dot = strchr(slash ? slash : fn, '.');
    return dot && (starts(dot + 1, "runtime_") ||
                   starts(dot + 1, "_Cfunc_") || starts(dot + 1, "_cgo_") ||
                   starts(dot + 1, "_Cgo_"));
}

const lh_goframe *lh_gogroup_top(const lh_gogroup *g)
{
    if (g->nframes == 0)
        return NULL;
    for (size_t i = 0; i < g->nframes; i++)
        if (!lh_goframe_is_runtime(&g->frames[i]))
            return &g->frames[i];
    return &g->frames[0];
}

int lh_goframe_format(const lh_goframe *f, char *buf, size_t len)
{
    const char *base = strrchr(f->file, '/');
    base = base ? base + 1 : f->file;
    if (!*base)
        return snprintf(buf, len, "%s", f->func);
    if (f->line <= 0)
        return snprintf(buf, len, "%s %s", f->func, base);
    return snprintf(buf, len, "%s %s:%d", f->func, base, f->line);
}

int lh_gogroup_site(const lh_gogroup *g, char *buf, size_t len)
{
    const lh_goframe *top = lh_gogroup_top(g);
    if (len)
        buf[0] = '\0';
    if (!top)
        return 0;
    int n = lh_goframe_format(top, buf, len);
    if (n < 0 || !*g->created_by.func)
        return n;
    size_t at = (size_t)n < len ? (size_t)n : len;
    int m = snprintf(buf + at, len - at, " (created by ");
    at += (size_t)m < len - at ? (size_t)m : len - at;
    int k = lh_goframe_format(&g->created_by, buf + at, len - at);
    at += (size_t)k < len - at ? (size_t)k : len - at;
    snprintf(buf + at, len - at, ")");
    return n + m + k + 1;
}
