/*
 * test_elfsyms.c - a library's exported functions from its .dynsym: the
 * defined GLOBAL FUNC symbols only, sorted; and files that are not such a
 * library (missing, text, truncated, an executable's header bits
 * corrupted) are errors naming the file, never a crash.
 *
 * argv[1]: tests/targets/elfsyms_lib.c built as a shared library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "elfsyms.h"
#include "file.h"

static int has(const lh_buf *names, const char *name)
{
    for (const char *p = lh_buf_str(names); *p; p += strlen(p) + 1)
        if (strcmp(p, name) == 0)
            return 1;
    return 0;
}

static int sorted(const lh_buf *names)
{
    const char *prev = NULL;
    for (const char *p = lh_buf_str(names); *p; p += strlen(p) + 1) {
        if (prev && strcmp(prev, p) >= 0)
            return 0;
        prev = p;
    }
    return 1;
}

/* Expect an error for path, naming it, with `why` in the reason. */
static void refused(const char *what, const char *path, const char *why)
{
    lh_buf names = LH_BUF_INIT, err = LH_BUF_INIT;
    int n = lh_elf_exported_functions(path, &names, &err);
    check(n == -1 && strstr(lh_buf_str(&err), path) &&
          strstr(lh_buf_str(&err), why),
          "%s: an error naming the file (%s)", what, lh_buf_str(&err));
    lh_buf_free(&names);
    lh_buf_free(&err);
}

/* The library's first len bytes, or with byte at `at` set to v. */
static void variant(const lh_buf *lib, const char *path, size_t len,
                    long at, unsigned char v)
{
    lh_buf b = LH_BUF_INIT;
    lh_buf_add(&b, lib->data, len);
    if (at >= 0)
        b.data[at] = (char)v;
    lh_write_atomic(path, b.data, b.len);
    lh_buf_free(&b);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test-elfsyms LIBRARY\n");
        return 2;
    }
    const char *lib = argv[1];
    lh_buf names = LH_BUF_INIT, err = LH_BUF_INIT;
    int n = lh_elf_exported_functions(lib, &names, &err);
    check(n >= 2, "the library's exported functions are read (%d; %s)", n,
          lh_buf_str(&err));
    check(has(&names, "elfsyms_op_a") && has(&names, "elfsyms_op_b"),
          "both exported functions are listed");
    check(!has(&names, "elfsyms_hidden"), "a hidden function is not");
    check(!has(&names, "elfsyms_counter"), "an exported variable is not");
    check(!has(&names, "elfsyms_weak"), "a weak function is not (GLOBAL "
          "only)");
    check(!has(&names, "strlen"), "an undefined reference is not");
    check(sorted(&names), "the names are sorted, without duplicates");
    int count = 0;
    for (const char *p = lh_buf_str(&names); *p; p += strlen(p) + 1)
        count++;
    check(count == n, "the count is the list's length (%d, %d)", count, n);
    lh_buf_free(&names);
    lh_buf_free(&err);

    char dir[] = "/tmp/test-elfsyms-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    char path[256];
    snprintf(path, sizeof path, "%s/missing.so", dir);
    refused("a missing file", path, "No such file");
    snprintf(path, sizeof path, "%s/text.so", dir);
    lh_write_atomic(path, "hello, not an ELF\n", 18);
    refused("a text file", path, "not an ELF file");

    lh_buf bytes = LH_BUF_INIT;
    if (lh_read_file(lib, &bytes) < 0)
        return 2;
    snprintf(path, sizeof path, "%s/trunc.so", dir);
    variant(&bytes, path, 40, -1, 0);
    refused("a file cut inside the ELF header", path, "not an ELF file");
    variant(&bytes, path, bytes.len / 3, -1, 0);
    refused("a library cut before its section headers", path,
            "truncated or corrupt");
    variant(&bytes, path, bytes.len, 4, 1);         /* EI_CLASS: 32-bit */
    refused("a 32-bit ELF", path, "not a 64-bit ELF");
    variant(&bytes, path, bytes.len, 16, 2);        /* e_type: ET_EXEC */
    refused("an executable", path, "not a shared library");
    lh_buf_free(&bytes);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_report();
}
