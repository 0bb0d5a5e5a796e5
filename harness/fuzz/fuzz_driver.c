/*
 * fuzz_driver.c - a workload as a libFuzzer / AFL++ fuzz target.
 *
 * Linked with -fsanitize=fuzzer (libFuzzer) or libAFLDriver.a (AFL++), this
 * file turns a leakhound workload into LLVMFuzzerTestOneInput: each input
 * is passed to the workload's step under the leak oracle, which confirms
 * growth by replaying the input and writes the confirmed case as an
 * artifact before telling the engine.  Configured by the environment
 * (`leakhound fuzz` sets it):
 *
 *   LEAKHOUND_SCRIPT      the workload script (required)
 *   LEAKHOUND_WORKLOAD    the workload's name (required)
 *   LEAKHOUND_ENGINE      libfuzzer (default) or afl
 *   LEAKHOUND_ARTIFACTS   artifact directory when the engine gives none
 *                         (libFuzzer's -artifact_prefix wins)
 *   LEAKHOUND_MODE        fuzz (default) or minimize: report as a crash
 *                         only an input that reproduces a leak on
 *                         LEAKHOUND_METRIC
 *   LEAKHOUND_FEEDBACK    0 turns off growth-as-coverage feedback
 *   LEAKHOUND_REPS        confirmation repetitions (default 16)
 *   LEAKHOUND_SEED        seed for the workload's input generators
 *   LEAKHOUND_KNOWN       a file of leak signatures (one a line) already
 *                         filed elsewhere (`nightly`): not reported again
 *   LEAKHOUND_KNOWN_BUDGET  bytes the process may grow while known leaks
 *                         keep leaking in it; past them it exits with
 *                         LH_DRIVER_RESTART_EXIT (0 or unset: no limit)
 *   LEAKHOUND_ORACLE_STATS  1: print the oracle's counters at exit (what
 *                         the leak checks cost: ci/bench)
 *   LEAKHOUND_STATIC_TARGET, LEAKHOUND_TARGET_OVERRIDE   see target.c
 *   LEAKHOUND_ROOT        where the script's relative paths start (lua_leak.c)
 *
 * Without LEAKHOUND_SCRIPT the driver configures itself from a file next to
 * its executable, <driver>.leakhound: ClusterFuzzLite and OSS-Fuzz start
 * $OUT/<fuzzer> with libFuzzer flags and none of our environment, so each
 * fuzzer there is a copy of a driver with such a file
 * (.clusterfuzzlite/build.sh writes them).  One NAME=VALUE per line, NAME
 * one of the variables above; '#' starts a comment line.  Paths in
 * LEAKHOUND_SCRIPT, LEAKHOUND_ROOT, LEAKHOUND_ARTIFACTS and the path part
 * of LEAKHOUND_TARGET_OVERRIDE are relative to the file's directory, so
 * the fuzzer runs from any directory and wherever $OUT is copied.  A
 * variable set in the environment wins over the file.
 *
 * A confirmed leak ends the process the way the engine expects a finding
 * to: libFuzzer's convention for leaks (leak-<sha1> artifact, exit 77),
 * AFL++'s for crashes (abort, the forkserver records it).  `leakhound fuzz`
 * restarts the engine to look for more.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "artifact.h"
#include "buf.h"
#include "coverage.h"
#include "file.h"
#include "interpose.h"
#include "oracle.h"
#include "session.h"
#include "text.h"

#define LEAK_EXIT 77    /* libFuzzer's -error_exitcode default */

typedef struct driver {
    const char *script;
    const char *workload;
    const char *engine;
    const char *metric_filter;  /* minimize: the metric to reproduce */
    int minimize;
    int feedback;
    int reps;
    unsigned long long seed;
    char prefix[4096];          /* artifact prefix */
    lh_session s;
    lh_oracle *oracle;
    lh_buf known;               /* signatures found by earlier runs */
    double known_budget;        /* LEAKHOUND_KNOWN_BUDGET, bytes */
} driver;

static driver drv;

/*
 * Growth fed back to libFuzzer as extra coverage: a log-scale ladder per
 * metric, so an input that retains more than any before it is "new
 * coverage" and is kept and mutated further.
 */
__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t extra_counters[48];

static void die(const char *fmt, const char *arg)
{
    fputs("leakhound fuzz driver: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static void parse_engine_args(driver *d, int argc, char **argv)
{
    const char *dir = getenv("LEAKHOUND_ARTIFACTS");
    if (dir)
        snprintf(d->prefix, sizeof d->prefix, "%s/", dir);
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "-artifact_prefix=", 17) == 0)
            snprintf(d->prefix, sizeof d->prefix, "%s", argv[i] + 17);
        else if (strncmp(argv[i], "-seed=", 6) == 0 && !d->seed)
            d->seed = strtoull(argv[i] + 6, NULL, 10);
    }
}

