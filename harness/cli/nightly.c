/* nightly.c - fuzz every fuzzable workload and file what leaks. */
#include "nightly.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lua.h>

#include "artifact.h"
#include "buf.h"
#include "file.h"
#include "clock.h"
#include "gate.h"
#include "alloc.h"
#include "json.h"
#include "child.h"
#include "outdir.h"
#include "regress.h"
#include "report.h"
#include "script.h"
#include "sha1.h"
#include "supervisor.h"
#include "scripts.h"
#include "testcmd.h"
#include "text.h"
#include "workload.h"

#define SELF "/proc/self/exe"
#define DEFAULT_BUDGET 600.0

typedef struct nightly_opts {
    double budget;              /* fuzzing seconds per workload */
    double minimize_time;
    const char *corpora;
    const char *work;
    const char *report_dir;
    const char *engine;
    const char *seed;
    char **only;
    int nonly;
    lh_buf paths;               /* char * each */
} nightly_opts;

/* A fuzzable workload and what its night found. */
typedef struct fuzz_job {
    char name[256];
    char script[4096];
    char corpus[4096];
    char expect[16];
    char out[4400];             /* work/<name> */
    double seconds;
    const char *status;         /* "fuzzed", "error" */
    int findings, crashes;
    int unfiled;                /* new leaks that could not be filed */
} fuzz_job;

static int usage(const char *fmt, const char *arg)
{
    fputs("leakhound nightly: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nusage: leakhound nightly [SCRIPT|DIR ...] [--budget D] "
          "[--corpora DIR] [--work DIR]\n       [--report-dir DIR] "
          "[--workload GLOB] [--engine E] [--minimize-time D]\n", stderr);
    return LH_EXIT_ERROR;
}

static int parse(int argc, char **argv, nightly_opts *o)
{
    memset(o, 0, sizeof *o);
    o->budget = DEFAULT_BUDGET;
    const char *env = getenv("LEAKHOUND_NIGHTLY_BUDGET");
    if (env && *env && (lh_parse_duration(env, &o->budget) < 0 ||
                        o->budget <= 0))
        return usage("LEAKHOUND_NIGHTLY_BUDGET wants a duration like 10m, "
                     "got '%s'", env);
    o->minimize_time = 60;
    o->corpora = "corpora";
    o->work = "reports/nightly/work";
    o->report_dir = "reports/nightly";
    o->engine = "libfuzzer";
    o->seed = "1";
    o->only = lh_xcalloc((size_t)argc, sizeof *o->only);
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i];
        static const char *const valued[] = {
            "--budget", "--corpora", "--work", "--report-dir", "--workload",
            "--engine", "--minimize-time", "--seed", NULL,
        };
        int takes = lh_word_in(k, valued);
        if (takes && i + 1 >= argc)
            return usage("option %s needs a value", k);
        const char *v = takes ? argv[++i] : NULL;
        if (strcmp(k, "--budget") == 0) {
            if (lh_parse_duration(v, &o->budget) < 0 || o->budget <= 0)
                return usage("--budget wants a duration like 10m, got '%s'",
                             v);
        } else if (strcmp(k, "--minimize-time") == 0) {
            if (lh_parse_duration(v, &o->minimize_time) < 0 ||
                o->minimize_time <= 0)
                return usage("--minimize-time wants a duration, got '%s'",
                             v);
        } else if (strcmp(k, "--corpora") == 0) {
            o->corpora = v;
        } else if (strcmp(k, "--work") == 0) {
            o->work = v;
        } else if (strcmp(k, "--report-dir") == 0) {
            o->report_dir = v;
        } else if (strcmp(k, "--workload") == 0) {
            o->only[o->nonly++] = (char *)v;
        } else if (strcmp(k, "--engine") == 0) {
            if (strcmp(v, "libfuzzer") != 0 && strcmp(v, "afl") != 0)
                return usage("--engine is libfuzzer or afl, got '%s'", v);
            o->engine = v;
        } else if (strcmp(k, "--seed") == 0) {
            o->seed = v;
        } else if (k[0] == '-' && k[1]) {
            return usage("unknown option '%s'", k);
        } else {
            lh_buf_add(&o->paths, &k, sizeof k);
        }
    }
    return 0;
}

