/*
 * diag.h - diagnosis: where the growth is held.
 *
 * Each source takes a snapshot at the baseline sample and one at the end
 * of the workload; the difference names the sites that grew.  Sources:
 *   heapsites.c   C heap: sampled allocation stacks from the interposer
 *   mmapsites.c   mapped memory: the stack of every mapping
 *   go*.c         Go: goroutine groups by stack, Go heap profile, labels
 *   cgocaller.c   the Go caller of C memory, fds, threads and mappings
 *                 made through cgo (extends the recorded C stacks)
 *   fddiag.c      fds: new descriptors, what they point to, where opened
 *   threaddiag.c  threads: new threads, start routine, creation stack
 * Diagnosis knows nothing of Lua; the worker calls it and puts the sites
 * into report.json ("sites" of a failing invariant) and folded-stack files.
 */
#ifndef LEAKHOUND_DIAG_H
#define LEAKHOUND_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "goprofile.h"
#include "target.h"

#define LH_SITE_MAX_FRAMES 32

typedef struct lh_site {
    char func[160];         /* the frame to blame: first frame outside
                             * the harness, libc and the Go runtime */
    char location[256];     /* file:line where debug info has it, else
                             * library+0xoffset */
    char detail[256];       /* blocking state ("chan send"), "created by
                             * F file:line", fd target, start routine ... */
    char folded[4096];      /* whole stack, root first, ';'-separated
                             * (flame-graph folded format, no count) */
    double bytes;           /* growth in bytes (estimated when sampled) */
    double count;           /* growth in objects / goroutines / fds /
                             * threads */
    char labels[512];       /* Go goroutines: the pprof labels of those
                             * that grew, as a JSON object ("{}": none);
                             * "" when not known (steps not labeled) */
    char via[160];          /* when func is the user's code calling into a
                             * library that allocates: the library function
                             * it called (sqlite3_prepare_v2), else "" */
} lh_site;

/* ---- C heap (heapsites.c) ------------------------------------------- */

/* Start recording sampled allocation stacks: on average one allocation
 * per sample_bytes allocated is recorded with its stack (0: every one).
 * Called again, it changes the rate (the calling thread's at once, other
 * threads' at their next sample) or restarts recording after a stop. */
void lh_heapsites_start(size_t sample_bytes);

/* 1 while recording, with the rate in *sample_bytes (may be NULL). */
int lh_heapsites_recording(size_t *sample_bytes);

/* Stop recording: the interposer's hook is removed (malloc costs what it
 * costs without diagnosis) and every recorded sample is forgotten.
 * Snapshots taken before stay valid. */
void lh_heapsites_stop(void);

typedef struct lh_heapsnap lh_heapsnap;

/* Live bytes/count per site now (estimates scaled by the sampling). */
lh_heapsnap *lh_heapsites_snapshot(void);
void lh_heapsites_free(lh_heapsnap *s);

/* Sites whose live bytes grew from a to b, largest first; at most max.
 * Returns how many were written. */
int lh_heapsites_diff(const lh_heapsnap *a, const lh_heapsnap *b,
                      lh_site *out, int max);

/* The same growth by interned stack, not grouped nor symbolized (the
 * fuzz oracle's per-trigger check, which must stay cheap): the ids of the
 * stacks whose live bytes grew, with that growth in bytes and blocks, at
 * most max.  Returns how many grew (more than max: some left out). */
int lh_heapsites_diff_stacks(const lh_heapsnap *a, const lh_heapsnap *b,
                             int *ids, double *bytes, double *count,
                             int max);

/* Sites by allocations made from a to b, freed or not (estimates: count
 * = allocations, bytes = bytes allocated), most allocations first. */
int lh_heapsites_alloc_diff(const lh_heapsnap *a, const lh_heapsnap *b,
                            lh_site *out, int max);

/* ---- mapped memory (mmapsites.c) --------------------------------------
 * Every mapping the interposer counts is recorded with its stack (no
 * sampling: each is a syscall already). */
void lh_mmapsites_start(void);

typedef struct lh_mmapsnap lh_mmapsnap;
/* Live mapped bytes/mappings per stack now. */
lh_mmapsnap *lh_mmapsites_snapshot(void);
void lh_mmapsites_free(lh_mmapsnap *s);
/* Sites whose mapped bytes grew from a to b (count: mappings). */
int lh_mmapsites_diff(const lh_mmapsnap *a, const lh_mmapsnap *b,
                      lh_site *out, int max);

/* ---- Go (gosnap.c, goroutines.c, golabels.c, goheap.c) -------------- */

typedef struct lh_gosnap lh_gosnap;

