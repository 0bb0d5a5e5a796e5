/* child.c - child processes: spawn, watch, end. */
#include "child.h"
#include "alloc.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

extern char **environ;

/* ---- signals: noted, and forwarded to every live child's group ------- */

#define LIVE_MAX 64

static volatile sig_atomic_t interrupted;
static _Atomic pid_t live[LIVE_MAX];     /* lock-free: read by on_signal */
static int trapped, users;      /* handlers installed for good / for now */
static struct sigaction old_int, old_term;

static void on_signal(int sig)
{
    interrupted = sig;
    for (int i = 0; i < LIVE_MAX; i++) {
        pid_t pid = live[i];
        if (pid > 0)
            kill(-pid, SIGTERM);
    }
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
}

void lh_child_trap_signals(void)
{
    if (!trapped && users == 0)
        install();
    trapped = 1;
}

int lh_child_interrupted(void)
{
    return interrupted;
}

static void track(pid_t pid)
{
    if (!trapped && users++ == 0)
        install();
    for (int i = 0; i < LIVE_MAX; i++) {
        pid_t none = 0;
        if (atomic_compare_exchange_strong(&live[i], &none, pid))
            break;
    }
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < LIVE_MAX; i++) {
        pid_t mine = pid;
        atomic_compare_exchange_strong(&live[i], &mine, 0);
    }
    if (!trapped && --users == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
}

/* ---- what the forked copy needs, prepared before fork ----------------- */

/* PATH lookup (execvp's) done here: it may allocate. */
static int find_exe(const char *name, char *out, size_t len)
{
    /* Under valgrind the kernel's /proc/self/exe is the tool, not us:
     * exec the path valgrind's readlink reports (trace-children then
     * follows the worker). */
    if (strcmp(name, "/proc/self/exe") == 0 && RUNNING_ON_VALGRIND) {
        ssize_t n = readlink(name, out, len - 1);
        if (n > 0) {
            out[n] = '\0';
            return 0;
        }
    }
    if (strchr(name, '/')) {
        snprintf(out, len, "%s", name);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        snprintf(out, len, "%.*s%s%s", (int)n, p, n ? "/" : "", name);
        struct stat st;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
            access(out, X_OK) == 0)
            return 0;
        p += n + (e ? 1 : 0);
    }
    errno = ENOENT;
    return -1;
}

static int same_key(const char *a, const char *b)
{
    const char *eq = strchr(b, '=');
    size_t n = eq ? (size_t)(eq - b) : strlen(b);
    return strncmp(a, b, n) == 0 && a[n] == '=';
}

/* environ with the extra entries replacing theirs (lh_raw_free it). */
static char **make_env(char *const *extra)
{
    size_t n = 0, k = 0;
    while (environ && environ[n])
        n++;
    while (extra && extra[k])
        k++;
    char **env = lh_raw_malloc((n + k + 1) * sizeof *env);
    if (!env)
        return NULL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int over = 0;
        for (size_t j = 0; j < k && !over; j++)
            over = same_key(environ[i], extra[j]);
        if (!over)
            env[m++] = environ[i];
    }
    for (size_t j = 0; j < k; j++)
        env[m++] = extra[j];
    env[m] = NULL;
    return env;
}

#define MAP_MAX (3 + LH_CHILD_PIPES + LH_CHILD_PASS)

typedef struct fdmap {
    int from[MAP_MAX], to[MAP_MAX];
    int n, top;             /* top: the highest child fd */
} fdmap;

static void map(fdmap *m, int from, int to)
{
    m->from[m->n] = from;
    m->to[m->n++] = to;
    if (to > m->top)
        m->top = to;
}

static void close_from(int lo, int hi)
{
    if (lo > hi)
        return;
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lo, (unsigned)hi, 0) == 0)
        return;
#endif
    if (hi > 65535)
        hi = 65535;
    for (int fd = lo; fd <= hi; fd++)
        close(fd);
}

/* The forked copy: async-signal-safe calls only.  Tells the parent why it
 * could not exec through errfd. */
