/*
 * fuzzdriver.c - which engine driver fuzzes a workload's target, and, when
 * it is missing, what it is and the `leakhound build` line that makes it.
 *
 * Where the drivers are, for a target at DIR/libNAME.so:
 *   libFuzzer  DIR/fuzz/leakhound-fuzz-NAME   the target linked in, with
 *                 coverage: what `leakhound build` and the project's own
 *                 build make (C and Go), and the fastest (no PLT between
 *                 the op and libFuzzer's hooks)
 *              <bindir>/leakhound-fuzz         else (a C library built
 *                 elsewhere): generic, dlopens the target; with
 *                 DIR/fuzz/libNAME.so (built with
 *                 -fsanitize=fuzzer-no-link) swapped in for coverage:
 *                 required, without it libFuzzer finds nothing
 *   AFL++      DIR/afl/leakhound-afl-NAME     the target linked in
 *
 * Each is built apart from DIR/libNAME.so, so it is run only when made
 * from the library's code (buildstamp.h): a library rebuilt without them
 * would be fuzzed as the old code.  A stale linked driver gives way to a
 * current coverage copy; else `fuzz` refuses, saying how to rebuild.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "buf.h"
#include "buildstamp.h"
#include "child.h"
#include "elfsyms.h"
#include "file.h"
#include "script.h"
#include "text.h"
#include "workload.h"

#include "fuzz_impl.h"

static int read_workload(const fuzz_opts *o, driver_info *d)
{
    lua_State *L = lh_script_new(LH_SCRIPT_DECLARE);
    lh_buf err = LH_BUF_INIT;
    int rc = -1;
    if (lh_script_load(L, o->script, &err) < 0) {
        fprintf(stderr, "leakhound: %s\n", lh_buf_str(&err));
        goto out;
    }
    int index = lh_script_find_workload(L, o->workload);
    if (!index) {
        lh_buf names = LH_BUF_INIT;
        lh_script_workload_names(L, &names);
        fprintf(stderr, "leakhound: %s has no workload '%s' (workloads: "
                "%s)\n", o->script, o->workload, lh_buf_str(&names));
        lh_buf_free(&names);
        goto out;
    }
    lh_workload w;
    lh_script_workload(L, index);
    int wt = lua_gettop(L);
    if (lh_workload_read(L, wt, &w, &err) < 0) {
        fprintf(stderr, "leakhound: %s\n", lh_buf_str(&err));
        goto out;
    }
    if (!w.target[0]) {
        fprintf(stderr, "leakhound: workload '%s' has no target to fuzz\n",
                o->workload);
        goto out;
    }
    snprintf(d->target, sizeof d->target, "%s", w.target);
    snprintf(d->corpus, sizeof d->corpus, "%s", w.corpus);
    snprintf(d->source, sizeof d->source, "%s", w.source);
    if (!w.corpus[0] && lua_getfield(L, wt, "inputs") == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            size_t len;
            lua_geti(L, -1, i);
            const char *s = lua_tolstring(L, -1, &len);
            if (s) {
                lh_buf_add(&d->inputs, &len, sizeof len);
                lh_buf_add(&d->inputs, s, len);
            }
            lua_pop(L, 1);
        }
    }
    rc = 0;
out:
    lh_buf_free(&err);
    lua_close(L);
    return rc;
}

/* The `leakhound build` line that makes d's target where fuzz looks (next
 * to the target), with this leakhound's path: the C or the Go recipe. */
