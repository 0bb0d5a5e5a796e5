/*
 * buf.h - growable byte buffer and array growth.
 *
 * Memory comes from lh_raw_* so the harness's own bookkeeping never shows
 * up in the target's heap counters.
 */
#ifndef LEAKHOUND_BUF_H
#define LEAKHOUND_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct lh_buf {
    char *data;     /* always NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
} lh_buf;

#define LH_BUF_INIT { NULL, 0, 0 }

void lh_buf_free(lh_buf *b);
void lh_buf_reset(lh_buf *b);
void lh_buf_add(lh_buf *b, const void *data, size_t len);
void lh_buf_puts(lh_buf *b, const char *s);
void lh_buf_putc(lh_buf *b, char c);
void lh_buf_printf(lh_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void lh_buf_vprintf(lh_buf *b, const char *fmt, va_list ap);
/* Returns the contents ("" when empty). */
const char *lh_buf_str(const lh_buf *b);

/* Make room for need elements of elem bytes in *arr (capacity *cap,
 * doubled as needed; lh_raw_* memory).  0, or -1 when out of memory or
 * when the size overflows (the array is left as it was). */
int lh_grow(void **arr, size_t *cap, size_t need, size_t elem);

/* The capacity after cap when need elements of elem bytes must fit:
 * cap doubled (first when cap is 0) until it holds need.  0 when that
 * capacity, or its size in bytes, would overflow. */
size_t lh_next_cap(size_t cap, size_t need, size_t first, size_t elem);

#endif
