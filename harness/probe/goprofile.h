/*
 * goprofile.h - Go goroutine profiles in text form: parse, diff, name sites.
 *
 * The Go probe's leakhound_go_goroutine_profile() returns pprof's goroutine
 * profile with debug=1: goroutines grouped by stack, one group per
 *
 *     COUNT @ 0xPC 0xPC ...
 *     # labels: {...}                               (optional)
 *     #\t0xPC\tpkg.func+0xOFF\t/path/file.go:LINE     (one per frame)
 *
 * separated by blank lines, after a "goroutine profile: total N" header.
 * The debug=2 form (what a panic or SIGQUIT prints: one "goroutine N
 * [state]:" block per goroutine, with "created by" lines) is accepted too;
 * its goroutines are grouped by stack and state ("chan send"), as debug=1
 * groups by stack.
 *
 * Under GODEBUG=tracebackancestors=N, debug=2 also prints, after each
 * goroutine, the stacks of the goroutines that started it ("[originating
 * from goroutine N]:" blocks); they are kept apart (lh_gogroup.ancestors).
 *
 * A leaked goroutine shows up as a group whose count grows between two
 * profiles, and the place to blame is its top frame outside the runtime.
 *
 * Memory comes from lh_raw_* (never counted by the interposer): parsing in
 * the middle of a measurement does not show up as a leak.
 */
#ifndef LEAKHOUND_GOPROFILE_H
#define LEAKHOUND_GOPROFILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct lh_goframe {
    const char *func;       /* "main.lookupLeaky.func1"; "" if unsymbolised */
    const char *file;       /* as printed (full path); "" when unknown */
    int line;               /* 0 when unknown */
} lh_goframe;

typedef struct lh_gogroup {
    int64_t count;              /* goroutines with this stack */
    size_t nframes;
    const lh_goframe *frames;   /* innermost (top of the stack) first */
    lh_goframe created_by;      /* func "" when the text does not say
                                 * (debug=1 never does) */
    const char *labels;         /* debug=1 "# labels:" value, or "" */
    const char *state;          /* debug=2 "[chan send]" without the
                                 * brackets and the ", N minutes" / ", locked
                                 * to thread" suffixes; "" for debug=1 */
    uint64_t key;               /* hash of frames, created_by and state:
                                 * equal stacks have equal keys */
    size_t nancestors;          /* debug=2 under GODEBUG=tracebackancestors:
                                 * the stacks of the goroutines that started
                                 * this one, as they were when they did,
                                 * its creator's first, innermost frame
                                 * first (not part of the key: equal stacks
                                 * keep the first group's) */
    const lh_goframe *ancestors;
} lh_gogroup;

typedef struct lh_goprofile {
    int64_t total;              /* the header's total, or -1 without one */
    size_t ngroups;
    lh_gogroup *groups;         /* in the order of the text */
    /* private */
    char *text_;
    lh_goframe *frames_;
} lh_goprofile;

/* Parse text[0..len) (NUL not required).  Lines that are neither a group
 * header nor a frame are skipped, so a truncated profile yields the groups
 * it holds.  Returns 0, or -1 (p empty) when no memory or when the text
 * holds neither a header nor any group.  Free with lh_goprofile_free. */
int lh_goprofile_parse(lh_goprofile *p, const char *text, size_t len);
void lh_goprofile_free(lh_goprofile *p);

/* Same stack: the same frames (function, file, line), creator and state.
 * The PCs and labels are not compared: the PCs of frames pprof hides (the
 * runtime's own, at the top) may differ for one printed stack, and labels
 * vary per request.  The state is "" in debug=1 text, so there it is the
 * stack alone. */
int lh_gogroup_same_stack(const lh_gogroup *a, const lh_gogroup *b);

/* A stack that has more goroutines in `after` than in `before`. */
typedef struct lh_gogroup_delta {
    const lh_gogroup *group;    /* first group of that stack in `after` */
    int64_t before;             /* goroutines on that stack, summed over */
    int64_t after;              /* the groups that print it */
} lh_gogroup_delta;

/* Stacks whose goroutine count grew from `before` to `after`, largest
 * growth first (ties in the order of `after`).  *out is allocated with
 * lh_raw_malloc (release with lh_raw_free; NULL when none grew) and points
 * into `after`, which must outlive it.  Returns the number of entries, or
 * -1 when out of memory. */
long lh_goprofile_diff(const lh_goprofile *before, const lh_goprofile *after,
                       lh_gogroup_delta **out);

/* A debug=1 frame line after its '#' -- "\t0xPC\tpkg.func+0xOFF\t\t
 * /path/file.go:LINE" (tabwriter pads with runs of tabs), or "\t0xPC" alone
 * when unsymbolised -- parsed in place (the heap profile's frames have the
 * same form). */
void lh_goframe_parse(char *line, lh_goframe *f);

/* Is the frame the runtime's rather than the program's: runtime.*,
 * runtime/..., internal/..., a pkg.runtime_* shim (sync.runtime_Semacquire),
 * cgo glue (_cgo_*, _cgoexp_*, pkg._Cfunc_*, pkg._cgo_*) or an
 * unsymbolised PC. */
int lh_goframe_is_runtime(const lh_goframe *f);

/* The group's top frame that is not the runtime's; its top frame when all
 * are; NULL when it has no frames. */
const lh_goframe *lh_gogroup_top(const lh_gogroup *g);

/* "func file.go:LINE" with the file's base name ("func" alone without a
 * file).  Returns the length it wanted (snprintf-like). */
int lh_goframe_format(const lh_goframe *f, char *buf, size_t len);

/* Where a group's goroutines sit: the top frame as lh_goframe_format
 * writes it, plus " (created by FUNC FILE:LINE)" when the text gave a
 * creator.  "" for a group without frames.  Returns the wanted length. */
int lh_gogroup_site(const lh_gogroup *g, char *buf, size_t len);

#endif
