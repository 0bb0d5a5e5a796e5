/*
 * json.c - a recursive-descent JSON reader (RFC 8259), strict: no comments,
 * no trailing commas, no NaN.  Depth is bounded so a hostile file cannot
 * exhaust the stack.  The writer escapes what RFC 8259 requires and
 * replaces invalid UTF-8, so its output always parses.
 */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "file.h"
#include "utf8.h"

#define MAX_DEPTH 256

typedef struct parser {
    const char *p, *end, *start;
    char *err;
    size_t errlen;
    int failed;
} parser;

static void fail(parser *ps, const char *what)
{
    if (ps->failed)
        return;
    ps->failed = 1;
    int line = 1, col = 1;
    for (const char *q = ps->start; q < ps->p && q < ps->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    if (ps->err && ps->errlen)
        snprintf(ps->err, ps->errlen, "line %d, column %d: %s", line, col,
                 what);
}

static lh_json *node(lh_jtype t)
{
    lh_json *v = lh_raw_calloc(1, sizeof *v);
    if (v)
        v->type = t;
    return v;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
                               *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return 0;
    ps->p += n;
    return 1;
}

static int hex4(parser *ps, unsigned *out)
{
    if (ps->end - ps->p < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = ps->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    ps->p += 4;
    *out = v;
    return 0;
}

/* A string after its opening quote; the result is a fresh copy. */
static char *string(parser *ps, size_t *len)
{
    lh_buf b = LH_BUF_INIT;
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) {
            fail(ps, "control character in a string");
            goto bad;
        }
        if (c >= 0x80) {
            /* raw UTF-8; invalid sequences read as U+FFFD */
            size_t i = 0;
            uint32_t u = lh_utf8_next(ps->p, (size_t)(ps->end - ps->p), &i);
            if (u == LH_UTF8_REPLACEMENT)
                lh_utf8_put(&b, u);
            else
                lh_buf_add(&b, ps->p, i);
            ps->p += i;
            continue;
        }
        if (c != '\\') {
            lh_buf_putc(&b, (char)c);
            ps->p++;
            continue;
        }
        if (++ps->p >= ps->end)
            break;
        char e = *ps->p++;
        unsigned cp;
        switch (e) {
        case '"': lh_buf_putc(&b, '"'); break;
        case '\\': lh_buf_putc(&b, '\\'); break;
        case '/': lh_buf_putc(&b, '/'); break;
        case 'b': lh_buf_putc(&b, '\b'); break;
        case 'f': lh_buf_putc(&b, '\f'); break;
        case 'n': lh_buf_putc(&b, '\n'); break;
        case 'r': lh_buf_putc(&b, '\r'); break;
        case 't': lh_buf_putc(&b, '\t'); break;
        case 'u':
            if (hex4(ps, &cp) < 0) {
                fail(ps, "bad \\u escape");
                goto bad;
            }
            if (cp >= 0xd800 && cp < 0xdc00) {
                unsigned lo;
                if (ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
                    ps->p[1] == 'u') {
                    ps->p += 2;
                    if (hex4(ps, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000)
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    else
                        cp = 0xfffd;
                } else {
                    cp = 0xfffd;
                }
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                cp = 0xfffd;
            }
            lh_utf8_put(&b, cp);
            break;
        default:
            ps->p--;
            fail(ps, "bad escape in a string");
            goto bad;
        }
    }
    if (ps->p >= ps->end) {
        fail(ps, "unterminated string");
        goto bad;
    }
    ps->p++;
    *len = b.len;
    if (!b.data) {
        char *s = lh_xcalloc(1, 1);
        return s;
    }
    return b.data;  /* buf memory is lh_raw_*, owned by the node now */
bad:
    lh_buf_free(&b);
    return NULL;
}

static lh_json *value(parser *ps, int depth);

static lh_json *number(parser *ps)
{
    const char *s = ps->p;
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
        fail(ps, "expected a value");
        return NULL;
    }
    if (*ps->p == '0')
        ps->p++;
    else
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
            fail(ps, "expected a digit after '.'");
            return NULL;
        }
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
            fail(ps, "expected a digit in the exponent");
            return NULL;
        }
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    char tmp[64];
    size_t n = (size_t)(ps->p - s);
    if (n >= sizeof tmp) {
        fail(ps, "number too long");
        return NULL;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    lh_json *v = node(LH_JNUM);
    if (v)
        v->num = strtod(tmp, NULL);
    return v;
}

