/*
 * fddiag.c - where file descriptors are held: what each new fd points to
 * and the stack that opened it.
 *
 * The leakhound executable is linked with --export-dynamic, so the
 * functions below win symbol lookup for every library the worker loads,
 * as the malloc family does.  Each forwards to the next definition
 * (libc's, found once with dlsym(RTLD_NEXT)) and, only once
 * lh_fddiag_start has been called, records the new descriptor's creation
 * stack, or forgets a descriptor being closed.  libc's own functions call
 * each other internally, not through these symbols (fopen reaches the
 * kernel through an internal open), so the stdio and dirent openers are
 * interposed too.
 *
 * A record is keyed by fd number and carries the file's device and inode
 * at creation, so a record left behind by a close we never saw (a raw
 * syscall, Go's runtime) is not blamed for a later, unrelated fd that
 * reuses the number.
 *
 * Snapshot: every entry of /proc/self/fd, its readlink target ("/dev/null",
 * "socket:[N]", "pipe:[N]", "anon_inode:[eventfd]") and its record.  The
 * diff groups new descriptors by blamed frame; detail summarises their
 * targets ("/dev/null x 12").
 */
/* Fortify would make open & co inline wrappers, and 64-bit file offsets
 * (meson's default) would rename open to open64: define each name as
 * itself.  On LP64 both variants share one ABI. */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS

#include "diag.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cgocaller.h"
#include "interpose.h"
#include "lock.h"
#include "probes.h"
#include "stacks.h"

#define LH_EXPORT __attribute__((visibility("default")))

/* The fortified entry points, declared only under _FORTIFY_SOURCE. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* ---- the real functions -------------------------------------------------- */

static void *real_fn(void *_Atomic *slot, const char *name)
{
    void *f = atomic_load_explicit(slot, memory_order_relaxed);
    if (!f) {
        /* dlsym may malloc (its error state): not the target's. */
        lh_heap_suspend();
        f = dlsym(RTLD_NEXT, name);
        lh_heap_resume();
        atomic_store_explicit(slot, f, memory_order_relaxed);
    }
    return f;
}

#define REAL_SLOT(name) static void *_Atomic real_##name
#define REAL(name) ((__typeof__(&name))real_fn(&real_##name, #name))

REAL_SLOT(open);
REAL_SLOT(open64);
REAL_SLOT(__open_2);
REAL_SLOT(__open64_2);
REAL_SLOT(openat);
REAL_SLOT(openat64);
REAL_SLOT(__openat_2);
REAL_SLOT(__openat64_2);
REAL_SLOT(creat);
REAL_SLOT(creat64);
REAL_SLOT(socket);
REAL_SLOT(socketpair);
REAL_SLOT(pipe);
REAL_SLOT(pipe2);
REAL_SLOT(dup);
REAL_SLOT(dup2);
REAL_SLOT(dup3);
REAL_SLOT(accept);
REAL_SLOT(accept4);
REAL_SLOT(eventfd);
REAL_SLOT(timerfd_create);
REAL_SLOT(epoll_create);
REAL_SLOT(epoll_create1);
REAL_SLOT(memfd_create);
REAL_SLOT(signalfd);
REAL_SLOT(inotify_init);
REAL_SLOT(inotify_init1);
REAL_SLOT(fopen);
REAL_SLOT(fopen64);
REAL_SLOT(freopen);
REAL_SLOT(freopen64);
REAL_SLOT(tmpfile);
REAL_SLOT(tmpfile64);
REAL_SLOT(mkstemp);
REAL_SLOT(mkstemp64);
REAL_SLOT(mkostemp);
REAL_SLOT(mkostemp64);
REAL_SLOT(opendir);
REAL_SLOT(closedir);
REAL_SLOT(popen);
REAL_SLOT(pclose);
REAL_SLOT(fcntl);
REAL_SLOT(fcntl64);
REAL_SLOT(close);
REAL_SLOT(fclose);
REAL_SLOT(close_range);
REAL_SLOT(closefrom);

/* Resolve everything before main, while nothing is recorded or counted;
 * a library constructor that runs earlier resolves lazily. */
