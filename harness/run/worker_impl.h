/*
 * worker_impl.h - what worker.c (running a workload) and wkresult.c
 * (reporting it: the result object and verdict lines) share.  Not an
 * interface outside run/.
 */
#ifndef LEAKHOUND_WORKER_IMPL_H
#define LEAKHOUND_WORKER_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "buf.h"
#include "detector.h"
#include "diagnose.h"
#include "flight.h"
#include "probes.h"
#include "reslimits.h"
#include "runner.h"
#include "workload.h"

typedef struct worker {
    const char *script;
    int index;
    uint64_t seed;
    int msg_fd;
    lh_flight *flight;
    lua_State *L;
    int wtab;               /* stack index of the workload table */
    lh_workload w;
    lh_target *target;
    lh_probes probes;
    lh_runner runner;
    int runner_ready;
    /* samples: rows x metrics */
    size_t nrows;
    double *x;
    double *y;              /* y[row * probes.n + metric] */
    double *peak;           /* per metric, from samples and progress ticks */
    double t_start, t_measured;
    double timeout;         /* the supervisor's deadline, seconds from
                               t_start (0: unknown) */
    uint64_t total;         /* planned measured iterations (0: duration) */
    size_t planned_rows;    /* samples of the planned run; more extend it */
    uint64_t measured_from; /* runner_done() when measurement began */
    uint64_t measured_until; /* runner_done() when the diagnosis's second
                               look began (0: none): its steps are not
                               the report's iterations */
    double t_until;         /* lh_now() then */
    lh_buf err;
    lh_buf traceback;
    const char *status;
    const char *report_dir;
    lh_diagnosis *diag;
    /* the first sample that found the fd table full (-1: none) */
    int fd_full_at;
    long fd_full_open, fd_full_limit;
    /* judged as it goes (send_interim), and stopped near a limit */
    int metric_of[LH_MAX_INVARIANTS];
    int first_fail[LH_MAX_INVARIANTS];  /* sample it first failed, 0 */
    size_t min_rows;        /* samples every invariant needs to judge */
    int stopped_at;         /* sample the measured phase stopped at, -1 */
    int shrunk;             /* phases shortened near a limit */
    lh_limit_hit stop;
} worker;

/* One invariant judged, with what explains it. */
typedef struct judged {
    lh_invariant *inv;
    int metric;
    lh_verdict v;
    int ok;                 /* detector could judge */
    char exhausted[160];    /* proc.fds: the fd table filled ("": no) */
    lh_site *sites;         /* where the growth is held (failing only) */
    int nsites;
    lh_buf files;           /* folded stacks, profiles written (each
                               path NUL-terminated) */
    lh_buf file_errors;     /* "PATH: why\n" of those not written */
} judged;

const char *wk_judged_status(const judged *j);

/* The protocol (worker.h): one JSON object per line to the supervisor. */
void wk_send_msg(worker *wk, lh_buf *m);
/* A human verdict line; metric is NULL for lines not about one metric. */
void wk_send_verdict(worker *wk, const char *status, const char *metric,
                     const char *text);
void wk_send_info(worker *wk, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* wkresult.c */
void wk_fmt_value(char *out, size_t len, double v);
void wk_fmt_p(char *out, size_t len, double p);
void wk_site_lines(worker *wk, judged *j);
const char *wk_format_verdict(worker *wk, judged *j, lh_buf *out);
void wk_verdict_line(worker *wk, judged *j);
void wk_emit_result(worker *wk, judged *js, int nj, const char *type,
                    const char *extra);
void wk_load_line(worker *wk);

#endif
