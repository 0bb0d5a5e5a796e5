/*
 * regress.h - regression cases: confirmed leaks kept under
 * corpora/<target>/regressions/<id>/ so a fixed leak stays fixed.
 *
 * A case is a directory holding the input (`input`) and its metadata
 * (`case.json`: workload, script, target, metric, signature, how and when
 * it was found, the evidence, and the command that replays it).  Its id is
 * the workload's name plus a hash of the leak's signature, so the same
 * leak is filed once however often it is found; a case appears whole or
 * not at all (written in a temporary directory, then renamed).
 */
#ifndef LEAKHOUND_REGRESS_H
#define LEAKHOUND_REGRESS_H

#include <stddef.h>

#include "buf.h"
#include "json.h"

typedef struct lh_case {
    char id[320];
    char dir[4096];
    char input[4200];
    const char *workload, *script, *target, *metric, *signature;
    lh_json *meta;              /* case.json; the strings above point in */
} lh_case;

/* How the finding was made, for its metadata. */
typedef struct lh_found_by {
    const char *by;             /* "nightly", "manual" */
    const char *engine;         /* the engine that found it; NULL: the
                                   artifact's (a minimized one says
                                   "repro") */
    double budget;              /* fuzzing seconds per workload, 0 unknown */
    int minimized;
    const char *signature;      /* file under this signature (the original
                                   finding's, when the input was minimized);
                                   NULL: the artifact's own */
} lh_found_by;

/* Every case under corpora/ * /regressions/ (sorted).  Cases whose
 * case.json is missing or malformed, files where a case directory should
 * be and unlistable directories are reported in errors, one
 * "path:line:col: what" or "path: what" line each, and left out.  A
 * missing corpora is no cases.  Returns the count. */
int lh_cases_load(const char *corpora, lh_case **out, lh_buf *errors);
void lh_cases_free(lh_case *cases, int n);

/* The id a finding of workload with signature gets. */
void lh_case_id(char *out, size_t len, const char *workload,
                const char *signature);

/* File the confirmed artifact (leak-<sha1>, with its .json sidecar) as a
 * case.  Returns 1 filed, 0 when a case with that id exists already, -1
 * on error (err says why).  The id goes into id. */
int lh_case_file(const char *corpora, const char *artifact,
                 const lh_found_by *how, char *id, size_t idlen,
                 lh_buf *err);

/* The result of replaying a case in a fresh worker. */
typedef struct lh_replay {
    const char *status;         /* "fixed", "leaks", "error", "crashed",
                                   "timeout", "interrupted" (SIGINT/
                                   SIGTERM: not replayed or not judged) */
    char metric[64];            /* what grew (leaks) */
    char reason[512];           /* one line */
    double growth;              /* per repetition (leaks) */
    lh_json *evidence;          /* the repro verdict, when there is one */
    char log[4200];             /* the replay's output */
} lh_replay;

/* Replay case c in a fresh `self __repro` process (what `leakhound repro`
 * runs), its output in workdir/<id>.log.
 * Fills r (free with lh_replay_free). */
void lh_case_replay(const lh_case *c, const char *self, const char *workdir,
                    double timeout, lh_replay *r);
void lh_replay_free(lh_replay *r);

#endif