__attribute__((constructor))
static void resolve_all(void)
{
    (void)REAL(open); (void)REAL(open64); (void)REAL(__open_2);
    (void)REAL(__open64_2); (void)REAL(openat); (void)REAL(openat64);
    (void)REAL(__openat_2); (void)REAL(__openat64_2); (void)REAL(creat);
    (void)REAL(creat64); (void)REAL(socket); (void)REAL(socketpair);
    (void)REAL(pipe); (void)REAL(pipe2); (void)REAL(dup); (void)REAL(dup2);
    (void)REAL(dup3); (void)REAL(accept); (void)REAL(accept4);
    (void)REAL(eventfd); (void)REAL(timerfd_create);
    (void)REAL(epoll_create); (void)REAL(epoll_create1);
    (void)REAL(memfd_create); (void)REAL(signalfd); (void)REAL(inotify_init);
    (void)REAL(inotify_init1); (void)REAL(fopen); (void)REAL(fopen64);
    (void)REAL(freopen); (void)REAL(freopen64); (void)REAL(tmpfile);
    (void)REAL(tmpfile64); (void)REAL(mkstemp); (void)REAL(mkstemp64);
    (void)REAL(mkostemp); (void)REAL(mkostemp64); (void)REAL(opendir);
    (void)REAL(closedir); (void)REAL(popen); (void)REAL(pclose);
    (void)REAL(fcntl); (void)REAL(fcntl64); (void)REAL(close);
    (void)REAL(fclose); (void)REAL(close_range); (void)REAL(closefrom);
}

/* ---- records ------------------------------------------------------------- */

typedef struct fd_rec {
    uint64_t seq;               /* 0: no record */
    int id;                     /* interned creation stack */
    uint64_t dev, ino;          /* what it was opened on */
} fd_rec;

static atomic_int fd_on;
static fd_rec *fd_tab;          /* indexed by fd */
static int fd_cap;
static _Atomic uint64_t fd_seq;
static lh_spinlock fd_lock;

static inline int recording(void)
{
    return atomic_load_explicit(&fd_on, memory_order_relaxed) &&
           !lh_forking();
}

/* The caller of the interposed function, read in that function itself. */
#define RA() ((uintptr_t)__builtin_return_address(0))

__attribute__((noinline))
static void lh_fd_note(int fd, uintptr_t ra)
{
    if (fd < 0 || fd >= fd_cap)
        return;
    int saved = errno;
    uintptr_t pcs[LH_SITE_MAX_FRAMES];
    int n = lh_backtrace_from(pcs, LH_SITE_MAX_FRAMES, ra);
    int id = lh_cgo_intern(pcs, n);     /* Go's caller when via cgo */
    struct stat st;
    uint64_t dev = 0, ino = 0;
    if (fstat(fd, &st) == 0) {
        dev = (uint64_t)st.st_dev;
        ino = (uint64_t)st.st_ino;
    }
    uint64_t seq = atomic_fetch_add(&fd_seq, 1) + 1;
    lh_spin_lock(&fd_lock);
    fd_tab[fd].seq = seq;
    fd_tab[fd].id = id;
    fd_tab[fd].dev = dev;
    fd_tab[fd].ino = ino;
    lh_spin_unlock(&fd_lock);
    errno = saved;
}

/* Before the real close: once the kernel has the number back, another
 * thread may be handed it and record it, and we must not erase that. */
static void fd_forget(int fd)
{
    if (fd < 0 || fd >= fd_cap)
        return;
    lh_spin_lock(&fd_lock);
    fd_tab[fd].seq = 0;
    lh_spin_unlock(&fd_lock);
}

static void fd_forget_range(unsigned lo, unsigned hi)
{
    if (fd_cap == 0 || lo >= (unsigned)fd_cap)
        return;
    if (hi >= (unsigned)fd_cap)
        hi = (unsigned)fd_cap - 1;
    lh_spin_lock(&fd_lock);
    for (unsigned i = lo; i <= hi; i++)
        fd_tab[i].seq = 0;
    lh_spin_unlock(&fd_lock);
}

#define NOTE(fd)                                        \
    do {                                                \
        if ((fd) >= 0 && recording())                   \
            lh_fd_note((fd), RA());                     \
    } while (0)

#define NOTE_FILE(f)                                    \
    do {                                                \
        if ((f) && recording())                         \
            lh_fd_note(fileno(f), RA());                \
    } while (0)

#define MISSING(ret)                                    \
    do {                                                \
        errno = ENOSYS;                                 \
        return ret;                                     \
    } while (0)

