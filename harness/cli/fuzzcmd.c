/*
 * fuzzcmd.c - `leakhound fuzz` and `leakhound minimize`: drive libFuzzer or
 * AFL++ over a workload through the driver built for its target
 * (fuzzdriver.c finds it, fuzzseeds.c fills the work corpus), verify and
 * list what they found.
 */
#include "fuzzcmd.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "artifact.h"
#include "buf.h"
#include "file.h"
#include "alloc.h"
#include "child.h"
#include "json.h"
#include "repro.h"
#include "script.h"
#include "sha1.h"
#include "text.h"
#include "workload.h"
#include "clock.h"
#include "elfsyms.h"

#include "fuzz_impl.h"

static int usage(const char *cmd, const char *msg, const char *arg)
{
    fprintf(stderr, "leakhound %s: ", cmd);
    fprintf(stderr, msg, arg);
    fputs("\nsee leakhound --help\n", stderr);
    return 2;
}

/* What known leaks may hold in a fuzzing process before a restart: a
 * quarter of the engine's -rss_limit_mb=4096. */
#define DEFAULT_KNOWN_BUDGET (512.0 * 1048576)

/* "512M", "2G", "64MiB", "1048576": bytes in *out; -1 when malformed. */
static int parse_size(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v > 0))
        return -1;
    static const char units[] = "KMG";
    const char *u = *end ? strchr(units, *end) : NULL;
    if (u) {
        for (const char *k = units; k <= u; k++)
            v *= 1024;
        end++;
        if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
            end += strlen(end);
    }
    *out = v;
    return *end ? -1 : 0;
}

static int parse(const char *cmd, int argc, char **argv, fuzz_opts *o)
{
    memset(o, 0, sizeof *o);
    o->engine = "libfuzzer";
    o->seconds = 60;
    o->timeout = 20;
    o->jobs = 1;
    o->seed = 1;
    o->feedback = 1;
    o->known_budget = DEFAULT_KNOWN_BUDGET;
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        static const char *const valued[] = {
            "--workload", "--engine", "--time", "--jobs", "--corpus",
            "--out", "--seed", "--timeout", "--reps", "--known",
            "--known-budget", NULL,
        };
        int takes = lh_word_in(k, valued);
        if (takes && !v)
            return usage(cmd, "option %s needs a value", k);
        if (strcmp(k, "--") == 0) {
            o->extra = argv + i + 1;
            o->nextra = argc - i - 1;
            break;
        } else if (strcmp(k, "--workload") == 0) {
            o->workload = argv[++i];
        } else if (strcmp(k, "--engine") == 0) {
            o->engine = argv[++i];
            if (strcmp(o->engine, "libfuzzer") != 0 &&
                strcmp(o->engine, "afl") != 0)
                return usage(cmd, "--engine is libfuzzer or afl, not '%s'",
                             o->engine);
        } else if (strcmp(k, "--time") == 0) {
            /* 0s would fuzz nothing and say "no leak found" */
            if (lh_parse_duration(argv[++i], &o->seconds) < 0 ||
                !(o->seconds >= 1 && o->seconds <= 1e8))
                return usage(cmd, "--time wants a duration like 60s, from "
                             "1s, got '%s'", argv[i]);
        } else if (strcmp(k, "--timeout") == 0) {
            if (lh_parse_duration(argv[++i], &o->timeout) < 0 ||
                !(o->timeout >= 1 && o->timeout <= 1e6))
                return usage(cmd, "--timeout wants a duration >= 1s, got "
                             "'%s'", argv[i]);
        } else if (strcmp(k, "--jobs") == 0) {
            o->jobs = atoi(argv[++i]);
            if (o->jobs < 1 || o->jobs > 64)
                return usage(cmd, "--jobs wants 1..64, got '%s'", argv[i]);
        } else if (strcmp(k, "--reps") == 0) {
            o->reps = atoi(argv[++i]);
            if (o->reps < 4 || o->reps > 256)
                return usage(cmd, "--reps wants 4..256, got '%s'", argv[i]);
        } else if (strcmp(k, "--corpus") == 0) {
            o->corpus = argv[++i];
        } else if (strcmp(k, "--out") == 0) {
            o->out = argv[++i];
        } else if (strcmp(k, "--known") == 0) {
            o->known = argv[++i];
        } else if (strcmp(k, "--known-budget") == 0) {
            if (parse_size(argv[++i], &o->known_budget) < 0 ||
                o->known_budget < 1048576.0)
                return usage(cmd, "--known-budget wants a size of at least "
                             "1M (like 512M, 2G), got '%s'", argv[i]);
        } else if (strcmp(k, "--seed") == 0) {
            char *end;
            errno = 0;
            o->seed = strtoull(argv[++i], &end, 10);
            if (!isdigit((unsigned char)argv[i][0]) || *end || errno)
                return usage(cmd, "--seed wants a number, got '%s'", argv[i]);
        } else if (strcmp(k, "--merge") == 0) {
            o->merge = 1;
        } else if (strcmp(k, "--keep-going") == 0) {
            o->keep_going = 1;
        } else if (strcmp(k, "--no-feedback") == 0) {
            o->feedback = 0;
        } else if (k[0] == '-' && k[1]) {
            return usage(cmd, "unknown option '%s'", k);
        } else if (!o->script) {
            o->script = k;
        } else if (!o->file && strcmp(cmd, "minimize") == 0) {
            o->file = k;
        } else {
            return usage(cmd, "unexpected argument '%s'", k);
        }
    }
    if (!o->script)
        return usage(cmd, "%s", "no SCRIPT given");
    if (!o->workload)
        return usage(cmd, "%s", "--workload NAME is needed");
    if (strcmp(cmd, "minimize") == 0 && !o->file)
        return usage(cmd, "%s", "no input FILE given");
    return 0;
}

