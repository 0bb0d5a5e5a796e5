/*
 * diagtarget.c - a dlopen'd library for test_diag_c, built like the
 * bundled targets: -O2, no frame pointers, hidden visibility.
 *
 * Its stacks can only be unwound from .eh_frame, and its helpers are
 * visible to addr2line only (dladdr sees the exported functions alone),
 * which is what the diagnosis must cope with in real targets.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define EXPORT __attribute__((visibility("default")))

typedef void (*diag_cb)(void *);

static void *volatile kept[100000];
static size_t nkept;

/* Hidden, never inlined: the frame to blame is this one. */
__attribute__((noinline))
static void diag_keep_block(size_t size)
{
    void *p = malloc(size);
    if (nkept < sizeof kept / sizeof *kept)
        kept[nkept++] = p;
}

EXPORT void diag_leak(int n, size_t size)
{
    for (int i = 0; i < n; i++)
        diag_keep_block(size);
}

EXPORT void diag_release(void)
{
    while (nkept > 0)
        free(kept[--nkept]);
}

/* Recursion with real work in each frame, so -O2 can neither turn it
 * into a loop nor drop the frames; the callback runs at the bottom. */
__attribute__((noinline))
static int diag_deep(int depth, diag_cb cb, void *arg, volatile int *sink)
{
    char pad[64];
    for (int i = 0; i < (int)sizeof pad; i++)
        pad[i] = (char)(depth + i);
    if (depth == 0)
        cb(arg);
    else
        *sink += diag_deep(depth - 1, cb, arg, sink);
    return pad[depth % (int)sizeof pad];
}

EXPORT int diag_call_deep(int depth, diag_cb cb, void *arg)
{
    volatile int sink = 0;
    return diag_deep(depth, cb, arg, &sink) + sink;
}
