/*
 * faults.c - ops that crash or hang on demand, for the harness's own tests
 * (a worker that dies or stops answering must not take the run down).
 *
 * fault_crash writes through a NULL pointer (SIGSEGV) when the input starts
 * with "CRASH"; fault_hang sleeps forever when the input starts with "HANG".
 * fault_fork_abort, on an input starting with "FORK", forks a helper that
 * execs `sleep 60` (holding every fd it inherits, the output pipe among
 * them) and then aborts: the worker is dead while its pipes stay open.
 * Any other input returns at once and touches nothing, so the same ops serve
 * as a clean workload.  fault_echo_abort writes its input, as it is, to
 * stdout and aborts: the output tail a report must carry safely.
 * fault_fork_return forks once per process, on "FORK", and returns in both
 * processes: only the worker may come back into the harness.  With
 * LEAKHOUND_FAULTS_CALLERS=FILE each process that calls it notes its pid.
 * fault_daemon, on "DAEMON", starts (once per process) a daemon the usual
 * way, fork, setsid, fork again, and the middle process exits: an orphan
 * in a session of its own that sleeps for 5 minutes unless something ends
 * it.  With LEAKHOUND_FAULTS_DAEMON=FILE it appends its pid there.
 * fault_exit ends the process the way a library should not: exit(0) on
 * "EXIT0", exit(1) on "EXIT1", _exit(0) (no atexit handler runs) on
 * "QUIT0", and on "CLOSE" it closes every fd (the harness's pipes among
 * them) and returns; on "SCRIBBLE" it writes a stray line to fds 3..20,
 * as a library that thinks one of them its log would.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lh_target.h"

/*
 * NULL, but through a volatile the compiler cannot see that: a literal NULL
 * store is undefined behaviour that gcc -O2 turns into a trap instruction
 * (SIGILL), and the test wants a real SIGSEGV.
 */
static int *volatile null_target;

static int starts_with(const uint8_t *data, size_t size, const char *word)
{
    size_t n = strlen(word);
    return size >= n && memcmp(data, word, n) == 0;
}

LH_EXPORT int fault_crash(const uint8_t *data, size_t size)
{
    if (starts_with(data, size, "CRASH"))
        *null_target = 1;
    return 0;
}

LH_EXPORT int fault_hang(const uint8_t *data, size_t size)
{
    if (starts_with(data, size, "HANG"))
        for (;;)
            sleep(1);       /* asleep, not spinning: 2 cores are shared */
    return 0;
}

/*
 * With LEAKHOUND_FAULTS_HELPER=FILE the helper writes there its pid and the
 * fds above 2 that it would keep across exec, so a test can check that it
 * is gone afterwards and that it held none of the harness's own fds.
 */
LH_EXPORT int fault_fork_abort(const uint8_t *data, size_t size)
{
    if (!starts_with(data, size, "FORK"))
        return 0;
    const char *file = getenv("LEAKHOUND_FAULTS_HELPER");
    char tmp[4096];
    if (file)
        snprintf(tmp, sizeof tmp, "%s.tmp", file);
    pid_t pid = fork();
    if (pid == 0) {
        if (file) {
            char line[512];
            int n = snprintf(line, sizeof line, "%d\nkept:", (int)getpid());
            for (int fd = 3; fd < 256 && n < 480; fd++) {
                int fl = fcntl(fd, F_GETFD);
                if (fl >= 0 && !(fl & FD_CLOEXEC))
                    n += snprintf(line + n, sizeof line - (size_t)n, " %d",
                                  fd);
            }
            n += snprintf(line + n, sizeof line - (size_t)n, "\n");
            int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                           0644);
            if (out >= 0) {
                ssize_t w = write(out, line, (size_t)n);
                (void)w;
                close(out);
                rename(tmp, file);
            }
        }
        execl("/bin/sleep", "sleep", "60", (char *)NULL);
        sleep(60);
        _exit(0);
    }
    if (pid > 0 && file) {
        /* let it write its line before the group goes */
        for (int i = 0; i < 200 && access(file, R_OK) < 0; i++)
            usleep(10000);
    }
    abort();
}

LH_EXPORT int fault_echo_abort(const uint8_t *data, size_t size)
{
    ssize_t n = write(STDOUT_FILENO, data, size);
    (void)n;
    abort();
}

/* Appends "PID\n" to the file named by the environment variable var. */
static void note_pid(const char *var)
{
    const char *file = getenv(var);
    if (!file)
        return;
    char line[32];
    int n = snprintf(line, sizeof line, "%d\n", (int)getpid());
    int out = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out >= 0) {
        ssize_t w = write(out, line, (size_t)n);
        (void)w;
        close(out);
    }
}

/* With LEAKHOUND_FAULTS_CALLERS=FILE, each process that calls it appends
 * its pid there once: a forked copy that came back shows up. */
LH_EXPORT int fault_fork_return(const uint8_t *data, size_t size)
{
    static pid_t noted;
    if (noted != getpid()) {
        noted = getpid();
        note_pid("LEAKHOUND_FAULTS_CALLERS");
    }
    static int forked;
    if (starts_with(data, size, "FORK") && !forked) {
        forked = 1;
        fork();     /* and both return */
    }
    return 0;
}

LH_EXPORT int fault_daemon(const uint8_t *data, size_t size)
{
    static int started;
    if (!starts_with(data, size, "DAEMON") || started)
        return 0;
    started = 1;
    int ready[2];
    if (pipe(ready) < 0)
        return 0;
    pid_t mid = fork();
    if (mid == 0) {
        setsid();
        if (fork() != 0)
            _exit(0);
        /* the daemon: no signal of the harness's reaches it by group */
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        note_pid("LEAKHOUND_FAULTS_DAEMON");
        close(ready[0]);
        close(ready[1]);
        for (int fd = 0; fd < 256; fd++)
            close(fd);      /* holds none of the worker's pipes */
        for (int i = 0; i < 300; i++)
            sleep(1);
        _exit(0);
    }
    close(ready[1]);
    if (mid > 0) {
        waitpid(mid, NULL, 0);
        /* EOF once the daemon has written its pid and closed its fds */
        char c;
        while (read(ready[0], &c, 1) > 0)
            ;
    }
    close(ready[0]);
    return 0;
}

LH_EXPORT int fault_exit(const uint8_t *data, size_t size)
{
    if (starts_with(data, size, "EXIT0"))
        exit(0);
    if (starts_with(data, size, "EXIT1"))
        exit(1);
    if (starts_with(data, size, "QUIT0"))
        _exit(0);
    if (starts_with(data, size, "CLOSE"))
        for (int fd = 0; fd < 1024; fd++)
            close(fd);
    if (starts_with(data, size, "SCRIBBLE"))
        for (int fd = 3; fd <= 20; fd++) {
            ssize_t w = write(fd, "stray\n{\"x\":1}\n", 15);
            (void)w;
        }
    return 0;
}