/* The usual wrapper: call the real function, note the fd it returned.
 * A macro, not a function: RA() must be the wrapper's return address. */
#define FD_CALL(name, ...)                              \
    do {                                                \
        if (!REAL(name))                                \
            MISSING(-1);                                \
        int fd_ = REAL(name)(__VA_ARGS__);              \
        NOTE(fd_);                                      \
        return fd_;                                     \
    } while (0)

/* open(2)'s mode argument is passed only when flags want one. */
#define VA_MODE(flags, mode)                            \
    do {                                                \
        if (wants_mode(flags)) {                        \
            va_list ap_;                                \
            va_start(ap_, flags);                       \
            (mode) = va_arg(ap_, mode_t);               \
            va_end(ap_);                                \
        }                                               \
    } while (0)

static int wants_mode(int flags)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

void lh_fddiag_start(void)
{
    if (atomic_load(&fd_on))
        return;
    lh_backtrace_init();
    if (!fd_tab) {
        /* Sized for the highest fd the process may ever get: untouched
         * pages of a calloc this large cost nothing. */
        struct rlimit rl;
        rlim_t cap = 65536;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
            cap = rl.rlim_cur;
            if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max > cap)
                cap = rl.rlim_max;
            if (cap == RLIM_INFINITY || cap > (1u << 20))
                cap = 1u << 20;
            if (cap < 1024)
                cap = 1024;
        }
        fd_tab = lh_raw_calloc((size_t)cap, sizeof *fd_tab);
        if (!fd_tab)
            return;
        fd_cap = (int)cap;
        /* Held across fork: a child that closes its fds before exec
         * must not find it held by a thread that no longer exists. */
        lh_heap_suspend();      /* the first registration allocates */
        lh_lock_across_fork(&fd_lock, LH_RANK_FDDIAG);
        lh_heap_resume();
    }
    atomic_store(&fd_on, 1);
}

/* ---- openers ------------------------------------------------------------- */

LH_EXPORT int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    VA_MODE(flags, mode);
    FD_CALL(open, path, flags, mode);
}

LH_EXPORT int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    VA_MODE(flags, mode);
    FD_CALL(open64, path, flags, mode);
}

LH_EXPORT int __open_2(const char *path, int flags)
{
    FD_CALL(__open_2, path, flags);
}

LH_EXPORT int __open64_2(const char *path, int flags)
{
    FD_CALL(__open64_2, path, flags);
}

LH_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    VA_MODE(flags, mode);
    FD_CALL(openat, dirfd, path, flags, mode);
}

LH_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    VA_MODE(flags, mode);
    FD_CALL(openat64, dirfd, path, flags, mode);
}

LH_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    FD_CALL(__openat_2, dirfd, path, flags);
}

LH_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    FD_CALL(__openat64_2, dirfd, path, flags);
}

LH_EXPORT int creat(const char *path, mode_t mode)
{
    FD_CALL(creat, path, mode);
}

LH_EXPORT int creat64(const char *path, mode_t mode)
{
    FD_CALL(creat64, path, mode);
}

LH_EXPORT int socket(int domain, int type, int protocol)
{
    FD_CALL(socket, domain, type, protocol);
}

LH_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
    if (!REAL(socketpair))
        MISSING(-1);
    int rc = REAL(socketpair)(domain, type, protocol, sv);
    if (rc == 0) {
        NOTE(sv[0]);
        NOTE(sv[1]);
    }
    return rc;
}

LH_EXPORT int pipe(int fds[2])
{
    if (!REAL(pipe))
        MISSING(-1);
    int rc = REAL(pipe)(fds);
    if (rc == 0) {
        NOTE(fds[0]);
        NOTE(fds[1]);
    }
    return rc;
}

LH_EXPORT int pipe2(int fds[2], int flags)
{
    if (!REAL(pipe2))
        MISSING(-1);
    int rc = REAL(pipe2)(fds, flags);
    if (rc == 0) {
        NOTE(fds[0]);
        NOTE(fds[1]);
    }
    return rc;
}

LH_EXPORT int dup(int oldfd)
{
    FD_CALL(dup, oldfd);
}

LH_EXPORT int dup2(int oldfd, int newfd)
{
    if (!REAL(dup2))
        MISSING(-1);
    int fd = REAL(dup2)(oldfd, newfd);
    /* dup2(fd, fd) is a no-op: the record of fd stays as it was. */
    if (oldfd != newfd)
        NOTE(fd);
    return fd;
}