static void build_line(const driver_info *d, lh_buf *cmd)
{
    char self[4096], dir[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    lh_shell_quote(cmd, n > 0 ? self : "leakhound");
    lh_buf_printf(cmd, d->go ? " build go YOUR_PACKAGE_DIR --name %s -o "
                             : " build c YOUR_SOURCES.c --name %s -o ",
                  d->name);
    lh_path_dir(dir, sizeof dir, d->target);
    lh_shell_quote(cmd, dir);
}

/* How to get the coverage build libFuzzer needs: the command, on a line
 * after "$ ", that builds it where `fuzz` looks (buildcmd.c). */
void lh_fuzz_coverage_help(const driver_info *d)
{
    lh_buf cmd = LH_BUF_INIT;
    build_line(d, &cmd);
    if (!d->go)
        fprintf(stderr,
            "  build a copy of the library with coverage, from its sources, "
            "where `leakhound\n  fuzz` looks for it (also the library and "
            "its AFL++ driver; README \"Your own\n  library\"):\n"
            "    $ %s\n", lh_buf_str(&cmd));
    else
        fprintf(stderr,
            "  %s is a Go library: Go code gets libFuzzer coverage only "
            "built as a\n  c-archive with Go's libFuzzer instrumentation and "
            "linked into a driver of its own\n  (README \"Your own "
            "library\"); this builds it, and the library again:\n"
            "    $ %s\n", d->target, lh_buf_str(&cmd));
    lh_buf_free(&cmd);
}

/* What is missing for AFL++ on the target, and the command that builds
 * it. */
static void afl_help(const driver_info *d)
{
    fprintf(stderr, "leakhound fuzz: no AFL++ driver for target '%s': "
            "looked for %s.\n", d->target, d->path);
    if (d->go) {
        fprintf(stderr, "  %s is a Go library: AFL++ drivers are built for "
                "C targets only; fuzz it with\n  --engine libfuzzer.\n",
                d->target);
        return;
    }
    lh_buf cmd = LH_BUF_INIT;
    build_line(d, &cmd);
    fprintf(stderr, "  AFL++ instruments code when it is compiled, so a "
            "built library (%s)\n  cannot be fuzzed as it is: its sources "
            "are compiled with afl-clang-fast and\n  linked into a driver "
            "of its own (README \"Your own library\"; the recipe:\n"
            "  targets/c/afl/README.md):\n    $ %s\n", d->target,
            lh_buf_str(&cmd));
    lh_buf_free(&cmd);
}

/* The command that rebuilds d's target and its fuzzing builds together:
 * ninja for leakhound's own targets (DIR under its build directory's
 * targets/), else the `leakhound build` line. */
static void rebuild_help(const driver_info *d, const char *dir)
{
    char bindir[4096], real_bin[4096], real_dir[4096], targets[4200];
    lh_self_dir(bindir, sizeof bindir);
    if (realpath(bindir, real_bin) && realpath(dir, real_dir)) {
        snprintf(targets, sizeof targets, "%s/targets/", real_bin);
        if (strncmp(real_dir, targets, strlen(targets)) == 0) {
            fprintf(stderr, "  rebuild leakhound's targets (ninja makes "
                    "the stamp after the library and its\n  drivers):\n"
                    "    $ ninja -C %s\n", real_bin);
            return;
        }
    }
    lh_buf cmd = LH_BUF_INIT;
    build_line(d, &cmd);
    fprintf(stderr, "  rebuild the library and its fuzzing builds together "
            "from the sources (README\n  \"Your own library\"):\n"
            "    $ %s\n", lh_buf_str(&cmd));
    lh_buf_free(&cmd);
}

/* A fuzzing build that is not the target's code: refused, with the cause
 * and what to do.  by_stamp: the stamp said so, else the times did (a
 * build by hand, which a `touch` may vouch for when it is the same code
 * with an older time, e.g. a copy). */
static void stale_help(const driver_info *d, const char *dir,
                       const char *build, int by_stamp, const lh_buf *why)
{
    fprintf(stderr, "leakhound fuzz: %s is not built from the code of %s: "
            "fuzzing it would search old code, and finding nothing there "
            "is no pass.\n  %s.\n", build, d->target, lh_buf_str(why));
    rebuild_help(d, dir);
    if (!by_stamp)
        fprintf(stderr, "  or, built by hand: build %s again after %s, "
                "from the same sources; if it\n  is the same code with an "
                "older time (a copy), `touch %s`.\n", build, d->target,
                build);
}

/* Checks that d->path (rel in dir) is made from the target's code:
 * LH_STAMP_FRESH, LH_STAMP_STALE (why, *by_stamp) or LH_STAMP_ERROR
 * (said). */
static int check_build(const driver_info *d, const char *dir,
                       const char *rel, int *by_stamp, lh_buf *why)
{
    int s = lh_stamp_check(dir, d->name, rel, by_stamp, why);
    if (s == LH_STAMP_ERROR)
        fprintf(stderr, "leakhound fuzz: cannot tell whether %s/%s is "
                "built from the code of %s: %s\n", dir, rel, d->target,
                lh_buf_str(why));
    return s;
}

int lh_fuzz_find_driver(const fuzz_opts *o, driver_info *d)
{
    if (read_workload(o, d) < 0)
        return -1;
    char dir[4096], rel[512];
    lh_path_dir(dir, sizeof dir, d->target);
    const char *file = strrchr(d->target, '/');
    file = file ? file + 1 : d->target;
    lh_target_name(d->name, sizeof d->name, file);
    d->go = lh_lib_is_go(d->target);
    lh_buf why = LH_BUF_INIT;
    int rc = -1, by_stamp = 0, s;

    if (strcmp(o->engine, "afl") == 0) {
        snprintf(rel, sizeof rel, "afl/leakhound-afl-%s", d->name);
        snprintf(d->path, sizeof d->path, "%s/%s", dir, rel);
        if (!lh_is_file(d->path)) {
            afl_help(d);
            goto out;
        }
        s = check_build(d, dir, rel, &by_stamp, &why);
        if (s == LH_STAMP_STALE)
            stale_help(d, dir, d->path, by_stamp, &why);
        if (s != LH_STAMP_FRESH)
            goto out;
        snprintf(d->env_target, sizeof d->env_target,
                 "LEAKHOUND_STATIC_TARGET=%s", file);
        snprintf(d->how, sizeof d->how, "%s linked in", file);
        rc = 0;
        goto out;
    }
    /* The linked driver; when it is stale, a current coverage copy (a
     * build by hand after it) is fuzzed instead, saying so. */
    char linked[4096];
    int linked_stale = 0, linked_by_stamp = 0;
    lh_buf linked_why = LH_BUF_INIT;
    snprintf(rel, sizeof rel, "fuzz/leakhound-fuzz-%s", d->name);
    snprintf(linked, sizeof linked, "%s/%s", dir, rel);
    if (lh_is_file(linked)) {
        s = check_build(d, dir, rel, &linked_by_stamp, &linked_why);
        if (s == LH_STAMP_ERROR)
            goto out_linked;
        if (s == LH_STAMP_FRESH) {
            snprintf(d->path, sizeof d->path, "%s", linked);
            snprintf(d->env_target, sizeof d->env_target,
                     "LEAKHOUND_STATIC_TARGET=%s", file);
            snprintf(d->how, sizeof d->how, "%s linked in", file);
            rc = 0;
            goto out_linked;
        }
        linked_stale = 1;
    }
    char bindir[4096];
    lh_self_dir(bindir, sizeof bindir);
    char inst[4096];
    snprintf(inst, sizeof inst, "%s/fuzz/%s", dir, file);
    snprintf(d->path, sizeof d->path, "%s/leakhound-fuzz", bindir);
    if (linked_stale && (d->go || !lh_is_file(d->path) ||
                         !lh_is_file(inst))) {
        stale_help(d, dir, linked, linked_by_stamp, &linked_why);
        goto out_linked;
    }
    if (d->go) {
        /* a Go library gets coverage only linked into its own driver */
        fprintf(stderr, "leakhound fuzz: no libFuzzer driver with coverage "
                "for the Go target '%s' (looked for %s): without coverage "
                "libFuzzer stops at once, having found nothing.\n",
                d->target, linked);
        lh_fuzz_coverage_help(d);
        goto out_linked;
    }
    if (!lh_is_file(d->path)) {
        fprintf(stderr, "leakhound: no libFuzzer driver (looked for %s; "
                "configure the build with CC=clang)\n", d->path);
        goto out_linked;
    }
    if (!lh_is_file(inst)) {
        fprintf(stderr, "leakhound fuzz: no coverage build of '%s' (looked "
                "for %s): without coverage libFuzzer stops at once, having "
                "found nothing.\n", d->target, inst);
        lh_fuzz_coverage_help(d);
        goto out_linked;
    }
    snprintf(rel, sizeof rel, "fuzz/%s", file);
    s = check_build(d, dir, rel, &by_stamp, &why);
    if (s == LH_STAMP_STALE && linked_stale) {
        stale_help(d, dir, linked, linked_by_stamp, &linked_why);
        fprintf(stderr, "  (nor is its coverage copy: %s.)\n",
                lh_buf_str(&why));
    } else if (s == LH_STAMP_STALE) {
        stale_help(d, dir, inst, by_stamp, &why);
    }
    if (s != LH_STAMP_FRESH)
        goto out_linked;
    if (linked_stale)
        fprintf(stderr, "leakhound fuzz: not running %s, which is not "
                "built from the code of %s (%s): its coverage copy %s is, "
                "fuzzed by the generic driver.\n", linked, d->target,
                lh_buf_str(&linked_why), inst);
    snprintf(d->env_target, sizeof d->env_target,
             "LEAKHOUND_TARGET_OVERRIDE=%s=%s", file, inst);
    snprintf(d->how, sizeof d->how, "generic, dlopens %s: %s %s/fuzz/"
             "leakhound-fuzz-%s, slower", inst,
             linked_stale ? "a stale" : "no", dir, d->name);
    rc = 0;
out_linked:
    lh_buf_free(&linked_why);
out:
    lh_buf_free(&why);
    return rc;
}