/* The directory part of the artifact prefix, to read earlier findings. */
static void prefix_dir(const char *prefix, char *out, size_t len)
{
    lh_path_dir(out, len, prefix);
}

/* The configuration file in use, "" when configured by the environment. */
static char config_file[4096];

static void config_die(int line, const char *fmt, const char *arg)
{
    fprintf(stderr, "leakhound fuzz driver: %s:", config_file);
    if (line > 0)
        fprintf(stderr, "%d:", line);
    fputc(' ', stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

/* Variables a configuration file may set; the flag marks path values. */
static const struct {
    const char *name;
    int path;
} config_vars[] = {
    { "LEAKHOUND_SCRIPT", 1 }, { "LEAKHOUND_WORKLOAD", 0 },
    { "LEAKHOUND_ROOT", 1 }, { "LEAKHOUND_ARTIFACTS", 1 },
    { "LEAKHOUND_STATIC_TARGET", 0 }, { "LEAKHOUND_TARGET_OVERRIDE", 2 },
    { "LEAKHOUND_ENGINE", 0 }, { "LEAKHOUND_MODE", 0 },
    { "LEAKHOUND_METRIC", 0 }, { "LEAKHOUND_FEEDBACK", 0 },
    { "LEAKHOUND_REPS", 0 }, { "LEAKHOUND_SEED", 0 },
    { "LEAKHOUND_KNOWN", 1 }, { "LEAKHOUND_KNOWN_BUDGET", 0 },
    { "LEAKHOUND_ORACLE_STATS", 0 },
};

/* Set one NAME=VALUE line of the configuration file in the environment. */
static void config_set(char *line, int lineno, const char *dir)
{
    char *eq = strchr(line, '=');
    if (!eq || eq == line)
        config_die(lineno, "expected NAME=VALUE, got '%s'", line);
    *eq = '\0';
    const char *value = eq + 1;
    int kind = -1;
    for (size_t i = 0; i < sizeof config_vars / sizeof config_vars[0]; i++)
        if (strcmp(line, config_vars[i].name) == 0)
            kind = config_vars[i].path;
    if (kind < 0)
        config_die(lineno, "unknown variable '%s' (see fuzz_driver.c, or "
                   "README: Scale out)", line);
    char buf[8192];
    /* The path part: the value, or what follows LIB=... in an override. */
    const char *rel = kind == 2 ? strchr(value, '=') : value;
    if (kind == 2 && !rel)
        config_die(lineno, "LEAKHOUND_TARGET_OVERRIDE wants "
                   "libNAME.so=PATH, got '%s'", value);
    if (kind == 2)
        rel++;
    if (kind && rel[0] && rel[0] != '/') {
        snprintf(buf, sizeof buf, "%.*s%s/%s", (int)(rel - value), value,
                 dir, rel);
        value = buf;
    }
    setenv(line, value, 0);
}

/* The configuration file for this executable: <argv0>.leakhound (a copy or
 * a symlink named for the fuzzer), else beside /proc/self/exe. */
static int find_config(const char *argv0, char *tried, size_t len)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    const char *cand[2] = { strchr(argv0, '/') ? argv0 : NULL,
                            exe[0] ? exe : NULL };
    tried[0] = '\0';
    for (int i = 0; i < 2; i++) {
        if (!cand[i])
            continue;
        snprintf(config_file, sizeof config_file, "%s.leakhound", cand[i]);
        if (access(config_file, F_OK) == 0)
            return 0;
        size_t used = strlen(tried);
        snprintf(tried + used, len - used, "%s%s", used ? ", " : "",
                 config_file);
    }
    config_file[0] = '\0';
    return -1;
}

static void load_config(const char *argv0)
{
    char tried[8300];
    if (find_config(argv0, tried, sizeof tried) < 0)
        die("LEAKHOUND_SCRIPT is not set and there is no configuration "
            "file next to the driver (looked for %s); run it through "
            "`leakhound fuzz`, or see README: Scale out", tried);
    FILE *f = fopen(config_file, "r");
    if (!f)
        config_die(0, "cannot read it: %s", strerror(errno));
    char dir[4096];
    lh_path_dir(dir, sizeof dir, config_file);
    char line[8192];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
                     line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = '\0';
        char *p = line + strspn(line, " \t");
        if (*p && *p != '#')
            config_set(p, lineno, dir);
    }
    fclose(f);
    if (!getenv("LEAKHOUND_SCRIPT") || !getenv("LEAKHOUND_WORKLOAD"))
        config_die(0, "%s", "LEAKHOUND_SCRIPT and LEAKHOUND_WORKLOAD "
                   "must both be set");
}