LH_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    FD_CALL(dup3, oldfd, newfd, flags);
}

LH_EXPORT int accept(int sock, __SOCKADDR_ARG addr,
                     socklen_t *restrict len)
{
    FD_CALL(accept, sock, addr, len);
}

LH_EXPORT int accept4(int sock, __SOCKADDR_ARG addr,
                      socklen_t *restrict len, int flags)
{
    FD_CALL(accept4, sock, addr, len, flags);
}

LH_EXPORT int eventfd(unsigned int count, int flags)
{
    FD_CALL(eventfd, count, flags);
}

LH_EXPORT int timerfd_create(__clockid_t clock, int flags)
{
    FD_CALL(timerfd_create, clock, flags);
}

LH_EXPORT int epoll_create(int size)
{
    FD_CALL(epoll_create, size);
}

LH_EXPORT int epoll_create1(int flags)
{
    FD_CALL(epoll_create1, flags);
}

LH_EXPORT int memfd_create(const char *name, unsigned int flags)
{
    FD_CALL(memfd_create, name, flags);
}

LH_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
    if (!REAL(signalfd))
        MISSING(-1);
    int r = REAL(signalfd)(fd, mask, flags);
    /* With an existing fd, signalfd only changes its mask. */
    if (fd == -1)
        NOTE(r);
    return r;
}

LH_EXPORT int inotify_init(void)
{
    FD_CALL(inotify_init, );
}

LH_EXPORT int inotify_init1(int flags)
{
    FD_CALL(inotify_init1, flags);
}

LH_EXPORT int mkstemp(char *tmpl)
{
    FD_CALL(mkstemp, tmpl);
}

LH_EXPORT int mkstemp64(char *tmpl)
{
    FD_CALL(mkstemp64, tmpl);
}

LH_EXPORT int mkostemp(char *tmpl, int flags)
{
    FD_CALL(mkostemp, tmpl, flags);
}

LH_EXPORT int mkostemp64(char *tmpl, int flags)
{
    FD_CALL(mkostemp64, tmpl, flags);
}

LH_EXPORT int fcntl(int fd, int cmd, ...)
{
    /* glibc reads the third argument as a pointer whatever cmd is; so
     * do we, and pass it on unchanged. */
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (!REAL(fcntl))
        MISSING(-1);
    int r = REAL(fcntl)(fd, cmd, arg);
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        NOTE(r);
    return r;
}

LH_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (!REAL(fcntl64))
        MISSING(-1);
    int r = REAL(fcntl64)(fd, cmd, arg);
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        NOTE(r);
    return r;
}

/* ---- stdio and dirent ---------------------------------------------------- */

LH_EXPORT FILE *fopen(const char *restrict path, const char *restrict mode)
{
    if (!REAL(fopen))
        MISSING(NULL);
    FILE *f = REAL(fopen)(path, mode);
    NOTE_FILE(f);
    return f;
}

LH_EXPORT FILE *fopen64(const char *restrict path,
                        const char *restrict mode)
{
    if (!REAL(fopen64))
        MISSING(NULL);
    FILE *f = REAL(fopen64)(path, mode);
    NOTE_FILE(f);
    return f;
}

LH_EXPORT FILE *freopen(const char *restrict path, const char *restrict mode,
                        FILE *restrict stream)
{
    if (!REAL(freopen))
        MISSING(NULL);
    if (stream && recording())
        fd_forget(fileno(stream));
    FILE *f = REAL(freopen)(path, mode, stream);
    NOTE_FILE(f);
    return f;
}

LH_EXPORT FILE *freopen64(const char *restrict path,
                          const char *restrict mode, FILE *restrict stream)
{
    if (!REAL(freopen64))
        MISSING(NULL);
    if (stream && recording())
        fd_forget(fileno(stream));
    FILE *f = REAL(freopen64)(path, mode, stream);
    NOTE_FILE(f);
    return f;
}

LH_EXPORT FILE *tmpfile(void)
{
    if (!REAL(tmpfile))
        MISSING(NULL);
    FILE *f = REAL(tmpfile)();
    NOTE_FILE(f);
    return f;
}

