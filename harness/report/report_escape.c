/* report_escape.c - XML and Markdown escaping for the report renderers. */
#include "report_escape.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#define REPLACEMENT 0xFFFDu

/* Decode the UTF-8 character at s[*i], advance *i past it.  Invalid or
 * overlong sequences and surrogates decode as U+FFFD, consuming one byte,
 * so decoding always progresses. */
static uint32_t next_char(const char *s, size_t n, size_t *i)
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
        return REPLACEMENT;
    }
    if (left < len) {
        *i += 1;
        return REPLACEMENT;
    }
    for (size_t k = 1; k < len; k++) {
        if ((u[k] & 0xC0) != 0x80) {
            *i += 1;
            return REPLACEMENT;
        }
        c = (c << 6) | (u[k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *i += 1;
        return REPLACEMENT;
    }
    *i += len;
    return c;
}

static void put_utf8(lh_buf *b, uint32_t c)
{
    char o[4];
    size_t len;
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

/* XML 1.0 section 2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] |
 * [#xE000-#xFFFD] | [#x10000-#x10FFFF] (surrogates never decode). */
static int xml_allowed(uint32_t c)
{
    if (c < 0x20)
        return c == 0x9 || c == 0xA || c == 0xD;
    return c != 0xFFFE && c != 0xFFFF;
}

static void xml_escape(lh_buf *b, const char *s, size_t n, int attr)
{
    size_t i = 0;
    while (i < n) {
        uint32_t c = next_char(s, n, &i);
        if (!xml_allowed(c))
            continue;
        switch (c) {
        case '&': lh_buf_puts(b, "&amp;"); break;
        case '<': lh_buf_puts(b, "&lt;"); break;
        case '>': lh_buf_puts(b, "&gt;"); break;
        case '"': lh_buf_puts(b, attr ? "&quot;" : "\""); break;
        case '\'': lh_buf_puts(b, attr ? "&#39;" : "'"); break;
        case '\n': lh_buf_puts(b, attr ? "&#10;" : "\n"); break;
        case '\r': lh_buf_puts(b, attr ? "&#13;" : "\n"); break;
        case '\t': lh_buf_puts(b, attr ? "&#9;" : "\t"); break;
        default: put_utf8(b, c);
        }
    }
}

void lh_xml_text(lh_buf *b, const char *s, size_t n)
{
    xml_escape(b, s, n, 0);
}

void lh_xml_attr(lh_buf *b, const char *s, size_t n)
{
    xml_escape(b, s, n, 1);
}

void lh_xml_puts(lh_buf *b, const char *s)
{
    if (s)
        xml_escape(b, s, strlen(s), 0);
}

void lh_xml_attrs(lh_buf *b, const char *s)
{
    if (s)
        xml_escape(b, s, strlen(s), 1);
}

void lh_xml_printf(lh_buf *b, const char *fmt, ...)
{
    lh_buf tmp = LH_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    lh_buf_vprintf(&tmp, fmt, ap);
    va_end(ap);
    xml_escape(b, lh_buf_str(&tmp), tmp.len, 0);
    lh_buf_free(&tmp);
}

void lh_md_text(lh_buf *b, const char *s, size_t max)
{
    if (!s)
        return;
    size_t n = strlen(s);
    int cut = max && n > max;
    if (cut) {
        /* Cut on a character boundary, not inside a UTF-8 sequence. */
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    size_t i = 0;
    while (i < n) {
        uint32_t c = next_char(s, n, &i);
        if (c == '\n' || c == '\r' || c == '\t') {
            lh_buf_putc(b, ' ');
        } else if (c < 0x20 || c == 0x7F) {
            continue;
        } else if (c == '<') {
            lh_buf_puts(b, "&lt;");
        } else if (c == '>') {
            lh_buf_puts(b, "&gt;");
        } else if (c == '&') {
            lh_buf_puts(b, "&amp;");
        } else if (c < 0x80 && strchr("\\`*_[]|#~", (int)c)) {
            lh_buf_putc(b, '\\');
            lh_buf_putc(b, (char)c);
        } else {
            put_utf8(b, c);
        }
    }
    if (cut)
        lh_buf_puts(b, "\xe2\x80\xa6");
}

void lh_md_code(lh_buf *b, const char *s, int in_table)
{
    if (!s || !*s)
        return;
    /* The fence is one backtick longer than the longest run inside. */
    size_t longest = 0, run = 0;
    for (const char *p = s; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    lh_buf tick = LH_BUF_INIT;
    for (size_t k = 0; k <= longest; k++)
        lh_buf_putc(&tick, '`');
    lh_buf_puts(b, lh_buf_str(&tick));
    if (s[0] == '`')
        lh_buf_putc(b, ' ');
    size_t n = strlen(s), i = 0;
    while (i < n) {
        uint32_t c = next_char(s, n, &i);
        if (c == '\n' || c == '\r' || c == '\t')
            lh_buf_putc(b, ' ');
        else if (c < 0x20 || c == 0x7F)
            continue;
        else if (c == '|' && in_table)
            lh_buf_puts(b, "\\|");
        else
            put_utf8(b, c);
    }
    if (s[n - 1] == '`')
        lh_buf_putc(b, ' ');
    lh_buf_puts(b, lh_buf_str(&tick));
    lh_buf_free(&tick);
}
