/*
 * supervisor.h - runs workloads, each in a fresh worker process, enforces
 * timeouts, records crashes, prints verdicts and writes report.json.
 */
#ifndef LEAKHOUND_SUPERVISOR_H
#define LEAKHOUND_SUPERVISOR_H

#include <stdint.h>

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
} lh_run_opts;

/* Returns the exit status. */
int lh_supervise(const lh_run_opts *o);

#endif