/* The workload's target path and its seeds, from the script in declare
 * mode: the directory of inputs = leak.corpus(dir) in d->corpus, or the
 * strings of a literal inputs list in d->inputs (each a size_t length and
 * its bytes). */
/* Environment for the driver.  Strings live in a static pool. */
static char envpool[20][4400];

static char **driver_env(const fuzz_opts *o, const driver_info *d,
                         const char *artifacts, const char *mode,
                         const char *metric)
{
    static char *env[21];
    int n = 0;
#define ENV(...) snprintf(envpool[n], sizeof envpool[n], __VA_ARGS__), \
                 env[n] = envpool[n], n++
    ENV("LEAKHOUND_SCRIPT=%s", o->script);
    ENV("LEAKHOUND_WORKLOAD=%s", o->workload);
    ENV("LEAKHOUND_ENGINE=%s", o->engine);
    ENV("LEAKHOUND_SEED=%llu", o->seed);
    ENV("LEAKHOUND_FEEDBACK=%d", o->feedback);
    ENV("LEAKHOUND_ARTIFACTS=%s", artifacts);
    ENV("LEAKHOUND_MODE=%s", mode);
    if (o->reps)
        ENV("LEAKHOUND_REPS=%d", o->reps);
    if (metric)
        ENV("LEAKHOUND_METRIC=%s", metric);
    if (o->known)
        ENV("LEAKHOUND_KNOWN=%s", o->known);
    ENV("LEAKHOUND_KNOWN_BUDGET=%.0f", o->known_budget);
    if (d->env_target[0])
        ENV("%s", d->env_target);
    if (strcmp(o->engine, "afl") == 0) {
        ENV("AFL_NO_UI=1");
        ENV("AFL_SKIP_CPUFREQ=1");
        ENV("AFL_NO_AFFINITY=1");
        ENV("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1");
        /* a seed that crashes is no seed to skip quietly (libFuzzer
         * stops on it too): afl-fuzz ends saying which */
        ENV("AFL_EXIT_ON_SEED_ISSUES=1");
        if (!o->keep_going)
            ENV("AFL_BENCH_UNTIL_CRASH=1");     /* stop at a finding */
    }
#undef ENV
    env[n] = NULL;
    return env;
}

typedef struct finding_row {
    char signature[512];
    char metric[64];
    char unit[16];
    char site[384];
    char input[4096];
    char growth[64];
    int distinct;           /* "mode":"distinct": growth per distinct input */
    int verified;           /* reproduced in a fresh worker */
    int count;
} finding_row;

/* Unique leaks among the artifacts, by signature.  Interrupted, what was
 * found is listed all the same, and the search is not called clean. */
