/*
 * alloc.c - the harness's own allocator: glibc's, reached past the
 * interposer, so nothing allocated here is ever counted as the target's.
 */
#include "alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* glibc's real allocator.  Public GLIBC_2.2.5 symbols: calling them
 * bypasses symbol lookup, so they reach glibc even when the executable
 * interposes malloc (probe/interpose.c). */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

void *lh_raw_malloc(size_t size)
{
    return __libc_malloc(size);
}

void *lh_raw_calloc(size_t n, size_t size)
{
    return __libc_calloc(n, size);
}

void *lh_raw_realloc(void *p, size_t size)
{
    return __libc_realloc(p, size);
}

void lh_raw_free(void *p)
{
    __libc_free(p);
}

char *lh_raw_strdup(const char *s)
{
    /* Not strdup: libc's strdup calls the interposed malloc. */
    size_t len = strlen(s) + 1;
    char *copy = __libc_malloc(len);
    if (copy)
        memcpy(copy, s, len);
    return copy;
}

static _Noreturn void out_of_memory(size_t n, size_t size)
{
    /* No allocation here: stdio on stderr is unbuffered. */
    if (n == 1)
        fprintf(stderr, "leakhound: out of memory (allocating %zu bytes)\n",
                size);
    else
        fprintf(stderr, "leakhound: out of memory (allocating %zu x %zu "
                "bytes)\n", n, size);
    abort();
}

size_t lh_xmul(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        out_of_memory(n, size);
    return n * size;
}

void *lh_xmalloc(size_t size)
{
    void *p = __libc_malloc(size ? size : 1);
    if (!p)
        out_of_memory(1, size);
    return p;
}

void *lh_xcalloc(size_t n, size_t size)
{
    lh_xmul(n, size);
    void *p = __libc_calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory(n, size);
    return p;
}

void *lh_xrealloc(void *p, size_t size)
{
    void *q = __libc_realloc(p, size ? size : 1);
    if (!q)
        out_of_memory(1, size);
    return q;
}

char *lh_xstrdup(const char *s)
{
    size_t len = strlen(s) + 1;
    char *copy = lh_xmalloc(len);
    memcpy(copy, s, len);
    return copy;
}

void *lh_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        __libc_free(ptr);
        return NULL;
    }
    return __libc_realloc(ptr, nsize);
}

void *lh_raw_mmap(void *addr, size_t len, int prot, int flags, int fd,
                  off_t off)
{
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

int lh_raw_munmap(void *addr, size_t len)
{
    return (int)syscall(SYS_munmap, addr, len);
}
