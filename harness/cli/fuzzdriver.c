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
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "buf.h"
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

int lh_fuzz_find_driver(const fuzz_opts *o, driver_info *d)
{
    if (read_workload(o, d) < 0)
        return -1;
    char dir[4096];
    lh_path_dir(dir, sizeof dir, d->target);
    const char *file = strrchr(d->target, '/');
    file = file ? file + 1 : d->target;
    lh_target_name(d->name, sizeof d->name, file);
    d->go = lh_lib_is_go(d->target);

    if (strcmp(o->engine, "afl") == 0) {
        snprintf(d->path, sizeof d->path, "%s/afl/leakhound-afl-%s", dir,
                 d->name);
        if (!lh_is_file(d->path)) {
            afl_help(d);
            return -1;
        }
        snprintf(d->env_target, sizeof d->env_target,
                 "LEAKHOUND_STATIC_TARGET=%s", file);
        snprintf(d->how, sizeof d->how, "%s linked in", file);
        return 0;
    }
    snprintf(d->path, sizeof d->path, "%s/fuzz/leakhound-fuzz-%s", dir,
             d->name);
    if (lh_is_file(d->path)) {
        snprintf(d->env_target, sizeof d->env_target,
                 "LEAKHOUND_STATIC_TARGET=%s", file);
        snprintf(d->how, sizeof d->how, "%s linked in", file);
        return 0;
    }
    char bindir[4096];
    lh_self_dir(bindir, sizeof bindir);
    char inst[4096];
    snprintf(inst, sizeof inst, "%s/fuzz/%s", dir, file);
    if (d->go) {
        /* a Go library gets coverage only linked into its own driver */
        fprintf(stderr, "leakhound fuzz: no libFuzzer driver with coverage "
                "for the Go target '%s' (looked for %s): without coverage "
                "libFuzzer stops at once, having found nothing.\n",
                d->target, d->path);
        lh_fuzz_coverage_help(d);
        return -1;
    }
    snprintf(d->path, sizeof d->path, "%s/leakhound-fuzz", bindir);
    if (!lh_is_file(d->path)) {
        fprintf(stderr, "leakhound: no libFuzzer driver (looked for %s; "
                "configure the build with CC=clang)\n", d->path);
        return -1;
    }
    if (!lh_is_file(inst)) {
        fprintf(stderr, "leakhound fuzz: no coverage build of '%s' (looked "
                "for %s): without coverage libFuzzer stops at once, having "
                "found nothing.\n", d->target, inst);
        lh_fuzz_coverage_help(d);
        return -1;
    }
    snprintf(d->env_target, sizeof d->env_target,
             "LEAKHOUND_TARGET_OVERRIDE=%s=%s", file, inst);
    snprintf(d->how, sizeof d->how, "generic, dlopens %s: no %s/fuzz/"
             "leakhound-fuzz-%s, slower", inst, dir, d->name);
    return 0;
}
