/*
 * buildstamp.c - the stamp saying which fuzzing builds were made from the
 * code of a library (buildstamp.h).
 *
 * Identity is the sha1 of the bytes, not the time: ninja may relink the
 * plain library after a driver made from the same code, and a copy loses
 * times.  Times decide only for a build no stamp vouches for.
 */
#include "buildstamp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"
#include "sha1.h"

/* What the stamp records besides the library, relative to DIR. */
static const char *const builds[] = {
    "fuzz/lib%s.so", "fuzz/leakhound-fuzz-%s", "afl/leakhound-afl-%s",
    NULL,
};

void lh_stamp_path(char *out, size_t len, const char *dir, const char *name)
{
    snprintf(out, len, "%s/leakhound-%s.sha1", dir, name);
}

static int file_sha1(const char *path, char hex[41])
{
    lh_buf b = LH_BUF_INIT;
    if (lh_read_file(path, &b) < 0)
        return -1;
    lh_sha1_hex(b.data ? b.data : "", b.len, hex);
    lh_buf_free(&b);
    return 0;
}

int lh_stamp_write(const char *dir, const char *name)
{
    lh_buf stamp = LH_BUF_INIT;
    char path[4400], hex[41], rel[512];
    int rc = -1;
    snprintf(rel, sizeof rel, "lib%s.so", name);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (file_sha1(path, hex) < 0)
        goto out;
    lh_buf_printf(&stamp, "%s  %s\n", hex, rel);
    for (int i = 0; builds[i]; i++) {
        snprintf(rel, sizeof rel, builds[i], name);
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        if (!lh_is_file(path))
            continue;
        if (file_sha1(path, hex) < 0)
            goto out;
        lh_buf_printf(&stamp, "%s  %s\n", hex, rel);
    }
    lh_stamp_path(path, sizeof path, dir, name);
    rc = lh_write_atomic(path, stamp.data, stamp.len);
out:
    lh_buf_free(&stamp);
    return rc;
}

/* The sha1 the stamp records for rel into hex; 0, or -1 when it records
 * none (or there is no stamp). */
static int recorded(const lh_buf *stamp, const char *rel, char hex[41])
{
    size_t rl = strlen(rel);
    for (const char *p = lh_buf_str(stamp); *p;) {
        size_t n = strcspn(p, "\n");
        /* sha1sum's line: 40 hex digits, two spaces (or " *"), the name */
        if (n == 42 + rl && strspn(p, "0123456789abcdef") == 40 &&
            p[40] == ' ' && (p[41] == ' ' || p[41] == '*') &&
            memcmp(p + 42, rel, rl) == 0) {
            memcpy(hex, p, 40);
            hex[40] = '\0';
            return 0;
        }
        p += n + (p[n] ? 1 : 0);
    }
    return -1;
}

static double mtime(const struct stat *st)
{
    return (double)st->st_mtim.tv_sec + st->st_mtim.tv_nsec * 1e-9;
}

int lh_stamp_check(const char *dir, const char *name, const char *rel,
                   int *by_stamp, lh_buf *why)
{
    char lib[4400], build[4400], stamp_file[4400];
    snprintf(lib, sizeof lib, "%s/lib%s.so", dir, name);
    snprintf(build, sizeof build, "%s/%s", dir, rel);
    lh_stamp_path(stamp_file, sizeof stamp_file, dir, name);
    *by_stamp = 0;

    lh_buf stamp = LH_BUF_INIT;
    char libname[512], lib_then[41], build_then[41];
    snprintf(libname, sizeof libname, "lib%s.so", name);
    int have = lh_read_file(stamp_file, &stamp) == 0 &&
               recorded(&stamp, libname, lib_then) == 0 &&
               recorded(&stamp, rel, build_then) == 0;
    lh_buf_free(&stamp);
    if (have) {
        char lib_now[41], build_now[41];
        if (file_sha1(build, build_now) < 0) {
            lh_buf_printf(why, "cannot read %s: %s", build, strerror(errno));
            return LH_STAMP_ERROR;
        }
        if (strcmp(build_now, build_then) == 0) {
            /* the stamp speaks for this very file */
            *by_stamp = 1;
            if (file_sha1(lib, lib_now) < 0) {
                lh_buf_printf(why, "cannot read %s: %s", lib,
                              strerror(errno));
                return LH_STAMP_ERROR;
            }
            if (strcmp(lib_now, lib_then) == 0)
                return LH_STAMP_FRESH;
            lh_buf_printf(why, "%s records that %s was built with the "
                          "library of sha1 %.12s, and %s is now %.12s: "
                          "the library was rebuilt without it", stamp_file,
                          build, lib_then, lib, lib_now);
            return LH_STAMP_STALE;
        }
    }
    struct stat ls, bs;
    const char *bad = stat(lib, &ls) < 0     ? lib
                      : stat(build, &bs) < 0 ? build
                                             : NULL;
    if (bad) {
        lh_buf_printf(why, "cannot read %s: %s", bad, strerror(errno));
        return LH_STAMP_ERROR;
    }
    if (mtime(&bs) >= mtime(&ls))
        return LH_STAMP_FRESH;
    lh_buf_printf(why, "%s is older than %s (by %.1f s), and no stamp "
                  "(%s) records them as built together: the library was "
                  "rebuilt after it", build, lib, mtime(&ls) - mtime(&bs),
                  stamp_file);
    return LH_STAMP_STALE;
}
