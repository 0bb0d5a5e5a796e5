/*
 * text.h - small conversions the commands share: durations given on the
 * command line, and workload names made safe as file names.
 */
#ifndef LEAKHOUND_TEXT_H
#define LEAKHOUND_TEXT_H

#include <stddef.h>

/* "90", "90s", "500ms", "2m", "1h" -> seconds.  0, or -1 when malformed
 * or negative. */
int lh_parse_duration(const char *s, double *out);

/* A workload name as one path component: '/', '\\' and ' ' become '_'. */
void lh_safe_name(char *out, size_t len, const char *name);

#endif
