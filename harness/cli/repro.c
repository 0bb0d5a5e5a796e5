/* repro.c - `leakhound repro`: replay one input in a fresh worker. */
#include "repro.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "artifact.h"
#include "buf.h"
#include "file.h"
#include "json.h"
#include "alloc.h"
#include "oracle.h"
#include "child.h"
#include "clock.h"
#include "session.h"
#include "text.h"

typedef struct repro_args {
    const char *script;
    const char *workload;
    const char *file;
    const char *artifact_dir;
    const char *json;           /* verdict as JSON, written atomically */
    const char *reps;
    const char *seed;
    double timeout;
    int verdict_fd;             /* __repro: where the verdict goes, or -1 */
} repro_args;

/*
 * The replay's verdict, written by the child on a pipe of its own just
 * before it exits: its exit status alone cannot tell "no leak" from a
 * target that called exit(0), nor a leak from exit(1).  A replay that
 * ends without one never ran to a verdict (the target exited, or closed
 * the harness's fds).
 */
#define VERDICT_FD 63    /* above the low fds a stray write hits, */
#define VERDICT_FD_LOW 3 /* or, under a tight RLIMIT_NOFILE, the first */
#define VERDICT_TAG "leakhound-verdict "

static int usage(const char *msg, const char *arg)
{
    fputs("leakhound repro: ", stderr);
    fprintf(stderr, msg, arg);
    fputs("\nusage: leakhound repro SCRIPT --workload NAME FILE "
          "[--reps N] [--seed N] [--timeout D] [--artifact-dir DIR] "
          "[--json FILE]\n",
          stderr);
    return 2;
}

static int parse(int argc, char **argv, int first, repro_args *a)
{
    memset(a, 0, sizeof *a);
    a->reps = "16";
    a->seed = "1";
    a->timeout = 300;
    a->verdict_fd = -1;
    for (int i = first; i < argc; i++) {
        const char *k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int value = strcmp(k, "--workload") == 0 ||
                    strcmp(k, "--reps") == 0 || strcmp(k, "--seed") == 0 ||
                    strcmp(k, "--timeout") == 0 ||
                    strcmp(k, "--artifact-dir") == 0 ||
                    strcmp(k, "--json") == 0 ||
                    strcmp(k, "--script") == 0 || strcmp(k, "--file") == 0 ||
                    (first == 0 && strcmp(k, "--verdict-fd") == 0);
        if (value && !v)
            return usage("option %s needs a value", k);
        if (strcmp(k, "--workload") == 0)
            a->workload = argv[++i];
        else if (strcmp(k, "--reps") == 0)
            a->reps = argv[++i];
        else if (strcmp(k, "--seed") == 0)
            a->seed = argv[++i];
        else if (strcmp(k, "--artifact-dir") == 0)
            a->artifact_dir = argv[++i];
        else if (strcmp(k, "--json") == 0)
            a->json = argv[++i];
        else if (strcmp(k, "--script") == 0)
            a->script = argv[++i];
        else if (strcmp(k, "--file") == 0)
            a->file = argv[++i];
        else if (first == 0 && strcmp(k, "--verdict-fd") == 0)
            a->verdict_fd = atoi(argv[++i]);
        else if (strcmp(k, "--timeout") == 0) {
            if (lh_parse_duration(argv[++i], &a->timeout) < 0 ||
                a->timeout <= 0)
                return usage("--timeout wants a duration like 90s, got '%s'",
                             argv[i]);
        } else if (k[0] == '-' && k[1])
            return usage("unknown option '%s'", k);
        else if (!a->script)
            a->script = k;
        else if (!a->file)
            a->file = k;
        else
            return usage("unexpected argument '%s'", k);
    }
    if (!a->script || !a->file)
        return usage("%s", "a SCRIPT and an input FILE are needed");
    if (!a->workload)
        return usage("%s", "--workload NAME is needed");
    int reps = atoi(a->reps);
    if (reps < 4 || reps > LH_ORACLE_MAX_REPS)
        return usage("--reps wants 4..256, got '%s'", a->reps);
    char *end;
    errno = 0;
    (void)strtoull(a->seed, &end, 10);
    if (!isdigit((unsigned char)a->seed[0]) || *end || errno)
        return usage("--seed wants a number, got '%s'", a->seed);
    return 0;
}

