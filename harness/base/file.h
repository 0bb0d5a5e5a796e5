/*
 * file.h - whole files: written atomically (a reader sees the old file or
 * the new one, never half), read into a buffer, directories made and
 * listed.
 */
#ifndef LEAKHOUND_FILE_H
#define LEAKHOUND_FILE_H

#include <stddef.h>

#include "buf.h"

/* Write a file atomically: temporary file in the same directory, fsync,
 * rename.  Returns 0, or -1 with errno set. */
int lh_write_atomic(const char *path, const void *data, size_t len);

/* The same, leaving the rename's durability to one lh_sync_dir of its
 * directory after several files (a report's four: fsyncs are most of what
 * writing one costs). */
int lh_write_atomic_nodirsync(const char *path, const void *data,
                              size_t len);
void lh_sync_dir(const char *dir);

/* Atomic (a reader sees the old file or the new one) but not durable: no
 * fsync, the kernel writes it back in its time.  For files rendered from
 * a durable one, which a power loss may leave old or empty: a report's
 * views, re-rendered from report.json by `leakhound report`. */
int lh_write_atomic_nosync(const char *path, const void *data, size_t len);

/* mkdir -p.  Returns 0, or -1 with errno set. */
int lh_mkdir_p(const char *path);

/* 1 when path names a regular file (after links), else 0. */
int lh_is_file(const char *path);

/* Read a whole file into b.  Returns 0, or -1 with errno set. */
int lh_read_file(const char *path, lh_buf *b);

/* Names of the entries of a directory (no dot files), sorted, each
 * NUL-terminated, appended to b; the list ends with an empty name.
 * Returns the count, or -1 with errno set. */
int lh_list_dir(const char *dir, lh_buf *b);

#endif
