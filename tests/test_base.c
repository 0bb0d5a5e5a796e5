/*
 * test_base.c - the base layer's hygiene: allocation that aborts with the
 * size when memory runs out, growth that refuses to overflow, workload
 * names made into file names that never collide and are never "..".
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "check.h"
#include "text.h"

/* Runs fn in a child; its stderr into err.  The child's wait status. */
static int in_child(void (*fn)(void), char *err, size_t errlen)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        fn();
        _exit(0);
    }
    close(p[1]);
    size_t at = 0;
    ssize_t k;
    while (at + 1 < errlen &&
           (k = read(p[0], err + at, errlen - 1 - at)) > 0)
        at += (size_t)k;
    err[at] = '\0';
    err[strcspn(err, "\n")] = '\0';
    close(p[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

static void huge_malloc(void) { lh_xmalloc(SIZE_MAX - 4096); }
static void huge_calloc(void) { lh_xcalloc(SIZE_MAX / 2, 4); }
static void huge_realloc(void) { lh_xrealloc(NULL, SIZE_MAX / 2); }

static void huge_buf(void)
{
    lh_buf b = LH_BUF_INIT;
    lh_buf_puts(&b, "x");
    b.cap = SIZE_MAX;           /* as if it had grown that far */
    b.len = SIZE_MAX - 8;
    lh_buf_add(&b, "0123456789abcdef", 16);
}

static void test_alloc(void)
{
    char err[512];
    int st = in_child(huge_malloc, err, sizeof err);
    char want[64];
    snprintf(want, sizeof want, "%zu bytes", SIZE_MAX - 4096);
    check(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT &&
          strstr(err, "out of memory") && strstr(err, want),
          "lh_xmalloc of SIZE_MAX-4096 aborts naming the size: %s", err);
    st = in_child(huge_calloc, err, sizeof err);
    snprintf(want, sizeof want, "%zu x 4 bytes", SIZE_MAX / 2);
    check(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(err, want),
          "lh_xcalloc overflowing n * size aborts naming both: %s", err);
    st = in_child(huge_realloc, err, sizeof err);
    check(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT &&
          strstr(err, "out of memory"),
          "lh_xrealloc out of memory aborts: %s", err);
    st = in_child(huge_buf, err, sizeof err);
    check(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT &&
          strstr(err, "out of memory"),
          "lh_buf growth past SIZE_MAX aborts: %s", err);

    char *s = lh_xstrdup("kept");
    int *z = lh_xcalloc(0, sizeof *z);
    void *m = lh_xmalloc(0);
    check(s && strcmp(s, "kept") == 0 && z && m,
          "lh_xstrdup copies; zero sizes give memory");
    lh_raw_free(s);
    lh_raw_free(z);
    lh_raw_free(m);
}

static void test_grow(void)
{
    check(lh_next_cap(0, 0, 16, 8) == 16, "first capacity");
    check(lh_next_cap(16, 100, 16, 8) == 128, "doubled until it fits");
    check(lh_next_cap(SIZE_MAX / 2 + 1, 0, 16, 1) == 0,
          "doubling past SIZE_MAX: 0");
    check(lh_next_cap(16, SIZE_MAX / 8 + 1, 16, 16) == 0,
          "capacity whose byte size overflows: 0");

    char *arr = NULL;
    size_t cap = 0;
    check(lh_grow((void **)&arr, &cap, 10, 1) == 0 && cap == 16 && arr,
          "lh_grow to 10: 16");
    arr[15] = 'x';
    check(lh_grow((void **)&arr, &cap, SIZE_MAX / 2 + 2, 1) < 0 &&
          cap == 16 && arr[15] == 'x',
          "lh_grow past SIZE_MAX / 2 fails, array kept");
    check(lh_grow((void **)&arr, &cap, SIZE_MAX / 8 + 1, 16) < 0 &&
          cap == 16, "lh_grow whose byte size overflows fails");
    lh_raw_free(arr);

    lh_buf b = LH_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        lh_buf_puts(&b, "0123456789");
    check(b.len == 10000 && strlen(lh_buf_str(&b)) == 10000 &&
          b.cap >= 10001, "lh_buf grows to 10000 bytes");
    lh_buf_free(&b);
}

static void test_safe_name(void)
{
    char a[256], b[256];
    lh_safe_name(a, sizeof a, "demo-grow_1.x");
    check(strcmp(a, "demo-grow_1.x") == 0, "plain name unchanged: %s", a);

    lh_safe_name(a, sizeof a, "a/b");
    lh_safe_name(b, sizeof b, "a b");
    check(strncmp(a, "a_b-", 4) == 0 && strlen(a) == 12 &&
          strncmp(b, "a_b-", 4) == 0 && strcmp(a, b) != 0,
          "'a/b' and 'a b' differ: %s %s", a, b);
    lh_safe_name(b, sizeof b, "a_b");
    check(strcmp(b, "a_b") == 0 && strcmp(a, b) != 0,
          "'a_b' stays, unlike 'a/b': %s %s", a, b);

    const char *dots[] = { ".", "..", "", ".hidden", "../x" };
    for (size_t i = 0; i < sizeof dots / sizeof *dots; i++) {
        lh_safe_name(a, sizeof a, dots[i]);
        check(a[0] && a[0] != '.' && !strchr(a, '/'),
              "'%s' -> '%s': not hidden, not a path", dots[i], a);
    }
    lh_safe_name(a, sizeof a, ".");
    lh_safe_name(b, sizeof b, "..");
    check(strcmp(a, b) != 0, "'.' and '..' differ: %s %s", a, b);

    lh_safe_name(a, sizeof a, "tab\there\n");
    check(strcmp(a, "tab\there\n") == 0, "control characters kept");

    /* Two long names that differ only past the cut. */
    char l1[400], l2[400];
    memset(l1, 'w', sizeof l1 - 1);
    l1[sizeof l1 - 1] = '\0';
    memcpy(l2, l1, sizeof l1);
    l2[sizeof l2 - 2] = 'z';
    lh_safe_name(a, sizeof a, l1);
    lh_safe_name(b, sizeof b, l2);
    check(strlen(a) == sizeof a - 1 && strlen(b) == sizeof b - 1 &&
          strcmp(a, b) != 0, "long names cut to 255 and still differ");
    char small[16];
    lh_safe_name(small, sizeof small, l1);
    check(strlen(small) == 15 && small[6] == '-',
          "cut to a 16-byte buffer: %s", small);
}

static void test_path_dir(void)
{
    static const char *const cases[][2] = {
        { "a/b/c.so", "a/b" }, { "c.so", "." }, { "/c.so", "/" },
        { "out/", "out" }, { "/a/b", "/a" },
    };
    char d[64];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lh_path_dir(d, sizeof d, cases[i][0]);
        check(strcmp(d, cases[i][1]) == 0, "dir of '%s': '%s', want '%s'",
              cases[i][0], d, cases[i][1]);
    }
}

int main(void)
{
    test_alloc();
    test_grow();
    test_safe_name();
    test_path_dir();
    return check_report();
}
