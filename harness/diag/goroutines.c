/*
 * goroutines.c - goroutine groups that grew between two snapshots.
 *
 * A site is a group of goroutines with one stack, state and creator:
 * count = how many more than at the baseline, detail = how they are stuck,
 * where in the library, who started them, and (golabels.c) which step.
 * Goroutines matching the ignore rules, and the probe's own, are never
 * counted.
 */
#include "godiag_internal.h"

#include <string.h>

#include "alloc.h"

/* ---- ignore rules, and the count --------------------------------------- */

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
    char *text = lh_go_fetch(&t->go, GOROUTINE_STACKS, &len);
    if (!text)
        return -1;
    lh_goprofile p;
    int64_t n = -1;
    if (lh_goprofile_parse(&p, text, len) == 0) {
        n = 0;
        for (size_t i = 0; i < p.ngroups; i++)
            if (!ignored(&p.groups[i]) &&
                !lh_go_in_probe(p.groups[i].frames, p.groups[i].nframes))
                n += p.groups[i].count;
        lh_goprofile_free(&p);
    }
    lh_raw_free(text);
    return n;
}

/* ---- groups that grew -------------------------------------------------- */

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
        if (lh_go_in_probe(g->frames, g->nframes) || ignored(g))
            continue;
        const lh_goframe *blame, *inner, *from = NULL, *via = NULL;
        /* No frame of the target's own on its stack (a connection's
         * goroutine in net/http): the stacks of the goroutines that started
         * it, when the runtime kept them (GODEBUG=tracebackancestors=N),
         * name the target's call that led to it. */
        if (!lh_go_pick(g->frames, g->nframes, b->goroot, b->mods, &blame,
                        &inner) &&
            (!g->nancestors ||
             !lh_go_pick(g->ancestors, g->nancestors, b->goroot, b->mods,
                         &from, &via)))
            from = NULL;
        lh_site *s = &out[k++];
        lh_go_fill_site(s, g->frames, g->nframes, from ? from : blame);
        s->count = (double)(d[i].after - d[i].before);
        /* "semacquire in sync.(*WaitGroup).Wait waitgroup.go:139; created
         * by main.main main.go:24": how it is stuck, the library path from
         * the blamed frame to where it is stuck, and who started it. */
        char where[256] = "";
        lh_go_path(where, sizeof where, g->frames, g->nframes, blame, inner);
        if (*g->state)
            lh_go_append(s->detail, sizeof s->detail, "%s", g->state);
        if (*where)
            lh_go_append(s->detail, sizeof s->detail, "%sin %s",
                   *s->detail ? " " : "", where);
        if (*g->created_by.func) {
            char by[256];
            lh_goframe_format(&g->created_by, by, sizeof by);
            lh_go_append(s->detail, sizeof s->detail, "%screated by %s",
                   *s->detail ? "; " : "", by);
        }
        if (from) {
            /* The ancestors' lines are of return addresses, one past the
             * go statement at times ("created by" has the place): names
             * only. */
            lh_go_path(where, sizeof where, g->ancestors, g->nancestors,
                       from, via);
            char *end = strrchr(where, ' ');
            if (end && via != from && strchr(end, ':'))
                *end = '\0';
            lh_go_append(s->detail, sizeof s->detail, "%sstarted via %s",
                   *s->detail ? "; " : "", where);
        }
        if (lh_go_labeled_target() && a->has_lab && b->has_lab)
            lh_go_attribute(a, b, g, s);
    }
    lh_raw_free(d);
    return k;
}
