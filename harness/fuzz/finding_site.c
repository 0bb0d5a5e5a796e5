/*
 * finding_site.c - where a confirmed leak grows, named in its signature so that two
 * leaks are two findings: for goroutines the stack that grew most between
 * goroutine profiles taken around the replays; for the C heap the
 * allocation site recorded during the replays (heapsites.c) that holds at
 * least half the growth; for fds and threads the stack that opened or
 * created most of the new ones (fddiag.c, threaddiag.c); for the Go heap
 * the site that grew most in pprof's heap profile, around the replays or
 * the distinct inputs.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "goprofile.h"
#include "oracle_impl.h"

#define HEAP_SITE_SHARE 0.5     /* a C heap site must hold this share of the
                                 * growth to be named */

/* Goroutine profile `which` (0: before the replays, 1: after) into
 * o->prof; -1 when the target has none. */
int lh_or_capture_profile(lh_oracle *o, int which)
{
    const lh_target *t = o->probes->target;
    if (!t || !t->has_go || !t->go.goroutine_profile)
        return -1;
    for (int tries = 0; tries < 4; tries++) {
        int64_t need = t->go.goroutine_profile(o->prof[which],
                                               (int64_t)o->prof_cap[which]);
        if (need < 0)
            return -1;
        if ((size_t)need < o->prof_cap[which]) {
            o->prof_len[which] = (size_t)need;
            return 0;
        }
        /* Room for goroutines started between the two calls. */
        size_t cap = (size_t)need + (size_t)need / 4 + 4096;
        char *n = lh_raw_realloc(o->prof[which], cap);
        if (!n)
            return -1;
        o->prof[which] = n;
        o->prof_cap[which] = cap;
    }
    return -1;
}

/* The site of a confirmed goroutine leak: the stack that grew most between
 * the profile taken before the replays and one taken now (after the final
 * settle).  "" when either profile is missing. */
void lh_or_goroutine_site(lh_oracle *o, char *site, size_t len)
{
    site[0] = '\0';
    if (!o->prof_ok || lh_or_capture_profile(o, 1) < 0)
        return;
    lh_goprofile before, after;
    if (lh_goprofile_parse(&before, o->prof[0], o->prof_len[0]) < 0)
        return;
    if (lh_goprofile_parse(&after, o->prof[1], o->prof_len[1]) == 0) {
        lh_gogroup_delta *d;
        if (lh_goprofile_diff(&before, &after, &d) > 0)
            lh_godiag_group_site(o->probes->target, d[0].group, site,
                                 len);
        lh_raw_free(d);
        lh_goprofile_free(&after);
    }
    lh_goprofile_free(&before);
}

/*
 * While a confirmation judges the C heap, every allocation is recorded with
 * its stack (heapsites.c at rate 0), between snapshots taken before the
 * first reading and after the last.  Outside confirmations recording is
 * as it was: when nobody had started it, it is stopped again, so the
 * interposer runs without a hook and the fuzzing hot path costs what it
 * did.  Replays are a few dozen steps, so recording everything is cheap
 * there, and exact: the site's bytes compare with the measured growth.
 */
void lh_or_heap_sites_begin(lh_oracle *o, unsigned judge)
{
    for (int k = 0; k < 2; k++) {
        lh_heapsites_free(o->heap_snap[k]);
        o->heap_snap[k] = NULL;
        lh_mmapsites_free(o->map_snap[k]);
        o->map_snap[k] = NULL;
    }
    lh_fddiag_free(o->fd_snap[0]);
    lh_fddiag_free(o->fd_snap[1]);
    o->fd_snap[0] = o->fd_snap[1] = NULL;
    lh_threaddiag_free(o->thr_snap[0]);
    lh_threaddiag_free(o->thr_snap[1]);
    o->thr_snap[0] = o->thr_snap[1] = NULL;
    /* Where fds are opened and threads created: recorded from the first
     * confirmation that judges them on (like mappings, each is a syscall
     * already). */
    if (judge & BIT(W_FDS)) {
        lh_fddiag_start();
        o->fd_snap[0] = lh_fddiag_snapshot();
    }
    if (judge & BIT(W_THREADS)) {
        lh_threaddiag_start();
        o->thr_snap[0] = lh_threaddiag_snapshot();
    }
    if (judge & BIT(W_MMAP)) {
        /* Every mapping is recorded (they are syscalls already): the
         * recorder, once started, stays on. */
        lh_mmapsites_start();
        o->map_snap[0] = lh_mmapsites_snapshot();
    }
    o->heap_rec = (judge & HEAP_BITS) != 0;
    if (!o->heap_rec)
        return;
    o->heap_was_on = lh_heapsites_recording(&o->heap_prev_rate);
    lh_heapsites_start(0);
    o->heap_snap[0] = lh_heapsites_snapshot();
}

