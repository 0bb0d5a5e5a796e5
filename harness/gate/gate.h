/*
 * gate.h - the merge gate's verdicts, added to a report.json document.
 *
 * A workload passes the gate when it shows what its `expect` field says,
 * or, without one, when every invariant holds and no stored baseline was
 * exceeded.  A regression case passes when it no longer leaks, or still
 * leaks when its workload is expected to fail (a bundled demo leak).
 * `leakhound test` and `leakhound nightly` both judge this way.
 */
#ifndef LEAKHOUND_GATE_H
#define LEAKHOUND_GATE_H

#include "json.h"

/* Set "gate": {"ok", "reason"} on every workload of doc. */
void lh_gate_workloads(lh_json *doc);

/* Replay the cases under corpora whose workload is in doc (same script
 * file, same name), each in a fresh worker, and set doc's "regressions"
 * array.  Cases that name a workload their script no longer declares are
 * errors unless filtered (only some of the scripts' workloads ran); cases
 * whose script is gone, unreadable case files and files where a case
 * should be are errors always.  Prints one line per case.  Returns how many
 * failed the gate. */
int lh_gate_regressions(lh_json *doc, const char *corpora,
                        const char *workdir, double timeout, int filtered);

/* Set doc's "kind", "schema", "gate" and "exit_code" from the verdicts
 * above; returns the exit status (0 pass, 1 fail, 2 error, 3 crash or
 * timeout; the highest wins). */
int lh_gate_finish(lh_json *doc, const char *kind);

#endif
