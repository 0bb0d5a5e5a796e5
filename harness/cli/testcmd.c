/* testcmd.c - `leakhound test`: workloads, regression cases, baseline. */
#include "testcmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "baseline.h"
#include "gate.h"
#include "alloc.h"
#include "json.h"
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
    o->corpora = "corpora";
    o->replay_timeout = 300;
    o->run.only = lh_raw_calloc((size_t)argc, sizeof *o->run.only);
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

static int write_doc(const lh_json *doc, const char *dir)
{
    lh_buf b = LH_BUF_INIT, path = LH_BUF_INIT;
    lh_json_write(&b, doc);
    lh_buf_putc(&b, '\n');
    lh_buf_printf(&path, "%s/report.json", dir);
    int rc = lh_write_atomic(lh_buf_str(&path), b.data, b.len);
    if (rc < 0)
        fprintf(stderr, "leakhound: cannot write %s: %s\n",
                lh_buf_str(&path), strerror(errno));
    lh_buf_free(&b);
    lh_buf_free(&path);
    return rc;
}

static void set_num(lh_json *obj, const char *key, double v)
{
    lh_buf b = LH_BUF_INIT;
    lh_json_num(&b, v);
    lh_json_set(obj, key, lh_json_from(&b));
    lh_buf_free(&b);
}

int lh_test_cmd(int argc, char **argv)
{
    test_opts o;
    lh_buf paths = LH_BUF_INIT, files = LH_BUF_INIT, err = LH_BUF_INIT;
    int rc = parse(argc, argv, &o, &paths);
    if (rc)
        return rc;
    char *dflt[] = { "lua/suites" };
    char **given = paths.len ? (char **)paths.data : dflt;
    int ngiven = paths.len ? (int)(paths.len / sizeof(char *)) : 1;
    if (lh_expand_scripts(given, ngiven, &files, &err) < 0) {
        fprintf(stderr, "leakhound test: %s\n", lh_buf_str(&err));
        return LH_EXIT_ERROR;
    }
    lh_buf list = LH_BUF_INIT;
    for (const char *p = files.data; *p; p += strlen(p) + 1) {
        char *s = (char *)p;
        lh_buf_add(&list, &s, sizeof s);
    }
    o.run.scripts = (char **)list.data;
    o.run.nscripts = (int)(list.len / sizeof(char *));

    /* the workloads, each in a fresh worker; writes report.json */
    rc = lh_supervise(&o.run);
    if (rc == LH_EXIT_ERROR && o.run.nonly) {
        return rc;  /* a --workload that matched nothing */
    }
    char report[4200], why[4600];
    snprintf(report, sizeof report, "%s/report.json", o.run.report_dir);
    lh_json *doc = lh_json_load(report, why, sizeof why);
    if (!doc) {
        fprintf(stderr, "leakhound test: %s\n", why);
        return rc > LH_EXIT_ERROR ? rc : LH_EXIT_ERROR;
    }

    /* a stored baseline, before the gate judges the workloads */
    int base_failed = 0, compared = 0;
    if (o.baseline && !o.update_baseline) {
        base_failed = lh_baseline_compare(doc, o.baseline, &compared, &err);
        if (base_failed < 0) {
            fprintf(stderr, "leakhound test: baseline: %s\n(create one "
                    "with --update-baseline)\n", lh_buf_str(&err));
            lh_json_free(doc);
            return LH_EXIT_ERROR;
        }
        printf("baseline %s: %d invariant%s compared, %d beyond "
               "tolerance\n", o.baseline, compared, compared == 1 ? "" : "s",
               base_failed);
    }
    lh_gate_workloads(doc);
    for (const lh_json *w = lh_json_first(lh_json_get(doc, "workloads")); w;
         w = w->next) {
        const lh_json *g = lh_json_get(w, "gate");
        if (!lh_json_getb(g, "ok", 0))
            printf("GATE  %s  %s\n", lh_json_gets(w, "name", "?"),
                   lh_json_gets(g, "reason", ""));
    }

    /* every leak ever filed for these workloads, replayed */
    char workdir[4300];
    snprintf(workdir, sizeof workdir, "%s/regressions", o.run.report_dir);
    lh_mkdir_p(workdir);
    lh_gate_regressions(doc, o.corpora, workdir, o.replay_timeout,
                        o.run.nonly > 0);

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
    if (o.update_baseline) {
        lh_buf_reset(&err);
        int n = lh_baseline_update(doc, o.baseline, &err);
        if (n < 0) {
            fprintf(stderr, "leakhound test: baseline: %s\n",
                    lh_buf_str(&err));
            code = code > LH_EXIT_ERROR ? code : LH_EXIT_ERROR;
            set_num(doc, "exit_code", code);
        } else {
            printf("baseline %s: written for %d passing workload%s\n",
                   o.baseline, n, n == 1 ? "" : "s");
        }
    }
    if (write_doc(doc, o.run.report_dir) < 0)
        code = code > LH_EXIT_ERROR ? code : LH_EXIT_ERROR;
    char rerr[1024] = "";
    if (lh_report_render(doc, o.run.report_dir, rerr, sizeof rerr) < 0) {
        fprintf(stderr, "leakhound test: %s\n", rerr);
        code = code > LH_EXIT_ERROR ? code : LH_EXIT_ERROR;
    }
    const lh_json *g = lh_json_get(doc, "gate");
    printf("gate: %s: %s\nreports: %s/{report.json,junit.xml,summary.md,"
           "index.html}\n", lh_json_getb(g, "ok", 0) ? "PASSED" : "FAILED",
           lh_json_gets(g, "reason", ""), o.run.report_dir);
    lh_json_free(doc);
    lh_raw_free(o.run.only);
    lh_buf_free(&paths);
    lh_buf_free(&files);
    lh_buf_free(&list);
    lh_buf_free(&err);
    return code;
}
