/*
 * test_report.c - the report renderers' building blocks: escaping for XML
 * and Markdown (report strings hold control characters and broken UTF-8),
 * units, the verdict rules all three outputs share, the plot's fitted and
 * threshold lines, and lh_report_render's files and errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "json.h"
#include "report.h"
#include "report_escape.h"
#include "report_model.h"
#include "text.h"
#include "report_render.h"

static lh_json *parse(const char *s)
{
    char err[256];
    lh_json *v = lh_json_parse(s, strlen(s), err, sizeof err);
    if (!v)
        printf("parse error: %s\n", err);
    return v;
}

static void test_xml(void)
{
    lh_buf b = LH_BUF_INIT;
    /* ESC, NUL, U+FFFE are not XML 1.0 characters; \xff is not UTF-8. */
    static const char in[] = "a<b>&\"'\x1b[0m\x00z\xff\xef\xbf\xbe\xc3\xa9\n";
    lh_xml_text(&b, in, sizeof in - 1);
    check(strcmp(lh_buf_str(&b), "a&lt;b&gt;&amp;\"'[0mz\xef\xbf\xbd\xc3\xa9\n")
          == 0, "text: markup escaped, illegal characters dropped, bad "
          "UTF-8 replaced (%s)", lh_buf_str(&b));
    lh_buf_reset(&b);
    lh_xml_attr(&b, "x\"y'\n\tz", 7);
    check(strcmp(lh_buf_str(&b), "x&quot;y&#39;&#10;&#9;z") == 0,
          "attribute: quotes and whitespace as references (%s)",
          lh_buf_str(&b));
    lh_buf_reset(&b);
    lh_xml_text(&b, "\xe2\x82", 2);     /* a sequence cut short */
    check(strcmp(lh_buf_str(&b), "\xef\xbf\xbd\xef\xbf\xbd") == 0,
          "a truncated sequence decodes byte by byte as U+FFFD");
    lh_buf_free(&b);
}

static void test_markdown(void)
{
    lh_buf b = LH_BUF_INIT;
    lh_md_text(&b, "a|b\nc <x> *y* _z_", 0);
    check(strcmp(lh_buf_str(&b), "a\\|b c &lt;x&gt; \\*y\\* \\_z\\_") == 0,
          "cell text: pipes, markup and newlines made inert (%s)",
          lh_buf_str(&b));
    lh_buf_reset(&b);
    lh_md_text(&b, "\xc3\xa9\xc3\xa9\xc3\xa9", 3);
    check(strcmp(lh_buf_str(&b), "\xc3\xa9\xe2\x80\xa6") == 0,
          "a cut lands on a character boundary, then an ellipsis");
    lh_buf_reset(&b);
    lh_md_code(&b, "run 'a | b' `x`", 1);
    check(strcmp(lh_buf_str(&b), "``run 'a \\| b' `x` ``") == 0,
          "code span: longer fence than any run inside, pipe escaped in a "
          "table (%s)", lh_buf_str(&b));
    lh_buf_reset(&b);
    lh_md_code(&b, "a | b", 0);
    check(strcmp(lh_buf_str(&b), "`a | b`") == 0,
          "code span outside a table keeps its pipe");
    lh_buf_reset(&b);
    lh_md_name(&b, "multi\tline\nname|x", 0);
    check(strcmp(lh_buf_str(&b), "multi&#9;line&#10;name\\|x") == 0,
          "a name keeps its tab and newline as character references (%s)",
          lh_buf_str(&b));
    lh_buf_free(&b);
}

static void test_units(void)
{
    static const struct { double v; const char *unit, *want; } q[] = {
        { 66, "B", "66 B" }, { 1320320, "B", "1.26 MiB" },
        { 2048, "B", "2 KiB" }, { 2000, "fds", "2000 fds" },
        { 0.25, "goroutines", "0.25 goroutines" },
        { 5236.93826, "allocs", "5237 allocs" }, { 7, "", "7" },
        { NAN, "B", "n/a" },
    };
    for (size_t i = 0; i < sizeof q / sizeof *q; i++) {
        lh_buf b = LH_BUF_INIT;
        lh_rep_qty(&b, q[i].v, q[i].unit);
        check(strcmp(lh_buf_str(&b), q[i].want) == 0, "qty %s: %s",
              q[i].want, lh_buf_str(&b));
        lh_buf_free(&b);
    }
    lh_buf b = LH_BUF_INIT;
    lh_rep_rate(&b, 66.016, "B");
    lh_buf_puts(&b, " ");
    lh_rep_pvalue(&b, 4e-8);
    check(strcmp(lh_buf_str(&b), "+66 B/iter p<0.001") == 0,
          "rate and p-value (%s)", lh_buf_str(&b));
    lh_buf_reset(&b);
    lh_shell_quote(&b, "it's");
    check(strcmp(lh_buf_str(&b), "'it'\\''s'") == 0, "shell quoting");
    lh_buf_free(&b);
}