/* Keeps the tail of what the verdict pipe said (its last line counts). */
static void keep_verdict(void *ctx, int i, const char *data, size_t n)
{
    (void)i;
    lh_buf *said = ctx;
    lh_buf_add(said, data, n);
    if (said->len > 256) {
        memmove(said->data, said->data + said->len - 64, 64);
        said->len = 64;
        said->data[64] = '\0';
    }
}

/* The status the verdict pipe ends with, or -1.  (Only its end counts:
 * whatever a target scribbled on the fd before is not the verdict.) */
static int verdict_of(const lh_buf *said)
{
    size_t tag = strlen(VERDICT_TAG);
    if (said->len < tag + 2)
        return -1;
    const char *end = said->data + said->len - (tag + 2);
    if (memcmp(end, VERDICT_TAG, tag) != 0 || !strchr("0123", end[tag]) ||
        !end[tag] || end[tag + 1] != '\n')
        return -1;
    return end[tag] - '0';
}

int lh_repro_cmd(int argc, char **argv)
{
    repro_args a;
    int rc = parse(argc, argv, 2, &a);
    if (rc)
        return rc;
    lh_child_trap_signals();
    if (access(a.file, R_OK) < 0) {
        fprintf(stderr, "leakhound repro: cannot read input '%s': %s\n",
                a.file, strerror(errno));
        return 2;
    }
    char *child[20];
    int n = 0;
    child[n++] = "/proc/self/exe";
    child[n++] = LH_REPRO_CMD;
    child[n++] = "--script";
    child[n++] = (char *)a.script;
    child[n++] = "--workload";
    child[n++] = (char *)a.workload;
    child[n++] = "--file";
    child[n++] = (char *)a.file;
    child[n++] = "--reps";
    child[n++] = (char *)a.reps;
    child[n++] = "--seed";
    child[n++] = (char *)a.seed;
    if (a.artifact_dir) {
        child[n++] = "--artifact-dir";
        child[n++] = (char *)a.artifact_dir;
    }
    if (a.json) {
        child[n++] = "--json";
        child[n++] = (char *)a.json;
    }
    struct rlimit rl;
    int vfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
              rl.rlim_cur < 2 * VERDICT_FD ? VERDICT_FD_LOW : VERDICT_FD;
    char fd[16];
    snprintf(fd, sizeof fd, "%d", vfd);
    child[n++] = "--verdict-fd";
    child[n++] = fd;
    child[n] = NULL;
    lh_child_spec spec = { .argv = child, .pipes = { vfd }, .npipes = 1 };
    lh_child c;
    lh_buf said = LH_BUF_INIT;
    if (lh_child_start(&c, &spec) < 0) {
        if (errno != EINTR)
            fprintf(stderr, "leakhound repro: cannot start the replay: "
                    "%s\n", strerror(errno));
        c.end = LH_CHILD_NOSTART;
    } else
        lh_child_wait(&c, lh_now() + a.timeout, keep_verdict, &said);
    int verdict = verdict_of(&said);
    lh_buf_free(&said);
    if (lh_child_interrupted()) {
        printf("INTERRUPTED  (signal %d) replaying %s: no verdict\n",
               lh_child_interrupted(), a.file);
        return 128 + lh_child_interrupted();
    }
    if (c.end == LH_CHILD_TIMEDOUT) {
        printf("TIMEOUT  no verdict after %gs replaying %s\n", a.timeout,
               a.file);
        return 3;
    }
    if (c.end == LH_CHILD_SIGNALLED) {
        printf("CRASH  the worker died with signal %d (%s) replaying %s\n",
               c.code, strsignal(c.code), a.file);
        return 3;
    }
    if (c.end != LH_CHILD_EXITED)
        return 2;
    if (verdict != c.code) {
        printf("CRASH  the worker exited with status %d without a verdict "
               "replaying %s (the target called exit, or closed the "
               "harness's files)\n", c.code, a.file);
        return 3;
    }
    return c.code;
}