/* Goroutine stacks and the Go heap profile of a target with the probe. */
lh_gosnap *lh_godiag_snapshot(lh_target *t);
/* The Go heap profile's text alone (what lh_godiag_heap needs of a
 * snapshot, a fuzzer's confirmation being frequent): no goroutine stacks,
 * so no "started via" for sites made on goroutines of no own code. */
lh_gosnap *lh_godiag_heap_snapshot(lh_target *t);
void lh_godiag_free(lh_gosnap *s);

/* Known goroutines to leave alone, the way goleak users do: a goroutine
 * is ignored when its top function, any function on its stack, or the
 * function that created it is one of these names (exact match). */
#define LH_GOIGNORE_MAX 32
typedef struct lh_goignore {
    int ntop, nany, ncreator;
    char top[LH_GOIGNORE_MAX][128];
    char any[LH_GOIGNORE_MAX][128];
    char creator[LH_GOIGNORE_MAX][128];
} lh_goignore;

/* Rules used by lh_godiag_goroutines and lh_godiag_count (NULL: none). */
void lh_godiag_set_ignore(const lh_goignore *rules);

/* Goroutines now, not counting the ignored ones; -1 when the probe cannot
 * list stacks. */
int64_t lh_godiag_count(lh_target *t);

/* Goroutine groups that grew (count = goroutines, detail = blocking state
 * and "created by"). */
int lh_godiag_goroutines(const lh_gosnap *a, const lh_gosnap *b,
                         lh_site *out, int max);

/* Label the goroutines each runner thread's steps start, so that a
 * goroutine site says which thread's step made it (lh_site.labels, and
 * "(step of thread N)" in its detail): makes the pprof label sets
 * leakhound.workload=<workload>, leakhound.thread=<i> for threads
 * 0..nthreads-1, and from then on snapshots read the goroutines' labels.
 * 0, or -1 when the target's probe cannot (before version 2). */
int lh_godiag_label_steps(lh_target *t, const char *workload, int nthreads);

/* Run fn(arg) with thread's labels on the calling goroutine (after
 * lh_godiag_label_steps; else fn(arg) alone).  Goroutines that Go code
 * called from fn starts inherit them.  fn must return normally: a longjmp
 * out of it would cross Go frames. */
void lh_godiag_call_labeled(int thread, void (*fn)(void *), void *arg);

/* A goroutine group's site in one line, as lh_gogroup_site (goprofile.h)
 * writes it but blamed on the target's own code as the sites above are:
 * "main.lookupLeaky.func1 lookup.go:30 (created by ...)".  Returns the
 * wanted length. */
int lh_godiag_group_site(const lh_target *t, const lh_gogroup *g, char *buf,
                         size_t len);

/* Go heap allocation sites whose in-use bytes grew. */
int lh_godiag_heap(const lh_gosnap *a, const lh_gosnap *b, lh_site *out,
                   int max);

/* The same, only stacks through one of funcs (function names as the
 * profile prints them, NULL-terminated): what a Go fd leak holds, its
 * *os.File made by os.newFile. */
int lh_godiag_heap_through(const lh_gosnap *a, const lh_gosnap *b,
                           const char *const *funcs, lh_site *out, int max);

/* Go heap allocation sites by allocations made between a and b (the
 * profile's alloc_objects/alloc_space: count = objects, bytes = bytes
 * allocated, freed or not), most objects first. */
int lh_godiag_heap_allocs(const lh_gosnap *a, const lh_gosnap *b,
                          lh_site *out, int max);

/* Write the raw pprof heap profiles (gzipped protobuf) of a snapshot, so
 * `go tool pprof -base BASE END` works.  0, or -1 with errno. */
int lh_godiag_write_heap_profile(const lh_gosnap *s, const char *path);

/* ---- fds and threads (fddiag.c, threaddiag.c) ------------------------ */

/* The site of fds opened where no stack was recorded: before recording
 * began, or by a raw syscall (Go opens its fds so). */
#define LH_FD_UNRECORDED "(opened before recording or by a raw syscall)"

typedef struct lh_fdsnap lh_fdsnap;
lh_fdsnap *lh_fddiag_snapshot(void);
void lh_fddiag_free(lh_fdsnap *s);
/* New descriptors in b, grouped by where they were opened (count = fds,
 * detail = what they point to: a path, socket:[...], pipe:[...]). */
int lh_fddiag_diff(const lh_fdsnap *a, const lh_fdsnap *b, lh_site *out,
                   int max);

typedef struct lh_threadsnap lh_threadsnap;
lh_threadsnap *lh_threaddiag_snapshot(void);
void lh_threaddiag_free(lh_threadsnap *s);
/* New threads in b grouped by creation stack (detail = start routine). */
int lh_threaddiag_diff(const lh_threadsnap *a, const lh_threadsnap *b,
                       lh_site *out, int max);

