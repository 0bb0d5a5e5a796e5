/*
 * report.h - the human and CI views of a run, rendered from report.json:
 * junit.xml (CI test reports), summary.md (CI job summaries, e.g.
 * $GITHUB_STEP_SUMMARY) and index.html (one self-contained page with a
 * plot per invariant).  report.json stays the single source: these files
 * can always be re-rendered from it (`leakhound report`).
 */
#ifndef LEAKHOUND_REPORT_H
#define LEAKHOUND_REPORT_H

#include <stddef.h>

#include "json.h"

/* summary.md stops adding rows past this size: GitHub refuses step
 * summaries over 1 MiB. */
#define LH_REPORT_MD_MAX (512 * 1024)

/* Render junit.xml, summary.md and index.html from a parsed report into
 * dir (created when missing), each written atomically (not fsync'd: they
 * are renderings of report.json).  Returns 0, or -1 with a message naming
 * the file in err. */
int lh_report_render(const lh_json *report, const char *dir, char *err,
                     size_t errlen);

/* Write a run's views, then its report.json, each atomically, with
 * "exit_code" set to *code -- raised to 2 when a file cannot be written.
 * Such a file is named on stderr (after "who: ") and its previous
 * version removed, so that nothing reads an older run's as this one's.
 * report.json, renamed last, is durable when this returns (fsync'd, and
 * the directory after it).  Returns 0, or -1 when something was not
 * written. */
int lh_report_write(lh_json *report, const char *dir, int *code,
                    const char *who);

/* Load report_json and render it into dir.  Returns 0, or -1 with
 * "PATH:LINE:COL: what" or "PATH: what" in err. */
int lh_report_render_file(const char *report_json, const char *dir,
                          char *err, size_t errlen);

/* `leakhound report REPORT_JSON [--out DIR]` (argv[1] is "report").
 * Exit status 0, or 2 on bad usage, bad input or a failed write. */
int lh_report_cmd(int argc, char **argv);

#endif