LH_EXPORT FILE *tmpfile64(void)
{
    if (!REAL(tmpfile64))
        MISSING(NULL);
    FILE *f = REAL(tmpfile64)();
    NOTE_FILE(f);
    return f;
}

LH_EXPORT FILE *popen(const char *cmd, const char *type)
{
    if (!REAL(popen))
        MISSING(NULL);
    FILE *f = REAL(popen)(cmd, type);
    NOTE_FILE(f);
    return f;
}

LH_EXPORT DIR *opendir(const char *name)
{
    if (!REAL(opendir))
        MISSING(NULL);
    DIR *d = REAL(opendir)(name);
    if (d && recording())
        lh_fd_note(dirfd(d), RA());
    return d;
}

/* ---- closers ------------------------------------------------------------- */

LH_EXPORT int close(int fd)
{
    if (recording())
        fd_forget(fd);
    if (!REAL(close))
        MISSING(-1);
    return REAL(close)(fd);
}

LH_EXPORT int fclose(FILE *f)
{
    if (f && recording())
        fd_forget(fileno(f));
    if (!REAL(fclose))
        MISSING(EOF);
    return REAL(fclose)(f);
}

LH_EXPORT int pclose(FILE *f)
{
    if (f && recording())
        fd_forget(fileno(f));
    if (!REAL(pclose))
        MISSING(-1);
    return REAL(pclose)(f);
}

LH_EXPORT int closedir(DIR *d)
{
    /* glibc: closedir(NULL) is EINVAL.  <dirent.h> declares d nonnull,
     * which would let the compiler drop the test: hide it. */
    DIR *dp = d;
    __asm__("" : "+r"(dp));
    if (dp && recording())
        fd_forget(dirfd(d));
    if (!REAL(closedir))
        MISSING(-1);
    return REAL(closedir)(d);
}

LH_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
    /* CLOSE_RANGE_CLOEXEC only marks them. */
    if (recording() && !(flags & CLOSE_RANGE_CLOEXEC) && first <= last)
        fd_forget_range(first, last);
    if (!REAL(close_range))
        MISSING(-1);
    return REAL(close_range)(first, last, flags);
}

LH_EXPORT void closefrom(int lowfd)
{
    if (recording() && lowfd >= 0)
        fd_forget_range((unsigned)lowfd, ~0u);
    if (REAL(closefrom))
        REAL(closefrom)(lowfd);
}

/* ---- snapshots ----------------------------------------------------------- */

typedef struct fd_ent {
    int fd;
    int has;                    /* a valid record */
    uint64_t seq;
    int id;
    size_t target;              /* offset into the snapshot's strings */
} fd_ent;

struct lh_fdsnap {
    int n;
    fd_ent *e;                  /* sorted by fd */
    lh_buf strings;
};

static int cmp_fd(const void *x, const void *y)
{
    const fd_ent *a = x, *b = y;
    return (a->fd > b->fd) - (a->fd < b->fd);
}

typedef struct snap_ctx {
    lh_fdsnap *s;
    int cap;
    int oom;
} snap_ctx;

/* One entry of /proc/self/fd: its target and its record. */
static int snap_entry(int dfd, long num, const char *name, void *ud)
{
    snap_ctx *c = ud;
    lh_fdsnap *s = c->s;
    int fd = (int)num;
    if (lh_proc_own_fd(fd))
        return 0;
    if (s->n == c->cap) {
        int nc = c->cap > INT_MAX / 2 ? 0 : c->cap ? c->cap * 2 : 256;
        fd_ent *ne = nc ? lh_raw_realloc(s->e, (size_t)nc * sizeof *ne) : NULL;
        if (!ne) {
            c->oom = 1;
            return 1;
        }
        s->e = ne;
        c->cap = nc;
    }
    fd_ent *e = &s->e[s->n];
    char target[4096];
    ssize_t k = readlinkat(dfd, name, target, sizeof target - 1);
    if (k < 0)
        return 0;               /* closed meanwhile */
    target[k] = '\0';
    e->fd = fd;
    e->has = 0;
    e->seq = 0;
    e->id = -1;
    e->target = s->strings.len;
    lh_buf_add(&s->strings, target, (size_t)k + 1);
    if (fd < fd_cap) {
        fd_rec r;
        lh_spin_lock(&fd_lock);
        r = fd_tab[fd];
        lh_spin_unlock(&fd_lock);
        struct stat st;
        if (r.seq && fstat(fd, &st) == 0 && (uint64_t)st.st_dev == r.dev &&
            (uint64_t)st.st_ino == r.ino) {
            e->has = 1;
            e->seq = r.seq;
            e->id = r.id;
        }
    }
    s->n++;
    return 0;
}

