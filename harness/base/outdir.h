/*
 * outdir.h - output directories (report dirs, corpora, work dirs): checked
 * before any work runs, and locked for the whole run so two runs at once
 * never write over each other.
 */
#ifndef LEAKHOUND_OUTDIR_H
#define LEAKHOUND_OUTDIR_H

#include "buf.h"

/* Room kept under PATH_MAX for what goes inside an output directory (a
 * workload's folder, an input file, a temporary name). */
#define LH_OUTDIR_ROOM 512

/* The lock file inside a locked directory (a dot file: never listed). */
#define LH_OUTDIR_LOCK ".leakhound.lock"

/* Make sure dir is a writable directory whose path leaves room for its
 * files: created when missing, a file created and removed in it, and each
 * of files (a NULL-terminated list of names, or NULL) not a directory.
 * Returns 0, or -1 with "DIR: why" in err. */
int lh_outdir_check(const char *dir, const char *const *files, lh_buf *err);

/* lh_outdir_check, then lh_outdir_lock, for a directory the run both
 * writes and locks: the lock file's write (creating it the first time) is
 * the real write that proves the directory writable, in place of a file
 * created and removed; whether a new file may be created is asked of the
 * kernel (access(2): modes, ACLs, read-only mounts, immutable flags).  A
 * full disk is then found when the reports are written (exit 2, naming
 * the file), not before the work. */
int lh_outdir_claim(const char *dir, const char *const *files, lh_buf *err);

/* Remove the previous run's files (a NULL-terminated list of names in
 * dir; missing ones are fine), once the directory is claimed: a run that
 * dies before writing its own leaves none, never an older one that would
 * pass for its report.  Returns 0, or -1 with "PATH: why" in err. */
int lh_outdir_clear(const char *dir, const char *const *files, lh_buf *err);

/* Take the run's lock on dir (which must exist), held until the process
 * exits; taking it again in the same process succeeds.  Fails at once
 * when another process holds it: -1 with a message naming dir and the
 * other run's pid in err. */
int lh_outdir_lock(const char *dir, lh_buf *err);

#endif
