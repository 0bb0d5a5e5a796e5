/*
 * alloc.h - uncounted allocation for the harness itself and for Lua.
 *
 * The worker interposes the malloc family to count the target's heap
 * (probe/interpose.h); everything the harness keeps goes through these,
 * which reach glibc directly and are never counted.  Memory from them is
 * released with lh_raw_free / lh_raw_realloc.
 */
#ifndef LEAKHOUND_ALLOC_H
#define LEAKHOUND_ALLOC_H

#include <stddef.h>
#include <sys/types.h>

void *lh_raw_malloc(size_t size);
void *lh_raw_calloc(size_t n, size_t size);
void *lh_raw_realloc(void *p, size_t size);
void lh_raw_free(void *p);
char *lh_raw_strdup(const char *s);

/* The same, for results nobody checks: out of memory (or a size that
 * overflows) prints the size asked for and aborts. */
void *lh_xmalloc(size_t size);
void *lh_xcalloc(size_t n, size_t size);
void *lh_xrealloc(void *p, size_t size);
char *lh_xstrdup(const char *s);

/* n * size, or abort (as above) when it overflows. */
size_t lh_xmul(size_t n, size_t size);

/* lua_Alloc-compatible allocator over lh_raw_*. */
void *lh_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* mmap/munmap by raw syscall: the harness's own mappings, never counted
 * as the target's mapped memory.  MAP_FAILED / -1 with errno. */
void *lh_raw_mmap(void *addr, size_t len, int prot, int flags, int fd,
                  off_t off);
int lh_raw_munmap(void *addr, size_t len);

#endif
