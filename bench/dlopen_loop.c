/*
 * dlopen_loop.c - the baseline for ci/bench-fuzz's start-up figures: the
 * plainest way to run an op, a dlopen and a loop (no harness at all).
 *
 *   dlopen_loop LIB OP ITERATIONS INPUT
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*op_fn)(const uint8_t *, size_t);

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: dlopen_loop LIB OP ITERATIONS INPUT\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW);
    op_fn op = lib ? (op_fn)(uintptr_t)dlsym(lib, argv[2]) : NULL;
    if (!op) {
        fprintf(stderr, "dlopen_loop: %s\n", dlerror());
        return 2;
    }
    long n = atol(argv[3]);
    for (long i = 0; i < n; i++)
        op((const uint8_t *)argv[4], strlen(argv[4]));
    return 0;
}