void lh_or_heap_sites_end(lh_oracle *o)
{
    if (o->map_snap[0])
        o->map_snap[1] = lh_mmapsites_snapshot();
    if (o->fd_snap[0])
        o->fd_snap[1] = lh_fddiag_snapshot();
    if (o->thr_snap[0])
        o->thr_snap[1] = lh_threaddiag_snapshot();
    if (!o->heap_rec)
        return;
    o->heap_rec = 0;
    o->heap_snap[1] = lh_heapsites_snapshot();
    if (o->heap_was_on)
        lh_heapsites_start(o->heap_prev_rate);
    else
        lh_heapsites_stop();
}

/* "dir/file.c:12" -> "file.c:12", as goroutine sites name files. */
static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* "func file:line", or the func alone when there is no location (no
 * symbols: both are lib.so+0x...); then " (inlined into G file:line)"
 * when the compiler inlined it, since a static helper shared by two ops
 * (record.c's parse) says little on its own; then " → F" when func is the
 * user's code calling the library function F that allocates, so that two
 * leaks through one library (sqlite3_prepare_v2, sqlite3_mprintf) from one
 * function are two sites. */
static void format_heap_site(const lh_site *st, char *site, size_t len)
{
    const char *loc = base_name(st->location);
    int llen = (int)strlen(loc);
    if (llen > 2 && strcmp(loc + llen - 2, ":?") == 0)
        llen -= 2;              /* no line: the file alone, as for Go */
    int n;
    if (!llen || strcmp(st->location, st->func) == 0)
        n = snprintf(site, len, "%s", st->func);
    else
        n = snprintf(site, len, "%s %.*s", st->func, llen, loc);
    static const char inl[] = "inlined into ";
    /* detail is "[...; ]inlined into G (path:line)"; C++ names hold
     * parentheses, so the location is the last pair. */
    const char *g = strstr(st->detail, inl);
    const char *paren = g ? strrchr(g, '(') : NULL;
    if (n >= 0 && (size_t)n < len && g && paren &&
        paren > g + sizeof inl - 1 && paren[-1] == ' ') {
        g += sizeof inl - 1;
        int glen = (int)(paren - 1 - g);
        const char *gloc = base_name(paren + 1);
        const char *close = strrchr(gloc, ')');
        llen = close ? (int)(close - gloc) : (int)strlen(gloc);
        if (llen > 2 && strncmp(gloc + llen - 2, ":?", 2) == 0)
            llen -= 2;
        else if (llen == 1 && *gloc == '?')
            llen = 0;
        n += snprintf(site + n, len - (size_t)n, " (inlined into %.*s%s%.*s)",
                      glen, g, llen ? " " : "", llen, gloc);
    }
    if (n >= 0 && (size_t)n < len && st->via[0])
        snprintf(site + n, len - (size_t)n, " \xe2\x86\x92 %s", st->via);
}

/* The site of a confirmed C heap leak (w: which heap metric, growth: its
 * growth over the replays): the allocation site whose live bytes grew most
 * over the replays, when it holds at least HEAP_SITE_SHARE of the growth.
 * Less, and it is not the culprit but one of several, or the growth
 * happened where recording did not see it (another thread): "".  A site
 * in the user's code is one function whatever library functions it
 * called: what it holds through the others (at any line) counts too, and
 * the site is signed with the one it holds most through. */
#define SITES_LOOKED_AT 8

/* Same function in the same file (the line aside, as signatures do). */
static int same_function(const lh_site *a, const lh_site *b)
{
    const char *ca = strrchr(a->location, ':');
    const char *cb = strrchr(b->location, ':');
    size_t la = ca ? (size_t)(ca - a->location) : strlen(a->location);
    size_t lb = cb ? (size_t)(cb - b->location) : strlen(b->location);
    return strcmp(a->func, b->func) == 0 && la == lb &&
           strncmp(a->location, b->location, la) == 0;
}

void lh_or_heap_site(lh_oracle *o, int w, double growth, char *site,
                     size_t len)
{
    site[0] = '\0';
    if (!o->heap_snap[0] || !o->heap_snap[1])
        return;
    lh_site *top = lh_raw_malloc(SITES_LOOKED_AT * sizeof *top);
    if (!top)
        return;
    int n = lh_heapsites_diff(o->heap_snap[0], o->heap_snap[1], top,
                              SITES_LOOKED_AT);
    double held = 0.0;
    for (int i = 0; i < n; i++)
        if (i == 0 || (top[0].via[0] && same_function(&top[i], &top[0])))
            held += w == W_HEAP_BYTES ? top[i].bytes : top[i].count;
    if (n >= 1 && growth > 0.0 && held >= HEAP_SITE_SHARE * growth)
        format_heap_site(&top[0], site, len);
    lh_raw_free(top);
}

/* The site of a confirmed mapped-memory leak: the mapping site whose live
 * bytes grew most over the replays, when it holds HEAP_SITE_SHARE of the
 * growth (exact: every mapping is recorded). */
void lh_or_mmap_site(lh_oracle *o, double growth, char *site, size_t len)
{
    site[0] = '\0';
    if (!o->map_snap[0] || !o->map_snap[1])
        return;
    lh_site *top = lh_raw_malloc(sizeof *top);
    if (!top)
        return;
    if (lh_mmapsites_diff(o->map_snap[0], o->map_snap[1], top, 1) == 1 &&
        growth > 0.0 && top->bytes >= HEAP_SITE_SHARE * growth)
        format_heap_site(top, site, len);
    lh_raw_free(top);
}

/* The site of a confirmed fd or thread leak: the opening (creating)
 * stack that holds most of the new fds (threads) over the replays, when
 * it holds HEAP_SITE_SHARE of the growth.  What the fds point to
 * ("/dev/null x 12") varies with the replays: not in the site. */
void lh_or_proc_site(lh_oracle *o, int w, double growth, char *site,
                     size_t len)
{
    site[0] = '\0';
    lh_site *top = lh_raw_malloc(sizeof *top);
    if (!top || growth <= 0.0) {
        lh_raw_free(top);
        return;
    }
    int n = 0;
    if (w == W_FDS && o->fd_snap[0] && o->fd_snap[1])
        n = lh_fddiag_diff(o->fd_snap[0], o->fd_snap[1], top, 1);
    else if (w == W_THREADS && o->thr_snap[0] && o->thr_snap[1])
        n = lh_threaddiag_diff(o->thr_snap[0], o->thr_snap[1], top, 1);
    /* Go opens fds unseen: a leaked one held by a Go object (an *os.File,
     * a net.Conn's netFD) is named by where that object was made, as in
     * diagnosis (diagnose.c), from the replays' Go heap profiles */
    static const char *const go_fd_makers[] = { "os.newFile", "net.newFD",
                                                NULL };
    if (w == W_FDS && (n == 0 || strcmp(top->func, LH_FD_UNRECORDED) == 0) &&
        lh_godiag_heap_through(o->go_snap[0], o->go_snap[1], go_fd_makers,
                               top, 1) == 1) {
        top->detail[0] = '\0';
        format_heap_site(top, site, len);
        lh_raw_free(top);
        return;
    }
    if (n == 1 && top->count >= HEAP_SITE_SHARE * growth) {
        /* detail is "/dev/null x 12; inlined into G (path:line)": keep
         * what names the code */
        const char *inl = strstr(top->detail, "inlined into ");
        if (inl)
            memmove(top->detail, inl, strlen(inl) + 1);
        else
            top->detail[0] = '\0';
        format_heap_site(top, site, len);
    }
    lh_raw_free(top);
}

/* The Go heap site that grew most between two heap profiles (pprof's,
 * sampled: an estimate), when it holds HEAP_SITE_SHARE of the growth.  As
 * for the C heap, a function of the target's own holds what it holds
 * through every library function it called: lh_godiag_heap makes them one
 * site (time.After's timer and channel, a histogram and its buckets). */
void lh_or_go_heap_site(const lh_gosnap *a, const lh_gosnap *b,
                        double growth, char *site, size_t len)
{
    site[0] = '\0';
    if (!a || !b || growth <= 0.0)
        return;
    lh_site *top = lh_raw_malloc(sizeof *top);
    if (!top)
        return;
    if (lh_godiag_heap(a, b, top, 1) == 1 &&
        top->bytes >= HEAP_SITE_SHARE * growth)
        format_heap_site(top, site, len);
    lh_raw_free(top);
}

/*
 * A confirmation's replays allocate a few KiB in all: at the probe's
 * sampling rate (one sample per 4 KiB) the profile would see a handful of
 * them, or none, so every allocation is recorded while they run (as the C
 * heap's are), when the probe can (version 4).  Both snapshots are
 * written at that rate and scale nothing, the older records included: the
 * difference is what the replays left, exactly.  Taken after the first
 * reading, which followed settles.
 */
void lh_or_go_snap_begin(lh_oracle *o)
{
    for (int k = 0; k < 2; k++) {
        lh_godiag_free(o->go_snap[k]);
        o->go_snap[k] = NULL;
    }
    lh_target *t = o->probes->target;
    if (!t || !t->has_go || !t->go.heap_profile)
        return;
    if (t->go.heap_sample_rate && !o->go_rate_prev)
        o->go_rate_prev = t->go.heap_sample_rate(1);
    o->go_snap[0] = lh_godiag_heap_snapshot(t);
}

/* The heap profile is as of the last completed GC but one: a settle
 * more, as the distinct run does. */
void lh_or_go_snap_end(lh_oracle *o, int confirmed)
{
    lh_target *t = o->probes->target;
    if (confirmed && o->go_snap[0]) {
        lh_or_do_settle(o);
        o->go_snap[1] = lh_godiag_heap_snapshot(t);
    }
    if (o->go_rate_prev > 0 && t && t->go.heap_sample_rate)
        t->go.heap_sample_rate(o->go_rate_prev);
    o->go_rate_prev = 0;
}
