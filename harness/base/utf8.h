/*
 * utf8.h - decoding and encoding UTF-8, for every writer of text that
 * leaves the process (JSON, XML, Markdown).
 *
 * Strings from targets and workers (output tails, error messages, symbol
 * names) may hold any bytes.  One decoder decides what is a character, so
 * the JSON and the XML of one report agree on where U+FFFD went.
 */
#ifndef LEAKHOUND_UTF8_H
#define LEAKHOUND_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define LH_UTF8_REPLACEMENT 0xFFFDu

/* The character at s[*i] (s holds n bytes), advancing *i past it.  A byte
 * that does not start a valid sequence (stray continuation, overlong,
 * surrogate, above U+10FFFF, cut short) decodes as U+FFFD and consumes
 * that one byte, so decoding always progresses. */
uint32_t lh_utf8_next(const char *s, size_t n, size_t *i);

/* Append code point c as UTF-8. */
void lh_utf8_put(lh_buf *b, uint32_t c);

#endif
