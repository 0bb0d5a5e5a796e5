/*
 * report_escape.h - text from a report made safe for the formats the
 * renderers write: XML 1.0 (JUnit, and the HTML page, which follows the
 * same rules) and GitHub-flavoured Markdown.
 *
 * Report strings come from targets and workers (output tails, Lua error
 * messages, symbol names) and may hold anything: control characters,
 * invalid UTF-8, NULs.  Invalid UTF-8 becomes U+FFFD; characters XML 1.0
 * forbids are dropped, so an ANSI colour code in an output tail cannot
 * make a CI server reject the whole JUnit file.
 */
#ifndef LEAKHOUND_REPORT_ESCAPE_H
#define LEAKHOUND_REPORT_ESCAPE_H

#include <stddef.h>

#include "buf.h"

/* Character data: & < > escaped, newlines and tabs kept. */
void lh_xml_text(lh_buf *b, const char *s, size_t n);
/* An attribute value (between double quotes): also " and ', and newlines
 * and tabs as character references so they survive normalization. */
void lh_xml_attr(lh_buf *b, const char *s, size_t n);
/* NUL-terminated shorthands; NULL is "". */
void lh_xml_puts(lh_buf *b, const char *s);
void lh_xml_attrs(lh_buf *b, const char *s);
/* printf into character data (the formatted text is escaped). */
void lh_xml_printf(lh_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Markdown inline text, one line (a table cell): newlines become spaces,
 * characters Markdown or GitHub's HTML pass would interpret are escaped,
 * at most max bytes of s are used (then "…"; 0: no limit). */
void lh_md_text(lh_buf *b, const char *s, size_t max);
/* A name (workload, case) as inline text: as lh_md_text, but a tab,
 * newline or carriage return stays that character, written as a
 * character reference (&#9;), so the rendered name is the exact one. */
void lh_md_name(lh_buf *b, const char *s, size_t max);
/* An inline code span holding s on one line.  In a table cell (in_table)
 * pipes are escaped, as GFM requires even inside code spans; elsewhere
 * the backslash would show. */
void lh_md_code(lh_buf *b, const char *s, int in_table);

#endif
