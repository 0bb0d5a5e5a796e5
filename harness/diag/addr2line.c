/* addr2line.c - the addr2line child process. */
#include "addr2line.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "child.h"
#include "clock.h"

static int sym_tool_missing;

static void collect(void *ctx, int i, const char *data, size_t n)
{
    (void)i;
    lh_buf_add(ctx, data, n);
}

int lh_addr2line_missing(void)
{
    return sym_tool_missing;
}

/* Runs addr2line on one object for n addresses (object-relative) and
 * appends its output to out.  0, or -1 when it could not run. */
int lh_addr2line(const char *path, const uintptr_t *rel, int n,
                 lh_buf *out)
{
    const char *tool = getenv("LEAKHOUND_ADDR2LINE");
    if (!tool || !*tool)
        tool = "addr2line";
    char **argv = lh_raw_calloc((size_t)n + 8, sizeof *argv);
    char *nums = lh_raw_malloc((size_t)n * 20);
    if (!argv || !nums) {
        lh_raw_free(argv);
        lh_raw_free(nums);
        return -1;
    }
    int a = 0;
    argv[a++] = (char *)tool;
    argv[a++] = "-a";
    argv[a++] = "-f";
    argv[a++] = "-i";
    argv[a++] = "-C";
    argv[a++] = "-e";
    argv[a++] = (char *)path;
    for (int i = 0; i < n; i++) {
        argv[a] = nums + (size_t)i * 20;
        snprintf(argv[a], 20, "0x%" PRIxPTR, rel[i]);
        a++;
    }
    argv[a] = NULL;

    /* A huge object (a Go library with DWARF) takes seconds; a stuck
     * tool must not hang the worker. */
    int rc = -1;
    lh_child c;
    lh_child_spec spec = {
        .argv = argv, .in = LH_CHILD_NULL, .out = LH_CHILD_PIPE,
        .err = LH_CHILD_NULL,
    };
    if (lh_child_start(&c, &spec) < 0) {
        if (errno == ENOENT)
            sym_tool_missing = 1;
        goto out;
    }
    lh_child_wait(&c, lh_now() + 60, collect, out);
    rc = 0;
out:
    lh_raw_free(argv);
    lh_raw_free(nums);
    return rc;
}
