/* report_escape.c - XML and Markdown escaping for the report renderers. */
#include "report_escape.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "utf8.h"

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
        uint32_t c = lh_utf8_next(s, n, &i);
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
        default: lh_utf8_put(b, c);
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

/* Inline text; whitespace other than ' ' becomes a space, or (names) a
 * character reference, which renders as that very character. */
static void md_inline(lh_buf *b, const char *s, size_t max, int refs)
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
        uint32_t c = lh_utf8_next(s, n, &i);
        if (c == '\n' || c == '\r' || c == '\t') {
            if (refs)
                lh_buf_printf(b, "&#%u;", (unsigned)c);
            else
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
            lh_utf8_put(b, c);
        }
    }
    if (cut)
        lh_buf_puts(b, "\xe2\x80\xa6");
}

void lh_md_text(lh_buf *b, const char *s, size_t max)
{
    md_inline(b, s, max, 0);
}

void lh_md_name(lh_buf *b, const char *s, size_t max)
{
    md_inline(b, s, max, 1);
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
        uint32_t c = lh_utf8_next(s, n, &i);
        if (c == '\n' || c == '\r' || c == '\t')
            lh_buf_putc(b, ' ');
        else if (c < 0x20 || c == 0x7F)
            continue;
        else if (c == '|' && in_table)
            lh_buf_puts(b, "\\|");
        else
            lh_utf8_put(b, c);
    }
    if (s[n - 1] == '`')
        lh_buf_putc(b, ' ');
    lh_buf_puts(b, lh_buf_str(&tick));
    lh_buf_free(&tick);
}