static int summarize(const fuzz_opts *o, const char *artifacts, double ran,
                     int failed)
{
    lh_buf names = LH_BUF_INIT, path = LH_BUF_INIT, text = LH_BUF_INIT;
    finding_row *rows = NULL;
    int nrows = 0, crashes = 0, broken = 0;
    lh_list_dir(artifacts, &names);
    for (const char *p = lh_buf_str(&names); *p; p += strlen(p) + 1) {
        size_t n = strlen(p);
        if (strncmp(p, "crash-", 6) == 0 || strncmp(p, "timeout-", 8) == 0 ||
            strncmp(p, "oom-", 4) == 0) {
            printf("%s  %s/%s  (the target %s under fuzzing; not a "
                   "leak)\n", p[0] == 't' ? "TIMEOUT" : "CRASH", artifacts, p,
                   p[0] == 'c' ? "crashed" : p[0] == 't' ? "hung"
                                                         : "ran out of memory");
            crashes++;
            continue;
        }
        if (lh_artifact_is_input(p)) {
            /* its record is written second: a run killed in between
             * leaves the input alone, a finding all the same */
            lh_buf_reset(&path);
            lh_buf_printf(&path, "%s/%s.json", artifacts, p);
            if (access(lh_buf_str(&path), F_OK) < 0) {
                printf("UNRECORDED  %s/%s  a leak's input without its "
                       "record (%s.json; a fuzz run killed while saving "
                       "it?): replay it with leakhound repro %s --workload "
                       "'%s' %s/%s\n", artifacts, p, p, o->script,
                       o->workload, artifacts, p);
                broken++;
            }
            continue;
        }
        char input[64];
        snprintf(input, sizeof input, "%.*s", (int)(n > 5 ? n - 5 : 0), p);
        if (n < 6 || strcmp(p + n - 5, ".json") != 0 ||
            !lh_artifact_is_input(input))
            continue;
        lh_buf_reset(&path);
        lh_buf_printf(&path, "%s/%s", artifacts, p);
        char err[256];
        lh_json *js = lh_json_load(lh_buf_str(&path), err, sizeof err);
        if (!js) {
            printf("UNREADABLE  %s: %s\n", lh_buf_str(&path), err);
            broken++;
            continue;
        }
        finding_row r;
        memset(&r, 0, sizeof r);
        static const char *keys[] = { "signature", "metric", "unit", "site",
                                      "input" };
        char *outs[] = { r.signature, r.metric, r.unit, r.site, r.input };
        size_t lens[] = { sizeof r.signature, sizeof r.metric, sizeof r.unit,
                          sizeof r.site, sizeof r.input };
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
            snprintf(outs[i], lens[i], "%s", lh_json_gets(js, keys[i], ""));
        r.distinct = strcmp(lh_json_gets(js, "mode", ""), "distinct") == 0;
        r.verified = lh_json_getb(js, "verified", 0);
        const lh_json *g = lh_json_get(js, "growth_per_rep");
        lh_buf_reset(&text);
        if (g)
            lh_json_write(&text, g);
        snprintf(r.growth, sizeof r.growth, "%s", g ? lh_buf_str(&text)
                                                   : "?");
        lh_json_free(js);
        int k;
        for (k = 0; k < nrows; k++)
            if (strcmp(rows[k].signature, r.signature) == 0)
                break;
        if (k < nrows) {
            rows[k].count++;
            rows[k].verified |= r.verified;
            continue;
        }
        rows = lh_xrealloc(rows, (size_t)(nrows + 1) * sizeof *rows);
        r.count = 1;
        rows[nrows++] = r;
    }
    int sig = lh_child_interrupted();
    if (sig)
        printf("fuzz: interrupted (signal %d) after %.0fs of the %gs budget: "
               "the search was not finished%s\n", sig, ran, o->seconds,
               nrows ? "; found so far:" : " and found nothing so far (that "
               "is not a clean result)");
    else if (nrows == 0 && !failed && !broken)
        printf("no leak found\n");
    for (int k = 0; k < nrows; k++) {
        finding_row *r = &rows[k];
        printf("LEAK  %s  %s %s per %s%s%s\n", r->metric, r->growth,
               r->unit, r->distinct ? "distinct input" : "repetition",
               r->site[0] ? "  at " : "", r->site);
        printf("      artifact: %s\n", r->input);
        printf("      repro:    leakhound repro %s --workload '%s' %s\n",
               o->script, o->workload, r->input);
        if (r->count > 1)
            printf("      (%d duplicates with the same signature)\n",
                   r->count - 1);
        if (!r->verified)
            printf("      not verified in a fresh worker yet (the next fuzz "
                   "with this --out does it)\n");
    }
    lh_raw_free(rows);
    lh_buf_free(&names);
    lh_buf_free(&path);
    lh_buf_free(&text);
    if (sig)
        return 128 + sig;
    if (crashes)
        return 3;
    if (failed || broken)
        return 2;
    return nrows ? 1 : 0;
}

/* crash-, timeout- and oom- artifacts: the engine's own findings.  (A Go
 * panic and a leak both end libFuzzer with status 77: the files tell.) */
static int count_crashes(const char *artifacts)
{
    lh_buf names = LH_BUF_INIT;
    int n = 0;
    lh_list_dir(artifacts, &names);
    for (const char *p = lh_buf_str(&names); *p; p += strlen(p) + 1)
        n += strncmp(p, "crash-", 6) == 0 || strncmp(p, "timeout-", 8) == 0 ||
             strncmp(p, "oom-", 4) == 0;
    lh_buf_free(&names);
    return n;
}

static int in_list(const lh_buf *list, const char *name)
{
    for (size_t i = 0; i < list->len; i += strlen(list->data + i) + 1)
        if (strcmp(list->data + i, name) == 0)
            return 1;
    return 0;
}

/* An artifact that does not reproduce: renamed unconfirmed-leak-*, whose
 * signature the driver then skips (lh_artifact_known). */
static void unconfirm(const char *artifacts, const char *name,
                      const char *input)
{
    char to[4300], from_js[4300], to_js[4300];
    snprintf(to, sizeof to, "%s/unconfirmed-%s", artifacts, name);
    snprintf(from_js, sizeof from_js, "%s.json", input);
    snprintf(to_js, sizeof to_js, "%s.json", to);
    rename(input, to);
    rename(from_js, to_js);
    printf("does not reproduce on its own: kept as %s\n", to);
}

/*
 * Every artifact `fuzz` reports must reproduce with `repro`: check each
 * one not verified yet (this run or an earlier one: the sidecar says) in a
 * fresh worker, once.  One that does not (the growth belonged to an
 * earlier input's state) is renamed unconfirmed-leak-* and fuzzing goes
 * on.  Interrupted, it stops and leaves the rest unverified for the next
 * run.  Returns how many were confirmed.
 */