static void test_verdicts(void)
{
    lh_json *r = parse(
        "{\"workloads\": ["
        " {\"name\": \"leaky\", \"status\": \"fail\", \"expect\": null,"
        "  \"invariants\": [{\"metric\": \"m\", \"status\": \"fail\"},"
        "                   {\"metric\": \"n\", \"status\": \"pass\"}]},"
        " {\"name\": \"expected\", \"status\": \"fail\","
        "  \"expect\": {\"status\": \"fail\", \"metrics\": [\"m\"],"
        "              \"met\": true},"
        "  \"invariants\": [{\"metric\": \"m\", \"status\": \"fail\"}]},"
        " {\"name\": \"missed\", \"status\": \"pass\","
        "  \"expect\": {\"status\": \"fail\", \"metrics\": [\"m\"],"
        "              \"met\": false},"
        "  \"invariants\": [{\"metric\": \"m\", \"status\": \"pass\"}]},"
        " {\"name\": \"creep\", \"status\": \"pass\","
        "  \"invariants\": [{\"metric\": \"m\", \"status\": \"pass\","
        "    \"baseline\": {\"status\": \"fail\", \"reason\": \"r\"}}]},"
        " {\"name\": \"gated\", \"status\": \"fail\","
        "  \"gate\": {\"ok\": true, \"reason\": \"waived\"},"
        "  \"invariants\": [{\"metric\": \"m\", \"status\": \"fail\"}]}"
        "]}");
    if (!r)
        return;
    const lh_json *ws = lh_json_get(r, "workloads");
    const lh_json *leaky = lh_json_at(ws, 0), *expected = lh_json_at(ws, 1);
    const lh_json *missed = lh_json_at(ws, 2), *creep = lh_json_at(ws, 3);
    const lh_json *gated = lh_json_at(ws, 4);
    const lh_json *inv;

    check(!lh_rep_workload_gate(leaky, NULL), "a failing workload without "
          "expectation fails the gate");
    inv = lh_json_at(lh_json_get(leaky, "invariants"), 0);
    check(lh_rep_inv_verdict(leaky, inv, 0, NULL) == LH_INV_FAIL,
          "its failed invariant is a failure");
    inv = lh_json_at(lh_json_get(leaky, "invariants"), 1);
    check(lh_rep_inv_verdict(leaky, inv, 0, NULL) == LH_INV_PASS,
          "its passing invariant passes");

    check(lh_rep_workload_gate(expected, NULL), "an expectation met passes "
          "the gate");
    inv = lh_json_at(lh_json_get(expected, "invariants"), 0);
    lh_buf why = LH_BUF_INIT;
    check(lh_rep_inv_verdict(expected, inv, 1, &why) ==
          LH_INV_EXPECTED_FAIL && strstr(lh_buf_str(&why),
                                         "failed as expected"),
          "the expected failure is shown as expected (%s)",
          lh_buf_str(&why));

    check(!lh_rep_workload_gate(missed, NULL), "an expectation missed fails "
          "the gate");
    inv = lh_json_at(lh_json_get(missed, "invariants"), 0);
    check(lh_rep_inv_verdict(missed, inv, 0, NULL) == LH_INV_FAIL,
          "an invariant expected to fail that passed is a failure");

    check(!lh_rep_workload_gate(creep, NULL), "a stored-baseline failure "
          "fails a derived gate");
    inv = lh_json_at(lh_json_get(creep, "invariants"), 0);
    check(lh_rep_inv_verdict(creep, inv, 1, NULL) == LH_INV_FAIL &&
          strcmp(lh_rep_verdict_word(inv, LH_INV_FAIL), "baseline fail") == 0,
          "and is a failure even when the invariant passed");
    check(isnan(lh_rep_first_value(inv)), "an object baseline is not a "
          "first sample");

    check(lh_rep_workload_gate(gated, NULL), "an explicit gate wins");
    check(lh_rep_worst_invariant(gated, 1) ==
          lh_json_first(lh_json_get(gated, "invariants")),
          "the worst invariant of a waived workload is its failure");

    lh_buf repro = LH_BUF_INIT;
    lh_json *w = parse("{\"name\": \"a b\", \"script\": \"s.lua\"}");
    lh_rep_repro(&repro, w);
    check(strcmp(lh_buf_str(&repro),
                 "build/leakhound run s.lua --workload 'a b'") == 0,
          "repro built when the report has none (%s)", lh_buf_str(&repro));
    lh_json_free(w);
    lh_buf_free(&repro);
    lh_buf_free(&why);
    lh_json_free(r);
}