/* Elements of an array or members of an object, after the opener. */
static lh_json *container(parser *ps, int depth, int is_obj)
{
    lh_json *v = node(is_obj ? LH_JOBJ : LH_JARR);
    if (!v)
        return NULL;
    lh_json **tail = &v->child;
    char close = is_obj ? '}' : ']';
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (is_obj) {
            size_t klen;
            if (ps->p >= ps->end || *ps->p != '"') {
                fail(ps, "expected a member name in quotes");
                break;
            }
            ps->p++;
            if (!(key = string(ps, &klen)))
                break;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                lh_raw_free(key);
                fail(ps, "expected ':' after a member name");
                break;
            }
            ps->p++;
        }
        lh_json *e = value(ps, depth + 1);
        if (!e) {
            lh_raw_free(key);
            break;
        }
        e->key = key;
        *tail = e;
        tail = &e->next;
        v->len++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return v;
        }
        fail(ps, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    lh_json_free(v);
    return NULL;
}

static lh_json *value(parser *ps, int depth)
{
    if (depth > MAX_DEPTH) {
        fail(ps, "nested too deeply");
        return NULL;
    }
    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end of input");
        return NULL;
    }
    lh_json *v;
    switch (*ps->p) {
    case '{':
        ps->p++;
        return container(ps, depth, 1);
    case '[':
        ps->p++;
        return container(ps, depth, 0);
    case '"': {
        ps->p++;
        size_t len;
        char *s = string(ps, &len);
        if (!s)
            return NULL;
        if (!(v = node(LH_JSTR))) {
            lh_raw_free(s);
            return NULL;
        }
        v->str = s;
        v->len = len;
        return v;
    }
    case 't':
    case 'f':
        if (literal(ps, "true") || literal(ps, "false")) {
            if ((v = node(LH_JBOOL)))
                v->num = ps->p[-1] == 'e' && ps->p[-2] == 'u';
            return v;
        }
        break;
    case 'n':
        if (literal(ps, "null"))
            return node(LH_JNULL);
        break;
    default:
        return number(ps);
    }
    fail(ps, "expected a value");
    return NULL;
}

lh_json *lh_json_parse(const char *text, size_t len, char *err,
                       size_t errlen)
{
    parser ps = { text, text + len, text, err, errlen, 0 };
    lh_json *v = value(&ps, 0);
    if (v) {
        skip_ws(&ps);
        if (ps.p != ps.end) {
            fail(&ps, "text after the value");
            lh_json_free(v);
            v = NULL;
        }
    } else if (!ps.failed) {
        fail(&ps, "out of memory");
    }
    return v;
}

lh_json *lh_json_load(const char *path, char *err, size_t errlen)
{
    lh_buf text = LH_BUF_INIT;
    if (lh_read_file(path, &text) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        lh_buf_free(&text);
        return NULL;
    }
    char why[256] = "";
    lh_json *v = lh_json_parse(lh_buf_str(&text), text.len, why, sizeof why);
    lh_buf_free(&text);
    if (!v) {
        /* "line L, column C: what" -> "PATH:L:C: what" */
        int line = 0, col = 0, off = 0;
        if (sscanf(why, "line %d, column %d: %n", &line, &col, &off) == 2 &&
            off > 0)
            snprintf(err, errlen, "%s:%d:%d: %s", path, line, col,
                     why + off);
        else
            snprintf(err, errlen, "%s: %s", path, why);
    }
    return v;
}

void lh_json_free(lh_json *v)
{
    while (v) {
        lh_json *next = v->next;
        lh_json_free(v->child);
        lh_raw_free(v->str);
        lh_raw_free(v->key);
        lh_raw_free(v);
        v = next;
    }
}