static int verify_new(const fuzz_opts *o, const char *artifacts,
                      lh_buf *seen)
{
    lh_buf names = LH_BUF_INIT;
    int confirmed = 0;
    lh_list_dir(artifacts, &names);
    for (const char *p = lh_buf_str(&names); *p; p += strlen(p) + 1) {
        if (!lh_artifact_is_input(p))
            continue;
        char input[4200];
        snprintf(input, sizeof input, "%s/%s", artifacts, p);
        int again = in_list(seen, p);
        if (lh_artifact_verified(input)) {
            if (!again)
                lh_buf_add(seen, p, strlen(p) + 1);
            continue;
        }
        if (again) {
            /* seen, not verified: it did not reproduce before, and the
             * engine filed the same bytes again; never listed as a leak */
            unconfirm(artifacts, p, input);
            continue;
        }
        if (lh_child_interrupted())
            break;
        printf("\nverifying %s in a fresh worker:\n", input);
        /* An input without its record (a run killed between the two
         * writes) gets it from the replay: the finding is not lost. */
        char side[4300];
        snprintf(side, sizeof side, "%s.json", input);
        int unrecorded = access(side, F_OK) < 0;
        char *argv[] = {
            "leakhound", "repro", (char *)o->script, "--workload",
            (char *)o->workload, input, "--json", side, NULL,
        };
        int rc = lh_repro_cmd(unrecorded ? 8 : 6, argv);
        if (lh_child_interrupted())
            break;      /* not judged: verified on the next run */
        lh_buf_add(seen, p, strlen(p) + 1);
        if (rc == 1) {
            if (lh_artifact_set_verified(input) < 0)
                fprintf(stderr, "leakhound: cannot mark %s.json verified: "
                        "%s\n", input, strerror(errno));
            confirmed++;
            continue;
        }
        unconfirm(artifacts, p, input);
    }
    lh_buf_free(&names);
    fflush(stdout);
    return confirmed;
}

/*
 * libFuzzer's out-of-memory exit (-rss_limit_mb, -malloc_limit_mb) on an
 * input that grows a watched metric is that leak, found the hard way:
 * replay each new oom-* input with the oracle in a fresh worker; when it
 * confirms, repro files the leak artifact (with its site) and the oom-
 * file is kept as confirmed-oom-*, no longer a crash.
 */
static void confirm_ooms(const fuzz_opts *o, const char *artifacts,
                         lh_buf *seen)
{
    lh_buf names = LH_BUF_INIT;
    lh_list_dir(artifacts, &names);
    for (const char *p = lh_buf_str(&names); *p; p += strlen(p) + 1) {
        if (strncmp(p, "oom-", 4) != 0)
            continue;
        int known = 0;
        for (size_t at = 0; at < seen->len; at += strlen(seen->data + at) + 1)
            known |= strcmp(seen->data + at, p) == 0;
        if (known)
            continue;
        lh_buf_add(seen, p, strlen(p) + 1);
        char input[4200], to[4300];
        snprintf(input, sizeof input, "%s/%s", artifacts, p);
        printf("\nthe engine ran out of memory on %s: is it a leak?\n",
               input);
        char *argv[] = {
            "leakhound", "repro", (char *)o->script, "--workload",
            (char *)o->workload, input, "--artifact-dir",
            (char *)artifacts, NULL,
        };
        if (lh_repro_cmd(8, argv) != 1)
            continue;
        snprintf(to, sizeof to, "%s/confirmed-%s", artifacts, p);
        rename(input, to);
        printf("out of memory because of a leak: kept as %s\n", to);
    }
    lh_buf_free(&names);
    fflush(stdout);
}

static void engine_args(const fuzz_opts *o, const driver_info *d,
                        const char *corpus, const char *artifacts,
                        double remaining, unsigned long long seed,
                        char **argv, char store[][4200])
{
    int n = 0;
#define ARG(...) (snprintf(store[n], 4200, __VA_ARGS__), argv[n] = store[n], \
                  n++)
    ARG("%s", d->path);
    ARG("-artifact_prefix=%s/", artifacts);
    ARG("-max_total_time=%d", (int)(remaining + 0.5) > 0
                                  ? (int)(remaining + 0.5) : 1);
    ARG("-seed=%llu", seed);
    ARG("-timeout=%d", (int)o->timeout);
    ARG("-rss_limit_mb=4096");
    ARG("-print_final_stats=1");
    if (o->jobs > 1) {
        ARG("-fork=%d", o->jobs);
        ARG("-ignore_crashes=1");
        ARG("-ignore_timeouts=1");
        ARG("-ignore_ooms=1");
    }
    for (int i = 0; i < o->nextra && n < 60; i++)
        ARG("%s", o->extra[i]);
    ARG("%s", corpus);
#undef ARG
    argv[n] = NULL;
}

/* Files the engine or the driver leaves for a finding: leak inputs
 * (confirmed or not), crash-, timeout- and oom- inputs. */
static int count_findings(const char *artifacts)
{
    lh_buf names = LH_BUF_INIT;
    int n = 0;
    lh_list_dir(artifacts, &names);
    for (const char *p = lh_buf_str(&names); *p; p += strlen(p) + 1)
        n += lh_artifact_is_input(p) ||
             lh_artifact_is_input(p + (strncmp(p, "unconfirmed-", 12) == 0
                                       ? 12 : 0)) ||
             strncmp(p, "crash-", 6) == 0 || strncmp(p, "timeout-", 8) == 0 ||
             strncmp(p, "oom-", 4) == 0;
    lh_buf_free(&names);
    return n;
}

