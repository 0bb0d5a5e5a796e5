/*
 * build_impl.h - what the files of `leakhound build` share: its options,
 * argument lists, running a tool, and checking the pieces of this
 * leakhound build (lh_buildkit.h) that a user's library is linked with.
 * buildcmd.c parses the command line; buildc.c and buildgo.c hold the
 * recipes for C and Go.
 */
#ifndef LEAKHOUND_BUILD_IMPL_H
#define LEAKHOUND_BUILD_IMPL_H

#include <stddef.h>

#include "buf.h"

/* A growing NULL-terminated list of strings (an argv, an environment). */
typedef struct lh_strv {
    char **v;
    int n, cap;
} lh_strv;

/* Appends one string made with printf's format. */
void lh_strv_add(lh_strv *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends each whitespace-separated word of words. */
void lh_strv_split(lh_strv *s, const char *words);
void lh_strv_free(lh_strv *s);

typedef struct lh_build_opts {
    lh_strv inputs;         /* C: sources and objects; Go: the package */
    lh_strv cflags;         /* --cflags (C) */
    lh_strv libs;           /* --libs: added to every link */
    char out[4096];         /* -o DIR, absolute */
    char name[256];         /* NAME of libNAME.so */
    int no_afl;             /* --no-afl: no AFL++ driver */
} lh_build_opts;

/* Runs argv with env ("K=V" over the environment; may be empty) after
 * printing it as a "$ ..." line.  When it fails, prints what failed
 * (what), the command and its output, and returns -1; else 0.  With
 * capture, the command is not printed and its output (stdout and
 * stderr) goes there. */
int lh_build_tool(const char *what, const lh_strv *argv, const lh_strv *env,
                  lh_buf *capture);

/* NAME when --name is not given, from the first source or the package
 * directory (path, absolute or relative, without a trailing '/'). */
void lh_build_default_name(char *out, size_t len, const char *path);

/* The libFuzzer entry point (LLVMFuzzerTestOneInput, LLVMFuzzerInitialize)
 * an object file or archive defines, by nm, or NULL; *err is -1 when nm
 * failed (said).  A driver that links the user's code in (AFL++, Go)
 * defines both itself and looks the ops up in its own executable, so such
 * code cannot be linked into it; the generic libFuzzer driver dlopens a C
 * library and calls the library's own. */
const char *lh_build_defines_entry(const char *file, int *err);

/* Is name fit to be NAME in libNAME.so (letters, digits, '_', '-')? */
int lh_build_name_ok(const char *name);

/* 0 when path is a file; else prints that what (path) is missing and
 * why that can be (fix), and returns -1. */
int lh_build_need(const char *path, const char *what, const char *fix);
/* lh_build_need for each of leakhound's layer libraries (the kit's
 * LH_KIT_LAYERS), which every driver links. */
int lh_build_need_layers(const char *fix);

/* Removes what an earlier build of NAME left in DIR (the library, its
 * coverage copy, drivers, archive): a build that fails or makes less
 * never leaves an old driver for `fuzz` to pick up.  0, or -1 with a
 * message. */
int lh_build_clean(const lh_build_opts *o);

/* Makes dir (and its parents).  0, or -1 with a message. */
int lh_build_mkdir(const char *dir);

/* Absolute path of an existing file or directory into out.  0, or -1
 * with a message naming it. */
int lh_build_abspath(const char *path, char *out, size_t len);

/* The recipes.  Return the exit status. */
int lh_build_c(lh_build_opts *o);
int lh_build_go(lh_build_opts *o);

#endif
