/* buf.c - the growable byte buffer and array growth. */
#include "buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

size_t lh_next_cap(size_t cap, size_t need, size_t first, size_t elem)
{
    size_t max = SIZE_MAX / (elem ? elem : 1);
    if (cap > max / 2)
        return 0;
    size_t ncap = cap ? cap * 2 : (first ? first : 1);
    while (ncap < need) {
        if (ncap > max / 2)
            return 0;
        ncap *= 2;
    }
    return ncap <= max ? ncap : 0;
}

int lh_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = lh_next_cap(*cap, need, 16, elem);
    if (!ncap) {
        errno = ENOMEM;
        return -1;
    }
    void *n = lh_raw_realloc(*arr, ncap * elem);
    if (!n)
        return -1;
    *arr = n;
    *cap = ncap;
    return 0;
}

void lh_buf_free(lh_buf *b)
{
    lh_raw_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void lh_buf_reset(lh_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static void reserve(lh_buf *b, size_t extra)
{
    if (extra < b->cap && b->len < b->cap - extra)
        return;
    /* Out of memory in the harness itself: nothing sensible remains. */
    size_t need = b->len + extra + 1;
    if (extra > SIZE_MAX - b->len - 1) {
        fprintf(stderr, "leakhound: out of memory (a buffer of %zu bytes "
                "growing by %zu)\n", b->len, extra);
        abort();
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = lh_xrealloc(b->data, cap);
    b->data = p;
    b->cap = cap;
}

void lh_buf_add(lh_buf *b, const void *data, size_t len)
{
    reserve(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void lh_buf_puts(lh_buf *b, const char *s)
{
    lh_buf_add(b, s, strlen(s));
}

void lh_buf_putc(lh_buf *b, char c)
{
    lh_buf_add(b, &c, 1);
}

void lh_buf_vprintf(lh_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof small) {
        lh_buf_add(b, small, (size_t)n);
    } else {
        reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void lh_buf_printf(lh_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lh_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

const char *lh_buf_str(const lh_buf *b)
{
    return b->data ? b->data : "";
}
