/* test_outdir.c - output directories checked and locked before the work,
 * and baselines validated before they are trusted (issue 10). */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Entries of dir, dot files too, joined by spaces, sorted by readdir. */
static void entries(const char *dir, lh_buf *out)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            lh_buf_printf(out, "%s ", e->d_name);
    if (d)
        closedir(d);
}

/* claim in a child process (the lock is per process), 0 or -1 and err */
static int claim_in_child(const char *dir, char *err, size_t cap, int uid)
{
    int fds[2];
    if (pipe(fds) < 0)
        return -2;
    pid_t pid = fork();
    if (pid == 0) {
        static const char *const files[] = { "report.json", NULL };
        lh_buf e = LH_BUF_INIT;
        if (uid >= 0 && (setgid((gid_t)uid) < 0 || setuid((uid_t)uid) < 0))
            _exit(1);
        int rc = lh_outdir_claim(dir, files, &e);
        dprintf(fds[1], "%d %s", rc, lh_buf_str(&e));
        _exit(0);
    }
    close(fds[1]);
    char buf[2048] = "";
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    waitpid(pid, NULL, 0);
    int rc = atoi(buf);
    snprintf(err, cap, "%s", strchr(buf, ' ') ? strchr(buf, ' ') + 1 : "");
    return rc;
}

/* lh_outdir_claim: the checks and the lock, with the lock file as the
 * real write (no file created and removed per run: issue 13). */
static void test_claim(void)
{
    char dir[PATH_MAX], err[2048];
    snprintf(dir, sizeof dir, "%s/claimed", root);
    check(claim_in_child(dir, err, sizeof err, -1) == 0,
          "claim: a missing dir is created and locked (%s)", err);
    lh_buf ls = LH_BUF_INIT;
    entries(dir, &ls);
    check(strcmp(lh_buf_str(&ls), LH_OUTDIR_LOCK " ") == 0,
          "... it holds the lock file alone: '%s'", lh_buf_str(&ls));
    char lock[PATH_MAX + 32];
    snprintf(lock, sizeof lock, "%s/" LH_OUTDIR_LOCK, dir);
    struct stat a, b;
    int ok = stat(lock, &a) == 0 && claim_in_child(dir, err, sizeof err, -1) == 0
             && stat(lock, &b) == 0;
    check(ok && a.st_ino == b.st_ino,
          "a second run's claim writes the same lock file (inode %lu, %lu)",
          (unsigned long)a.st_ino, (unsigned long)b.st_ino);
    lh_buf_reset(&ls);
    entries(dir, &ls);
    check(strcmp(lh_buf_str(&ls), LH_OUTDIR_LOCK " ") == 0,
          "... and leaves nothing else: '%s'", lh_buf_str(&ls));
    lh_buf_free(&ls);

    /* No new file can go there, for root too. */
    check(claim_in_child("/proc/self/fdinfo", err, sizeof err, -1) < 0 &&
          strstr(err, "/proc/self/fdinfo"),
          "a directory that takes no file is refused, naming it: %s", err);
    snprintf(dir, sizeof dir, "%s/claimed/report.json", root);
    lh_mkdir_p(dir);
    snprintf(dir, sizeof dir, "%s/claimed", root);
    check(claim_in_child(dir, err, sizeof err, -1) < 0 &&
          strstr(err, "report.json: a directory"),
          "claim: a directory where a report file goes: %s", err);
    /* Mode 555 stops anyone but root: as root, check as nobody.  The
     * lock file left by an earlier run is no proof that new files (the
     * reports' temporaries) can still be created. */
    int as = geteuid() == 0 ? 65534 : -1;
    snprintf(dir, sizeof dir, "%s/ro", root);
    lh_mkdir_p(dir);
    chmod(root, 0755);
    chmod(dir, 0777);
    check(claim_in_child(dir, err, sizeof err, as) == 0,
          "claim: a writable dir%s (%s)", as >= 0 ? " (as uid 65534)" : "",
          err);
    chmod(dir, 0555);
    check(claim_in_child(dir, err, sizeof err, as) < 0 &&
          strstr(err, "not writable"),
          "... refused once read-only (mode 555), its lock file still "
          "there: %s", err);
    chmod(dir, 0755);
    chmod(root, 0700);
}

int main(void)
{
    if (!mkdtemp(root))
        return 1;
    test_check();
    test_lock();
    test_claim();
    test_baseline();
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        return 1;
    return check_report();
}