/* Does a --workload glob select the workload?  used[i] records that
 * glob i matched a workload of some script. */
static int selected(const nightly_opts *o, const char *name, int *used)
{
    if (!o->nonly)
        return 1;
    int hit = 0;
    for (int i = 0; i < o->nonly; i++)
        if (fnmatch(o->only[i], name, 0) == 0)
            hit = used[i] = 1;
    return hit;
}

/* The fuzzable workloads of the scripts.  -1 when a script cannot be
 * loaded: a broken suite must not pass as "nothing to fuzz"; -1 too when a
 * --workload glob matches no workload of any script (one that matches
 * only workloads without a corpus is not an error here: the caller says
 * there is nothing to fuzz). */
static int collect(const nightly_opts *o, const char *files,
                   fuzz_job **out, int *n)
{
    *out = NULL;
    *n = 0;
    int *used = lh_xcalloc((size_t)o->nonly + 1, sizeof *used);
    lh_buf names = LH_BUF_INIT, err = LH_BUF_INIT;
    int rc = 0;
    for (const char *s = files; *s && rc == 0; s += strlen(s) + 1) {
        lua_State *L = lh_script_new(LH_SCRIPT_DECLARE);
        lh_buf_reset(&err);
        if (lh_script_load(L, s, &err) < 0) {
            fprintf(stderr, "leakhound nightly: %s\n", lh_buf_str(&err));
            rc = -1;
        }
        int count = rc ? 0 : lh_script_workload_count(L);
        for (int i = 1; i <= count && rc == 0; i++) {
            lh_workload *w = lh_xmalloc(sizeof *w);
            lh_script_workload(L, i);
            lh_buf_reset(&err);
            rc = lh_workload_read(L, -1, w, &err);
            lua_pop(L, 1);
            if (rc < 0) {
                /* a bad workload is not "nothing to fuzz" */
                fprintf(stderr, "leakhound nightly: %s\n", lh_buf_str(&err));
            } else {
                lh_buf_printf(&names, "%s%s", names.len ? ", " : "",
                              w->name);
            }
            if (rc == 0 && selected(o, w->name, used) && w->corpus[0]) {
                *out = lh_xrealloc(*out, (size_t)(*n + 1) * sizeof **out);
                fuzz_job *j = &(*out)[(*n)++];
                memset(j, 0, sizeof *j);
                snprintf(j->name, sizeof j->name, "%s", w->name);
                snprintf(j->script, sizeof j->script, "%s", s);
                snprintf(j->corpus, sizeof j->corpus, "%s", w->corpus);
                snprintf(j->expect, sizeof j->expect, "%s", w->expect);
                j->status = "not run";
                char safe[256];
                lh_safe_name(safe, sizeof safe, w->name);
                snprintf(j->out, sizeof j->out, "%s/%s", o->work, safe);
            }
            lh_raw_free(w);
        }
        lua_close(L);
    }
    for (int i = 0; rc == 0 && i < o->nonly; i++)
        if (!used[i]) {
            fprintf(stderr, "leakhound nightly: no workload matches "
                    "--workload '%s' (workloads: %s)\n", o->only[i],
                    names.len ? lh_buf_str(&names) : "none");
            rc = -1;
        }
    lh_raw_free(used);
    lh_buf_free(&names);
    lh_buf_free(&err);
    if (rc < 0) {
        lh_raw_free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static int case_exists(const char *corpora, const char *id)
{
    lh_case *cases;
    lh_buf errors = LH_BUF_INIT;
    int n = lh_cases_load(corpora, &cases, &errors), hit = 0;
    for (int i = 0; i < n && !hit; i++)
        hit = strcmp(cases[i].id, id) == 0;
    lh_cases_free(cases, n);
    lh_buf_free(&errors);
    return hit;
}

/* Shrink the artifact; the minimized input's own artifact (written by the
 * minimizer's confirming replay) goes into min, or "" when minimizing did
 * not give a reproducing input. */
static void minimize(const nightly_opts *o, const fuzz_job *j,
                     const char *artifact, char *min, size_t len)
{
    char t[32], log[4600], shrunk[4600];
    const char *base = strrchr(artifact, '/');
    base = base ? base + 1 : artifact;
    snprintf(t, sizeof t, "%gs", o->minimize_time);
    snprintf(log, sizeof log, "%s/minimize-%s.log", j->out, base);
    snprintf(shrunk, sizeof shrunk, "%s/artifacts/minimized-%s", j->out,
             base);
    char *argv[] = {
        SELF, "minimize", (char *)j->script, "--workload", (char *)j->name,
        (char *)artifact, "--time", t, "--engine", (char *)o->engine, NULL,
    };
    min[0] = '\0';
    lh_child_result r = lh_child_run(argv, NULL, o->minimize_time + 600,
                                     log);
    lh_buf data = LH_BUF_INIT;
    if (r.end == LH_CHILD_EXITED && r.code == 0 &&
        lh_read_file(shrunk, &data) == 0) {
        char sha[41];
        lh_sha1_hex(data.data ? data.data : "", data.len, sha);
        char *slash = strrchr(shrunk, '/');
        *slash = '\0';
        snprintf(min, len, "%s/leak-%s", shrunk, sha);
        if (!lh_is_file(min))
            min[0] = '\0';
    }
    lh_buf_free(&data);
}

/* Does the artifact still leak in a fresh worker?  (A run interrupted
 * before `fuzz` verified its findings leaves unverified ones.)  Verified
 * once: the sidecar keeps it.  The log goes beside the artifacts, not
 * among them. */
static int reproduces(const fuzz_job *j, const char *artifact)
{
    if (lh_artifact_verified(artifact))
        return 1;
    char log[4600];
    const char *base = strrchr(artifact, '/');
    snprintf(log, sizeof log, "%s/verify-%s.log", j->out,
             base ? base + 1 : artifact);
    char *argv[] = {
        SELF, "repro", (char *)j->script, "--workload", (char *)j->name,
        (char *)artifact, NULL,
    };
    lh_child_result r = lh_child_run(argv, NULL, 900, log);
    int yes = r.end == LH_CHILD_EXITED && r.code == 1;
    if (yes)
        lh_artifact_set_verified(artifact);
    return yes;
}

/* The signature of the minimized input's artifact (written by a fresh
 * worker), without " per distinct input" (how it was confirmed, not what
 * it is: see lh_case_id).  0, or -1 when there is none. */
static int fresh_signature(const char *artifact, char *out, size_t len)
{
    char side[4700], why[256];
    snprintf(side, sizeof side, "%s.json", artifact);
    lh_json *js = lh_json_load(side, why, sizeof why);
    const char *s = lh_json_gets(js, "signature", NULL);
    static const char how[] = " per distinct input";
    if (s) {
        const char *cut = strstr(s, how);
        if (cut)
            snprintf(out, len, "%.*s%s", (int)(cut - s), s,
                     cut + sizeof how - 1);
        else
            snprintf(out, len, "%s", s);
    }
    lh_json_free(js);
    return s ? 0 : -1;
}

/* Note in the artifact's sidecar the case it is filed as ("case"). */
static void note_case(const char *side, const char *id)
{
    char why[256];
    lh_json *js = lh_json_load(side, why, sizeof why);
    if (!js)
        return;
    lh_buf b = LH_BUF_INIT;
    lh_json_str(&b, id);
    lh_json_set(js, "case", lh_json_from(&b));
    lh_buf_reset(&b);
    lh_json_write(&b, js);
    lh_buf_putc(&b, '\n');
    lh_write_atomic(side, b.data, b.len);
    lh_buf_free(&b);
    lh_json_free(js);
}

/* Is id listed in ids ("\n"-separated, starting with "\n")? */
static int listed(const lh_buf *ids, const char *id)
{
    char key[400];
    snprintf(key, sizeof key, "\n%s\n", id);
    return strstr(lh_buf_str(ids), key) != NULL;
}

/* File every confirmed artifact of the job not filed yet.  ids of new and
 * known cases are appended to new_ids / known_ids ("\n"-separated), each
 * once and in one of them only: one leak, one listing.  The job's findings
 * are its distinct leaks.  Interrupted, it stops: what is not filed yet
 * stays in the work directory for the next run. */
static void file_findings(const nightly_opts *o, fuzz_job *j,
                          lh_buf *new_ids, lh_buf *known_ids)
{
    lh_buf mine = LH_BUF_INIT;      /* this job's ids */
    lh_buf_putc(&mine, '\n');
    char dir[4500];
    snprintf(dir, sizeof dir, "%s/artifacts", j->out);
    lh_buf names = LH_BUF_INIT;
    if (lh_list_dir(dir, &names) < 0) {
        lh_buf_free(&names);
        lh_buf_free(&mine);
        return;
    }
    for (const char *p = lh_buf_str(&names); *p; p += strlen(p) + 1) {
        if (lh_child_interrupted())
            break;
        if (strncmp(p, "crash-", 6) == 0 || strncmp(p, "timeout-", 8) == 0 ||
            strncmp(p, "oom-", 4) == 0) {
            j->crashes++;
            continue;
        }
        if (!lh_artifact_is_input(p))
            continue;   /* leak-<sha1> only: not sidecars, not minimized */
        char artifact[4600], side[4700], sig[512];
        snprintf(artifact, sizeof artifact, "%s/%s", dir, p);
        snprintf(side, sizeof side, "%s.json", artifact);
        char why[256];
        lh_json *js = lh_json_load(side, why, sizeof why);
        const char *s = lh_json_gets(js, "signature", NULL);
        char as[320];       /* filed under another signature before */
        snprintf(as, sizeof as, "%s", lh_json_gets(js, "case", ""));
        if (s)
            snprintf(sig, sizeof sig, "%s", s);
        lh_json_free(js);
        if (!s)
            continue;
        char id[320];
        lh_case_id(id, sizeof id, j->name, sig);
        if (as[0])
            snprintf(id, sizeof id, "%s", as);
        if (!listed(&mine, id)) {
            j->findings++;
            lh_buf_printf(&mine, "%s\n", id);
        }
        if (listed(new_ids, id) || listed(known_ids, id))
            continue;   /* listed already */
        if (case_exists(o->corpora, id)) {
            lh_buf_printf(known_ids, "%s\n", id);
            continue;
        }
        printf("      new leak %s: minimizing\n", p);
        fflush(stdout);
        char min[4600];
        minimize(o, j, artifact, min, sizeof min);
        if (lh_child_interrupted())
            break;      /* filed, minimized, on the next run */
        int verified = min[0] || reproduces(j, artifact);
        if (lh_child_interrupted())
            break;
        if (!verified) {
            printf("      %s does not reproduce in a fresh worker: not "
                   "filed\n", p);
            continue;
        }
        /* The engine's run may name the leak otherwise than a fresh
         * worker does (a site left unsymbolized): the case is filed as
         * the fresh worker sees it, since its replays see it so. */
        char fresh[512], fid[320];
        if (min[0] && fresh_signature(min, fresh, sizeof fresh) == 0 &&
            (lh_case_id(fid, sizeof fid, j->name, fresh),
             strcmp(fid, id) != 0)) {
            snprintf(sig, sizeof sig, "%s", fresh);
            snprintf(id, sizeof id, "%s", fid);
            note_case(side, id);
            if (listed(&mine, id))
                j->findings--;      /* counted under its other name */
            else
                lh_buf_printf(&mine, "%s\n", id);
            if (listed(new_ids, id) || listed(known_ids, id))
                continue;
            if (case_exists(o->corpora, id)) {
                lh_buf_printf(known_ids, "%s\n", id);
                continue;
            }
        }
        lh_found_by how = {
            .by = "nightly", .engine = o->engine, .budget = o->budget,
            .minimized = min[0] != 0, .signature = sig,
        };
        lh_buf err = LH_BUF_INIT;
        int rc = lh_case_file(o->corpora, min[0] ? min : artifact, &how, id,
                              sizeof id, &err);
        if (rc < 0) {
            fprintf(stderr, "leakhound nightly: cannot file %s: %s\n",
                    artifact, lh_buf_str(&err));
            j->unfiled++;
        }
        else if (rc == 0)
            lh_buf_printf(known_ids, "%s\n", id);
        else {
            lh_buf_printf(new_ids, "%s\n", id);
            printf("      filed %s/.../regressions/%s\n", o->corpora, id);
        }
        lh_buf_free(&err);
    }
    lh_buf_free(&names);
    lh_buf_free(&mine);
    fflush(stdout);
}

/* The signatures of the job's filed cases, as the fuzz driver's
 * LEAKHOUND_KNOWN: the budget goes to leaks not filed yet.  Both ways a
 * leak can be confirmed are listed (see lh_case_id). */
static void write_known(const nightly_opts *o, const fuzz_job *j,
                        const char *path)
{
    lh_case *cases;
    lh_buf errors = LH_BUF_INIT, b = LH_BUF_INIT;
    int n = lh_cases_load(o->corpora, &cases, &errors);
    static const char how[] = " per distinct input";
    for (int i = 0; i < n; i++) {
        if (strcmp(cases[i].workload, j->name) != 0)
            continue;
        const char *sig = cases[i].signature;
        const char *at = strstr(sig, " @ ");
        size_t head = at ? (size_t)(at - sig) : strlen(sig);
        lh_buf_printf(&b, "%s\n", sig);
        if (!strstr(sig, how))
            lh_buf_printf(&b, "%.*s%s%s\n", (int)head, sig, how, sig + head);
    }
    lh_write_atomic(path, b.data ? b.data : "", b.len);
    lh_cases_free(cases, n);
    lh_buf_free(&errors);
    lh_buf_free(&b);
}

static void fuzz_one(const nightly_opts *o, fuzz_job *j)
{
    char t[32], log[4600], known[4600];
    snprintf(t, sizeof t, "%gs", o->budget);
    snprintf(log, sizeof log, "%s/fuzz.log", j->out);
    snprintf(known, sizeof known, "%s/known-signatures", j->out);
    lh_mkdir_p(j->out);
    write_known(o, j, known);
    char *argv[] = {
        SELF, "fuzz", j->script, "--workload", j->name, "--time", t,
        "--out", j->out, "--corpus", j->corpus, "--engine",
        (char *)o->engine, "--seed", (char *)o->seed, "--keep-going",
        "--known", known, NULL,
    };
    double t0 = lh_now();
    /* the budget, plus confirming and verifying what it found */
    lh_child_result r = lh_child_run(argv, NULL, o->budget + 900, log);
    j->seconds = lh_now() - t0;
    if (lh_child_interrupted()) {
        j->status = "interrupted";
        return;
    }
    j->status = (r.end == LH_CHILD_EXITED && r.code == 2) ||
                r.end == LH_CHILD_NOSTART ? "error" : "fuzzed";
    if (strcmp(j->status, "error") == 0)
        printf("      cannot fuzz: see %s\n", log);
}

/* The case objects of doc's regressions whose id is listed in ids, or
 * whose status is status (when ids is NULL). */
static lh_json *pick_cases(const lh_json *doc, const char *ids,
                           const char *status)
{
    lh_buf b = LH_BUF_INIT;
    lh_buf_putc(&b, '[');
    int first = 1;
    for (const lh_json *r = lh_json_first(lh_json_get(doc, "regressions"));
         r; r = r->next) {
        const char *id = lh_json_gets(r, "id", "");
        int hit;
        if (ids) {
            char key[400];
            snprintf(key, sizeof key, "\n%s\n", id);
            hit = strstr(ids, key) != NULL;
        } else {
            hit = strcmp(lh_json_gets(r, "status", ""), status) == 0;
        }
        if (!hit)
            continue;
        lh_buf_puts(&b, first ? "" : ",");
        first = 0;
        lh_json_write(&b, r);
    }
    lh_buf_putc(&b, ']');
    lh_json *v = lh_json_from(&b);
    lh_buf_free(&b);
    return v;
}

static void iso_now(char *out, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The nightly report: the fuzzed workloads are not judged as a run's
 * workloads are, so "workloads" holds them only to tie regression cases
 * to their scripts and expectations. */
static lh_json *report_doc(const nightly_opts *o, fuzz_job *jobs, int n,
                           int argc, char **argv, const char *started)
{
    char now[32];
    iso_now(now, sizeof now);
    lh_buf b = LH_BUF_INIT;
    lh_buf_printf(&b, "{\"leakhound\":\"" LH_VERSION "\",\"schema\":2,"
                  "\"kind\":\"nightly\",\"started\":\"%s\",\"finished\":"
                  "\"%s\",\"command\":[", started, now);
    for (int i = 0; i < argc; i++) {
        lh_buf_puts(&b, i ? "," : "");
        lh_json_str(&b, argv[i]);
    }
    lh_buf_puts(&b, "],\"workloads\":[],\"fuzzed\":[");
    for (int i = 0; i < n; i++) {
        fuzz_job *j = &jobs[i];
        lh_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
        lh_json_str(&b, j->name);
        lh_json_field_str(&b, "script", j->script);
        lh_buf_puts(&b, ",\"expect\":");
        if (j->expect[0]) {
            lh_buf_puts(&b, "{\"status\":");
            lh_json_str(&b, j->expect);
            lh_buf_putc(&b, '}');
        } else {
            lh_buf_puts(&b, "null");
        }
        lh_buf_putc(&b, '}');
    }
    lh_buf_printf(&b, "],\"nightly\":{\"budget_seconds\":");
    lh_json_num(&b, o->budget);
    lh_buf_puts(&b, ",\"engine\":");
    lh_json_str(&b, o->engine);
    lh_buf_puts(&b, ",\"workloads\":[");
    for (int i = 0; i < n; i++) {
        fuzz_job *j = &jobs[i];
        lh_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
        lh_json_str(&b, j->name);
        lh_json_field_str(&b, "script", j->script);
        lh_json_field_num(&b, "seconds", j->seconds);
        lh_json_field_str(&b, "status", j->status);
        lh_json_field_num(&b, "findings", j->findings);
        lh_json_field_num(&b, "crashes", j->crashes);
        lh_json_field_num(&b, "not_filed", j->unfiled);
        lh_json_field_str(&b, "work", j->out);
        lh_buf_putc(&b, '}');
    }
    lh_buf_puts(&b, "]}}");
    lh_json *doc = lh_json_from(&b);
    lh_buf_free(&b);
    return doc;
}

int lh_nightly_cmd(int argc, char **argv)
{
    nightly_opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    lh_child_trap_signals();
    char *dflt[] = { "lua/suites" };
    char **given = o.paths.len ? (char **)o.paths.data : dflt;
    int ngiven = o.paths.len ? (int)(o.paths.len / sizeof(char *)) : 1;
    lh_buf files = LH_BUF_INIT, err = LH_BUF_INIT;
    if (lh_expand_scripts(given, ngiven, &files, &err) < 0) {
        fprintf(stderr, "leakhound nightly: %s\n", lh_buf_str(&err));
        return LH_EXIT_ERROR;
    }
    fuzz_job *jobs;
    int n;
    if (collect(&o, files.data, &jobs, &n) < 0)
        return LH_EXIT_ERROR;
    if (n == 0) {
        fprintf(stderr, "leakhound nightly: no fuzzable workload (one whose "
                "inputs = leak.corpus(dir)) in %s%s\n", given[0],
                o.nonly ? " matching --workload" : "");
        return LH_EXIT_ERROR;
    }
    /* checked and locked before any fuzzing: two nights on one corpora
     * would disagree on what is new */
    lh_buf lerr = LH_BUF_INIT;
    if (lh_outdir_check(o.report_dir, lh_report_files, &lerr) < 0 ||
        lh_outdir_check(o.work, NULL, &lerr) < 0 ||
        lh_outdir_check(o.corpora, NULL, &lerr) < 0 ||
        lh_outdir_lock(o.corpora, &lerr) < 0 ||
        lh_outdir_lock(o.report_dir, &lerr) < 0 ||
        lh_outdir_lock(o.work, &lerr) < 0 ||
        lh_outdir_clear(o.report_dir, lh_report_files, &lerr) < 0) {
        fprintf(stderr, "leakhound nightly: %s\n", lh_buf_str(&lerr));
        lh_buf_free(&lerr);
        return LH_EXIT_ERROR;
    }
    lh_buf_free(&lerr);
    char started[32];
    iso_now(started, sizeof started);
    printf("nightly: %d fuzzable workload%s, %gs each with %s; cases go to "
           "%s/<target>/regressions/\n", n, n == 1 ? "" : "s", o.budget,
           o.engine, o.corpora);
    lh_buf new_ids = LH_BUF_INIT, known_ids = LH_BUF_INIT;
    lh_buf_putc(&new_ids, '\n');
    lh_buf_putc(&known_ids, '\n');
    for (int i = 0; i < n && !lh_child_interrupted(); i++) {
        fuzz_job *j = &jobs[i];
        printf("[%d/%d] %s (%s)\n", i + 1, n, j->name, j->script);
        fflush(stdout);
        /* what an interrupted night found comes first */
        file_findings(&o, j, &new_ids, &known_ids);
        j->findings = j->crashes = j->unfiled = 0;
        if (lh_child_interrupted())
            break;
        fuzz_one(&o, j);
        if (!lh_child_interrupted())
            file_findings(&o, j, &new_ids, &known_ids);
        if (j->unfiled) {
            /* a new leak not filed is no "0 new": the night errs */
            j->status = "error";
            printf("      %d new leak%s NOT filed (see above): kept in %s "
                   "for the next run\n", j->unfiled,
                   j->unfiled == 1 ? "" : "s", j->out);
        }
        printf("      %d finding%s (%d crash%s) in %.0fs\n", j->findings,
               j->findings == 1 ? "" : "s", j->crashes,
               j->crashes == 1 ? "" : "es", j->seconds);
    }
    if (lh_child_interrupted()) {
        fprintf(stderr, "leakhound nightly: interrupted (signal %d); what "
                "was found and not filed is kept in %s and filed on the next "
                "run\n", lh_child_interrupted(), o.work);
        return 128 + lh_child_interrupted();
    }

    /* replay every case of these workloads: which are fixed now? */
    lh_json *doc = report_doc(&o, jobs, n, argc, argv, started);
    lh_json *wl = lh_json_member(doc, "workloads");
    const lh_json *fz = lh_json_get(doc, "fuzzed");
    for (const lh_json *e = lh_json_first(fz); e; e = e->next) {
        lh_buf b = LH_BUF_INIT;
        lh_json_write(&b, e);
        lh_json_append(wl, lh_json_from(&b));
        lh_buf_free(&b);
    }
    char workdir[4300];
    snprintf(workdir, sizeof workdir, "%s/regressions", o.report_dir);
    lh_mkdir_p(workdir);
    lh_gate_regressions(doc, o.corpora, workdir, 300, 1);
    lh_json *night = lh_json_member(doc, "nightly");
    lh_json_set(night, "new", pick_cases(doc, lh_buf_str(&new_ids), NULL));
    lh_json_set(night, "known", pick_cases(doc, lh_buf_str(&known_ids),
                                           NULL));
    lh_json_set(night, "fixed", pick_cases(doc, NULL, "fixed"));
    /* the fuzzed workloads are listed under nightly, not judged */
    lh_buf empty = LH_BUF_INIT;
    lh_buf_puts(&empty, "[]");
    lh_json_set(doc, "workloads", lh_json_from(&empty));
    lh_buf_free(&empty);
    /* A night fails on what is new: known leaks that still leak are
     * tracked by their cases (and fail the merge gate, not the night). */
    lh_gate_finish(doc, "nightly");
    int nnew = (int)lh_json_get(night, "new")->len;
    int nknown = (int)lh_json_get(night, "known")->len;
    int nfixed = (int)lh_json_get(night, "fixed")->len;
    int errors = 0;
    for (int i = 0; i < n; i++)
        errors += strcmp(jobs[i].status, "error") == 0;
    for (const lh_json *r = lh_json_first(lh_json_get(doc, "regressions"));
         r; r = r->next) {
        const char *st = lh_json_gets(r, "status", "");
        errors += strcmp(st, "leaks") != 0 && strcmp(st, "fixed") != 0;
    }
    int code = errors ? LH_EXIT_ERROR : nnew ? LH_EXIT_FAIL : LH_EXIT_PASS;
    lh_buf g = LH_BUF_INIT;
    lh_buf_printf(&g, "{\"ok\":%s,\"reason\":\"%d new leak%s filed, %d "
                  "known, %d fixed%s\"}", code ? "false" : "true", nnew,
                  nnew == 1 ? "" : "s", nknown, nfixed,
                  errors ? "; errors: see the workloads and cases" : "");
    lh_json_set(doc, "gate", lh_json_from(&g));
    lh_buf_free(&g);
    /* the views, then report.json with the status the run exits with */
    lh_report_write(doc, o.report_dir, &code, "leakhound nightly");
    lh_buf path = LH_BUF_INIT;
    lh_buf_printf(&path, "%s/report.json", o.report_dir);
    printf("nightly: %d new, %d known, %d fixed; report %s\n", nnew, nknown,
           nfixed, lh_buf_str(&path));
    lh_buf_free(&path);
    lh_buf_free(&new_ids);
    lh_buf_free(&known_ids);
    lh_json_free(doc);
    lh_raw_free(jobs);
    return code;
}

int lh_file_cmd(int argc, char **argv)
{
    const char *corpora = "corpora";
    int nart = 0, code = 0;
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--corpora") == 0) {
            if (++i >= argc) {
                fprintf(stderr, "leakhound file: --corpora needs a value\n");
                return LH_EXIT_ERROR;
            }
            corpora = argv[i];
        }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--corpora") == 0) {
            i++;
            continue;
        }
        if (argv[i][0] == '-') {
            fprintf(stderr, "leakhound file: unknown option '%s'\nusage: "
                    "leakhound file ARTIFACT... [--corpora DIR]\n", argv[i]);
            return LH_EXIT_ERROR;
        }
        nart++;
        char id[320];
        lh_buf err = LH_BUF_INIT;
        lh_found_by how = { .by = "manual" };
        int rc = lh_case_file(corpora, argv[i], &how, id, sizeof id, &err);
        if (rc < 0) {
            fprintf(stderr, "leakhound file: %s\n", lh_buf_str(&err));
            code = LH_EXIT_ERROR;
        } else {
            printf("%s %s as %s\n", rc ? "filed" : "already filed", argv[i],
                   id);
        }
        lh_buf_free(&err);
    }
    if (!nart) {
        fprintf(stderr, "leakhound file: no artifact given\nusage: "
                "leakhound file ARTIFACT... [--corpora DIR]\n");
        return LH_EXIT_ERROR;
    }
    return code;
}