/* The engine's stderr, passed through, its tail kept for a reason. */
typedef struct engine_out {
    char tail[8192];
    size_t len;
} engine_out;

static void on_engine(void *ctx, int i, const char *data, size_t n)
{
    (void)i;
    engine_out *e = ctx;
    fwrite(data, 1, n, stderr);
    if (n >= sizeof e->tail) {
        data += n - (sizeof e->tail - 1);
        n = sizeof e->tail - 1;
    }
    if (e->len + n >= sizeof e->tail) {
        size_t drop = e->len + n - (sizeof e->tail - 1);
        memmove(e->tail, e->tail + drop, e->len - drop);
        e->len -= drop;
    }
    memcpy(e->tail + e->len, data, n);
    e->len += n;
    e->tail[e->len] = '\0';
}

/* The line of the engine's output that says why it stopped: its last
 * "ERROR" line, else the driver's own last message ("leakhound ..."),
 * else its last line that is not indented (a traceback's). */
static void engine_reason(const engine_out *e, char *out, size_t len)
{
    const char *pick[3] = { NULL, NULL, NULL };
    size_t pick_n[3] = { 0, 0, 0 };
    for (const char *p = e->tail; *p;) {
        size_t n = strcspn(p, "\n");
        const char *err = strstr(p, "ERROR");
        int k = err && (size_t)(err - p) < n ? 0
              : strncmp(p, "leakhound", 9) == 0 ? 1
              : n && p[0] != ' ' && p[0] != '\t' ? 2 : -1;
        if (k >= 0) {
            pick[k] = p;
            pick_n[k] = n;
        }
        p += n + (p[n] ? 1 : 0);
    }
    out[0] = '\0';
    for (int k = 0; k < 3; k++)
        if (pick[k]) {
            snprintf(out, len, "%.*s", (int)pick_n[k], pick[k]);
            break;
        }
}

/* Restarts because known leaks filled the driver's memory budget. */
typedef struct mem_restarts {
    int count;
    int barren;             /* in a row, before the corpus was re-run */
} mem_restarts;

/*
 * The driver exited for a restart (LH_DRIVER_RESTART_EXIT): leaks already
 * known kept leaking in it past --known-budget.  Restarting gives a fresh
 * heap and the engine goes on from its work corpus -- unless the budget
 * fills before the engine has even re-run that corpus (ncorpus inputs):
 * then every restart would end the same way, and the search cannot go on.
 * Twice in a row is an error (-1) saying so, never a quiet "no leak".
 */
static int memory_restart(const fuzz_opts *o, const engine_out *eo,
                          int ncorpus, mem_restarts *m)
{
    const char *line = strstr(eo->tail, "leakhound: restart: ");
    const char *after = line ? strstr(line, " after ") : NULL;
    long long ran = after ? atoll(after + 7) : -1;
    m->count++;
    m->barren = ran >= 0 && ran <= (long long)ncorpus + 1 ? m->barren + 1
                                                           : 0;
    printf("fuzz: leaks already known kept leaking past the memory budget "
           "(%.0f MiB) after %lld inputs: restarting the engine on its "
           "corpus\n", o->known_budget / 1048576.0, ran);
    fflush(stdout);
    if (m->barren < 2)
        return 0;
    fprintf(stderr, "leakhound fuzz: leaks already known fill the memory "
            "budget (%.0f MiB, --known-budget) before the engine has re-run "
            "its corpus of %d inputs, at every restart: the search cannot go "
            "on.  Fix those leaks, raise --known-budget, or start from seeds "
            "that do not all leak.\n", o->known_budget / 1048576.0, ncorpus);
    return -1;
}