/* Numbers out of an SVG attribute, e.g. d="M70.0,200.0 L542.0,36.0". */
static int path_points(const char *svg, const char *cls, double pt[4])
{
    char key[64];
    snprintf(key, sizeof key, "class=\"%s\"", cls);
    const char *p = strstr(svg, key);
    if (!p || !(p = strstr(p, " d=\"M")))
        return -1;
    return sscanf(p, " d=\"M%lf,%lf L%lf,%lf", &pt[0], &pt[1], &pt[2],
                  &pt[3]) == 4 ? 0 : -1;
}

static void test_plot(void)
{
    /* y = 100 + 2x, exactly: the fit over the judged half must pass
     * through the judged points, and the stable threshold (slack 50) sits
     * 50 above the window's first point. */
    lh_json *inv = parse(
        "{\"metric\": \"heap.live_bytes\", \"kind\": \"stable\","
        " \"unit\": \"B\", \"growth_per_iter\": 2, \"threshold\": 50,"
        " \"judged_samples\": 3, \"series\": [[0, 100], [10, 120],"
        " [20, 140], [30, 160], [40, 180]]}");
    if (!inv)
        return;
    lh_buf svg = LH_BUF_INIT;
    lh_report_plot(&svg, inv);
    const char *s = lh_buf_str(&svg);
    double fit[4], thr[4];
    check(strncmp(s, "<svg class=\"plot\"", 17) == 0 &&
          strstr(s, "</svg>") && !strstr(s, "http"),
          "one inline svg, no URL");
    const char *poly = strstr(s, "<polyline class=\"series\"");
    int commas = 0;
    if (poly)
        for (const char *p = strstr(poly, "points=\""); p && *p != '/'; p++)
            commas += *p == ',';
    check(commas == 5, "the series has its five points (%d)", commas);
    check(path_points(s, "fit", fit) == 0, "a fitted line");
    /* Through the judged points: its ends lie on the series' dots. */
    char dot[64];
    snprintf(dot, sizeof dot, "cx=\"%.1f\" cy=\"%.1f\"", fit[0], fit[1]);
    check(strstr(s, dot) != NULL, "the fit starts on the window's first "
          "point (%s)", dot);
    snprintf(dot, sizeof dot, "cx=\"%.1f\" cy=\"%.1f\"", fit[2], fit[3]);
    check(strstr(s, dot) != NULL, "and ends on the last point (%s)", dot);
    const char *t = strstr(s, "class=\"threshold\"");
    check(t && sscanf(t, "class=\"threshold\" x1=\"%lf\" y1=\"%lf\" "
                      "x2=\"%lf\" y2=\"%lf\"", &thr[0], &thr[1], &thr[2],
                      &thr[3]) == 4 && thr[1] == thr[3] && thr[0] == fit[0]
          && thr[1] < fit[1], "a level threshold over the judged window, "
          "above its start");
    check(strstr(s, "slack +50 B") && strstr(s, "trend +2 B/iter"),
          "the legend names slack and trend with units");
    lh_buf_free(&svg);
    lh_json_free(inv);

    inv = parse("{\"metric\": \"proc.fds\", \"kind\": \"bounded\","
                " \"unit\": \"fds\", \"threshold\": 64, \"series\":"
                " [[0, 5], [10, 5], [20, 5]]}");
    lh_report_plot(&svg, inv);
    check(strstr(lh_buf_str(&svg), "threshold-note") &&
          strstr(lh_buf_str(&svg), "above the plot, at 69 fds"),
          "a limit far above flat data is a note, not the scale");
    lh_buf_free(&svg);
    lh_json_free(inv);

    inv = parse("{\"metric\": \"m\", \"kind\": \"stable\", \"series\": []}");
    lh_report_plot(&svg, inv);
    check(strstr(lh_buf_str(&svg), "no samples") != NULL,
          "no samples: still a plot, saying so");
    lh_buf_free(&svg);
    lh_json_free(inv);
}

static int exists(const char *dir, const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 && st.st_size > 0;
}

