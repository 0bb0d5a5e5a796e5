/*
 * blame.c - which frame of a stack a site is blamed on, and its folded
 * stack.
 *
 * The frame to blame is the innermost one in the user's code (mine.c):
 * outside the harness (trim.h), the runtime libraries (libc, ld.so,
 * libstdc++, libgcc, Lua ...) and the system libraries; the frames from
 * there to the allocation, inside the libraries, are its detail.  Without
 * such a frame, the innermost one outside the harness and the runtime.
 */
#include "diag.h"

#include <stdio.h>
#include <string.h>

#include "mine.h"
#include "symbolize.h"
#include "trim.h"

/* Runtime libraries: the frame that called into them is to blame. */
static const char *const runtime_objs[] = {
    "libc.so", "libc-", "ld-linux", "ld64.so", "libstdc++", "libc++",
    "libgcc_s", "liblua", "libpthread", "libdl.so", "libm.so", "librt.so",
    "libglib-2.0", "libunwind", "linux-vdso",
};

/* C++ library code instantiated into the target (std::vector growing)
 * is the runtime's too: blame its caller. */
static int name_is_library(const char *f)
{
    if (!f)
        return 0;
    static const char *const pre[] = { "std::", "__gnu_cxx::",
                                       "operator new", "operator delete",
                                       "__cxa_", "__libc_", "_cgo_",
                                       "x_cgo_", "runtime." };
    const char *g = f;
    /* A template's demangled name starts with its return type. */
    const char *sp = strchr(f, ' ');
    const char *lt = strpbrk(f, "<(");
    if (sp && (!lt || sp < lt))
        g = sp + 1;
    for (size_t i = 0; i < sizeof pre / sizeof *pre; i++)
        if (strncmp(f, pre[i], strlen(pre[i])) == 0 ||
            strncmp(g, pre[i], strlen(pre[i])) == 0)
            return 1;
    return 0;
}

static int obj_is_runtime(const sym_obj *o)
{
    if (!o || o->is_main)
        return 0;
    for (size_t i = 0; i < sizeof runtime_objs / sizeof *runtime_objs; i++)
        if (strncmp(o->name, runtime_objs[i], strlen(runtime_objs[i])) ==
            0)
            return 1;
    return 0;
}

static int frame_is_harness(const sym_entry *e, uintptr_t pc)
{
    return lh_trim_frame(pc, e && e->obj && e->obj->is_main,
                         e ? e->fr[0].func : NULL);
}

static void append_frame(char *out, size_t cap, size_t *len,
                         const char *name)
{
    size_t n = strlen(name);
    if (*len + n + 2 >= cap)
        return;
    if (*len)
        out[(*len)++] = ';';
    for (size_t i = 0; i < n; i++)
        out[(*len)++] = name[i] == ';' ? ':' : name[i];
    out[*len] = '\0';
}

/* The innermost inline level (*oi, *oj) at or above (bi, bj), the frame
 * blamed by the harness and runtime rules, that is the user's code; 0
 * when none is, or when (bi, bj) is. */
static int find_own(const sym_entry *const *e, const uintptr_t *pcs, int n,
                    int bi, int bj, int *oi, int *oj)
{
    for (int i = bi; i < n; i++) {
        if (!e[i] || frame_is_harness(e[i], pcs[i]) ||
            obj_is_runtime(e[i]->obj))
            continue;
        for (int j = i == bi ? bj : 0; j < e[i]->nfr; j++) {
            const sym_frame *fr = &e[i]->fr[j];
            if (name_is_library(fr->func) ||
                !lh_mine_frame(e[i]->obj, fr->func, fr->loc))
                continue;
            if (i == bi && j == bj)
                return 0;
            *oi = i;
            *oj = j;
            return 1;
        }
    }
    return 0;
}

/* The way from the user's code (oi, oj) to the allocation's frame (bi,
 * bj), inside the libraries: "→ first → ... last (libname)", the named
 * functions outermost and innermost (offsets when none is named).  via
 * gets the first: the library function the user's code called. */
