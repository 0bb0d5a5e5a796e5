/*
 * gosite.c - blame: which frame of a Go stack a site is named after.
 *
 * The innermost frame of the target's own code: neither the runtime's,
 * nor the standard library's, nor a dependency module's (the build info
 * the probe reads lists them), so that a ticker nobody stopped names the
 * function that called time.NewTicker rather than NewTicker, and a
 * metrics library's histograms name the call that passed an unbounded
 * label rather than newHistogram; the library path from there to where it
 * happened goes into the detail (goroutines.c, goheap.c).  The probe's
 * own stacks are left out.
 */
#include "godiag_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

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

void lh_go_find_goroot(lh_gosnap *s)
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

/* ---- the target's own packages ---------------------------------------- */

#define MODS_MAX 4

static lh_go_mods mods_cache[MODS_MAX];
static int nmods;
static pthread_mutex_t mods_lock = PTHREAD_MUTEX_INITIALIZER;

/* "path\tP", "mod\tM" and "dep\tD" lines, cut in place. */
static void parse_mods(lh_go_mods *m, char *text)
{
    size_t nl = 0;
    for (char *p = text; *p; p++)
        nl += *p == '\n';
    m->deps = lh_raw_calloc(nl + 1, sizeof *m->deps);
    if (!m->deps)
        return;
    for (char *line = text; line && *line;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        if (starts(line, "dep\t") && line[4])
            m->deps[m->ndeps++] = line + 4;
        line = end ? end + 1 : NULL;
    }
    m->known = 1;
}

/* The probe's build info text (lh_raw_malloc'd), or NULL. */
static char *fetch_build_info(const lh_target *t)
{
    for (int tries = 0; tries < 4; tries++) {
        int64_t need = t->go.build_info(NULL, 0);
        if (need < 0)
            return NULL;
        char *text = lh_raw_malloc((size_t)need + 1024);
        if (!text)
            return NULL;
        int64_t got = t->go.build_info(text, need + 1024);
        if (got >= 0 && got < need + 1024) {
            text[got] = '\0';
            return text;
        }
        lh_raw_free(text);
    }
    return NULL;
}

const lh_go_mods *lh_go_mods_of(const lh_target *t)
{
    if (!t || !t->has_go || !t->go.build_info)
        return NULL;
    lh_go_mods *m = NULL;
    pthread_mutex_lock(&mods_lock);
    for (int i = 0; i < nmods && !m; i++)
        if (mods_cache[i].target == t)
            m = &mods_cache[i];
    pthread_mutex_unlock(&mods_lock);
    if (m)
        return m->known ? m : NULL;
    /* Asked of Go with no lock of ours held; a race reads it twice. */
    char *text = fetch_build_info(t);
    pthread_mutex_lock(&mods_lock);
    for (int i = 0; i < nmods && !m; i++)
        if (mods_cache[i].target == t)
            m = &mods_cache[i];
    if (!m && nmods < MODS_MAX) {
        m = &mods_cache[nmods++];
        m->target = t;
        m->text = text;
        text = NULL;
        if (m->text)
            parse_mods(m, m->text);
    }
    pthread_mutex_unlock(&mods_lock);
    lh_raw_free(text);
    return m && m->known ? m : NULL;
}

/* A dependency's: the function's package lies in one of its modules
 * (module "example.com/metrics" holds "example.com/metrics.New" and
 * "example.com/metrics/prom.(*T).M"). */
static int is_dep(const lh_goframe *f, const lh_go_mods *mods)
{
    for (int i = 0; mods && i < mods->ndeps; i++) {
        size_t k = strlen(mods->deps[i]);
        if (strncmp(f->func, mods->deps[i], k) == 0 &&
            (f->func[k] == '.' || f->func[k] == '/'))
            return 1;
    }
    return 0;
}