const lh_json *lh_json_get(const lh_json *v, const char *key)
{
    if (!v || v->type != LH_JOBJ)
        return NULL;
    for (const lh_json *e = v->child; e; e = e->next)
        if (e->key && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

const lh_json *lh_json_at(const lh_json *v, size_t i)
{
    if (!v || v->type != LH_JARR)
        return NULL;
    const lh_json *e = v->child;
    while (e && i--)
        e = e->next;
    return e;
}

const char *lh_json_gets(const lh_json *v, const char *key,
                         const char *dflt)
{
    const lh_json *e = lh_json_get(v, key);
    return e && e->type == LH_JSTR ? e->str : dflt;
}

double lh_json_getn(const lh_json *v, const char *key, double dflt)
{
    const lh_json *e = lh_json_get(v, key);
    return e && e->type == LH_JNUM ? e->num : dflt;
}

int lh_json_getb(const lh_json *v, const char *key, int dflt)
{
    const lh_json *e = lh_json_get(v, key);
    return e && e->type == LH_JBOOL ? (int)e->num : dflt;
}

const lh_json *lh_json_first(const lh_json *v)
{
    return v && (v->type == LH_JARR || v->type == LH_JOBJ) ? v->child
                                                            : NULL;
}

lh_json *lh_json_member(lh_json *v, const char *key)
{
    return (lh_json *)lh_json_get(v, key);
}

void lh_json_set(lh_json *obj, const char *key, lh_json *val)
{
    if (!obj || obj->type != LH_JOBJ || !val)
        return;
    lh_raw_free(val->key);
    val->key = lh_xstrdup(key);
    for (lh_json **p = &obj->child; *p; p = &(*p)->next)
        if ((*p)->key && strcmp((*p)->key, key) == 0) {
            lh_json *old = *p;
            val->next = old->next;
            *p = val;
            old->next = NULL;
            lh_json_free(old);
            return;
        }
    lh_json_append(obj, val);
}

void lh_json_append(lh_json *arr, lh_json *val)
{
    if (!arr || (arr->type != LH_JARR && arr->type != LH_JOBJ) || !val)
        return;
    lh_json **p = &arr->child;
    while (*p)
        p = &(*p)->next;
    val->next = NULL;
    *p = val;
    arr->len++;
}

lh_json *lh_json_from(const lh_buf *text)
{
    char err[256];
    lh_json *v = lh_json_parse(lh_buf_str(text), text->len, err, sizeof err);
    if (!v) {
        fprintf(stderr, "leakhound: internal error: bad JSON built (%s): "
                "%.200s\n", err, lh_buf_str(text));
        v = node(LH_JNULL);
    }
    return v;
}

void lh_json_write(lh_buf *b, const lh_json *v)
{
    switch (v->type) {
    case LH_JNULL:
        lh_buf_puts(b, "null");
        break;
    case LH_JBOOL:
        lh_buf_puts(b, v->num ? "true" : "false");
        break;
    case LH_JNUM:
        lh_json_num(b, v->num);
        break;
    case LH_JSTR:
        lh_json_strn(b, v->str, v->len);
        break;
    case LH_JARR:
    case LH_JOBJ:
        lh_buf_putc(b, v->type == LH_JARR ? '[' : '{');
        for (const lh_json *e = v->child; e; e = e->next) {
            if (e != v->child)
                lh_buf_putc(b, ',');
            if (v->type == LH_JOBJ) {
                lh_json_key(b, e->key ? e->key : "");
            }
            lh_json_write(b, e);
        }
        lh_buf_putc(b, v->type == LH_JARR ? ']' : '}');
        break;
    }
}

/* ---- writing ------------------------------------------------------ */

void lh_json_strn(lh_buf *b, const char *s, size_t n)
{
    lh_buf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t at = i;
            if (lh_utf8_next(s, n, &i) == LH_UTF8_REPLACEMENT)
                lh_utf8_put(b, LH_UTF8_REPLACEMENT);
            else
                lh_buf_add(b, s + at, i - at);
            continue;
        }
        i++;
        switch (c) {
        case '"': lh_buf_puts(b, "\\\""); break;
        case '\\': lh_buf_puts(b, "\\\\"); break;
        case '\n': lh_buf_puts(b, "\\n"); break;
        case '\r': lh_buf_puts(b, "\\r"); break;
        case '\t': lh_buf_puts(b, "\\t"); break;
        default:
            if (c < 0x20 || c == 0x7f)
                lh_buf_printf(b, "\\u%04x", c);
            else
                lh_buf_putc(b, (char)c);
        }
    }
    lh_buf_putc(b, '"');
}

void lh_json_str(lh_buf *b, const char *s)
{
    if (!s)
        lh_buf_puts(b, "null");
    else
        lh_json_strn(b, s, strlen(s));
}

void lh_json_num(lh_buf *b, double v)
{
    if (!isfinite(v))
        lh_buf_puts(b, "null");
    else if (v == (double)(long long)v && fabs(v) < 9e15)
        lh_buf_printf(b, "%lld", (long long)v);
    else
        lh_buf_printf(b, "%.9g", v);
}

void lh_json_key(lh_buf *b, const char *key)
{
    lh_json_str(b, key);
    lh_buf_putc(b, ':');
}

void lh_json_field_str(lh_buf *b, const char *key, const char *s)
{
    lh_buf_putc(b, ',');
    lh_json_key(b, key);
    lh_json_str(b, s);
}

void lh_json_field_num(lh_buf *b, const char *key, double v)
{
    lh_buf_putc(b, ',');
    lh_json_key(b, key);
    lh_json_num(b, v);
}
