/*
 * supervisor.h - runs workloads, each in a fresh worker process, enforces
 * timeouts, records crashes, prints verdicts and builds report.json.
 */
#ifndef LEAKHOUND_SUPERVISOR_H
#define LEAKHOUND_SUPERVISOR_H

#include <stdint.h>

#include "buf.h"
#include "exit.h"

typedef struct lh_run_opts {
    char **scripts;
    int nscripts;
    char **only;            /* --workload patterns (fnmatch) */
    int nonly;
    const char *report_dir;
    uint64_t seed;
    double timeout;         /* overrides every workload's; 0 = theirs */
    int verbose;            /* echo worker output */
    int check_expect;       /* exit status reflects the expect fields */
    int list_only;          /* print workloads and exit */
    int list_fuzzable;      /* list only those with a target and a corpus */
    int argc;               /* the command line, for the report */
    char **argv;
    lh_buf *report;         /* report.json's text (the caller writes it);
                               required unless listing */
} lh_run_opts;

/* The files a report directory holds, for lh_outdir_check. */
extern const char *const lh_report_files[];

/* Checks and locks the report directory before any workload runs (see
 * outdir.h).  Returns the exit status, 128+signal when interrupted; the
 * report's exit_code is the same. */
int lh_supervise(const lh_run_opts *o);

#endif