/* Start recording where fds are opened and threads created (interposing
 * open/openat/socket/pipe/dup/accept... and pthread_create). */
void lh_fddiag_start(void);
void lh_threaddiag_start(void);

/* ---- whose code: blame the user's (mine.c) -------------------------------
 * A site names the first frame in the user's code, not in a system library
 * (under /lib, /usr/lib), a runtime library or the harness; the frames
 * inside the libraries are its detail.  A workload can name more code that
 * is not the user's: prefixes of function names, or of library or source
 * file paths or any part of them after a '/'. */
#define LH_NOT_MINE_MAX 32
typedef struct lh_notmine {
    int n;
    char prefix[LH_NOT_MINE_MAX][128];
} lh_notmine;

/* Rules for the sites named from now on (NULL: none). */
void lh_blame_set_not_mine(const lh_notmine *rules);

/* ---- stacks and sites ------------------------------------------------ */
/* Capture: unwind.c; interning: stacks.c; symbols: symbolize.c (with
 * addr2line.c); blame and folded stacks: blame.c; grouping and tallies:
 * sites.c.  Harness frames are recognised in one place, trim.c. */

/* Fill func/location of a site from a return address (dladdr, and
 * file:line from addr2line when the object has debug info). */
void lh_symbolize(uintptr_t pc, char *func, size_t flen, char *loc,
                  size_t llen);

/* Capture the current call stack (return addresses), skipping `skip`
 * innermost frames.  Async-signal-unsafe; never allocates after the
 * first call.  Returns the depth. */
int lh_backtrace(uintptr_t *pcs, int max, int skip);

/* Build func/location/detail/via/folded of a site from captured pcs: blame
 * the first frame in the user's code (above), else the first outside the
 * harness and libc. */
void lh_site_from_stack(lh_site *s, const uintptr_t *pcs, int n);

/* Make lh_backtrace ready (and cheap) before any hook can call it; the
 * lh_*_start functions call it.  Idempotent.  LEAKHOUND_UNWIND=libgcc in
 * the environment selects glibc's backtrace() (slower; for comparison). */
void lh_backtrace_init(void);

/* The stack of the caller of an interposed function: ra is
 * __builtin_return_address(0) taken in that function; the frames inside
 * the interposer (up to ra) are dropped.  Returns the depth. */
int lh_backtrace_from(uintptr_t *pcs, int max, uintptr_t ra);

/* Symbolize many addresses at once (one addr2line per object) so later
 * lh_symbolize / lh_site_from_stack calls hit the cache.  ret: they are
 * return addresses as captured (else function addresses). */
void lh_symbolize_batch(const uintptr_t *pcs, int n, int ret);

/* Like lh_symbolize for an address that is not a return address (a
 * thread's start routine, a function pointer). */
void lh_symbolize_func(uintptr_t addr, char *func, size_t flen, char *loc,
                       size_t llen);

/* Interned call stacks: the same pcs always get the same id (>= 0); -1
 * when the table is full or memory ran out.  Thread-safe, never frees. */
int lh_stack_intern(const uintptr_t *pcs, int n);
/* The pcs of an interned stack (NULL, *n = 0 for a bad id). */
const uintptr_t *lh_stack_pcs(int id, int *n);

/* Group n items (a heap site's growth, a new fd, a new thread) by where
 * they were made: ids[i] is the item's interned stack (-1: not recorded).
 * Items blamed on the same frame (func and location) become one site;
 * bytes/count are summed (NULL: 0 bytes / 1 each); sites are sorted by
 * bytes, then count, largest first, and at most max are written.  group
 * (may be NULL) receives each item's site index, -1 when dropped.
 * Returns the number of sites. */
int lh_sites_group(const int *ids, const double *bytes, const double *count,
                   int n, lh_site *out, int max, int *group);

/* Counting names for a site's detail, "a x 12, b x 3, ... (+2 more)". */
typedef struct lh_tally {
    char name[256];
    int n;
} lh_tally;

/* Count name among the nt entries of t (t has room for one more); returns
 * the new number of entries. */
int lh_tally_add(lh_tally *t, int nt, const char *name);

/* Most frequent first, into out (always NUL-terminated); sorts t. */
void lh_tally_format(lh_tally *t, int nt, char *out, size_t len);

/* Finish a site of new fds or threads: summary (what they are) goes in
 * front of the detail lh_sites_group wrote, and a site with no recorded
 * stack is named `unrecorded` (why it has none); counts only, no bytes. */
void lh_site_describe(lh_site *s, const char *summary,
                      const char *unrecorded);

#endif
