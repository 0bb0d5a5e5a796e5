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

/* 1 once this process opened a target (any). */
int lh_target_opened(void);

/* Look up an operation.  NULL with a message naming symbol and library. */
lh_op_fn lh_target_op(lh_target *t, const char *name, char *err,
                      size_t errlen);

/* Call an op.  Only the process that called it may return: a copy the op
 * forked with fork() that returns too _exit()s at once, silently, so it
 * never runs the rest of a workload or a fuzz loop. */
int lh_target_call(lh_op_fn fn, const uint8_t *data, size_t size);

#endif
