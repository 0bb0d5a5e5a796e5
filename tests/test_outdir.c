/* test_outdir.c - output directories checked and locked before the work,
 * and baselines validated before they are trusted (issue 10). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "baseline.h"
#include "buf.h"
#include "file.h"
#include "check.h"
#include "outdir.h"

static char root[] = "/tmp/lh-test-outdir-XXXXXX";

static void put(const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", root, name);
    lh_write_atomic(path, text, strlen(text));
}

static int has(const lh_buf *b, const char *s)
{
    return strstr(lh_buf_str(b), s) != NULL;
}

static void test_check(void)
{
    lh_buf err = LH_BUF_INIT;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/a/b", root);
    check(lh_outdir_check(dir, NULL, &err) == 0, "a missing dir is created");

    put("file", "x");
    snprintf(dir, sizeof dir, "%s/file", root);
    lh_buf_reset(&err);
    check(lh_outdir_check(dir, NULL, &err) < 0 && has(&err, "not a dir"),
          "a regular file is refused: %s", lh_buf_str(&err));

    char lng[PATH_MAX];
    memset(lng, 'x', sizeof lng);
    lng[0] = '/';
    lng[4090] = '\0';
    lh_buf_reset(&err);
    check(lh_outdir_check(lng, NULL, &err) < 0 && has(&err, "too long"),
          "a 4,090-character path is refused: %.80s", lh_buf_str(&err));

    static const char *const files[] = { "report.json", NULL };
    snprintf(dir, sizeof dir, "%s/r/report.json", root);
    lh_mkdir_p(dir);
    snprintf(dir, sizeof dir, "%s/r", root);
    lh_buf_reset(&err);
    check(lh_outdir_check(dir, files, &err) < 0 &&
          has(&err, "report.json: a directory"),
          "a directory where a report file goes: %s", lh_buf_str(&err));
    lh_buf_free(&err);
}

static void test_lock(void)
{
    lh_buf err = LH_BUF_INIT;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/locked", root);
    lh_mkdir_p(dir);
    check(lh_outdir_lock(dir, &err) == 0, "the lock is taken");
    check(lh_outdir_lock(dir, &err) == 0, "... again by the same process");
    int fds[2];
    if (pipe(fds) < 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        lh_buf e = LH_BUF_INIT;
        int rc = lh_outdir_lock(dir, &e);
        dprintf(fds[1], "%d %s", rc, lh_buf_str(&e));
        _exit(0);
    }
    close(fds[1]);
    char msg[8192] = "";
    ssize_t n = read(fds[0], msg, sizeof msg - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    waitpid(pid, NULL, 0);
    char want[64];
    snprintf(want, sizeof want, "(pid %ld;", (long)getpid());
    check(strncmp(msg, "-1 ", 3) == 0 && strstr(msg, want) &&
          strstr(msg, "in use by another leakhound run"),
          "another process is refused, told the holder's pid: %s", msg);
    lh_buf_free(&err);
}

static void test_baseline(void)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        { "{\"schema\":99,\"workloads\":{}}", "\"schema\": version 99" },
        { "{\"workloads\":{}}", "\"schema\": missing" },
        { "{\"schema\":1,\"workloads\":[]}", "\"workloads\": expected an "
          "object" },
        { "{\"schema\":1,\"workloads\":{\"w\":{\"invariants\":{\"m k\":"
          "{\"peak\":\"big\"}}}}}", "\"peak\": expected a number or null, "
          "got a string" },
        { "{\"schema\":1,\"workloads\":{\"w\":{\"invariants\":{\"m k\":"
          "{\"iterations\":null}}}}}", "\"iterations\": expected a number, "
          "got null" },
        { "{\"schema\":1,\"workloads\":{\"w\":{\"script\":3,"
          "\"invariants\":{}}}}", "\"script\": expected a string" },
        { "{\"schema\":1,\"workloads\":{\"w\":{}}}", "\"invariants\": "
          "missing" },
    };
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/base.json", root);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        put("base.json", bad[i].text);
        lh_buf err = LH_BUF_INIT;
        lh_json *b = lh_baseline_load(path, &err);
        check(!b && has(&err, bad[i].want) && has(&err, "base.json"),
              "baseline refused: %s", lh_buf_str(&err));
        lh_json_free(b);
        lh_buf_free(&err);
    }
    put("base.json", "{\"schema\":1,\"workloads\":{\"w\":{\"script\":\"s\","
        "\"invariants\":{\"m k\":{\"growth_per_iter\":null,\"peak\":3,"
        "\"baseline\":1,\"iterations\":10,\"unit\":\"B\"}}}}}");
    lh_buf err = LH_BUF_INIT;
    lh_json *b = lh_baseline_load(path, &err);
    check(b != NULL, "a good baseline loads %s", lh_buf_str(&err));
    lh_json_free(b);
    lh_buf_free(&err);
}

int main(void)
{
    if (!mkdtemp(root))
        return 1;
    test_check();
    test_lock();
    test_baseline();
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        return 1;
    return check_report();
}