/* The verdict for --json: the finding's evidence, or every watched
 * metric's first and last value when nothing grew. */
static int write_verdict(const repro_args *a, lh_oracle *o,
                         const lh_finding *f, const lh_session *s)
{
    if (!a->json)
        return 0;
    lh_buf b = LH_BUF_INIT;
    if (f) {
        lh_artifact_ctx ctx = {
            .script = a->script, .workload = a->workload,
            .target = s->target ? s->target->path : NULL, .engine = "repro",
            .seed = strtoull(a->seed, NULL, 10),
        };
        lh_finding_json(&b, f, &ctx, a->file);
    } else {
        lh_buf_puts(&b, "{\"leakhound\":\"" LH_VERSION "\",\"kind\":"
                    "\"none\",\"metrics\":[");
        const char *m;
        const double *y;
        int n;
        for (int k = 0; (n = lh_oracle_series(o, k, &m, &y)) > 0; k++) {
            lh_buf_puts(&b, k ? ",{" : "{");
            lh_json_key(&b, "metric");
            lh_json_str(&b, m);
            lh_json_field_num(&b, "first", y[0]);
            lh_json_field_num(&b, "last", y[n - 1]);
            lh_json_field_num(&b, "reps", n - 1);
            lh_buf_putc(&b, '}');
        }
        lh_buf_puts(&b, "]}\n");
    }
    int rc = lh_write_atomic(a->json, b.data, b.len);
    if (rc < 0)
        printf("ERROR  cannot write the verdict %s: %s\n", a->json,
               strerror(errno));
    lh_buf_free(&b);
    return rc;
}

static void print_series(const lh_finding *f)
{
    if (f->distinct)
        printf("      %s after every %d distinct inputs:", f->metric,
               f->every);
    else if (f->every > 1)
        printf("      %s after every %d repetitions (paced):", f->metric,
               f->every);
    else
        printf("      %s after each repetition:", f->metric);
    for (int i = 0; i <= f->reps && i <= LH_ORACLE_MAX_REPS; i++)
        printf("%s%.0f", i % 8 == 0 ? "\n       " : " ", f->series[i]);
    printf("\n");
}

static int verdict_fd = -1;      /* __repro --verdict-fd */

/* Ends the replay: its verdict said, what the target started goes. */
static _Noreturn void finish(int code)
{
    fflush(NULL);
    if (verdict_fd >= 0) {
        char line[32];
        int n = snprintf(line, sizeof line, VERDICT_TAG "%d\n", code);
        ssize_t w = write(verdict_fd, line, (size_t)n);
        (void)w;
    }
    lh_child_kill_descendants();
    _exit(code);
}