static int run_libfuzzer(const fuzz_opts *o, const driver_info *d,
                         const char *corpus, const char *artifacts)
{
    static char store[64][4200];
    char *argv[64];
    char **env = driver_env(o, d, artifacts, "fuzz", NULL);
    double end = lh_now() + o->seconds;
    unsigned long long seed = o->seed;
    int restarts = 0;
    lh_buf seen = LH_BUF_INIT;
    lh_buf_add(&seen, "", 1);
    int crashes_before = count_crashes(artifacts);
    mem_restarts mem = { 0, 0 };
    while (lh_now() < end - 0.5 && !lh_child_interrupted()) {
        engine_args(o, d, corpus, artifacts, end - lh_now(), seed++, argv,
                    store);
        int findings_before = count_findings(artifacts);
        int ncorpus = lh_fuzz_count_files(corpus);
        engine_out eo = { .len = 0 };
        lh_child_spec spec = {
            .argv = argv, .env = env, .pipes = { 2 }, .npipes = 1,
        };
        lh_child c;
        if (lh_child_start(&c, &spec) < 0) {
            if (lh_child_interrupted())
                break;
            fprintf(stderr, "leakhound: cannot run the fuzz driver %s: "
                    "%s\n", d->path, strerror(errno));
            lh_buf_free(&seen);
            return -1;
        }
        lh_child_wait(&c, end + o->timeout + 30, on_engine, &eo);
        lh_child_result r = { c.end, c.code };
        if (lh_child_interrupted())
            break;          /* not a verdict: the caller says so */
        if (r.end == LH_CHILD_EXITED && r.code == LH_DRIVER_RESTART_EXIT) {
            if (memory_restart(o, &eo, ncorpus, &mem) < 0) {
                lh_buf_free(&seen);
                return -1;
            }
            continue;
        }
        if (r.end == LH_CHILD_EXITED && r.code == 0 &&
            lh_now() < end - 1.5 &&
            count_findings(artifacts) == findings_before) {
            /* -max_total_time ends it at the budget, not before: a
             * target's _exit(0) in a step ends it as quietly */
            char why[1024];
            engine_reason(&eo, why, sizeof why);
            fprintf(stderr, "leakhound fuzz: the engine exited with status "
                    "0 after %.1fs of the %gs budget, before its end and "
                    "without a finding: the budget is not spent (did the "
                    "target end the process in a step, with _exit()?)%s%s\n",
                    o->seconds - (end - lh_now()), o->seconds,
                    why[0] ? "; its last words: " : "", why);
            lh_buf_free(&seen);
            return -1;
        }
        if ((r.end == LH_CHILD_EXITED && r.code == 0) ||
            r.end == LH_CHILD_TIMEDOUT)
            break;          /* the time budget is spent */
        if (count_findings(artifacts) == findings_before) {
            /* neither the budget nor a finding: it could not fuzz */
            char why[1024];
            engine_reason(&eo, why, sizeof why);
            fprintf(stderr, "leakhound fuzz: the engine stopped after "
                    "%.1fs of the %gs budget without a finding (%s %d)%s"
                    "%s\n", o->seconds - (end - lh_now()), o->seconds,
                    r.end == LH_CHILD_EXITED ? "exit status" : "signal",
                    r.code, why[0] ? ": " : "", why);
            if (strstr(eo.tail, "no interesting inputs") ||
                strstr(eo.tail, "instrumented for coverage"))
                lh_fuzz_coverage_help(d);
            lh_buf_free(&seen);
            return -1;
        }
        /* A leak (77) or a crash, recorded as an artifact.  By default
         * stop at a confirmed one, as libFuzzer does; with --keep-going
         * look for more (the driver skips signatures already filed). */
        confirm_ooms(o, artifacts, &seen);
        int confirmed = verify_new(o, artifacts, &seen);
        int crashes = count_crashes(artifacts);
        if (!o->keep_going && (confirmed > 0 || crashes > crashes_before ||
                               r.end != LH_CHILD_EXITED || r.code != 77))
            break;
        crashes_before = crashes;
        if (++restarts > 100) {
            fprintf(stderr, "leakhound: the engine stopped 100 times; "
                    "giving up\n");
            break;
        }
    }
    /* -fork jobs go on after a finding or an OOM: check what they filed */
    confirm_ooms(o, artifacts, &seen);
    verify_new(o, artifacts, &seen);
    lh_buf_free(&seen);
    if (mem.count)
        printf("fuzz: the engine was restarted %d time%s because leaks "
               "already known kept leaking past the memory budget (%.0f "
               "MiB, --known-budget)\n", mem.count, mem.count == 1 ? "" : "s",
               o->known_budget / 1048576.0);
    return 0;
}

/* One afl-fuzz instance: -M main for the first, -S secN for the others
 * (AFL++'s own multi-instance sync on one output directory).  Started,
 * not waited for; 0, or -1 when it could not start. */
static int afl_instance(const fuzz_opts *o, const driver_info *d,
                        const char *corpus, const char *outdir, int k,
                        char **env, lh_child *c)
{
    char store[32][4200];
    char *argv[32];
    char dict[4200];
    snprintf(dict, sizeof dict, "%s.dict", d->path);
    int n = 0;
#define ARG(...) (snprintf(store[n], 4200, __VA_ARGS__), argv[n] = store[n], \
                  n++)
    ARG("/usr/bin/afl-fuzz");
    ARG("-i");
    ARG("%s", corpus);
    ARG("-o");
    ARG("%s/afl", outdir);
    ARG("-m");
    ARG("none");
    ARG("-t");
    ARG("%d", (int)(o->timeout * 1000));
    ARG("-V");
    ARG("%d", (int)o->seconds);
    ARG("-s");
    ARG("%llu", o->seed + (unsigned long long)k);
    if (o->jobs > 1) {
        ARG("%s", k == 0 ? "-M" : "-S");
        ARG(k == 0 ? "main" : "sec%d", k);
    }
    /* the compare operands of the target, gathered at build time */
    if (lh_is_file(dict)) {
        ARG("-x");
        ARG("%s", dict);
    }
    for (int i = 0; i < o->nextra && n < 28; i++)
        ARG("%s", o->extra[i]);
    ARG("--");
    ARG("%s", d->path);
