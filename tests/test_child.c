/*
 * test_child.c - the child-process module: how a child ended, read from
 * waitpid even while a grandchild holds its pipe; the group killed; the
 * fds and environment it gets; stdin and stdout pipes (addr2line's way);
 * descendants (a setsid() daemon among them) killed and reaped; what an
 * interrupt does to a child and to the next one.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "child.h"
#include "clock.h"

static void collect(void *ctx, int i, const char *data, size_t n)
{
    lh_buf *b = ctx;
    lh_buf_add(&b[i], data, n);
}

/* sh -c script, stdout (and stderr) piped into out[0]. */
static int sh(const char *script, double timeout, lh_buf *out,
              lh_child *c)
{
    char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
    lh_child_spec s = {
        .argv = argv, .in = LH_CHILD_NULL, .out = LH_CHILD_PIPE,
        .err = LH_CHILD_STDOUT,
    };
    if (lh_child_start(c, &s) < 0)
        return -1;
    return lh_child_wait(c, lh_now() + timeout, collect, out);
}

static int gone(pid_t pid)
{
    char path[64], stat[256] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    int n = (int)fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n > 0 ? n : 0] = '\0';
    const char *p = strrchr(stat, ')');
    return p && p[1] == ' ' && p[2] == 'Z';    /* a zombie is gone too */
}

static void test_ends(void)
{
    lh_child c;
    lh_buf out[LH_CHILD_PIPES] = { LH_BUF_INIT };
    int end = sh("echo hi; exit 7", 10, out, &c);
    check(end == LH_CHILD_EXITED && c.code == 7, "exit status 7 (%d %d)",
          end, c.code);
    check(strcmp(lh_buf_str(&out[0]), "hi\n") == 0, "its output read");
    lh_buf_free(&out[0]);

    end = sh("kill -SEGV $$", 10, out, &c);
    check(end == LH_CHILD_SIGNALLED && c.code == SIGSEGV,
          "signalled with SIGSEGV (%d %d)", end, c.code);

    double t0 = lh_now();
    end = sh("sleep 30", 0.3, out, &c);
    check(end == LH_CHILD_TIMEDOUT && lh_now() - t0 < 5,
          "timed out at the deadline (%.1fs)", lh_now() - t0);
}

/* The grandchild keeps the pipe open: the end is still the child's, at
 * once, and the grandchild is killed with the group. */
static void test_grandchild(void)
{
    lh_child c;
    lh_buf out[LH_CHILD_PIPES] = { LH_BUF_INIT };
    double t0 = lh_now();
    int end = sh("sleep 30 & echo $!; kill -ABRT $$", 20, out, &c);
    double took = lh_now() - t0;
    check(end == LH_CHILD_SIGNALLED && c.code == SIGABRT,
          "a dead child with a live grandchild is signalled (%d %d)", end,
          c.code);
    check(took < 3, "judged promptly (%.1fs)", took);
    pid_t g = (pid_t)atoi(lh_buf_str(&out[0]));
    /* SIGKILL to the group is sent, not waited for: allow it to land */
    for (int i = 0; i < 200 && g > 0 && !gone(g); i++)
        usleep(10000);
    check(g > 0 && gone(g), "the grandchild %d is gone", (int)g);
    lh_buf_free(&out[0]);
}

static void test_fds_env(void)
{
    int p[2];
    check(pipe(p) == 0, "a pipe without close-on-exec");
    int keep = open("/dev/null", O_RDONLY | O_CLOEXEC);
    char script[256];
    snprintf(script, sizeof script,
             "for f in %d %d 5; do "
             "[ -e /proc/$$/fd/$f ] && echo has$f; done; echo \"$LH_X\"",
             p[0], p[1]);
    char *argv[] = { "/bin/sh", "-c", script, NULL };
    char *env[] = { "LH_X=over", NULL };
    setenv("LH_X", "under", 1);
    lh_child_spec s = {
        .argv = argv, .env = env, .in = LH_CHILD_NULL,
        .out = LH_CHILD_PIPE, .pass = { { keep, 5 } }, .npass = 1,
    };
    lh_child c;
    lh_buf out[LH_CHILD_PIPES] = { LH_BUF_INIT };
    check(lh_child_start(&c, &s) == 0, "started");
    lh_child_wait(&c, lh_now() + 10, collect, out);
    check(strcmp(lh_buf_str(&out[0]), "has5\nover\n") == 0,
          "only the passed fd is inherited, env overrides (%s)",
          lh_buf_str(&out[0]));
    lh_buf_free(&out[0]);
    close(p[0]);
    close(p[1]);
    close(keep);
}

