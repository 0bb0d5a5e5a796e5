/*
 * test_json.c - the JSON reader on valid documents, escapes, and the
 * errors a hand-edited baseline or case file would contain; the writer on
 * control characters and invalid UTF-8 (which must come out as JSON that
 * strict parsers load).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "json.h"

static lh_json *parse(const char *s, char *err, size_t n)
{
    return lh_json_parse(s, strlen(s), err, n);
}

static void test_values(void)
{
    char err[256] = "";
    lh_json *v = parse(" {\"a\": [1, -2.5e3, true, false, null],"
                       " \"s\": \"x\\ny\\u00e9\\ud83d\\ude00\\\"\","
                       " \"o\": {\"k\": {}} , \"e\": []} ", err, sizeof err);
    check(v != NULL, "a nested document parses (%s)", err);
    if (!v)
        return;
    const lh_json *a = lh_json_get(v, "a");
    check(a && a->type == LH_JARR && a->len == 5, "array of five");
    check(lh_json_at(a, 0)->num == 1 && lh_json_at(a, 1)->num == -2500,
          "numbers, exponent and sign");
    check(lh_json_at(a, 2)->type == LH_JBOOL && lh_json_at(a, 2)->num == 1 &&
          lh_json_at(a, 3)->num == 0, "true and false");
    check(lh_json_at(a, 4)->type == LH_JNULL && !lh_json_at(a, 5),
          "null, and no sixth element");
    check(strcmp(lh_json_gets(v, "s", ""),
                 "x\ny\xc3\xa9\xf0\x9f\x98\x80\"") == 0,
          "escapes, \\u and surrogate pairs decode to UTF-8");
    check(lh_json_get(lh_json_get(v, "o"), "k")->type == LH_JOBJ,
          "empty object member");
    check(lh_json_get(v, "e")->len == 0 && !lh_json_first(lh_json_get(v, "e")),
          "empty array");
    check(lh_json_getn(v, "missing", 7) == 7 &&
          strcmp(lh_json_gets(v, "a", "dflt"), "dflt") == 0,
          "defaults for absent members and other types");
    int n = 0;
    for (const lh_json *e = lh_json_first(v); e; e = e->next)
        n++;
    check(n == 4 && strcmp(lh_json_first(v)->key, "a") == 0,
          "members iterate in order with their keys");
    lh_json_free(v);
}

static void test_errors(void)
{
    static const struct { const char *text, *want; } bad[] = {
        { "{\"a\": 1,}", "line 1, column 9: expected a member name" },
        { "[1, 2", "line 1, column 6: expected ',' or ']'" },
        { "{\n  \"a\" 1\n}", "line 2, column 7: expected ':'" },
        { "\"abc", "unterminated string" },
        { "[01]", "expected ',' or ']'" },
        { "nul", "expected a value" },
        { "{} x", "text after the value" },
        { "\"a\\qb\"", "bad escape" },
        { "", "unexpected end of input" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        lh_json *v = parse(bad[i].text, err, sizeof err);
        check(!v && strstr(err, bad[i].want) != NULL,
              "rejects %s: \"%s\"", bad[i].text, err);
        lh_json_free(v);
    }
    char deep[2000];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    char err[256] = "";
    lh_json *v = parse(deep, err, sizeof err);
    check(!v && strstr(err, "nested too deeply"), "depth is bounded");
}

static void test_load(void)
{
    char path[] = "/tmp/lh-test-json-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "{\n  \"workload\": \"w\",\n  \"n\": 3\n  \"x\": 1\n}\n";
    if (write(fd, text, strlen(text)) < 0)
        perror("write");
    close(fd);
    char err[512] = "";
    lh_json *v = lh_json_load(path, err, sizeof err);
    char want[600];
    snprintf(want, sizeof want, "%s:4:3: expected ',' or '}'", path);
    check(!v && strcmp(err, want) == 0, "load names file:line:col (%s)",
          err);
    unlink(path);
    v = lh_json_load(path, err, sizeof err);
    check(!v && strstr(err, "No such file") && strstr(err, path),
          "a missing file names the path (%s)", err);
}

static void test_edit(void)
{
    char err[256] = "";
    lh_json *v = parse("{\"a\":1,\"b\":[true,null],\"c\":\"x\\u0000y\"}",
                       err, sizeof err);
    lh_buf frag = LH_BUF_INIT;
    lh_buf_puts(&frag, "{\"ok\":false}");
    lh_json_set(v, "a", lh_json_from(&frag));
    lh_buf_reset(&frag);
    lh_buf_puts(&frag, "2.5");
    lh_json_set(v, "d", lh_json_from(&frag));
    lh_buf_reset(&frag);
    lh_buf_puts(&frag, "\"e\"");
    lh_json_append(lh_json_member(v, "b"), lh_json_from(&frag));
    lh_buf out = LH_BUF_INIT;
    lh_json_write(&out, v);
    check(strcmp(lh_buf_str(&out), "{\"a\":{\"ok\":false},\"b\":[true,null,"
                 "\"e\"],\"c\":\"x\\u0000y\",\"d\":2.5}") == 0,
          "set replaces in place, appends new members; write round-trips "
          "(%s)", lh_buf_str(&out));
    check(lh_json_get(v, "b")->len == 3, "append counts");
    lh_buf_free(&frag);
    lh_buf_free(&out);
    lh_json_free(v);
}

/* s written as a JSON string, without its quotes. */
static const char *written(lh_buf *b, const char *s, size_t n)
{
    lh_buf_reset(b);
    lh_json_strn(b, s, n);
    if (b->len >= 2) {
        b->data[b->len - 1] = '\0';
        return b->data + 1;
    }
    return "";
}

