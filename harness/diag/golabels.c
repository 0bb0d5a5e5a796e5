/*
 * golabels.c - labeled steps: which runner thread's step started a
 * goroutine.
 *
 * Each thread's steps run under their own pprof label set
 * (leakhound.workload, leakhound.thread); goroutines they start inherit
 * it.  Only the debug=1 goroutine profile prints labels, per stack and
 * label set, so a grown goroutine group (goroutines.c) gets the labels
 * whose count grew on its stack between the two snapshots' debug=1
 * profiles (see lh_go_attribute).
 */
#include "godiag_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json.h"

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

lh_target *lh_go_labeled_target(void)
{
    return labeled.target;
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
        lh_go_append(out, len, "%s%s", i ? "," : "", v[i]);
        if (j > i + 1)
            lh_go_append(out, len, "-%s", v[j]);
        else if (j == i + 1)
            lh_go_append(out, len, ",%s", v[j]);
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
void lh_go_attribute(const lh_gosnap *a, const lh_gosnap *b,
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
        lh_go_append(s->detail, sizeof s->detail,
               "%s(not attributable to a step)", sp);
    else if (other > 0)
        lh_go_append(s->detail, sizeof s->detail,
               "%s(step%s of thread%s %s; %lld not attributable to a "
               "step)", sp, nthreads > 1 ? "s" : "", nthreads > 1 ? "s" : "",
               threads, (long long)other);
    else
        lh_go_append(s->detail, sizeof s->detail, "%s(step%s of thread%s %s)",
               sp, nthreads > 1 ? "s" : "", nthreads > 1 ? "s" : "",
               threads);
}
