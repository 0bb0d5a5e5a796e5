/*
 * selftarget.c - leakhound's own detector, JSON reader and report
 * renderers as a leakhound target (tests/scripts/self.lua).
 *
 * The library carries its own copies of base/, detect/ and report/
 * (--exclude-libs keeps them private, so they never bind to the
 * executable's).  Their uncounted allocator reaches glibc through
 * __libc_*: the link wraps those (--wrap) to the public malloc family,
 * so everything these copies allocate is the target's, and counted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "detector.h"
#include "json.h"
#include "report_render.h"

#define SELF_EXPORT __attribute__((visibility("default")))

void *__wrap___libc_malloc(size_t size);
void *__wrap___libc_calloc(size_t n, size_t size);
void *__wrap___libc_realloc(void *p, size_t size);
void __wrap___libc_free(void *p);

void *__wrap___libc_malloc(size_t size)
{
    return malloc(size);
}

void *__wrap___libc_calloc(size_t n, size_t size)
{
    return calloc(n, size);
}

void *__wrap___libc_realloc(void *p, size_t size)
{
    return realloc(p, size);
}

void __wrap___libc_free(void *p)
{
    free(p);
}

/* Parses the input and, for the error paths, its first half. */
static int parse_both(const uint8_t *data, size_t size, int leaky)
{
    char err[128];
    int ok = 0;
    for (int half = 0; half < 2; half++) {
        size_t n = half ? size / 2 : size;
        lh_json *v = lh_json_parse((const char *)data, n, err, sizeof err);
        ok += v != NULL;
        if (!leaky)
            lh_json_free(v);
    }
    return ok;
}

/* The JSON reader on a report (whole, then cut short). */
SELF_EXPORT int self_json(const uint8_t *data, size_t size)
{
    return parse_both(data, size, 0);
}

/* The same, never freeing the trees: the control that shows the reader's
 * blocks are counted. */
SELF_EXPORT int self_json_leaky(const uint8_t *data, size_t size)
{
    return parse_both(data, size, 1);
}

/* The detector, every kind of invariant, on a series made of the input's
 * bytes (a running sum: some inputs trend, some do not). */
SELF_EXPORT int self_detect(const uint8_t *data, size_t size)
{
    enum { N = 64 };
    double x[N], y[N], sum = 0;
    size_t n = size < N ? size : N;
    for (size_t i = 0; i < n; i++) {
        sum += (double)data[i] - 96;
        x[i] = (double)i * 100;
        y[i] = sum;
    }
    static const lh_inv_spec specs[] = {
        { .kind = LH_INV_STABLE },
        { .kind = LH_INV_STABLE, .slack = 5, .slack_is_pct = 1 },
        { .kind = LH_INV_BASELINE, .slack = 10 },
        { .kind = LH_INV_BOUNDED, .max = 1000 },
        { .kind = LH_INV_MAX_GROWTH, .per_iter = 0.5 },
    };
    int fails = 0;
    for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
        lh_verdict v;
        if (lh_detect(&specs[k], x, y, n, sum, &v) == 0)
            fails += v.fail;
    }
    return fails;
}

/* The renderers (JUnit, Markdown, HTML with its plots) on a report. */
SELF_EXPORT int self_render(const uint8_t *data, size_t size)
{
    char err[128];
    lh_json *r = lh_json_parse((const char *)data, size, err, sizeof err);
    if (!r)
        return 0;
    lh_buf out = LH_BUF_INIT;
    lh_report_junit(r, &out);
    lh_report_markdown(r, &out, 64 * 1024);
    lh_report_html(r, &out);
    size_t len = out.len;
    lh_buf_free(&out);
    lh_json_free(r);
    return len > 0;
}
