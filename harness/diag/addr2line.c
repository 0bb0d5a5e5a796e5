/* addr2line.c - the addr2line child process. */
#include "addr2line.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"

static int sym_tool_missing;

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

    int rc = -1, pfd[2];
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    if (pipe2(pfd, O_CLOEXEC) < 0)
        goto out;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int err = posix_spawnp(&pid, tool, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (err != 0) {
        if (err == ENOENT)
            sym_tool_missing = 1;
        close(pfd[0]);
        goto out;
    }
    /* A huge object (a Go library with DWARF) takes seconds; a stuck
     * tool must not hang the worker. */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = 60000 - ((t.tv_sec - t0.tv_sec) * 1000 +
                             (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0) {
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd p = { pfd[0], POLLIN, 0 };
        int pr = poll(&p, 1, (int)left);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0)
            continue;
        char chunk[8192];
        ssize_t k = read(pfd[0], chunk, sizeof chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        lh_buf_add(out, chunk, (size_t)k);
    }
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    rc = 0;
out:
    lh_raw_free(argv);
    lh_raw_free(nums);
    return rc;
}