static void in_child(const char *exe, char *const argv[], char *const env[],
                     const fdmap *m, int errfd, pid_t parent,
                     const sigset_t *mask)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGINT, &dfl, NULL);
    sigaction(SIGTERM, &dfl, NULL);
    sigaction(SIGPIPE, &dfl, NULL);
    sigaction(SIGCHLD, &dfl, NULL);
    /* Out of the way first, then into place: a source may be a target. */
    int tmp[MAP_MAX];
    int moved = fcntl(errfd, F_DUPFD_CLOEXEC, m->top + 1);
    if (moved < 0)
        goto fail;
    errfd = moved;
    for (int i = 0; i < m->n; i++)
        if ((tmp[i] = fcntl(m->from[i], F_DUPFD_CLOEXEC, m->top + 1)) < 0)
            goto fail;
    for (int i = 0; i < m->n; i++)
        if (dup2(tmp[i], m->to[i]) < 0)
            goto fail;
    /* everything else goes, errfd (close-on-exec) at exec */
    for (int fd = 3; fd <= m->top; fd++) {
        int target = 0;
        for (int i = 0; i < m->n && !target; i++)
            target = m->to[i] == fd;
        if (!target)
            close(fd);
    }
    close_from(m->top + 1, errfd - 1);
    close_from(errfd + 1, ~0U >> 1);
    sigprocmask(SIG_SETMASK, mask, NULL);
    execve(exe, argv, env);
fail:;
    int e = errno;
    ssize_t w = write(errfd, &e, sizeof e);
    (void)w;
    _exit(127);
}

/* ---- starting ---------------------------------------------------------- */

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

int lh_child_start(lh_child *c, const lh_child_spec *s)
{
    memset(c, 0, sizeof *c);
    c->pid = -1;
    c->in = c->pidfd = -1;
    for (int i = 0; i < LH_CHILD_PIPES; i++)
        c->fd[i] = -1;
    c->kill_on_interrupt = s->kill_on_interrupt;
    if (interrupted) {      /* no new work once interrupted */
        c->end = LH_CHILD_NOSTART;
        errno = EINTR;
        return -1;
    }
    if (s->npipes > LH_CHILD_PIPES - 1 || s->npass > LH_CHILD_PASS) {
        errno = EINVAL;
        return -1;
    }

    char exe[4096];
    if (find_exe(s->exe ? s->exe : s->argv[0], exe, sizeof exe) < 0)
        return -1;
    char **env = make_env(s->env);
    if (!env)
        return -1;

    /* The child's ends, all close-on-exec in this process. */
    int null = -1, log = -1, inr = -1, err[2] = { -1, -1 };
    int wr[LH_CHILD_PIPES];
    int nwr = 0, rc = -1;
    fdmap m = { .n = 0, .top = 2 };
    if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
        goto out;
    if (s->log && (s->out == LH_CHILD_LOG || s->err == LH_CHILD_LOG))
        log = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (s->in == LH_CHILD_NULL)
        map(&m, null, 0);
    if (s->in == LH_CHILD_PIPE) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            goto out;
        inr = p[0];
        c->in = p[1];
        fcntl(c->in, F_SETFL, O_NONBLOCK);
        map(&m, inr, 0);
    }
    int outs[LH_CHILD_PIPES], nouts = 0;
    if (s->out == LH_CHILD_PIPE)
        outs[nouts++] = 1;
    for (int i = 0; i < s->npipes; i++)
        outs[nouts++] = s->pipes[i];
    for (int i = 0; i < nouts; i++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            goto out;
        c->fd[c->nfd++] = p[0];
        wr[nwr++] = p[1];
        map(&m, p[1], outs[i]);
    }
    int out_src = s->out == LH_CHILD_NULL ? null
                : s->out == LH_CHILD_LOG && log >= 0 ? log
                : s->out == LH_CHILD_PIPE ? wr[0] : -1;
    if (out_src >= 0 && s->out != LH_CHILD_PIPE)
        map(&m, out_src, 1);
    int err_src = s->err == LH_CHILD_NULL ? null
                : s->err == LH_CHILD_LOG && log >= 0 ? log
                : s->err == LH_CHILD_STDOUT ? out_src : -1;
    if (err_src >= 0)
        map(&m, err_src, 2);
    else if (s->err == LH_CHILD_STDOUT)
        map(&m, 1, 2);
    for (int i = 0; i < s->npass; i++)
        map(&m, s->pass[i].from, s->pass[i].to);
    if (pipe2(err, O_CLOEXEC) < 0)
        goto out;

    /* Our output first, then the child's. */
    if (s->out == LH_CHILD_INHERIT || s->err == LH_CHILD_INHERIT) {
        fflush(stdout);
        fflush(stderr);
    }
    /* No handler may run in the copy before it resets them. */
    sigset_t all, mask;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &mask);
    pid_t parent = getpid();
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
    /* no atfork handlers: the caller may hold the locks they take */
    pid_t pid = _Fork();
