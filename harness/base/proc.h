/*
 * proc.h - running a child process with a timeout, output passed through.
 */
#ifndef LEAKHOUND_PROC_H
#define LEAKHOUND_PROC_H

/* Exit status classes for a child that did not exit normally. */
#define LH_PROC_TIMEOUT (-1)
#define LH_PROC_SIGNAL (-2)
#define LH_PROC_NOSTART (-3)

typedef struct lh_proc_result {
    int code;           /* exit status, or one of LH_PROC_* */
    int signal;         /* with LH_PROC_SIGNAL */
} lh_proc_result;

/* Run argv (argv[0] is a path) with extra environment entries ("K=V",
 * NULL-terminated, may be NULL) in its own process group; kill the group
 * after timeout seconds (0: none).  stdout/stderr are inherited. */
lh_proc_result lh_proc_run(char *const argv[], char *const extra_env[],
                           double timeout);

/* The same with stdout and stderr going to the file log (NULL: as
 * lh_proc_run). */
lh_proc_result lh_proc_run_logged(char *const argv[],
                                  char *const extra_env[], double timeout,
                                  const char *log);

/* Was the run interrupted by SIGINT/SIGTERM (forwarded to the child)? */
int lh_proc_interrupted(void);

/* Directory of the running executable (for sibling binaries). */
void lh_proc_self_dir(char *out, unsigned long len);

#endif
