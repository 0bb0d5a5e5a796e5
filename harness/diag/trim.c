/*
 * trim.c - which frames of a stack are the harness's own.
 */
#include "trim.h"

#include <stdatomic.h>
#include <string.h>

/* Return addresses learnt by calibration (one writer). */
#define TRIM_LEARNT_MAX 64
static uintptr_t learnt[TRIM_LEARNT_MAX];
static atomic_int nlearnt;

static int is_learnt(uintptr_t pc)
{
    int n = atomic_load_explicit(&nlearnt, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (learnt[i] == pc)
            return 1;
    return 0;
}

void lh_trim_learn(const uintptr_t *pcs, int n)
{
    for (int k = 0; k < n; k++) {
        int m = atomic_load_explicit(&nlearnt, memory_order_relaxed);
        if (!is_learnt(pcs[k]) && m < TRIM_LEARNT_MAX) {
            learnt[m] = pcs[k];
            atomic_store_explicit(&nlearnt, m + 1, memory_order_release);
        }
    }
}

int lh_trim_leading(const uintptr_t *pcs, int n, uintptr_t ra)
{
    int lim = n < LH_TRIM_SCAN ? n : LH_TRIM_SCAN;
    if (ra)
        for (int i = 0; i < lim; i++)
            if (pcs[i] == ra)
                return i;
    int k = 0;
    while (k < lim && is_learnt(pcs[k]))
        k++;
    return k;
}

/* Functions the harness defines in the executable around the target's
 * calls: the malloc family, the fd and thread interposers, and the
 * interposer's static helpers (named by addr2line).  Everything else of
 * the harness is named lh_*. */
static const char *const harness_funcs[] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "cfree",
    "posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc",
    "run_hook", "note_alloc", "note_free", "counted", "counted_realloc",
    "open", "open64", "__open_2", "__open64_2", "openat", "openat64",
    "__openat_2", "__openat64_2", "creat", "creat64", "socket",
    "socketpair", "pipe", "pipe2", "dup", "dup2", "dup3", "accept",
    "accept4", "eventfd", "timerfd_create", "epoll_create",
    "epoll_create1", "memfd_create", "signalfd", "inotify_init",
    "inotify_init1", "fopen", "fopen64", "freopen", "freopen64", "tmpfile",
    "tmpfile64", "mkstemp", "mkstemp64", "mkostemp", "mkostemp64",
    "opendir", "popen", "fcntl", "fcntl64", "close", "fclose", "pclose",
    "closedir", "close_range", "closefrom", "pthread_create",
};

static int name_is_harness(const char *f)
{
    if (!f)
        return 0;
    if (strncmp(f, "lh_", 3) == 0)
        return 1;
    for (size_t i = 0; i < sizeof harness_funcs / sizeof *harness_funcs;
         i++)
        if (strcmp(f, harness_funcs[i]) == 0)
            return 1;
    return 0;
}

int lh_trim_frame(uintptr_t pc, int in_main, const char *func)
{
    return is_learnt(pc) || (in_main && name_is_harness(func));
}
