/*
 * cgocaller.c - the Go caller of a C allocation made through cgo.
 *
 * The C stack of a cgo call ends, for the unwinder, at the cgo stub
 * (_cgo_<hash>_Cfunc_NAME) that runtime.asmcgocall ran on the thread's
 * system stack: the goroutine that called C.NAME is on another stack.
 * While the C code runs, though, the thread is inside a cgo call, where a
 * call back into Go is legal and runs on that very goroutine: the probe's
 * leakhound_go_cgo_callers returns its stack.  So, on the allocation
 * hook's sampled path only (every allocation in a confirmation window),
 * and for every fd opened, thread created and mapping made while their
 * recorders run (lh_cgo_intern; each is a syscall already):
 *   - the stack is classified with what target.c published (gocgo.c):
 *     the innermost frame lying in a Go target's Go code or cgo stubs
 *     must be a stub -- a Go runtime frame first (the runtime calling C
 *     itself, x_cgo_thread_start) means no cgo call to call back from;
 *     C targets and C threads never get that far;
 *   - the hook holds no lock of ours while Go runs (the recorders call
 *     this before interning or taking their locks), and the thread's own
 *     mallocs and mappings in between are neither counted nor hooked (the
 *     interposer's rule inside a hook); a thread the runtime starts then
 *     is recorded, its stack classified as the runtime's.
 * The Go PCs are kept after LH_CGO_MARK in the interned stack and named
 * by the probe (runtime.CallersFrames) when a site is made.
 */
#include "cgocaller.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "godiag_internal.h"
#include "symbolize.h"
#include "trim.h"

int lh_cgo_extend(const uintptr_t *c, int n, uintptr_t *out, int max)
{
    lh_target *t = NULL;
    int stub = -1;
    if (!lh_gocgo_any())
        return 0;           /* no Go target: one load, not one per frame */
    for (int i = 0; i < n && stub < 0; i++) {
        int k = lh_gocgo_classify(c[i] - 1, &t);
        if (k < 0)
            return 0;
        if (k > 0)
            stub = i;
    }
    if (stub < 0 || stub + 3 > max || !t->go.cgo_callers)
        return 0;
    memcpy(out, c, (size_t)(stub + 1) * sizeof *c);
    out[stub + 1] = LH_CGO_MARK;
    int64_t g = t->go.cgo_callers(out + stub + 2, max - stub - 2);
    if (g <= 0 || g > max - stub - 2)
        return 0;
    return stub + 2 + (int)g;
}

int lh_cgo_intern(const uintptr_t *pcs, int n)
{
    uintptr_t ext[LH_SITE_MAX_FRAMES];
    if (n > LH_SITE_MAX_FRAMES)
        n = LH_SITE_MAX_FRAMES;
    int g = lh_cgo_extend(pcs, n, ext, LH_SITE_MAX_FRAMES);
    return g > 0 ? lh_stack_intern(ext, g) : lh_stack_intern(pcs, n);
}

/* ---- naming the Go frames ------------------------------------------------ */

#define CGO_FRAMES 128

/* The probe's "func\tfile:line" lines, cut in place into f (innermost
 * first); returns how many. */
static size_t parse_frames(char *text, lh_goframe *f, size_t max)
{
    size_t n = 0;
    for (char *line = text; line && *line && n < max;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        char *tab = strchr(line, '\t');
        if (tab) {
            *tab = '\0';
            char *colon = strrchr(tab + 1, ':');
            int ln = 0;
            if (colon) {
                *colon = '\0';
                sscanf(colon + 1, "%d", &ln);
            }
            f[n++] = (lh_goframe){ line, tab + 1, ln };
        }
        line = end ? end + 1 : NULL;
    }
    return n;
}

/* The probe's text for pcs (lh_raw_malloc'd, NUL-terminated), or NULL. */
static char *go_frames(const lh_target *t, const uintptr_t *pcs, int n)
{
    int64_t cap = 8192;
    for (int tries = 0; tries < 4; tries++) {
        char *buf = lh_raw_malloc((size_t)cap + 1);
        if (!buf)
            return NULL;
        int64_t got = t->go.frames(pcs, n, buf, cap);
        if (got >= 0 && got < cap) {
            buf[got] = '\0';
            return buf;
        }
        lh_raw_free(buf);
        if (got < 0)
            return NULL;
        cap = got + 1024;
    }
    return NULL;
}

