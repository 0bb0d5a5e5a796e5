/*
 * json.h - the one JSON reader and writer: report.json and the files
 * leakhound reads back (regression cases, baselines, leak artifacts), and
 * the worker's messages to the supervisor.
 *
 * A parsed document is a tree of lh_json nodes; every node, string and key
 * belongs to the document and goes away with lh_json_free on the root.
 *
 * Both directions are UTF-8 safe: strings may hold any bytes (a target's
 * output, a workload's name), and whatever is not valid UTF-8 becomes
 * U+FFFD, so the text written is always valid JSON that strict parsers
 * load, and a parsed string is always valid UTF-8.
 */
#ifndef LEAKHOUND_JSON_H
#define LEAKHOUND_JSON_H

#include <stddef.h>

#include "buf.h"

typedef enum lh_jtype {
    LH_JNULL,
    LH_JBOOL,
    LH_JNUM,
    LH_JSTR,
    LH_JARR,
    LH_JOBJ,
} lh_jtype;

typedef struct lh_json lh_json;
struct lh_json {
    lh_jtype type;
    double num;         /* LH_JNUM; LH_JBOOL: 0 or 1 */
    char *str;          /* LH_JSTR: unescaped, NUL-terminated (may hold
                           NULs: see len) */
    size_t len;         /* LH_JSTR: bytes; LH_JARR, LH_JOBJ: children */
    char *key;          /* the member's name when the parent is an object */
    lh_json *child;     /* first element or member */
    lh_json *next;      /* next sibling */
};

/* Parse text.  On error returns NULL and writes "line L, column C: what"
 * into err. */
lh_json *lh_json_parse(const char *text, size_t len, char *err,
                       size_t errlen);

/* Read and parse a file.  On error returns NULL and writes
 * "PATH:L:C: what" (or "PATH: strerror") into err. */
lh_json *lh_json_load(const char *path, char *err, size_t errlen);

void lh_json_free(lh_json *v);

/* The member key of an object, or NULL (also when v is not an object). */
const lh_json *lh_json_get(const lh_json *v, const char *key);

/* Element i of an array, or NULL. */
const lh_json *lh_json_at(const lh_json *v, size_t i);

/* Member key as a string / number / bool, or dflt when it is absent or of
 * another type. */
const char *lh_json_gets(const lh_json *v, const char *key,
                         const char *dflt);
double lh_json_getn(const lh_json *v, const char *key, double dflt);
int lh_json_getb(const lh_json *v, const char *key, int dflt);

/* The same, for changing a document in place. */
lh_json *lh_json_member(lh_json *v, const char *key);

/* Set member key of object obj to val, which obj then owns; an existing
 * member of that name is freed and replaced in place. */
void lh_json_set(lh_json *obj, const char *key, lh_json *val);

/* Append val to array arr, which then owns it. */
void lh_json_append(lh_json *arr, lh_json *val);

/* JSON values appended to a buffer.  Strings: quote, backslash and control
 * characters escaped, invalid UTF-8 replaced by U+FFFD; NULL is null. */
void lh_json_str(lh_buf *b, const char *s);
void lh_json_strn(lh_buf *b, const char *s, size_t n);
void lh_json_num(lh_buf *b, double v);     /* NaN and inf become null */
void lh_json_key(lh_buf *b, const char *key); /* "key": */
/* ,"key":value -- a field after the first of an object. */
void lh_json_field_str(lh_buf *b, const char *key, const char *s);
void lh_json_field_num(lh_buf *b, const char *key, double v);

/* Parse a fragment the program built itself (a bug if it fails). */
lh_json *lh_json_from(const lh_buf *text);

/* The document as compact JSON text, appended to b. */
void lh_json_write(lh_buf *b, const lh_json *v);

/* Iterate the elements or members of v:
 *   for (const lh_json *e = lh_json_first(v); e; e = e->next) ... */
const lh_json *lh_json_first(const lh_json *v);

#endif
