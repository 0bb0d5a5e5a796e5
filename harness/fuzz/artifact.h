/*
 * artifact.h - a confirmed leak on disk: the input as leak-<sha1> and its
 * evidence as leak-<sha1>.json, side by side, both written atomically
 * (input first, so a sidecar never points at a missing input).
 */
#ifndef LEAKHOUND_ARTIFACT_H
#define LEAKHOUND_ARTIFACT_H

/* A fuzz driver's exit status for "restart me": leaks with known
 * signatures kept leaking in it past its memory budget (fuzz_driver.c).
 * Not one of libFuzzer's (77 leak, 70 timeout, 71 OOM, 72 interrupt). */
#define LH_DRIVER_RESTART_EXIT 79

#include <stddef.h>

#include "buf.h"
#include "oracle.h"

typedef struct lh_artifact_ctx {
    const char *script;
    const char *workload;
    const char *target;
    const char *engine;     /* "libfuzzer", "afl", "repro" */
    unsigned long long seed;
} lh_artifact_ctx;

/* Evidence of a finding as a JSON object. */
void lh_finding_json(lh_buf *b, const lh_finding *f,
                     const lh_artifact_ctx *ctx, const char *input_path);

/* Write <prefix>leak-<sha1> and its .json.  prefix is a directory with a
 * trailing slash or a file-name prefix, as libFuzzer's -artifact_prefix.
 * The input's path goes into path (may be NULL).  0, or -1 with errno. */
int lh_artifact_write(const char *prefix, const lh_finding *f,
                      const lh_artifact_ctx *ctx, char *path, size_t len);

/* Signatures of the leak-*.json files in dir, and of the
 * unconfirmed-leak-*.json ones (findings that did not reproduce in a fresh
 * worker), each NUL-terminated in b (the list ends with an empty string),
 * as json.h reads them (unescaped).  Returns how many leak-*.json. */
int lh_artifact_known(const char *dir, lh_buf *b);

/* Is name an artifact's input, leak-<40 hex digits> (not its sidecar,
 * a log or a minimized copy)? */
int lh_artifact_is_input(const char *name);

/* Whether the artifact at path (its input) was verified in a fresh worker:
 * "verified": true in its sidecar, set by lh_artifact_set_verified (0, or
 * -1 with errno).  One verification per artifact, across runs. */
int lh_artifact_verified(const char *path);
int lh_artifact_set_verified(const char *path);

#endif