/* The signatures not to report: the artifacts already in the artifact
 * directory (other processes, earlier runs) and LEAKHOUND_KNOWN's lines. */
static int load_known(driver *d)
{
    char dir[4096];
    prefix_dir(d->prefix, dir, sizeof dir);
    lh_buf_reset(&d->known);
    int n = lh_artifact_known(dir, &d->known);
    const char *file = getenv("LEAKHOUND_KNOWN");
    lh_buf text = LH_BUF_INIT;
    if (file && *file && lh_read_file(file, &text) == 0) {
        d->known.len--;     /* reopen the list: drop its empty last name */
        for (char *line = text.data; line && *line;) {
            char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            if (len) {
                lh_buf_add(&d->known, line, len);
                lh_buf_add(&d->known, "", 1);
            }
            line = nl ? nl + 1 : NULL;
        }
        lh_buf_add(&d->known, "", 1);
    }
    lh_buf_free(&text);
    return n;
}

static int known(const driver *d, const char *signature)
{
    for (const char *p = lh_buf_str(&d->known); *p; p += strlen(p) + 1)
        if (strcmp(p, signature) == 0)
            return 1;
    return 0;
}

/* The oracle's counters, for ci/bench: how much confirming cost. */
static void print_stats(void)
{
    lh_oracle_stats st;
    if (!drv.oracle)
        return;
    lh_oracle_get_stats(drv.oracle, &st);
    fprintf(stderr, "leakhound: oracle: %llu inputs, %llu triggers, "
            "%llu confirmations, %llu distinct runs (%llu steps), "
            "%llu skipped, %llu known clean by site, %llu waits for "
            "in-flight goroutines, %llu idles for expiry, proc read every "
            "%d\n",
            (unsigned long long)st.inputs, (unsigned long long)st.triggers,
            (unsigned long long)st.confirmations,
            (unsigned long long)st.distinct_runs,
            (unsigned long long)st.distinct_steps,
            (unsigned long long)st.skipped,
            (unsigned long long)st.clean_sites,
            (unsigned long long)st.drain_waits,
            (unsigned long long)st.ttl_idles, st.proc_every);
}

/* Known leaks kept leaking here past the budget: a clean exit, which
 * `leakhound fuzz` takes for "restart the engine" (on the same corpus,
 * with a fresh heap); the line says how far it got, so that a restart
 * loop that never gets past the corpus is told from one that fuzzes. */
static void restart_for_memory(void *ctx, double held)
{
    driver *d = ctx;
    lh_oracle_stats st;
    lh_oracle_get_stats(d->oracle, &st);
    fprintf(stderr, "leakhound: restart: leaks already known kept leaking: "
            "the process grew by %.1f MiB (budget %.1f MiB) after %llu "
            "inputs\n", held / 1048576.0, d->known_budget / 1048576.0,
            (unsigned long long)st.inputs);
    _exit(LH_DRIVER_RESTART_EXIT);
}

/* The known signatures, to the oracle: confirming one again is a
 * duplicate, and memory it keeps counts against the budget. */
static void known_to_oracle(driver *d)
{
    for (const char *p = lh_buf_str(&d->known); *p; p += strlen(p) + 1)
        lh_oracle_add_known(d->oracle, p);
}

/*
 * An input on which the target calls exit() is a crash, not a normal end:
 * AFL++ takes exit(0) for one, and the input would never be judged.
 * (_exit() runs no handler: `fuzz` tells an engine that ended before its
 * budget from one that spent it.)
 */
static int in_step;     /* exit() runs the handler on this thread */

