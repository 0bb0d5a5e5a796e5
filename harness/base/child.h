/*
 * child.h - the one way leakhound starts, watches and ends a child process.
 *
 * A child runs in its own process group.  Its argv, environment and fd
 * layout are prepared before fork, so the forked copy makes only
 * async-signal-safe calls (a worker's malloc is interposed and its other
 * threads may hold locks).  It inherits only the fds it is given.  Its end
 * comes from waitpid, never from its pipes: a grandchild may hold them long
 * after the child died.  Then the whole group is killed, so nothing it
 * forked lingers.  SIGINT/SIGTERM received meanwhile are forwarded to it
 * as SIGTERM; a child still running LH_CHILD_GRACE seconds later is
 * killed, and once interrupted no child starts (lh_child_start fails with
 * EINTR): the caller records what it was doing as interrupted.
 */
#ifndef LEAKHOUND_CHILD_H
#define LEAKHOUND_CHILD_H

#include <stddef.h>
#include <sys/types.h>

#define LH_CHILD_PIPES 4    /* pipes read by the parent, stdout's included */
#define LH_CHILD_PASS 4     /* fds handed over as they are */
#define LH_CHILD_GRACE 1.0  /* seconds from SIGTERM to SIGKILL */

/* Where a child's stdin, stdout or stderr goes. */
enum {
    LH_CHILD_INHERIT,       /* the parent's */
    LH_CHILD_NULL,          /* /dev/null */
    LH_CHILD_PIPE,          /* a pipe to (stdin) or from (stdout) the parent */
    LH_CHILD_LOG,           /* spec.log (stdout, stderr) */
    LH_CHILD_STDOUT,        /* stderr: wherever stdout goes */
};

/* How a child ended. */
enum {
    LH_CHILD_RUNNING,
    LH_CHILD_EXITED,        /* code: its exit status */
    LH_CHILD_SIGNALLED,     /* code: the signal */
    LH_CHILD_TIMEDOUT,      /* killed at the deadline */
    LH_CHILD_NOSTART,       /* fork or exec failed */
};

typedef struct lh_child_spec {
    char *const *argv;      /* argv[0]: a path, or a name to find in PATH */
    const char *exe;        /* the file to run when not argv[0] */
    char *const *env;       /* "K=V" entries over the environment, or NULL */
    int in, out, err;       /* LH_CHILD_*; 0 is LH_CHILD_INHERIT */
    const char *log;        /* for LH_CHILD_LOG (truncated) */
    int pipes[LH_CHILD_PIPES - 1];  /* more child fds piped to the parent */
    int npipes;
    struct { int from, to; } pass[LH_CHILD_PASS];   /* parent fd -> child */
    int npass;
    int kill_on_interrupt;  /* SIGINT/SIGTERM: SIGKILL at once, no grace */
} lh_child_spec;

typedef struct lh_child {
    pid_t pid;              /* also its process group */
    int in;                 /* stdin's write end, or -1 */
    const char *input;      /* written to stdin by lh_child_wait, which */
    size_t input_len;       /* then closes it (set after lh_child_start) */
    int fd[LH_CHILD_PIPES]; /* read ends: stdout's first (when piped), */
    int nfd;                /* then spec.pipes in order; -1 at EOF */
    int end;                /* LH_CHILD_* */
    int code;               /* exit status or signal */
    int pidfd;              /* readable once it exits, or -1 */
    int kill_on_interrupt;
    /* Asked when the deadline passes, before the kill: a later deadline
     * lets the child run on (NULL: none; set after lh_child_start). */
    double (*at_deadline)(void *ctx, double deadline);
    void *at_deadline_ctx;
} lh_child;

/* Starts the child.  0, or -1 with errno (also when exec failed; EINTR:
 * interrupted, not started). */
int lh_child_start(lh_child *c, const lh_child_spec *spec);

/* Called with what the child wrote to its pipe i (an index into fd). */
typedef void lh_child_read_fn(void *ctx, int i, const char *data, size_t n);

/* Feeds stdin, passes output to fn (may be NULL) until the child ends or
 * the deadline (lh_now() seconds; 0: none; c->at_deadline may move it)
 * passes, then kills its group, reaps it, drains what is left in the
 * pipes and closes them.  Returns c->end. */
int lh_child_wait(lh_child *c, double deadline, lh_child_read_fn *fn,
                  void *ctx);

typedef struct lh_child_result {
    int end;                /* LH_CHILD_* */
    int code;               /* exit status or signal */
} lh_child_result;

/* Runs argv (a path) with extra environment entries (may be NULL) for at
 * most timeout seconds (0: no limit).  stdout and stderr go to the file
 * log, or are the parent's when log is NULL. */
lh_child_result lh_child_run(char *const argv[], char *const env[],
                             double timeout, const char *log);

/* Kills every descendant of this process (found through /proc, setsid()
 * ones too) and reaps those that are its children, for at most ~3 s.  A
 * process that is a child subreaper (PR_SET_CHILD_SUBREAPER) has as
 * descendants also the orphans of its descendants.  Async-signal-safe.
 * Returns how many are still alive, or -1 when another call is under way
 * (on another thread, or in the code a signal handler interrupted). */
int lh_child_kill_descendants(void);

/* For a child started by lh_child_start that runs a target: becomes a
 * child subreaper (orphans of its descendants, setsid() daemons too, come
 * to it) and, when its parent dies, kills its descendants before it exits
 * (PR_SET_PDEATHSIG, a caught real-time signal). */
void lh_child_adopt_descendants(void);

/* Catch SIGINT/SIGTERM from now on, not only while a child runs. */
void lh_child_trap_signals(void);

/* The SIGINT/SIGTERM received while trapped (forwarded), or 0.  A
 * command that saw one exits 128 + it. */
int lh_child_interrupted(void);

/* Directory of the running executable (for sibling binaries). */
void lh_self_dir(char *out, unsigned long len);

#endif
