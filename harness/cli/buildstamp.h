/*
 * buildstamp.h - were a library's fuzzing builds made from its code?
 *
 * `fuzz` runs a driver built apart from the DIR/libNAME.so a workload
 * names: its linked libFuzzer driver, its coverage copy, its AFL++
 * driver.  A library rebuilt without them would be fuzzed as the old code
 * and could pass unearned.  `leakhound build` (and meson, for the bundled
 * targets: targets/stamp.sh) writes DIR/leakhound-NAME.sha1, the sha1 of
 * the library and of each fuzzing build made with it, in sha1sum's format
 * (`sha1sum -c` checks it); a build the stamp does not vouch for (made by
 * hand) must be at least as new as the library.
 */
#ifndef LEAKHOUND_BUILDSTAMP_H
#define LEAKHOUND_BUILDSTAMP_H

#include <stddef.h>

#include "buf.h"

/* DIR/leakhound-NAME.sha1 into out. */
void lh_stamp_path(char *out, size_t len, const char *dir, const char *name);

/* Records DIR/libNAME.so and those of fuzz/libNAME.so,
 * fuzz/leakhound-fuzz-NAME and afl/leakhound-afl-NAME present in the
 * stamp, atomically.  0, or -1 with errno set. */
int lh_stamp_write(const char *dir, const char *name);

enum {
    LH_STAMP_FRESH,     /* made from the library's code */
    LH_STAMP_STALE,     /* made from other code: why says how we know */
    LH_STAMP_ERROR,     /* a file cannot be read: why says which */
};

/* Is DIR/rel (a fuzzing build of NAME, rel relative to DIR) made from the
 * code of DIR/libNAME.so?  The stamp decides when it records this very
 * file (same sha1), else the files' times do.  *by_stamp says which. */
int lh_stamp_check(const char *dir, const char *name, const char *rel,
                   int *by_stamp, lh_buf *why);

#endif
