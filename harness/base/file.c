/* file.c - whole files: atomic writes, reads, mkdir -p, listings. */
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "text.h"

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

enum { SYNC_FILE = 1, SYNC_DIR = 2 };

static int write_atomic(const char *path, const void *data, size_t len,
                        int sync);

int lh_write_atomic(const char *path, const void *data, size_t len)
{
    return write_atomic(path, data, len, SYNC_FILE | SYNC_DIR);
}

int lh_write_atomic_nodirsync(const char *path, const void *data,
                              size_t len)
{
    return write_atomic(path, data, len, SYNC_FILE);
}

int lh_write_atomic_nosync(const char *path, const void *data, size_t len)
{
    return write_atomic(path, data, len, 0);
}

static void sync_dir_of(const char *path)
{
    char dir[4096];
    lh_path_dir(dir, sizeof dir, path);
    lh_sync_dir(dir);
}

void lh_sync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

static int write_atomic(const char *path, const void *data, size_t len,
                        int sync)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (write_all(fd, data, len) < 0 ||
        ((sync & SYNC_FILE) && fsync(fd) < 0)) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    /* Make the rename itself durable. */
    if (sync & SYNC_DIR)
        sync_dir_of(path);
    return 0;
}

int lh_mkdir_p(const char *path)
{
    char tmp[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof tmp) {
        errno = len ? ENAMETOOLONG : ENOENT;
        return -1;
    }
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

int lh_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int lh_read_file(const char *path, lh_buf *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char chunk[16384];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        lh_buf_add(b, chunk, (size_t)n);
    }
    close(fd);
    if (!b->data)
        lh_buf_add(b, "", 0);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int lh_list_dir(const char *dir, lh_buf *b)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    lh_buf all = LH_BUF_INIT;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        lh_buf_add(&all, e->d_name, strlen(e->d_name) + 1);
        n++;
    }
    closedir(d);
    const char **names = lh_xcalloc(n ? n : 1, sizeof *names);
    const char *p = all.data;
    for (size_t i = 0; i < n; i++, p += strlen(p) + 1)
        names[i] = p;
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++)
        lh_buf_add(b, names[i], strlen(names[i]) + 1);
    lh_buf_add(b, "", 1);
    lh_raw_free(names);
    lh_buf_free(&all);
    return (int)n;
}
