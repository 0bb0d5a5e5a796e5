/* Scratch libFuzzer driver for a statically linked Go c-archive target.
 * SCRATCH_OP=name of the op; SCRATCH_GATE=goroutines | gauge:NAME | none.
 * Traps when the gate metric rises (goroutines: rises and stays up after a
 * settle). Ops and probe functions are found with dlsym on the executable. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>

typedef int (*op_fn)(const uint8_t *, size_t);
typedef int64_t (*i64_fn)(void);
typedef void (*void_fn)(void);

static op_fn op;
static i64_fn gauge;       /* metric to watch */
static void_fn settle;
static int gate_goroutines;
static int64_t baseline;
static struct timespec t0;
static unsigned long long execs;
static unsigned long probe_every;
static int64_t (*profile)(char *, int64_t);
static char profbuf[1 << 16];

static void *need(const char *name)
{
    void *p = dlsym(RTLD_DEFAULT, name);
    if (!p) {
        fprintf(stderr, "scratch: no symbol %s (%s)\n", name, dlerror());
        exit(2);
    }
    return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *opn = getenv("SCRATCH_OP");
    const char *gate = getenv("SCRATCH_GATE");
    if (!opn) opn = "OpGoroutineClean";
    if (!gate) gate = "none";
    op = (op_fn)need(opn);
    /* First call into Go: blocks until the runtime (and its libFuzzer
     * registration) has finished initializing. */
    i64_fn ver = (i64_fn)need("leakhound_go_probe_version");
    fprintf(stderr, "scratch: probe version %lld, op %s, gate %s\n",
            (long long)ver(), opn, gate);
    settle = (void_fn)need("leakhound_go_settle");
    profile = (int64_t (*)(char *, int64_t))need("leakhound_go_goroutine_profile");
    if (getenv("SCRATCH_PROBE_EVERY")) probe_every = strtoul(getenv("SCRATCH_PROBE_EVERY"), 0, 10);
    if (strcmp(gate, "goroutines") == 0) {
        gauge = (i64_fn)need("leakhound_go_goroutines");
        gate_goroutines = 1;
    } else if (strncmp(gate, "gauge:", 6) == 0) {
        char buf[128];
        snprintf(buf, sizeof buf, "leakhound_gauge_%s", gate + 6);
        gauge = (i64_fn)need(buf);
    }
    if (gauge) {
        settle();
        baseline = gauge();
        fprintf(stderr, "scratch: baseline %lld\n", (long long)baseline);
    }
    return 0;
}

static double elapsed(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
}

static void sig_fixup(void)
{
    int dump = getenv("SCRATCH_SIGDUMP") != NULL;
    int fix = getenv("SCRATCH_ONSTACK") != NULL;
    for (int sig = 1; sig < 32; sig++) {
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) != 0)
            continue;
        void *h = (sa.sa_flags & SA_SIGINFO) ? (void *)sa.sa_sigaction : (void *)sa.sa_handler;
        if (h == (void *)SIG_DFL || h == (void *)SIG_IGN)
            continue;
        Dl_info di = {0};
        dladdr(h, &di);
        if (dump)
            fprintf(stderr, "scratch: sig %2d %-8s handler %s flags %#x%s\n", sig,
                    sigabbrev_np(sig), di.dli_sname ? di.dli_sname : "?", sa.sa_flags,
                    (sa.sa_flags & SA_ONSTACK) ? " ONSTACK" : " (no SA_ONSTACK)");
        if (fix && !(sa.sa_flags & SA_ONSTACK)) {
            sa.sa_flags |= SA_ONSTACK;
            sigaction(sig, &sa, NULL);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int first = 1;
    if (first) {
        first = 0;
        sig_fixup();
    }
    if (getenv("SCRATCH_CSEGV") && size >= 4 && memcmp(data, "CSEG", 4) == 0)
        *(volatile int *)(uintptr_t)size = 1; /* fault in C code */
    op(data, size);
    execs++;
    if (probe_every && execs % probe_every == 0) {
        settle();
        profile(profbuf, sizeof profbuf);
    }
    if (!gauge)
        return 0;
    int64_t v = gauge();
    if (v > baseline) {
        if (gate_goroutines) {
            settle();
            v = gauge();
            if (v <= baseline)
                return 0;
        }
        fprintf(stderr, "scratch: GATE REACHED after %.2f s, %llu execs: "
                "metric %lld -> %lld, input %zu bytes: ",
                elapsed(), execs, (long long)baseline, (long long)v, size);
        for (size_t i = 0; i < size && i < 32; i++)
            fprintf(stderr, (data[i] >= 32 && data[i] < 127) ? "%c" : "\\x%02x", data[i]);
        fprintf(stderr, "\n");
        __builtin_trap();
    }
    return 0;
}
