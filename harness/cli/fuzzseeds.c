/*
 * fuzzseeds.c - the seeds `leakhound fuzz` starts from, copied into its work
 * corpus, and the corpus files copied back by --merge.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "sha1.h"

#include "fuzz_impl.h"

int lh_fuzz_copy_files(const char *src, const char *dst)
{
    lh_buf names = LH_BUF_INIT, from = LH_BUF_INIT, to = LH_BUF_INIT,
           data = LH_BUF_INIT;
    int copied = lh_list_dir(src, &names) < 0 ? -1 : 0;
    for (const char *p = lh_buf_str(&names); copied >= 0 && *p;
         p += strlen(p) + 1) {
        lh_buf_reset(&from);
        lh_buf_reset(&to);
        lh_buf_printf(&from, "%s/%s", src, p);
        lh_buf_printf(&to, "%s/%s", dst, p);
        if (!lh_is_file(lh_buf_str(&from)) ||
            access(lh_buf_str(&to), F_OK) == 0)
            continue;
        lh_buf_reset(&data);
        /* a seed left out would be a search from other seeds than said */
        if (lh_read_file(lh_buf_str(&from), &data) < 0 ||
            lh_write_atomic(lh_buf_str(&to), data.data, data.len) < 0) {
            int err = errno;
            fprintf(stderr, "leakhound fuzz: cannot copy %s to %s: %s\n",
                    lh_buf_str(&from), lh_buf_str(&to), strerror(err));
            errno = err;
            copied = -1;
            break;
        }
        copied++;
    }
    lh_buf_free(&names);
    lh_buf_free(&from);
    lh_buf_free(&to);
    lh_buf_free(&data);
    return copied;
}

int lh_fuzz_count_files(const char *dir)
{
    lh_buf names = LH_BUF_INIT, path = LH_BUF_INIT;
    int n = lh_list_dir(dir, &names) < 0 ? -1 : 0;
    for (const char *p = lh_buf_str(&names); n >= 0 && *p;
         p += strlen(p) + 1) {
        lh_buf_reset(&path);
        lh_buf_printf(&path, "%s/%s", dir, p);
        n += lh_is_file(lh_buf_str(&path));
    }
    lh_buf_free(&names);
    lh_buf_free(&path);
    return n;
}

/*
 * The seeds into the work corpus: --corpus DIR, else the workload's own
 * leak.corpus(dir), else the strings of its inputs list (each a file named
 * by its SHA-1, as libFuzzer names corpus files).  Nothing to start from
 * is an error naming where the seeds were looked for: a 1-byte placeholder
 * would be a search that looks like one and is not.  *seeds says where
 * they came from.
 */
int lh_fuzz_seed_corpus(const fuzz_opts *o, const driver_info *d,
                        const char *corpus, char *seeds, size_t len)
{
    const char *dir = o->corpus ? o->corpus : d->corpus;
    if (dir[0]) {
        snprintf(seeds, len, "%s", dir);
        int n = lh_fuzz_count_files(dir);
        if (n < 0) {
            fprintf(stderr, "leakhound fuzz: cannot read the seed corpus "
                    "'%s'%s: %s\n", dir, o->corpus ? " (--corpus)" : "",
                    strerror(errno));
            return -1;
        }
        if (n == 0) {
            fprintf(stderr, "leakhound fuzz: the seed corpus '%s'%s has no "
                    "input files: put at least one seed there (an engine "
                    "needs one to start from)\n", dir,
                    o->corpus ? " (--corpus)" : "");
            return -1;
        }
        if (lh_fuzz_copy_files(dir, corpus) < 0) {
            fprintf(stderr, "leakhound fuzz: cannot copy the seeds of '%s' "
                    "into %s: %s\n", dir, corpus, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (!d->inputs.len) {
        fprintf(stderr, "leakhound fuzz: workload '%s' (%s) has no seeds: "
                "its inputs are generated; declare inputs = "
                "leak.corpus(dir) or give --corpus DIR\n", o->workload,
                d->source);
        return -1;
    }
    if (o->merge) {
        fprintf(stderr, "leakhound fuzz: --merge needs a seed directory: "
                "workload '%s' (%s) takes its seeds from a list; give "
                "--corpus DIR\n", o->workload, d->source);
        return -1;
    }
    int n = 0;
    lh_buf path = LH_BUF_INIT;
    for (size_t at = 0; at < d->inputs.len; n++) {
        size_t size;
        memcpy(&size, d->inputs.data + at, sizeof size);
        const char *bytes = d->inputs.data + at + sizeof size;
        at += sizeof size + size;
        char hex[41];
        lh_sha1_hex(bytes, size, hex);
        lh_buf_reset(&path);
        lh_buf_printf(&path, "%s/%s", corpus, hex);
        if (access(lh_buf_str(&path), F_OK) != 0 &&
            lh_write_atomic(lh_buf_str(&path), bytes, size) < 0) {
            fprintf(stderr, "leakhound fuzz: cannot write the seed %s: "
                    "%s\n", lh_buf_str(&path), strerror(errno));
            lh_buf_free(&path);
            return -1;
        }
    }
    lh_buf_free(&path);
    snprintf(seeds, len, "the %d inputs listed at %s", n, d->source);
    return 0;
}