/* addr2line's way: a name found in PATH, input on stdin, output back. */
static void test_stdin(void)
{
    char *argv[] = { "cat", NULL };
    lh_child_spec s = {
        .argv = argv, .in = LH_CHILD_PIPE, .out = LH_CHILD_PIPE,
        .err = LH_CHILD_NULL,
    };
    lh_child c;
    lh_buf out[LH_CHILD_PIPES] = { LH_BUF_INIT };
    static char big[200000];
    memset(big, 'x', sizeof big);
    check(lh_child_start(&c, &s) == 0, "cat found in PATH");
    c.input = big;
    c.input_len = sizeof big;
    int end = lh_child_wait(&c, lh_now() + 10, collect, out);
    check(end == LH_CHILD_EXITED && c.code == 0 &&
          out[0].len == sizeof big, "stdin fed, stdout read back (%zu)",
          out[0].len);
    lh_buf_free(&out[0]);

    char *none[] = { "no-such-program-leakhound", NULL };
    s.argv = none;
    errno = 0;
    check(lh_child_start(&c, &s) < 0 && errno == ENOENT,
          "a missing program does not start (ENOENT)");
    char *bad[] = { "/dev/null", NULL };
    s.argv = bad;
    check(lh_child_start(&c, &s) < 0 && errno == EACCES,
          "an exec failure is reported by start (EACCES)");
    lh_child_result r = lh_child_run(bad, NULL, 5, NULL);
    check(r.end == LH_CHILD_NOSTART, "lh_child_run: not started");
}

/* A subreaper adopts a double-forked setsid() daemon; killing descendants
 * ends it and the sleeping child, and reaps both. */
static void test_descendants(void)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int p[2];
    if (pipe(p) < 0)
        return;
    pid_t kid = fork();
    if (kid == 0) {
        pid_t d = fork();
        if (d == 0) {
            setsid();
            if (fork() != 0)
                _exit(0);
            pid_t me = getpid();
            ssize_t w = write(p[1], &me, sizeof me);
            (void)w;
            for (;;)
                pause();
        }
        waitpid(d, NULL, 0);
        for (;;)
            pause();
    }
    pid_t daemon = 0;
    ssize_t n = read(p[0], &daemon, sizeof daemon);
    close(p[0]);
    close(p[1]);
    check(n == sizeof daemon && daemon > 0, "the daemon started (%d)",
          (int)daemon);
    int left = lh_child_kill_descendants();
    check(left == 0, "no descendant left (%d)", left);
    check(kill(kid, 0) < 0 && errno == ESRCH, "the child is gone, reaped");
    check(daemon > 0 && kill(daemon, 0) < 0 && errno == ESRCH,
          "the setsid() daemon is gone, reaped");
    check(lh_child_kill_descendants() == 0, "nothing to kill: 0");
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* Interrupted (last: it is for good): a child that ignores the forwarded
 * SIGTERM is killed after the grace, and no child starts any more. */
static void test_interrupt(void)
{
    lh_child_trap_signals();
    lh_child c;
    char *argv[] = { "/bin/sh", "-c", "trap '' TERM; sleep 30 & wait",
                     NULL };
    lh_child_spec s = { .argv = argv, .in = LH_CHILD_NULL };
    check(lh_child_start(&c, &s) == 0, "a child that ignores SIGTERM");
    pid_t pid = c.pid;
    usleep(200000);
    raise(SIGTERM);
    double t0 = lh_now();
    lh_child_wait(&c, t0 + 30, NULL, NULL);
    double took = lh_now() - t0;
    check(lh_child_interrupted() == SIGTERM, "the interrupt is noted");
    check(took < LH_CHILD_GRACE + 1, "killed after the grace (%.1fs)", took);
    check(c.end == LH_CHILD_SIGNALLED, "ended by a signal, not judged "
          "timed out (%d)", c.end);
    usleep(100000);
    check(gone(pid), "its group is gone");
    errno = 0;
    check(lh_child_start(&c, &s) < 0 && errno == EINTR &&
          c.end == LH_CHILD_NOSTART, "no child starts once interrupted");
    lh_child_result r = lh_child_run(argv, NULL, 5, NULL);
    check(r.end == LH_CHILD_NOSTART, "nor through lh_child_run");
}

int main(void)
{
    test_ends();
    test_grandchild();
    test_fds_env();
    test_stdin();
    test_descendants();
    test_interrupt();
    return check_report();
}