static void exit_in_step(void)
{
    if (!in_step)
        return;
    fprintf(stderr, "==%ld== ERROR: leakhound: the target ended the process "
            "(exit) while an input was stepped: a crash, not a verdict\n",
            (long)getpid());
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    driver *d = &drv;
    atexit(exit_in_step);
    if (!getenv("LEAKHOUND_SCRIPT"))
        load_config(*argc > 0 ? (*argv)[0] : "");
    d->script = getenv("LEAKHOUND_SCRIPT");
    d->workload = getenv("LEAKHOUND_WORKLOAD");
    if (!d->script || !d->workload)
        die("%s", "set LEAKHOUND_SCRIPT and LEAKHOUND_WORKLOAD "
            "(leakhound fuzz does)");
    d->engine = getenv("LEAKHOUND_ENGINE");
    if (!d->engine)
        d->engine = "libfuzzer";
    const char *mode = getenv("LEAKHOUND_MODE");
    d->minimize = mode && strcmp(mode, "minimize") == 0;
    d->metric_filter = getenv("LEAKHOUND_METRIC");
    const char *fb = getenv("LEAKHOUND_FEEDBACK");
    d->feedback = !(fb && strcmp(fb, "0") == 0);
    const char *reps = getenv("LEAKHOUND_REPS");
    d->reps = reps ? atoi(reps) : 0;
    const char *seed = getenv("LEAKHOUND_SEED");
    d->seed = seed ? strtoull(seed, NULL, 10) : 0;
    parse_engine_args(d, *argc, *argv);
    if (!d->seed)
        d->seed = 1;

    lh_buf err = LH_BUF_INIT;
    if (lh_session_open(&d->s, d->script, d->workload, d->seed, &err) < 0) {
        if (config_file[0])
            lh_buf_printf(&err, " (configured by %s)", config_file);
        die("%s", lh_buf_str(&err));
    }
    lh_buf_free(&err);
    /* A linked-in Go runtime registers its coverage counters with libFuzzer
     * from its own thread; the first call into Go waits for that, and
     * libFuzzer reads the counters right after this function returns. */
    if (d->s.target && d->s.target->has_go)
        d->s.target->go.goroutines();
    lh_oracle_config cfg = { 0 };
    cfg.reps = d->reps;
    const char *budget = getenv("LEAKHOUND_KNOWN_BUDGET");
    d->known_budget = budget ? strtod(budget, NULL) : 0.0;
    if (!d->minimize && d->known_budget > 0.0) {
        cfg.known_budget = d->known_budget;
        cfg.over_budget = restart_for_memory;
        cfg.over_budget_ctx = d;
    }
    d->oracle = lh_session_oracle(&d->s, &cfg);
    if (!d->oracle)
        die("%s", "cannot create the leak oracle");
    if (lh_cov_find() > 0)
        d->s.before_replay = lh_cov_save;
    const char *st = getenv("LEAKHOUND_ORACLE_STATS");
    if (st && strcmp(st, "1") == 0)
        atexit(print_stats);
    char dir[4096];
    prefix_dir(d->prefix, dir, sizeof dir);
    int n = load_known(d);
    known_to_oracle(d);
    if (n > 0)
        fprintf(stderr, "leakhound: %d leak(s) already found in %s; "
                "looking for others\n", n, dir);
    return 0;
}

/* AFL++ has no extra-counters section: its drivers link an instrumented
 * helper (targets/c/afl/afl_feedback.c) that turns a level into an edge. */
extern void leakhound_afl_feedback(unsigned level) __attribute__((weak));

static void feed(unsigned index)
{
    extra_counters[index] = 1;
    if (leakhound_afl_feedback)
        leakhound_afl_feedback(index);
}

static int ladder(double v)
{
    if (!(v > 0))
        return -1;
    int b = 0;
    while (v >= 2 && b < 15) {
        v /= 2;
        b++;
    }
    return b;
}

static void feed_back(driver *d)
{
    double heap, gor, handles;
    lh_oracle_last_delta(d->oracle, &heap, &gor, &handles);
    int b;
    if ((b = ladder(heap)) >= 0)
        feed((unsigned)b);
    if ((b = ladder(gor)) >= 0)
        feed(16u + (unsigned)b);
    if ((b = ladder(handles)) >= 0)
        feed(32u + (unsigned)b);
}

