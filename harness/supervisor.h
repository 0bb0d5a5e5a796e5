/*
 * supervisor.h - runs workloads, each in a fresh worker process, enforces
 * timeouts, records crashes, prints verdicts and writes report.json.
 */
#ifndef LEAKHOUND_SUPERVISOR_H
#define LEAKHOUND_SUPERVISOR_H

#include <stdint.h>

/* Exit statuses of `leakhound run`. */
enum {
    LH_EXIT_PASS = 0,       /* every invariant holds */
    LH_EXIT_FAIL = 1,       /* some invariant failed */
    LH_EXIT_ERROR = 2,      /* usage, script or target-load error */
    LH_EXIT_CRASH = 3,      /* a workload crashed or timed out */
};

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
