/* testcmd.c - `leakhound test`: workloads, regression cases, baseline. */
#include "testcmd.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "baseline.h"
#include "file.h"
#include "gate.h"
#include "alloc.h"
#include "child.h"
#include "json.h"
#include "outdir.h"
#include "report.h"
#include "scripts.h"
#include "supervisor.h"
#include "text.h"

typedef struct test_opts {
    lh_run_opts run;
    const char *baseline;
    int update_baseline;
    const char *corpora;
    double replay_timeout;
} test_opts;

static int usage(const char *fmt, const char *arg)
{
    fputs("leakhound test: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nusage: leakhound test [SCRIPT|DIR ...] [--report-dir DIR] "
          "[--baseline FILE]\n       [--update-baseline] [--corpora DIR] "
          "[--workload GLOB] [--seed N]\n       [--timeout D] "
          "[--replay-timeout D] [-v]\n", stderr);
    return LH_EXIT_ERROR;
}

static int parse(int argc, char **argv, test_opts *o, lh_buf *paths)
{
    memset(o, 0, sizeof *o);
    o->run.report_dir = "reports/latest";
    o->run.seed = 1;
    o->run.argc = argc;
    o->run.argv = argv;
    o->replay_timeout = 300;
    o->run.only = lh_xcalloc((size_t)argc, sizeof *o->run.only);
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i];
        static const char *const valued[] = {
            "--report-dir", "--baseline", "--corpora", "--workload",
            "--seed", "--timeout", "--replay-timeout", NULL,
        };
        int takes = lh_word_in(k, valued);
        if (takes && i + 1 >= argc)
            return usage("option %s needs a value", k);
        const char *v = takes ? argv[++i] : NULL;
        if (strcmp(k, "--report-dir") == 0) {
            o->run.report_dir = v;
        } else if (strcmp(k, "--baseline") == 0) {
            o->baseline = v;
        } else if (strcmp(k, "--update-baseline") == 0) {
            o->update_baseline = 1;
        } else if (strcmp(k, "--corpora") == 0) {
            o->corpora = v;
        } else if (strcmp(k, "--workload") == 0) {
            o->run.only[o->run.nonly++] = (char *)v;
        } else if (strcmp(k, "--seed") == 0) {
            char *end;
            o->run.seed = strtoull(v, &end, 10);
            if (*end || !*v)
                return usage("--seed wants a number, got '%s'", v);
        } else if (strcmp(k, "--timeout") == 0) {
            if (lh_parse_duration(v, &o->run.timeout) < 0 ||
                o->run.timeout <= 0)
                return usage("--timeout wants a duration like 90s, got "
                             "'%s'", v);
        } else if (strcmp(k, "--replay-timeout") == 0) {
            if (lh_parse_duration(v, &o->replay_timeout) < 0 ||
                o->replay_timeout <= 0)
                return usage("--replay-timeout wants a duration like 90s, "
                             "got '%s'", v);
        } else if (strcmp(k, "-v") == 0 || strcmp(k, "--verbose") == 0) {
            o->run.verbose = 1;
        } else if (k[0] == '-' && k[1]) {
            return usage("unknown option '%s'", k);
        } else {
            lh_buf_add(paths, &k, sizeof k);
        }
    }
    if (o->update_baseline && !o->baseline)
        return usage("%s", "--update-baseline needs --baseline FILE (where "
                     "to write it)");
    return 0;
}

/* What the run reads and writes, checked before any workload runs: the
 * baseline (loaded into *base), the corpora and the report directory
 * (locked for the run).  Returns 0 or the exit status. */
static int check_inputs(test_opts *o, int corpora_given, lh_json **base)
{
    lh_buf err = LH_BUF_INIT;
    int missing = o->baseline && access(o->baseline, F_OK) < 0;
    *base = NULL;
    if (o->baseline && !(o->update_baseline && missing)) {
        *base = lh_baseline_load(o->baseline, &err);
        if (!*base) {
            fprintf(stderr, "leakhound test: baseline: %s\n%s",
                    lh_buf_str(&err), missing && !o->update_baseline
                    ? "(create one with --update-baseline)\n" : "");
            lh_buf_free(&err);
            return LH_EXIT_ERROR;
        }
    }
    if (o->update_baseline) {
        /* an output too: where it goes must take it */
        char dir[PATH_MAX];
        const char *slash = strrchr(o->baseline, '/');
        const char *name[] = { slash ? slash + 1 : o->baseline, NULL };
        snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash -
                 o->baseline) : 1, slash ? o->baseline : ".");
        if (lh_outdir_check(*dir ? dir : "/", name, &err) < 0) {
            fprintf(stderr, "leakhound test: --baseline %s: %s\n",
                    o->baseline, lh_buf_str(&err));
            lh_buf_free(&err);
            lh_json_free(*base);
            return LH_EXIT_ERROR;
        }
    }
    struct stat st;
    int found = stat(o->corpora, &st) == 0, e = errno;
    if (!found && !corpora_given && e == ENOENT) {
        printf("no %s/ directory here: no regression cases to replay\n",
               o->corpora);
        o->corpora = NULL;
    } else if (!found || !S_ISDIR(st.st_mode)) {
        /* cases must not vanish with a mistyped path */
        fprintf(stderr, "leakhound test: --corpora %s: %s\n", o->corpora,
                found ? "not a directory" : strerror(e));
        lh_json_free(*base);
        return LH_EXIT_ERROR;
    }
    if (lh_outdir_claim(o->run.report_dir, lh_report_files, &err) < 0 ||
        lh_outdir_clear(o->run.report_dir, lh_report_files, &err) < 0) {
        fprintf(stderr, "leakhound test: --report-dir %s\n",
                lh_buf_str(&err));
        lh_buf_free(&err);
        lh_json_free(*base);
        return LH_EXIT_ERROR;
    }
    lh_buf_free(&err);
    return 0;
}