lh_fdsnap *lh_fddiag_snapshot(void)
{
    lh_fdsnap *s = lh_raw_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    /* Through the probes' kept directory fd: works when the target has
     * used every fd, opens nothing, records nothing. */
    snap_ctx c = { s, 0, 0 };
    if (lh_proc_list_self(LH_PROC_FD_DIR, snap_entry, &c) < 0 || c.oom) {
        lh_fddiag_free(s);
        return NULL;
    }
    /* /proc lists fds in order: an insertion sort is linear here, and
     * unlike glibc's qsort it never mallocs (the fuzz oracle snapshots
     * without a counted allocation). */
    for (int i = 1; i < s->n; i++) {
        fd_ent t = s->e[i];
        int j = i;
        for (; j > 0 && cmp_fd(&s->e[j - 1], &t) > 0; j--)
            s->e[j] = s->e[j - 1];
        s->e[j] = t;
    }
    return s;
}

void lh_fddiag_free(lh_fdsnap *s)
{
    if (!s)
        return;
    lh_raw_free(s->e);
    lh_buf_free(&s->strings);
    lh_raw_free(s);
}

static const fd_ent *find_fd(const lh_fdsnap *s, int fd)
{
    int lo = 0, hi = s->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (s->e[mid].fd == fd)
            return &s->e[mid];
        if (s->e[mid].fd < fd)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

static const char *target_of(const lh_fdsnap *s, const fd_ent *e)
{
    return s->strings.data + e->target;
}

/* "socket:[1234]" and "pipe:[99]" differ per fd; their kind is what
 * a summary should count. */
static void target_kind(const char *t, char *out, size_t len)
{
    const char *br = strstr(t, ":[");
    if (br && (strncmp(t, "socket:", 7) == 0 || strncmp(t, "pipe:", 5) == 0))
        snprintf(out, len, "%.*s", (int)(br - t), t);
    else
        snprintf(out, len, "%s", t);
}

/* "/dev/null x 12, socket x 3, ... (+2 more)" from the targets of the
 * items in one site. */
static void summarize(const lh_fdsnap *b, const int *items, int n,
                      char *out, size_t len)
{
    lh_tally *t = lh_raw_calloc((size_t)(n ? n : 1), sizeof *t);
    out[0] = '\0';
    if (!t)
        return;
    int nt = 0;
    for (int i = 0; i < n; i++) {
        char k[256];
        target_kind(target_of(b, &b->e[items[i]]), k, sizeof k);
        nt = lh_tally_add(t, nt, k);
    }
    lh_tally_format(t, nt, out, len);
    lh_raw_free(t);
}

int lh_fddiag_diff(const lh_fdsnap *a, const lh_fdsnap *b, lh_site *out,
                   int max)
{
    if (!a || !b || max <= 0)
        return 0;
    int n = b->n;
    int *items = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *items);
    int *ids = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *ids);
    int *group = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *group);
    int *mine = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *mine);
    int m = 0, written = 0;
    if (!items || !ids || !group || !mine)
        goto out;
    for (int i = 0; i < n; i++) {
        const fd_ent *e = &b->e[i];
        const fd_ent *o = find_fd(a, e->fd);
        /* Same number, same target, same record: the same descriptor. */
        if (o && o->has == e->has && o->seq == e->seq &&
            strcmp(target_of(a, o), target_of(b, e)) == 0)
            continue;
        items[m] = i;
        ids[m] = e->has ? e->id : -1;
        m++;
    }
    written = lh_sites_group(ids, NULL, NULL, m, out, max, group);
    for (int s = 0; s < written; s++) {
        int k = 0;
        for (int i = 0; i < m; i++)
            if (group[i] == s)
                mine[k++] = items[i];
        char sum[256];
        summarize(b, mine, k, sum, sizeof sum);
        lh_site_describe(&out[s], sum, LH_FD_UNRECORDED);
    }
out:
    lh_raw_free(items);
    lh_raw_free(ids);
    lh_raw_free(group);
    lh_raw_free(mine);
    return written;
}
