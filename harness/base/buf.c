/* buf.c - growable buffer, atomic writes, directory listing. */
#include "buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

size_t lh_next_cap(size_t cap, size_t need, size_t first, size_t elem)
{
    size_t max = SIZE_MAX / (elem ? elem : 1);
    if (cap > max / 2)
        return 0;
    size_t ncap = cap ? cap * 2 : (first ? first : 1);
    while (ncap < need) {
        if (ncap > max / 2)
            return 0;
        ncap *= 2;
    }
    return ncap <= max ? ncap : 0;
}

int lh_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = lh_next_cap(*cap, need, 16, elem);
    if (!ncap) {
        errno = ENOMEM;
        return -1;
    }
    void *n = lh_raw_realloc(*arr, ncap * elem);
    if (!n)
        return -1;
    *arr = n;
    *cap = ncap;
    return 0;
}

void lh_buf_free(lh_buf *b)
{
    lh_raw_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void lh_buf_reset(lh_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static void reserve(lh_buf *b, size_t extra)
{
    if (extra < b->cap && b->len < b->cap - extra)
        return;
    /* Out of memory in the harness itself: nothing sensible remains. */
    size_t need = b->len + extra + 1;
    if (extra > SIZE_MAX - b->len - 1) {
        fprintf(stderr, "leakhound: out of memory (a buffer of %zu bytes "
                "growing by %zu)\n", b->len, extra);
        abort();
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = lh_xrealloc(b->data, cap);
    b->data = p;
    b->cap = cap;
}

void lh_buf_add(lh_buf *b, const void *data, size_t len)
{
    reserve(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void lh_buf_puts(lh_buf *b, const char *s)
{
    lh_buf_add(b, s, strlen(s));
}

void lh_buf_putc(lh_buf *b, char c)
{
    lh_buf_add(b, &c, 1);
}

void lh_buf_vprintf(lh_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof small) {
        lh_buf_add(b, small, (size_t)n);
    } else {
        reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void lh_buf_printf(lh_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lh_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

const char *lh_buf_str(const lh_buf *b)
{
    return b->data ? b->data : "";
}

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

int lh_write_atomic(const char *path, const void *data, size_t len)
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
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
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
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
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