static void report(driver *d, const lh_finding *f)
{
    char path[4096];
    lh_artifact_ctx ctx = {
        .script = d->script, .workload = d->workload,
        .target = d->s.target ? d->s.target->path : NULL,
        .engine = d->engine, .seed = d->seed,
    };
    if (lh_artifact_write(d->prefix, f, &ctx, path, sizeof path) < 0) {
        /* The finding must not be lost with the artifact: its input goes
         * to the log, and the last ERROR line (the one `fuzz` quotes)
         * says it was not saved, not that a leak is waiting in PATH. */
        int e = errno;
        fprintf(stderr, "==%ld== leakhound: memory growth: %s %+.4g %s "
                "(p=%.2g)%s%s\nits input (%zu bytes, hex):\n",
                (long)getpid(), f->metric, f->growth_per_rep, f->unit,
                f->p_value, f->site[0] ? " at " : "", f->site, f->size);
        for (size_t i = 0; i < f->size; i++)
            fprintf(stderr, "%02x%s", f->input[i],
                    i % 32 == 31 || i + 1 == f->size ? "\n" : "");
        fprintf(stderr, "==%ld== ERROR: leakhound: a leak was found but "
                "its artifact was NOT saved: cannot write %s: %s (its "
                "input is above, in hex)\n", (long)getpid(), path,
                strerror(e));
    } else
        fprintf(stderr,
            "==%ld== ERROR: leakhound: memory growth: %s %+.4g %s per "
            "%s over %ld %ss (p=%.2g)%s%s\n"
            "artifact: %s\n"
            "repro: leakhound repro %s --workload '%s' %s\n",
            (long)getpid(), f->metric, f->growth_per_rep, f->unit,
            f->distinct ? "distinct input" : "repetition",
            f->distinct ? f->variants : (long)f->reps,
            f->distinct ? "distinct input" : "repetition", f->p_value, f->site[0] ? " at " : "", f->site, path, d->script,
            d->workload, path);
    if (strcmp(d->engine, "afl") == 0)
        abort();
    _exit(LEAK_EXIT);
}

/*
 * A Go runtime in the process requires every signal handler to run on the
 * alternate stack: a handler running on a goroutine's small stack corrupts
 * it.  libFuzzer installs its handlers (INT, ALRM, ABRT, USR1, ...) without
 * SA_ONSTACK, after LLVMFuzzerInitialize -- so fix them on the first input.
 */
static void handlers_on_altstack(void)
{
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) < 0)
            continue;
        if ((sa.sa_flags & SA_SIGINFO) ? sa.sa_sigaction == NULL
                                       : (sa.sa_handler == SIG_DFL ||
                                          sa.sa_handler == SIG_IGN))
            continue;
        if (!(sa.sa_flags & SA_ONSTACK)) {
            sa.sa_flags |= SA_ONSTACK;
            sigaction(sig, &sa, NULL);
        }
    }
}

/*
 * The engine's own allocations between two inputs (libFuzzer copies every
 * input into a new[] block, its corpus and mutators allocate) are not the
 * target's: the fuzzing thread does not count them, as the harness's own
 * are not (interpose.h), so the heap counters and the allocation sites
 * recorded along the fast path (clean_sites.c) see the target alone.
 * Each block is allocated and freed between inputs, on the same side.
 */
static void engine_begins(void)
{
    lh_heap_suspend();
}

static void engine_ends(void)
{
    lh_heap_resume();
}

static int test_one(driver *d, const uint8_t *data, size_t size);

/* A settle that raised an error leaves samples nobody settled: a script
 * problem, which ends the engine's run as a step error does. */
static void settle_check(driver *d)
{
    if (!d->s.settle_failed)
        return;
    fprintf(stderr, "leakhound: the workload's settle raised an error (a "
            "script problem, not a target crash):\n%s\n", d->s.settle_error);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    engine_ends();
    in_step = 1;
    int rc = test_one(&drv, data, size);
    in_step = 0;
    engine_begins();
    return rc;
}

static int test_one(driver *d, const uint8_t *data, size_t size)
{
    lh_finding f;
    static int first = 1;
    if (first) {
        first = 0;
        if (d->s.target && d->s.target->has_go)
            handlers_on_altstack();
    }
    if (d->minimize) {
        /* Only an input that still leaks (on the same metric) counts as
         * the "crash" the engine's minimizer keeps. */
        int rc = lh_oracle_confirm(d->oracle, data, size, d->reps, &f);
        settle_check(d);
        if (rc < 0)
            return 0;
        if (rc == 1 && (!d->metric_filter ||
                        strcmp(d->metric_filter, f.metric) == 0)) {
            fprintf(stderr, "leakhound: still leaks: %s %+.4g %s/%s\n",
                    f.metric, f.growth_per_rep, f.unit,
                    f.distinct ? "distinct input" : "rep");
            abort();
        }
        return 0;
    }
    d->s.input_steps = 0;
    int rc = lh_oracle_run(d->oracle, data, size, &f);
    settle_check(d);
    if (d->s.input_steps > 1 && d->s.before_replay)
        lh_cov_restore();   /* the coverage of the input's own run */
    if (rc < 0)
        abort();
    if (d->feedback)
        feed_back(d);
    if (rc == 1 && !known(d, f.signature)) {
        /* Another process (a fork-server child, a -fork job) may have
         * filed it meanwhile: look again before reporting. */
        load_known(d);
        if (!known(d, f.signature))
            report(d, &f);
    }
    return 0;
}