#undef ARG
    argv[n] = NULL;
    lh_child_spec spec = { .argv = argv, .env = env };
    if (lh_child_start(c, &spec) < 0) {
        fprintf(stderr, "leakhound: cannot run %s: %s\n", argv[0],
                strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * AFL++ keeps the crashes and hangs it finds in its own output directory
 * (afl/<instance>/crashes, hangs); `fuzz` judges the artifacts directory.
 * Each one becomes a crash-<sha1> or timeout-<sha1> artifact there, as
 * libFuzzer's do, unless it is a leak the driver reported (its abort is
 * how AFL++ records a finding: the leak-<sha1> artifact is written
 * first).  Returns how many were added.
 */
static int collect_afl_crashes(const char *outdir, const char *artifacts)
{
    lh_buf insts = LH_BUF_INIT, names = LH_BUF_INIT, path = LH_BUF_INIT,
           data = LH_BUF_INIT;
    int added = 0;
    char afl[4200];
    snprintf(afl, sizeof afl, "%s/afl", outdir);
    lh_list_dir(afl, &insts);
    for (const char *i = lh_buf_str(&insts); *i; i += strlen(i) + 1) {
        static const char *const kinds[] = { "crashes", "hangs" };
        for (int k = 0; k < 2; k++) {
            char dir[4600];
            snprintf(dir, sizeof dir, "%s/%s/%s", afl, i, kinds[k]);
            lh_buf_reset(&names);
            lh_list_dir(dir, &names);
            for (const char *p = lh_buf_str(&names); *p;
                 p += strlen(p) + 1) {
                if (strcmp(p, "README.txt") == 0)
                    continue;
                lh_buf_reset(&path);
                lh_buf_printf(&path, "%s/%s", dir, p);
                lh_buf_reset(&data);
                if (lh_read_file(lh_buf_str(&path), &data) < 0)
                    continue;
                char sha[41];
                lh_sha1_hex(data.data, data.len, sha);
                lh_buf_reset(&path);
                lh_buf_printf(&path, "%s/leak-%s", artifacts, sha);
                if (k == 0 && lh_is_file(lh_buf_str(&path)))
                    continue;       /* the driver's leak report */
                lh_buf_reset(&path);
                lh_buf_printf(&path, "%s/%s-%s", artifacts,
                              k ? "timeout" : "crash", sha);
                if (lh_is_file(lh_buf_str(&path)))
                    continue;
                if (lh_write_atomic(lh_buf_str(&path),
                                    data.data ? data.data : "",
                                    data.len) < 0)
                    fprintf(stderr, "leakhound fuzz: cannot write %s: %s\n",
                            lh_buf_str(&path), strerror(errno));
                else
                    added++;
            }
        }
    }
    lh_buf_free(&insts);
    lh_buf_free(&names);
    lh_buf_free(&path);
    lh_buf_free(&data);
    return added;
}

static int run_afl(const fuzz_opts *o, const driver_info *d,
                   const char *corpus, const char *artifacts,
                   const char *outdir)
{
    char **env = driver_env(o, d, artifacts, "fuzz", NULL);
    lh_child c[64];
    int failed = 0;
    double deadline = lh_now() + o->seconds + 120;
    for (int k = 0; k < o->jobs && k < 64; k++)
        if (afl_instance(o, d, corpus, outdir, k, env, &c[k]) < 0)
            failed = 1;
    int before = count_findings(artifacts);
    int bad = -1;
    for (int k = 0; k < o->jobs && k < 64; k++) {
        lh_child_wait(&c[k], deadline, NULL, NULL);
        if (c[k].end != LH_CHILD_EXITED || c[k].code != 0)
            bad = k;
    }
    collect_afl_crashes(outdir, artifacts);
    if (!failed && bad >= 0 && !lh_child_interrupted() &&
        count_findings(artifacts) == before) {
        /* neither the budget nor a finding: it could not fuzz */
        fprintf(stderr, "leakhound fuzz: afl-fuzz stopped without a finding "
                "(%s %d; its output above says why)\n",
                c[bad].end == LH_CHILD_EXITED ? "exit status" : "signal",
                c[bad].code);
        failed = 1;
    }
    return failed ? -1 : 0;
}

int lh_fuzz_cmd(int argc, char **argv)
{
    fuzz_opts o;
    int rc = parse("fuzz", argc, argv, &o);
    if (rc)
        return rc;
    lh_child_trap_signals();
    driver_info d;
    memset(&d, 0, sizeof d);
    if (lh_fuzz_find_driver(&o, &d) < 0) {
        lh_buf_free(&d.inputs);
        return 2;
    }
    char out[4096], safe[256];
    lh_safe_name(safe, sizeof safe, o.workload);
    if (o.out)
        snprintf(out, sizeof out, "%s", o.out);
    else
        snprintf(out, sizeof out, "reports/fuzz/%s", safe);
    char corpus[4200], artifacts[4200], seeds[4200];
    snprintf(corpus, sizeof corpus, "%s/corpus", out);
    snprintf(artifacts, sizeof artifacts, "%s/artifacts", out);
    if (lh_mkdir_p(corpus) < 0 || lh_mkdir_p(artifacts) < 0) {
        fprintf(stderr, "leakhound: cannot create %s: %s\n", out,
                strerror(errno));
        lh_buf_free(&d.inputs);
        return 2;
    }
    rc = lh_fuzz_seed_corpus(&o, &d, corpus, seeds, sizeof seeds);
    lh_buf_free(&d.inputs);
    if (rc < 0)
        return 2;
    printf("fuzz: workload '%s' (target %s) with %s for %gs, %d job%s\n"
           "      driver %s (%s)\n      corpus %s (seeds from %s), "
           "artifacts %s\n", o.workload, d.target, o.engine, o.seconds,
           o.jobs, o.jobs == 1 ? "" : "s", d.path, d.how, corpus, seeds,
           artifacts);
    fflush(stdout);
    double t0 = lh_now();
    rc = strcmp(o.engine, "afl") == 0
             ? run_afl(&o, &d, corpus, artifacts, out)
             : run_libfuzzer(&o, &d, corpus, artifacts);
    if (strcmp(o.engine, "afl") == 0 && rc == 0) {
        lh_buf seen = LH_BUF_INIT;
        lh_buf_add(&seen, "", 1);
        verify_new(&o, artifacts, &seen);
        lh_buf_free(&seen);
    }
    if (o.merge && rc == 0 && !lh_child_interrupted()) {
        int n = lh_fuzz_copy_files(corpus, seeds);
        if (n < 0) {
            fprintf(stderr, "leakhound fuzz: --merge: the corpus was not "
                    "merged into %s in full: %s\n", seeds, strerror(errno));
            rc = -1;
        } else {
            printf("merged %d new input%s into %s\n", n,
                   n == 1 ? "" : "s", seeds);
        }
    }
    printf("\n");
    /* what was found before an error or an interrupt is listed too */
    return summarize(&o, artifacts, lh_now() - t0, rc < 0);
}

int lh_minimize_cmd(int argc, char **argv)
{
    fuzz_opts o;
    int rc = parse("minimize", argc, argv, &o);
    if (rc)
        return rc;
    lh_child_trap_signals();
    if (!lh_is_file(o.file)) {
        fprintf(stderr, "leakhound minimize: cannot read '%s'\n", o.file);
        return 2;
    }
    driver_info d;
    memset(&d, 0, sizeof d);
    int found = lh_fuzz_find_driver(&o, &d);
    lh_buf_free(&d.inputs);
    if (found < 0)
        return 2;
    char metric[64] = "", sidecar[4200];
    snprintf(sidecar, sizeof sidecar, "%s.json", o.file);
    char err[256];
    lh_json *js = lh_json_load(sidecar, err, sizeof err);
    snprintf(metric, sizeof metric, "%s", lh_json_gets(js, "metric", ""));
    lh_json_free(js);
    char dir[4096], outfile[4200];
    lh_path_dir(dir, sizeof dir, o.file);
    const char *base = strrchr(o.file, '/');
    base = base ? base + 1 : o.file;
    snprintf(outfile, sizeof outfile, "%s/minimized-%s", dir, base);

    char **env = driver_env(&o, &d, dir, "minimize",
                            metric[0] ? metric : NULL);
    static char store[16][4200];
    char *args[16];
    int n = 0;
#define ARG(...) (snprintf(store[n], 4200, __VA_ARGS__), args[n] = store[n], \
                  n++)
    if (strcmp(o.engine, "afl") == 0) {
        ARG("/usr/bin/afl-tmin");
        ARG("-i");
        ARG("%s", o.file);
        ARG("-o");
        ARG("%s", outfile);
        ARG("-m");
        ARG("none");
        ARG("-t");
        ARG("%d", (int)(o.timeout * 1000));
        ARG("--");
        ARG("%s", d.path);
        ARG("-1");      /* libAFLDriver: one input per fresh fork */
    } else {
        ARG("%s", d.path);
        ARG("-minimize_crash=1");
        ARG("-max_total_time=%d", (int)o.seconds);
        ARG("-exact_artifact_path=%s", outfile);
        ARG("-timeout=%d", (int)o.timeout);
        ARG("-seed=%llu", o.seed);
        ARG("%s", o.file);
    }
#undef ARG
    args[n] = NULL;
    printf("minimize: %s with %s (oracle: %s)\n", o.file, o.engine,
           metric[0] ? metric : "any watched metric");
    fflush(stdout);
    lh_child_run(args, env, o.seconds + 60, NULL);
    if (lh_child_interrupted()) {
        fprintf(stderr, "leakhound minimize: interrupted (signal %d): %s is "
                "kept as it was\n", lh_child_interrupted(), o.file);
        return 128 + lh_child_interrupted();
    }
    if (!lh_is_file(outfile)) {
        fprintf(stderr, "leakhound minimize: the engine produced no "
                "minimized input (does %s still leak?)\n", o.file);
        return 2;
    }
    struct stat a, b;
    stat(o.file, &a);
    stat(outfile, &b);
    printf("minimized %s: %lld -> %lld bytes: %s\nchecking it still "
           "reproduces:\n", o.file, (long long)a.st_size,
           (long long)b.st_size, outfile);
    /* Confirm in a fresh worker and file it as a proper artifact. */
    char *rargv[] = {
        argv[0], "repro", (char *)o.script, "--workload",
        (char *)o.workload, outfile, "--artifact-dir", dir, NULL,
    };
    rc = lh_repro_cmd(8, rargv);
    if (lh_child_interrupted())
        return 128 + lh_child_interrupted();
    if (rc != 1)
        fprintf(stderr, "leakhound minimize: the minimized input does not "
                "reproduce\n");
    return rc == 1 ? 0 : 1;
}
