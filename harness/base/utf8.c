/* utf8.c - the one UTF-8 decoder and encoder. */
#include "utf8.h"

uint32_t lh_utf8_next(const char *s, size_t n, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s + *i;
    size_t left = n - *i;
    uint32_t c = u[0];
    size_t len;
    uint32_t min;
    if (c < 0x80) {
        *i += 1;
        return c;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2; min = 0x80; c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3; min = 0x800; c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4; min = 0x10000; c &= 0x07;
    } else {
        *i += 1;
        return LH_UTF8_REPLACEMENT;
    }
    if (left < len) {
        *i += 1;
        return LH_UTF8_REPLACEMENT;
    }
    for (size_t k = 1; k < len; k++) {
        if ((u[k] & 0xC0) != 0x80) {
            *i += 1;
            return LH_UTF8_REPLACEMENT;
        }
        c = (c << 6) | (u[k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *i += 1;
        return LH_UTF8_REPLACEMENT;
    }
    *i += len;
    return c;
}

void lh_utf8_put(lh_buf *b, uint32_t c)
{
    char o[4];
    size_t len;
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        c = LH_UTF8_REPLACEMENT;
    if (c < 0x80) {
        o[0] = (char)c; len = 1;
    } else if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F)); len = 2;
    } else if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F)); len = 3;
    } else {
        o[0] = (char)(0xF0 | c >> 18);
        o[1] = (char)(0x80 | (c >> 12 & 0x3F));
        o[2] = (char)(0x80 | (c >> 6 & 0x3F));
        o[3] = (char)(0x80 | (c & 0x3F)); len = 4;
    }
    lh_buf_add(b, o, len);
}
