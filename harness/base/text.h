/*
 * text.h - small conversions the commands share: durations given on the
 * command line, workload names made safe as file names, shell words and
 * target names.
 */
#ifndef LEAKHOUND_TEXT_H
#define LEAKHOUND_TEXT_H

#include <stddef.h>

#include "buf.h"

/* "90", "90s", "500ms", "2m", "1h" -> seconds.  0, or -1 when malformed
 * or negative. */
int lh_parse_duration(const char *s, double *out);

/* A workload name as one path component: '/', '\\', ' ' and a leading
 * '.' become '_'.  When that (or truncation to len) changed the name, '-'
 * and 8 hex digits of the SHA-1 of the whole name follow, so two names
 * never share a file; never "", "." or "..".  len must be at least 16. */
void lh_safe_name(char *out, size_t len, const char *name);

/* Is s one of the words of list (NULL-terminated)?  For options that
 * take a value. */
int lh_word_in(const char *s, const char *const *list);

/* s as one shell word: as is when it is plain, else single-quoted. */
void lh_shell_quote(lh_buf *b, const char *s);

/* The name of a target library as used for corpora/<name>/:
 * "build/targets/c/librecord.so" -> "record". */
/* The directory part of PATH into OUT: "." when PATH has no slash, "/"
 * for a file at the root. */
void lh_path_dir(char *out, size_t len, const char *path);

void lh_target_name(char *out, size_t len, const char *path);

#endif
