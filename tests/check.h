/*
 * check.h - reporting for the unit tests: one line per check ("ok" or
 * "FAIL" and what was checked), and check_report() prints the closing
 * "N passed, N failed" line and gives the exit status.
 *
 * Heap counting is suspended while printing when the test links the
 * interposer: stdout's buffer is heap, and must not show up in counts.
 */
#ifndef LEAKHOUND_TESTS_CHECK_H
#define LEAKHOUND_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>

void lh_heap_suspend(void) __attribute__((weak));
void lh_heap_resume(void) __attribute__((weak));

static int n_passed, n_failed;

__attribute__((format(printf, 2, 3), unused))
static int check(int ok, const char *fmt, ...)
{
    va_list ap;
    if (lh_heap_suspend)
        lh_heap_suspend();
    fputs(ok ? "ok   " : "FAIL ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    if (lh_heap_resume)
        lh_heap_resume();
    if (ok)
        n_passed++;
    else
        n_failed++;
    return ok;
}

__attribute__((unused))
static int check_report(void)
{
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}

#endif
