/*
 * report.c - rendering a report directory's human and CI views from
 * report.json, and the `leakhound report` command that re-renders them.
 */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "report_render.h"

/* What the renderers rely on: anything else may be missing or odd and
 * only renders as absent, but a file that is not a report at all should
 * be refused with a message, not rendered as an empty page. */
static int check_report(const lh_json *r, char *err, size_t errlen)
{
    if (!r || r->type != LH_JOBJ) {
        snprintf(err, errlen, "not a leakhound report (not a JSON object)");
        return -1;
    }
    const lh_json *schema = lh_json_get(r, "schema");
    if (!schema || schema->type != LH_JNUM) {
        snprintf(err, errlen, "not a leakhound report (no \"schema\")");
        return -1;
    }
    const lh_json *ws = lh_json_get(r, "workloads");
    if (ws && ws->type != LH_JARR) {
        snprintf(err, errlen, "\"workloads\" is not an array");
        return -1;
    }
    size_t i = 0;
    for (const lh_json *w = lh_json_first(ws); w; w = w->next, i++) {
        if (w->type != LH_JOBJ ||
            !lh_json_get(w, "name") ||
            lh_json_get(w, "name")->type != LH_JSTR) {
            snprintf(err, errlen, "workloads[%zu] is not an object with a "
                     "\"name\"", i);
            return -1;
        }
    }
    static const char *const arrays[] = { "regressions" };
    for (size_t k = 0; k < sizeof arrays / sizeof *arrays; k++) {
        const lh_json *a = lh_json_get(r, arrays[k]);
        if (a && a->type != LH_JARR && a->type != LH_JNULL) {
            snprintf(err, errlen, "\"%s\" is not an array", arrays[k]);
            return -1;
        }
    }
    return 0;
}

/*
 * Every file is written atomically (temporary, then rename).  Only
 * report.json, the record the gate, CI and `leakhound report` read, is
 * made durable (fsync, then one fsync of the directory after the last
 * rename); the views are renderings of it, not fsync'd: three fsyncs were
 * ~0.5 ms of a trivial run's 8 (issue 13), and after a power loss a view
 * left old or empty is rendered again from report.json.
 */
static int write_file(const char *dir, const char *name, const lh_buf *b,
                      int durable, char *err, size_t errlen)
{
    lh_buf path = LH_BUF_INIT;
    lh_buf_printf(&path, "%s/%s", dir, name);
    const char *data = b->data ? b->data : "";
    int rc = durable ? lh_write_atomic_nodirsync(lh_buf_str(&path), data,
                                                 b->len)
                     : lh_write_atomic_nosync(lh_buf_str(&path), data,
                                              b->len);
    if (rc < 0) {
        int e = errno;
        /* an older run's file must not pass for this one's */
        int gone = unlink(lh_buf_str(&path)) == 0;
        snprintf(err, errlen, "%s: %s%s", lh_buf_str(&path), strerror(e),
                 gone ? " (the previous one removed)" : "");
    }
    lh_buf_free(&path);
    return rc;
}

int lh_report_render(const lh_json *report, const char *dir, char *err,
                     size_t errlen)
{
    if (check_report(report, err, errlen) < 0)
        return -1;
    if (lh_mkdir_p(dir) < 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    lh_buf junit = LH_BUF_INIT, md = LH_BUF_INIT, html = LH_BUF_INIT;
    lh_report_junit(report, &junit);
    lh_report_markdown(report, &md, LH_REPORT_MD_MAX);
    lh_report_html(report, &html);
    /* each is tried; err keeps the first failure */
    int rc = 0;
    const char *names[] = { "junit.xml", "summary.md", "index.html" };
    const lh_buf *bufs[] = { &junit, &md, &html };
    for (int i = 0; i < 3; i++)
        if (write_file(dir, names[i], bufs[i], 0, rc ? NULL : err,
                       rc ? 0 : errlen) < 0)
            rc = -1;
    lh_buf_free(&junit);
    lh_buf_free(&md);
    lh_buf_free(&html);
    return rc;
}

static void set_exit_code(lh_json *report, int code)
{
    lh_buf b = LH_BUF_INIT;
    lh_buf_printf(&b, "%d", code);
    lh_json_set(report, "exit_code", lh_json_from(&b));
    lh_buf_free(&b);
}

int lh_report_write(lh_json *report, const char *dir, int *code,
                    const char *who)
{
    char err[1024];
    int rc = 0;
    set_exit_code(report, *code);
    if (lh_report_render(report, dir, err, sizeof err) < 0) {
        fprintf(stderr, "%s: cannot write %s\n", who, err);
        rc = -1;
    }
    if (rc < 0 && *code < 2)
        *code = 2;
    set_exit_code(report, *code);
    lh_buf b = LH_BUF_INIT;
    lh_json_write(&b, report);
    lh_buf_putc(&b, '\n');
    if (write_file(dir, "report.json", &b, 1, err, sizeof err) < 0) {
        fprintf(stderr, "%s: cannot write %s\n", who, err);
        rc = -1;
        if (*code < 2)
            *code = 2;
    }
    lh_sync_dir(dir);
    lh_buf_free(&b);
    return rc;
}

int lh_report_render_file(const char *report_json, const char *dir,
                          char *err, size_t errlen)
{
    lh_json *r = lh_json_load(report_json, err, errlen);
    if (!r)
        return -1;
    char why[512];
    int rc = lh_report_render(r, dir, why, sizeof why);
    /* Check failures do not name the file; write failures already do. */
    if (rc < 0 && check_report(r, why, sizeof why) < 0)
        snprintf(err, errlen, "%s: %s", report_json, why);
    else if (rc < 0)
        snprintf(err, errlen, "%s", why);
    lh_json_free(r);
    return rc;
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "leakhound report: ");
    fprintf(stderr, what, arg);
    fputs("\nusage: leakhound report REPORT_JSON [--out DIR]\n", stderr);
    return 2;
}

int lh_report_cmd(int argc, char **argv)
{
    const char *input = NULL, *out = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0) {
            if (i + 1 >= argc)
                return usage_error("%s needs a directory", argv[i]);
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error("unknown option '%s'", argv[i]);
        } else if (input) {
            return usage_error("one report at a time (also got '%s')",
                               argv[i]);
        } else {
            input = argv[i];
        }
    }
    if (!input)
        return usage_error("%s", "no report.json given");

    /* By default the views go next to the report they render. */
    lh_buf dir = LH_BUF_INIT;
    if (out) {
        lh_buf_puts(&dir, out);
    } else {
        const char *slash = strrchr(input, '/');
        if (!slash)
            lh_buf_puts(&dir, ".");
        else if (slash == input)
            lh_buf_puts(&dir, "/");
        else
            lh_buf_add(&dir, input, (size_t)(slash - input));
    }
    char err[1024];
    int rc = lh_report_render_file(input, lh_buf_str(&dir), err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "leakhound report: %s\n", err);
    else
        printf("report: %s/index.html, summary.md, junit.xml\n",
               lh_buf_str(&dir));
    lh_buf_free(&dir);
    return rc < 0 ? 2 : 0;
}
