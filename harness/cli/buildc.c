/*
 * buildc.c - `leakhound build c`: a user's C library, three ways.
 *
 *   DIR/libNAME.so       plain, -g and frame pointers (heap sites are
 *                        unwound through them and named from the DWARF)
 *   DIR/fuzz/leakhound-fuzz-NAME  the sources compiled with
 *                        -fsanitize=fuzzer-no-link and linked into
 *                        leakhound's libFuzzer driver (liblhfuzzdriver.a,
 *                        as targets/c/fuzz/meson.build does for the
 *                        bundled targets): what `fuzz` runs
 *   DIR/fuzz/libNAME.so  the same coverage as a library: the copy the
 *                        generic libFuzzer driver dlopens when there is no
 *                        linked driver (the library defines libFuzzer's
 *                        entry points)
 *   DIR/afl/leakhound-afl-NAME (+ .dict)  the sources compiled by
 *                        afl-clang-fast with compare splitting, linked
 *                        with leakhound's AFL++ driver pieces, as
 *                        targets/c/afl/meson.build does for the bundled
 *                        targets
 *
 * Object files and archives are linked into all four as they are: they
 * carry no coverage, so only the .c sources given are fuzzed with it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exit.h"
#include "file.h"
#include "text.h"

#include "build_impl.h"
#include "lh_buildkit.h"

/* Flags every compile gets: debug info and frame pointers so leak sites
 * name the user's functions and lines. */
static void base_flags(lh_strv *v, const lh_build_opts *o)
{
    lh_strv_add(v, "-g");
    lh_strv_add(v, "-O2");
    lh_strv_add(v, "-fno-omit-frame-pointer");
    lh_strv_add(v, "-pthread");
    for (int i = 0; i < o->cflags.n; i++)
        lh_strv_add(v, "%s", o->cflags.v[i]);
}

