/*
 * alloc.c - the harness's own allocator: glibc's, reached past the
 * interposer, so nothing allocated here is ever counted as the target's.
 */
#include "alloc.h"

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