int lh_go_pick(const lh_goframe *f, size_t n, const char *goroot,
               const lh_go_mods *mods, const lh_goframe **blame,
               const lh_goframe **inner)
{
    *blame = *inner = n ? &f[0] : NULL;
    size_t i = 0;
    while (i < n && lh_goframe_is_runtime(&f[i]))
        i++;
    if (i == n)
        return 0;
    *blame = *inner = &f[i];
    const lh_goframe *lib = NULL;   /* first outside the standard library */
    for (; i < n; i++) {
        if (lh_goframe_is_runtime(&f[i]) || is_std(&f[i], goroot))
            continue;
        if (!is_dep(&f[i], mods)) {
            *blame = &f[i];
            return 1;
        }
        if (!lib)
            lib = &f[i];
    }
    if (lib)
        *blame = lib;
    return 0;
}

void lh_go_path(char *buf, size_t len, const lh_goframe *f, size_t n,
                const lh_goframe *blame, const lh_goframe *inner)
{
    buf[0] = '\0';
    if (!blame || !inner || blame <= inner || blame >= f + n)
        return;
    char where[256];
    lh_goframe_format(inner, where, sizeof where);
    const lh_goframe *callee = blame - 1;   /* innermost first */
    while (callee > inner && lh_goframe_is_runtime(callee))
        callee--;
    if (callee == inner)
        snprintf(buf, len, "%s", where);
    else if (callee - 1 == inner)
        snprintf(buf, len, "%s → %s", callee->func, where);
    else
        snprintf(buf, len, "%s → … → %s", callee->func, where);
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
void lh_go_append(char *buf, size_t len, const char *fmt, ...)
{
    size_t at = strlen(buf);
    if (at + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + at, len - at, fmt, ap);
    va_end(ap);
}

void lh_go_fill_site(lh_site *s, const lh_goframe *f, size_t n,
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

/* The probe's own work -- rendering these very profiles, settling -- is
 * never the target's leak, though its one-time allocations (pprof's
 * tables, a crc32 table for gzip) first show up between two snapshots. */
int lh_go_in_probe(const lh_goframe *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (starts(f[i].func, "leakhound.dev/probe."))
            return 1;
    return 0;
}

int lh_godiag_group_site(const lh_target *t, const lh_gogroup *g, char *buf,
                         size_t len)
{
    const lh_goframe *blame, *inner;
    if (len)
        buf[0] = '\0';
    if (!g->nframes)
        return 0;
    lh_go_pick(g->frames, g->nframes, "", lh_go_mods_of(t), &blame, &inner);
    int n = lh_goframe_format(blame, buf, len);
    if (n >= 0 && (size_t)n < len && *g->created_by.func) {
        char by[256];
        lh_goframe_format(&g->created_by, by, sizeof by);
        n += snprintf(buf + n, len - (size_t)n, " (created by %s)", by);
    }
    return n;
}

int lh_go_started_from(const lh_gosnap *s, const lh_goframe *root,
                       const lh_goframe **from, const lh_goframe **via,
                       const lh_goframe **f, size_t *n)
{
    for (size_t i = 0; s && s->has_gr && root && i < s->gr.ngroups; i++) {
        const lh_gogroup *g = &s->gr.groups[i];
        size_t at = SIZE_MAX;
        /* a goroutine running root, or one started (further) from one */
        if (g->nframes &&
            strcmp(g->frames[g->nframes - 1].func, root->func) == 0)
            at = 0;
        for (size_t j = 0; at == SIZE_MAX && j < g->nancestors; j++)
            if (strcmp(g->ancestors[j].func, root->func) == 0)
                at = j + 1;
        if (at == SIZE_MAX || at >= g->nancestors)
            continue;
        if (lh_go_pick(g->ancestors + at, g->nancestors - at, s->goroot,
                       s->mods, from, via)) {
            *f = g->ancestors + at;
            *n = g->nancestors - at;
            return 1;
        }
    }
    return 0;
}
