/*
 * plain_fuzzer.c - the baseline for ci/bench-fuzz: a bare libFuzzer target
 * that calls one op of a bundled C target directly, no leakhound in the
 * loop.  Built once plain (-fsanitize=fuzzer) and once with LeakSanitizer
 * (-fsanitize=fuzzer,leak).  BENCH_OP names the op.
 *
 * Built with BENCH_DLOPEN, it calls the op in the library BENCH_LIB names
 * (its coverage copy, build/targets/c/fuzz/lib<op>.so), dlopened, as the
 * leakhound driver does: what that arrangement costs with no leakhound in
 * the loop.
 *
 * Built with BENCH_RECORD, it also writes every BENCH_RECORD_EVERY-th
 * input (default 10) to the directory BENCH_RECORD_DIR, one file each: a
 * fixed set of the inputs a plain run chose, to run through every driver
 * once as a seed corpus (-runs=0, no mutation) and profile them on the
 * same inputs (perf; the identical-input comparison of issue 13).
 */
#include <stddef.h>
#include <stdint.h>
#if defined BENCH_RECORD || defined BENCH_DLOPEN
#include <stdio.h>
#include <stdlib.h>
#endif
#ifdef BENCH_DLOPEN
#include <dlfcn.h>

#define STR(x) STR_(x)
#define STR_(x) #x

static int (*op)(const uint8_t *, size_t);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *lib = getenv("BENCH_LIB");
    void *h = lib ? dlopen(lib, RTLD_NOW | RTLD_LOCAL) : NULL;
    if (h)
        *(void **)&op = dlsym(h, STR(BENCH_OP));
    if (!op) {
        fprintf(stderr, "plain_fuzzer: BENCH_LIB=%s: %s\n",
                lib ? lib : "(unset)", lib ? dlerror() : "set it");
        exit(2);
    }
    return 0;
}

#define BENCH_CALL(d, n) op(d, n)
#else
int BENCH_OP(const uint8_t *data, size_t size);

#define BENCH_CALL(d, n) BENCH_OP(d, n)
#endif

#ifdef BENCH_RECORD
static void record(const uint8_t *data, size_t size)
{
    static const char *dir;
    static unsigned long every, seen, written;
    if (!dir) {
        const char *e = getenv("BENCH_RECORD_EVERY");
        dir = getenv("BENCH_RECORD_DIR");
        every = e ? strtoul(e, NULL, 10) : 10;
        if (!dir || !every) {
            fputs("plain_fuzzer: set BENCH_RECORD_DIR\n", stderr);
            exit(2);
        }
    }
    if (seen++ % every)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%08lu", dir, written++);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef BENCH_RECORD
    record(data, size);
#endif
    BENCH_CALL(data, size);
    return 0;
}