#else
    pid_t pid = fork();
#endif
    if (pid == 0)
        in_child(exe, s->argv, env, &m, err[1], parent, &mask);
    int fork_errno = errno;
    if (pid > 0) {
        setpgid(pid, pid);
        track(pid);
    }
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    if (pid < 0) {
        errno = fork_errno;
        goto out;
    }
    close_fd(&err[1]);
    int e = 0;
    ssize_t n;
    while ((n = read(err[0], &e, sizeof e)) < 0 && errno == EINTR)
        ;
    c->pid = pid;
    if (n == (ssize_t)sizeof e) {   /* exec failed */
        kill(-pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        untrack(pid);
        c->pid = -1;
        errno = e;
        goto out;
    }
#ifdef SYS_pidfd_open
    c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
    rc = 0;
out:;
    int saved = errno;
    close_fd(&null);
    close_fd(&log);
    close_fd(&inr);
    close_fd(&err[0]);
    close_fd(&err[1]);
    for (int i = 0; i < nwr; i++)
        close(wr[i]);
    if (rc < 0) {
        close_fd(&c->in);
        for (int i = 0; i < c->nfd; i++)
            close_fd(&c->fd[i]);
        c->nfd = 0;
        c->end = LH_CHILD_NOSTART;
    }
    lh_raw_free(env);
    errno = saved;
    return rc;
}

/* ---- watching ---------------------------------------------------------- */

static int reap(lh_child *c, int flags)
{
    int st;
    pid_t w;
    while ((w = waitpid(c->pid, &st, flags)) < 0 && errno == EINTR)
        ;
    if (w != c->pid)
        return 0;
    if (WIFSIGNALED(st)) {
        c->end = LH_CHILD_SIGNALLED;
        c->code = WTERMSIG(st);
    } else {
        c->end = LH_CHILD_EXITED;
        c->code = WEXITSTATUS(st);
    }
    return 1;
}