static void test_render(void)
{
    char dir[] = "/tmp/lh-test-report-XXXXXX";
    if (!mkdtemp(dir)) {
        check(0, "mkdtemp");
        return;
    }
    char out[600], err[512] = "";
    snprintf(out, sizeof out, "%s/sub/dir", dir);
    lh_json *r = parse("{\"schema\": 1, \"exit_code\": 0,"
                       " \"workloads\": []}");
    check(lh_report_render(r, out, err, sizeof err) == 0, "an empty run "
          "renders (%s)", err);
    check(exists(out, "junit.xml") && exists(out, "summary.md") &&
          exists(out, "index.html"), "three files, in a directory made "
          "for them");
    lh_json_free(r);

    r = parse("[1, 2]");
    check(lh_report_render(r, out, err, sizeof err) < 0 &&
          strstr(err, "not a leakhound report"), "not a report: refused "
          "(%s)", err);
    lh_json_free(r);
    r = parse("{\"schema\": 1, \"workloads\": [{\"status\": \"pass\"}]}");
    check(lh_report_render(r, out, err, sizeof err) < 0 &&
          strstr(err, "workloads[0]"), "a workload without a name: "
          "refused, naming it (%s)", err);
    lh_json_free(r);

    char path[600];
    snprintf(path, sizeof path, "%s/bad.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\n  \"schema\": 1,\n  \"workloads\": [,]\n}\n", f);
    fclose(f);
    check(lh_report_render_file(path, out, err, sizeof err) < 0 &&
          strstr(err, "bad.json:3:"), "a syntax error names file:line "
          "(%s)", err);

    char cmd[1400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        check(0, "cleanup");
}

/* The run's kind, like every string of a report, is escaped everywhere. */
static void test_kind_escaped(void)
{
    lh_json *r = parse("{\"schema\": 1, \"exit_code\": 1, \"kind\": "
                       "\"<img src=x onerror=alert(1)>\", \"workloads\": "
                       "[{\"name\": \"w\", \"status\": \"fail\", "
                       "\"invariants\": [{\"metric\": "
                       "\"heap.live_bytes\", \"kind\": \"<b>k</b>\", "
                       "\"status\": \"fail\"}]}]}");
    lh_buf html = LH_BUF_INIT, md = LH_BUF_INIT, junit = LH_BUF_INIT;
    lh_report_html(r, &html);
    lh_report_markdown(r, &md, 0);
    lh_report_junit(r, &junit);
    const char *h = lh_buf_str(&html), *m = lh_buf_str(&md),
               *j = lh_buf_str(&junit);
    check(!strstr(h, "<img") && strstr(h, "&lt;img src=x"),
          "index.html: the run's kind escaped");
    check(!strstr(h, "<b>k"), "index.html: an invariant's kind escaped");
    check(!strstr(m, "<img"), "summary.md: the run's kind escaped");
    check(!strstr(m, "<b>k"), "summary.md: an invariant's kind escaped");
    check(!strstr(j, "<img") && !strstr(j, "<b>k"),
          "junit.xml: kinds escaped");
    lh_buf_free(&html);
    lh_buf_free(&md);
    lh_buf_free(&junit);
    lh_json_free(r);
}

/* ---- the order of a report's writes: fsync and rename are wrapped -- */

static char ops[4096];

static void op(const char *what, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    /* temporaries end in .tmp.PID: keep ".tmp" */
    char name[256];
    snprintf(name, sizeof name, "%s", base);
    char *t = strstr(name, ".tmp.");
    if (t)
        t[4] = '\0';
    size_t n = strlen(ops);
    snprintf(ops + n, sizeof ops - n, "%s%s:%s", n ? " " : "", what, name);
}

int fsync(int fd)
{
    char link[64], path[1024];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = '\0';
    struct stat st;
    int dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    op(dir ? "fsync-dir" : "fsync", dir ? "dir" : path);
    return (int)syscall(SYS_fsync, fd);
}

int rename(const char *from, const char *to)
{
    op("rename", to);
    return (int)syscall(SYS_rename, from, to);
}

/* lh_report_write: the views renamed first, report.json last and durable
 * (fsync'd before its rename, the directory after it); the views, renderings
 * of it, are not fsync'd (issue 13: three fsyncs of a trivial run's 8 ms). */
static void test_write_order(void)
{
    char dir[] = "/tmp/lh-test-report-XXXXXX";
    if (!mkdtemp(dir)) {
        check(0, "mkdtemp");
        return;
    }
    lh_json *r = parse("{\"schema\": 1, \"workloads\": []}");
    int code = 0;
    ops[0] = '\0';
    int rc = lh_report_write(r, dir, &code, "test");
    check(rc == 0 && code == 0, "a report is written (%d, exit %d)", rc,
          code);
    const char *want = "rename:junit.xml rename:summary.md rename:index.html "
                       "fsync:report.json.tmp rename:report.json "
                       "fsync-dir:dir";
    check(strcmp(ops, want) == 0, "views renamed, then report.json fsync'd, "
          "renamed last, then the directory fsync'd: '%s'", ops);
    lh_json_free(r);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        check(0, "cleanup");
}

int main(void)
{
    test_xml();
    test_markdown();
    test_units();
    test_verdicts();
    test_plot();
    test_render();
    test_kind_escaped();
    test_write_order();
    return check_report();
}