static void add_all(lh_strv *v, const lh_strv *from)
{
    for (int i = 0; i < from->n; i++)
        lh_strv_add(v, "%s", from->v[i]);
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* Object files as they are; archives whole: nothing in the library or
 * the driver refers to the ops (the harness looks them up by name), so
 * the linker would take none of an archive's members. */
static void add_objs(lh_strv *v, const lh_strv *objs)
{
    for (int i = 0; i < objs->n; i++) {
        int archive = ends_with(objs->v[i], ".a");
        if (archive)
            lh_strv_add(v, "-Wl,--whole-archive");
        lh_strv_add(v, "%s", objs->v[i]);
        if (archive)
            lh_strv_add(v, "-Wl,--no-whole-archive");
    }
}

/* --libs, each -L DIR also an rpath: a library linked from a directory
 * of the user's loads from there in the worker and the drivers, without
 * LD_LIBRARY_PATH. */
static void add_libs(lh_strv *v, const lh_build_opts *o)
{
    for (int i = 0; i < o->libs.n; i++) {
        const char *a = o->libs.v[i];
        lh_strv_add(v, "%s", a);
        const char *dir = strncmp(a, "-L", 2) != 0 ? NULL
                          : a[2] ? a + 2
                          : i + 1 < o->libs.n ? o->libs.v[i + 1] : NULL;
        char abs[PATH_MAX];
        if (dir && realpath(dir, abs))
            lh_strv_add(v, "-Wl,-rpath,%s", abs);
    }
}

/* A shared library from the sources and objects, with extra flags. */
static int shared_lib(const lh_build_opts *o, const lh_strv *srcs,
                      const lh_strv *objs, const char *extra,
                      const char *path, const char *what)
{
    lh_strv argv = {0}, env = {0};
    lh_strv_split(&argv, LH_KIT_CC);
    lh_strv_split(&argv, extra);
    lh_strv_add(&argv, "-shared");
    lh_strv_add(&argv, "-fPIC");
    base_flags(&argv, o);
    lh_strv_add(&argv, "-o");
    lh_strv_add(&argv, "%s", path);
    add_all(&argv, srcs);
    add_objs(&argv, objs);
    add_libs(&argv, o);
    int rc = lh_build_tool(what, &argv, &env, NULL);
    lh_strv_free(&argv);
    return rc;
}

/* The libFuzzer driver with the library linked in: the op's calls into
 * libFuzzer's comparison hooks are direct, not through a dlopened copy's
 * PLT (~12% of a small op's exec/s).  The sources are compiled into it
 * with coverage, the user's objects linked as they are; the driver looks
 * the ops up in itself (LEAKHOUND_STATIC_TARGET), so everything is linked
 * whole and exported.  0 built; 1 not built, said why (the library
 * defines an entry point the driver defines itself, or the link failed:
 * `fuzz` dlopens the coverage copy fuzzlib instead); -1 failed (nm). */
static int linked_driver(const lh_build_opts *o, const lh_strv *srcs,
                         const lh_strv *objs, const char *fuzzlib)
{
    int err;
    const char *entry = lh_build_defines_entry(fuzzlib, &err);
    if (err)
        return -1;
    if (entry) {
        fprintf(stderr, "leakhound build: no linked libFuzzer driver: the "
                "library defines %s,\n  which the driver defines itself; "
                "`leakhound fuzz` dlopens %s instead\n  (slower: give your "
                "op and initializer other names).\n", entry, fuzzlib);
        return 1;
    }
    lh_strv link = {0}, env = {0};
    lh_strv_split(&link, LH_KIT_CC);
    lh_strv_add(&link, "-fsanitize=fuzzer-no-link");
    base_flags(&link, o);
    lh_strv_add(&link, "-o");
    lh_strv_add(&link, "%s/fuzz/leakhound-fuzz-%s", o->out, o->name);
    lh_strv_add(&link, "-Wl,--export-dynamic");
    add_all(&link, srcs);
    lh_strv_add(&link, "-Wl,--whole-archive");
    lh_strv_add(&link, "%s", LH_KIT_FUZZ_DRIVER);
    lh_strv_split(&link, LH_KIT_LAYERS);
    lh_strv_add(&link, "-Wl,--no-whole-archive");
    lh_strv_split(&link, LH_KIT_FUZZ_ENGINE);
    add_objs(&link, objs);
    add_libs(&link, o);
    lh_strv_split(&link, LH_KIT_LUA_LIBS);
    lh_strv_split(&link, "-ldl -lm");
    int rc = lh_build_tool("linking the libFuzzer driver", &link, &env,
                           NULL);
    lh_strv_free(&link);
    /* Your code and the driver's in one executable can clash (a library
     * bundling its own Lua): the coverage copy still fuzzes, slower. */
    if (rc < 0)
        fprintf(stderr, "leakhound build: no linked libFuzzer driver (the "
                "link above failed); `leakhound fuzz`\n  dlopens %s "
                "instead (slower).\n", fuzzlib);
    return rc < 0 ? 1 : 0;
}

static int fuzz_pieces(void)
{
    const char *rebuild = "build leakhound: ninja -C " LH_KIT_BUILD_DIR;
    if (lh_build_need(LH_KIT_FUZZ_DRIVER, "leakhound's libFuzzer driver "
                      "library", rebuild) < 0)
        return -1;
    return lh_build_need_layers(rebuild);
}

static int afl_pieces(void)
{
    const char *fix = "afl-clang-fast was not found when leakhound was "
        "configured: install AFL++ (apt install afl++), then\n  meson "
        "setup --reconfigure " LH_KIT_BUILD_DIR " && ninja -C "
        LH_KIT_BUILD_DIR "; or pass --no-afl";
    const char *rebuild = "build leakhound: ninja -C " LH_KIT_BUILD_DIR;
    if (lh_build_need(LH_KIT_AFL_CC, "AFL++ (afl-clang-fast)", fix) < 0 ||
        lh_build_need(LH_KIT_AFL_DRIVER, "leakhound's AFL++ driver "
                      "library", rebuild) < 0 ||
        lh_build_need(LH_KIT_AFL_FEEDBACK, "leakhound's AFL++ feedback "
                      "object", rebuild) < 0 ||
        lh_build_need(LH_KIT_AFL_RT "/afl-compiler-rt.o", "AFL++'s "
                      "runtime", "reinstall AFL++ (apt install afl++)") < 0 ||
        lh_build_need(LH_KIT_AFL_RT "/libAFLDriver.a", "AFL++'s driver "
                      "main", "reinstall AFL++ (apt install afl++)") < 0)
        return -1;
    return lh_build_need_layers(rebuild);
}

/* The AFL++ driver: each source compiled with compare splitting into
 * DIR/afl/obj/, the dictionary of their constants next to the driver,
 * then one link with the uninstrumented harness. */
static int afl_driver(const lh_build_opts *o, const lh_strv *srcs,
                      const lh_strv *objs)
{
    char dir[4200], objdir[4300], dict[4400], drv[4400];
    snprintf(dir, sizeof dir, "%s/afl", o->out);
    snprintf(objdir, sizeof objdir, "%s/obj", dir);
    snprintf(drv, sizeof drv, "%s/leakhound-afl-%s", dir, o->name);
    snprintf(dict, sizeof dict, "%s.dict", drv);
    if (lh_build_mkdir(objdir) < 0)
        return -1;
    /* AFL_LLVM_DICT2FILE appends: start empty */
    if (lh_write_atomic(dict, "", 0) < 0) {
        perror(dict);
        return -1;
    }
    lh_strv env = {0}, link = {0};
    lh_strv_add(&env, "AFL_LLVM_LAF_ALL=1");
    lh_strv_add(&env, "AFL_LLVM_DICT2FILE=%s", dict);
    lh_strv_add(&env, "AFL_QUIET=1");
    lh_strv_split(&link, LH_KIT_CC);
    lh_strv_add(&link, "-o");
    lh_strv_add(&link, "%s", drv);
    int rc = 0, first = link.n;     /* the sources' objects from here */
    for (int i = 0; i < srcs->n && rc == 0; i++) {
        const char *base = strrchr(srcs->v[i], '/');
        base = base ? base + 1 : srcs->v[i];
        lh_strv cc = {0};
        lh_strv_add(&cc, "%s", LH_KIT_AFL_CC);
        base_flags(&cc, o);
        lh_strv_add(&cc, "-c");
        lh_strv_add(&cc, "%s", srcs->v[i]);
        lh_strv_add(&cc, "-o");
        /* the index keeps a.c and sub/a.c apart */
        lh_strv_add(&cc, "%s/%d-%.*s.o", objdir, i,
                    (int)(strlen(base) - 2), base);
        lh_strv_add(&link, "%s", cc.v[cc.n - 1]);
        rc = lh_build_tool("compiling for AFL++", &cc, &env, NULL);
        lh_strv_free(&cc);
    }
    /* the sources' objects and the user's */
    for (int i = first; i < link.n + objs->n && rc == 0; i++) {
        const char *file = i < link.n ? link.v[i] : objs->v[i - link.n];
        const char *given = i < link.n ? srcs->v[i - first] : file;
        int err;
        const char *entry = lh_build_defines_entry(file, &err);
        if (err) {
            rc = -1;
        } else if (entry) {
            fprintf(stderr, "leakhound build: no AFL++ driver: %s defines "
                    "%s, which the AFL++ driver defines itself (it links "
                    "your code in).\n  Fuzz it with libFuzzer (%s/fuzz/); "
                    "for AFL++, give your op and initializer other "
                    "names.\n", given, entry, o->out);
            unlink(dict);
            rc = 1;
        }
    }
    lh_strv_add(&link, "%s", LH_KIT_AFL_FEEDBACK);
    lh_strv_add(&link, "-Wl,--export-dynamic");
    lh_strv_add(&link, "-Wl,--whole-archive");
    lh_strv_add(&link, "%s", LH_KIT_AFL_DRIVER);
    lh_strv_split(&link, LH_KIT_LAYERS);
    lh_strv_add(&link, "-Wl,--no-whole-archive");
    lh_strv_add(&link, "%s", LH_KIT_AFL_RT "/afl-compiler-rt.o");
    lh_strv_add(&link, "%s", LH_KIT_AFL_RT "/libAFLDriver.a");
    add_objs(&link, objs);
    add_libs(&link, o);
    lh_strv_split(&link, LH_KIT_LUA_LIBS);
    lh_strv_split(&link, "-pthread -ldl -lm");
    lh_strv none = {0};
    if (rc == 0)
        rc = lh_build_tool("linking the AFL++ driver", &link, &none, NULL);
    lh_strv_free(&env);
    lh_strv_free(&link);
    return rc;     /* 1: no driver, said why */
}

int lh_build_c(lh_build_opts *o)
{
    lh_strv srcs = {0}, objs = {0};
    int rc = LH_EXIT_ERROR;
    for (int i = 0; i < o->inputs.n; i++) {
        const char *in = o->inputs.v[i];
        struct stat st;
        if (stat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
            fprintf(stderr, "leakhound build: %s: no such file\n", in);
            goto out;
        }
        if (ends_with(in, ".c"))
            lh_strv_add(&srcs, "%s", in);
        else if (ends_with(in, ".o") || ends_with(in, ".a"))
            lh_strv_add(&objs, "%s", in);
        else {
            fprintf(stderr, "leakhound build: %s is neither a C source "
                    "(.c) nor an object file or archive (.o, .a)\n", in);
            goto out;
        }
    }
    if (!o->name[0])
        lh_build_default_name(o->name, sizeof o->name, o->inputs.v[0]);
    if (!lh_build_name_ok(o->name)) {
        fprintf(stderr, "leakhound build: %s: '%s' does not make a "
                "library name (libNAME.so): give --name NAME\n",
                o->inputs.v[0], o->name);
        goto out;
    }
    if (LH_KIT_FUZZING == 0) {
        lh_build_need("", "libFuzzer", "configure leakhound with clang: "
                      "CC=clang meson setup BUILD (and libclang-rt-14-dev "
                      "installed)");
        goto out;
    }
    if (srcs.n && (fuzz_pieces() < 0 || (!o->no_afl && afl_pieces() < 0)))
        goto out;

    char lib[4400], fuzzdir[4200], fuzzlib[4400];
    snprintf(lib, sizeof lib, "%s/lib%s.so", o->out, o->name);
    snprintf(fuzzdir, sizeof fuzzdir, "%s/fuzz", o->out);
    snprintf(fuzzlib, sizeof fuzzlib, "%s/lib%s.so", fuzzdir, o->name);
    if (lh_build_clean(o) < 0 ||
        shared_lib(o, &srcs, &objs, "", lib, "building the library") < 0)
        goto out;
    if (!srcs.n) {
        /* Coverage is put in when C is compiled: objects have none. */
        fprintf(stderr, "leakhound build: %s built; no fuzzing builds: "
                "object files carry no coverage.\n  Give the .c sources "
                "too (README: \"Your own library\").\n", lib);
        rc = 0;
        goto out;
    }
    if (lh_build_mkdir(fuzzdir) < 0 ||
        shared_lib(o, &srcs, &objs, "-fsanitize=fuzzer-no-link", fuzzlib,
                   "building the libFuzzer coverage copy") < 0)
        goto out;
    int linked = linked_driver(o, &srcs, &objs, fuzzlib);
    if (linked < 0)
        goto out;
    int afl = o->no_afl ? 1 : afl_driver(o, &srcs, &objs);
    if (afl < 0)
        goto out;
    printf("built %s\n", lib);
    if (linked == 0)
        printf("      %s/leakhound-fuzz-%s (libFuzzer driver, the library "
               "linked in)\n", fuzzdir, o->name);
    printf("      %s (libFuzzer coverage copy%s)\n", fuzzlib,
           linked == 0 ? ", for the generic driver" : "");
    if (afl == 0)
        printf("      %s/afl/leakhound-afl-%s (AFL++ driver)\n", o->out,
               o->name);
    rc = 0;
out:
    lh_strv_free(&srcs);
    lh_strv_free(&objs);
    return rc;
}
