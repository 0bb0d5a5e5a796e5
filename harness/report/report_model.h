/*
 * report_model.h - what the three renderers (JUnit, Markdown, HTML) must
 * agree on, derived once from report.json: whether the run, a workload
 * and an invariant pass the gate, which invariant is the worst, the repro
 * command, and how quantities are written with their units.
 *
 * Fields added after schema 1 (gate, repro, baseline, regressions,
 * nightly) are optional: when absent the facts are derived from what
 * schema 1 has, so every report renders.
 */
#ifndef LEAKHOUND_REPORT_MODEL_H
#define LEAKHOUND_REPORT_MODEL_H

#include "buf.h"
#include "json.h"

/* The run's gate: "gate".ok, else exit_code == 0.  When reason is not
 * NULL the gate's reason (or a derived one) is appended to it. */
int lh_rep_run_gate(const lh_json *report, lh_buf *reason);

/* A workload's gate: "gate".ok, else expect.met when the workload has an
 * expectation, else status == "pass"; a stored-baseline failure of any
 * invariant fails a derived gate. */
int lh_rep_workload_gate(const lh_json *w, lh_buf *reason);

/* A regression case's gate: "gate".ok, else whether its status is what
 * the case expects ("leaks" for a case kept to show a leak, "fixed"
 * otherwise). */
int lh_rep_case_gate(const lh_json *c, lh_buf *reason);

/* The workload's status, never NULL ("?" when missing). */
const char *lh_rep_status(const lh_json *w);

/* Did the workload end without judging its invariants (error, crashed,
 * timeout)? */
int lh_rep_aborted(const lh_json *w);

/* What stopped an aborted workload, on one line: "crashed: Segmentation
 * fault (signal 11) in measure", "timed out after 5s in settle", or the
 * error message.  *detail gets the error/crash/timeout object (or NULL). */
void lh_rep_abort_message(lh_buf *b, const lh_json *w,
                          const lh_json **detail);

typedef enum lh_inv_verdict {
    LH_INV_PASS,
    LH_INV_FAIL,            /* counts against the gate */
    LH_INV_EXPECTED_FAIL,   /* failed, and the workload expected it */
} lh_inv_verdict;

/* The verdict the reports show for an invariant.  LH_INV_FAIL when the
 * workload's gate is not ok and the invariant failed, or its stored
 * baseline comparison failed, or the workload expected a failure on its
 * metric that did not happen; a baseline failure is a failure whatever
 * the gate says.  When why is not NULL, one line saying why is appended
 * (for LH_INV_PASS: the invariant's reason). */
lh_inv_verdict lh_rep_inv_verdict(const lh_json *w, const lh_json *inv,
                                  int workload_gate_ok, lh_buf *why);

/* The verdict in one or two words: "pass", "fail", "failed as
 * expected", "baseline fail" (only the stored-baseline comparison
 * failed). */
const char *lh_rep_verdict_word(const lh_json *inv, lh_inv_verdict v);

/* The invariant that explains the workload best: the first counting
 * failure, else the first expected failure, else the first one with
 * status "error", else the first.  NULL when there are none. */
const lh_json *lh_rep_worst_invariant(const lh_json *w, int gate_ok);

/* The shell command that re-runs the workload: "repro", else
 * build/leakhound run SCRIPT --workload 'NAME'. */
void lh_rep_repro(lh_buf *b, const lh_json *w);


/* A number as people read it: integers whole, others to 3 significant
 * digits, "n/a" for NaN (JSON null). */
void lh_rep_num(lh_buf *b, double v);
/* A quantity with its unit: bytes scaled to KiB/MiB/GiB ("1.26 MiB"),
 * other units appended ("2000 fds"), no unit for target gauges. */
void lh_rep_qty(lh_buf *b, double v, const char *unit);
/* A growth rate: "+66 B/iter", "+0.25 goroutines/iter". */
void lh_rep_rate(lh_buf *b, double v, const char *unit);
/* A p-value: "p<0.001", "p=0.042". */
void lh_rep_pvalue(lh_buf *b, double p);

/* An invariant's stored-baseline comparison (`leakhound test`): the
 * object under "baseline" (or "stored_baseline"), or NULL.  Schema 1 has
 * "baseline" as the first sample's value; both shapes are read. */
const lh_json *lh_rep_stored_baseline(const lh_json *inv);

/* The invariant's first sample: "baseline" when it is a number, else the
 * series' first value; NaN when neither exists. */
double lh_rep_first_value(const lh_json *inv);

/* Member key as a number, NaN when absent or null. */
double lh_rep_getn(const lh_json *v, const char *key);

/* A diagnosis site's size in the words of the metric it explains: bytes
 * when the site has bytes, else its count in the invariant's unit.
 * *value gets the number used for shares. */
void lh_rep_site_amount(lh_buf *b, const lh_json *site, const char *unit,
                        double *value);

/* The sum of the sites' positive growth, for their shares. */
double lh_rep_sites_total(const lh_json *sites, const char *unit);

#endif
