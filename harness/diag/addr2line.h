/*
 * addr2line.h - running addr2line ($LEAKHOUND_ADDR2LINE, else from PATH)
 * on one object, for symbolize.c.  A stuck tool is killed after 60 s.
 */
#ifndef LEAKHOUND_ADDR2LINE_H
#define LEAKHOUND_ADDR2LINE_H

#include <stdint.h>

#include "buf.h"

/* Runs `addr2line -a -f -i -C -e path` for n object-relative addresses
 * and appends its output to out.  0, or -1 when it could not run. */
int lh_addr2line(const char *path, const uintptr_t *rel, int n,
                 lh_buf *out);

/* 1 once the tool was found not installed: no use asking again. */
int lh_addr2line_missing(void);

#endif
