/*
 * target.h - a target library: dlopen, its operations, gauges, Go probe.
 *
 * Operations have the libFuzzer shape int NAME(const uint8_t *, size_t).
 * Exported int64_t leakhound_gauge_NAME(void) become metric target.NAME.
 * A Go target that imports the probe package exports leakhound_go_*.
 * Targets are never dlclosed: a Go runtime cannot be unloaded.  A process
 * opens each library once (lh_target_get), however many Lua states name it.
 */
#ifndef LEAKHOUND_TARGET_H
#define LEAKHOUND_TARGET_H

#include <stddef.h>
#include <stdint.h>

typedef int (*lh_op_fn)(const uint8_t *data, size_t size);
typedef int64_t (*lh_gauge_fn)(void);

typedef struct lh_gauge {
    char *name;             /* without the leakhound_gauge_ prefix */
    lh_gauge_fn fn;
} lh_gauge;

typedef struct lh_go_probe {
    int64_t (*goroutines)(void);
    void (*settle)(void);
    void (*memstats)(int64_t *out);     /* live bytes, objects, gc cycles */
    int64_t (*goroutine_profile)(char *buf, int64_t cap);
    /* NULL when the library's probe predates them (diag/go*.c use them):
     * every goroutine's stack as runtime.Stack prints it, and pprof's heap
     * profile (debug 0: gzipped protobuf, 1: text). */
    int64_t (*goroutine_stacks)(char *buf, int64_t cap);
    int64_t (*heap_profile)(char *buf, int64_t cap, int64_t debug);
    /* NULL before probe version 2: make a pprof label set from
     * NUL-terminated key and value strings (n bytes in all), and run
     * fn(arg) with a set's labels on the calling goroutine, so that the
     * goroutines Go code called from fn starts inherit them. */
    int64_t (*label_set)(const char *kv, int64_t n);
    void (*call_labeled)(int64_t set, void (*fn)(void *), void *arg);
    /* NULL when the probe predates it (targets/go/probe/rates.go): heap
     * objects and bytes allocated, automatic GC cycles, since start (-1:
     * not provided by this runtime). */
    void (*alloc_counters)(int64_t *out);
    /* NULL before probe version 3 (gocgo.c, diag/cgocaller.c, gosite.c):
     * the stack of the goroutine whose cgo call the calling thread is in
     * (return PCs from the Go caller of the cgo glue outwards; 0 when not
     * in one), those PCs named ("func\tfile:line\n" per frame, inlined
     * calls expanded), and the build info's main module and dependencies
     * ("path\t...", "mod\t...", "dep\t..." lines). */
    int64_t (*cgo_callers)(uintptr_t *out, int64_t max);
    int64_t (*frames)(const uintptr_t *pcs, int64_t n, char *buf,
                      int64_t cap);
    int64_t (*build_info)(char *buf, int64_t cap);
    /* NULL before probe version 4: sets the heap profile's sampling rate
     * (bytes, 1: every allocation) when rate > 0; returns the one it had. */
    int64_t (*heap_sample_rate)(int64_t rate);
} lh_go_probe;

typedef struct lh_target {
    char *path;             /* as a workload first named it */
    char *image;            /* the ELF file holding its symbols */
    char *real;             /* real path of the file loaded (reports) */
    char *allocator;        /* NULL, or an allocator in the process that
                               the interposer cannot see: "jemalloc
                               (/usr/lib/.../libjemalloc.so.2 is loaded)" */
    void *handle;
    int has_go;             /* the Go probe is linked in */
    int mmap_unknown;       /* a Go target whose runtime's mappings cannot
                               be told from its own (stripped) */
    lh_go_probe go;
    size_t ngauges;
    lh_gauge *gauges;
} lh_target;

/* The process's one lh_target for the library at path.  The first call
 * for a file (by real path, after LEAKHOUND_TARGET_OVERRIDE) opens it:
 * dlopen (of its real path, so a name without a slash is never searched
 * for on the library path), LLVMFuzzerInitialize if exported, the Go
 * probe, the gauges, a foreign allocator (after the load, in any object
 * of the process: see allocator above); later
 * calls, from any thread, return the same target, so a workload's threads
 * share one initialisation.  Targets live until exit.  On failure returns
 * NULL and writes a message naming the library into err (nothing is
 * remembered: a later call tries again). */
lh_target *lh_target_get(const char *path, char *err, size_t errlen);

/* A target this process opened whose allocator is foreign (its allocator
 * field set), or NULL: for targets opened after the workload's own. */
lh_target *lh_target_foreign(void);

/* 1 when path (an object's file as the loader names it, or its real
 * path) is a target library this process opened: the user's own code,
 * wherever it is installed (diag's blame). */
int lh_target_is_file(const char *path);

/* The library path a script named for the target at path (as
 * lh_target_is_file takes it), or NULL: for a fuzz driver with the
 * target linked in, the executable's frames are that library's
 * (not_mine rules name it by its file name). */
const char *lh_target_named_path(const char *path);

/* 1 once this process opened a target (any). */
int lh_target_opened(void);

/* Look up an operation.  NULL with a message naming symbol and library. */
lh_op_fn lh_target_op(lh_target *t, const char *name, char *err,
                      size_t errlen);

/* Call an op.  Only the process that called it may return: a copy the op
 * forked with fork() that returns too _exit()s at once, silently, so it
 * never runs the rest of a workload or a fuzz loop. */
int lh_target_call(lh_op_fn fn, const uint8_t *data, size_t size);

/* ---- cgo calls of Go targets (gocgo.c) -------------------------------
 * When a Go target whose probe has cgo_callers is opened, where its Go
 * code lies (runtime.text..runtime.etext) and where its cgo call stubs lie
 * (_cgo_<hash>_Cfunc_<name>: the C function a Go call C.name runs through
 * runtime.cgocall) are published, lock-free, for the allocation hook. */
typedef struct lh_cgo_range {
    uintptr_t lo, hi;
} lh_cgo_range;

/* Publish t's Go text and its n stubs (sorted by lo); the arrays are kept.
 * At most a few Go targets per process; later ones are ignored. */
void lh_gocgo_publish(lh_target *t, lh_cgo_range text,
                      const lh_cgo_range *stubs, size_t n);

/* What the instruction at addr is: 1 and *owner set when it lies in a
 * published cgo stub, -1 when in a published target's Go code, 0 for
 * anything else (C code, other objects).  Async-safe: no lock, no
 * allocation. */
int lh_gocgo_classify(uintptr_t addr, lh_target **owner);

/* 1 once a Go target's stubs are published: until then no stack can be a
 * cgo call's, and the hook need not classify its frames. */
int lh_gocgo_any(void);

#endif