static void library_path(const sym_entry *const *e, const uintptr_t *pcs,
                         int bi, int bj, int oi, int oj, char *out,
                         size_t len, char *via, size_t vialen)
{
    /* Levels from the outermost (next to the user's code) inward. */
    enum { MAXL = LH_SITE_MAX_FRAMES * 8 };
    const char *names[MAXL];
    int frame[MAXL];
    char offs[2][300];
    int nl = 0, named = 0;
    for (int i = oi; i >= bi && nl < MAXL; i--) {
        if (!e[i])
            continue;
        int hi = i == oi ? oj - 1 : e[i]->nfr - 1;
        int lo = i == bi ? bj : 0;
        for (int j = hi; j >= lo && nl < MAXL; j--) {
            names[nl] = e[i]->fr[j].func;
            frame[nl++] = i;
            named += e[i]->fr[j].func != NULL;
        }
    }
    if (nl == 0)
        return;
    int fi = 0, li = nl - 1;
    if (named) {
        while (!names[fi])
            fi++;
        while (!names[li])
            li--;
    } else {
        /* Offsets of the outermost and innermost frames. */
        lh_sym_offset(e[frame[fi]], pcs[frame[fi]] - 1, offs[0],
                      sizeof offs[0]);
        lh_sym_offset(e[frame[li]], pcs[frame[li]] - 1, offs[1],
                      sizeof offs[1]);
        names[fi] = offs[0];
        names[li] = offs[1];
    }
    const char *first = names[fi], *last = names[li];
    snprintf(via, vialen, "%s", first);
    const sym_obj *lib = e[frame[li]]->obj;
    const char *libname = lib && !lib->is_main && named ? lib->name : NULL;
    if (fi == li || strcmp(first, last) == 0)
        snprintf(out, len, "\xe2\x86\x92 %s%s%s%s", first,
                 libname ? " (" : "", libname ? libname : "",
                 libname ? ")" : "");
    else
        snprintf(out, len, "\xe2\x86\x92 %s \xe2\x86\x92 %s%s%s%s%s",
                 first, li - fi > 1 ? "... " : "", last,
                 libname ? " (" : "", libname ? libname : "",
                 libname ? ")" : "");
}