int lh_test_cmd(int argc, char **argv)
{
    test_opts o;
    lh_buf paths = LH_BUF_INIT, files = LH_BUF_INIT, err = LH_BUF_INIT;
    int rc = parse(argc, argv, &o, &paths);
    if (rc)
        return rc;
    int corpora_given = o.corpora != NULL;
    if (!o.corpora)
        o.corpora = "corpora";
    char *dflt[] = { "lua/suites" };
    char **given = paths.len ? (char **)paths.data : dflt;
    int ngiven = paths.len ? (int)(paths.len / sizeof(char *)) : 1;
    if (lh_expand_scripts(given, ngiven, &files, &err) < 0) {
        fprintf(stderr, "leakhound test: %s\n", lh_buf_str(&err));
        return LH_EXIT_ERROR;
    }
    lh_json *base;
    rc = check_inputs(&o, corpora_given, &base);
    if (rc)
        return rc;
    lh_buf list = LH_BUF_INIT;
    for (const char *p = files.data; *p; p += strlen(p) + 1) {
        char *s = (char *)p;
        lh_buf_add(&list, &s, sizeof s);
    }
    o.run.scripts = (char **)list.data;
    o.run.nscripts = (int)(list.len / sizeof(char *));

    /* the workloads, each in a fresh worker; the gate judges what they
     * produced here, in memory, never a report.json found on disk */
    lh_buf text = LH_BUF_INIT;
    o.run.report = &text;
    rc = lh_supervise(&o.run);
    if (!text.len)
        return rc;  /* nothing ran (a --workload that matched nothing) */
    char why[256];
    lh_json *doc = lh_json_parse(text.data, text.len, why, sizeof why);
    lh_buf_free(&text);
    if (!doc) {
        fprintf(stderr, "leakhound test: bug: the run's report does not "
                "parse: %s\n", why);
        return LH_EXIT_ERROR;
    }

    /* a stored baseline, before the gate judges the workloads */
    int base_failed = 0, compared = 0;
    if (base && !o.update_baseline) {
        base_failed = lh_baseline_compare(doc, base, &compared);
        printf("baseline %s: %d invariant%s compared, %d beyond "
               "tolerance\n", o.baseline, compared, compared == 1 ? "" : "s",
               base_failed);
    }
    lh_json_free(base);
    lh_gate_workloads(doc);
    for (const lh_json *w = lh_json_first(lh_json_get(doc, "workloads")); w;
         w = w->next) {
        const lh_json *g = lh_json_get(w, "gate");
        if (!lh_json_getb(g, "ok", 0))
            printf("GATE  %s  %s\n", lh_json_gets(w, "name", "?"),
                   lh_json_gets(g, "reason", ""));
    }

    /* every leak ever filed for these workloads, replayed */
    if (o.corpora) {
        char workdir[4300];
        snprintf(workdir, sizeof workdir, "%s/regressions",
                 o.run.report_dir);
        lh_mkdir_p(workdir);
        lh_gate_regressions(doc, o.corpora, workdir, o.replay_timeout,
                            o.run.nonly > 0);
    }

    if (o.baseline) {
        lh_buf b = LH_BUF_INIT;
        lh_buf_puts(&b, "{\"file\":");
        lh_json_str(&b, o.baseline);
        lh_buf_printf(&b, ",\"updated\":%s,\"compared\":%d,\"failed\":%d}",
                      o.update_baseline ? "true" : "false", compared,
                      base_failed);
        lh_json_set(doc, "baseline", lh_json_from(&b));
        lh_buf_free(&b);
    }
    int code = lh_gate_finish(doc, "test");
    const lh_json *g = lh_json_get(doc, "gate");
    int gate_ok = lh_json_getb(g, "ok", 0);
    if (lh_child_interrupted()) {   /* what ran is kept; not a verdict */
        code = 128 + lh_child_interrupted();
        fprintf(stderr, "leakhound test: interrupted (signal %d): what was "
                "not run or not judged is marked so\n",
                lh_child_interrupted());
    }
    if (o.update_baseline && lh_child_interrupted()) {
        printf("baseline %s: not updated: the run was interrupted\n",
               o.baseline);
    } else if (o.update_baseline) {
        lh_buf_reset(&err);
        int n = lh_baseline_update(doc, o.baseline, &err);
        if (n < 0) {
            fprintf(stderr, "leakhound test: baseline: %s\n",
                    lh_buf_str(&err));
            code = code > LH_EXIT_ERROR ? code : LH_EXIT_ERROR;
        } else {
            printf("baseline %s: written for %d passing workload%s\n",
                   o.baseline, n, n == 1 ? "" : "s");
        }
    }
    /* the views, then report.json with the status the run exits with */
    if (lh_report_write(doc, o.run.report_dir, &code, "leakhound test") == 0)
        printf("gate: %s: %s\nreports: %s/{report.json,junit.xml,summary.md,"
               "index.html}\n", gate_ok ? "PASSED" : "FAILED",
               lh_json_gets(g, "reason", ""), o.run.report_dir);
    else
        printf("gate: ERROR: the reports of this run could not be written "
               "(see above); the gate alone: %s: %s\n",
               gate_ok ? "pass" : "fail", lh_json_gets(g, "reason", ""));
    lh_json_free(doc);
    lh_raw_free(o.run.only);
    lh_buf_free(&paths);
    lh_buf_free(&files);
    lh_buf_free(&list);
    lh_buf_free(&err);
    return code;
}