#define W(lit) written(&b, lit, sizeof lit - 1)
#define FFFD "\xef\xbf\xbd"

static void test_writer(void)
{
    lh_buf b = LH_BUF_INIT;
    check(strcmp(W("\"\\\t\n\r\b\f\x01\x1f\x7f"),
                 "\\\"\\\\\\t\\n\\r\\u0008\\u000c\\u0001\\u001f\\u007f") == 0,
          "quote, backslash and control characters escaped (%s)",
          lh_buf_str(&b));
    check(strcmp(W("a\0b"), "a\\u0000b") == 0, "NUL escaped");
    check(strcmp(W("caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac"),
                 "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac") == 0,
          "valid UTF-8 kept as it is");
    check(strcmp(W("caf\xc3"), "caf" FFFD) == 0,
          "a sequence cut short at the end becomes U+FFFD (%s)",
          lh_buf_str(&b));
    check(strcmp(W("\xe2\x82x"), FFFD FFFD "x") == 0,
          "a truncated sequence: U+FFFD per byte, the next character kept");
    check(strcmp(W("\x80\xbf"), FFFD FFFD) == 0,
          "stray continuation bytes");
    check(strcmp(W("\xc0\xaf\xe0\x80\xaf"), FFFD FFFD FFFD FFFD FFFD) == 0,
          "overlong encodings (of '/')");
    check(strcmp(W("\xed\xa0\x80\xed\xbf\xbf"),
                 FFFD FFFD FFFD FFFD FFFD FFFD) == 0,
          "UTF-8-encoded surrogates");
    check(strcmp(W("\xf4\x90\x80\x80\xff\xfe"),
                 FFFD FFFD FFFD FFFD FFFD FFFD) == 0,
          "above U+10FFFF, and bytes that never start a sequence");
    lh_buf_reset(&b);
    lh_json_str(&b, NULL);
    check(strcmp(lh_buf_str(&b), "null") == 0, "NULL is null");

    /* Every byte value, written and read back: the text parses, and what
     * comes back is the input with U+FFFD for each byte >= 0x80 that is
     * not part of a character. */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    lh_buf_reset(&b);
    lh_json_strn(&b, all, sizeof all);
    char err[256] = "";
    lh_json *v = lh_json_parse(lh_buf_str(&b), b.len, err, sizeof err);
    check(v && v->type == LH_JSTR && v->len == 128 + 128 * 3 &&
          memcmp(v->str, all, 128) == 0 &&
          memcmp(v->str + 128, FFFD FFFD, 6) == 0,
          "all 256 byte values: written text parses back (%s)", err);
    lh_json_free(v);

    /* A name with a tab and a newline survives a round trip exactly. */
    static const char name[] = "multi\tline\nname \"q\" \\";
    lh_buf_reset(&b);
    lh_buf_puts(&b, "{");
    lh_json_key(&b, "name");
    lh_json_str(&b, name);
    lh_buf_puts(&b, "}");
    check(strchr(lh_buf_str(&b), '\n') == NULL && strchr(lh_buf_str(&b),
          '\t') == NULL, "the written object is one line");
    v = lh_json_parse(lh_buf_str(&b), b.len, err, sizeof err);
    check(v && strcmp(lh_json_gets(v, "name", ""), name) == 0,
          "tab, newline, quote and backslash round-trip");
    lh_json_free(v);
    lh_buf_free(&b);
}

/* The reader never hands out invalid UTF-8 either. */
static void test_reader_utf8(void)
{
    char err[256] = "";
    static const char text[] = "[\"caf\xc3\", \"\xed\xa0\x80\", "
                               "\"\xc3\xa9\\ud800\"]";
    lh_json *v = lh_json_parse(text, sizeof text - 1, err, sizeof err);
    check(v != NULL, "raw invalid UTF-8 in a string parses (%s)", err);
    if (!v)
        return;
    check(strcmp(lh_json_at(v, 0)->str, "caf" FFFD) == 0 &&
          strcmp(lh_json_at(v, 1)->str, FFFD FFFD FFFD) == 0 &&
          strcmp(lh_json_at(v, 2)->str, "\xc3\xa9" FFFD) == 0,
          "invalid sequences and lone surrogate escapes read as U+FFFD");
    lh_json_free(v);
}

int main(void)
{
    test_edit();
    test_writer();
    test_reader_utf8();
    test_values();
    test_errors();
    test_load();
    return check_report();
}
