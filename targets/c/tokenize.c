/*
 * tokenize.c - a small tokenizer with a scratch arena that only grows.
 *
 * tokenize_clean splits the input into tokens (words, numbers, quoted
 * strings, one-byte punctuation) and records each one (kind, offset,
 * length) in a scratch arena kept from call to call: grown by realloc to
 * what the largest request so far needed (in 64-byte steps), then reused.
 * Under a fuzzer, whose inputs lengthen as it goes, heap.live_bytes rises
 * at every new largest request and never again for that input nor for a
 * shorter one: a high-water mark, bounded by the longest input, not a
 * leak.  No other allocation per call.
 *
 * tokenize_leaky is the same tokenizer with a bug at the same site: a
 * string literal still open at the end of the input is reported in a
 * diagnostic that takes the arena along (its tokens point into it), and
 * the diagnostics are kept forever, so the next call grows a fresh arena
 * at the same realloc.  Every such input leaks one arena of its own size
 * (+ a 24-byte diagnostic): the heap grows past the high-water mark, in
 * the same size classes, from the same allocation site.
 */
#include <stdlib.h>
#include <string.h>

#include "lh_target.h"

enum { T_WORD = 1, T_NUMBER, T_STRING, T_PUNCT };

struct token {
    unsigned kind, off, len;
};

struct arena {
    struct token *tok;
    size_t cap;                 /* bytes */
};

struct diag {
    struct diag *next;
    struct token *tokens;       /* the arena, taken over */
    size_t ntokens;
};

static struct arena scratch;
static struct diag *diags;      /* tokenize_leaky's, never freed */
static unsigned long checksum;  /* read back, so the work is kept */

/* Room for n tokens: the arena grows to the largest request seen. */
static struct token *arena_reserve(struct arena *a, size_t n)
{
    size_t need = (n * sizeof(struct token) + 63) & ~(size_t)63;
    if (need > a->cap) {
        struct token *t = realloc(a->tok, need);
        if (t == NULL)
            return NULL;
        a->tok = t;
        a->cap = need;
    }
    return a->tok;
}

static int is_alpha(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Tokens of data into t (room for size tokens); *open is set when a
 * string literal runs to the end of the input. */
static size_t scan(const uint8_t *data, size_t size, struct token *t,
                   int *open)
{
    size_t n = 0, i = 0;
    *open = 0;
    while (i < size) {
        uint8_t c = data[i];
        size_t start = i;
        unsigned kind;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        if (is_alpha(c)) {
            while (i < size && (is_alpha(data[i]) || is_digit(data[i])))
                i++;
            kind = T_WORD;
        } else if (is_digit(c)) {
            while (i < size && (is_digit(data[i]) || data[i] == '.'))
                i++;
            kind = T_NUMBER;
        } else if (c == '"') {
            i++;
            while (i < size && data[i] != '"')
                i += data[i] == '\\' ? 2 : 1;
            if (i >= size) {
                *open = 1;
                i = size;
            } else {
                i++;
            }
            kind = T_STRING;
        } else {
            i++;
            kind = T_PUNCT;
        }
        t[n].kind = kind;
        t[n].off = (unsigned)start;
        t[n].len = (unsigned)(i - start);
        n++;
    }
    return n;
}

static int tokenize(const uint8_t *data, size_t size, int leaky)
{
    if (size == 0)
        return 0;
    struct token *t = arena_reserve(&scratch, size);
    if (t == NULL)
        return 0;
    int open;
    size_t n = scan(data, size, t, &open);
    for (size_t i = 0; i < n; i++)
        checksum = checksum * 31 + t[i].kind * 7 + t[i].len;
    lh_escape(t);
    lh_escape(&checksum);
    if (open && leaky) {
        /* The bug: the diagnostic keeps pointing into the arena, so the
         * arena goes with it, and nobody frees diagnostics. */
        struct diag *d = malloc(sizeof *d);
        if (d == NULL)
            return 0;
        d->tokens = scratch.tok;
        d->ntokens = n;
        d->next = diags;
        diags = d;
        scratch.tok = NULL;
        scratch.cap = 0;
    }
    return 0;
}

/* Clean: the arena is a high-water mark. */
LH_EXPORT int tokenize_clean(const uint8_t *data, size_t size)
{
    return tokenize(data, size, 0);
}

/* Leaks one arena per input with an unterminated string literal. */
LH_EXPORT int tokenize_leaky(const uint8_t *data, size_t size)
{
    return tokenize(data, size, 1);
}

/* Gauges: the arena's size and the diagnostics kept. */
LH_EXPORT int64_t leakhound_gauge_tokenize_arena_bytes(void)
{
    return (int64_t)scratch.cap;
}

LH_EXPORT int64_t leakhound_gauge_tokenize_diags(void)
{
    size_t k = 0;
    for (const struct diag *d = diags; d; d = d->next)
        k++;
    return (int64_t)k;
}
