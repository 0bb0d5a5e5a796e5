/*
 * gosnap.c - a snapshot of a Go target: its goroutines and its heap.
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
 * Two snapshots (baseline, end) are diffed per stack (goroutines.c,
 * goheap.c): baseline stacks are not blamed, only what they grew by.
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
 */
#include "godiag_internal.h"
#include "file.h"

#include <errno.h>
#include <string.h>

#include "alloc.h"

/* ---- asking the probe -------------------------------------------------- */

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
char *lh_go_fetch(const lh_go_probe *go, enum what w, size_t *len)
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
        (text = lh_go_fetch(go, gw, &len)) != NULL) {
        s->has_gr = lh_goprofile_parse(&s->gr, text, len) == 0;
        lh_raw_free(text);
    }
    /* The stacks text has no labels; the debug=1 profile has them per
     * stack.  Another pass over every goroutine (~1 ms per 1,000), so only
     * when steps are labeled. */
    if (lh_go_labeled_target() == t && gw == GOROUTINE_STACKS &&
        go->goroutine_profile &&
        (text = lh_go_fetch(go, GOROUTINE_PROFILE, &len)) != NULL) {
        s->has_lab = lh_goprofile_parse(&s->lab, text, len) == 0;
        lh_raw_free(text);
    }
    if (go->heap_profile) {
        if ((text = lh_go_fetch(go, HEAP_TEXT, &len)) != NULL)
            s->has_heap = lh_go_heap_parse(&s->heap, text, len) == 0;
        s->pb = lh_go_fetch(go, HEAP_PROTO, &s->pblen);
    }
    if (!s->has_gr && !s->has_heap && !s->pb) {
        lh_godiag_free(s);
        return NULL;
    }
    lh_go_find_goroot(s);
    s->mods = lh_go_mods_of(t);
    return s;
}

lh_gosnap *lh_godiag_heap_snapshot(lh_target *t)
{
    if (!t || !t->has_go || !t->go.heap_profile)
        return NULL;
    lh_gosnap *s = lh_raw_calloc(1, sizeof *s);
    char *text;
    size_t len;
    if (s && (text = lh_go_fetch(&t->go, HEAP_TEXT, &len)) != NULL)
        s->has_heap = lh_go_heap_parse(&s->heap, text, len) == 0;
    if (!s || !s->has_heap) {
        lh_godiag_free(s);
        return NULL;
    }
    lh_go_find_goroot(s);
    s->mods = lh_go_mods_of(t);
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
        lh_go_heap_free(&s->heap);
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
