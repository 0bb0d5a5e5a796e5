/* outdir.c - output directories checked before the work, locked for it. */
#include "outdir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

/* probe: really create a file (permission bits do not stop root, and some
 * filesystems take no new file whatever they say); otherwise only ask the
 * kernel, and let the caller's lock file be the real write. */
static int check_dir(const char *dir, const char *const *files, lh_buf *err,
                     int probe)
{
    size_t len = strlen(dir);
    if (len + LH_OUTDIR_ROOM >= PATH_MAX) {
        lh_buf_printf(err, "%.60s...: path too long (%zu characters; at "
                      "most %d, to leave room for the files inside)", dir,
                      len, PATH_MAX - LH_OUTDIR_ROOM - 1);
        return -1;
    }
    struct stat st;
    if (lh_mkdir_p(dir) < 0) {
        lh_buf_printf(err, "%s: cannot create the directory: %s", dir,
                      strerror(errno));
        return -1;
    }
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        lh_buf_printf(err, "%s: not a directory", dir);
        return -1;
    }
    if (!probe && faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0) {
        lh_buf_printf(err, "%s: not writable: %s", dir, strerror(errno));
        return -1;
    }
    if (probe) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/.leakhound-probe.%ld", dir,
                 (long)getpid());
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, "x", 1) != 1) {
            int e = errno;
            if (fd >= 0) {
                close(fd);
                unlink(path);
            }
            lh_buf_printf(err, "%s: not writable: %s", dir, strerror(e));
            return -1;
        }
        close(fd);
        unlink(path);
    }
    for (int i = 0; files && files[i]; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        /* a rename replaces anything but a directory */
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            lh_buf_printf(err, "%s: a directory in the way of the report",
                          path);
            return -1;
        }
    }
    return 0;
}

int lh_outdir_check(const char *dir, const char *const *files, lh_buf *err)
{
    return check_dir(dir, files, err, 1);
}

int lh_outdir_claim(const char *dir, const char *const *files, lh_buf *err)
{
    /* The lock file, created once and written by every run, is the real
     * write: a file created and removed per run costs an inode each time
     * (~0.4 ms on a busy ext4 without journal; issue 13). */
    if (check_dir(dir, files, err, 0) < 0)
        return -1;
    return lh_outdir_lock(dir, err);
}

int lh_outdir_clear(const char *dir, const char *const *files, lh_buf *err)
{
    char path[PATH_MAX];
    for (int i = 0; files && files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (unlink(path) < 0 && errno != ENOENT) {
            lh_buf_printf(err, "%s: cannot remove the previous run's: %s",
                          path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* The directories this process holds, so that taking one again (the
 * supervisor after `test`) does not conflict with our own flock. */
#define HELD_MAX 16
static struct { dev_t dev; ino_t ino; pid_t pid; } held[HELD_MAX];
static int nheld;

int lh_outdir_lock(const char *dir, lh_buf *err)
{
    struct stat st;
    if (stat(dir, &st) < 0) {
        lh_buf_printf(err, "%s: %s", dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < nheld; i++)
        if (held[i].dev == st.st_dev && held[i].ino == st.st_ino &&
            held[i].pid == getpid())
            return 0;   /* not in a forked copy: it only shares the fd */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/" LH_OUTDIR_LOCK, dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        lh_buf_printf(err, "%s: cannot create the lock file: %s", path,
                      strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        if (e == EWOULDBLOCK)
            lh_buf_printf(err, "%s is in use by another leakhound run (pid "
                          "%s; lock %s): wait for it to finish or use "
                          "another directory", dir, *pid ? pid : "unknown",
                          path);
        else
            lh_buf_printf(err, "%s: cannot lock: %s", path, strerror(e));
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        lh_buf_printf(err, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (nheld < HELD_MAX) {
        held[nheld].dev = st.st_dev;
        held[nheld].ino = st.st_ino;
        held[nheld].pid = getpid();
        nheld++;
    }
    return 0;   /* fd stays open: the lock lives as long as the process */
}