int lh_repro_main(int argc, char **argv)
{
    lh_child_adopt_descendants();
    for (int i = 0; i + 1 < argc; i++)     /* before any error */
        if (strcmp(argv[i], "--verdict-fd") == 0)
            verdict_fd = atoi(argv[i + 1]);
    repro_args a;
    if (parse(argc, argv, 0, &a))
        finish(2);
    lh_buf input = LH_BUF_INIT, err = LH_BUF_INIT;
    if (lh_read_file(a.file, &input) < 0) {
        fprintf(stderr, "leakhound repro: cannot read '%s': %s\n", a.file,
                strerror(errno));
        finish(2);
    }
    lh_session s;
    if (lh_session_open(&s, a.script, a.workload,
                        strtoull(a.seed, NULL, 10), &err) < 0) {
        fprintf(stderr, "leakhound repro: %s\n", lh_buf_str(&err));
        finish(2);
    }
    int reps = atoi(a.reps);
    lh_oracle_config cfg = { 0 };
    cfg.reps = reps;
    lh_oracle *o = lh_session_oracle(&s, &cfg);
    printf("repro: %s (%zu bytes) on workload '%s' of %s, %d "
           "repetitions (up to 64 when growth is inconclusive)\n", a.file,
           input.len, a.workload, a.script, reps);
    /* A fuzzer confirms an input after it ran once (the trigger); a fresh
     * worker has not run it: the target's first-call initialisation
     * would land in the series as growth, and growth that does not
     * confirm is replayed on to 64.  So run it once first, like the
     * trigger. */
    lh_finding f;
    int rc = lh_session_step(&s, (const uint8_t *)input.data, input.len,
                             &err);
    if (rc < 0)
        fprintf(stderr, "leakhound: the workload's step raised an error "
                "(a script problem, not a target crash):\n%s\n",
                lh_buf_str(&err));
    else
        rc = lh_oracle_confirm(o, (const uint8_t *)input.data, input.len,
                               reps, &f);
    if (rc < 0) {
        printf("ERROR  the step failed while replaying the input\n");
        finish(2);
    }
    if (s.settle_failed) {
        /* the samples were taken without the settle the script asks */
        printf("ERROR  the workload's settle raised an error: %s\n",
               s.settle_error);
        finish(2);
    }
    if (rc == 0) {
        const char *m;
        const double *y;
        int n;
        for (int k = 0; (n = lh_oracle_series(o, k, &m, &y)) > 0; k++)
            printf("      %-20s %.0f -> %.0f over %d repetitions\n", m, y[0],
                   y[n - 1], n - 1);
        char names[256];
        if (lh_oracle_bounded(o, names, sizeof names) > 0)
            printf("no leak: %s grew with the repetitions, then not over "
                   "4096 more: a bounded structure filling up (a cache, a "
                   "batch), not a leak\n", names);
        else
            printf("no leak: no watched metric grew with the "
                   "repetitions\n");
        finish(write_verdict(&a, o, NULL, &s) < 0 ? 2 : 0);
    }
    printf("LEAK  %s  %+.4g %s per %s (p=%.2g)%s%s\n", f.metric,
           f.growth_per_rep, f.unit,
           f.distinct ? "distinct input" : "repetition", f.p_value,
           f.site[0] ? " at " : "", f.site);
    if (f.distinct)
        printf("      replaying the input does not grow it; %ld distinct "
               "variants of it (a counter at byte %ld%s) do\n",
               f.variants, f.variant_at,
               (size_t)f.variant_at + 4 >= f.size ? ", the tail" : "");
    print_series(&f);
    int code = write_verdict(&a, o, &f, &s) < 0 ? 2 : 1;
    if (a.artifact_dir) {
        char path[4096], prefix[4096];
        snprintf(prefix, sizeof prefix, "%s/", a.artifact_dir);
        lh_artifact_ctx ctx = {
            .script = a.script, .workload = a.workload,
            .target = s.target ? s.target->path : NULL, .engine = "repro",
            .seed = strtoull(a.seed, NULL, 10),
        };
        if (lh_mkdir_p(a.artifact_dir) == 0 &&
            lh_artifact_write(prefix, &f, &ctx, path, sizeof path) == 0 &&
            lh_artifact_set_verified(path) == 0)    /* this was a fresh
                                                       worker */
            printf("      artifact: %s\n", path);
        else {
            /* the input is FILE all the same; the listing said where */
            printf("ERROR  cannot write the artifact into %s: %s\n",
                   a.artifact_dir, strerror(errno));
            code = 2;
        }
    }
    /* no teardown: a Go runtime and blocked target threads may remain */
    finish(code);
}
