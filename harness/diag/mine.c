/*
 * mine.c - whose code a frame is: the user's, or a library's the user's
 * code called.  Blame (blame.c) names the first frame in the user's code
 * and shows the path inside the libraries as detail.
 *
 * Not the user's: objects installed as system libraries (under /lib,
 * /usr/lib and their 32/64 variants: Debian's libsqlite3, libxml2 ...),
 * code from system headers (/usr/include, /usr/lib/gcc/.../include) and
 * whatever the workload's not_mine prefixes name.  A target library the
 * process opened is the user's wherever it is installed: leakhound calls
 * it, so it is the user's wrapper even under /usr/lib, and a system library
 * is only reached through it.  The executable is the harness, or a fuzz
 * driver with the target linked in (whose harness frames trim.c tells
 * apart before this is asked).  The runtime libraries (libc, ld.so ...) and
 * glue names (std::, runtime.) are blame.c's own rules.
 */
#include "diag.h"

#include <string.h>

#include "mine.h"
#include "symbolize.h"
#include "target.h"

static lh_notmine rules;

void lh_blame_set_not_mine(const lh_notmine *r)
{
    if (r)
        rules = *r;
    else
        memset(&rules, 0, sizeof rules);
}

static const char *const system_dirs[] = {
    "/lib/", "/lib32/", "/lib64/", "/libx32/",
    "/usr/lib/", "/usr/lib32/", "/usr/lib64/", "/usr/libx32/",
};

static const char *const system_src_dirs[] = {
    "/usr/include/", "/usr/lib/",
};

static int has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* A rule names a path when it is a prefix of it or of any part of it
 * after a '/' ("vendor/" matches "src/vendor/x.c", "libfoo" matches
 * "/opt/lib/libfoo.so.1"). */
static int rule_names_path(const char *path, const char *p)
{
    if (!path || !*p)
        return 0;
    if (has_prefix(path, p))
        return 1;
    for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/'))
        if (has_prefix(s + 1, p))
            return 1;
    return 0;
}

static int named_not_mine(const sym_obj *o, const char *func,
                          const char *loc)
{
    /* A fuzz driver with the target linked in: a rule naming the
     * library names the executable, as it names the library dlopened
     * (the same blame in the driver as in run and repro). */
    const char *linked = o && o->is_main ? lh_target_named_path(o->real)
                                         : NULL;
    for (int i = 0; i < rules.n; i++) {
        const char *p = rules.prefix[i];
        if ((func && *p && has_prefix(func, p)) ||
            rule_names_path(loc, p) ||
            (o && (rule_names_path(o->path, p) ||
                   rule_names_path(o->real, p) ||
                   rule_names_path(o->name, p))) ||
            rule_names_path(linked, p))
            return 1;
    }
    return 0;
}

int lh_mine_path_is_system(const char *path)
{
    for (size_t i = 0; i < sizeof system_dirs / sizeof *system_dirs; i++)
        if (has_prefix(path, system_dirs[i]))
            return 1;
    return 0;
}

int lh_mine_frame(const sym_obj *o, const char *func, const char *loc)
{
    /* The C runtime's entry point, linked into every executable. */
    if (!o || named_not_mine(o, func, loc) ||
        (func && strcmp(func, "_start") == 0))
        return 0;
    if (loc)
        for (size_t i = 0;
             i < sizeof system_src_dirs / sizeof *system_src_dirs; i++)
            if (has_prefix(loc, system_src_dirs[i]))
                return 0;
    /* The executable is the harness, unless a fuzz driver links the
     * target in (or no target was opened: a program of the user's own
     * that records its sites, like the unit tests). */
    if (o->is_main)
        return lh_target_is_file(o->real) || !lh_target_opened();
    if (lh_target_is_file(o->real))
        return 1;
    return !lh_mine_path_is_system(o->real) &&
           !lh_mine_path_is_system(o->path);
}