/* A write to a reader that is gone must fail with EPIPE, not kill us. */
static void feed(lh_child *c)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t n = write(c->in, c->input, c->input_len);
    if (n < 0 && errno == EPIPE) {
        struct timespec zero = { 0, 0 };
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (n > 0) {
        c->input += n;
        c->input_len -= (size_t)n;
    }
    if (c->input_len == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        close_fd(&c->in);
}

/* One poll over the pipes (and the pidfd) for at most ms. */
static void pump(lh_child *c, int ms, lh_child_read_fn *fn, void *ctx)
{
    struct pollfd p[LH_CHILD_PIPES + 2];
    int idx[LH_CHILD_PIPES + 2], np = 0;
    for (int i = 0; i < c->nfd; i++)
        if (c->fd[i] >= 0) {
            idx[np] = i;
            p[np++] = (struct pollfd){ .fd = c->fd[i], .events = POLLIN };
        }
    if (c->in >= 0 && c->input_len == 0)
        close_fd(&c->in);
    if (c->in >= 0) {
        idx[np] = -1;
        p[np++] = (struct pollfd){ .fd = c->in, .events = POLLOUT };
    }
    if (c->pidfd >= 0 && c->end == LH_CHILD_RUNNING) {
        idx[np] = -2;
        p[np++] = (struct pollfd){ .fd = c->pidfd, .events = POLLIN };
    }
    if (np == 0) {
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
        nanosleep(&ts, NULL);
        return;
    }
    if (poll(p, (nfds_t)np, ms) <= 0)
        return;
    for (int k = 0; k < np; k++) {
        if (!p[k].revents || idx[k] == -2)
            continue;
        if (idx[k] == -1) {
            feed(c);
            continue;
        }
        int *fd = &c->fd[idx[k]];
        char buf[65536];
        ssize_t n = read(*fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            close_fd(fd);
        else if (fn)
            fn(ctx, idx[k], buf, (size_t)n);
    }
}

static int pipes_open(const lh_child *c)
{
    for (int i = 0; i < c->nfd; i++)
        if (c->fd[i] >= 0)
            return 1;
    return 0;
}

static int ms_until(double t, int cap)
{
    double left = (t - lh_now()) * 1000;
    if (left < 0)
        return 0;
    return left < cap ? (int)left + 1 : cap;
}

int lh_child_wait(lh_child *c, double deadline, lh_child_read_fn *fn,
                  void *ctx)
{
    if (c->pid <= 0)
        return c->end;
    /* The pidfd wakes us when it exits; without one, look every 20 ms. */
    int cap = c->pidfd >= 0 ? 250 : 20;
    double grace = 0;       /* interrupted: SIGKILL at this time */
    while (c->end == LH_CHILD_RUNNING) {
        if (reap(c, WNOHANG))
            break;
        if (deadline > 0 && c->at_deadline && lh_now() >= deadline)
            deadline = c->at_deadline(c->at_deadline_ctx, deadline);
        if (interrupted && !c->kill_on_interrupt && grace == 0) {
            /* SIGTERM first (it may have started after the signal) */
            kill(-c->pid, SIGTERM);
            grace = lh_now() + LH_CHILD_GRACE;
        }
        int stop = interrupted && (c->kill_on_interrupt ||
                                   lh_now() >= grace);
        if (stop || (deadline > 0 && lh_now() >= deadline)) {
            kill(-c->pid, SIGKILL);
            reap(c, 0);
            if (!interrupted)
                c->end = LH_CHILD_TIMEDOUT;
            break;
        }
        double until = grace > 0 && (deadline <= 0 || grace < deadline)
                           ? grace : deadline;
        pump(c, until > 0 ? ms_until(until, cap) : cap, fn, ctx);
    }
    /* What it forked goes with it; then what is still in the pipes. */
    kill(-c->pid, SIGKILL);
    untrack(c->pid);
    close_fd(&c->in);
    double stop = lh_now() + 0.5;
    while (pipes_open(c) && lh_now() < stop)
        pump(c, ms_until(stop, 100), fn, ctx);
    for (int i = 0; i < c->nfd; i++)
        close_fd(&c->fd[i]);
    close_fd(&c->pidfd);
    c->pid = -1;
    return c->end;
}

lh_child_result lh_child_run(char *const argv[], char *const env[],
                             double timeout, const char *log)
{
    lh_child_spec s = {
        .argv = argv, .env = env,
        .out = log ? LH_CHILD_LOG : LH_CHILD_INHERIT,
        .err = log ? LH_CHILD_LOG : LH_CHILD_INHERIT,
        .log = log,
    };
    lh_child c;
    if (lh_child_start(&c, &s) < 0) {
        if (errno == EINTR)     /* interrupted: the caller says so */
            return (lh_child_result){ LH_CHILD_NOSTART, 0 };
        fprintf(stderr, "leakhound: cannot run %s: %s\n", argv[0],
                strerror(errno));
        return (lh_child_result){ LH_CHILD_NOSTART, 0 };
    }
    lh_child_wait(&c, timeout > 0 ? lh_now() + timeout : 0, NULL, NULL);
    return (lh_child_result){ c.end, c.code };
}

/* ---- descendants: found through /proc, killed, reaped ----------------- */

#define PROCS_MAX 32768

static struct proc_row {
    pid_t pid, ppid;
    char state, mine;
} procs[PROCS_MAX];
static char dents[8192];
static int killing;

/* pid's parent and state from /proc/pid/stat; -1 when it is gone. */
static int read_stat(const char *name, pid_t *ppid, char *state)
{
    char path[64] = "/proc/", buf[512];
    size_t n = strlen(path);
    for (size_t i = 0; name[i] && n < sizeof path - 8; i++)
        path[n++] = name[i];
    memcpy(path + n, "/stat", 6);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got <= 0)
        return -1;
    buf[got] = '\0';
    char *p = strrchr(buf, ')');    /* the name may hold anything */
    if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
        return -1;
    *state = p[2];
    long v = 0;
    for (p += 4; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (*p - '0');
    *ppid = (pid_t)v;
    return 0;
}

/* Every process in /proc into procs[]; their number. */
static int scan_procs(void)
{
    int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return 0;
    int n = 0;
    long got;
    while (n < PROCS_MAX &&
           (got = syscall(SYS_getdents64, dir, dents, sizeof dents)) > 0) {
        for (long at = 0; at < got && n < PROCS_MAX;) {
            /* struct linux_dirent64: ino, off, reclen, type, name */
            unsigned short reclen;
            memcpy(&reclen, dents + at + 16, sizeof reclen);
            const char *name = dents + at + 19;
            at += reclen;
            if (name[0] < '1' || name[0] > '9')
                continue;
            long pid = 0;
            for (const char *q = name; *q >= '0' && *q <= '9'; q++)
                pid = pid * 10 + (*q - '0');
            if (read_stat(name, &procs[n].ppid, &procs[n].state) == 0)
                procs[n++].pid = (pid_t)pid;
        }
    }
    close(dir);
    return n;
}

/* Mark the processes whose parent is self or a marked one. */
static void mark_descendants(int n, pid_t self)
{
    for (int i = 0; i < n; i++)
        procs[i].mine = procs[i].ppid == self;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int i = 0; i < n; i++) {
            if (procs[i].mine || procs[i].ppid <= 2)
                continue;   /* init's and kthreadd's are never ours */
            for (int k = 0; k < n && !procs[i].mine; k++)
                if (procs[k].mine && procs[k].pid == procs[i].ppid)
                    procs[i].mine = changed = 1;
        }
    }
}

