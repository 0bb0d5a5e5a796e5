/* proc.c - child processes with timeouts. */
#include "proc.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;
static volatile pid_t child;

static void on_signal(int sig)
{
    interrupted = sig;
    if (child > 0)
        kill(-child, SIGTERM);
}

int lh_proc_interrupted(void)
{
    return interrupted;
}

lh_proc_result lh_proc_run(char *const argv[], char *const extra_env[],
                           double timeout)
{
    return lh_proc_run_logged(argv, extra_env, timeout, NULL);
}

lh_proc_result lh_proc_run_logged(char *const argv[],
                                  char *const extra_env[], double timeout,
                                  const char *log)
{
    lh_proc_result r = { LH_PROC_NOSTART, 0 };
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return r;
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (log) {
            int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                          0644);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
            }
        }
        for (char *const *e = extra_env; e && *e; e++)
            putenv(*e);
        execv(argv[0], argv);
        fprintf(stderr, "leakhound: cannot run %s: %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    child = pid;
    setpgid(pid, pid);
    double deadline = timeout > 0 ? lh_now() + timeout : 0;
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            break;
        if (deadline > 0 && lh_now() >= deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            r.code = LH_PROC_TIMEOUT;
            goto out;
        }
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    if (WIFSIGNALED(status)) {
        r.code = LH_PROC_SIGNAL;
        r.signal = WTERMSIG(status);
    } else {
        r.code = WEXITSTATUS(status);
    }
out:
    kill(-pid, SIGKILL);    /* whatever the child left behind */
    child = 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return r;
}

void lh_proc_self_dir(char *out, unsigned long len)
{
    ssize_t n = readlink("/proc/self/exe", out, len - 1);
    if (n <= 0) {
        snprintf(out, len, ".");
        return;
    }
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
}