void lh_site_from_stack(lh_site *s, const uintptr_t *pcs, int n)
{
    s->func[0] = s->location[0] = s->detail[0] = s->folded[0] = '\0';
    s->via[0] = '\0';
    if (n <= 0 || !pcs) {
        snprintf(s->func, sizeof s->func, "(no stack)");
        return;
    }
    if (n > LH_SITE_MAX_FRAMES * 2)
        n = LH_SITE_MAX_FRAMES * 2;
    lh_symbolize_batch(pcs, n, 1);
    const sym_entry *e[LH_SITE_MAX_FRAMES * 2];
    for (int i = 0; i < n; i++)
        e[i] = lh_sym_entry(pcs[i] - 1);

    /* Blame: the innermost frame in neither the harness nor a runtime
     * library; within its inline chain, the innermost function that is
     * not library code (std::, cgo glue).  Failing that (a Go runtime
     * thread's stack is all glue and libc), the innermost frame outside
     * the runtime libraries, then the innermost non-harness frame. */
    int bi = -1, bj = 0;
    for (int i = 0; i < n && bi < 0; i++) {
        if (!e[i] || frame_is_harness(e[i], pcs[i]) ||
            obj_is_runtime(e[i]->obj))
            continue;
        for (int j = 0; j < e[i]->nfr; j++)
            if (!name_is_library(e[i]->fr[j].func)) {
                bi = i;
                bj = j;
                break;
            }
    }
    for (int i = 0; i < n && bi < 0; i++)
        if (e[i] && !frame_is_harness(e[i], pcs[i]) &&
            !obj_is_runtime(e[i]->obj))
            bi = i;
    for (int i = 0; i < n && bi < 0; i++)
        if (!frame_is_harness(e[i], pcs[i]))
            bi = i;
    if (bi < 0)
        bi = 0;

    /* The user's code that called into the libraries: blamed instead,
     * with the way from it to the allocation as detail. */
    int oi, oj;
    char path[sizeof s->detail];
    path[0] = '\0';
    if (find_own(e, pcs, n, bi, bj, &oi, &oj)) {
        library_path(e, pcs, bi, bj, oi, oj, path, sizeof path, s->via,
                     sizeof s->via);
        bi = oi;
        bj = oj;
    }

    char off[300];
    const sym_entry *b = e[bi];
    lh_sym_offset(b, pcs[bi] - 1, off, sizeof off);
    const char *f = b && b->fr[bj].func ? b->fr[bj].func : NULL;
    snprintf(s->func, sizeof s->func, "%s", f ? f : off);
    snprintf(s->location, sizeof s->location, "%s",
             b && b->fr[bj].loc ? b->fr[bj].loc : off);
    if (path[0] && b && bj + 1 < b->nfr && b->fr[bj + 1].func)
        snprintf(s->detail, sizeof s->detail, "%s; inlined into %s (%s)",
                 path, b->fr[bj + 1].func,
                 b->fr[bj + 1].loc ? b->fr[bj + 1].loc : "?");
    else if (path[0])
        snprintf(s->detail, sizeof s->detail, "%s", path);
    else if (b && bj + 1 < b->nfr && b->fr[bj + 1].func)
        snprintf(s->detail, sizeof s->detail, "inlined into %s (%s)",
                 b->fr[bj + 1].func,
                 b->fr[bj + 1].loc ? b->fr[bj + 1].loc : "?");
    else if (f && strncmp(f, "_cgo_", 5) == 0 && strstr(f, "_Cfunc_")) {
        /* cgo's stub for C.f: the Go code that called it runs on a
         * goroutine stack this unwinder cannot follow.  _Cfunc__CMalloc
         * is the allocator behind C.CString, C.CBytes and C.malloc. */
        const char *c = strstr(f, "_Cfunc_") + 7;
        snprintf(s->detail, sizeof s->detail,
                 "%s%s called from Go (the Go caller is not unwound; see "
                 "the Go profiles)",
                 strncmp(c, "_C", 2) == 0 ? "C.CString, C.CBytes or C.malloc"
                                          : "C.",
                 strncmp(c, "_C", 2) == 0 ? "" : c);
    } else if (f && bi + 1 < n && e[bi + 1] && e[bi + 1]->fr[0].func &&
               !frame_is_harness(e[bi + 1], pcs[bi + 1]) &&
               strcmp(e[bi + 1]->fr[0].func, f) != 0) {
        /* a helper that allocates for several ops: say which op called
         * it, as the "cache_put ... called from op_insert" */
        const sym_entry *c = e[bi + 1];
        snprintf(s->detail, sizeof s->detail, "called from %s (%s)",
                 c->fr[0].func, c->fr[0].loc ? c->fr[0].loc : "?");
    }

    /* Folded, root first, inline chains expanded, the interposer left
     * out.  Names are gathered leaf first so that, when the stack does
     * not fit, root frames are the ones that give way. */
    enum { MAXN = LH_SITE_MAX_FRAMES * 8 };
    const char *names[MAXN];
    char offs[LH_SITE_MAX_FRAMES * 2][64];
    int nn = 0;
    for (int i = 0; i < n && nn < MAXN; i++) {
        if (frame_is_harness(e[i], pcs[i]))
            continue;
        if (!e[i] || !e[i]->fr[0].func) {
            lh_sym_offset(e[i], pcs[i] - 1, offs[i], sizeof offs[i]);
            names[nn++] = offs[i];
            continue;
        }
        for (int j = 0; j < e[i]->nfr && nn < MAXN; j++)
            names[nn++] = e[i]->fr[j].func ? e[i]->fr[j].func : "??";
    }
    /* names[0..keep) is the leaf side that fits. */
    size_t total = 4;           /* room for "...;" */
    int keep = 0;
    while (keep < nn && total + strlen(names[keep]) + 1 <
                            sizeof s->folded)
        total += strlen(names[keep++]) + 1;
    size_t len = 0;
    if (keep < nn)
        append_frame(s->folded, sizeof s->folded, &len, "...");
    for (int k = keep - 1; k >= 0; k--)
        append_frame(s->folded, sizeof s->folded, &len, names[k]);
}