/* Reap our children that are zombies. */
static void reap_zombies(int n, pid_t self)
{
    for (int i = 0; i < n; i++)
        if (procs[i].ppid == self && procs[i].state == 'Z')
            while (waitpid(procs[i].pid, NULL, WNOHANG) < 0 &&
                   errno == EINTR)
                ;
}

/* No child at all, live or zombie: then no descendant either, since the
 * orphans of our descendants are reparented to us (a subreaper).  Spares
 * the scan of every process in /proc (hundreds of opens, several ms) at
 * the end of every worker and run. */
static int no_children(void)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WCONTINUED | WNOHANG |
                  WNOWAIT) < 0 && errno == ECHILD;
}

int lh_child_kill_descendants(void)
{
    if (__atomic_exchange_n(&killing, 1, __ATOMIC_ACQ_REL))
        return -1;      /* another thread, or the code this interrupted */
    int saved = errno;
    if (no_children()) {
        __atomic_store_n(&killing, 0, __ATOMIC_RELEASE);
        errno = saved;
        return 0;
    }
    pid_t self = getpid();
    struct timespec pause = { 0, 2000000 };
    double stop = lh_now() + 3;
    int n, live = 1;
    while (live && lh_now() < stop) {
        n = scan_procs();
        mark_descendants(n, self);
        live = 0;
        for (int i = 0; i < n; i++)
            if (procs[i].mine && procs[i].state != 'Z' &&
                procs[i].state != 'X') {
                kill(procs[i].pid, SIGKILL);
                live++;
            }
        reap_zombies(n, self);
        if (live)
            nanosleep(&pause, NULL);
    }
    /* what died last, and orphans it left to us */
    n = scan_procs();
    reap_zombies(n, self);
    __atomic_store_n(&killing, 0, __ATOMIC_RELEASE);
    errno = saved;
    return live;
}

/* Sent by the kernel when the parent dies (PR_SET_PDEATHSIG): a signal
 * targets leave alone (the Go runtime takes no real-time signal in a
 * library), caught so the descendants go first. */
#define PARENT_GONE (SIGRTMIN + 4)

static void on_parent_gone(int sig)
{
    (void)sig;
    if (lh_child_kill_descendants() < 0)
        return;     /* they are being ended already, then we exit */
    _exit(3);
}

void lh_child_adopt_descendants(void)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_parent_gone;
    sa.sa_flags = SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    sigaction(PARENT_GONE, &sa, NULL);
    /* replaces the SIGKILL set at fork: either that one came already or
     * this one will */
    prctl(PR_SET_PDEATHSIG, PARENT_GONE);
}

void lh_self_dir(char *out, unsigned long len)
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
