/*
 * reslimits.h - how near the worker is to running out of what a leak uses:
 * fds against RLIMIT_NOFILE, threads against RLIMIT_NPROC, the kernel's
 * threads-max and the cgroup's pids.max, memory against RLIMIT_AS and the
 * cgroup's memory.max.  The worker checks after each sample and stops the
 * measured phase before a leak that exhausts its resource blocks or kills
 * the target (README, "A leak that runs out of what it leaks").
 */
#ifndef LEAKHOUND_RESLIMITS_H
#define LEAKHOUND_RESLIMITS_H

/* The measured phase stops when a resource is at this fraction of its
 * limit, or would be after one more phase growing as the last did. */
#define LH_LIMIT_NEAR 0.95

typedef struct lh_limit_hit {
    const char *resource;   /* "proc.fds", "proc.threads", "memory" */
    int metric;             /* LH_M_PROC_FDS, ...; -1: none */
    const char *limit_name; /* "RLIMIT_NOFILE", "cgroup memory.max", ... */
    double used, limit;     /* now */
    double next;            /* projected after one more phase */
} lh_limit_hit;

/* Read the limits (once, before the target runs). */
void lh_limits_init(void);

/* Compare the process's usage now with its limits; row and prev are this
 * and the previous sample's metric rows (lh_probes_read_all).  1 with
 * *hit filled when a resource is near its limit, else 0. */
int lh_limits_check(const double *row, const double *prev,
                    lh_limit_hit *hit);

/* Iterations left before a resource growing as it did over the last
 * phase (of `iterations`) reaches LH_LIMIT_NEAR of its limit, *hit naming
 * the nearest; INFINITY when none grows. */
double lh_limits_headroom(const double *row, const double *prev,
                          double iterations, lh_limit_hit *hit);

/* "proc.fds at 96% of RLIMIT_NOFILE (983 of 1024)", into out. */
void lh_limit_describe(const lh_limit_hit *hit, char *out, unsigned len);

#endif