/* "C.CString" for the outermost cgo wrapper of the call (main._Cfunc_
 * CString; C.malloc's is _Cfunc__CMalloc), "" when none is named. */
static void c_name(const lh_goframe *f, size_t n, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = n; i-- > 0;) {
        const char *c = strstr(f[i].func, "._Cfunc_");
        if (!c)
            continue;
        c += strlen("._Cfunc_");
        snprintf(out, len, "C.%s", strcmp(c, "_CMalloc") == 0 ? "malloc"
                                                                : c);
        return;
    }
}

static int is_harness(const sym_entry *e, uintptr_t pc)
{
    return lh_trim_frame(pc, e && e->obj && e->obj->is_main,
                         e && e->nfr ? e->fr[0].func : NULL);
}

static void append_folded(lh_site *s, const char *name)
{
    size_t at = strlen(s->folded), k = strlen(name);
    if (at + k + 2 >= sizeof s->folded)
        return;
    if (at)
        s->folded[at++] = ';';
    for (size_t i = 0; i < k; i++)
        s->folded[at++] = name[i] == ';' ? ':' : name[i];
    s->folded[at] = '\0';
}

int lh_cgo_site(lh_site *s, const uintptr_t *pcs, int n)
{
    int m = 0;
    while (m < n && pcs[m] != LH_CGO_MARK)
        m++;
    lh_target *t = NULL;
    if (m == 0 || m >= n - 1 || lh_gocgo_classify(pcs[m - 1] - 1, &t) != 1 ||
        !t->go.frames)
        return 0;
    char *text = go_frames(t, pcs + m + 1, n - m - 1);
    lh_goframe *f = lh_raw_malloc(CGO_FRAMES * sizeof *f);
    size_t nf = text && f ? parse_frames(text, f, CGO_FRAMES) : 0;
    if (nf == 0) {
        lh_raw_free(text);
        lh_raw_free(f);
        return 0;
    }
    const lh_goframe *blame, *inner;
    lh_go_pick(f, nf, "", lh_go_mods_of(t), &blame, &inner);
    lh_go_fill_site(s, f, nf, blame);

    /* "via database/sql.(*DB).Exec → … → C.sqlite3_exec (C:
     * sqlite3MemMalloc)": the library path, the C function called from Go,
     * the innermost C frame (that called malloc, fopen, pthread_create). */
    char call[160], path[256];
    c_name(f, nf, call, sizeof call);
    lh_go_path(path, sizeof path, f, nf, blame, inner);
    char cf[160] = "?";
    for (int i = 0; i < m; i++) {
        const sym_entry *e = lh_sym_entry(pcs[i] - 1);
        if (is_harness(e, pcs[i]))
            continue;
        if (e && e->nfr && e->fr[0].func)
            snprintf(cf, sizeof cf, "%s", e->fr[0].func);
        else
            lh_sym_offset(e, pcs[i] - 1, cf, sizeof cf);
        break;
    }
    snprintf(s->detail, sizeof s->detail, "via %s%s%s (C: %s)", path,
             *path && *call ? " → " : "", call, cf);

    /* Folded: the Go stack root first, then the C frames to the leaf. */
    for (int i = m - 1; i >= 0; i--) {
        const sym_entry *e = lh_sym_entry(pcs[i] - 1);
        if (is_harness(e, pcs[i]))
            continue;
        char o[128];
        if (e && e->nfr && e->fr[0].func) {
            for (int j = e->nfr - 1; j >= 0; j--)
                append_folded(s, e->fr[j].func ? e->fr[j].func : "??");
        } else {
            lh_sym_offset(e, pcs[i] - 1, o, sizeof o);
            append_folded(s, o);
        }
    }
    lh_raw_free(text);
    lh_raw_free(f);
    return 1;
}
