/*
 * fuzz_impl.h - what fuzzcmd.c (the commands and the engines),
 * fuzzdriver.c (finding the driver) and fuzzseeds.c (the seeds) share.
 */
#ifndef LEAKHOUND_FUZZ_IMPL_H
#define LEAKHOUND_FUZZ_IMPL_H

#include <stddef.h>

#include "buf.h"

typedef struct fuzz_opts {
    const char *script;
    const char *workload;
    const char *file;           /* minimize */
    const char *engine;
    const char *corpus;
    const char *out;
    double seconds;
    double timeout;             /* per input */
    int jobs;
    unsigned long long seed;
    int merge;
    int keep_going;             /* restart after a finding */
    const char *known;          /* --known: signatures filed elsewhere */
    double known_budget;        /* --known-budget, bytes */
    int feedback;
    int reps;
    char **extra;               /* after "--": passed to the engine */
    int nextra;
} fuzz_opts;

typedef struct driver_info {
    char path[4096];
    char env_target[4200];      /* LEAKHOUND_STATIC_TARGET=... or OVERRIDE */
    char how[4200];             /* how it runs the target, for the user */
    char name[256];             /* target short name: libNAME.so -> NAME */
    char target[4096];
    int go;                     /* the target is a Go library */
    char corpus[4096];          /* the workload's leak.corpus(dir), or "" */
    lh_buf inputs;              /* ... else its inputs list (read_workload) */
    char source[512];           /* script:line of the workload */
} driver_info;

/* Reads the workload (target, corpus, inputs) and finds the driver for
 * o->engine, filling d.  Returns 0, or -1 having said what is missing and
 * how to build it. */
int lh_fuzz_find_driver(const fuzz_opts *o, driver_info *d);

/* How to get the coverage build libFuzzer needs for d's target: the
 * `leakhound build` line that makes it where fuzz looks (to stderr). */
void lh_fuzz_coverage_help(const driver_info *d);

/* The seeds into the work corpus (--corpus, the workload's leak.corpus,
 * or its inputs list); *seeds says where they came from.  Returns 0, or -1
 * having said why there is nothing to start from. */
int lh_fuzz_seed_corpus(const fuzz_opts *o, const driver_info *d,
                        const char *corpus, char *seeds, size_t len);

/* Regular files in dir: how many, -1 when it cannot be read. */
int lh_fuzz_count_files(const char *dir);

/* Copy the regular files of src into dst that dst does not have yet.
 * Returns how many were copied, or -1 (errno set) when the directory or
 * a file cannot be read or written: the copy is then incomplete. */
int lh_fuzz_copy_files(const char *src, const char *dst);

#endif
