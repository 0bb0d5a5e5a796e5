/*
 * godiag_internal.h - what the Go diagnosis files share; not an interface
 * (that is the Go section of diag.h).
 *
 *   gosnap.c      snapshots: asking the probe for its texts
 *   gosite.c      blame: from Go frames to a site's func, location, stack
 *   goroutines.c  goroutine groups that grew; ignore rules; the count
 *   goheap.c      the Go heap profile: parsing it, sites that grew
 *   golabels.c    labeled steps: which runner thread started a goroutine
 *
 * Memory comes from lh_raw_* (never counted by the interposer), and there
 * is no qsort (glibc's may call malloc).
 */
#ifndef LEAKHOUND_GODIAG_INTERNAL_H
#define LEAKHOUND_GODIAG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "diag.h"
#include "goprofile.h"

/* ---- the heap profile (debug=1 text) ------------------------------------ */

typedef struct heaprec {
    double objects;         /* in use, estimated (sampling undone) */
    double bytes;
    double aobjects;        /* allocated since start, estimated */
    double abytes;
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

static inline int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline int frames_eq(const lh_goframe *a, const lh_goframe *b,
                            size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].line != b[i].line || strcmp(a[i].func, b[i].func) != 0 ||
            strcmp(a[i].file, b[i].file) != 0)
            return 0;
    return 1;
}

/* ---- gosnap.c ----------------------------------------------------------- */

enum what { GOROUTINE_STACKS, GOROUTINE_PROFILE, HEAP_TEXT, HEAP_PROTO };

/* One text from the probe, lh_raw_malloc'd with a NUL after its *len
 * bytes; NULL when the probe fails or memory runs out. */
char *lh_go_fetch(const lh_go_probe *go, enum what w, size_t *len);

/* ---- gosite.c ----------------------------------------------------------- */

/* s->goroot from the frames of its profiles ("" when not found). */
void lh_go_find_goroot(lh_gosnap *s);

/* The frame to blame and the innermost frame outside the runtime. */
void lh_go_pick(const lh_goframe *f, size_t n, const char *goroot,
                const lh_goframe **blame, const lh_goframe **inner);

/* A site's func, location and folded stack; the rest zeroed. */
void lh_go_fill_site(lh_site *s, const lh_goframe *f, size_t n,
                     const lh_goframe *blame);

/* Appends to a fixed buffer, truncating. */
__attribute__((format(printf, 3, 4)))
void lh_go_append(char *buf, size_t len, const char *fmt, ...);

/* 1 when a stack is the probe's own work, never the target's leak. */
int lh_go_in_probe(const lh_goframe *f, size_t n);

/* ---- goheap.c ----------------------------------------------------------- */

/* Parse the debug=1 heap profile, taking text over; 0, or -1 (h empty). */
int lh_go_heap_parse(heapprof *h, char *text, size_t len);
void lh_go_heap_free(heapprof *h);

/* ---- golabels.c --------------------------------------------------------- */

/* The target whose steps are labeled (lh_godiag_label_steps), or NULL. */
lh_target *lh_go_labeled_target(void);

/* Which steps started the goroutines g grew by, into s. */
void lh_go_attribute(const lh_gosnap *a, const lh_gosnap *b,
                     const lh_gogroup *g, lh_site *s);

#endif
